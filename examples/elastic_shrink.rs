//! Shrinking a running runtime with many armed timers: how long the retirement
//! takes, and how late short timers fire meanwhile, compared with the same
//! workload on a runtime that keeps its size (issue 13's measurement).
//!
//! Each mode builds a fresh multi-thread runtime with `--workers N` workers
//! (`max_worker_threads(N)`) and runs:
//! 1. **Arm.** `2 × N` tasks spawned on the runtime each arm their share of
//!    `--timers T` far sleeps (60 s plus up to 10 s of jitter, so none fires during
//!    the run), polled once and held, so the timers sit in the stores of the
//!    workers that ran those tasks. Arming yields every [`ARM_BATCH`] sleeps: past
//!    the coop budget (128 leaf polls per task poll) a `Sleep` poll returns
//!    `Pending` without registering. The tool waits until the metrics count `T`
//!    live timers (with a time limit, reporting the counts if it is reached).
//! 2. **Probe.** `--probes P` tasks each loop on a short sleep (`--probe-us`,
//!    1 ms by default), recording the lateness of each wake-up (the instant the
//!    task resumed minus the deadline) against the deadline's time.
//! 3. **Measure.** After [`WARM_UP`]: `shrink` calls `set_worker_threads(1)` and
//!    polls the metrics until the retirement is complete (one active worker, the
//!    retired workers' stores empty: the survivor holds every timer); `fixed`
//!    polls the metrics the same way for the same span without resizing. The
//!    lateness of the probes whose deadlines fall in that window is reported as
//!    p50 / p99 / max, with the per-worker timer counts before and after, next to
//!    the probes' lateness just before the window (steady state) and just after.
//!
//! With `--mode both` (the default) `shrink` runs first and `fixed` uses its
//! window length; `--mode fixed` alone uses `--window-ms`. The last line is a
//! machine-readable summary (`key=value` pairs).
//!
//! Usage:
//! ```text
//! cargo run --release --example elastic_shrink -- [--workers N] [--timers T]
//!     [--mode fixed|shrink|both] [--probes P] [--probe-us US] [--window-ms MS]
//! ```

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::time::{Duration, Instant};

use ticktock::time::{sleep, sleep_until, Sleep};

/// Default workers before the shrink (the issue's 2 → 1).
const DEFAULT_WORKERS: usize = 2;
/// Default armed timers (the issue's 1M).
const DEFAULT_TIMERS: usize = 1_000_000;
/// Default probe tasks: enough wake-ups per millisecond for a percentile per
/// window even when the window is a few milliseconds long.
const DEFAULT_PROBES: usize = 1000;
/// Default probe sleep.
const DEFAULT_PROBE: Duration = Duration::from_millis(1);
/// Window of `--mode fixed` run alone.
const DEFAULT_WINDOW: Duration = Duration::from_millis(100);
/// The armed timers' base delay: far beyond any run, so they stay armed.
const FAR: Duration = Duration::from_secs(60);
/// Spread added to [`FAR`], so the far timers do not share one wheel bucket.
const JITTER_NANOS: u64 = 10_000_000_000;
/// Sleeps armed per poll of an arming task before it yields (half the coop budget).
const ARM_BATCH: usize = 64;
/// Probe running time before the window starts, so the probes reach a steady state.
const WARM_UP: Duration = Duration::from_millis(200);
/// Probe running time after the window ends.
const COOL_DOWN: Duration = Duration::from_millis(50);
/// Gap between metric polls while waiting for the retirement (each poll locks
/// every store briefly; the fixed mode polls at the same rate).
const METRICS_POLL: Duration = Duration::from_micros(200);
/// Longest wait for the timers to be armed or the retirement to finish.
const PATIENCE: Duration = Duration::from_secs(120);

/// Which runtime(s) to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fixed,
    Shrink,
    Both,
}

/// Command-line options, parsed by hand.
struct Args {
    workers: usize,
    timers: usize,
    mode: Mode,
    probes: usize,
    probe: Duration,
    window: Option<Duration>,
}

const USAGE: &str = "usage: elastic_shrink [--workers N] [--timers T] [--mode fixed|shrink|both] \
                     [--probes P] [--probe-us US] [--window-ms MS]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        workers: DEFAULT_WORKERS,
        timers: DEFAULT_TIMERS,
        mode: Mode::Both,
        probes: DEFAULT_PROBES,
        probe: DEFAULT_PROBE,
        window: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--workers" => args.workers = parse_count(&value("--workers")?)?,
            "--timers" => args.timers = parse_count(&value("--timers")?)?,
            "--probes" => args.probes = parse_count(&value("--probes")?)?,
            "--probe-us" => {
                args.probe = Duration::from_micros(parse_count(&value("--probe-us")?)? as u64)
            }
            "--window-ms" => {
                args.window = Some(Duration::from_millis(
                    parse_count(&value("--window-ms")?)? as u64
                ))
            }
            "--mode" => {
                args.mode = match value("--mode")?.as_str() {
                    "fixed" => Mode::Fixed,
                    "shrink" => Mode::Shrink,
                    "both" => Mode::Both,
                    other => return Err(format!("unknown mode `{other}`\n{USAGE}")),
                }
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if args.workers < 2 && args.mode != Mode::Fixed {
        return Err("shrinking needs --workers 2 or more".to_string());
    }
    Ok(args)
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive count, got `{text}`")),
    }
}

/// One probe wake-up: when its deadline was (since the run's origin) and how late
/// the task resumed.
#[derive(Clone, Copy)]
struct Sample {
    deadline: Duration,
    late: Duration,
}

/// p50, p99 and max lateness of a window, and the sample count.
#[derive(Clone, Copy, Default)]
struct Lateness {
    p50: Duration,
    p99: Duration,
    max: Duration,
    samples: usize,
}

impl Lateness {
    /// Nearest-rank percentiles of the samples whose deadline is in `from..=to`.
    fn of(samples: &[Sample], from: Duration, to: Duration) -> Lateness {
        let mut late: Vec<Duration> = samples
            .iter()
            .filter(|s| (from..=to).contains(&s.deadline))
            .map(|s| s.late)
            .collect();
        if late.is_empty() {
            return Lateness::default();
        }
        late.sort_unstable();
        let rank = |p: f64| {
            let index = ((p * late.len() as f64).ceil() as usize).clamp(1, late.len()) - 1;
            late[index]
        };
        Lateness {
            p50: rank(0.50),
            p99: rank(0.99),
            max: late[late.len() - 1],
            samples: late.len(),
        }
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// What one mode measured.
struct Run {
    mode: Mode,
    arm_time: Duration,
    /// Length of the measured window (the retirement, for `shrink`).
    window: Duration,
    /// Timers moved out of the retired stores.
    moved: u64,
    during: Lateness,
    /// The probes' lateness just before the window (the second half of the warm-up:
    /// the steady state, the probes' start excluded).
    before: Lateness,
    /// The probes' lateness after the window (the cool-down; on one worker after a
    /// shrink).
    after: Lateness,
}

/// Per-worker live timers, and the external store's.
fn timer_counts(metrics: &ticktock::RuntimeMetrics) -> (Vec<usize>, usize) {
    let workers = metrics.per_worker.iter().map(|w| w.timers.live).collect();
    (workers, metrics.external_timers.live)
}

fn print_counts(label: &str, metrics: &ticktock::RuntimeMetrics) {
    let (workers, external) = timer_counts(metrics);
    let cells: Vec<String> = workers
        .iter()
        .enumerate()
        .map(|(i, n)| format!("w{i}={n}"))
        .collect();
    println!(
        "  {label:<7} active_workers={} live timers: {} external={external}",
        metrics.active_workers,
        cells.join(" ")
    );
}

/// A pinned far sleep, armed (polled once) by the task that holds it.
type Held = Pin<Box<Sleep>>;

/// Arms `total` far sleeps from `tasks` tasks spawned on the runtime; returns them
/// (they stay registered in the stores of the workers that polled them).
fn arm(rt: &ticktock::Runtime, tasks: usize, total: usize) -> Vec<Held> {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let share = total / tasks + usize::from(t < total % tasks);
            rt.spawn(async move {
                let mut held = Vec::with_capacity(share);
                let mut jitter = (t as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for i in 0..share {
                    jitter ^= jitter << 13;
                    jitter ^= jitter >> 7;
                    jitter ^= jitter << 17;
                    let delay = FAR + Duration::from_nanos(jitter % JITTER_NANOS);
                    let mut sleep = Box::pin(sleep(delay));
                    // A waker that does nothing: these sleeps are never awaited.
                    let polled = sleep
                        .as_mut()
                        .poll(&mut Context::from_waker(std::task::Waker::noop()));
                    assert!(polled.is_pending(), "a 60 s sleep completed at once");
                    held.push(sleep);
                    if i % ARM_BATCH == ARM_BATCH - 1 {
                        ticktock::task::yield_now().await;
                    }
                }
                held
            })
        })
        .collect();
    rt.block_on(async move {
        let mut all = Vec::with_capacity(total);
        for handle in handles {
            all.extend(handle.await.expect("arming task completes"));
        }
        all
    })
}

/// Polls `done` on the metrics every [`METRICS_POLL`] until it holds or
/// [`PATIENCE`] passes; returns the last snapshot and whether it held.
fn wait_metrics(
    handle: &ticktock::Handle,
    mut done: impl FnMut(&ticktock::RuntimeMetrics) -> bool,
) -> (ticktock::RuntimeMetrics, bool) {
    let limit = Instant::now() + PATIENCE;
    loop {
        let metrics = handle.metrics();
        if done(&metrics) {
            return (metrics, true);
        }
        if Instant::now() > limit {
            return (metrics, false);
        }
        std::thread::sleep(METRICS_POLL);
    }
}

/// One mode: arm, probe, measure. `window` is the fixed mode's window length.
fn run(args: &Args, mode: Mode, window: Duration) -> Result<Run, String> {
    let workers = args.workers;
    let rt = ticktock::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_worker_threads(workers)
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let handle = rt.handle().clone();
    println!("{mode:?}: {workers} workers, {} timers", args.timers);

    let start = Instant::now();
    let held = arm(&rt, 2 * workers, args.timers);
    let (armed, ok) = wait_metrics(&handle, |m| {
        m.per_worker.iter().map(|w| w.timers.live).sum::<usize>() == args.timers
    });
    if !ok {
        print_counts("armed?", &armed);
        return Err(format!(
            "not all {} timers armed after {PATIENCE:?}",
            args.timers
        ));
    }
    let arm_time = start.elapsed();
    println!("  armed in {:.1} ms", arm_time.as_secs_f64() * 1e3);
    print_counts("before", &armed);

    // Probes: a steady stream of short sleeps, lateness recorded per wake-up.
    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let probe = args.probe;
    let probes: Vec<_> = (0..args.probes)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let deadline = Instant::now() + probe;
                    sleep_until(deadline.into()).await;
                    samples.push(Sample {
                        deadline: deadline - origin,
                        late: Instant::now().saturating_duration_since(deadline),
                    });
                }
                samples
            })
        })
        .collect();
    std::thread::sleep(WARM_UP);

    let window_start = origin.elapsed();
    let begin = Instant::now();
    let (after, moved) = match mode {
        Mode::Shrink => {
            let out_before: u64 = armed.per_worker[1..]
                .iter()
                .map(|w| w.timers.events.migrated_out)
                .sum();
            handle.set_worker_threads(1);
            let (after, ok) = wait_metrics(&handle, |m| {
                m.active_workers == 1 && m.per_worker[1..].iter().all(|w| w.timers.live == 0)
            });
            if !ok {
                print_counts("after?", &after);
                return Err(format!("the retirement did not finish in {PATIENCE:?}"));
            }
            // The snapshot that saw the retired stores empty read the survivor's store
            // first, possibly before the last slices landed in it (stores are read one
            // at a time): read again for the counts printed.
            let after = handle.metrics();
            let out: u64 = after.per_worker[1..]
                .iter()
                .map(|w| w.timers.events.migrated_out)
                .sum();
            (after, out - out_before)
        }
        _ => {
            let end = begin + window;
            let (after, _) = wait_metrics(&handle, |_| Instant::now() >= end);
            (after, 0)
        }
    };
    let window = begin.elapsed();
    let window_end = origin.elapsed();
    print_counts("after", &after);
    std::thread::sleep(COOL_DOWN);
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<Sample> = rt.block_on(async move {
        let mut all = Vec::new();
        for probe in probes {
            all.extend(probe.await.expect("probe task completes"));
        }
        all
    });
    let during = Lateness::of(&samples, window_start, window_end);
    let before = Lateness::of(
        &samples,
        window_start.saturating_sub(WARM_UP / 2),
        window_start.saturating_sub(Duration::from_nanos(1)),
    );
    let after = Lateness::of(
        &samples,
        window_end + Duration::from_nanos(1),
        window_end + COOL_DOWN,
    );
    // The runtime first (its shutdown drains the stores), then the sleeps.
    drop(rt);
    drop(held);
    Ok(Run {
        mode,
        arm_time,
        window,
        moved,
        during,
        before,
        after,
    })
}

fn print_run(run: &Run) {
    let what = match run.mode {
        Mode::Shrink => "retirement",
        _ => "window",
    };
    println!(
        "  {what}: {:.2} ms, {} timers moved",
        run.window.as_secs_f64() * 1e3,
        run.moved
    );
    for (label, l) in [
        ("before", run.before),
        ("during", run.during),
        ("after", run.after),
    ] {
        println!(
            "  probe lateness {label:<7}: p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>9.1} µs  ({} samples)",
            us(l.p50),
            us(l.p99),
            us(l.max),
            l.samples
        );
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let modes: &[Mode] = match args.mode {
        Mode::Both => &[Mode::Shrink, Mode::Fixed],
        Mode::Shrink => &[Mode::Shrink],
        Mode::Fixed => &[Mode::Fixed],
    };
    let mut window = args.window.unwrap_or(DEFAULT_WINDOW);
    let mut runs = Vec::new();
    for &mode in modes {
        match run(&args, mode, window) {
            Ok(result) => {
                print_run(&result);
                if mode == Mode::Shrink && args.window.is_none() {
                    // The fixed run measures a window as long as the retirement.
                    window = result.window;
                }
                runs.push(result);
            }
            Err(message) => {
                eprintln!("{mode:?}: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut summary = format!(
        "elastic_shrink workers={} timers={} probes={} probe_us={}",
        args.workers,
        args.timers,
        args.probes,
        args.probe.as_micros()
    );
    for run in &runs {
        let name = match run.mode {
            Mode::Shrink => "shrink",
            _ => "fixed",
        };
        summary += &format!(
            " {name}_arm_ms={:.1} {name}_window_ms={:.3} {name}_moved={} \
             {name}_p50_us={:.1} {name}_p99_us={:.1} {name}_max_us={:.1} {name}_samples={} \
             {name}_before_p99_us={:.1}",
            run.arm_time.as_secs_f64() * 1e3,
            run.window.as_secs_f64() * 1e3,
            run.moved,
            us(run.during.p50),
            us(run.during.p99),
            us(run.during.max),
            run.during.samples,
            us(run.before.p99)
        );
    }
    if let [shrink, fixed] = &runs[..] {
        let ratio = us(shrink.during.p99) / us(fixed.during.p99).max(f64::MIN_POSITIVE);
        println!(
            "p99 lateness during the shrink: {:.1} µs vs {:.1} µs on the fixed runtime ({ratio:.2}x)",
            us(shrink.during.p99),
            us(fixed.during.p99)
        );
        summary += &format!(" p99_ratio={ratio:.2}");
    }
    println!("{summary}");
    ExitCode::SUCCESS
}
