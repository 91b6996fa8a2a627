//! Drawing the lateness CDFs into a PNG with `plotters`.
//!
//! Owns the picture's layout: a title, then one panel per scenario stacked top to
//! bottom, each with one CDF line per runtime on a shared log-scale x axis (so
//! panels compare at a glance) and a legend giving each line's p50 and p99.
//!
//! Ground rules: text is rendered by plotters' `ab_glyph` backend from the font
//! bytes embedded below, registered once per [`draw`] under plotters' default
//! family name, so nothing depends on the fonts installed on the machine.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::register_font;

use crate::cdf::Series;

/// DejaVu Sans, shipped in `xtask/assets/` with its license (Bitstream Vera terms).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family plotters' default label and caption styles ask for.
const FONT_FAMILY: &str = "sans-serif";

/// Image width in pixels: wide enough for four decades of log axis to read well.
const WIDTH: u32 = 1200;
/// Height of each scenario's panel in pixels.
const PANEL_HEIGHT: u32 = 420;
/// Height of the title band above the panels.
const TITLE_HEIGHT: u32 = 60;

/// Text sizes in pixels.
const TITLE_SIZE: u32 = 30;
const PANEL_TITLE_SIZE: u32 = 24;
const LABEL_SIZE: u32 = 18;
const LEGEND_SIZE: u32 = 18;
/// Width of the CDF lines: visible in a scaled-down README image, thin enough
/// that the staircase of thousands of samples stays a clean line.
const LINE_WIDTH: u32 = 2;
/// Space around each panel, in pixels.
const PANEL_MARGIN: u32 = 16;
/// Space right of each panel: the last x tick label is centred on the axis end
/// and needs room for half its width.
const PANEL_MARGIN_RIGHT: u32 = 40;
/// Space above the title, so its ascenders are not cut.
const TITLE_TOP_MARGIN: u32 = 10;

/// Lower end of the x axis, in µs. A log axis cannot show 0 or early (negative)
/// lateness; samples below this are drawn at it. Timer lateness under a
/// microsecond is below what the example can resolve against scheduling noise.
const MIN_PLOTTED_US: f64 = 1.0;

/// Line colors: ticktock blue, tokio orange (distinguishable with the common
/// color-vision deficiencies), then further runtimes in order of appearance.
const TICKTOCK_COLOR: RGBColor = RGBColor(31, 119, 180);
const TOKIO_COLOR: RGBColor = RGBColor(255, 127, 14);
const OTHER_COLORS: [RGBColor; 3] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The color of `runtime`'s line; `others` are the runtimes without a fixed one,
/// in order of appearance.
fn color_of(runtime: &str, others: &[&str]) -> RGBColor {
    match runtime {
        "ticktock" => TICKTOCK_COLOR,
        "tokio" => TOKIO_COLOR,
        _ => {
            let index = others
                .iter()
                .position(|&other| other == runtime)
                .unwrap_or(0);
            OTHER_COLORS[index % OTHER_COLORS.len()]
        }
    }
}

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

/// `value` with up to [`LABEL_SIGNIFICANT_DIGITS`] significant digits and no
/// trailing zeros: `40`, `2.5`, `0.1`.
fn round_label(value: f64) -> String {
    let digits_before_point = value.abs().log10().floor() as i32 + 1;
    let decimals = (LABEL_SIGNIFICANT_DIGITS - digits_before_point).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Significant digits of tick labels; percentiles in the legend are whole µs.
const LABEL_SIGNIFICANT_DIGITS: i32 = 2;

/// Draws `series` (grouped by scenario, as [`Series::from_samples`] returns them)
/// into the PNG at `output`.
pub fn draw(series: &[Series], output: &Path) -> Result<(), Box<dyn Error>> {
    register_font(FONT_FAMILY, FontStyle::Normal, FONT).map_err(|_| {
        "the embedded font (xtask/assets/DejaVuSans.ttf) is not a valid TrueType font"
    })?;

    let mut scenarios: Vec<&str> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for one in series {
        if !scenarios.contains(&one.scenario.as_str()) {
            scenarios.push(&one.scenario);
        }
        let fixed = matches!(one.runtime.as_str(), "ticktock" | "tokio");
        if !fixed && !others.contains(&one.runtime.as_str()) {
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
            .x_label_area_size(56)
            .y_label_area_size(80)
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
            .light_line_style(RGBColor(235, 235, 235))
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
