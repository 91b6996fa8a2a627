//! Embedding ticktock in a synchronous program: `cargo run --example embed_service`.
//!
//! `main` stays synchronous. It starts a current-thread ticktock runtime on a
//! background thread, which runs a small "metrics service":
//!
//! - two periodic jobs driven by `ticktock::time::interval`: a sampler that records
//!   a reading every [`SAMPLE_PERIOD`], and a reporter that prints a summary every
//!   [`REPORT_PERIOD`];
//! - a command loop that answers requests sent from `main` over a futures channel
//!   (async on the runtime's side, a plain non-blocking send on `main`'s), replying
//!   over std channels that `main` waits on.
//!
//! `main` queries the service a few times, asks it to shut down, joins the thread
//! and exits by itself, well within a second.

use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::StreamExt;
use ticktock::time::{interval, MissedTickBehavior};

/// How often the sampler job records a reading.
const SAMPLE_PERIOD: Duration = Duration::from_millis(10);
/// How often the reporter job prints a summary.
const REPORT_PERIOD: Duration = Duration::from_millis(100);
/// How long `main` lets the service run between its queries.
const QUERY_GAP: Duration = Duration::from_millis(120);
/// Queries `main` makes before asking for shutdown.
const QUERIES: usize = 3;
/// How long the runtime gives its tasks to finish when shutting down.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

/// What `main` can ask the service.
enum Command {
    /// Reply with the number of samples taken so far and their sum.
    Stats(std_mpsc::Sender<(u64, u64)>),
    /// Stop the service; reply once the command loop has ended.
    Shutdown(std_mpsc::Sender<()>),
}

/// The synchronous side's handle on the service thread.
struct Service {
    commands: mpsc::UnboundedSender<Command>,
    thread: thread::JoinHandle<()>,
}

impl Service {
    /// Starts the runtime and the service on a background thread.
    fn start() -> std::io::Result<Service> {
        let (commands, inbox) = mpsc::unbounded();
        let runtime = ticktock::Builder::new_current_thread().build()?;
        let thread = thread::Builder::new()
            .name("embedded-ticktock".into())
            .spawn(move || {
                runtime.block_on(run_service(inbox));
                // Periodic jobs are still spawned: give them a moment, then stop them.
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        Ok(Service { commands, thread })
    }

    /// Asks for the sampler's statistics and waits for the answer.
    fn stats(&self) -> Option<(u64, u64)> {
        let (reply, answer) = std_mpsc::channel();
        self.commands.unbounded_send(Command::Stats(reply)).ok()?;
        answer.recv().ok()
    }

    /// Asks the service to stop, then joins its thread.
    fn shutdown(self) {
        let (reply, done) = std_mpsc::channel();
        if self
            .commands
            .unbounded_send(Command::Shutdown(reply))
            .is_ok()
        {
            let _ = done.recv();
        }
        self.thread.join().expect("the service thread panicked");
    }
}

/// The service: two periodic jobs and the command loop.
async fn run_service(mut inbox: mpsc::UnboundedReceiver<Command>) {
    let (samples_tx, mut samples_rx) = mpsc::unbounded::<u64>();

    // Job 1: the sampler.
    ticktock::spawn(async move {
        let mut ticks = interval(SAMPLE_PERIOD);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let started = Instant::now();
        loop {
            ticks.tick().await;
            let reading = started.elapsed().as_millis() as u64;
            if samples_tx.unbounded_send(reading).is_err() {
                break;
            }
        }
    });

    // Job 2: the reporter, which reads a shared counter.
    let reports = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let samples_seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    {
        let (reports, samples_seen) = (reports.clone(), samples_seen.clone());
        ticktock::spawn(async move {
            let mut ticks = interval(REPORT_PERIOD);
            ticks.tick().await; // The first tick is immediate.
            loop {
                ticks.tick().await;
                let n = reports.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let seen = samples_seen.load(std::sync::atomic::Ordering::Relaxed);
                println!("  [service] report {n}: {seen} samples so far");
            }
        });
    }

    let (mut count, mut sum) = (0u64, 0u64);
    loop {
        futures::select! {
            sample = samples_rx.next() => {
                let Some(sample) = sample else { break };
                count += 1;
                sum += sample;
                samples_seen.store(count, std::sync::atomic::Ordering::Relaxed);
            }
            command = inbox.next() => match command {
                Some(Command::Stats(reply)) => {
                    let _ = reply.send((count, sum));
                }
                Some(Command::Shutdown(reply)) => {
                    println!("  [service] shutting down after {count} samples");
                    let _ = reply.send(());
                    break;
                }
                // Every sender is gone: nobody can ask anything any more.
                None => break,
            },
        }
    }
}

fn main() -> std::io::Result<()> {
    let started = Instant::now();
    let service = Service::start()?;
    println!("main: service started on a background thread");
    let mut last = 0;
    for query in 1..=QUERIES {
        thread::sleep(QUERY_GAP);
        let (count, sum) = service.stats().expect("the service answers");
        println!("main: query {query}: {count} samples, sum of readings {sum} ms");
        assert!(count > last, "the sampler keeps running between queries");
        last = count;
    }
    service.shutdown();
    println!(
        "main: service stopped, exiting after {:?}",
        started.elapsed()
    );
    Ok(())
}
