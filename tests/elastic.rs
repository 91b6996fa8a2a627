//! Elastic workers: `Handle::set_worker_threads` on a running runtime. Retired
//! workers hand their tasks and timers over (timers never early, none lost), grown
//! workers take work, and tasks keep completing while workers come and go.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::wait_until;
use proptest::prelude::RngExt;
use ticktock::time::{sleep, sleep_until, timeout, Instant};

fn elastic(initial: usize, max: usize) -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(initial)
        .max_worker_threads(max)
        .build()
        .expect("runtime builds")
}

/// Keeps a worker busy for about `d` (so the other workers steal the rest).
fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Spawns `n` tasks that each arm one sleep (a mix of near and far deadlines,
/// `base` to `base + 400 ms` from now) and check on wake-up that it was not early.
/// Returns the join handles and a counter of early wake-ups.
fn arm_sleeps(
    rt: &ticktock::Runtime,
    n: u64,
    base: Duration,
) -> (Vec<ticktock::task::JoinHandle<()>>, Arc<AtomicU64>) {
    let early = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles = (0..n)
        .map(|i| {
            let early = early.clone();
            let deadline = start + base + Duration::from_micros(i * 400_000 / n);
            rt.spawn(async move {
                if i % 64 == 0 {
                    spin(Duration::from_millis(1));
                }
                sleep_until(deadline).await;
                if Instant::now() < deadline {
                    early.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    (handles, early)
}

fn live_timers(metrics: &ticktock::RuntimeMetrics, worker: usize) -> usize {
    metrics.per_worker[worker].timers.live
}

#[test]
fn shrink_2_to_1_moves_every_timer_and_none_fires_early() {
    let rt = elastic(2, 2);
    let handle = rt.handle().clone();
    let (tasks, early) = arm_sleeps(&rt, 4000, Duration::from_millis(800));
    assert!(
        wait_until(Duration::from_secs(10), || {
            let m = handle.metrics();
            m.per_worker
                .iter()
                .map(|w| w.timers.events.inserted)
                .sum::<u64>()
                == 4000
        }),
        "every sleep armed"
    );
    let m = handle.metrics();
    let on_retiring = live_timers(&m, 1);
    let fired_before = m.per_worker[1].timers.events.fired;
    assert!(on_retiring > 0, "worker 1 armed some of the sleeps");
    handle.set_worker_threads(1);
    assert_eq!(handle.worker_threads(), 1);
    assert!(wait_until(Duration::from_secs(5), || handle
        .metrics()
        .active_workers
        == 1));
    let m = handle.metrics();
    assert_eq!(m.workers_retired, 1);
    assert_eq!(live_timers(&m, 1), 0, "the retired store is empty");
    let moved = m.per_worker[1].timers.events.migrated_out;
    let fired_meanwhile = m.per_worker[1].timers.events.fired - fired_before;
    assert_eq!(moved + fired_meanwhile, on_retiring as u64);
    assert_eq!(m.per_worker[0].timers.events.migrated_in, moved);
    // Tasks spawned now still run, on the survivor.
    let name = rt
        .block_on(rt.spawn(async { std::thread::current().name().map(String::from) }))
        .unwrap();
    assert_eq!(name.as_deref(), Some("ticktock-worker-0"));
    for task in tasks {
        rt.block_on(task).expect("sleep task completes");
    }
    assert_eq!(early.load(Ordering::SeqCst), 0, "no sleep woke early");
    assert_eq!(handle.metrics().per_worker[0].timers.live, 0);
}

#[test]
fn shrink_4_to_1_spreads_then_grow_back_to_4() {
    let rt = elastic(4, 4);
    let handle = rt.handle().clone();
    let (tasks, early) = arm_sleeps(&rt, 6000, Duration::from_millis(1500));
    assert!(wait_until(Duration::from_secs(10), || {
        let m = handle.metrics();
        m.per_worker
            .iter()
            .map(|w| w.timers.events.inserted)
            .sum::<u64>()
            == 6000
    }));
    // 4 -> 2 first: the two retiring stores spread over both survivors.
    handle.set_worker_threads(2);
    assert!(wait_until(Duration::from_secs(5), || handle
        .metrics()
        .active_workers
        == 2));
    let m = handle.metrics();
    let out: u64 = (2..4)
        .map(|w| m.per_worker[w].timers.events.migrated_out)
        .sum();
    let into: Vec<u64> = (0..2)
        .map(|w| m.per_worker[w].timers.events.migrated_in)
        .collect();
    assert_eq!(into.iter().sum::<u64>(), out);
    assert!(
        into.iter().all(|&n| n > 0),
        "spread over every survivor: {into:?}"
    );
    handle.set_worker_threads(1);
    assert!(wait_until(Duration::from_secs(5), || handle
        .metrics()
        .active_workers
        == 1));
    let m = handle.metrics();
    assert_eq!(m.workers_retired, 3);
    let all: Vec<usize> = (0..4).map(|w| live_timers(&m, w)).collect();
    assert_eq!(all[1..], [0, 0, 0], "all moved to worker 0: {all:?}");
    handle.set_worker_threads(4);
    assert_eq!(handle.metrics().active_workers, 4);
    assert_eq!(handle.metrics().workers_started, 3);
    // The grown workers take work: a burst of busy tasks spreads over them.
    let busy: Vec<_> = (0..64)
        .map(|_| rt.spawn(async { spin(Duration::from_millis(2)) }))
        .collect();
    for task in busy {
        rt.block_on(task).unwrap();
    }
    let polled = handle
        .metrics()
        .per_worker
        .iter()
        .skip(1)
        .filter(|w| w.polls > 0)
        .count();
    assert!(polled >= 1, "a grown worker ran tasks");
    for task in tasks {
        rt.block_on(task).expect("sleep task completes");
    }
    assert_eq!(early.load(Ordering::SeqCst), 0);
}

#[test]
fn bounds_are_checked() {
    let rt = elastic(2, 3);
    let handle = rt.handle().clone();
    let too_many = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.set_worker_threads(4)
    }))
    .unwrap_err();
    let message = too_many.downcast_ref::<String>().unwrap();
    assert!(message.contains("outside 1..=3"), "{message}");
    assert!(std::panic::catch_unwind(
        std::panic::AssertUnwindSafe(|| handle.set_worker_threads(0))
    )
    .is_err());
    let current = ticktock::Builder::new_current_thread().build().unwrap();
    let handle = current.handle().clone();
    assert!(std::panic::catch_unwind(
        std::panic::AssertUnwindSafe(|| handle.set_worker_threads(1))
    )
    .is_err());
    assert_eq!(handle.worker_threads(), 1);
}

#[test]
fn a_worker_can_shrink_its_own_runtime_from_a_task() {
    let rt = elastic(3, 3);
    let handle = rt.handle().clone();
    let inner = handle.clone();
    rt.block_on(rt.spawn(async move {
        inner.set_worker_threads(1);
        sleep(Duration::from_millis(5)).await;
    }))
    .unwrap();
    assert!(wait_until(Duration::from_secs(5), || handle
        .metrics()
        .active_workers
        == 1));
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

/// What the stress run checked: sleeps that completed, and broken rules.
#[derive(Default)]
struct Tally {
    completed: AtomicUsize,
    cancelled: AtomicUsize,
    early: AtomicUsize,
}

/// One sleeper's loop: arm a sleep, sometimes reset it, sometimes cancel it (a
/// timeout shorter than the sleep drops it), and check each completion against the
/// deadline it was last given.
async fn churn(seed: u64, rounds: usize, tally: Arc<Tally>) {
    let mut rng = common::seeded_rng(seed);
    for _ in 0..rounds {
        let mut deadline = Instant::now() + Duration::from_micros(rng.random_range(0..3000));
        let sleep = sleep_until(deadline);
        let mut sleep = std::pin::pin!(sleep);
        match rng.random_range(0..3) {
            0 => {
                // Arm it, then reset it (earlier or later).
                let _ = futures::poll!(sleep.as_mut());
                deadline = Instant::now() + Duration::from_micros(rng.random_range(0..3000));
                sleep.as_mut().reset(deadline);
            }
            1 => {
                let limit = Duration::from_micros(rng.random_range(0..1000));
                if timeout(limit, sleep.as_mut()).await.is_err() {
                    tally.cancelled.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            _ => {}
        }
        sleep.await;
        if Instant::now() < deadline {
            tally.early.fetch_add(1, Ordering::Relaxed);
        }
        tally.completed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Resizes between 1 and `max` workers every few milliseconds for `duration` while
/// `tasks` tasks and two outside threads churn sleeps; every sleep completes or is
/// cancelled, none early, and the tasks all finish.
fn stress(max: usize, tasks: u64, rounds: usize, duration: Duration) {
    let rt = elastic(max, max);
    let handle = rt.handle().clone();
    let tally = Arc::new(Tally::default());
    let spawned: Vec<_> = (0..tasks)
        .map(|i| rt.spawn(churn(i * 7919 + 1, rounds, tally.clone())))
        .collect();
    let outside: Vec<_> = (0..2)
        .map(|t| {
            let handle = handle.clone();
            let tally = tally.clone();
            std::thread::spawn(move || handle.block_on(churn(1000 + t, rounds, tally)))
        })
        .collect();
    let mut rng = common::seeded_rng(42);
    let start = Instant::now();
    let mut resizes = 0;
    while start.elapsed() < duration {
        handle.set_worker_threads(1 + rng.random_range(0..max));
        resizes += 1;
        std::thread::sleep(Duration::from_millis(1 + rng.random_range(0..10)));
    }
    handle.set_worker_threads(max);
    for task in spawned {
        rt.block_on(task).expect("churn task completes");
    }
    for thread in outside {
        thread.join().unwrap();
    }
    let expected = (tasks as usize + 2) * rounds;
    let done = tally.completed.load(Ordering::SeqCst) + tally.cancelled.load(Ordering::SeqCst);
    assert_eq!(done, expected, "every sleep completed or was cancelled");
    assert_eq!(tally.early.load(Ordering::SeqCst), 0, "no sleep woke early");
    let m = handle.metrics();
    assert!(
        m.workers_retired > 0 && m.workers_started > 0,
        "{resizes} resizes"
    );
    let live: usize = m.per_worker.iter().map(|w| w.timers.live).sum();
    assert_eq!(live + m.external_timers.live, 0, "no timer left behind");
    let slab: usize = m.per_worker.iter().map(|w| w.timers.slab_len).sum();
    assert_eq!(
        slab + m.external_timers.slab_len,
        0,
        "no entry or tombstone left behind"
    );
}

#[test]
fn resizing_while_sleeps_are_armed_reset_and_cancelled() {
    stress(4, 400, 40, Duration::from_millis(1500));
}

/// The long version (100k sleeps over 8 workers): `cargo test --release --test
/// elastic -- --ignored`.
#[test]
#[ignore]
fn resizing_stress_long() {
    stress(8, 2000, 50, Duration::from_secs(20));
}

/// `worker_threads_auto` follows a (fake) cgroup `cpu.max` as it changes, and
/// `TICKTOCK_WORKER_THREADS` overrides it. One test, so nothing else in this binary
/// builds an auto-sized runtime while the variable is set.
#[test]
fn auto_workers_follow_the_cgroup_limit_and_the_env_override() {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = std::env::temp_dir().join(format!("ticktock-cgroup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cpu_max = dir.join("cpu.max");
    std::fs::write(&cpu_max, "100000 100000\n").unwrap();
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads_auto()
        .cgroup_root(&dir)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    assert_eq!(handle.worker_threads(), 1, "one CPU of quota: one worker");
    assert_eq!(
        handle.metrics().workers,
        available,
        "bound: the CPUs available"
    );
    // Keep a worker waking up, as a service would: the limit is read by awake workers.
    let ticker = rt.spawn(async {
        loop {
            sleep(Duration::from_millis(5)).await;
        }
    });
    std::fs::write(&cpu_max, "250000 100000\n").unwrap();
    let grown = available.min(3);
    assert!(
        wait_until(Duration::from_secs(5), || handle.worker_threads() == grown
            && handle.metrics().active_workers == grown),
        "followed 2.5 CPUs to {grown} workers (now {})",
        handle.worker_threads()
    );
    std::fs::write(&cpu_max, "max 100000\n").unwrap();
    assert!(wait_until(Duration::from_secs(5), || handle
        .worker_threads()
        == available));
    std::fs::write(&cpu_max, "50000 100000\n").unwrap();
    assert!(wait_until(Duration::from_secs(5), || handle
        .metrics()
        .active_workers
        == 1));
    ticker.abort();
    drop(rt);

    std::env::set_var("TICKTOCK_WORKER_THREADS", "2");
    let fixed = ticktock::Builder::new_multi_thread()
        .cgroup_root(&dir)
        .build()
        .unwrap();
    std::env::remove_var("TICKTOCK_WORKER_THREADS");
    assert_eq!(fixed.handle().worker_threads(), 2, "the variable wins");
    assert_eq!(fixed.handle().metrics().workers, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A waker whose clones are counted by its `Arc`: `Arc::strong_count - 1` is the
/// number of timer entries (or anything else) still holding it.
struct CountedWaker;

impl std::task::Wake for CountedWaker {
    fn wake(self: Arc<Self>) {}
}

/// Sleeps armed per poll of an arming task before it yields: the coop budget
/// (128 leaf polls per task poll) would leave later polls unregistered.
const ARM_BATCH: usize = 64;

/// Spawns `tasks` tasks that each arm `per_task` far sleeps (60 s) on the worker
/// running them, registered with `waker` instead of the task's own, and hand the
/// armed `Sleep`s back: they stay registered after the tasks end, and whatever
/// holds their entries holds a clone of `waker`.
fn arm_held(
    rt: &ticktock::Runtime,
    tasks: usize,
    per_task: usize,
    waker: &Arc<CountedWaker>,
) -> Vec<std::pin::Pin<Box<ticktock::time::Sleep>>> {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let waker = std::task::Waker::from(waker.clone());
            rt.spawn(async move {
                // Busy for a moment, so the other worker takes some of the tasks.
                spin(Duration::from_millis(2));
                let mut held = Vec::with_capacity(per_task);
                for i in 0..per_task {
                    let mut sleep = Box::pin(sleep(Duration::from_secs(60)));
                    let polled = sleep
                        .as_mut()
                        .poll(&mut std::task::Context::from_waker(&waker));
                    assert!(polled.is_pending());
                    held.push(sleep);
                    if i % ARM_BATCH == ARM_BATCH - 1 {
                        ticktock::task::yield_now().await;
                    }
                }
                held
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|task| rt.block_on(task).expect("arming task completes"))
        .collect()
}

/// A 2-worker runtime whose worker 1 armed held sleeps and then retired, so its
/// entries moved to worker 0 and left tombstones behind.
fn migrated_sleeps() -> (
    ticktock::Runtime,
    ticktock::Handle,
    Arc<CountedWaker>,
    Vec<std::pin::Pin<Box<ticktock::time::Sleep>>>,
) {
    let rt = elastic(2, 2);
    let handle = rt.handle().clone();
    let waker = Arc::new(CountedWaker);
    let held = arm_held(&rt, 8, 200, &waker);
    assert!(live_timers(&handle.metrics(), 1) > 0, "worker 1 armed some");
    handle.set_worker_threads(1);
    assert!(wait_until(Duration::from_secs(10), || {
        let m = handle.metrics();
        m.workers_retired == 1 && m.per_worker[1].timers.live == 0
    }));
    (rt, handle, waker, held)
}

/// Dropping a `Sleep` whose entry migrated frees both the entry (in the survivor's
/// store) and the tombstone it left in the retired store. (Before the fix the
/// drop followed the tombstone without freeing it: one slab entry leaked per
/// migrated sleep dropped unpolled, as a cancelled timeout is.)
#[test]
fn dropping_a_migrated_sleep_frees_its_tombstone() {
    let (_rt, handle, waker, held) = migrated_sleeps();
    let m = handle.metrics();
    assert!(m.per_worker[1].timers.events.migrated_out > 0);
    assert_eq!(
        m.per_worker[1].timers.slab_len as u64, m.per_worker[1].timers.events.migrated_out,
        "one tombstone per moved entry"
    );
    drop(held);
    let m = handle.metrics();
    let slab: Vec<usize> = m.per_worker.iter().map(|w| w.timers.slab_len).collect();
    assert_eq!(slab, [0, 0], "entries and tombstones freed");
    assert_eq!(Arc::strong_count(&waker), 1);
}

/// A `Sleep` whose entry migrated can outlive its runtime: dropped after the
/// runtime and every handle are gone, it follows its tombstone without panicking.
/// (Before the fix the store table was only weakly held, and the drop panicked
/// with "a timer slot outlived its runtime's slot table".)
#[test]
fn a_migrated_sleep_outlives_its_runtime() {
    let (rt, handle, waker, held) = migrated_sleeps();
    assert!(handle.metrics().per_worker[0].timers.events.migrated_in > 0);
    drop(handle);
    drop(rt);
    assert_eq!(Arc::strong_count(&waker), 1, "shutdown dropped every waker");
    drop(held);
}

/// Counts the futures dropped (a cancelled task drops its future).
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Total of a timer counter over the worker stores.
fn sum_workers(m: &ticktock::RuntimeMetrics, field: fn(&ticktock::TimerMetrics) -> u64) -> u64 {
    m.per_worker.iter().map(|w| field(&w.timers)).sum()
}

/// How [`shutdown_mid_migration`] ends the runtime.
#[derive(Clone, Copy, Debug)]
enum End {
    /// `shutdown_timeout` with a short timeout: it stops waiting for the retiring
    /// thread, which is still moving timers when the stores are drained.
    ShortTimeout,
    /// A drop: waits for every thread, then drains.
    Drop,
}

/// Ending the runtime while a retiring worker is still moving its timers: the
/// shutdown returns promptly, every task awaiting a sleep is cancelled (its join
/// handle resolves, its future is dropped), and every store ends up drained: no
/// timer entry, hence no waker, survives in a store that shutdown already drained.
/// (Before the fix, with `ShortTimeout`, the retiring thread kept migrating into
/// the drained survivor's store, and the wakers it moved there were never dropped.)
///
/// Returns whether the shutdown began while the move was in progress (a busy
/// machine may deschedule the test thread for the whole move; the checks hold
/// either way, and the caller retries until one run caught it).
fn shutdown_mid_migration(end: End) -> bool {
    const HELD_TASKS: usize = 8;
    const HELD_PER_TASK: usize = 40_000;
    const AWAITING: usize = 500;
    let rt = elastic(2, 2);
    let handle = rt.handle().clone();
    let waker = Arc::new(CountedWaker);
    let held = arm_held(&rt, HELD_TASKS, HELD_PER_TASK, &waker);
    let dropped = Arc::new(AtomicUsize::new(0));
    let awaiting: Vec<_> = (0..AWAITING)
        .map(|_| {
            let guard = DropCount(dropped.clone());
            rt.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(60)).await;
            })
        })
        .collect();
    let armed = (HELD_TASKS * HELD_PER_TASK + AWAITING) as u64;
    assert!(
        wait_until(Duration::from_secs(30), || sum_workers(
            &handle.metrics(),
            |t| t.events.inserted
        ) == armed),
        "every sleep armed"
    );
    assert_eq!(Arc::strong_count(&waker), 1 + HELD_TASKS * HELD_PER_TASK);
    let on_retiring = live_timers(&handle.metrics(), 1);
    assert!(
        on_retiring > 10 * 4096,
        "worker 1 holds enough timers for many migration slices: {on_retiring}"
    );
    handle.set_worker_threads(1);
    // Shut down once the move has started and before it ends (no sleep between
    // looks: the move takes milliseconds).
    let look_until = Instant::now() + Duration::from_secs(30);
    let caught = loop {
        let m = handle.metrics();
        let retiring = &m.per_worker[1].timers;
        if retiring.events.migrated_out > 0 || Instant::now() > look_until {
            break retiring.events.migrated_out > 0 && retiring.live > 0;
        }
        std::thread::yield_now();
    };
    let shutdown = Instant::now();
    match end {
        End::ShortTimeout => rt.shutdown_timeout(Duration::from_millis(10)),
        End::Drop => drop(rt),
    }
    assert!(
        shutdown.elapsed() < Duration::from_secs(10),
        "{end:?} returned ({:?})",
        shutdown.elapsed()
    );
    for task in awaiting {
        let result = futures::executor::block_on(task);
        assert!(result.expect_err("cancelled at shutdown").is_cancelled());
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        AWAITING,
        "every future dropped"
    );
    // The retiring thread may still be finishing its slice: wait for it.
    assert!(
        wait_until(Duration::from_secs(30), || Arc::strong_count(&waker) == 1),
        "every held sleep's waker freed by the drain ({} left)",
        Arc::strong_count(&waker) - 1
    );
    let m = handle.metrics();
    let live: Vec<usize> = m.per_worker.iter().map(|w| w.timers.live).collect();
    assert_eq!(live, [0, 0], "every worker store drained");
    assert_eq!(m.external_timers.live, 0);
    // The sleeps outlive the runtime's shutdown; dropping them frees their entries
    // (following the tombstones of the ones that moved).
    drop(held);
    let m = handle.metrics();
    let slab: usize = m.per_worker.iter().map(|w| w.timers.slab_len).sum();
    assert_eq!(
        slab, 0,
        "dropping the sleeps freed every entry: {:#?}",
        m.per_worker
    );
    caught
}

/// Runs of [`shutdown_mid_migration`] allowed to miss the move: each run catches
/// it with high probability (the move takes milliseconds, the test looks
/// continuously), so missing this many times in a row means something is off.
const CATCH_ATTEMPTS: usize = 8;

fn shutdown_mid_migration_caught(end: End) {
    let caught = (0..CATCH_ATTEMPTS).any(|_| shutdown_mid_migration(end));
    assert!(caught, "no run caught the migration in progress");
}

#[test]
fn shutdown_timeout_mid_migration_drains_every_store() {
    shutdown_mid_migration_caught(End::ShortTimeout);
}

#[test]
fn drop_mid_migration_drains_every_store() {
    shutdown_mid_migration_caught(End::Drop);
}
