//! The Go timer pitfalls from the seed documents, replayed against ticktock.
//!
//! 1. A `time.NewTicker` created in a loop and never stopped leaks forever (the
//!    seed's service held 100,000 of them and ran out of memory). In ticktock an
//!    `Interval` has no `Stop`: dropping it frees its timer.
//! 2. `time.After` inside a `select` loop leaves one timer in the heap per
//!    iteration until it fires. In ticktock the losing branch's `Sleep` is dropped
//!    and its heap element is deleted lazily, with compaction bounding the heap.
//! 3. `Timer.Stop` does not close the channel, so a goroutine waiting on it blocks
//!    forever. In ticktock whoever can cancel a timer owns it: cancelling means
//!    dropping the waiting future itself, and nothing is left behind.
//! 4. A deadline that overflows (Go 1.14's negative `when`) stalls the heap. In
//!    ticktock far deadlines clamp and never fire, and other timers are unaffected.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{runtime, total_timers, DropFlag};
use futures::FutureExt;
use ticktock::time::{interval, sleep, timeout, Instant};

#[test]
fn pitfall_1_hundred_thousand_intervals_never_stopped_are_freed_on_drop() {
    let rt = runtime(2);
    let intervals = rt.block_on(async {
        ticktock::spawn(async {
            let mut intervals = Vec::with_capacity(100_000);
            for _ in 0..100_000 {
                let mut ticker = interval(Duration::from_secs(10));
                // The first tick is immediate; polling the second registers the
                // timer for +10 s, like a running Go ticker.
                ticker.tick().await;
                assert!(ticker.tick().now_or_never().is_none());
                intervals.push(ticker);
            }
            intervals
        })
        .await
        .unwrap()
    });
    let metrics = rt.metrics();
    assert_eq!(total_timers(&metrics, |t| t.live), 100_000);
    // The leak report names the culprit: one site, 100,000 live timers.
    let sites = rt.handle().timer_sites();
    assert_eq!(sites.len(), 1, "{sites:?}");
    assert_eq!(sites[0].live, 100_000);
    assert!(
        sites[0].location.file().ends_with("pitfalls.rs"),
        "{:?}",
        sites[0].location
    );
    // Ten-second intervals are far beyond the near window: they wait in the wheel.
    let stored_before = total_timers(&metrics, |t| t.heap_len + t.wheel_len);
    assert!(stored_before >= 100_000);

    // No Stop call anywhere: just drop them.
    drop(intervals);

    let metrics = rt.metrics();
    assert_eq!(total_timers(&metrics, |t| t.live), 0, "timers leaked");
    let stored_after = total_timers(&metrics, |t| t.heap_len + t.wheel_len);
    let slab_after = total_timers(&metrics, |t| t.slab_len);
    assert!(
        stored_after <= 8,
        "heap or wheel not emptied: {stored_after} elements left"
    );
    assert!(slab_after <= 8, "entries not freed: {slab_after} left");
    assert!(rt.handle().timer_sites().is_empty());
    // Each drop took its entry out of a wheel bucket in O(1): nothing was left for a
    // compaction to sweep.
    let cancelled: u64 = metrics
        .per_worker
        .iter()
        .map(|w| w.timers.events.cancelled)
        .sum::<u64>()
        + metrics.external_timers.events.cancelled;
    assert_eq!(
        cancelled, 100_000,
        "every dropped interval cancelled its timer"
    );
}

#[test]
fn pitfall_2_sleep_in_a_million_iteration_select_loop_keeps_the_heap_bounded() {
    const ITERATIONS: usize = 1_000_000;
    const CHECK_EVERY: usize = 50_000;
    let rt = runtime(2);
    let handle = rt.handle().clone();
    rt.block_on(async move {
        ticktock::spawn(async move {
            // A few long-lived timers, as a real service would have.
            let keep: Vec<_> = (0..10).map(|i| Box::pin(sleep(Duration::from_secs(600 + i)))).collect();
            let mut keep = keep;
            for s in &mut keep {
                assert!(s.as_mut().now_or_never().is_none());
            }
            let mut ready = 0usize;
            for i in 0..ITERATIONS {
                // A real loop waits on a channel now and then; yielding keeps the
                // cooperative budget from turning the sleep's poll into a no-op.
                if i % 64 == 0 {
                    ticktock::task::yield_now().await;
                }
                futures::select_biased! {
                    _ = sleep(Duration::from_secs(1)).fuse() => unreachable!("1 s never passes here"),
                    _ = async {}.fuse() => ready += 1,
                }
                if i % CHECK_EVERY == 0 {
                    let metrics = handle.metrics();
                    for store in metrics.per_worker.iter().map(|w| &w.timers).chain([&metrics.external_timers]) {
                        let bound = store.live + store.live / 4 + 8;
                        assert!(
                            store.heap_len <= bound,
                            "iteration {i}: heap {} > 1.25 x live {} + 8",
                            store.heap_len,
                            store.live
                        );
                    }
                }
            }
            assert_eq!(ready, ITERATIONS);
            drop(keep);
        })
        .await
        .unwrap();
    });
    // `select_biased!` polls the sleep before the ready branch: every iteration
    // registered a timer and cancelled it.
    let metrics = rt.metrics();
    let inserted: u64 = metrics
        .per_worker
        .iter()
        .map(|w| w.timers.events.inserted)
        .sum();
    assert!(
        inserted >= ITERATIONS as u64,
        "the loop's sleeps never registered ({inserted})"
    );
    assert_eq!(total_timers(&metrics, |t| t.live), 0);
}

#[test]
fn pitfall_3_cancelling_a_waited_timer_leaves_no_hanging_task_or_waker() {
    let rt = runtime(2);
    // Go: a goroutine blocks on `<-t.C` and another calls t.Stop(): blocked forever.
    // ticktock: the waiter owns the sleep; "stopping" it means cancelling the waiter.
    let (flag, dropped) = DropFlag::new();
    let waiter = rt.spawn(async move {
        let _owned = flag;
        sleep(Duration::from_secs(3600)).await;
    });
    assert!(common::wait_until(Duration::from_secs(2), || total_timers(
        &rt.metrics(),
        |t| t.live
    ) == 1));
    waiter.abort();
    let result = rt.block_on(waiter);
    assert!(result.unwrap_err().is_cancelled());
    assert!(
        common::wait_until(Duration::from_secs(2), || dropped.load(Ordering::SeqCst)),
        "task leaked"
    );
    let metrics = rt.metrics();
    assert_eq!(
        total_timers(&metrics, |t| t.live),
        0,
        "waker left in the timer store"
    );
    assert!(common::wait_until(Duration::from_secs(2), || rt
        .metrics()
        .alive_tasks
        == 0));

    // The select form: a stop signal wins, the sleep is dropped with the branch.
    rt.block_on(async {
        let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
        let listener = ticktock::spawn(async move {
            futures::select! {
                _ = sleep(Duration::from_secs(3600)).fuse() => "fired",
                _ = stop_rx.fuse() => "stopped",
            }
        });
        sleep(Duration::from_millis(5)).await;
        stop_tx.send(()).unwrap();
        assert_eq!(listener.await.unwrap(), "stopped");
    });
    assert_eq!(total_timers(&rt.metrics(), |t| t.live), 0);
}

#[test]
fn pitfall_4_an_overflowing_deadline_does_not_stall_other_timers() {
    let rt = runtime(2);
    rt.block_on(async {
        let forever = ticktock::spawn(sleep(Duration::MAX));
        let far = ticktock::spawn(ticktock::time::sleep_until(
            Instant::now() + Duration::from_secs(u64::MAX / 4_000_000_000),
        ));
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        let mut ticker = interval(Duration::from_millis(2));
        for _ in 0..5 {
            ticker.tick().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "timers stalled behind far deadlines"
        );
        assert!(timeout(Duration::from_millis(5), async {
            (&mut Box::pin(sleep(Duration::MAX))).await
        })
        .await
        .is_err());
        forever.abort();
        far.abort();
    });
}
