//! Drawing the timer cost-growth series into a PNG with `plotters`.
//!
//! Owns the picture's layout: a title, then one panel per operation (arm +
//! cancel, reset earlier) stacked top to bottom; x is the number of live
//! timers on a log scale, y the median ns per operation from 0, one line (with
//! a marker per measured point) per runtime. A flat line means the cost does
//! not grow with the number of live timers.
//!
//! Ground rules: a log axis cannot show 0 live timers, so that point is drawn
//! at x = 1 ([`ZERO_AT`]) and its tick is labelled "0" (the axis says so);
//! fonts, sizes and colours come from [`crate::style`].

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::estimates::{format_count, Series, RUNTIMES};
use crate::style::{
    color_of, register_font, round_label, FONT_FAMILY, GRID_COLOR, LABEL_SIZE, LEGEND_SIZE,
    LINE_WIDTH, PANEL_HEIGHT, PANEL_MARGIN, PANEL_MARGIN_RIGHT, PANEL_TITLE_SIZE, TITLE_HEIGHT,
    TITLE_SIZE, TITLE_TOP_MARGIN, WIDTH, X_LABEL_AREA, Y_LABEL_AREA,
};

/// Where the point for 0 live timers is drawn on the log x axis.
const ZERO_AT: f64 = 1.0;
/// The x axis runs from half a decade below [`ZERO_AT`] to a factor of this
/// beyond the largest count, so the end points are not cut by the frame.
const X_END_FACTOR: f64 = 2.0;
/// Headroom above the largest value on the y axis, for the legend.
const Y_HEADROOM: f64 = 1.35;
/// Radius of the point markers, in pixels.
const MARKER_SIZE: u32 = 4;

/// The x coordinate of `live` timers.
fn x_of(live: u64) -> f64 {
    (live as f64).max(ZERO_AT)
}

/// An x tick label: `0` at [`ZERO_AT`], `1k`, `1M` at powers of ten, nothing
/// between them (plotters may put ticks at 2 and 5 on short log axes).
fn format_x_tick(value: f64) -> String {
    if (value - ZERO_AT).abs() < 1e-9 {
        return "0".to_string();
    }
    let exponent = value.log10();
    if (exponent - exponent.round()).abs() < 1e-9 {
        format_count(value)
    } else {
        String::new()
    }
}

/// Draws `series` (one panel per operation, as [`crate::estimates::read_growth`]
/// returns them) into the PNG at `output`.
pub fn draw(series: &[Series], output: &Path) -> Result<(), Box<dyn Error>> {
    register_font()?;
    let panels_wanted: Vec<&Series> = series.iter().filter(|s| !s.points.is_empty()).collect();
    let max_live = series
        .iter()
        .flat_map(|one| &one.points)
        .map(|point| x_of(point.live))
        .fold(10.0, f64::max);
    let x_range = (ZERO_AT / 10f64.sqrt())..(max_live * X_END_FACTOR);

    let height = TITLE_HEIGHT + PANEL_HEIGHT * panels_wanted.len() as u32;
    let root = BitMapBackend::new(output, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "Timer cost per operation vs live timers: {}",
        RUNTIMES.join(" vs ")
    );
    let body = root
        .margin(TITLE_TOP_MARGIN, 0, 0, 0)
        .titled(&title, (FONT_FAMILY, TITLE_SIZE))?;
    let panels = body.split_evenly((panels_wanted.len(), 1));

    for (panel, one) in panels.iter().zip(&panels_wanted) {
        let y_max = one
            .points
            .iter()
            .flat_map(|point| point.ns.iter().flatten())
            .fold(1.0, |max: f64, &ns| max.max(ns))
            * Y_HEADROOM;
        let mut chart = ChartBuilder::on(panel)
            .caption(one.op.title, (FONT_FAMILY, PANEL_TITLE_SIZE))
            .margin(PANEL_MARGIN)
            .margin_right(PANEL_MARGIN_RIGHT)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x_range.clone().log_scale(), 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("other live timers (log scale; 0 drawn at 1)")
            .y_desc("median ns per operation")
            .x_label_formatter(&|value| format_x_tick(*value))
            .y_label_formatter(&|value| round_label(*value))
            .label_style((FONT_FAMILY, LABEL_SIZE))
            .axis_desc_style((FONT_FAMILY, LABEL_SIZE))
            .light_line_style(GRID_COLOR)
            .draw()?;

        for (index, runtime) in RUNTIMES.iter().enumerate() {
            let color = color_of(runtime, &[]);
            let points: Vec<(f64, f64)> = one
                .points
                .iter()
                .filter_map(|point| Some((x_of(point.live), point.ns[index]?)))
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(
                    LineSeries::new(points, color.stroke_width(LINE_WIDTH)).point_size(MARKER_SIZE),
                )?
                .label(*runtime)
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

    #[test]
    fn zero_and_decades_are_labelled() {
        assert_eq!(x_of(0), ZERO_AT);
        assert_eq!(x_of(1000), 1000.0);
        assert_eq!(format_x_tick(ZERO_AT), "0");
        assert_eq!(format_x_tick(1000.0), "1k");
        assert_eq!(format_x_tick(1_000_000.0), "1M");
        assert_eq!(format_x_tick(2000.0), "");
    }
}
