//! `cargo xtask`-style developer tasks for ticktock, run with `cargo run -p xtask -- <task>`.
//!
//! Tasks:
//! - `plot [--input PATH] [--output FILE]`: reads the timer-lateness samples that
//!   `cargo run --release --example latency -- --csv DIR` writes (every `*.csv` in
//!   `PATH`, or `PATH` itself if it is a file) and draws one CDF panel per scenario,
//!   one line per runtime, into a PNG.
//!
//! Ground rules: relative paths are taken from the current directory, so run the
//! task from the workspace root. The tool needs no system fonts: text is drawn with
//! the DejaVu Sans file in `xtask/assets/` (license next to it).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cdf;
mod plot;
mod samples;

use std::path::PathBuf;
use std::process::ExitCode;

/// Errors of every task, printed by `main`.
type Error = Box<dyn std::error::Error>;

/// Where `plot` reads samples from when `--input` is not given: the directory the
/// commands in `docs/` pass to the latency example's `--csv`.
const DEFAULT_INPUT: &str = "target/latency-csv";
/// Where `plot` writes the PNG when `--output` is not given: the image the docs embed.
const DEFAULT_OUTPUT: &str = "docs/img/latency.png";

const USAGE: &str = "usage: cargo run -p xtask -- plot [--input PATH] [--output FILE.png]

  --input PATH    a CSV file, or a directory whose *.csv files are read
                  (default: target/latency-csv); columns runtime,scenario,lateness_us
  --output FILE   the PNG to write (default: docs/img/latency.png)";

/// Options of the `plot` task.
struct PlotArgs {
    input: PathBuf,
    output: PathBuf,
}

/// Parses the arguments that follow `plot`.
fn parse_plot_args(args: impl IntoIterator<Item = String>) -> Result<PlotArgs, String> {
    let mut parsed = PlotArgs {
        input: PathBuf::from(DEFAULT_INPUT),
        output: PathBuf::from(DEFAULT_OUTPUT),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--input" => parsed.input = PathBuf::from(value("--input")?),
            "--output" => parsed.output = PathBuf::from(value("--output")?),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(parsed)
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
    if let Some(dir) = args
        .output
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("create {}: {error}", dir.display()))?;
    }
    plot::draw(&series, &args.output)?;
    println!("wrote {}", args.output.display());
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("plot") => parse_plot_args(args)
            .map_err(Error::from)
            .and_then(|args| plot_task(&args)),
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
}
