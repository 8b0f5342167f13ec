//! `profiles.png`: one panel per parameter with its profile loss (the loss
//! minimised over the other parameters) against its value, the 90 %
//! threshold, the interval and the estimate (see `fit::identify`).

use std::path::Path;

use plotters::prelude::*;

use super::markdown::verdict_words;
use crate::error::Error;
use crate::fit::identify::Profiles;
use crate::fit::FitResult;

/// Size of the whole image: 4 x 2 panels.
const SIZE: (u32, u32) = (1400, 700);

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("profile plot: {e}"))
}

/// Draws `profiles` of the fit `result` into an RGB buffer of [`SIZE`].
///
/// Each panel is headed by the parameter's value and the verdict in
/// report.md's words (a profile flat up to a bound reads as the limit it
/// is, never "estimated"); the fitted value is a dark vertical line, a bound
/// of the box inside the panel a grey one, the 90 % interval shaded, and the
/// threshold the red line. Only the major grid is drawn: the minor one hid
/// the curve.
fn render(profiles: &Profiles, result: &FitResult, buf: &mut [u8]) -> Result<(), Error> {
    super::plot::register_fonts()?;
    let root = BitMapBackend::with_buffer(buf, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let panels = root.split_evenly((2, 4));
    let value = result.params.to_array();
    let lower = result.config.bounds.lower.to_array();
    let upper = result.config.bounds.upper.to_array();
    let mut drawn = 0;
    for (j, (p, area)) in profiles.params.iter().zip(panels.iter()).enumerate() {
        drawn += 1;
        let (v, lo, hi) = (value[j], lower[j], upper[j]);
        let xs = p.points.iter().map(|q| q.0);
        let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        // A little room either side, so a bound at the edge shows as a line.
        let pad = 0.02 * (x1 - x0);
        let (x0, x1) = (x0 - pad, x1 + pad);
        let words = verdict_words(v, p.interval, lo, hi, p.status);
        let determined = words == "estimated";
        let (head, body) = area.split_vertically(46);
        head.draw(&Text::new(
            format!("{} = {}", p.name, short(v)),
            (60, 6),
            ("sans-serif", 17).into_font().color(&BLACK),
        ))
        .map_err(plot_err)?;
        let verdict = if determined {
            format!(
                "estimated, 90 %: [{}, {}]",
                short(p.interval[0]),
                short(p.interval[1])
            )
        } else {
            words
        };
        let colour = if determined {
            RGBColor(60, 60, 60)
        } else {
            RGBColor(170, 60, 0)
        };
        // The longest verdicts ("not identifiable: ... (at least 0.716)")
        // ran past the panel, and off the image in the last column: the
        // font shrinks until the words fit beside the axis' label area.
        // plotters' estimate came out up to 4 % short of the drawn width.
        let room = head.dim_in_pixel().0.saturating_sub(72) as f64 / 1.06;
        let mut size = 13.0;
        while size > 9.0 {
            let font = ("sans-serif", size).into_text_style(&head);
            match head.estimate_text_size(&verdict, &font) {
                Ok((w, _)) if w as f64 > room => size -= 0.5,
                _ => break,
            }
        }
        head.draw(&Text::new(
            verdict,
            (60, 27),
            ("sans-serif", size).into_font().color(&colour),
        ))
        .map_err(plot_err)?;
        // Loss relative to the minimum, capped a little above the threshold
        // so the interval's part of the curve is readable.
        let rel = |l: f64| l / profiles.loss.max(f64::MIN_POSITIVE);
        let top = rel(profiles.threshold) * 1.5;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(12)
            .margin_bottom(4)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.9..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .y_desc("loss / minimum")
            .x_desc(p.name)
            .x_labels(5)
            .y_labels(5)
            .draw()
            .map_err(plot_err)?;
        let [a, b] = p.interval;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.9), (b, top)],
                RGBColor(228, 236, 246).filled(),
            )))
            .map_err(plot_err)?;
        for bound in [lo, hi] {
            if (x0..=x1).contains(&bound) {
                chart
                    .draw_series(LineSeries::new(
                        [(bound, 0.9), (bound, top)],
                        RGBColor(120, 120, 120).stroke_width(3),
                    ))
                    .map_err(plot_err)?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                [(x0, rel(profiles.threshold)), (x1, rel(profiles.threshold))],
                RED.stroke_width(1),
            ))
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new([(v, 0.9), (v, top)], BLACK.stroke_width(1)))
            .map_err(plot_err)?;
        let pts: Vec<(f64, f64)> = p
            .points
            .iter()
            .map(|&(x, l)| (x, rel(l).min(top)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), BLUE.stroke_width(2)))
            .map_err(plot_err)?;
        chart
            .draw_series(pts.iter().map(|&q| Circle::new(q, 3, BLUE.filled())))
            .map_err(plot_err)?;
    }
    // The eighth panel explains the marks.
    if let Some(area) = panels.get(drawn) {
        let lines = [
            ("How to read the panels", BLACK, 16),
            ("blue: the profile loss (minimised over the", BLUE, 13),
            ("other parameters) over the fitted loss", BLUE, 13),
            ("red: the 90 % threshold", RED, 13),
            ("shaded: the 90 % interval", RGBColor(90, 110, 150), 13),
            ("black: the fitted value", BLACK, 13),
            (
                "thick grey: a bound of the box",
                RGBColor(120, 120, 120),
                13,
            ),
        ];
        for (i, (text, colour, size)) in lines.iter().enumerate() {
            area.draw(&Text::new(
                *text,
                (24, 40 + 24 * i as i32),
                ("sans-serif", *size).into_font().color(colour),
            ))
            .map_err(plot_err)?;
        }
    }
    root.present().map_err(plot_err)
}

/// A value in at most 4 significant digits, for panel headings.
fn short(v: f64) -> String {
    // A parameter on the bound 0 is 0, not "0.000000" (R_t of a region
    // whose transmission stopped).
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() < 1e-3 || v.abs() >= 1e5 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().max(1e-300).log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    }
}

/// Size of `profiles.png` in pixels: 4 x 2 panels.
pub const PROFILES_SIZE: (u32, u32) = SIZE;

/// Draws the profile plot into a new RGB buffer of [`PROFILES_SIZE`]
/// (3 bytes per pixel), as [`write_profiles_png`] does before encoding.
pub fn render_profiles_rgb(profiles: &Profiles, result: &FitResult) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    render(profiles, result, &mut buf)?;
    Ok(buf)
}

/// Writes the profile plot of the fit `result` to `path` atomically.
pub fn write_profiles_png(
    path: &Path,
    profiles: &Profiles,
    result: &FitResult,
) -> Result<(), Error> {
    let buf = render_profiles_rgb(profiles, result)?;
    let mut png = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut png, SIZE.0, SIZE.1);
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(plot_err)?;
        w.write_image_data(&buf).map_err(plot_err)?;
    }
    crate::io::write_atomic(path, &png)
}
