//! `yield`: scheduler round trips. [`TASKS`] tasks each call `yield_now`
//! [`YIELDS`] times; one iteration ends when all have finished. Measures the
//! wake-by-ref / re-queue / re-poll path and, with 2 workers, work stealing.
//!
//! Both runtimes: multi-thread, 2 workers, built once outside the measurement.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Concurrent yielding tasks.
const TASKS: usize = 1000;
/// Yields per task.
const YIELDS: usize = 1000;

/// Runs [`TASKS`] x [`YIELDS`] yields on runtime `$rt`.
macro_rules! yield_many {
    ($rt:ident, $runtime:expr) => {{
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|_| {
                        ::$rt::spawn(async {
                            for _ in 0..YIELDS {
                                ::$rt::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }))
            .unwrap()
    }};
}

fn yields(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("yield");
    common::configure(&mut group, 5, true);
    group.throughput(Throughput::Elements((TASKS * YIELDS) as u64));
    let id = format!("{TASKS}x{YIELDS}");
    group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
        b.iter(|| yield_many!(ticktock, &ticktock))
    });
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| yield_many!(tokio, &tokio))
    });
    group.finish();
}

criterion_group!(benches, yields);
criterion_main!(benches);
