//! Stress tests of volume, each checked against what every operation must produce:
//!
//! - **Many timers.** 100,000 sleeps registered at once (1,000,000 in the long form),
//!   all live together, then all fired, never early, and every entry freed.
//! - **Many tasks.** 100,000 tasks spawned from a worker and from a plain thread.
//! - **Virtual time.** Interval tick counts are exact under `time::pause`, with
//!   auto-advance and with `advance` jumps, for every missed-tick policy.
//!
//! In a test binary of their own (not beside the random mix of `tests/stress.rs`), so
//! registering 100,000 sleeps does not share two cores with it. Each test has a small
//! form in the normal suite and a long `#[ignore]` form:
//! `cargo test --release --test stress_volume -- --ignored --nocapture`.

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::stress::{assert_quiescent, await_never_early, register, Rng, REGISTER_BATCH, SETTLE};
use common::{runtime, total_timers, wait_until};
use futures::FutureExt;
use ticktock::time::{sleep, timeout, Instant, Sleep};

/// Registers `total` sleeps (in tasks of `per_task`) with deadlines spread over
/// `spread` after `base`, checks they are all live at once, then that all fire,
/// never early, and that every entry is freed. Returns (register, fire) times.
fn many_sleeps(
    workers: usize,
    total: usize,
    per_task: usize,
    base: Duration,
    spread: u64,
) -> (Duration, Duration) {
    let rt = runtime(workers);
    let registered = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..total.div_ceil(per_task))
        .map(|t| {
            let registered = registered.clone();
            let count = per_task.min(total - t * per_task);
            rt.spawn(async move {
                let mut rng = Rng::new(t as u64 + 1);
                let origin = Instant::now();
                let mut sleeps: Vec<Pin<Box<Sleep>>> = (0..count)
                    .map(|_| {
                        let at = origin + base + Duration::from_micros(rng.below(spread * 1000));
                        Box::pin(ticktock::time::sleep_until(at))
                    })
                    .collect();
                for (k, s) in sleeps.iter_mut().enumerate() {
                    if k % REGISTER_BATCH == 0 {
                        // A fresh cooperative budget: a poll with the budget spent
                        // returns Pending without registering.
                        ticktock::task::yield_now().await;
                    }
                    register(s);
                }
                registered.fetch_add(count, Ordering::SeqCst);
                for s in sleeps {
                    await_never_early(s, "one of many sleeps").await;
                }
            })
        })
        .collect();
    assert!(
        wait_until(SETTLE + base, || registered.load(Ordering::SeqCst) == total),
        "registering {total} sleeps did not finish"
    );
    let register_time = start.elapsed();
    let live = total_timers(&rt.metrics(), |t| t.live);
    if start.elapsed() < base {
        // Nothing is due yet, so every registered sleep must be live.
        assert_eq!(live, total, "registered sleeps missing from the stores");
    }
    let fire_start = Instant::now();
    rt.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    let fire_time = fire_start.elapsed();
    assert_quiescent(&rt, &format!("{total} sleeps"));
    (register_time, fire_time)
}

#[test]
fn hundred_thousand_sleeps_live_at_once() {
    let (register, fire) = many_sleeps(2, 100_000, 1_000, Duration::from_millis(600), 300);
    println!("100k sleeps: registered in {register:?}, fired in {fire:?}");
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn million_sleeps_live_at_once() {
    let (register, fire) = many_sleeps(4, 1_000_000, 10_000, Duration::from_secs(3), 2_000);
    println!("1M sleeps: registered in {register:?}, fired in {fire:?}");
}

/// Spawns `total` tasks, half from a task on a worker and half from a plain thread;
/// every tenth one sleeps. Checks every output and that no task stays alive.
fn many_tasks(workers: usize, total: u64) -> Duration {
    let rt = runtime(workers);
    let start = Instant::now();
    let body = |i: u64| async move {
        if i % 10 == 0 {
            sleep(Duration::from_millis(i % 7)).await;
        } else {
            ticktock::task::yield_now().await;
        }
        i
    };
    let half = total / 2;
    let outside = {
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            (half..total)
                .map(|i| handle.spawn(body(i)))
                .collect::<Vec<_>>()
        })
    };
    let sum = rt.block_on(async move {
        let inside: Vec<_> = (0..half).map(|i| ticktock::spawn(body(i))).collect();
        let outside = outside.join().unwrap();
        let mut sum = 0;
        for handle in inside.into_iter().chain(outside) {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, total * (total - 1) / 2);
    assert_quiescent(&rt, &format!("{total} tasks"));
    start.elapsed()
}

#[test]
fn hundred_thousand_tasks() {
    let elapsed = many_tasks(2, 100_000);
    println!("100k tasks: {elapsed:?}");
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn million_tasks() {
    let elapsed = many_tasks(4, 1_000_000);
    println!("1M tasks: {elapsed:?}");
}

/// Counts the ticks of `interval` that complete within `window` of virtual time
/// (the timeout is polled after the tick when both are due, so a tick exactly at
/// the window's end counts).
async fn ticks_within(interval: &mut ticktock::time::Interval, window: Duration) -> u64 {
    let mut ticks = 0;
    let _ = timeout(window, async {
        loop {
            interval.tick().await;
            ticks += 1;
        }
    })
    .await;
    ticks
}

#[test]
fn interval_tick_counts_are_exact_under_virtual_time() {
    use ticktock::time::{advance, interval, pause, MissedTickBehavior};
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let real = std::time::Instant::now();
    rt.block_on(async {
        pause();
        // Auto-advance: ticks at 0, p, 2p, ... up to 10 s (exclusive of the window's
        // end, which is offset by half a millisecond to avoid a tie).
        for period_ms in [1u64, 3, 7, 10, 250] {
            let mut i = interval(Duration::from_millis(period_ms));
            let window = Duration::from_millis(10_000) + Duration::from_micros(500);
            let ticks = ticks_within(&mut i, window).await;
            assert_eq!(ticks, 10_000 / period_ms + 1, "period {period_ms} ms");
        }
        // Several intervals ticking concurrently in tasks.
        let counters: Vec<_> = [2u64, 5, 11]
            .into_iter()
            .map(|period_ms| {
                ticktock::spawn(async move {
                    let mut i = interval(Duration::from_millis(period_ms));
                    let window = Duration::from_millis(1_000) + Duration::from_micros(500);
                    (period_ms, ticks_within(&mut i, window).await)
                })
            })
            .collect();
        for counter in counters {
            let (period_ms, ticks) = counter.await.unwrap();
            assert_eq!(
                ticks,
                1_000 / period_ms + 1,
                "concurrent, period {period_ms} ms"
            );
        }
        // A 35 ms jump on a 10 ms period, for each missed-tick policy: the ticks
        // observed right after the jump, and the deadline of the next one.
        let period = Duration::from_millis(10);
        for (behavior, immediate, next_offset_ms) in [
            (MissedTickBehavior::Burst, 3, 40),
            (MissedTickBehavior::Delay, 1, 45),
            (MissedTickBehavior::Skip, 1, 40),
        ] {
            let mut i = interval(period);
            i.set_missed_tick_behavior(behavior);
            let start = i.tick().await;
            advance(Duration::from_millis(35)).await;
            let mut seen = 0;
            while i.tick().now_or_never().is_some() {
                seen += 1;
            }
            assert_eq!(seen, immediate, "{behavior:?}: ticks right after the jump");
            let next = i.tick().await;
            assert_eq!(
                next - start,
                Duration::from_millis(next_offset_ms),
                "{behavior:?}: next tick"
            );
        }
    });
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "virtual time took real time"
    );
}
