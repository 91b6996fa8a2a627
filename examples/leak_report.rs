//! The seed's leak, replayed and caught by the timer-site report.
//!
//! A Go service created 100,000 `time.NewTicker`s in a loop and never stopped
//! them; the tickers stayed in the runtime's timer heap until the process ran out
//! of memory. In ticktock, dropping an `Interval` frees its timer, so the leak
//! only exists while the program *keeps* the intervals. This example keeps
//! 100,000 of them in a `Vec`, prints `Handle::timer_sites()` (one site, 100,000
//! live timers), drops them, and prints the report again (empty).
//!
//! Run: `cargo run --release --example leak_report`

use std::time::Duration;

use futures::FutureExt;
use ticktock::time::{interval, Interval};

const TICKERS: usize = 100_000;

fn report(rt: &ticktock::Runtime, title: &str) {
    let sites = rt.handle().timer_sites();
    println!("{title}");
    if sites.is_empty() {
        println!("  (no live timers)");
    }
    for site in sites {
        println!(
            "  {:>7} live  due in {:>8.1?} .. {:>8.1?}  created at {}",
            site.live, site.next_due, site.last_due, site.location
        );
    }
    let metrics = rt.metrics();
    let heap: usize = metrics
        .per_worker
        .iter()
        .map(|w| w.timers.heap_len)
        .sum::<usize>()
        + metrics.external_timers.heap_len;
    println!("  timer heap elements over all stores: {heap}\n");
}

fn start_ticker() -> Interval {
    let mut ticker = interval(Duration::from_secs(10));
    // The first tick is immediate; polling the second arms the timer, like a
    // running Go ticker.
    assert!(ticker.tick().now_or_never().is_some());
    assert!(ticker.tick().now_or_never().is_none());
    ticker
}

fn main() {
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    // Armed from `block_on`'s own future: inside a task, the cooperative budget
    // would make the 129th poll in one go return `Pending` (by design).
    let tickers: Vec<Interval> =
        rt.block_on(async { (0..TICKERS).map(|_| start_ticker()).collect() });
    std::thread::sleep(Duration::from_millis(200));
    report(&rt, &format!("with {TICKERS} intervals kept in a Vec:"));
    drop(tickers);
    report(&rt, "after dropping them (no Stop call anywhere):");
}
