//! Instruction-count probe (run under callgrind or `perf stat`): ping-pong round trips over
//! `futures::channel::mpsc`, on ticktock or tokio, current-thread or 2 workers.
//!
//! `ping_pong_cost RUNTIME FLAVOR [ROUNDS [ITERATIONS]]`: each iteration is one
//! `block_on(spawn(..))` of 100 pairs x ROUNDS round trips (defaults: 1000 rounds, 1
//! iteration). `ping_pong_cost ticktock multi 100 200` is the criterion bench
//! `ping_pong/pairs/100x100` as a whole process:
//! `valgrind --tool=callgrind target/release/examples/ping_pong_cost ticktock current`.
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

const PAIRS: usize = 100;

async fn pair_tasks<S, J>(spawn: S, rounds: usize) -> Vec<J>
where
    S: Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> J,
{
    let mut joins = Vec::new();
    for _ in 0..PAIRS {
        let (mut ping_tx, mut ping_rx) = mpsc::channel::<usize>(1);
        let (mut pong_tx, mut pong_rx) = mpsc::channel::<usize>(1);
        joins.push(spawn(Box::pin(async move {
            while let Some(n) = ping_rx.next().await {
                if pong_tx.send(n).await.is_err() {
                    break;
                }
            }
        })));
        joins.push(spawn(Box::pin(async move {
            for i in 0..rounds {
                ping_tx.send(i).await.unwrap();
                assert_eq!(pong_rx.next().await, Some(i));
            }
        })));
    }
    joins
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rt_name = args.next().unwrap_or_default();
    let flavor = args.next().unwrap_or_default();
    let rounds: usize = args.next().map_or(1000, |a| a.parse().expect("ROUNDS"));
    let iterations: usize = args.next().map_or(1, |a| a.parse().expect("ITERATIONS"));
    match rt_name.as_str() {
        "ticktock" => {
            let rt = if flavor == "multi" {
                ticktock::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .unwrap()
            } else {
                ticktock::Builder::new_current_thread().build().unwrap()
            };
            for _ in 0..iterations {
                rt.block_on(rt.spawn(async move {
                    for j in pair_tasks(ticktock::spawn, rounds).await {
                        j.await.unwrap();
                    }
                }))
                .unwrap();
            }
        }
        "tokio" => {
            let rt = if flavor == "multi" {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .unwrap()
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
            };
            for _ in 0..iterations {
                rt.block_on(rt.spawn(async move {
                    for j in pair_tasks(tokio::spawn, rounds).await {
                        j.await.unwrap();
                    }
                }))
                .unwrap();
            }
        }
        other => panic!("unknown runtime {other:?}"),
    }
}
