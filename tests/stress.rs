//! Stress tests, each checked against what every operation must produce.
//!
//! - **Random mix.** Thousands of tasks, each following a random plan: sleep, reset
//!   (earlier or later, from the task or from a plain thread), cancel (a timeout drops
//!   the sleep it wraps, or a plain thread drops it), spawn children, or be aborted by
//!   a task on a worker or by a plain thread. Tasks are spawned from workers and from
//!   plain threads. The reference: every sleep that is not cancelled completes, never
//!   before its deadline; every timeout fires, never early; every aborted task reports
//!   `cancelled`; afterwards no task is alive and no timer entry is left (live, heap
//!   and slab all back to 0 in every store).
//! - **Many timers.** 100,000 sleeps registered at once (1,000,000 in the long form),
//!   all live together, then all fired, never early, and every entry freed.
//! - **Many tasks.** 100,000 tasks spawned from a worker and from a plain thread.
//! - **Virtual time.** Interval tick counts are exact under `time::pause`, with
//!   auto-advance and with `advance` jumps, for every missed-tick policy.
//!
//! Each test has a small form in the normal suite (a few seconds in debug on two
//! cores) and a long `#[ignore]` form:
//! `cargo test --release --test stress -- --ignored --nocapture`.

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{runtime, total_timers, wait_until};
use futures::channel::oneshot;
use futures::FutureExt;
use proptest::prelude::RngExt;
use proptest::test_runner::TestRng;
use ticktock::task::JoinHandle;
use ticktock::time::{sleep, timeout, Instant, Sleep};

/// How long the runtime gets to drop finished tasks and free their timers before a
/// leftover counts as a leak.
const SETTLE: Duration = Duration::from_secs(5);

/// How much longer than its timeout a cancelled sleep is, and how far away a sleep
/// shipped to a plain thread is: far more than a loaded debug build delays a task,
/// so the timeout always wins and the shipped sleep is still pending when it lands.
const CANCEL_MARGIN: Duration = Duration::from_secs(10);

/// A seeded, reproducible source of plans (the seed is in every failure message):
/// the tests' shared generator ([`common::seeded_rng`]).
struct Rng(TestRng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(common::seeded_rng(seed))
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0.random_range(0..bound.max(1))
    }

    fn millis(&mut self, max: u64) -> Duration {
        Duration::from_millis(self.below(max + 1))
    }
}

/// What one task of the random mix does, and so what it must produce.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Sleeps; completes, never early.
    Sleep(Duration),
    /// Registers a sleep, resets it to `then` from now; completes at the new deadline.
    Reset { first: Duration, then: Duration },
    /// A sleep of `long` inside a timeout of `short < long`: the timeout fires (never
    /// early) and the sleep is cancelled by being dropped.
    Cancel { long: Duration, short: Duration },
    /// Registers a sleep and ships it to a plain thread, which resets it to `then`
    /// from now and ships it back; completes at the new deadline.
    ForeignReset { first: Duration, then: Duration },
    /// Registers a sleep and ships it to a plain thread, which drops it.
    ForeignDrop(Duration),
    /// Spawns `children` sleeping tasks from its worker and joins them.
    Spawner { children: u64, each: Duration },
    /// Sleeps for an hour; aborted after `after` by a task on a worker (`by_worker`)
    /// or by a plain thread. Must report `cancelled`.
    Aborted { after: Duration, by_worker: bool },
}

impl Plan {
    fn random(rng: &mut Rng, max_ms: u64) -> Plan {
        match rng.below(7) {
            0 => Plan::Sleep(rng.millis(max_ms)),
            1 => Plan::Reset {
                first: rng.millis(max_ms),
                then: rng.millis(max_ms),
            },
            2 => {
                let short = rng.millis(max_ms / 2);
                // `long` is far beyond `short` plus any scheduling delay: a task polled
                // after both deadlines sees the sleep first (a timeout polls its
                // future first), which would not be a cancel.
                Plan::Cancel {
                    long: short + CANCEL_MARGIN + rng.millis(max_ms),
                    short,
                }
            }
            3 => Plan::ForeignReset {
                first: rng.millis(max_ms),
                then: rng.millis(max_ms),
            },
            4 => Plan::ForeignDrop(Duration::from_millis(max_ms) + rng.millis(max_ms)),
            5 => Plan::Spawner {
                children: 1 + rng.below(4),
                each: rng.millis(max_ms),
            },
            _ => Plan::Aborted {
                after: rng.millis(max_ms),
                by_worker: rng.below(2) == 0,
            },
        }
    }
}

/// A job for the plain "foreign" threads: a registered sleep to reset or drop.
enum Foreign {
    /// Reset to now + the duration, then send it back.
    Reset(Pin<Box<Sleep>>, Duration, oneshot::Sender<Pin<Box<Sleep>>>),
    /// Drop it (cancel from a thread that is not a worker), then report.
    Drop(Pin<Box<Sleep>>, oneshot::Sender<()>),
}

/// Awaits `sleep` and panics if it completed before its deadline.
async fn await_never_early(mut sleep: Pin<Box<Sleep>>, what: &str) {
    sleep.as_mut().await;
    let deadline = sleep.deadline();
    let now = Instant::now();
    assert!(now >= deadline, "{what} fired {:?} early", deadline - now);
}

/// Sleeps a task registers between two yields: well under the cooperative budget
/// (128 leaf polls per task poll).
const REGISTER_BATCH: usize = 64;

/// Registers `sleep` with the runtime (polls it once) without waiting for it. The
/// caller's task must have cooperative budget left.
fn register(sleep: &mut Pin<Box<Sleep>>) {
    assert!(sleep.as_mut().now_or_never().is_none(), "sleep already due");
}

/// Runs one plan's task body. Panics (a `JoinError` the driver reports) on any
/// violation.
async fn run_plan(plan: Plan, foreign: mpsc::Sender<Foreign>) {
    match plan {
        Plan::Sleep(d) => await_never_early(Box::pin(sleep(d)), "sleep").await,
        Plan::Reset { first, then } => {
            let mut s = Box::pin(sleep(first));
            // Registers it, or completes it if the task ran late: a reset re-arms both.
            let _ = s.as_mut().now_or_never();
            s.as_mut().reset(Instant::now() + then);
            await_never_early(s, "reset sleep").await;
        }
        Plan::Cancel { long, short } => {
            let start = Instant::now();
            let result = timeout(short, sleep(long)).await;
            let elapsed = start.elapsed();
            assert!(result.is_err(), "a {long:?} sleep beat a {short:?} timeout");
            assert!(
                elapsed >= short,
                "timeout fired after {elapsed:?} < {short:?}"
            );
        }
        Plan::ForeignReset { first, then } => {
            let mut s = Box::pin(sleep(first + CANCEL_MARGIN));
            register(&mut s);
            let (tx, rx) = oneshot::channel();
            foreign.send(Foreign::Reset(s, then, tx)).unwrap();
            let s = rx.await.expect("foreign thread gone");
            await_never_early(s, "sleep reset by a plain thread").await;
        }
        Plan::ForeignDrop(d) => {
            let mut s = Box::pin(sleep(d + CANCEL_MARGIN));
            register(&mut s);
            let (tx, rx) = oneshot::channel();
            foreign.send(Foreign::Drop(s, tx)).unwrap();
            rx.await.expect("foreign thread gone");
        }
        Plan::Spawner { children, each } => {
            let kids: Vec<_> = (0..children)
                .map(|_| ticktock::spawn(await_never_early(Box::pin(sleep(each)), "child sleep")))
                .collect();
            for kid in kids {
                kid.await.unwrap();
            }
        }
        Plan::Aborted { .. } => {
            sleep(Duration::from_secs(3600)).await;
            panic!("an aborted task's hour-long sleep completed");
        }
    }
}

/// Serves [`Foreign`] jobs until every sender is gone.
fn foreign_thread(jobs: Arc<std::sync::Mutex<mpsc::Receiver<Foreign>>>) {
    loop {
        let job = jobs.lock().unwrap().recv();
        match job {
            Ok(Foreign::Reset(mut s, then, back)) => {
                s.as_mut().reset(Instant::now() + then);
                let _ = back.send(s);
            }
            Ok(Foreign::Drop(s, done)) => {
                drop(s);
                let _ = done.send(());
            }
            Err(_) => return,
        }
    }
}

/// Figures from one random-mix run.
struct MixReport {
    tasks: usize,
    aborted: usize,
    elapsed: Duration,
}

impl std::fmt::Display for MixReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tasks ({} aborted) in {:?}",
            self.tasks, self.aborted, self.elapsed
        )
    }
}

/// The random mix (see the module docs): `tasks` plans from `seed`, sleeps up to
/// `max_ms`, a quarter of the tasks spawned from `outside` plain threads, the rest
/// from a task on a worker.
fn random_mix(workers: usize, seed: u64, tasks: usize, max_ms: u64, outside: usize) -> MixReport {
    let rt = runtime(workers);
    let start = Instant::now();
    let mut rng = Rng::new(seed);
    let plans: Vec<Plan> = (0..tasks).map(|_| Plan::random(&mut rng, max_ms)).collect();
    let aborted = plans
        .iter()
        .filter(|p| matches!(p, Plan::Aborted { .. }))
        .count();

    let (foreign_tx, foreign_rx) = mpsc::channel();
    let foreign_rx = Arc::new(std::sync::Mutex::new(foreign_rx));
    let foreign_threads: Vec<_> = (0..2)
        .map(|_| {
            let rx = foreign_rx.clone();
            std::thread::spawn(move || foreign_thread(rx))
        })
        .collect();

    let outside_share = tasks / 4;
    let (inside_plans, outside_plans) = plans.split_at(tasks - outside_share);
    let chunk = outside_plans.len().div_ceil(outside.max(1)).max(1);

    // Plain threads spawn their share, then abort their victims themselves.
    let spawners: Vec<_> = outside_plans
        .chunks(chunk)
        .enumerate()
        .map(|(c, plans)| {
            let handle = rt.handle().clone();
            let foreign = foreign_tx.clone();
            let plans = plans.to_vec();
            let base = inside_plans.len() + c * chunk;
            std::thread::spawn(move || {
                let launched: Vec<_> = plans
                    .into_iter()
                    .enumerate()
                    .map(|(k, plan)| launch(&handle, base + k, plan, &foreign))
                    .collect();
                abort_from_this_thread(&launched);
                launched
            })
        })
        .collect();

    // A task on a worker spawns the rest (and their worker-side aborters).
    let inside = {
        let handle = rt.handle().clone();
        let foreign = foreign_tx.clone();
        let plans = inside_plans.to_vec();
        rt.spawn(async move {
            let mut launched = Vec::new();
            for (i, plan) in plans.into_iter().enumerate() {
                launched.push(launch(&handle, i, plan, &foreign));
                if i % 64 == 0 {
                    ticktock::task::yield_now().await;
                }
            }
            launched
        })
    };
    drop(foreign_tx);

    let mut launched = rt.block_on(inside).unwrap();
    // Plans spawned from the worker but meant to be aborted by a plain thread.
    abort_from_this_thread(&launched);
    for spawner in spawners {
        launched.extend(spawner.join().unwrap());
    }

    rt.block_on(async {
        for Launched { index, plan, join } in launched {
            let result = join.await;
            match plan {
                Plan::Aborted {
                    by_worker: false, ..
                } => match result {
                    Err(err) if err.is_cancelled() => {}
                    other => panic!(
                        "seed {seed}: task {index} ({plan:?}) aborted by a plain thread \
                         gave {other:?}"
                    ),
                },
                _ => {
                    if let Err(err) = result {
                        panic!("seed {seed}: task {index} ({plan:?}) failed: {err}");
                    }
                }
            }
        }
    });
    for thread in foreign_threads {
        thread.join().unwrap();
    }
    assert_quiescent(&rt, &format!("seed {seed}"));
    MixReport {
        tasks,
        aborted,
        elapsed: start.elapsed(),
    }
}

/// A spawned plan. For `Aborted { by_worker: true }`, `join` is the aborter's handle
/// (it checks the victim's fate itself); otherwise it is the plan's own task.
struct Launched {
    index: usize,
    plan: Plan,
    join: JoinHandle<()>,
}

/// Spawns plan `index` on `handle`, with its aborter if a worker is to abort it.
fn launch(
    handle: &ticktock::Handle,
    index: usize,
    plan: Plan,
    foreign: &mpsc::Sender<Foreign>,
) -> Launched {
    let task = handle.spawn(run_plan(plan, foreign.clone()));
    let join = match plan {
        Plan::Aborted {
            after,
            by_worker: true,
        } => handle.spawn(async move {
            sleep(after).await;
            task.abort();
            let err = task.await.expect_err("an aborted task completed");
            assert!(err.is_cancelled(), "aborted task reported {err}");
        }),
        _ => task,
    };
    Launched { index, plan, join }
}

/// Aborts, from the calling plain thread, every plan of `launched` that a plain
/// thread is to abort, each `after` its own delay (measured from now).
fn abort_from_this_thread(launched: &[Launched]) {
    let start = Instant::now();
    let mut victims: Vec<(Duration, &JoinHandle<()>)> = launched
        .iter()
        .filter_map(|l| match l.plan {
            Plan::Aborted {
                after,
                by_worker: false,
            } => Some((after, &l.join)),
            _ => None,
        })
        .collect();
    victims.sort_by_key(|(after, _)| *after);
    for (after, victim) in victims {
        std::thread::sleep(after.saturating_sub(start.elapsed()));
        victim.abort();
    }
}

/// Waits until no task is alive and no timer entry is left in any store; panics with
/// the metrics otherwise.
fn assert_quiescent(rt: &ticktock::Runtime, context: &str) {
    let settled = wait_until(SETTLE, || {
        let m = rt.metrics();
        m.alive_tasks == 0
            && total_timers(&m, |t| t.live) == 0
            && total_timers(&m, |t| t.heap_len) == 0
            && total_timers(&m, |t| t.slab_len) == 0
    });
    let m = rt.metrics();
    assert!(
        settled,
        "{context}: not quiescent: alive_tasks {}, live {}, heap_len {}, slab_len {}",
        m.alive_tasks,
        total_timers(&m, |t| t.live),
        total_timers(&m, |t| t.heap_len),
        total_timers(&m, |t| t.slab_len),
    );
}

#[test]
fn random_mix_of_spawn_sleep_reset_cancel_abort() {
    let report = random_mix(2, 1, 10_000, 30, 2);
    println!("random mix: {report}");
}

#[test]
#[ignore = "long: run with --release -- --ignored"]
fn random_mix_long() {
    for seed in 1..=40 {
        let workers = 1 + (seed as usize % 4);
        let report = random_mix(workers, seed, 100_000, 200, 4);
        println!("seed {seed}, {workers} workers: {report}");
    }
}

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
