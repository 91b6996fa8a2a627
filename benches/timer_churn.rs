//! `timer_churn`: the per-operation cost of timers that are created and
//! cancelled without ever firing (the `timeout(30 s, request)` pattern).
//!
//! All variants run inside one spawned task and report time per operation:
//! - `drop/L`: `sleep(30 s)`, poll it once (so it registers), drop it; with L
//!   other live timers already registered by the same task on the same worker
//!   (deadlines spread over 20..40 s, so the churned deadline lands in the
//!   middle of them).
//! - `reset_later/L`: one sleep, polled once, then `reset` to
//!   `now + 30 s + i ns` again and again (a deadline that only moves later).
//! - `reset_earlier/L`: `reset` to `now + 1 h - (i mod 10^6) ms` (each
//!   deadline earlier than the last, one millisecond apart so tokio's
//!   millisecond wheel must move the entry too).
//!
//! `drop` and `reset_earlier` form the cost-growth series: L runs over
//! [`GROWTH_LIVE`] (0 to 1 000 000), and `cargo run -p xtask -- growth` draws
//! ns per operation against L for both runtimes (`docs/img/timer_growth.png`).
//! A flat line is the goal: the cost of one operation should not depend on how
//! many other timers are live. `reset_later` keeps the two points of
//! [`LATER_LIVE`].
//!
//! The background timers are registered outside the timed region. Both
//! runtimes keep timers per worker (ticktock's stores, tokio's timer shards),
//! and a task may run on either worker (a yield lets the idle worker steal it;
//! each criterion call spawns it anew), so the bench keeps one set of L
//! background timers *per worker*, registered by the churning task the first
//! time it runs there and parked between calls (see [`churn`]): whichever
//! worker the task is on, the store it touches holds L other timers (the
//! runtime as a whole holds L per worker). Registering them once per point,
//! before criterion starts, matters at L = 1 000 000: criterion's warm-up
//! counts the routine's wall time, and a million registrations inside it made
//! it settle on one operation per sample. A set older than
//! [`BACKGROUND_REFRESH`] is registered afresh (untimed) so none ever fires.
//! The number of times the task changed worker is printed.
//!
//! Both runtimes have a cooperative budget of 128 leaf polls per task poll, so
//! polls are done in batches of [`common::BATCH`] with a `yield_now` between
//! batches; only the batches are timed.

mod common;

use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use common::BATCH;

/// The churned sleeps' duration: far enough never to fire during the bench.
const CHURN_SLEEP: Duration = Duration::from_secs(30);
/// Earliest deadline of the background live timers, from their registration:
/// later than [`BACKGROUND_REFRESH`], so no background timer fires (a firing
/// timer would wake the churning task and add the store's firing work to the
/// measurement).
const LIVE_FROM: Duration = Duration::from_secs(20);
/// Span over which the background live timers' deadlines are spread: with
/// [`LIVE_FROM`], 20..40 s, so [`CHURN_SLEEP`] lands in the middle of them.
const LIVE_SPAN: Duration = Duration::from_secs(20);
/// A set of background timers older than this is dropped and registered
/// again before a criterion call (untimed): [`LIVE_FROM`] minus a margin for a
/// call that runs long on a loaded machine.
const BACKGROUND_REFRESH: Duration = Duration::from_secs(12);
/// Background live timer counts of the cost-growth series (`drop`,
/// `reset_earlier`): every decade from a thousand to the million live timers a
/// large service holds, and none.
const GROWTH_LIVE: [usize; 5] = [0, 1_000, 10_000, 100_000, 1_000_000];
/// Background live timer counts of `reset_later`: moving a deadline later is
/// O(1) in both runtimes' designs, so the two ends of the range suffice.
const LATER_LIVE: [usize; 2] = [0, 100_000];
/// Measurement time per point, in seconds (`common::configure`).
const MEASURE_SECS: u64 = 3;
/// Horizon of `reset_earlier`: it counts down from here in milliseconds.
const EARLIER_HORIZON: Duration = Duration::from_secs(3600);
/// `reset_earlier` wraps after this many milliseconds (1000 s, under the horizon).
const EARLIER_WRAP: u64 = 1_000_000;

/// Most calls [`preregister`] makes to reach every worker: each lands on a
/// worker the scheduler picks, so a few dozen reach both with near certainty,
/// and a call on an already-registered worker costs microseconds.
const PREREGISTER_CALLS: usize = 32;

/// Background timers parked between criterion calls: for each worker that has
/// a set, the worker, when the set was registered, and the sleeps (`S` is the
/// runtime's `Sleep`).
type Parked<S> = Vec<(ThreadId, Instant, Vec<Pin<Box<S>>>)>;

/// Times the churning task ran on another worker than before (after a yield,
/// or at the start of a criterion call).
static MIGRATIONS: AtomicU64 = AtomicU64::new(0);

/// The churn operations, as (name, selector) pairs for the macros.
#[derive(Clone, Copy)]
enum Op {
    Drop,
    ResetLater,
    ResetEarlier,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Drop => "drop",
            Op::ResetLater => "reset_later",
            Op::ResetEarlier => "reset_earlier",
        }
    }

    /// The background live timer counts this operation is benchmarked with.
    fn live(self) -> &'static [usize] {
        match self {
            Op::Drop | Op::ResetEarlier => &GROWTH_LIVE,
            Op::ResetLater => &LATER_LIVE,
        }
    }
}

/// ticktock's `reset` takes its own `Instant` (a wrapped std one, as tokio's).
fn ticktock_instant(instant: Instant) -> ticktock::time::Instant {
    ticktock::time::Instant::from_std(instant)
}

/// tokio's `reset` takes its own `Instant`.
fn tokio_instant(instant: Instant) -> tokio::time::Instant {
    tokio::time::Instant::from_std(instant)
}

/// Registers `$live` sleeps on the current worker: polled once each, in
/// batches, kept in the returned vector. Yields between batches.
macro_rules! register_live {
    ($rt:ident, $live:expr) => {{
        let live: usize = $live;
        let start = Instant::now() + LIVE_FROM;
        let step = LIVE_SPAN / (live.max(1) as u32);
        let mut sleeps = Vec::with_capacity(live);
        for i in 0..live {
            let mut sleep = Box::pin(::$rt::time::sleep_until((start + step * i as u32).into()));
            assert!(futures::poll!(sleep.as_mut()).is_pending());
            sleeps.push(sleep);
            if (i as u64 + 1) % BATCH == 0 {
                ::$rt::task::yield_now().await;
            }
        }
        sleeps
    }};
}

/// Takes the background timers of the current worker out of `$parked` (a
/// `Vec<(ThreadId, Instant, Vec<sleep>)>`: worker, registration time, timers),
/// registering `$live` of them first if this worker has none or its set is
/// older than [`BACKGROUND_REFRESH`]. Evaluates to `(Instant, Vec<sleep>)`.
macro_rules! take_background {
    ($rt:ident, $parked:expr, $live:expr) => {{
        let here = thread::current().id();
        let found = $parked.iter().position(|(on, _, _)| *on == here);
        match found.map(|index| $parked.swap_remove(index)) {
            Some((_, registered, sleeps)) if registered.elapsed() < BACKGROUND_REFRESH => {
                (registered, sleeps)
            }
            stale => {
                drop(stale);
                let registered = Instant::now();
                (registered, register_live!($rt, $live))
            }
        }
    }};
}

/// Runs `$iters` churn operations `$op` with `$live` background timers on
/// runtime `$rt`; returns the summed time of the timed batches.
///
/// `$parked` (a `&mut Vec<(ThreadId, Instant, Vec<sleep>)>` owned by the
/// bench) carries each worker's background timers from one call to the next;
/// with `$iters` = 0 the call only registers the current worker's set (see
/// [`preregister`]).
macro_rules! churn {
    ($rt:ident, $runtime:expr, $instant:ident, $op:expr, $iters:expr, $live:expr, $parked:expr) => {{
        let (op, iters, live): (Op, u64, usize) = ($op, $iters, $live);
        let runtime = $runtime;
        let mut parked = std::mem::take($parked);
        let (total, parked) = runtime
            .block_on(runtime.spawn(async move {
                let mut home = thread::current().id();
                // The set pushed last is the one the previous call ended with.
                if parked.last().is_some_and(|(on, _, _)| *on != home) {
                    MIGRATIONS.fetch_add(1, Ordering::Relaxed);
                }
                let (mut registered, mut background) = take_background!($rt, parked, live);
                let mut kept = pin!(::$rt::time::sleep(CHURN_SLEEP));
                assert!(futures::poll!(kept.as_mut()).is_pending());
                let later_base = Instant::now() + CHURN_SLEEP;
                let earlier_base = Instant::now() + EARLIER_HORIZON;
                let mut total = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let batch = BATCH.min(iters - done);
                    let start = Instant::now();
                    match op {
                        Op::Drop => {
                            for _ in 0..batch {
                                let mut sleep = pin!(::$rt::time::sleep(CHURN_SLEEP));
                                assert!(futures::poll!(sleep.as_mut()).is_pending());
                            }
                        }
                        Op::ResetLater => {
                            for i in done..done + batch {
                                let deadline = later_base + Duration::from_nanos(i);
                                kept.as_mut().reset($instant(deadline));
                            }
                        }
                        Op::ResetEarlier => {
                            for i in done..done + batch {
                                let back = Duration::from_millis(i % EARLIER_WRAP);
                                kept.as_mut().reset($instant(earlier_base - back));
                            }
                        }
                    }
                    total += start.elapsed();
                    done += batch;
                    if matches!(op, Op::Drop) {
                        ::$rt::task::yield_now().await;
                        if thread::current().id() != home {
                            MIGRATIONS.fetch_add(1, Ordering::Relaxed);
                            parked.push((home, registered, background));
                            home = thread::current().id();
                            (registered, background) = take_background!($rt, parked, live);
                        }
                    }
                }
                parked.push((home, registered, background));
                (total, parked)
            }))
            .unwrap();
        *$parked = parked;
        total
    }};
}

/// Registers the background timers of as many workers as it can reach before
/// criterion times anything: calls `churn!` with no operation until `$parked` holds a
/// set for each of [`common::WORKERS`] workers or [`PREREGISTER_CALLS`] calls
/// have been made (where the spawned task runs is up to the scheduler; a worker
/// missed here gets its set on the first call that runs there).
macro_rules! preregister {
    ($rt:ident, $runtime:expr, $instant:ident, $op:expr, $live:expr, $parked:expr) => {{
        for _ in 0..PREREGISTER_CALLS {
            if $parked.len() >= common::WORKERS {
                break;
            }
            churn!($rt, $runtime, $instant, $op, 0, $live, $parked);
        }
    }};
}

/// Drops the background timers `$parked` holds, on a worker of `$runtime`
/// (where their owner would drop them), once a point is measured.
macro_rules! release {
    ($runtime:expr, $parked:expr) => {{
        let runtime = $runtime;
        let parked = std::mem::take($parked);
        runtime
            .block_on(runtime.spawn(async move { drop(parked) }))
            .unwrap();
    }};
}

/// Benchmarks one point (`$op` with `$live` background timers) on runtime
/// `$rt` as `$id/<runtime>`: background timers registered before criterion
/// times anything, dropped after; prints how often the task changed worker.
macro_rules! point {
    ($group:expr, $rt:ident, $runtime:expr, $instant:ident, $id:expr, $op:expr, $live:expr) => {{
        let (id, op, live): (&str, Op, usize) = ($id, $op, $live);
        MIGRATIONS.store(0, Ordering::Relaxed);
        let mut parked: Parked<::$rt::time::Sleep> = Vec::new();
        $group.bench_function(BenchmarkId::new(id, stringify!($rt)), |b| {
            // Here rather than before: criterion calls this closure only for
            // points its filter selects (and more than once: it returns at
            // once when every worker has its set).
            preregister!($rt, $runtime, $instant, op, live, &mut parked);
            b.iter_custom(|iters| churn!($rt, $runtime, $instant, op, iters, live, &mut parked))
        });
        release!($runtime, &mut parked);
        eprintln!(
            "  ({id}/{}: task moved worker {} times)",
            stringify!($rt),
            MIGRATIONS.swap(0, Ordering::Relaxed)
        );
    }};
}

fn timer_churn(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("timer_churn");
    group.throughput(Throughput::Elements(1));
    for op in [Op::Drop, Op::ResetLater, Op::ResetEarlier] {
        for &live in op.live() {
            common::configure(&mut group, MEASURE_SECS, false);
            let id = format!("{}/{live}", op.name());
            point!(group, ticktock, &ticktock, ticktock_instant, &id, op, live);
            point!(group, tokio, &tokio, tokio_instant, &id, op, live);
        }
    }
    group.finish();
}

criterion_group!(benches, timer_churn);
criterion_main!(benches);
