//! `timer_churn`: the per-operation cost of timers that are created and
//! cancelled without ever firing (the `timeout(30 s, request)` pattern).
//!
//! All variants run inside one spawned task and report time per operation:
//! - `drop/L`: `sleep(30 s)`, poll it once (so it registers), drop it; with L
//!   other live timers already registered by the same task (deadlines spread
//!   over 1..61 s, so the churned deadline lands in the middle of them).
//! - `reset_later/L`: one sleep, polled once, then `reset` to
//!   `now + 30 s + i ns` again and again (a deadline that only moves later).
//! - `reset_earlier/L`: `reset` to `now + 1 h - (i mod 10^6) ms` (each
//!   deadline earlier than the last, one millisecond apart so tokio's
//!   millisecond wheel must move the entry too).
//!
//! Both runtimes have a cooperative budget of 128 leaf polls per task poll, so
//! polls are done in batches of [`common::BATCH`] with a `yield_now` between
//! batches; only the batches are timed. After a yield the task may resume on
//! the other worker; since ticktock's heaps are per worker, the live timers are
//! then registered again on the new worker (outside the timed region) and the
//! move is counted and printed.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use common::BATCH;

/// The churned sleeps' duration: far enough never to fire during the bench.
const CHURN_SLEEP: Duration = Duration::from_secs(30);
/// Earliest deadline of the background live timers.
const LIVE_FROM: Duration = Duration::from_secs(1);
/// Span over which the background live timers' deadlines are spread.
const LIVE_SPAN: Duration = Duration::from_secs(60);
/// Background live timer counts benchmarked.
const LIVE: [usize; 2] = [0, 100_000];
/// Horizon of `reset_earlier`: it counts down from here in milliseconds.
const EARLIER_HORIZON: Duration = Duration::from_secs(3600);
/// `reset_earlier` wraps after this many milliseconds (1000 s, under the horizon).
const EARLIER_WRAP: u64 = 1_000_000;

/// Times the churning task resumed on another thread after a yield.
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
}

/// ticktock's `reset` takes a std `Instant`.
fn ticktock_instant(instant: Instant) -> Instant {
    instant
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

/// Runs `$iters` churn operations `$op` with `$live` background timers on
/// runtime `$rt`; returns the summed time of the timed batches.
macro_rules! churn {
    ($rt:ident, $runtime:expr, $instant:ident, $op:expr, $iters:expr, $live:expr) => {{
        let (op, iters, live): (Op, u64, usize) = ($op, $iters, $live);
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async move {
                let mut background = register_live!($rt, live);
                let mut home = thread::current().id();
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
                            if live > 0 {
                                drop(background);
                                background = register_live!($rt, live);
                            }
                            home = thread::current().id();
                        }
                    }
                }
                drop(background);
                total
            }))
            .unwrap()
    }};
}

fn timer_churn(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("timer_churn");
    common::configure(&mut group, 3, false);
    group.throughput(Throughput::Elements(1));
    for op in [Op::Drop, Op::ResetLater, Op::ResetEarlier] {
        for live in LIVE {
            let id = format!("{}/{live}", op.name());
            MIGRATIONS.store(0, Ordering::Relaxed);
            group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
                b.iter_custom(|iters| {
                    churn!(ticktock, &ticktock, ticktock_instant, op, iters, live)
                })
            });
            eprintln!(
                "  ({id}/ticktock: task moved worker {} times)",
                MIGRATIONS.swap(0, Ordering::Relaxed)
            );
            group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
                b.iter_custom(|iters| churn!(tokio, &tokio, tokio_instant, op, iters, live))
            });
            eprintln!(
                "  ({id}/tokio: task moved worker {} times)",
                MIGRATIONS.swap(0, Ordering::Relaxed)
            );
        }
    }
    group.finish();
}

criterion_group!(benches, timer_churn);
criterion_main!(benches);
