//! `ping_pong`: wake-ups between tasks.
//!
//! - `pairs/PxR`: P task pairs; in each pair the ping task sends a number over a
//!   `futures::channel::mpsc` channel (capacity 1), the pong task answers on a
//!   second one, R round trips per pair. The same channel crate on both
//!   runtimes, so only the scheduler's wake/poll path differs.
//! - `chain/D`: a chain of D tasks, each spawning the next and awaiting its
//!   `JoinHandle` (spawn + join latency, one hop at a time).
//!
//! Both runtimes: multi-thread, 2 workers, built once outside the measurement.

mod common;

use std::future::Future;
use std::pin::Pin;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

/// (pairs, round trips per pair) of the `pairs` variants.
const PAIRS: [(usize, u64); 2] = [(1, 10_000), (100, 100)];
/// Tasks in the spawn chain.
const CHAIN_DEPTH: usize = 1000;

/// Runs `$pairs` ping-pong pairs of `$rounds` round trips on runtime `$rt`.
macro_rules! ping_pong {
    ($rt:ident, $runtime:expr, $pairs:expr, $rounds:expr) => {{
        let (pairs, rounds): (usize, u64) = ($pairs, $rounds);
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async move {
                let mut handles = Vec::with_capacity(2 * pairs);
                for _ in 0..pairs {
                    let (mut to_pong, mut pong_rx) = mpsc::channel::<u64>(1);
                    let (mut to_ping, mut ping_rx) = mpsc::channel::<u64>(1);
                    handles.push(::$rt::spawn(async move {
                        while let Some(value) = pong_rx.next().await {
                            if to_ping.send(value + 1).await.is_err() {
                                break;
                            }
                        }
                    }));
                    handles.push(::$rt::spawn(async move {
                        for i in 0..rounds {
                            to_pong.send(i).await.unwrap();
                            assert_eq!(ping_rx.next().await, Some(i + 1));
                        }
                    }));
                }
                for handle in handles {
                    handle.await.unwrap();
                }
            }))
            .unwrap()
    }};
}

/// Defines `$name(depth)`: a task that spawns `$name(depth - 1)` on `$rt` and
/// awaits it; returns the depth reached.
macro_rules! chain_fn {
    ($name:ident, $rt:ident) => {
        fn $name(depth: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
            Box::pin(async move {
                if depth == 0 {
                    0
                } else {
                    ::$rt::spawn($name(depth - 1)).await.unwrap() + 1
                }
            })
        }
    };
}

chain_fn!(chain_ticktock, ticktock);
chain_fn!(chain_tokio, tokio);

fn ping_pong(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("ping_pong");
    common::configure(&mut group, 3, true);
    for (pairs, rounds) in PAIRS {
        group.throughput(Throughput::Elements(pairs as u64 * rounds));
        let id = format!("pairs/{pairs}x{rounds}");
        group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
            b.iter(|| ping_pong!(ticktock, &ticktock, pairs, rounds))
        });
        group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
            b.iter(|| ping_pong!(tokio, &tokio, pairs, rounds))
        });
    }
    group.throughput(Throughput::Elements(CHAIN_DEPTH as u64));
    let id = format!("chain/{CHAIN_DEPTH}");
    group.bench_function(BenchmarkId::new(&id, "ticktock"), |b| {
        b.iter(|| {
            assert_eq!(
                ticktock
                    .block_on(ticktock.spawn(chain_ticktock(CHAIN_DEPTH)))
                    .unwrap(),
                CHAIN_DEPTH
            )
        })
    });
    group.bench_function(BenchmarkId::new(&id, "tokio"), |b| {
        b.iter(|| {
            assert_eq!(
                tokio
                    .block_on(tokio.spawn(chain_tokio(CHAIN_DEPTH)))
                    .unwrap(),
                CHAIN_DEPTH
            )
        })
    });
    group.finish();
}

criterion_group!(benches, ping_pong);
criterion_main!(benches);
