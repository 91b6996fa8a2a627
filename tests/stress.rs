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
//!
//! Volume (100,000 timers or tasks at once) and virtual-time interval counts are in
//! `tests/stress_volume.rs`; the helpers both use are `tests/common/stress.rs`.
//!
//! Each test has a small form in the normal suite (a few seconds in debug on two
//! cores) and a long `#[ignore]` form:
//! `cargo test --release --test stress -- --ignored --nocapture`.

mod common;

use std::pin::Pin;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::runtime;
use common::stress::{assert_quiescent, await_never_early, register, Rng};
use futures::channel::oneshot;
use futures::FutureExt;
use ticktock::task::JoinHandle;
use ticktock::time::{sleep, timeout, Instant, Sleep};

/// How much longer than its timeout a cancelled sleep is, and how far away a sleep
/// shipped to a plain thread is: far more than a loaded debug build delays a task,
/// so the timeout always wins and the shipped sleep is still pending when it lands.
const CANCEL_MARGIN: Duration = Duration::from_secs(10);

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
