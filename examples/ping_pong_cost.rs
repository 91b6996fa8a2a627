//! Instruction-count probe (run under callgrind): 100 pairs x 1000 ping-pong round trips
//! over `futures::channel::mpsc`, on ticktock or tokio, current-thread or 2 workers:
//! `valgrind --tool=callgrind target/release/examples/ping_pong_cost ticktock current`.
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

const PAIRS: usize = 100;
const ROUNDS: usize = 1000;

async fn pair_tasks<S, J>(spawn: S) -> Vec<J>
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
            for i in 0..ROUNDS {
                ping_tx.send(i).await.unwrap();
                assert_eq!(pong_rx.next().await, Some(i));
            }
        })));
    }
    joins
}

fn main() {
    let rt_name = std::env::args().nth(1).unwrap_or_default();
    let flavor = std::env::args().nth(2).unwrap_or_default();
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
            rt.block_on(async {
                for j in pair_tasks(ticktock::spawn).await {
                    j.await.unwrap();
                }
            });
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
            rt.block_on(async {
                for j in pair_tasks(tokio::spawn).await {
                    j.await.unwrap();
                }
            });
        }
        other => panic!("unknown runtime {other:?}"),
    }
}
