//! Regression tests of behaviour where ticktock once differed from tokio, one per bug,
//! and `time::Instant` following the paused clock. Each describes the
//! behaviour tokio's own test checks (named in its doc where there is one), written
//! for ticktock from that description.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use ticktock::time::{sleep, timeout, Instant};

/// Panics when dropped (only when not already unwinding).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("panic in drop");
        }
    }
}

/// Bug 1 (tokio: `test_abort_task_that_panics_on_drop_returned`): aborting a task
/// whose future panics while being dropped yields a panic `JoinError`; it used to
/// abort the whole process from inside async-task's cancel path.
#[test]
fn abort_of_task_that_panics_on_drop_returns_panic() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let handle = ticktock::spawn(async {
            let _bomb = PanicOnDrop;
            sleep(Duration::from_secs(100)).await;
        });
        sleep(Duration::from_millis(10)).await;
        handle.abort();
        let err = handle.await.unwrap_err();
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(
            err.into_panic().downcast_ref::<&str>(),
            Some(&"panic in drop")
        );
    });
}

/// Bug 1 (tokio: `test_abort_task_that_panics_on_drop_contained`): the same with the
/// handle dropped right after `abort`: the panic stays inside the task.
#[test]
fn abort_of_task_that_panics_on_drop_is_contained() {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let handle = ticktock::spawn(async {
            let _bomb = PanicOnDrop;
            sleep(Duration::from_secs(100)).await;
        });
        sleep(Duration::from_millis(10)).await;
        handle.abort();
        drop(handle);
        sleep(Duration::from_millis(10)).await;
        // The runtime still runs tasks.
        assert_eq!(ticktock::spawn(async { 7 }).await.unwrap(), 7);
    });
}

/// Bug 2 (tokio: `yield_after_block_in_place`): inside `block_in_place` on a worker,
/// another runtime can be built, blocked on and dropped, and the task carries on.
#[test]
fn block_in_place_on_worker_can_run_and_drop_another_runtime() {
    let rt = common::runtime(1);
    rt.block_on(async {
        ticktock::spawn(async {
            ticktock::task::block_in_place(|| {
                let inner = ticktock::Builder::new_current_thread().build().unwrap();
                assert_eq!(inner.block_on(async { 5 }), 5);
                drop(inner);
            });
            ticktock::task::yield_now().await;
        })
        .await
        .unwrap();
    });
}

/// Bug 2 (tokio: `can_enter_current_thread_rt_from_within_block_in_place`): on a
/// `block_on` thread, `block_in_place` leaves the no-nesting mark, so a
/// current-thread runtime can be entered inside it.
#[test]
fn block_in_place_on_block_on_thread_allows_block_on() {
    let outer = common::runtime(1);
    let answer = outer.block_on(async {
        ticktock::task::block_in_place(|| {
            let inner = ticktock::Builder::new_current_thread().build().unwrap();
            inner.block_on(async { 9 })
        })
    });
    assert_eq!(answer, 9);
}

/// Bug 2 (tokio: `yield_in_block_in_place`): `Handle::current().block_on` inside
/// `block_in_place` runs a future that yields.
#[test]
fn block_in_place_allows_handle_block_on() {
    let rt = common::runtime(1);
    rt.block_on(async {
        ticktock::spawn(async {
            ticktock::task::block_in_place(|| {
                ticktock::Handle::current().block_on(async {
                    ticktock::task::yield_now().await;
                });
            });
        })
        .await
        .unwrap();
    });
    // And on the block_on thread itself.
    rt.block_on(async {
        ticktock::task::block_in_place(|| {
            ticktock::Handle::current().block_on(async {
                ticktock::task::yield_now().await;
            });
        });
    });
}

/// Bug 3 (tokio: `blocking_when_paused`): with time paused, an idle runtime does
/// not jump the clock past a timeout while the blocking job it awaits runs.
#[test]
fn paused_clock_waits_for_blocking_job() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        ticktock::time::pause();
        let job = ticktock::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)));
        timeout(Duration::from_secs(3), job)
            .await
            .expect("the paused clock jumped while a blocking job ran")
            .unwrap();
    });
}

/// Bug 3 (tokio: `blocking_task_wakes_paused_runtime`): a blocking job that ends
/// while the paused runtime waits for it wakes the runtime promptly.
#[test]
fn blocking_job_wakes_paused_runtime() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let start = std::time::Instant::now();
    rt.block_on(async {
        ticktock::time::pause();
        let job = ticktock::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)));
        timeout(Duration::from_secs(15), job)
            .await
            .expect("timeout must not fire")
            .unwrap();
    });
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Bug 3, the other side: once no blocking job is in flight, auto-advance resumes
/// even if nobody awaited the job (its end must re-wake the parked runtime).
#[test]
fn paused_clock_advances_after_unawaited_blocking_job() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let start = std::time::Instant::now();
    rt.block_on(async {
        ticktock::time::pause();
        let _job = ticktock::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)));
        sleep(Duration::from_secs(3600)).await;
    });
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Bug 5 (tokio: `spawn_blocking_started_before_shutdown_continues`): a blocking
/// job spawned before `shutdown_timeout` runs to completion even if no thread had
/// picked it up yet.
#[test]
fn blocking_job_spawned_before_shutdown_timeout_runs() {
    for flavor in ["current", "multi"] {
        let rt = match flavor {
            "current" => ticktock::Builder::new_current_thread().build().unwrap(),
            _ => common::runtime(2),
        };
        let _enter = rt.enter();
        let job = ticktock::task::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(50));
            42
        });
        rt.shutdown_timeout(Duration::from_secs(100));
        let answer = ticktock::Handle::current().block_on(job).unwrap();
        assert_eq!(answer, 42, "{flavor}");
    }
}

/// One round of bug 6 (tokio: `spawn_after_runtime_dropped`): a task spawned just
/// before the runtime drops is cancelled by the drop; its handle is ready at once.
fn spawn_then_drop_round(workers: usize) {
    let rt = common::runtime(workers);
    let handle = rt.handle().clone();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = common::DropFlag(dropped.clone());
    let before = handle.spawn(async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    });
    drop(rt);
    let after = handle.spawn(std::future::pending::<()>());
    let before = before
        .now_or_never()
        .expect("a task spawned before the drop was neither run nor cancelled");
    assert!(before.unwrap_err().is_cancelled());
    assert!(dropped.load(Ordering::SeqCst), "its future was not dropped");
    let after = after.now_or_never().expect("spawn after drop is cancelled");
    assert!(after.unwrap_err().is_cancelled());
}

/// Bug 6, short: 50 rounds with 4 workers (it failed about 1 round in 4).
#[test]
fn spawn_just_before_runtime_drop_is_cancelled() {
    for _ in 0..50 {
        spawn_then_drop_round(4);
    }
}

/// Bug 6, stress: 1000 rounds.
#[test]
#[ignore = "stress: run with --ignored"]
fn spawn_just_before_runtime_drop_is_cancelled_stress() {
    for _ in 0..1000 {
        spawn_then_drop_round(4);
    }
}

/// Issue 10, section 2 (the pattern tokio users write in paused tests): under
/// `pause`, `Instant::now()` stands still while real time passes and moves by
/// exactly what `advance` adds, so `elapsed()` is exact.
#[test]
fn paused_instant_moves_only_by_advance() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        ticktock::time::pause();
        let start = Instant::now();
        // Real time passes; the paused clock must not see it.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(start.elapsed(), Duration::ZERO);
        ticktock::time::advance(Duration::from_millis(10)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        assert_eq!(Instant::now() - start, Duration::from_millis(10));
    });
}

/// Issue 10, section 2: a `sleep` under paused time auto-advances the clock, and
/// `Instant::now()` moves by exactly the sleep, to the sleep's own deadline.
#[test]
fn paused_sleep_moves_instant_by_exactly_the_sleep() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        ticktock::time::pause();
        let start = Instant::now();
        let nap = sleep(Duration::from_secs(3600));
        let deadline = nap.deadline();
        nap.await;
        assert_eq!(Instant::now(), deadline);
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
        // After `resume` the clock runs again from where it stood: never backwards.
        ticktock::time::resume();
        assert!(Instant::now() >= deadline);
    });
}

/// Issue 10, section 2: outside any runtime, `Instant::now()` is the real clock,
/// even after some runtime of the process paused its own.
#[test]
fn instant_outside_a_runtime_tracks_the_wall_clock() {
    // Pause one runtime first, so the "some clock was altered" path is taken.
    let paused = ticktock::Builder::new_current_thread().build().unwrap();
    paused.block_on(async { ticktock::time::pause() });
    let before = std::time::Instant::now();
    let now = Instant::now();
    let after = std::time::Instant::now();
    assert!(before <= now.into_std() && now.into_std() <= after);
    std::thread::sleep(Duration::from_millis(5));
    assert!(now.elapsed() >= Duration::from_millis(5));
    drop(paused);
}

/// Issue 10, section 2: a multi-thread runtime that never paused reads the real
/// clock inside it (on a worker and in `block_on`), even after another runtime paused.
#[test]
fn instant_in_a_multi_thread_runtime_is_real_time() {
    let paused = ticktock::Builder::new_current_thread().build().unwrap();
    paused.block_on(async { ticktock::time::pause() });
    let rt = common::runtime(2);
    let check = || {
        let before = std::time::Instant::now();
        let now = Instant::now().into_std();
        let after = std::time::Instant::now();
        assert!(
            before <= now && now <= after,
            "{before:?} <= {now:?} <= {after:?}"
        );
    };
    rt.block_on(async move {
        check();
        ticktock::spawn(async move { check() }).await.unwrap();
        let start = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
    });
}

/// Issue 10, section 2: the conversions to and from `std::time::Instant` are exact
/// both ways, and a deadline round-trips through a `Sleep`.
#[test]
fn instant_round_trips_through_std() {
    let std_now = std::time::Instant::now();
    let ours = Instant::from_std(std_now);
    assert_eq!(ours.into_std(), std_now);
    assert_eq!(Instant::from(std_now), ours);
    assert_eq!(std::time::Instant::from(ours), std_now);
    let later = ours + Duration::from_nanos(1_234_567);
    assert_eq!(later.into_std(), std_now + Duration::from_nanos(1_234_567));
    assert_eq!(ticktock::time::sleep_until(later).deadline(), later);
}
