//! Timer lateness, ticktock and tokio side by side (multi-thread, 2 workers each).
//!
//! Scenarios, each run on a fresh runtime, ticktock first, then tokio:
//! - `concurrent`: N sleeps (default 10 000), one task each, with deadlines spread
//!   evenly over 1 s (starting 50 ms after the spawning begins); lateness = the
//!   instant the task resumed minus its deadline.
//! - `sleep_100us`: `sleep(100 µs)` awaited 1000 times in a row by one task on an
//!   otherwise idle runtime; the table shows the actual duration of each sleep,
//!   the CSV its lateness (duration minus 100 µs).
//! - `interval_1ms`: a 1 ms `interval` ticking 1000 times; lateness = the instant
//!   the task resumed minus the instant the tick was scheduled for.
//!
//! Usage:
//! ```text
//! cargo run --release --example latency -- [--sleeps N] [--csv DIR]
//! cargo run --release --example latency -- --memory [--memory-sleeps N]
//! ```
//! `--csv DIR` writes `DIR/latency.csv` with one row per sample:
//! `runtime,scenario,lateness_us`. `--memory` measures the resident memory each
//! runtime needs per pending sleep: a child process per runtime registers N
//! (default 1 000 000) boxed sleeps, polls each once, and reports the growth of
//! its RSS (`/proc/self/statm`). Separate processes, so one runtime's freed
//! memory cannot be reused by the other.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Worker threads of both runtimes.
const WORKERS: usize = 2;
/// Default number of concurrent sleeps in the `concurrent` scenario.
const DEFAULT_SLEEPS: usize = 10_000;
/// Span over which the concurrent sleeps' deadlines are spread.
const SPREAD: Duration = Duration::from_secs(1);
/// Delay before the first concurrent deadline, so spawning (a few ms for 100 000
/// tasks) finishes before the timers start to fire.
const LEAD: Duration = Duration::from_millis(50);
/// The short sleep of the `sleep_100us` scenario.
const SHORT_SLEEP: Duration = Duration::from_micros(100);
/// Interval period of the `interval_1ms` scenario.
const PERIOD: Duration = Duration::from_millis(1);
/// Repetitions of the `sleep_100us` and `interval_1ms` scenarios.
const REPEATS: usize = 1000;
/// Default pending sleeps of the memory measurement.
const DEFAULT_MEMORY_SLEEPS: usize = 1_000_000;
/// Polls per batch before yielding: both runtimes allow 128 leaf polls per task
/// poll (coop budget); past that a `Sleep` poll returns `Pending` unregistered.
const BATCH: usize = 64;

/// Command-line options, parsed by hand.
struct Args {
    sleeps: usize,
    csv: Option<PathBuf>,
    memory: bool,
    memory_sleeps: usize,
    /// Internal: run the memory measurement for this runtime in this process.
    memory_child: Option<String>,
}

const USAGE: &str = "usage: latency [--sleeps N] [--csv DIR] | --memory [--memory-sleeps N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        sleeps: DEFAULT_SLEEPS,
        csv: None,
        memory: false,
        memory_sleeps: DEFAULT_MEMORY_SLEEPS,
        memory_child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--sleeps" => args.sleeps = parse_count(&value("--sleeps")?)?,
            "--csv" => args.csv = Some(PathBuf::from(value("--csv")?)),
            "--memory" => args.memory = true,
            "--memory-sleeps" => args.memory_sleeps = parse_count(&value("--memory-sleeps")?)?,
            "--memory-child" => args.memory_child = Some(value("--memory-child")?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive count, got `{text}`")),
    }
}

/// Signed difference `actual - expected` in microseconds (negative = early).
fn lateness_us(actual: Instant, expected: Instant) -> f64 {
    match actual.checked_duration_since(expected) {
        Some(late) => late.as_secs_f64() * 1e6,
        None => -(expected.duration_since(actual).as_secs_f64() * 1e6),
    }
}

/// The samples of one runtime in one scenario.
struct Samples {
    runtime: &'static str,
    scenario: &'static str,
    /// Lateness in µs, as measured.
    lateness: Vec<f64>,
    /// Added to the lateness for the printed table (the sleep length, for
    /// scenarios reported as durations).
    shown_offset_us: f64,
}

/// p50, p99 and max of `values` (nearest-rank).
fn percentiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    (rank(0.50), rank(0.99), sorted[sorted.len() - 1])
}

/// Runs the three scenarios on runtime crate `$rt`; `$to_std` turns the
/// runtime's `Instant` (returned by `Interval::tick`) into a std one.
macro_rules! scenarios {
    ($rt:ident, $runtime:expr, $to_std:expr, $sleeps:expr) => {{
        let runtime = $runtime;
        let sleeps: usize = $sleeps;
        let name = stringify!($rt);
        let concurrent = runtime
            .block_on(runtime.spawn(async move {
                let start = Instant::now() + LEAD;
                let handles: Vec<_> = (0..sleeps)
                    .map(|i| {
                        let deadline = start + SPREAD.mul_f64(i as f64 / sleeps as f64);
                        ::$rt::spawn(async move {
                            ::$rt::time::sleep_until(deadline.into()).await;
                            lateness_us(Instant::now(), deadline)
                        })
                    })
                    .collect();
                let mut lateness = Vec::with_capacity(sleeps);
                for handle in handles {
                    lateness.push(handle.await.unwrap());
                }
                lateness
            }))
            .unwrap();
        let short = runtime
            .block_on(runtime.spawn(async {
                let mut lateness = Vec::with_capacity(REPEATS);
                for _ in 0..REPEATS {
                    let start = Instant::now();
                    ::$rt::time::sleep(SHORT_SLEEP).await;
                    lateness.push(lateness_us(Instant::now(), start + SHORT_SLEEP));
                }
                lateness
            }))
            .unwrap();
        let ticks = runtime
            .block_on(runtime.spawn(async {
                let mut interval = ::$rt::time::interval(PERIOD);
                // The first tick completes at once.
                interval.tick().await;
                let mut lateness = Vec::with_capacity(REPEATS);
                for _ in 0..REPEATS {
                    let scheduled = $to_std(interval.tick().await);
                    lateness.push(lateness_us(Instant::now(), scheduled));
                }
                lateness
            }))
            .unwrap();
        [
            Samples {
                runtime: name,
                scenario: "concurrent",
                lateness: concurrent,
                shown_offset_us: 0.0,
            },
            Samples {
                runtime: name,
                scenario: "sleep_100us",
                lateness: short,
                shown_offset_us: SHORT_SLEEP.as_secs_f64() * 1e6,
            },
            Samples {
                runtime: name,
                scenario: "interval_1ms",
                lateness: ticks,
                shown_offset_us: 0.0,
            },
        ]
    }};
}

fn ticktock_rt() -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("build ticktock runtime")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_time()
        .build()
        .expect("build tokio runtime")
}

fn latency(args: &Args) -> Result<(), String> {
    let mut all = Vec::new();
    {
        let runtime = ticktock_rt();
        all.extend(scenarios!(
            ticktock,
            &runtime,
            ticktock::time::Instant::into_std,
            args.sleeps
        ));
    }
    {
        let runtime = tokio_rt();
        all.extend(scenarios!(
            tokio,
            &runtime,
            tokio::time::Instant::into_std,
            args.sleeps
        ));
    }
    println!(
        "lateness in µs (sleep_100us: actual duration in µs); {WORKERS} workers each; \
         concurrent = {} sleeps over {SPREAD:?}",
        args.sleeps
    );
    println!(
        "{:<14} {:<9} {:>7} {:>10} {:>10} {:>10} {:>6}",
        "scenario", "runtime", "n", "p50", "p99", "max", "early"
    );
    for scenario in ["concurrent", "sleep_100us", "interval_1ms"] {
        for samples in all.iter().filter(|s| s.scenario == scenario) {
            let (p50, p99, max) = percentiles(&samples.lateness);
            let early = samples.lateness.iter().filter(|&&l| l < 0.0).count();
            let off = samples.shown_offset_us;
            println!(
                "{:<14} {:<9} {:>7} {:>10.1} {:>10.1} {:>10.1} {:>6}",
                scenario,
                samples.runtime,
                samples.lateness.len(),
                p50 + off,
                p99 + off,
                max + off,
                early
            );
        }
    }
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let mut csv = String::from("runtime,scenario,lateness_us\n");
        for samples in &all {
            for value in &samples.lateness {
                let _ = writeln!(csv, "{},{},{value:.3}", samples.runtime, samples.scenario);
            }
        }
        let path = dir.join("latency.csv");
        std::fs::write(&path, csv).map_err(|e| format!("write {}: {e}", path.display()))?;
        println!("samples written to {}", path.display());
    }
    Ok(())
}

/// The system page size, from the ELF auxiliary vector (`AT_PAGESZ`).
fn page_size() -> u64 {
    /// `AT_PAGESZ` in `<elf.h>`.
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    auxv.chunks_exact(16)
        .map(|pair| {
            let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().expect("8 bytes"));
            (word(&pair[..8]), word(&pair[8..]))
        })
        .find(|&(key, _)| key == AT_PAGESZ)
        .map_or(4096, |(_, value)| value)
}

/// Resident set size in bytes (second field of `/proc/self/statm`, in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm has a resident field");
    pages * page_size()
}

/// Registers `$n` boxed sleeps on runtime `$rt` (each polled once) and returns
/// the RSS growth while they are all pending, and how long registering took.
macro_rules! memory {
    ($rt:ident, $runtime:expr, $n:expr) => {{
        let runtime = $runtime;
        let n: usize = $n;
        runtime
            .block_on(runtime.spawn(async move {
                let mut sleeps = Vec::with_capacity(n);
                let before = rss_bytes();
                let start = Instant::now();
                for i in 0..n {
                    let mut sleep = Box::pin(::$rt::time::sleep(Duration::from_secs(3600)));
                    assert!(futures::poll!(sleep.as_mut()).is_pending());
                    sleeps.push(sleep);
                    if (i + 1) % BATCH == 0 {
                        ::$rt::task::yield_now().await;
                    }
                }
                let took = start.elapsed();
                let growth = rss_bytes().saturating_sub(before);
                let start = Instant::now();
                drop(sleeps);
                (growth, took, start.elapsed())
            }))
            .unwrap()
    }};
}

fn memory_child(runtime: &str, n: usize) -> Result<(), String> {
    let (growth, took, dropped, size, live) = match runtime {
        "ticktock" => {
            let rt = ticktock_rt();
            let (growth, took, dropped) = memory!(ticktock, &rt, n);
            let live: u64 = rt
                .metrics()
                .per_worker
                .iter()
                .map(|w| w.timers.events.inserted)
                .sum();
            (
                growth,
                took,
                dropped,
                size_of::<ticktock::time::Sleep>(),
                Some(live),
            )
        }
        "tokio" => {
            let rt = tokio_rt();
            let (growth, took, dropped) = memory!(tokio, &rt, n);
            (growth, took, dropped, size_of::<tokio::time::Sleep>(), None)
        }
        other => return Err(format!("unknown runtime `{other}`")),
    };
    println!(
        "{runtime:<9} {n:>9} {:>12.1} {:>14.1} {size:>12} {:>12.1} {:>12.1} {:>12}",
        growth as f64 / (1 << 20) as f64,
        growth as f64 / n as f64,
        took.as_secs_f64() * 1e9 / n as f64,
        dropped.as_secs_f64() * 1e9 / n as f64,
        live.map_or("-".to_string(), |l| l.to_string()),
    );
    Ok(())
}

fn memory(args: &Args) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    println!(
        "memory per pending sleep: {} boxed sleeps polled once, {WORKERS} workers, one process per runtime",
        args.memory_sleeps
    );
    println!(
        "{:<9} {:>9} {:>12} {:>14} {:>12} {:>12} {:>12} {:>12}",
        "runtime",
        "sleeps",
        "RSS +MiB",
        "bytes/sleep",
        "size_of",
        "ns/register",
        "ns/drop",
        "registered"
    );
    for runtime in ["ticktock", "tokio"] {
        let output = Command::new(&exe)
            .args([
                "--memory-child",
                runtime,
                "--memory-sleeps",
                &args.memory_sleeps.to_string(),
            ])
            .output()
            .map_err(|e| format!("run {}: {e}", exe.display()))?;
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            return Err(format!(
                "{runtime} child failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    println!(
        "(bytes/sleep includes the Box<Sleep> allocation and the 8-byte Vec element holding it;"
    );
    println!(" `registered` = ticktock's timers inserted per its metrics, a check that every poll registered)");
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| match &args.memory_child {
        Some(runtime) => memory_child(runtime, args.memory_sleeps),
        None if args.memory => memory(&args),
        None => latency(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
