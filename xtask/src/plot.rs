//! Drawing the lateness CDFs into a PNG with `plotters`.
//!
//! Owns the picture's layout: a title, then one panel per scenario stacked top to
//! bottom, each with one CDF line per runtime on a shared log-scale x axis (so
//! panels compare at a glance) and a legend giving each line's p50 and p99.
//!
//! Ground rules: fonts, sizes and colours come from [`crate::style`].

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::cdf::Series;
use crate::style::{
    color_of, has_fixed_color, register_font, round_label, FONT_FAMILY, GRID_COLOR, LABEL_SIZE,
    LEGEND_SIZE, LINE_WIDTH, PANEL_HEIGHT, PANEL_MARGIN, PANEL_MARGIN_RIGHT, PANEL_TITLE_SIZE,
    TITLE_HEIGHT, TITLE_SIZE, TITLE_TOP_MARGIN, WIDTH, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Lower end of the x axis, in µs. A log axis cannot show 0 or early (negative)
/// lateness; samples below this are drawn at it. Timer lateness under a
/// microsecond is below what the example can resolve against scheduling noise.
const MIN_PLOTTED_US: f64 = 1.0;

/// The x range to show, in µs: from the power of ten at or below the smallest
/// sample (but not below [`MIN_PLOTTED_US`]) to the power of ten at or above the
/// largest, so each decade is a whole tick interval.
fn x_range(series: &[Series]) -> (f64, f64) {
    let values = series.iter().flat_map(|one| one.cdf.values());
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(min, max), &value| {
        (min.min(value), max.max(value))
    });
    let low = 10f64.powf(min.max(MIN_PLOTTED_US).log10().floor());
    let high = 10f64.powf(max.max(MIN_PLOTTED_US).log10().ceil());
    // A decade at least, for data that sits exactly on one power of ten.
    (low, high.max(low * 10.0))
}

/// Formats an x tick given in µs: `50 µs`, `1 ms`, `2.5 ms` (whole ticks are
/// powers of ten; the unit keeps long zero runs off the axis).
fn format_tick(value_us: f64) -> String {
    if value_us >= US_PER_MS {
        format!("{} ms", round_label(value_us / US_PER_MS))
    } else {
        format!("{} µs", round_label(value_us))
    }
}

/// Microseconds per millisecond.
const US_PER_MS: f64 = 1000.0;

/// Draws `series` (grouped by scenario, as [`Series::from_samples`] returns them)
/// into the PNG at `output`.
pub fn draw(series: &[Series], output: &Path) -> Result<(), Box<dyn Error>> {
    register_font()?;

    let mut scenarios: Vec<&str> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for one in series {
        if !scenarios.contains(&one.scenario.as_str()) {
            scenarios.push(&one.scenario);
        }
        if !has_fixed_color(&one.runtime) && !others.contains(&one.runtime.as_str()) {
            others.push(&one.runtime);
        }
    }
    let (low, high) = x_range(series);
    let clamped = series.iter().any(|one| one.cdf.values()[0] < low);

    let height = TITLE_HEIGHT + PANEL_HEIGHT * scenarios.len() as u32;
    let root = BitMapBackend::new(output, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut names: Vec<&str> = Vec::new();
    for one in series {
        if !names.contains(&one.runtime.as_str()) {
            names.push(&one.runtime);
        }
    }
    let title = format!("Timer lateness CDF: {}", names.join(" vs "));
    let body = root
        .margin(TITLE_TOP_MARGIN, 0, 0, 0)
        .titled(&title, (FONT_FAMILY, TITLE_SIZE))?;
    let panels = body.split_evenly((scenarios.len(), 1));

    for (panel, scenario) in panels.iter().zip(&scenarios) {
        let lines: Vec<&Series> = series
            .iter()
            .filter(|one| one.scenario == *scenario)
            .collect();
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("scenario: {scenario}"),
                (FONT_FAMILY, PANEL_TITLE_SIZE),
            )
            .margin(PANEL_MARGIN)
            .margin_right(PANEL_MARGIN_RIGHT)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d((low..high).log_scale(), 0.0..1.0)?;
        let x_desc = if clamped {
            format!(
                "lateness past the deadline (log scale; below {} drawn at {})",
                format_tick(low),
                format_tick(low)
            )
        } else {
            "lateness past the deadline (log scale)".to_string()
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("fraction of timers")
            .x_label_formatter(&|value| format_tick(*value))
            .y_label_formatter(&|value| format!("{value:.1}"))
            .label_style((FONT_FAMILY, LABEL_SIZE))
            .axis_desc_style((FONT_FAMILY, LABEL_SIZE))
            .light_line_style(GRID_COLOR)
            .draw()?;

        for line in lines {
            let color = color_of(&line.runtime, &others);
            let summary = line.cdf.summary();
            let points = line.cdf.steps().into_iter().map(|(x, y)| (x.max(low), y));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(LINE_WIDTH)))?
                .label(format!(
                    "{}   p50 {} µs   p99 {} µs   (n = {})",
                    line.runtime,
                    summary.p50.round(),
                    summary.p99.round(),
                    summary.count
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(LINE_WIDTH))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT_FAMILY, LEGEND_SIZE))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdf::Cdf;

    fn series(values: Vec<f64>) -> Series {
        Series {
            scenario: "s".into(),
            runtime: "r".into(),
            cdf: Cdf::new(values).unwrap(),
        }
    }

    #[test]
    fn x_range_spans_whole_decades() {
        assert_eq!(x_range(&[series(vec![23.9, 7702.1])]), (10.0, 10_000.0));
        assert_eq!(x_range(&[series(vec![-3.0, 0.2, 150.0])]), (1.0, 1000.0));
        assert_eq!(x_range(&[series(vec![100.0])]), (100.0, 1000.0));
        assert_eq!(
            x_range(&[series(vec![1.5]), series(vec![20_000.0])]),
            (1.0, 100_000.0)
        );
    }

    #[test]
    fn ticks_carry_their_unit() {
        assert_eq!(format_tick(1.0), "1 µs");
        assert_eq!(format_tick(0.1), "0.1 µs");
        assert_eq!(format_tick(40.0), "40 µs");
        assert_eq!(format_tick(1000.0), "1 ms");
        assert_eq!(format_tick(2500.0), "2.5 ms");
        assert_eq!(format_tick(100_000.0), "100 ms");
    }
}
