//! `timers_fire`: [`SLEEPS`] concurrent sleeps with deadlines spread evenly over
//! [`SPREAD`]; one iteration is the wall time until every one has fired and its
//! task has observed it. The ideal is [`SPREAD`] itself: the excess is the cost
//! of registering, firing and waking (plus each runtime's timer granularity:
//! tokio rounds deadlines up to whole milliseconds).
//!
//! - `tasks`: one task spawns one task per sleep and joins them all (spawning
//!   overlaps the first deadlines).
//! - `unordered`: one task drives all sleeps through a
//!   `futures::stream::FuturesUnordered`. On tokio this hits a known
//!   interaction: once the task's coop budget (128) is spent, tokio *defers*
//!   the self-wake of each further `Sleep` poll, so `FuturesUnordered` does not
//!   see the yield and re-polls all the remaining unregistered sleeps every
//!   round (about 100 000 x 100 000 / 128 polls). ticktock wakes at once, and
//!   `FuturesUnordered` yields after two such wakes. `unordered_unconstrained`
//!   (tokio only) runs the same code under `tokio::task::unconstrained` to show
//!   tokio's timer cost without that effect.
//!
//! Both runtimes: multi-thread, 2 workers, built once outside the measurement.

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::stream::FuturesUnordered;
use futures::StreamExt;

/// Concurrent sleeps per iteration.
const SLEEPS: u32 = 100_000;
/// Deadlines are spread evenly over this span after the iteration starts.
const SPREAD: Duration = Duration::from_millis(100);

/// The deadline of sleep `i` of an iteration started at `start`.
fn deadline(start: Instant, i: u32) -> Instant {
    start + SPREAD * (i + 1) / SLEEPS
}

/// One sleep per spawned task, on runtime `$rt`.
macro_rules! fire_tasks {
    ($rt:ident, $runtime:expr) => {{
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async {
                let start = Instant::now();
                let handles: Vec<_> = (0..SLEEPS)
                    .map(|i| ::$rt::spawn(::$rt::time::sleep_until(deadline(start, i).into())))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }))
            .unwrap()
    }};
}

/// All sleeps in one `FuturesUnordered`, on runtime `$rt`.
macro_rules! fire_unordered {
    ($rt:ident, $runtime:expr, $wrap:expr) => {{
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn($wrap(async {
                let start = Instant::now();
                let mut sleeps: FuturesUnordered<_> = (0..SLEEPS)
                    .map(|i| ::$rt::time::sleep_until(deadline(start, i).into()))
                    .collect();
                let mut fired = 0;
                while sleeps.next().await.is_some() {
                    fired += 1;
                }
                assert_eq!(fired, SLEEPS);
            })))
            .unwrap()
    }};
}

fn timers_fire(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("timers_fire");
    common::configure(&mut group, 2, true);
    group.throughput(Throughput::Elements(u64::from(SLEEPS)));
    group.bench_function(BenchmarkId::new("tasks", "ticktock"), |b| {
        b.iter(|| fire_tasks!(ticktock, &ticktock))
    });
    group.bench_function(BenchmarkId::new("tasks", "tokio"), |b| {
        b.iter(|| fire_tasks!(tokio, &tokio))
    });
    group.bench_function(BenchmarkId::new("unordered", "ticktock"), |b| {
        b.iter(|| fire_unordered!(ticktock, &ticktock, std::convert::identity))
    });
    group.bench_function(BenchmarkId::new("unordered", "tokio"), |b| {
        b.iter(|| fire_unordered!(tokio, &tokio, std::convert::identity))
    });
    group.bench_function(BenchmarkId::new("unordered_unconstrained", "tokio"), |b| {
        b.iter(|| fire_unordered!(tokio, &tokio, tokio::task::unconstrained))
    });
    group.finish();
}

criterion_group!(benches, timers_fire);
criterion_main!(benches);
