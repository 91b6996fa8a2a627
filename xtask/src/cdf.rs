//! Empirical CDFs of timer lateness, one per (scenario, runtime) pair.
//!
//! Owns the statistics: sorting, percentiles and the step points a line is drawn
//! through. Percentiles use the nearest-rank method, the same as the latency
//! example's table, so the numbers in the legend match what it prints.

use crate::samples::Sample;

/// The sorted lateness values of one runtime in one scenario.
///
/// Invariant: `sorted` is non-empty, finite and in ascending order.
#[derive(Debug, Clone)]
pub struct Cdf {
    sorted: Vec<f64>,
}

/// Headline numbers of a [`Cdf`], in µs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Median lateness.
    pub p50: f64,
    /// 99th-percentile lateness.
    pub p99: f64,
    /// Largest lateness.
    pub max: f64,
}

impl Cdf {
    /// Builds the CDF of `values`; `None` if there are none. Values must be finite
    /// (the CSV reader rejects the others).
    pub fn new(mut values: Vec<f64>) -> Option<Cdf> {
        if values.is_empty() {
            return None;
        }
        debug_assert!(values.iter().all(|value| value.is_finite()), "{values:?}");
        values.sort_by(f64::total_cmp);
        Some(Cdf { sorted: values })
    }

    /// The sorted values.
    pub fn values(&self) -> &[f64] {
        &self.sorted
    }

    /// The smallest value `v` such that at least `fraction` of the samples are
    /// `<= v` (nearest rank); `fraction` is clamped to `0.0..=1.0`.
    pub fn percentile(&self, fraction: f64) -> f64 {
        let count = self.sorted.len();
        let rank = (fraction.clamp(0.0, 1.0) * count as f64).ceil() as usize;
        self.sorted[rank.clamp(1, count) - 1]
    }

    /// p50, p99, max and count.
    pub fn summary(&self) -> Summary {
        Summary {
            count: self.sorted.len(),
            p50: self.percentile(0.50),
            p99: self.percentile(0.99),
            max: self.sorted[self.sorted.len() - 1],
        }
    }

    /// The corners of the CDF's staircase, `(lateness, fraction of samples <=
    /// lateness)`: at each sample the line rises by `1 / count`. Starts at
    /// fraction 0 and ends at fraction 1.
    pub fn steps(&self) -> Vec<(f64, f64)> {
        let count = self.sorted.len() as f64;
        let mut points = Vec::with_capacity(2 * self.sorted.len());
        for (index, &value) in self.sorted.iter().enumerate() {
            points.push((value, index as f64 / count));
            points.push((value, (index + 1) as f64 / count));
        }
        points
    }
}

/// The CDF of one runtime in one scenario.
#[derive(Debug, Clone)]
pub struct Series {
    /// Scenario name, from the CSV.
    pub scenario: String,
    /// Runtime name, from the CSV.
    pub runtime: String,
    /// Its lateness distribution.
    pub cdf: Cdf,
}

impl Series {
    /// Groups `samples` by (scenario, runtime). Scenarios and, within each, runtimes
    /// keep the order in which they first appear in the input.
    pub fn from_samples(samples: Vec<Sample>) -> Vec<Series> {
        let mut groups: Vec<(String, String, Vec<f64>)> = Vec::new();
        for sample in samples {
            let position = groups.iter().position(|(scenario, runtime, _)| {
                *scenario == sample.scenario && *runtime == sample.runtime
            });
            match position {
                Some(index) => groups[index].2.push(sample.lateness_us),
                None => groups.push((sample.scenario, sample.runtime, vec![sample.lateness_us])),
            }
        }
        // Stable sort: gathers each scenario's runtimes, keeping first-seen order.
        let scenario_order: Vec<String> = groups.iter().map(|(s, _, _)| s.clone()).collect();
        groups.sort_by_key(|(scenario, _, _)| scenario_order.iter().position(|s| s == scenario));
        groups
            .into_iter()
            .filter_map(|(scenario, runtime, values)| {
                Some(Series {
                    scenario,
                    runtime,
                    cdf: Cdf::new(values)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let cdf = Cdf::new((1..=100).rev().map(f64::from).collect()).unwrap();
        assert_eq!(cdf.values()[0], 1.0);
        let summary = cdf.summary();
        assert_eq!(
            summary,
            Summary {
                count: 100,
                p50: 50.0,
                p99: 99.0,
                max: 100.0
            }
        );
        assert_eq!(cdf.percentile(0.0), 1.0);
        assert_eq!(cdf.percentile(0.001), 1.0);
        assert_eq!(cdf.percentile(1.5), 100.0);
        let single = Cdf::new(vec![7.0]).unwrap();
        assert_eq!(
            single.summary(),
            Summary {
                count: 1,
                p50: 7.0,
                p99: 7.0,
                max: 7.0
            }
        );
        assert!(Cdf::new(Vec::new()).is_none());
    }

    #[test]
    fn steps_rise_one_sample_at_a_time() {
        let cdf = Cdf::new(vec![30.0, 10.0, 20.0, 10.0]).unwrap();
        assert_eq!(
            cdf.steps(),
            vec![
                (10.0, 0.0),
                (10.0, 0.25),
                (10.0, 0.25),
                (10.0, 0.5),
                (20.0, 0.5),
                (20.0, 0.75),
                (30.0, 0.75),
                (30.0, 1.0),
            ]
        );
    }

    #[test]
    fn series_group_by_scenario_then_runtime_in_input_order() {
        let sample = |runtime: &str, scenario: &str, lateness_us: f64| Sample {
            runtime: runtime.into(),
            scenario: scenario.into(),
            lateness_us,
        };
        let series = Series::from_samples(vec![
            sample("ticktock", "b", 1.0),
            sample("ticktock", "a", 2.0),
            sample("tokio", "b", 3.0),
            sample("ticktock", "b", 4.0),
            sample("tokio", "a", 5.0),
        ]);
        let keys: Vec<(&str, &str, usize)> = series
            .iter()
            .map(|s| {
                (
                    s.scenario.as_str(),
                    s.runtime.as_str(),
                    s.cdf.values().len(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("b", "ticktock", 2),
                ("b", "tokio", 1),
                ("a", "ticktock", 1),
                ("a", "tokio", 1)
            ]
        );
    }
}
