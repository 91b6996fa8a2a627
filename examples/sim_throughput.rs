//! How much real time a `ticktock::sim` simulation takes: 100 clients, each sending a
//! request every 100 ms of virtual time for 10 virtual minutes (6 000 each, 600 000 in
//! all) to one server task over tokio's mpsc; the server answers each after 5 ms from a
//! task of its own; every request runs under a 1 s timeout. 4 logical workers.
//!
//! `cargo run --release --example sim_throughput [SEEDS]` prints, per seed, the requests
//! answered, the task polls, the real time, the polls per real second and the trace
//! digest (equal for equal seeds). `ROUNDS=n` changes the requests per client (for a run
//! under callgrind). Figures: docs/benchmarks.md.
use std::time::Duration;

use ticktock::sim;
use ticktock::time::{self, timeout};
use tokio::sync::{mpsc, oneshot};

/// Clients, each with its own interval.
const CLIENTS: usize = 100;
/// Requests per client by default: 10 virtual minutes at one per 100 ms.
const ROUNDS: u64 = 6_000;

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .map_or(3, |s| s.parse().expect("SEEDS"));
    let rounds: u64 = std::env::var("ROUNDS").map_or(ROUNDS, |s| s.parse().expect("ROUNDS"));
    for seed in 0..seeds {
        let real = std::time::Instant::now();
        let rt = sim::Builder::new()
            .seed(seed)
            .worker_threads(4)
            .build()
            .unwrap();
        let answered = rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(1024);
            ticktock::spawn(async move {
                let mut n = 0;
                while let Some(reply) = rx.recv().await {
                    n += 1;
                    ticktock::spawn(async move {
                        time::sleep(Duration::from_millis(5)).await;
                        let _ = reply.send(n);
                    });
                }
            });
            let mut clients = ticktock::task::JoinSet::new();
            for _ in 0..CLIENTS {
                let tx = tx.clone();
                clients.spawn(async move {
                    let mut ok = 0u64;
                    let mut ticks = time::interval(Duration::from_millis(100));
                    for _ in 0..rounds {
                        ticks.tick().await;
                        let (reply_tx, reply_rx) = oneshot::channel();
                        tx.send(reply_tx).await.unwrap();
                        if timeout(Duration::from_secs(1), reply_rx).await.is_ok() {
                            ok += 1;
                        }
                    }
                    ok
                });
            }
            drop(tx);
            let mut total = 0;
            while let Some(ok) = clients.join_next().await {
                total += ok.unwrap();
            }
            total
        });
        let polls: u64 = rt
            .handle()
            .metrics()
            .per_worker
            .iter()
            .map(|w| w.polls)
            .sum();
        let elapsed = real.elapsed();
        println!(
            "seed {seed}: {answered} requests answered, {polls} task polls, real {:.3} s, \
             {:.2} M polls/s, digest {:016x}",
            elapsed.as_secs_f64(),
            polls as f64 / elapsed.as_secs_f64() / 1e6,
            rt.trace_hash()
        );
    }
}
