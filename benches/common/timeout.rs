//! The timeout workload of `timer_timeout.rs` and `scaling.rs`: the timer
//! pattern that services run most. Every "request" is
//! `timeout(30 s, yield_now())`: a timer armed, the request completes at the
//! next poll, the timer is cancelled long before it could fire.
//!
//! One run of [`timeout_workload!`]:
//! 1. untimed: `idle` idle-connection timers are registered by
//!    [`IDLE_HOLDERS`] holder tasks spread over the workers (each polls its
//!    sleeps once, so they are in the stores, then waits), deadlines spread
//!    over [`IDLE_FROM`]..[`IDLE_FROM`] + [`IDLE_SPAN`] (60..160 s: none fires);
//! 2. timed: `tasks` tasks, spawned from a worker and spread over all workers
//!    by the scheduler, each run `requests` requests one after the other; the
//!    time ends when the last task is joined;
//! 3. untimed: the holders are released and drop their timers.
//!
//! Ground rules: the macro names only `$rt::spawn`, `$rt::task::yield_now` and
//! `$rt::time::{sleep_until, timeout}`, so both runtimes run the same code.

#![allow(unused_macros)]

use std::time::Duration;

/// Each request's timeout: far longer than any request, as in a service.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Earliest idle-connection deadline, from registration: later than
/// [`TIMEOUT`] (an idle connection's keep-alive outlives a request), and later
/// than any run, so no idle timer fires during the measurement.
pub const IDLE_FROM: Duration = Duration::from_secs(60);
/// Span of the idle-connection deadlines (60..160 s, as in issue 9's table).
pub const IDLE_SPAN: Duration = Duration::from_secs(100);
/// Tasks holding the idle timers: many more than workers (up to 16 in
/// `scaling.rs`), so work stealing spreads them, and hence the timers, over
/// every worker's store, as connections spread in a server.
pub const IDLE_HOLDERS: usize = 64;

/// Runs the timeout workload once on runtime `$rt` (`ticktock` or `tokio`),
/// whose `Runtime` is `$runtime`: `$idle` idle timers held, `$tasks` tasks of
/// `$requests` requests each. Evaluates to the `Duration` of the timed part
/// (spawning the request tasks until the last one is joined).
macro_rules! timeout_workload {
    ($rt:ident, $runtime:expr, $idle:expr, $tasks:expr, $requests:expr) => {{
        use $crate::common::timeout::{IDLE_FROM, IDLE_HOLDERS, IDLE_SPAN, TIMEOUT};
        let (idle, tasks, requests): (usize, usize, usize) = ($idle, $tasks, $requests);
        let runtime = $runtime;
        runtime
            .block_on(runtime.spawn(async move {
                let holders = IDLE_HOLDERS.min(idle);
                let base = std::time::Instant::now() + IDLE_FROM;
                let (ready_tx, mut ready_rx) = futures::channel::mpsc::unbounded::<()>();
                let mut releases = Vec::with_capacity(holders);
                let mut holding = Vec::with_capacity(holders);
                for holder in 0..holders {
                    let (release_tx, release_rx) = futures::channel::oneshot::channel::<()>();
                    releases.push(release_tx);
                    let ready = ready_tx.clone();
                    holding.push(::$rt::spawn(async move {
                        // Holder h takes timers h, h + holders, h + 2 holders...:
                        // every holder's deadlines span the whole range.
                        let mut sleeps = Vec::new();
                        for (n, index) in (holder..idle).step_by(holders).enumerate() {
                            let offset = IDLE_SPAN.mul_f64(index as f64 / idle as f64);
                            let deadline = base + offset;
                            let mut sleep = Box::pin(::$rt::time::sleep_until(deadline.into()));
                            assert!(futures::poll!(sleep.as_mut()).is_pending());
                            sleeps.push(sleep);
                            if (n as u64 + 1) % $crate::common::BATCH == 0 {
                                ::$rt::task::yield_now().await;
                            }
                        }
                        ready.unbounded_send(()).expect("the bench task waits");
                        // Err means released too: the sender was dropped.
                        let _ = release_rx.await;
                        drop(sleeps);
                    }));
                }
                drop(ready_tx);
                for _ in 0..holders {
                    futures::StreamExt::next(&mut ready_rx)
                        .await
                        .expect("every holder reports ready");
                }

                let start = std::time::Instant::now();
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        ::$rt::spawn(async move {
                            for _ in 0..requests {
                                ::$rt::time::timeout(TIMEOUT, ::$rt::task::yield_now())
                                    .await
                                    .expect("a request never takes 30 s");
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
                let elapsed = start.elapsed();

                drop(releases);
                for holder in holding {
                    holder.await.unwrap();
                }
                elapsed
            }))
            .unwrap()
    }};
}
