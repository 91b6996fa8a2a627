//! Misuse: each mistake either panics with a message that names it and says what to
//! do instead, or (for overflowing durations and past instants) has a documented,
//! non-panicking meaning. These complete the misuse tests of `tests/runtime.rs` and
//! `tests/timers.rs` (see `docs/reliability.md` for the full list):
//!
//! - dropping a `Runtime` inside `block_on` (inside a task is in `runtime.rs`), and
//!   the `shutdown_timeout` the message recommends;
//! - `block_on` of one runtime nested in another's;
//! - spawning after shutdown: the `JoinError`'s message, from a handle and from an
//!   entered context;
//! - a `Sleep` polled outside a runtime: the message names its creation site;
//! - virtual-time calls in the wrong place or state;
//! - `Duration` overflow in `sleep`, `sleep_until`, `Sleep::reset`, `timeout_at`,
//!   `interval_at` and `time::advance`: clamped to "never", no panic, other timers
//!   unaffected;
//! - `interval_at` with a start in the past: the first tick is immediate, then each
//!   missed-tick policy does exactly what it documents.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use common::{runtime, total_timers};
use futures::FutureExt;
use ticktock::time::{
    advance, interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at, Instant,
    MissedTickBehavior,
};

/// Runs `f` and returns the message it panicked with; fails if it did not panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else {
        panic!("panic payload is not a message")
    }
}

fn current_thread() -> ticktock::Runtime {
    ticktock::Builder::new_current_thread()
        .build()
        .expect("runtime builds")
}

#[test]
fn dropping_a_runtime_inside_block_on_panics_with_a_message() {
    let outer = current_thread();
    let message = panic_message(|| {
        outer.block_on(async {
            let inner = runtime(1);
            drop(inner);
        })
    });
    assert!(
        message.contains("dropped inside an asynchronous context")
            && message.contains("shutdown_timeout"),
        "{message}"
    );
    // The outer runtime is still usable after the refused drop.
    assert_eq!(outer.block_on(async { 7 }), 7);
}

#[test]
fn shutdown_timeout_inside_async_context_is_the_allowed_way() {
    let outer = runtime(1);
    let finished = outer.block_on(async {
        ticktock::spawn(async {
            let inner = runtime(1);
            inner.spawn(std::future::pending::<()>());
            inner.shutdown_timeout(Duration::from_millis(10));
            true
        })
        .await
    });
    assert!(finished.unwrap());
}

#[test]
fn block_on_of_another_runtime_inside_block_on_panics_with_a_message() {
    let outer = current_thread();
    let inner = runtime(1);
    let message = panic_message(|| outer.block_on(async { inner.block_on(async {}) }));
    assert!(
        message.contains("cannot call `block_on` from inside `block_on`"),
        "{message}"
    );
}

#[test]
fn spawn_after_shutdown_is_a_cancelled_join_error_with_a_message() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    let err = futures::executor::block_on(handle.spawn(async { 1 })).unwrap_err();
    assert!(err.is_cancelled());
    let id = err.id();
    assert_eq!(err.to_string(), format!("task {id} was cancelled"));
    assert_eq!(format!("{err:?}"), format!("JoinError::Cancelled({id:?})"));
    // Through the free function, with the dead runtime entered.
    let _guard = handle.enter();
    let err = futures::executor::block_on(ticktock::spawn(async { 1 })).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}

#[test]
fn a_sleep_polled_outside_a_runtime_names_where_it_was_created() {
    let line = line!() + 1;
    let mut s = Box::pin(sleep(Duration::from_millis(1)));
    let message = panic_message(|| {
        let _ = (&mut s).now_or_never();
    });
    assert!(
        message.contains("polled outside a ticktock runtime"),
        "{message}"
    );
    assert!(
        message.contains(&format!("misuse.rs:{line}")),
        "the message does not name the creation site: {message}"
    );
}

#[test]
fn virtual_time_misuse_panics_with_messages() {
    assert!(panic_message(pause).contains("`time::pause` called outside a ticktock runtime"));
    let rt = current_thread();
    rt.block_on(async {
        let message = panic_message(|| drop(advance(Duration::from_secs(1))));
        assert!(message.contains("requires paused time"), "{message}");
        let message = panic_message(resume);
        assert!(message.contains("not paused"), "{message}");
        pause();
        let message = panic_message(pause);
        assert!(message.contains("already paused"), "{message}");
        resume();
    });
}

#[test]
fn overflowing_durations_mean_never_and_do_not_disturb_other_timers() {
    let rt = runtime(2);
    rt.block_on(async {
        let now = Instant::now();
        let far = now + Duration::from_secs(86_400 * 365 * 200);
        // sleep_until / timeout_at with instants centuries away: pending, no panic.
        assert!(timeout(Duration::from_millis(5), sleep_until(far))
            .await
            .is_err());
        assert_eq!(timeout_at(far, async { 5 }).await, Ok(5));
        assert!(timeout_at(far, sleep(Duration::from_millis(2)))
            .await
            .is_ok());
        // Reset to "never" and back.
        let mut s = Box::pin(sleep(Duration::from_millis(1)));
        s.as_mut().reset(far);
        assert!(timeout(Duration::from_millis(5), s.as_mut()).await.is_err());
        s.as_mut().reset(Instant::now() + Duration::from_millis(1));
        s.as_mut().await;
        // An interval starting now with a period that overflows every instant.
        let mut i = interval_at(now, Duration::MAX);
        assert_eq!(i.tick().await, now);
        assert!(timeout(Duration::from_millis(5), i.tick()).await.is_err());
        // Skip with an overflowing period, after a missed tick.
        let mut i = interval_at(now, Duration::MAX / 2);
        i.set_missed_tick_behavior(MissedTickBehavior::Skip);
        i.tick().await;
        assert!(timeout(Duration::from_millis(5), i.tick()).await.is_err());
        // Meanwhile an ordinary timer fires on time.
        let start = Instant::now();
        sleep(Duration::from_millis(3)).await;
        assert!(start.elapsed() >= Duration::from_millis(3));
    });
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 0);
}

#[test]
fn overflowing_durations_under_virtual_time() {
    let rt = current_thread();
    rt.block_on(async {
        pause();
        // Auto-advance skips to the timeout, never to "never".
        assert!(timeout(Duration::from_secs(1), sleep(Duration::MAX))
            .await
            .is_err());
        // Compared as deadlines: past the jump the clock stands beyond the "never"
        // horizon that deadlines clamp to, so `Instant::now()` would outrun them.
        let before = sleep(Duration::ZERO).deadline();
        // An overflowing jump saturates instead of panicking; time still moves on.
        let clock_before = Instant::now();
        advance(Duration::MAX).await;
        assert!(Instant::now() > clock_before);
        let after = sleep(Duration::ZERO).deadline();
        assert!(after > before);
        let s = sleep(Duration::from_millis(10));
        let deadline = s.deadline();
        s.await;
        assert!(deadline >= after);
        resume();
    });
}

/// Ticks of an interval that started `late` before now (virtual time): how many
/// come immediately, and the offset from its start of the first one that waits.
async fn past_start(
    behavior: MissedTickBehavior,
    late: Duration,
    period: Duration,
) -> (usize, Duration) {
    let now = Instant::now();
    let start = now - late;
    let mut i = interval_at(start, period);
    i.set_missed_tick_behavior(behavior);
    let first = i.tick().now_or_never();
    assert_eq!(
        first,
        Some(start),
        "{behavior:?}: the first tick was not immediate"
    );
    let mut immediate = 1;
    while i.tick().now_or_never().is_some() {
        immediate += 1;
    }
    let next = i.tick().await;
    (immediate, next - start)
}

#[test]
fn interval_at_in_the_past_ticks_at_once_then_follows_the_missed_tick_policy() {
    let rt = current_thread();
    rt.block_on(async {
        pause();
        let late = Duration::from_millis(35);
        let period = Duration::from_millis(10);
        // Burst: start, +10, +20, +30 are all due now; +40 waits.
        assert_eq!(
            past_start(MissedTickBehavior::Burst, late, period).await,
            (4, Duration::from_millis(40))
        );
        // Delay: the schedule restarts one period after the (late) first tick.
        assert_eq!(
            past_start(MissedTickBehavior::Delay, late, period).await,
            (1, late + period)
        );
        // Skip: the next tick is the next one on the original grid.
        assert_eq!(
            past_start(MissedTickBehavior::Skip, late, period).await,
            (1, Duration::from_millis(40))
        );
        // Late by less than the jitter allowance (5 ms): plain schedule, no policy.
        assert_eq!(
            past_start(MissedTickBehavior::Delay, Duration::from_millis(3), period).await,
            (1, period)
        );
        resume();
    });
}
