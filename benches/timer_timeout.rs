//! `timer_timeout`: `timeout(30 s, yield_now())` per request, [`TASKS`] tasks
//! x [`REQUESTS`] requests over all workers, with no other timers and with
//! 100 000 idle-connection timers live (issue 9's "timeout" rows). One
//! criterion iteration is the whole workload; the workload itself is
//! `common::timeout` (`timeout_workload!`), shared with `scaling.rs`.
//!
//! Ids: `requests/<idle timers>/<runtime>`. The idle timers are registered
//! before the timed part and dropped after it, by tasks spread over the
//! workers, on every iteration (so each iteration starts from the same state).
//!
//! Both runtimes: multi-thread, 2 workers, built once outside the measurement.

#[macro_use]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Concurrent request tasks: as `yield.rs`, enough to keep every worker's
/// queue busy and to let stealing spread them.
const TASKS: usize = 1000;
/// Requests per task, one after the other.
const REQUESTS: usize = 1000;
/// Idle-connection timers held during the timed part: none, and a busy
/// server's worth (issue 9).
const IDLE: [usize; 2] = [0, 100_000];
/// Measurement time per point, in seconds: ten samples of one iteration each
/// (~0.3-0.5 s on the 2-core VM) fit.
const MEASURE_SECS: u64 = 6;

fn timer_timeout(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("timer_timeout");
    common::configure(&mut group, MEASURE_SECS, true);
    group.throughput(Throughput::Elements((TASKS * REQUESTS) as u64));
    for idle in IDLE {
        let id = format!("requests/{idle}");
        group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timeout_workload!(ticktock, &ticktock, idle, TASKS, REQUESTS))
                    .sum::<Duration>()
            })
        });
        group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timeout_workload!(tokio, &tokio, idle, TASKS, REQUESTS))
                    .sum::<Duration>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, timer_timeout);
criterion_main!(benches);
