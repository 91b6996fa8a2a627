//! `scaling`: the timeout workload of `timer_timeout.rs` (`common::timeout`)
//! on runtimes of 1, 2, 4, 8 and 16 worker threads ([`WORKER_COUNTS`]), both
//! runtimes, ids `timeout/<workers>/<runtime>`. One criterion iteration is
//! [`TASKS`] tasks x [`REQUESTS`] requests of `timeout(30 s, yield_now())`
//! from all workers, with no idle timers ([`IDLE`]).
//!
//! Meant for a machine with at least 16 cores (`cargo bench --bench
//! scaling`, see benches/README.md for what to record): on the 2-core VM the
//! points past 2 workers only measure oversubscription. Each runtime is built
//! for its point and dropped after it, so only one pool of threads exists at
//! a time.

#[macro_use]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Worker threads per point: powers of two up to a 16-core machine.
const WORKER_COUNTS: [usize; 5] = [1, 2, 4, 8, 16];
/// Concurrent request tasks: as `timer_timeout`, many more than 16 workers.
const TASKS: usize = 1000;
/// Requests per task: as `timer_timeout`, so `scaling/timeout/2` is its
/// `requests/0` point; one iteration takes ~0.3 s on 2 workers of the 2-core
/// VM (about twice that on 1 worker, and an eighth of it on 16 workers of 16
/// cores if the runtime scales): ten one-iteration samples fit in seconds.
const REQUESTS: usize = 1000;
/// Idle-connection timers held: none, so the series shows how the scheduler
/// and the per-worker timer stores scale alone (`timer_timeout` measures the
/// cost of 100 000 idle timers at 2 workers).
const IDLE: usize = 0;
/// Measurement time per point, in seconds: ten one-iteration samples at 1
/// worker fit.
const MEASURE_SECS: u64 = 6;

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    common::configure(&mut group, MEASURE_SECS, true);
    group.throughput(Throughput::Elements((TASKS * REQUESTS) as u64));
    for workers in WORKER_COUNTS {
        let id = format!("timeout/{workers}");
        let ticktock = common::ticktock_rt_with(workers);
        group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timeout_workload!(ticktock, &ticktock, IDLE, TASKS, REQUESTS))
                    .sum::<Duration>()
            })
        });
        drop(ticktock);
        let tokio = common::tokio_rt_with(workers);
        group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timeout_workload!(tokio, &tokio, IDLE, TASKS, REQUESTS))
                    .sum::<Duration>()
            })
        });
        drop(tokio);
    }
    group.finish();
}

criterion_group!(benches, scaling);
criterion_main!(benches);
