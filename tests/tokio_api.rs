//! tokio's task and time API items on ticktock (`JoinSet`, `LocalSet`, task ids,
//! abort handles, intervals...), each used as a tokio user would. (Behaviour follows tokio's docs and tests; written for ticktock.)

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ticktock::task::{self, JoinSet, LocalSet};
use ticktock::time::{interval, sleep};

fn current_thread() -> ticktock::Runtime {
    ticktock::Builder::new_current_thread().build().unwrap()
}

#[test]
fn join_set_joins_in_completion_order_and_counts() {
    let rt = common::runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        for ms in [30u64, 10, 20] {
            set.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        assert_eq!(set.len(), 3);
        let mut order = Vec::new();
        while let Some(result) = set.join_next().await {
            order.push(result.unwrap());
        }
        assert_eq!(order, [10, 20, 30]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn join_set_abort_all_shutdown_and_drop_cancel_tasks() {
    let rt = common::runtime(2);
    rt.block_on(async {
        // abort_all: every task reports a cancellation.
        let mut set = JoinSet::new();
        let mut flags = Vec::new();
        for _ in 0..5 {
            let (flag, dropped) = common::DropFlag::new();
            flags.push(dropped);
            set.spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(result) = set.join_next().await {
            assert!(result.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 5);
        assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));

        // shutdown: aborts and waits; the set is empty after.
        let mut set = JoinSet::new();
        let (flag, dropped) = common::DropFlag::new();
        set.spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(3600)).await;
        });
        set.shutdown().await;
        assert!(set.is_empty());
        assert!(dropped.load(Ordering::SeqCst));

        // Drop: aborts what is left.
        let (flag, dropped) = common::DropFlag::new();
        let mut set = JoinSet::new();
        set.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        drop(set);
        for _ in 0..1000 {
            if dropped.load(Ordering::SeqCst) {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(
            dropped.load(Ordering::SeqCst),
            "dropping a JoinSet aborts its tasks"
        );
    });
}

#[test]
fn join_set_detach_all_lets_tasks_run_and_abort_handle_aborts_one() {
    let rt = common::runtime(2);
    rt.block_on(async {
        let ran = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        let flag = ran.clone();
        set.spawn(async move {
            sleep(Duration::from_millis(10)).await;
            flag.store(true, Ordering::SeqCst);
        });
        set.detach_all();
        assert!(set.is_empty());
        drop(set);
        sleep(Duration::from_millis(50)).await;
        assert!(ran.load(Ordering::SeqCst), "a detached task keeps running");

        let mut set = JoinSet::new();
        let keep = set.spawn(async { 1 });
        let stop = set.spawn(std::future::pending::<i32>());
        stop.abort();
        let mut results = Vec::new();
        while let Some(result) = set.join_next_with_id().await {
            results.push(result.map_err(|e| (e.id(), e.is_cancelled())));
        }
        assert!(results.contains(&Ok((keep.id(), 1))));
        assert!(results.contains(&Err((stop.id(), true))));
    });
}

#[test]
fn abort_handle_outlives_join_handle() {
    let rt = common::runtime(2);
    rt.block_on(async {
        let (flag, dropped) = common::DropFlag::new();
        let handle = ticktock::spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        let abort = handle.abort_handle();
        drop(handle);
        assert!(!abort.is_aborted());
        abort.abort();
        assert!(abort.is_aborted());
        for _ in 0..1000 {
            if dropped.load(Ordering::SeqCst) {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn abort_of_a_finished_task_keeps_its_output_and_blocking_jobs_run_on() {
    let rt = common::runtime(2);
    rt.block_on(async {
        let handle = ticktock::spawn(async { 5 });
        while !handle.is_finished() {
            task::yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await.unwrap(), 5);
        // A started blocking job cannot be cancelled (tokio's rule).
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let job = task::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            9
        });
        started_rx.recv().unwrap();
        job.abort();
        assert_eq!(job.await.unwrap(), 9);
    });
}

#[test]
fn task_ids_are_unique_and_visible_inside_and_in_errors() {
    let rt = common::runtime(2);
    rt.block_on(async {
        assert!(
            task::try_id().is_none(),
            "block_on's own future is not a task"
        );
        let handles: Vec<_> = (0..50)
            .map(|_| ticktock::spawn(async { task::id() }))
            .collect();
        let mut ids = std::collections::HashSet::new();
        for handle in handles {
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), id);
            assert!(ids.insert(id));
        }
        let blocking = task::spawn_blocking(task::try_id);
        let id = blocking.id();
        assert_eq!(blocking.await.unwrap(), Some(id));

        let failing = ticktock::spawn(async { panic!("boom {}", 1) });
        let id = failing.id();
        let err = failing.await.unwrap_err();
        assert_eq!(err.id(), id);
        assert_eq!(
            err.to_string(),
            format!("task {id} panicked with message \"boom 1\"")
        );
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Panic(Id({id}), \"boom 1\", ...)")
        );
        let other = ticktock::spawn(async { std::panic::panic_any(7_u8) });
        let id = other.id();
        let err = other.await.unwrap_err();
        assert_eq!(err.to_string(), format!("task {id} panicked"));
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Panic(Id({id}), ...)")
        );
    });
}

#[test]
fn thread_hooks_run_on_start_stop_park_unpark() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let parked = Arc::new(AtomicUsize::new(0));
    let unparked = Arc::new(AtomicUsize::new(0));
    let names = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, t, p, u, n) = (
        started.clone(),
        stopped.clone(),
        parked.clone(),
        unparked.clone(),
        names.clone(),
    );
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hooked")
        .on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
            let name = std::thread::current().name().map(String::from);
            n.lock().unwrap().push(name);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_park(move || {
            p.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_unpark(move || {
            u.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    rt.block_on(async {
        sleep(Duration::from_millis(5)).await;
        ticktock::spawn(async { sleep(Duration::from_millis(5)).await })
            .await
            .unwrap();
        task::spawn_blocking(|| ()).await.unwrap();
    });
    drop(rt);
    // 2 workers and 1 blocking thread; all of them started and stopped. The drop
    // joins the workers; an idle blocking thread exits on its own right after.
    assert_eq!(started.load(Ordering::SeqCst), 3);
    assert!(stopped.load(Ordering::SeqCst) >= 2);
    assert!(common::wait_until(Duration::from_secs(5), || stopped
        .load(Ordering::SeqCst)
        == 3));
    assert!(parked.load(Ordering::SeqCst) >= 1);
    assert!(unparked.load(Ordering::SeqCst) >= 1);
    let names = names.lock().unwrap();
    assert!(names
        .iter()
        .all(|n| n.as_deref().is_some_and(|n| n.starts_with("hooked"))));
}

#[test]
fn runtime_name_and_scheduling_intervals() {
    for interval in [1, 2, 200] {
        let rt = ticktock::Builder::new_multi_thread()
            .worker_threads(2)
            .name("parity")
            .global_queue_interval(interval)
            .event_interval(interval)
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.handle().name(), Some("parity"));
        let sum = rt.block_on(async {
            assert_eq!(ticktock::Handle::current().name(), Some("parity"));
            let handles: Vec<_> = (0..200u64)
                .map(|i| {
                    ticktock::spawn(async move {
                        sleep(Duration::from_micros(i)).await;
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
        assert_eq!(sum, 199 * 200 / 2);
    }
    assert_eq!(current_thread().handle().name(), None);
}

#[test]
#[should_panic(expected = "must be at least 1")]
fn zero_event_interval_is_refused() {
    ticktock::Builder::new_multi_thread().event_interval(0);
}

#[test]
fn start_paused_runtime_auto_advances() {
    let rt = ticktock::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let real = std::time::Instant::now();
    rt.block_on(async {
        let sleep = sleep(Duration::from_secs(3600));
        let deadline = sleep.deadline();
        sleep.await;
        ticktock::time::resume();
        // The clock stands past the hour: resumed from where it jumped.
        assert!(ticktock::time::Instant::now() >= deadline);
    });
    assert!(real.elapsed() < Duration::from_secs(60));
}

/// Unlike tokio, `start_paused` works on the multi-thread builder too (issue 21):
/// a sleep spawned onto a worker auto-advances.
#[test]
fn start_paused_works_on_multi_thread() {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .start_paused(true)
        .build()
        .unwrap();
    let real = std::time::Instant::now();
    let elapsed = rt.block_on(async {
        let start = ticktock::time::Instant::now();
        ticktock::spawn(ticktock::time::sleep(Duration::from_secs(3600)))
            .await
            .unwrap();
        start.elapsed()
    });
    assert_eq!(elapsed, Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(60));
}

#[test]
fn shutdown_background_returns_without_waiting() {
    let rt = common::runtime(2);
    let (flag, dropped) = common::DropFlag::new();
    rt.spawn(async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    });
    rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
    let start = std::time::Instant::now();
    rt.shutdown_background();
    assert!(start.elapsed() < Duration::from_millis(250));
    assert!(common::wait_until(Duration::from_secs(2), || dropped.load(Ordering::SeqCst)));
    // Allowed inside an asynchronous context, unlike a plain drop.
    let outer = current_thread();
    let inner = common::runtime(1);
    outer.block_on(async move { inner.shutdown_background() });
}

#[test]
fn interval_reset_at_after_immediately() {
    let rt = current_thread();
    rt.block_on(async {
        ticktock::time::pause();
        let mut ticks = interval(Duration::from_secs(10));
        let first = ticks.tick().await;
        ticks.reset_after(Duration::from_secs(3));
        let second = ticks.tick().await;
        assert_eq!(second - first, Duration::from_secs(3));
        // Later ticks follow one period apart from the reset one.
        assert_eq!(ticks.tick().await - second, Duration::from_secs(10));
        let third = second + Duration::from_secs(10);
        ticks.reset_at(third + Duration::from_secs(1));
        assert_eq!(ticks.tick().await, third + Duration::from_secs(1));
        ticks.reset_immediately();
        let now_tick = ticks.tick().await;
        assert_eq!(now_tick, third + Duration::from_secs(1));
        assert_eq!(ticks.tick().await - now_tick, Duration::from_secs(10));
    });
}

fn local_set_round(rt: &ticktock::Runtime) {
    let local = LocalSet::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let out = local.block_on(rt, async {
        let mut handles = Vec::new();
        for i in 0..10u64 {
            let log = log.clone();
            handles.push(task::spawn_local(async move {
                sleep(Duration::from_millis(10 - i)).await;
                log.borrow_mut().push(i);
                i
            }));
        }
        // A local task woken from another thread (a blocking job).
        let from_thread = task::spawn_local(async {
            let marker = Rc::new(Cell::new(0));
            let value = task::spawn_blocking(|| 11).await.unwrap();
            marker.set(value);
            marker.get()
        });
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum + from_thread.await.unwrap()
    });
    assert_eq!(out, 45 + 11);
    assert_eq!(log.borrow().len(), 10);
    assert_eq!(log.borrow()[0], 9, "the shortest sleep finishes first");
}

#[test]
fn local_set_runs_non_send_tasks_on_both_flavors() {
    local_set_round(&current_thread());
    local_set_round(&common::runtime(2));
}

#[test]
fn local_set_as_future_runs_until_all_tasks_finish_and_drop_cancels() {
    let rt = current_thread();
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let done = done.clone();
        local.spawn_local(async move {
            sleep(Duration::from_millis(2)).await;
            done.set(done.get() + 1);
        });
    }
    rt.block_on(local);
    assert_eq!(done.get(), 3);

    // Dropping the set drops the futures of its unfinished tasks.
    let local = LocalSet::new();
    let (flag, dropped) = common::DropFlag::new();
    let handle = local.spawn_local(async move {
        let _flag = flag;
        let _not_send = Rc::new(());
        std::future::pending::<()>().await;
    });
    rt.block_on(local.run_until(sleep(Duration::from_millis(2))));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(local);
    assert!(dropped.load(Ordering::SeqCst));
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn local_tasks_abort_and_panic_like_other_tasks() {
    let rt = current_thread();
    let local = LocalSet::new();
    local.block_on(&rt, async {
        let handle = task::spawn_local(std::future::pending::<()>());
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        let err = task::spawn_local(async { panic!("local boom") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        // Task ids work in local tasks too.
        let handle = task::spawn_local(async { task::id() });
        assert_eq!(handle.id(), handle.await.unwrap());
    });
}

#[test]
#[should_panic(expected = "outside a `task::LocalSet`")]
fn spawn_local_outside_a_local_set_panics() {
    let rt = current_thread();
    rt.block_on(async {
        drop(task::spawn_local(async {}));
    });
}
