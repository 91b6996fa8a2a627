//! The timer hot paths of issue 20 as whole-process workloads, one per run, on
//! ticktock or on tokio (2 workers each), so a profiler (`perf stat`, `perf record`,
//! `valgrind --tool=callgrind`) sees only that workload:
//!
//! ```text
//! cargo build --profile bench --example timer_hot_paths
//! target/release/examples/timer_hot_paths WORKLOAD RUNTIME [N]
//! ```
//!
//! - `churn`: `sleep(30 s)`, boxed, polled once, dropped; `N` times on one task.
//! - `churn_live`: the same with 100k other sleeps registered on the same worker.
//! - `reset`: one registered sleep reset 1 µs earlier `N` times, 100k others live.
//! - `cross`: one task arms and polls `N` boxed `sleep(30 s)`s in batches of 1000
//!   and sends each batch to a plain thread that drops it (a remote cancel each).
//!
//! Prints the workload's wall time (the runtime's start and shutdown excluded).
//! `N` defaults to 1,000,000.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

/// How long every armed sleep waits: far enough never to fire.
const FAR: Duration = Duration::from_secs(30);
/// Sleeps kept registered by the `*_live` workloads.
const LIVE: usize = 100_000;
/// Sleeps per batch in `cross`.
const BATCH: usize = 1000;
/// Batches in flight in `cross`.
const IN_FLIGHT: usize = 16;

/// Polls `future` once with the task's waker; returns whether it was pending.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> bool {
    std::future::poll_fn(|cx: &mut Context<'_>| {
        Poll::Ready(Pin::new(&mut *future).poll(cx).is_pending())
    })
    .await
}

macro_rules! workload {
    ($rt:ident, $runtime:expr, $which:expr, $n:expr) => {{
        let (which, n): (&str, usize) = ($which, $n);
        let runtime = $runtime;
        let task = runtime.spawn(async move {
            let mut live = Vec::new();
            if which.ends_with("_live") || which == "reset" {
                for i in 0..LIVE {
                    let mut sleep =
                        Box::pin(::$rt::time::sleep(FAR + Duration::from_micros(i as u64)));
                    assert!(poll_once(&mut sleep).await);
                    live.push(sleep);
                    if i % 64 == 0 {
                        ::$rt::task::yield_now().await;
                    }
                }
            }
            let start = Instant::now();
            match which {
                "churn" | "churn_live" => {
                    for i in 0..n {
                        let mut sleep = Box::pin(::$rt::time::sleep(FAR));
                        assert!(poll_once(&mut sleep).await);
                        drop(sleep);
                        if i % 64 == 63 {
                            ::$rt::task::yield_now().await;
                        }
                    }
                }
                "reset" => {
                    let base = ::$rt::time::Instant::now() + 2 * FAR;
                    let mut sleep = Box::pin(::$rt::time::sleep_until(base));
                    assert!(poll_once(&mut sleep).await);
                    for i in 0..n {
                        sleep
                            .as_mut()
                            .reset(base - Duration::from_micros(i as u64 + 1));
                    }
                    assert!(poll_once(&mut sleep).await);
                }
                "cross" => {
                    let (mut tx, mut rx) = mpsc::channel::<Vec<_>>(IN_FLIGHT);
                    let dropper = std::thread::spawn(move || {
                        futures::executor::block_on(async {
                            while let Some(batch) = rx.next().await {
                                drop(batch);
                            }
                        })
                    });
                    let mut done = 0;
                    while done < n {
                        let mut batch = Vec::with_capacity(BATCH);
                        for _ in 0..BATCH.min(n - done) {
                            let mut sleep = Box::pin(::$rt::time::sleep(FAR));
                            assert!(poll_once(&mut sleep).await);
                            batch.push(sleep);
                            if batch.len() % 64 == 0 {
                                ::$rt::task::yield_now().await;
                            }
                        }
                        done += batch.len();
                        tx.send(batch).await.unwrap();
                    }
                    drop(tx);
                    dropper.join().unwrap();
                }
                other => panic!("unknown workload {other:?}: churn, churn_live, reset or cross"),
            }
            let elapsed = start.elapsed();
            drop(live);
            elapsed
        });
        runtime.block_on(task).unwrap()
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: timer_hot_paths churn|churn_live|reset|cross ticktock|tokio [N]";
    let which = args.get(1).expect(usage).clone();
    let runtime = args.get(2).expect(usage).clone();
    let n = args.get(3).map_or(1_000_000, |n| n.parse().expect(usage));
    let which: &'static str = Box::leak(which.into_boxed_str());
    let elapsed = match runtime.as_str() {
        "ticktock" => {
            let rt = ticktock::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            workload!(ticktock, &rt, which, n)
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .unwrap();
            workload!(tokio, &rt, which, n)
        }
        other => panic!("unknown runtime {other:?}; {usage}"),
    };
    println!(
        "{which} {runtime} {n} {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
}
