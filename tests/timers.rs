//! Timer behaviour on a running runtime: order, never early, reset, cancel from
//! other threads, extreme deadlines, poller wake-ups, blocked workers.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{runtime, total_timers, wait_until};
use futures::FutureExt;
use std::future::Future;
use ticktock::time::{sleep, sleep_until, timeout, Instant};

/// Spawns 40 sleeps in shuffled order with deadlines 4 ms apart; returns the order
/// their tasks ran in and each one's lateness.
fn run_spaced_sleeps(rt: &ticktock::Runtime) -> (Vec<u64>, Vec<Duration>) {
    let order = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut indices: Vec<u64> = (0..40).collect();
    indices.reverse();
    indices.swap(3, 30);
    let handles: Vec<_> = indices
        .into_iter()
        .map(|i| {
            let order = order.clone();
            let deadline = start + Duration::from_millis(20 + 4 * i);
            rt.spawn(async move {
                sleep_until(deadline).await;
                let now = Instant::now();
                assert!(
                    now >= deadline,
                    "timer {i} fired {:?} early",
                    deadline - now
                );
                order.lock().unwrap().push(i);
                now - deadline
            })
        })
        .collect();
    let lateness = rt.block_on(async {
        let mut lateness = Vec::new();
        for handle in handles {
            lateness.push(handle.await.unwrap());
        }
        lateness
    });
    let order = order.lock().unwrap().clone();
    (order, lateness)
}

#[test]
fn timers_fire_in_deadline_order_on_one_thread_even_when_it_falls_behind() {
    // One thread: the order tasks run in is the order their timers fired, even
    // when the OS deschedules the thread and several timers fire in one pass.
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let (order, _) = run_spaced_sleeps(&rt);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "timers fired out of deadline order");
}

#[test]
fn timers_never_fire_early_across_workers() {
    // Two workers: each sleep registers on whichever worker polls it first. The
    // order tasks run in across threads depends on OS scheduling, so this checks
    // never-early (inside the tasks) and bounded lateness.
    let rt = runtime(2);
    let (order, lateness) = run_spaced_sleeps(&rt);
    assert_eq!(order.len(), 40);
    let worst = lateness.iter().max().unwrap();
    assert!(
        *worst < Duration::from_millis(250),
        "a timer was {worst:?} late"
    );
    let stores_used = rt
        .metrics()
        .per_worker
        .iter()
        .filter(|w| w.timers.events.inserted > 0)
        .count();
    eprintln!("worst lateness {worst:?}; timers registered on {stores_used} worker stores");
}

#[test]
fn zero_and_past_deadlines_complete_promptly() {
    let rt = runtime(2);
    rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::ZERO).await;
        sleep_until(start - Duration::from_secs(1)).await;
        let handle = ticktock::spawn(async { sleep(Duration::ZERO).await });
        handle.await.unwrap();
        assert!(start.elapsed() < Duration::from_millis(50));
    });
}

#[test]
fn duration_max_and_far_future_never_fire_and_never_overflow() {
    let rt = runtime(2);
    rt.block_on(async {
        let forever = sleep(Duration::MAX);
        assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
        assert!(timeout(Duration::from_millis(30), forever).await.is_err());
        let far = sleep_until(Instant::now() + Duration::from_secs(86_400 * 365 * 100));
        assert!(timeout(Duration::from_millis(30), far).await.is_err());
        // Timeout with an overflowing duration is "no timeout", not a panic.
        assert_eq!(timeout(Duration::MAX, async { 7 }).await, Ok(7));
        // An interval whose period overflows the next deadline keeps working.
        let mut interval = ticktock::time::interval(Duration::MAX);
        interval.tick().await;
        assert!(timeout(Duration::from_millis(10), interval.tick())
            .await
            .is_err());
    });
    // The far-future timers were dropped: nothing is left registered.
    let metrics = rt.metrics();
    assert_eq!(total_timers(&metrics, |t| t.live), 0);
}

#[test]
fn reset_earlier_and_later() {
    let rt = runtime(2);
    rt.block_on(async {
        // Earlier: an hour-long sleep reset to 20 ms completes around 20 ms.
        let start = Instant::now();
        let mut long = std::pin::pin!(sleep(Duration::from_secs(3600)));
        assert!((&mut long).now_or_never().is_none()); // registers
        long.as_mut().reset(start + Duration::from_millis(20));
        long.as_mut().await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(20), "fired early: {took:?}");
        assert!(
            took < Duration::from_millis(500),
            "reset earlier was ignored: {took:?}"
        );

        // Later: a 10 ms sleep reset to 60 ms must not fire at 10 ms.
        let start = Instant::now();
        let mut short = std::pin::pin!(sleep(Duration::from_millis(10)));
        assert!((&mut short).now_or_never().is_none());
        short.as_mut().reset(start + Duration::from_millis(60));
        short.as_mut().await;
        assert!(
            start.elapsed() >= Duration::from_millis(60),
            "fired at the stale deadline"
        );

        // After completion, reset re-arms the same sleep.
        assert!(short.is_elapsed());
        let again = Instant::now();
        short.as_mut().reset(again + Duration::from_millis(5));
        assert!(!short.is_elapsed());
        short.as_mut().await;
        assert!(again.elapsed() >= Duration::from_millis(5));
    });
}

#[test]
fn cancel_and_reset_from_another_thread() {
    let rt = runtime(2);
    // A task registers sleeps on its worker, then ships them to a plain thread.
    let sleeps = rt.block_on(async {
        ticktock::spawn(async {
            let mut sleeps = Vec::new();
            for i in 0..100u64 {
                let mut s = Box::pin(sleep(Duration::from_secs(60 + i)));
                assert!((&mut s).now_or_never().is_none());
                sleeps.push(s);
            }
            sleeps
        })
        .await
        .unwrap()
    });
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 100);
    let (to_reset, to_drop): (Vec<_>, Vec<_>) = sleeps
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let mut to_reset: Vec<_> = to_reset.into_iter().map(|(_, s)| s).collect();
    std::thread::spawn(move || drop(to_drop)).join().unwrap();
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 50);
    // Reset from this (non-runtime) thread, then await from the runtime.
    let target = Instant::now() + Duration::from_millis(15);
    for s in &mut to_reset {
        s.as_mut().reset(target);
    }
    rt.block_on(async move {
        for s in to_reset {
            s.await;
            assert!(Instant::now() >= target);
        }
    });
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 0);
}

/// A waker that only counts its clones alive (through its `Arc`).
struct Probe;

impl std::task::Wake for Probe {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_sleep_dropped_on_another_thread_is_freed_by_the_owners_next_pass() {
    // The current-thread runtime's store is owned by the thread inside `block_on`;
    // a `Sleep` dropped on a plain thread queues its cancel for that owner, whose
    // timer pass (every few ticks of its loop) applies it and drops the waker.
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    let probe = Arc::new(Probe);
    let applied = rt.block_on(async {
        // A few turns of the loop first, so the owner's pass has claimed the store.
        for _ in 0..200 {
            ticktock::task::yield_now().await;
        }
        let mut sleep = Box::pin(sleep(Duration::from_secs(60)));
        let waker = std::task::Waker::from(probe.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        drop(waker);
        assert_eq!(Arc::strong_count(&probe), 2, "the entry holds the waker");
        std::thread::spawn(move || drop(sleep)).join().unwrap();
        // Not applied by the dropping thread: the store has an owner.
        let queued = Arc::strong_count(&probe) == 2;
        for _ in 0..10_000 {
            if Arc::strong_count(&probe) == 1 {
                return queued;
            }
            ticktock::task::yield_now().await;
        }
        panic!("the owner's timer passes never applied the queued cancel");
    });
    assert!(
        applied,
        "the remote drop took the owner's lock instead of queueing"
    );
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 0);
    assert_eq!(total_timers(&rt.metrics(), |t| t.slab_len), 0);
}

/// Live timers in the workers' stores and in the external store.
fn live_where(rt: &ticktock::Runtime) -> (usize, usize) {
    let metrics = rt.metrics();
    let workers = metrics.per_worker.iter().map(|w| w.timers.live).sum();
    (workers, metrics.external_timers.live)
}

#[test]
// The task hands its (pending) sleep back on purpose, to be polled elsewhere.
#[allow(clippy::async_yields_async)]
fn a_sleep_polled_on_another_thread_moves_to_that_threads_store() {
    // Registered by a task on a worker; then polled by the `block_on` caller of
    // the multi-thread runtime, which is no worker: its store is the external one.
    // The timer follows: one lock of the old store for the move, none after.
    let rt = runtime(2);
    let mut sleep = rt.block_on(async {
        ticktock::spawn(async {
            let mut s = Box::pin(sleep(Duration::from_secs(60)));
            assert!((&mut s).now_or_never().is_none());
            s
        })
        .await
        .unwrap()
    });
    assert_eq!(live_where(&rt), (1, 0), "registered on the worker");
    rt.block_on(async { assert!((&mut sleep).now_or_never().is_none()) });
    assert_eq!(
        live_where(&rt),
        (0, 1),
        "moved to the polling thread's store"
    );
    // Still the same sleep: moved to a near deadline, it completes, never early.
    let target = Instant::now() + Duration::from_millis(10);
    rt.block_on(async {
        sleep.as_mut().reset(target);
        sleep.await;
        assert!(Instant::now() >= target);
    });
    assert_eq!(live_where(&rt), (0, 0));
}

#[test]
fn later_deadlines_never_wake_the_poller_and_earlier_ones_do() {
    let rt = runtime(2);
    let handle = rt.handle().clone();
    // One long timer sets the poller's deadline; let the workers park.
    let first = rt.spawn(async { sleep(Duration::from_secs(10)).await });
    assert!(wait_until(Duration::from_secs(2), || total_timers(
        &handle.metrics(),
        |t| t.live
    ) == 1));
    std::thread::sleep(Duration::from_millis(50));
    let before = handle.metrics().earlier_deadline_wakeups;

    // Later deadlines, registered from a task (a worker store) and from a plain
    // thread through the runtime's shared store: no poller wake-up.
    let later = rt.spawn(async {
        let a = sleep(Duration::from_secs(20));
        let b = sleep(Duration::from_secs(30));
        futures::future::join(a, b).await;
    });
    let later_outside = std::thread::spawn({
        let handle = handle.clone();
        move || {
            let _guard = handle.enter();
            let mut s = Box::pin(sleep(Duration::from_secs(40)));
            assert!((&mut s).now_or_never().is_none());
            s
        }
    })
    .join()
    .unwrap();
    assert!(wait_until(Duration::from_secs(2), || total_timers(
        &handle.metrics(),
        |t| t.live
    ) == 4));
    std::thread::sleep(Duration::from_millis(50));
    let after_later = handle.metrics().earlier_deadline_wakeups;
    assert_eq!(after_later, before, "a later deadline woke the poller");

    // An earlier deadline must wake it (and fire on time).
    let start = Instant::now();
    rt.block_on(async { sleep(Duration::from_millis(30)).await });
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "earlier deadline was not noticed: {took:?}"
    );
    assert!(handle.metrics().earlier_deadline_wakeups > after_later);
    first.abort();
    later.abort();
    drop(later_outside);
}

/// A waker that records when it was first woken.
struct WokenAt(std::sync::Mutex<Option<Instant>>);

impl std::task::Wake for WokenAt {
    fn wake(self: Arc<Self>) {
        self.0.lock().unwrap().get_or_insert_with(Instant::now);
    }
}

#[test]
fn blocked_worker_timers_are_stolen_and_fire_on_time() {
    let rt = runtime(2);
    let wakes: Vec<(Instant, Arc<WokenAt>)> = rt.block_on(async {
        ticktock::spawn(async {
            // Register five sleeps in this worker's store, each waiting with a waker
            // that records when it is woken, then block this worker for 300 ms:
            // only another worker's steal can fire them. (Sleeps awaited by other
            // tasks would move to those tasks' workers at their first poll there,
            // `time/sleep.rs`, and need no stealing.)
            let start = Instant::now();
            let mut wakes = Vec::new();
            let mut sleeps = Vec::new();
            for i in 1..=5u64 {
                let deadline = start + Duration::from_millis(20 * i);
                let woken = Arc::new(WokenAt(std::sync::Mutex::new(None)));
                let waker = std::task::Waker::from(woken.clone());
                let mut s = Box::pin(sleep_until(deadline));
                let mut cx = std::task::Context::from_waker(&waker);
                assert!(s.as_mut().poll(&mut cx).is_pending());
                sleeps.push(s);
                wakes.push((deadline, woken));
            }
            std::thread::sleep(Duration::from_millis(300));
            drop(sleeps);
            wakes
        })
        .await
        .unwrap()
    });
    let lateness: Vec<Duration> = wakes
        .iter()
        .map(|(deadline, woken)| {
            let at = woken
                .0
                .lock()
                .unwrap()
                .expect("a stolen timer was never fired");
            assert!(at >= *deadline, "fired early");
            at - *deadline
        })
        .collect();
    eprintln!("lateness while the owner was blocked: {lateness:?}");
    for late in &lateness {
        assert!(
            *late < Duration::from_millis(30),
            "a timer of a blocked worker was {late:?} late"
        );
    }
    let stolen: u64 = rt
        .metrics()
        .per_worker
        .iter()
        .map(|w| w.timers.stolen)
        .sum();
    assert!(
        stolen >= 5,
        "the blocked worker's timers were not stolen (stolen = {stolen})"
    );
}

#[test]
fn block_in_place_keeps_the_workers_timers_running() {
    let rt = runtime(2);
    rt.block_on(async {
        let ticker = ticktock::spawn(async {
            let mut interval = ticktock::time::interval(Duration::from_millis(10));
            let start = Instant::now();
            for _ in 0..10 {
                interval.tick().await;
            }
            start.elapsed()
        });
        let blocker = ticktock::spawn(async {
            ticktock::task::block_in_place(|| std::thread::sleep(Duration::from_millis(200)));
            // The task continues after the blocking section, and can still sleep.
            sleep(Duration::from_millis(1)).await;
            "done"
        });
        let elapsed = ticker.await.unwrap();
        assert!(
            elapsed < Duration::from_millis(180),
            "interval stalled: {elapsed:?}"
        );
        assert_eq!(blocker.await.unwrap(), "done");
    });
}

#[test]
fn interval_policies() {
    use ticktock::time::{interval, interval_at, MissedTickBehavior};
    let rt = runtime(2);
    rt.block_on(async {
        // First tick is immediate.
        let start = Instant::now();
        let mut i = interval(Duration::from_millis(50));
        i.tick().await;
        assert!(start.elapsed() < Duration::from_millis(20));

        // Burst: after a 35 ms stall on a 10 ms period, missed ticks come at once.
        let start = Instant::now();
        let mut burst = interval_at(start, Duration::from_millis(10));
        burst.tick().await;
        std::thread::sleep(Duration::from_millis(35));
        let t1 = burst.tick().await;
        let t2 = burst.tick().await;
        assert_eq!(t2 - t1, Duration::from_millis(10));
        assert!(
            start.elapsed() < Duration::from_millis(45),
            "burst ticks waited"
        );

        // Delay: the next tick comes one period after the late one.
        let start = Instant::now();
        let mut delay = interval_at(start, Duration::from_millis(10));
        delay.set_missed_tick_behavior(MissedTickBehavior::Delay);
        delay.tick().await;
        std::thread::sleep(Duration::from_millis(35));
        delay.tick().await; // late tick, observed at ~35 ms
        let observed = Instant::now();
        delay.tick().await;
        assert!(observed.elapsed() >= Duration::from_millis(9));

        // Skip: the next tick lands on the original grid.
        let start = Instant::now();
        let mut skip = interval_at(start, Duration::from_millis(10));
        skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
        skip.tick().await;
        std::thread::sleep(Duration::from_millis(35));
        skip.tick().await;
        let next = skip.tick().await;
        assert_eq!((next - start).as_millis() % 10, 0, "skip left the grid");
        assert!(next - start >= Duration::from_millis(40));
    });
}

#[test]
#[should_panic(expected = "period must be non-zero")]
fn zero_period_interval_panics_with_a_message() {
    let _ = ticktock::time::interval(Duration::ZERO);
}

#[test]
fn timeout_polls_the_inner_future_first() {
    let rt = runtime(1);
    rt.block_on(async {
        // Deadline already passed, inner future ready: the value wins.
        let t = ticktock::time::timeout_at(Instant::now() - Duration::from_secs(1), async { 3 });
        assert_eq!(t.await, Ok(3));
        let err = timeout(Duration::from_millis(5), std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
    });
}

#[test]
#[should_panic(expected = "polled outside a ticktock runtime")]
fn polling_a_sleep_outside_a_runtime_panics_with_a_message() {
    let mut s = Box::pin(sleep(Duration::from_millis(1)));
    let _ = (&mut s).now_or_never();
}

#[test]
fn timeout_fires_even_when_the_inner_future_spends_the_whole_budget() {
    // A watchdog thread turns a hang (the bug this replays) into a failure.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = runtime(1);
        rt.block_on(async {
            ticktock::spawn(async {
                // Each poll of the inner future polls 200 zero sleeps (more than
                // the cooperative budget) and stays pending.
                let greedy = std::future::poll_fn(|cx| {
                    for _ in 0..200 {
                        let mut zero = sleep(Duration::ZERO);
                        let _ = std::pin::Pin::new(&mut zero).poll(cx);
                    }
                    cx.waker().wake_by_ref();
                    std::task::Poll::<()>::Pending
                });
                assert!(timeout(Duration::from_millis(30), greedy).await.is_err());
            })
            .await
            .unwrap();
        });
        let _ = done_tx.send(());
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the timeout never fired: its delay was starved of budget"
    );
}

/// tokio's `reset_sleep_to_past`: a sleep reset to a deadline that has already
/// passed is ready at its next poll, not at the next timer pass.
#[test]
fn reset_to_a_passed_deadline_is_ready_at_the_next_poll() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut sleep = Box::pin(ticktock::time::sleep(Duration::from_secs(3600)));
        assert!(futures::poll!(sleep.as_mut()).is_pending());
        sleep
            .as_mut()
            .reset(Instant::now() - Duration::from_millis(1));
        assert!(futures::poll!(sleep.as_mut()).is_ready());
        // A later reset re-arms it.
        sleep
            .as_mut()
            .reset(Instant::now() + Duration::from_secs(3600));
        assert!(futures::poll!(sleep.as_mut()).is_pending());
    });
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 0);
}

/// tokio's `time_interval::burst`: an interval that fell behind hands out its
/// missed ticks back to back.
#[test]
fn burst_interval_hands_out_missed_ticks_back_to_back() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut ticks = ticktock::time::interval(Duration::from_millis(10));
        ticks.tick().await; // immediate
        std::thread::sleep(Duration::from_millis(55)); // miss five ticks
        for missed in 1..=5 {
            assert!(
                futures::FutureExt::now_or_never(ticks.tick()).is_some(),
                "missed tick {missed} was not handed out at once"
            );
        }
    });
}
