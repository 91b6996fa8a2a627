//! `timer_cross_thread`: sleeps registered on one worker and cancelled (dropped)
//! somewhere else, which in ticktock means taking another worker's timer-store
//! lock, and in tokio its timer wheel shard's lock.
//!
//! One task creates `Box::pin(sleep(30 s))`, polls it once (it registers on
//! that worker), and collects it into a batch of [`common::BATCH`]; each full
//! batch is sent over a `futures::channel::mpsc` channel (capacity
//! [`CHANNEL_CAPACITY`] batches) and the task yields (to renew its coop budget).
//! The receiver drops the batch:
//! - `same_task`: no channel; the creating task drops the batch itself (baseline).
//! - `to_task`: a second task on the same runtime receives and drops.
//! - `to_thread`: a plain OS thread (outside the runtime) receives and drops.
//!
//! Time per sleep, from the first creation until the receiver dropped the last.
//! The receiving side counts the batches it dropped on a different thread than
//! the one that created them; the fraction is printed.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

use common::BATCH;

/// Duration of the sleeps: far enough never to fire.
const SLEEP: Duration = Duration::from_secs(30);
/// Batches in flight between creator and dropper.
const CHANNEL_CAPACITY: usize = 16;

/// Batches dropped on another thread than their creator's.
static CROSSED: AtomicU64 = AtomicU64::new(0);

/// Where the batches go.
#[derive(Clone, Copy)]
enum Dropper {
    SameTask,
    Task,
    Thread,
}

impl Dropper {
    fn name(self) -> &'static str {
        match self {
            Dropper::SameTask => "same_task",
            Dropper::Task => "to_task",
            Dropper::Thread => "to_thread",
        }
    }
}

/// Drops a received batch, counting whether it crossed threads.
fn drop_batch<T>((creator, batch): (ThreadId, Vec<T>)) {
    if creator != thread::current().id() {
        CROSSED.fetch_add(1, Ordering::Relaxed);
    }
    drop(batch);
}

/// Creates, registers and hands off `$iters` sleeps on runtime `$rt`.
macro_rules! cross {
    ($rt:ident, $runtime:expr, $dropper:expr, $iters:expr) => {{
        let (dropper, iters): (Dropper, u64) = ($dropper, $iters);
        let runtime = $runtime;
        let (mut tx, mut rx) = mpsc::channel::<(ThreadId, Vec<_>)>(CHANNEL_CAPACITY);
        let start = Instant::now();
        let (task, thread) = match dropper {
            Dropper::SameTask => (None, None),
            Dropper::Task => (
                Some(runtime.spawn(async move {
                    while let Some(batch) = rx.next().await {
                        drop_batch(batch);
                    }
                })),
                None,
            ),
            // The thread ends when the sender (moved into the creator task) is
            // gone and the channel is drained.
            Dropper::Thread => (
                None,
                Some(thread::spawn(move || {
                    futures::executor::block_on(async {
                        while let Some(batch) = rx.next().await {
                            drop_batch(batch);
                        }
                    })
                })),
            ),
        };
        let creator = runtime.spawn(async move {
            let mut done = 0u64;
            while done < iters {
                let n = BATCH.min(iters - done);
                let mut batch = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let mut sleep = Box::pin(::$rt::time::sleep(SLEEP));
                    assert!(futures::poll!(sleep.as_mut()).is_pending());
                    batch.push(sleep);
                }
                done += n;
                let batch = (thread::current().id(), batch);
                match dropper {
                    Dropper::SameTask => drop_batch(batch),
                    Dropper::Task | Dropper::Thread => tx.send(batch).await.unwrap(),
                }
                ::$rt::task::yield_now().await;
            }
        });
        runtime.block_on(creator).unwrap();
        if let Some(task) = task {
            runtime.block_on(task).unwrap();
        }
        if let Some(thread) = thread {
            thread.join().unwrap();
        }
        start.elapsed()
    }};
}

fn timer_cross_thread(c: &mut Criterion) {
    let ticktock = common::ticktock_rt();
    let tokio = common::tokio_rt();
    let mut group = c.benchmark_group("timer_cross_thread");
    common::configure(&mut group, 3, false);
    group.throughput(Throughput::Elements(1));
    for dropper in [Dropper::SameTask, Dropper::Task, Dropper::Thread] {
        let id = dropper.name();
        let mut total = 0;
        group.bench_function(BenchmarkId::new(id, "ticktock"), |b| {
            b.iter_custom(|iters| {
                let elapsed = cross!(ticktock, &ticktock, dropper, iters);
                total += iters.div_ceil(BATCH);
                elapsed
            })
        });
        report(id, "ticktock", total);
        let mut total = 0;
        group.bench_function(BenchmarkId::new(id, "tokio"), |b| {
            b.iter_custom(|iters| {
                let elapsed = cross!(tokio, &tokio, dropper, iters);
                total += iters.div_ceil(BATCH);
                elapsed
            })
        });
        report(id, "tokio", total);
    }
    group.finish();
}

/// Prints the share of batches dropped on a thread other than their creator's.
fn report(id: &str, runtime: &str, batches: u64) {
    let crossed = CROSSED.swap(0, Ordering::Relaxed);
    eprintln!(
        "  ({id}/{runtime}: {crossed} of {batches} batches dropped on another thread, {:.0}%)",
        100.0 * crossed as f64 / batches.max(1) as f64
    );
}

criterion_group!(benches, timer_cross_thread);
criterion_main!(benches);
