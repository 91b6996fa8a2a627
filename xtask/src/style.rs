//! The look every xtask picture shares: the embedded font, text sizes, line
//! width, margins and the colour of each runtime's line, so the latency CDF
//! (`plot.rs`) and the cost-growth plot (`growth_plot.rs`) read as one set.
//!
//! Ground rules: text is rendered by plotters' `ab_glyph` backend from the font
//! bytes embedded below, registered by [`register_font`] (once per drawing)
//! under plotters' default family name, so nothing depends on the fonts
//! installed on the machine.

use plotters::style::{FontStyle, RGBColor};

/// DejaVu Sans, shipped in `xtask/assets/` with its license (Bitstream Vera terms).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family plotters' default label and caption styles ask for.
pub const FONT_FAMILY: &str = "sans-serif";

/// Image width in pixels: wide enough for four decades of log axis to read well.
pub const WIDTH: u32 = 1200;
/// Height of each panel in pixels.
pub const PANEL_HEIGHT: u32 = 420;
/// Height of the title band above the panels.
pub const TITLE_HEIGHT: u32 = 60;

/// Text sizes in pixels.
pub const TITLE_SIZE: u32 = 30;
pub const PANEL_TITLE_SIZE: u32 = 24;
pub const LABEL_SIZE: u32 = 18;
pub const LEGEND_SIZE: u32 = 18;
/// Width of the lines: visible in a scaled-down README image, thin enough
/// that the staircase of thousands of samples stays a clean line.
pub const LINE_WIDTH: u32 = 2;
/// Space around each panel, in pixels.
pub const PANEL_MARGIN: u32 = 16;
/// Space right of each panel: the last x tick label is centred on the axis end
/// and needs room for half its width.
pub const PANEL_MARGIN_RIGHT: u32 = 40;
/// Space above the title, so its ascenders are not cut.
pub const TITLE_TOP_MARGIN: u32 = 10;
/// Room for the x axis' tick labels and description, in pixels.
pub const X_LABEL_AREA: u32 = 56;
/// Room for the y axis' tick labels and description, in pixels.
pub const Y_LABEL_AREA: u32 = 80;
/// The light grid lines.
pub const GRID_COLOR: RGBColor = RGBColor(235, 235, 235);

/// Line colors: ticktock blue, tokio orange (distinguishable with the common
/// color-vision deficiencies), then further runtimes in order of appearance.
const TICKTOCK_COLOR: RGBColor = RGBColor(31, 119, 180);
const TOKIO_COLOR: RGBColor = RGBColor(255, 127, 14);
const OTHER_COLORS: [RGBColor; 3] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Registers the embedded font under [`FONT_FAMILY`]; call before drawing text.
pub fn register_font() -> Result<(), &'static str> {
    plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font (xtask/assets/DejaVuSans.ttf) is not a valid TrueType font")
}

/// Whether `runtime` has a fixed colour (ticktock, tokio); the others take
/// theirs from their position among the unfixed ones.
pub fn has_fixed_color(runtime: &str) -> bool {
    matches!(runtime, "ticktock" | "tokio")
}

/// The color of `runtime`'s line; `others` are the runtimes without a fixed one,
/// in order of appearance.
pub fn color_of(runtime: &str, others: &[&str]) -> RGBColor {
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

/// Significant digits of tick labels.
const LABEL_SIGNIFICANT_DIGITS: i32 = 2;

/// `value` with up to two significant digits and no trailing zeros: `40`,
/// `2.5`, `0.1`; `0` for zero (a linear axis starts there, and its log10 is
/// not a number of digits).
pub fn round_label(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits_before_point = value.abs().log10().floor() as i32 + 1;
    let decimals = (LABEL_SIGNIFICANT_DIGITS - digits_before_point).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_other_colors() {
        assert_eq!(color_of("ticktock", &[]), TICKTOCK_COLOR);
        assert_eq!(color_of("tokio", &["x"]), TOKIO_COLOR);
        assert_eq!(color_of("y", &["x", "y"]), OTHER_COLORS[1]);
        assert!(has_fixed_color("tokio") && !has_fixed_color("go"));
    }

    #[test]
    fn labels_keep_two_significant_digits() {
        assert_eq!(round_label(40.0), "40");
        assert_eq!(round_label(2.5), "2.5");
        assert_eq!(round_label(0.1), "0.1");
        assert_eq!(round_label(123.0), "123");
        assert_eq!(round_label(0.0), "0");
    }
}
