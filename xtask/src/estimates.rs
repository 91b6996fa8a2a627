//! Reading criterion's results for the cost-growth series of
//! `benches/timer_churn.rs`.
//!
//! Owns the on-disk layout only. Criterion writes the median of each point to
//! `<criterion dir>/<group>/<function>/<value>/new/estimates.json`, where the
//! bench's function id `drop/1000` is made file-name safe as `drop_1000`
//! (criterion replaces `/` with `_`); the nested form `drop/1000/...` is read
//! too, in case a later criterion keeps the slash. From each file only
//! `median.point_estimate` is taken: nanoseconds per iteration, and one
//! iteration of `timer_churn` is one operation.
//!
//! Ground rules: a point whose file is missing is `None` (a bench run with a
//! filter leaves gaps); a file that exists but does not parse, or lacks the
//! median, is an error naming the file, so a broken run is not plotted.

use std::path::{Path, PathBuf};

/// Criterion's group of the churn benches.
pub const GROUP: &str = "timer_churn";
/// The runtimes compared, in table-column order; the ratio is the first over
/// the second.
pub const RUNTIMES: [&str; 2] = ["ticktock", "tokio"];

/// One operation of the growth series: its function-id prefix in the bench and
/// the title it gets in the plot and the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Op {
    /// The id's first part in `timer_churn` (`drop`, `reset_earlier`).
    pub id: &'static str,
    /// What the operation is, for people.
    pub title: &'static str,
}

/// The growth series' operations, in panel order.
pub const OPS: [Op; 2] = [
    Op {
        id: "drop",
        title: "arm + cancel: sleep(30 s), poll once, drop",
    },
    Op {
        id: "reset_earlier",
        title: "Sleep::reset to an earlier deadline",
    },
];

/// One x position of a series: the live timer count and each runtime's
/// median, in [`RUNTIMES`] order (`None` where that runtime's file is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Background live timers (the L of `drop/L`).
    pub live: u64,
    /// Median nanoseconds per operation, per runtime.
    pub ns: [Option<f64>; 2],
}

impl Point {
    /// ticktock's time over tokio's, where both are known.
    pub fn ratio(&self) -> Option<f64> {
        match self.ns {
            [Some(ticktock), Some(tokio)] if tokio > 0.0 => Some(ticktock / tokio),
            _ => None,
        }
    }
}

/// One operation's points, ordered by live timer count.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The operation.
    pub op: Op,
    /// Its points, by increasing `live`.
    pub points: Vec<Point>,
}

/// `median.point_estimate` of one `estimates.json` document; `source` names it
/// in error messages.
pub fn parse_median(text: &str, source: &str) -> Result<f64, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("{source}: not JSON: {error}"))?;
    value
        .get("median")
        .and_then(|median| median.get("point_estimate"))
        .and_then(serde_json::Value::as_f64)
        .ok_or(format!("{source}: no number at median.point_estimate"))
}

/// The `estimates.json` of `op` at `live` for `runtime`, in whichever of the
/// two layouts exists (the flat `op_live` first).
fn estimates_path(group_dir: &Path, op: &str, live: u64, runtime: &str) -> Option<PathBuf> {
    [
        group_dir.join(format!("{op}_{live}")),
        group_dir.join(op).join(live.to_string()),
    ]
    .into_iter()
    .map(|dir| dir.join(runtime).join("new").join("estimates.json"))
    .find(|path| path.is_file())
}

/// The live timer counts criterion has results for under `group_dir` for
/// `op`, in either layout, sorted.
fn live_counts(group_dir: &Path, op: &str) -> Result<Vec<u64>, String> {
    let list = |dir: &Path| -> Result<Vec<String>, String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(format!("read {}: {error}", dir.display())),
        };
        Ok(entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect())
    };
    let flat_prefix = format!("{op}_");
    let mut counts: Vec<u64> = list(group_dir)?
        .iter()
        .filter_map(|name| name.strip_prefix(&flat_prefix)?.parse().ok())
        .chain(
            list(&group_dir.join(op))?
                .iter()
                .filter_map(|name| name.parse().ok()),
        )
        .collect();
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

/// Reads every operation of [`OPS`] from `criterion_dir` (criterion's output
/// directory, usually `target/criterion`). Errors if no point at all is found.
pub fn read_growth(criterion_dir: &Path) -> Result<Vec<Series>, String> {
    let group_dir = criterion_dir.join(GROUP);
    let mut all = Vec::new();
    for op in OPS {
        let mut points = Vec::new();
        for live in live_counts(&group_dir, op.id)? {
            let mut ns = [None; 2];
            for (median, runtime) in ns.iter_mut().zip(RUNTIMES) {
                if let Some(path) = estimates_path(&group_dir, op.id, live, runtime) {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|error| format!("read {}: {error}", path.display()))?;
                    *median = Some(parse_median(&text, &path.display().to_string())?);
                }
            }
            if ns.iter().any(Option::is_some) {
                points.push(Point { live, ns });
            }
        }
        all.push(Series { op, points });
    }
    if all.iter().all(|series| series.points.is_empty()) {
        return Err(format!(
            "no results under {}: run `cargo bench --bench timer_churn` first",
            group_dir.display()
        ));
    }
    Ok(all)
}

/// Formats a count of live timers for people: `0`, `1k`, `100k`, `1M`.
pub fn format_count(count: f64) -> String {
    match count {
        c if c >= 1e6 => format!("{}M", c / 1e6),
        c if c >= 1e3 => format!("{}k", c / 1e3),
        c => format!("{c}"),
    }
}

/// The series as markdown tables, one per operation, for docs/benchmarks.md.
pub fn markdown(series: &[Series]) -> String {
    let cell = |ns: Option<f64>| ns.map_or("–".to_string(), |ns| format!("{ns:.1}"));
    let mut out = String::new();
    for one in series {
        out.push_str(&format!(
            "**{}** (`{GROUP}/{}/L`)\n\n",
            one.op.title, one.op.id
        ));
        out.push_str("| live timers | ticktock ns/op | tokio ns/op | ratio |\n");
        out.push_str("|---:|---:|---:|---:|\n");
        for point in &one.points {
            let ratio = point.ratio().map_or("–".to_string(), |r| format!("{r:.2}"));
            out.push_str(&format!(
                "| {} | {} | {} | {ratio} |\n",
                format_count(point.live as f64),
                cell(point.ns[0]),
                cell(point.ns[1]),
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Writes an `estimates.json` with `median` (and a mean that must be ignored).
    fn write_estimate(dir: &Path, median: f64) {
        std::fs::create_dir_all(dir.join("new")).unwrap();
        let json = format!(
            r#"{{"mean":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":999.0,"standard_error":0.1}},"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":{median},"standard_error":0.1}}}}"#
        );
        std::fs::write(dir.join("new").join("estimates.json"), json).unwrap();
    }

    #[test]
    fn median_is_read_and_malformed_files_are_errors() {
        let good = r#"{"median": {"point_estimate": 42.5}, "mean": {"point_estimate": 1.0}}"#;
        assert_eq!(parse_median(good, "f"), Ok(42.5));
        assert!(parse_median("{", "f")
            .unwrap_err()
            .starts_with("f: not JSON"));
        let no_median = r#"{"mean": {"point_estimate": 1.0}}"#;
        assert!(parse_median(no_median, "f").is_err());
        let not_number = r#"{"median": {"point_estimate": "fast"}}"#;
        assert!(parse_median(not_number, "f").is_err());
    }

    #[test]
    fn growth_reads_both_layouts_sorted_with_gaps() {
        let temp = TempDir::new("growth");
        let group = temp.0.join(GROUP);
        // The layout criterion 0.8 writes: `drop/1000` as `drop_1000`.
        write_estimate(&group.join("drop_1000").join("ticktock"), 60.0);
        write_estimate(&group.join("drop_1000").join("tokio"), 120.0);
        write_estimate(&group.join("drop_0").join("ticktock"), 50.0);
        write_estimate(&group.join("drop_0").join("tokio"), 100.0);
        // A nested layout, and a point only one runtime ran.
        write_estimate(&group.join("drop").join("1000000").join("ticktock"), 70.0);
        // Not part of the growth series: ignored.
        write_estimate(&group.join("reset_later_0").join("ticktock"), 5.0);
        write_estimate(&group.join("reset_earlier_100").join("tokio"), 80.0);

        let series = read_growth(&temp.0).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].op.id, "drop");
        let drop: Vec<_> = series[0].points.iter().map(|p| (p.live, p.ns)).collect();
        assert_eq!(
            drop,
            vec![
                (0, [Some(50.0), Some(100.0)]),
                (1000, [Some(60.0), Some(120.0)]),
                (1_000_000, [Some(70.0), None]),
            ]
        );
        assert_eq!(series[0].points[1].ratio(), Some(0.5));
        assert_eq!(series[0].points[2].ratio(), None);
        assert_eq!(series[1].points.len(), 1);
        assert_eq!(series[1].points[0].ns, [None, Some(80.0)]);

        let table = markdown(&series);
        assert!(table.contains("| 1k | 60.0 | 120.0 | 0.50 |"), "{table}");
        assert!(table.contains("| 1M | 70.0 | – | – |"), "{table}");
    }

    #[test]
    fn missing_results_and_broken_files_are_errors() {
        let temp = TempDir::new("growth-empty");
        assert!(read_growth(&temp.0).unwrap_err().contains("no results"));
        let dir = temp.0.join(GROUP).join("drop_0").join("tokio").join("new");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("estimates.json"), "not json").unwrap();
        assert!(read_growth(&temp.0).unwrap_err().contains("not JSON"));
    }

    #[test]
    fn counts_read_as_people_write_them() {
        assert_eq!(format_count(0.0), "0");
        assert_eq!(format_count(1000.0), "1k");
        assert_eq!(format_count(100_000.0), "100k");
        assert_eq!(format_count(1_000_000.0), "1M");
    }
}
