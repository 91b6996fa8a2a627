//! `spawn`: the cost of creating, scheduling, running and joining empty tasks.
//!
//! - `inside`: one task spawns [`TASKS`] empty tasks and awaits every
//!   `JoinHandle` (the workers' local queues and the LIFO cell at work).
//! - `outside`: the bench thread calls `Runtime::spawn` [`TASKS`] times (the
//!   global injection queue), then `block_on`s the handles.
//!
//! Both runtimes: multi-thread, 2 workers, built once outside the measurement.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Tasks spawned per iteration.
const TASKS: usize = 10_000;

/// Spawns [`TASKS`] empty tasks from a task on runtime `$rt` and joins them.
macro_rules! spawn_inside {
    ($rt:ident, $runtime:expr) => {{
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async {
                let handles: Vec<_> = (0..TASKS).map(|_| ::$rt::spawn(async {})).collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }))
            .unwrap()
    }};
}

/// Spawns [`TASKS`] empty tasks from the bench thread and joins them.
macro_rules! spawn_outside {
    ($runtime:expr) => {{
        let runtime = $runtime;
        let handles: Vec<_> = (0..TASKS).map(|_| runtime.spawn(async {})).collect();
        runtime.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        })
    }};
}

fn spawn(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("spawn");
    common::configure(&mut group, 3, false);
    group.throughput(Throughput::Elements(TASKS as u64));

    group.bench_function(BenchmarkId::new("inside", "ticktock"), |b| {
        b.iter(|| spawn_inside!(ticktock, &ticktock))
    });
    group.bench_function(BenchmarkId::new("inside", "tokio"), |b| {
        b.iter(|| spawn_inside!(tokio, &tokio))
    });
    group.bench_function(BenchmarkId::new("outside", "ticktock"), |b| {
        b.iter(|| spawn_outside!(&ticktock))
    });
    group.bench_function(BenchmarkId::new("outside", "tokio"), |b| {
        b.iter(|| spawn_outside!(&tokio))
    });
    group.finish();
}

criterion_group!(benches, spawn);
criterion_main!(benches);
