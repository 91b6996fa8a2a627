//! Scheduler behaviour: spawning, joining, panics, abort, shutdown, flavors, misuse.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{runtime, total_timers, wait_until, DropFlag};
use ticktock::time::sleep;

#[test]
fn spawn_many_and_join() {
    let rt = runtime(2);
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| ticktock::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 10_000 * 9_999 / 2);
}

#[test]
fn tasks_spread_over_workers() {
    let rt = runtime(2);
    let mut names = rt.block_on(async {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                ticktock::spawn(async {
                    std::thread::sleep(Duration::from_millis(2));
                    std::thread::current().name().unwrap().to_string()
                })
            })
            .collect();
        let mut names = Vec::new();
        for handle in handles {
            names.push(handle.await.unwrap());
        }
        names
    });
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2, "work was not shared: {names:?}");
}

#[test]
fn panicking_task_becomes_join_error_and_worker_survives() {
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..10 {
            let err = ticktock::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            let id = err.id();
            assert_eq!(
                err.to_string(),
                format!("task {id} panicked with message \"boom\"")
            );
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
        }
        // Both workers still run tasks.
        let handles: Vec<_> = (0..100)
            .map(|i| ticktock::spawn(async move { i }))
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), i);
        }
    });
}

#[test]
fn abort_cancels_and_drops_the_future() {
    let rt = runtime(2);
    let (flag, dropped) = DropFlag::new();
    rt.block_on(async move {
        let handle = ticktock::spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!handle.is_finished());
        handle.abort();
        let id = handle.id();
        let err = handle.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
    });
    assert!(wait_until(Duration::from_secs(2), || dropped.load(Ordering::SeqCst)));
    // Aborting a finished task keeps its output.
    rt.block_on(async {
        let handle = ticktock::spawn(async { 9 });
        while !handle.is_finished() {
            ticktock::task::yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await.unwrap(), 9);
    });
}

#[test]
fn dropping_the_join_handle_detaches() {
    let rt = runtime(2);
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    rt.block_on(async move {
        drop(ticktock::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            c.fetch_add(1, Ordering::SeqCst);
        }));
        sleep(Duration::from_millis(30)).await;
    });
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[test]
fn runtime_drop_cancels_pending_tasks_and_frees_timers() {
    let rt = runtime(2);
    let mut flags = Vec::new();
    for i in 0..100u64 {
        let (flag, dropped) = DropFlag::new();
        flags.push(dropped);
        rt.spawn(async move {
            let _flag = flag;
            if i % 2 == 0 {
                sleep(Duration::from_secs(3600 + i)).await;
            } else {
                std::future::pending::<()>().await;
            }
        });
    }
    let handle = rt.handle().clone();
    assert!(wait_until(Duration::from_secs(2), || total_timers(
        &handle.metrics(),
        |t| t.live
    ) == 50));
    let start = Instant::now();
    drop(rt);
    assert!(start.elapsed() < Duration::from_secs(2), "drop hung");
    for (i, dropped) in flags.iter().enumerate() {
        assert!(
            dropped.load(Ordering::SeqCst),
            "task {i} was not dropped at shutdown"
        );
    }
    let metrics = handle.metrics();
    assert_eq!(total_timers(&metrics, |t| t.live), 0);
    assert_eq!(
        total_timers(&metrics, |t| t.slab_len),
        0,
        "timer entries leaked"
    );
    assert_eq!(metrics.alive_tasks, 0);
}

#[test]
fn spawn_after_shutdown_resolves_to_cancelled() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    let join = handle.spawn(async { 1 });
    let result = futures::executor::block_on(join);
    assert!(result.unwrap_err().is_cancelled());
    let blocking = handle.spawn_blocking(|| 1);
    assert!(futures::executor::block_on(blocking)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn shutdown_timeout_returns_despite_a_blocked_task() {
    let rt = runtime(2);
    rt.spawn(async { std::thread::sleep(Duration::from_millis(500)) });
    std::thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(start.elapsed() < Duration::from_millis(400));
}

#[test]
#[should_panic(expected = "`spawn` called outside a ticktock runtime")]
fn spawn_outside_a_runtime_panics_with_a_message() {
    drop(ticktock::spawn(async {}));
}

#[test]
#[should_panic(expected = "cannot call `block_on` from inside `block_on`")]
fn nested_block_on_panics_with_a_message() {
    let rt = runtime(1);
    rt.block_on(async {
        let inner = ticktock::Handle::current();
        inner.block_on(async {});
    });
}

#[test]
fn block_on_inside_a_task_is_refused() {
    let rt = runtime(2);
    let err = rt.block_on(async {
        ticktock::spawn(async { ticktock::Handle::current().block_on(async {}) })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic());
    assert!(err
        .to_string()
        .contains("cannot call `block_on` from inside `block_on`"));
}

#[test]
fn dropping_a_runtime_inside_a_task_panics_with_a_message() {
    let outer = runtime(1);
    let err = outer.block_on(async {
        ticktock::spawn(async {
            let inner = runtime(1);
            drop(inner);
        })
        .await
        .unwrap_err()
    });
    assert!(
        err.to_string()
            .contains("dropped inside an asynchronous context"),
        "{err}"
    );
}

#[test]
fn current_thread_runtime_runs_tasks_and_timers_on_the_caller() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let caller = std::thread::current().id();
    let result = rt.block_on(async move {
        let handles: Vec<_> = (0..10u64)
            .map(|i| {
                ticktock::spawn(async move {
                    sleep(Duration::from_millis(i)).await;
                    assert_eq!(std::thread::current().id(), caller);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(result, 45);
    // Tasks spawned from another thread run on the next block_on.
    let handle = rt.handle().clone();
    let task = std::thread::spawn(move || handle.spawn(async { 5 }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(task).unwrap(), 5);
}

#[test]
#[should_panic(expected = "`block_in_place` cannot be used on a current-thread runtime")]
fn block_in_place_on_current_thread_panics_with_a_message() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async { ticktock::task::block_in_place(|| ()) });
}

#[test]
fn block_in_place_hands_off_and_block_on_inside_it_works() {
    let rt = runtime(2);
    rt.block_on(async {
        let value = ticktock::spawn(async {
            ticktock::task::block_in_place(|| ticktock::Handle::current().block_on(async { 11 }))
        })
        .await
        .unwrap();
        assert_eq!(value, 11);
        // Workers keep running tasks afterwards.
        let handles: Vec<_> = (0..50).map(|i| ticktock::spawn(async move { i })).collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

#[test]
fn spawn_blocking_runs_off_the_workers() {
    let rt = runtime(1);
    rt.block_on(async {
        let start = Instant::now();
        let blocking: Vec<_> = (0..4)
            .map(|_| {
                ticktock::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)))
            })
            .collect();
        // The single worker stays free for timers meanwhile.
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() < Duration::from_millis(45));
        for handle in blocking {
            handle.await.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_millis(190),
            "blocking jobs ran serially"
        );
        let err = ticktock::task::spawn_blocking(|| panic!("blocking boom"))
            .await
            .unwrap_err();
        assert!(err.is_panic());
    });
}

#[test]
fn handle_current_and_enter() {
    assert!(ticktock::Handle::try_current().is_err());
    let rt = runtime(1);
    {
        let _guard = rt.enter();
        let handle = ticktock::Handle::current();
        let task = ticktock::spawn(async { 2 });
        assert_eq!(handle.block_on(task).unwrap(), 2);
    }
    assert!(ticktock::Handle::try_current().is_err());
}

#[test]
fn yield_now_lets_other_tasks_run() {
    let rt = runtime(1);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let o = order.clone();
    // Both tasks wait (yielding) until both exist: otherwise, on a loaded machine,
    // `a` could finish all its turns before the `block_on` thread spawns `b`.
    let go = Arc::new(std::sync::atomic::AtomicBool::new(false));
    rt.block_on(async move {
        let a = {
            let (o, go) = (o.clone(), go.clone());
            ticktock::spawn(async move {
                while !go.load(Ordering::SeqCst) {
                    ticktock::task::yield_now().await;
                }
                for i in 0..3 {
                    o.lock().unwrap().push(("a", i));
                    ticktock::task::yield_now().await;
                }
            })
        };
        let b = {
            let go = go.clone();
            ticktock::spawn(async move {
                while !go.load(Ordering::SeqCst) {
                    ticktock::task::yield_now().await;
                }
                for i in 0..3 {
                    o.lock().unwrap().push(("b", i));
                    ticktock::task::yield_now().await;
                }
            })
        };
        go.store(true, Ordering::SeqCst);
        a.await.unwrap();
        b.await.unwrap();
    });
    let order = order.lock().unwrap();
    let interleaved = order.windows(2).filter(|w| w[0].0 != w[1].0).count();
    assert!(interleaved >= 3, "yield_now did not interleave: {order:?}");
}

#[test]
fn a_busy_task_cannot_starve_timers() {
    let rt = runtime(1);
    rt.block_on(async {
        let spinner = ticktock::spawn(async {
            loop {
                ticktock::task::yield_now().await;
            }
        });
        let start = Instant::now();
        ticktock::spawn(sleep(Duration::from_millis(10)))
            .await
            .unwrap();
        assert!(start.elapsed() < Duration::from_millis(200));
        spinner.abort();
    });
}

#[test]
fn block_on_awaiting_a_sleep_learns_of_shutdown_instead_of_hanging() {
    let rt = runtime(2);
    let handle = rt.handle().clone();
    let waiter = std::thread::spawn(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.block_on(sleep(Duration::from_secs(3600)));
        }))
    });
    std::thread::sleep(Duration::from_millis(50));
    drop(rt);
    let result = waiter.join().unwrap();
    let payload = result.expect_err("the sleep completed early instead of reporting shutdown");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("polled after its runtime shut down"),
        "{message}"
    );
}

#[test]
fn paused_time_auto_advances_and_advance_fires_timers() {
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        ticktock::time::pause();
        let real = std::time::Instant::now(); // the wall clock, which pause does not stop
        let start = ticktock::time::Instant::now();
        // Auto-advance: an hour passes instantly.
        let s = sleep(Duration::from_secs(3600));
        let deadline = s.deadline();
        s.await;
        assert_eq!(deadline - start, Duration::from_secs(3600));
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
        // Interval tick counts are exact under virtual time.
        let mut interval = ticktock::time::interval(Duration::from_millis(10));
        let first = interval.tick().await;
        let mut last = first;
        for _ in 0..100 {
            last = interval.tick().await;
        }
        assert_eq!(last - first, Duration::from_millis(1000));
        // advance() fires what became due before the caller continues.
        let sleeper = ticktock::spawn(sleep(Duration::from_secs(10)));
        ticktock::task::yield_now().await; // let it register
        ticktock::time::advance(Duration::from_secs(10)).await;
        assert!(sleeper.is_finished());
        let timed_out =
            ticktock::time::timeout(Duration::from_secs(5), std::future::pending::<()>()).await;
        assert!(timed_out.is_err());
        ticktock::time::resume();
        assert!(
            real.elapsed() < Duration::from_secs(2),
            "virtual time took real time"
        );
    });
}

/// `time::pause` works on a multi-thread runtime too, called from a task on a
/// worker: an hour of sleep passes in no real time.
#[test]
fn pause_on_a_multi_thread_runtime_runs_on_virtual_time() {
    let rt = runtime(1);
    let real = std::time::Instant::now();
    let elapsed = rt.block_on(async {
        ticktock::spawn(async {
            ticktock::time::pause();
            let start = ticktock::time::Instant::now();
            sleep(Duration::from_secs(3600)).await;
            start.elapsed()
        })
        .await
        .unwrap()
    });
    assert_eq!(elapsed, Duration::from_secs(3600));
    assert!(
        real.elapsed() < Duration::from_secs(30),
        "virtual time took real time"
    );
}
