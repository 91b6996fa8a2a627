//! Reading the latency example's CSV output.
//!
//! Owns the on-disk format only: a header line naming the columns `runtime`,
//! `scenario` and `lateness_us` (in any order, other columns ignored), then one
//! sample per line, lateness in microseconds (negative = the timer fired early).
//! `cargo run --release --example latency -- --csv DIR` writes `DIR/latency.csv`
//! in this format. Blank lines are skipped; anything else malformed is an error
//! naming the file and line, so a truncated run is not silently plotted.

use std::path::Path;

/// One timer's lateness, as measured by the latency example.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The runtime that ran the timer, e.g. `ticktock` or `tokio`.
    pub runtime: String,
    /// The scenario it ran in, e.g. `concurrent` or `interval_1ms`.
    pub scenario: String,
    /// How long after its deadline the timer's task resumed, in µs.
    pub lateness_us: f64,
}

/// Columns the CSV header must name.
const RUNTIME: &str = "runtime";
const SCENARIO: &str = "scenario";
const LATENESS: &str = "lateness_us";

/// Parses one CSV document; `source` names it in error messages.
pub fn parse_csv(text: &str, source: &str) -> Result<Vec<Sample>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or(format!("{source}: empty, expected a header"))?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| {
        columns
            .iter()
            .position(|&column| column == name)
            .ok_or(format!(
                "{source}: header `{header}` has no `{name}` column"
            ))
    };
    let (runtime, scenario, lateness) = (column(RUNTIME)?, column(SCENARIO)?, column(LATENESS)?);

    let mut samples = Vec::new();
    for (index, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = |what: &str| format!("{source}:{}: {what} in `{line}`", index + 1);
        if fields.len() != columns.len() {
            return Err(at(&format!("expected {} fields", columns.len())));
        }
        let lateness_us = fields[lateness]
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| at("lateness is not a finite number"))?;
        samples.push(Sample {
            runtime: fields[runtime].to_string(),
            scenario: fields[scenario].to_string(),
            lateness_us,
        });
    }
    Ok(samples)
}

/// Reads `path`: a CSV file, or a directory whose `*.csv` files (in name order)
/// are read and concatenated. Fails if that yields no sample at all.
pub fn read_path(path: &Path) -> Result<Vec<Sample>, String> {
    let files = if path.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|error| format!("read {}: {error}", path.display()))?;
        let mut files = Vec::new();
        for entry in entries {
            let file = entry
                .map_err(|error| format!("read {}: {error}", path.display()))?
                .path();
            if file.is_file() && file.extension().is_some_and(|ext| ext == "csv") {
                files.push(file);
            }
        }
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };

    let mut samples = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("read {}: {error}", file.display()))?;
        samples.extend(parse_csv(&text, &file.display().to_string())?);
    }
    if samples.is_empty() {
        return Err(format!(
            "no samples in {} (write some with `cargo run --release --example latency -- --csv {}`)",
            path.display(),
            path.display()
        ));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_example_format() {
        let text = "runtime,scenario,lateness_us\n\
                    ticktock,concurrent,89.436\n\
                    \n\
                    tokio,sleep_100us,-1.5\n";
        let samples = parse_csv(text, "test.csv").unwrap();
        assert_eq!(
            samples,
            vec![
                Sample {
                    runtime: "ticktock".into(),
                    scenario: "concurrent".into(),
                    lateness_us: 89.436
                },
                Sample {
                    runtime: "tokio".into(),
                    scenario: "sleep_100us".into(),
                    lateness_us: -1.5
                },
            ]
        );
    }

    #[test]
    fn columns_are_found_by_name() {
        let text = "lateness_us,extra,scenario,runtime\r\n12,x,interval_1ms,tokio\r\n";
        let samples = parse_csv(text, "test.csv").unwrap();
        assert_eq!(samples[0].runtime, "tokio");
        assert_eq!(samples[0].scenario, "interval_1ms");
        assert_eq!(samples[0].lateness_us, 12.0);
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        let missing_column = parse_csv("runtime,lateness_us\ntokio,1\n", "a.csv").unwrap_err();
        assert!(missing_column.contains("`scenario`"), "{missing_column}");
        let header = "runtime,scenario,lateness_us\n";
        let short = parse_csv(&format!("{header}tokio,1\n"), "b.csv").unwrap_err();
        assert!(short.starts_with("b.csv:2:"), "{short}");
        let not_number = parse_csv(&format!("{header}tokio,x,abc\n"), "c.csv").unwrap_err();
        assert!(not_number.contains("not a finite number"), "{not_number}");
        assert!(parse_csv(&format!("{header}tokio,x,NaN\n"), "d.csv").is_err());
        assert!(parse_csv("", "e.csv").is_err());
    }
}
