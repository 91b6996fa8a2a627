//! `cargo xtask`-style developer tasks for ticktock, run with `cargo run -p xtask -- <task>`.
//!
//! Tasks:
//! - `plot [--input PATH] [--output FILE]`: reads the timer-lateness samples that
//!   `cargo run --release --example latency -- --csv DIR` writes (every `*.csv` in
//!   `PATH`, or `PATH` itself if it is a file) and draws one CDF panel per scenario,
//!   one line per runtime, into a PNG.
//! - `growth [--criterion DIR] [--output FILE]`: reads criterion's results of
//!   `cargo bench --bench timer_churn` (the `drop/L` and `reset_earlier/L`
//!   points, L = live timers) and draws ns per operation against L, one panel
//!   per operation, one line per runtime, into a PNG; prints the same figures
//!   as markdown tables for `docs/benchmarks.md`.
//!
//! Ground rules: relative paths are taken from the current directory, so run the
//! task from the workspace root. The tool needs no system fonts: text is drawn with
//! the DejaVu Sans file in `xtask/assets/` (license next to it).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cdf;
mod estimates;
mod growth_plot;
mod plot;
mod samples;
mod style;

use std::path::PathBuf;
use std::process::ExitCode;

/// Errors of every task, printed by `main`.
type Error = Box<dyn std::error::Error>;

/// Where `plot` reads samples from when `--input` is not given: the directory the
/// commands in `docs/` pass to the latency example's `--csv`.
const DEFAULT_INPUT: &str = "target/latency-csv";
/// Where `plot` writes the PNG when `--output` is not given: the image the docs embed.
const DEFAULT_OUTPUT: &str = "docs/img/latency.png";

/// Where `growth` reads criterion's results when `--criterion` is not given:
/// criterion's default output directory.
const DEFAULT_CRITERION: &str = "target/criterion";
/// Where `growth` writes the PNG when `--output` is not given: the image the docs embed.
const DEFAULT_GROWTH_OUTPUT: &str = "docs/img/timer_growth.png";

const USAGE: &str = "usage: cargo run -p xtask -- plot [--input PATH] [--output FILE.png]
       cargo run -p xtask -- growth [--criterion DIR] [--output FILE.png]

plot:
  --input PATH      a CSV file, or a directory whose *.csv files are read
                    (default: target/latency-csv); columns runtime,scenario,lateness_us
  --output FILE     the PNG to write (default: docs/img/latency.png)
growth (after `cargo bench --bench timer_churn`):
  --criterion DIR   criterion's output directory (default: target/criterion)
  --output FILE     the PNG to write (default: docs/img/timer_growth.png)";

/// Options of the `plot` task.
struct PlotArgs {
    input: PathBuf,
    output: PathBuf,
}

/// Parses the arguments that follow `plot`.
fn parse_plot_args(args: impl IntoIterator<Item = String>) -> Result<PlotArgs, String> {
    let [input, output] = parse_paths(
        args,
        [("--input", DEFAULT_INPUT), ("--output", DEFAULT_OUTPUT)],
    )?;
    Ok(PlotArgs { input, output })
}

/// Options of the `growth` task.
struct GrowthArgs {
    criterion: PathBuf,
    output: PathBuf,
}

/// Parses the arguments that follow `growth`.
fn parse_growth_args(args: impl IntoIterator<Item = String>) -> Result<GrowthArgs, String> {
    let [criterion, output] = parse_paths(
        args,
        [
            ("--criterion", DEFAULT_CRITERION),
            ("--output", DEFAULT_GROWTH_OUTPUT),
        ],
    )?;
    Ok(GrowthArgs { criterion, output })
}

/// Parses `--name PATH` options: `options` gives each accepted name and its
/// default; the result is in the same order.
fn parse_paths<const N: usize>(
    args: impl IntoIterator<Item = String>,
    options: [(&str, &str); N],
) -> Result<[PathBuf; N], String> {
    let mut parsed = options.map(|(_, default)| PathBuf::from(default));
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let index = options
            .iter()
            .position(|(name, _)| *name == arg)
            .ok_or(format!("unknown argument `{arg}`\n{USAGE}"))?;
        let value = args.next().ok_or(format!("{arg} needs a value\n{USAGE}"))?;
        parsed[index] = PathBuf::from(value);
    }
    Ok(parsed)
}

/// Creates the directory `output` goes in, if it has one.
fn create_parent(output: &std::path::Path) -> Result<(), Error> {
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("create {}: {error}", dir.display()))?;
    }
    Ok(())
}

/// The `plot` task: read, summarize on stdout, draw.
fn plot_task(args: &PlotArgs) -> Result<(), Error> {
    let samples = samples::read_path(&args.input)?;
    let series = cdf::Series::from_samples(samples);
    for one in &series {
        let summary = one.cdf.summary();
        println!(
            "{:<14} {:<9} n={:<6} p50={:>9.1} µs  p99={:>9.1} µs  max={:>9.1} µs",
            one.scenario, one.runtime, summary.count, summary.p50, summary.p99, summary.max
        );
    }
    create_parent(&args.output)?;
    plot::draw(&series, &args.output)?;
    println!("wrote {}", args.output.display());
    Ok(())
}

/// The `growth` task: read criterion's results, print the markdown tables, draw.
fn growth_task(args: &GrowthArgs) -> Result<(), Error> {
    let series = estimates::read_growth(&args.criterion)?;
    print!("{}", estimates::markdown(&series));
    create_parent(&args.output)?;
    growth_plot::draw(&series, &args.output)?;
    println!("wrote {}", args.output.display());
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("plot") => parse_plot_args(args)
            .map_err(Error::from)
            .and_then(|args| plot_task(&args)),
        Some("growth") => parse_growth_args(args)
            .map_err(Error::from)
            .and_then(|args| growth_task(&args)),
        Some("-h" | "--help") | None => Err(USAGE.into()),
        Some(other) => Err(format!("unknown task `{other}`\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn plot_args_default_and_override() {
        let defaults = parse_plot_args(Vec::new()).unwrap();
        assert_eq!(defaults.input, PathBuf::from(DEFAULT_INPUT));
        assert_eq!(defaults.output, PathBuf::from(DEFAULT_OUTPUT));
        let given = parse_plot_args(strings(&["--output", "a.png", "--input", "dir"])).unwrap();
        assert_eq!(given.input, PathBuf::from("dir"));
        assert_eq!(given.output, PathBuf::from("a.png"));
        assert!(parse_plot_args(strings(&["--input"])).is_err());
        assert!(parse_plot_args(strings(&["--bogus"])).is_err());
    }

    #[test]
    fn growth_args_default_and_override() {
        let defaults = parse_growth_args(Vec::new()).unwrap();
        assert_eq!(defaults.criterion, PathBuf::from(DEFAULT_CRITERION));
        assert_eq!(defaults.output, PathBuf::from(DEFAULT_GROWTH_OUTPUT));
        let given = parse_growth_args(strings(&["--criterion", "c", "--output", "g.png"])).unwrap();
        assert_eq!(given.criterion, PathBuf::from("c"));
        assert_eq!(given.output, PathBuf::from("g.png"));
        assert!(parse_growth_args(strings(&["--input", "x"])).is_err());
        assert!(parse_growth_args(strings(&["--output"])).is_err());
    }
}
