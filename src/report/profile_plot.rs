//! `profiles.png`: one panel per parameter with its profile loss (the loss
//! minimised over the other parameters) against its value, the 90 %
//! threshold, the interval and the estimate (see `fit::identify`).

use std::path::Path;

use plotters::prelude::*;

use crate::error::Error;
use crate::fit::identify::Profiles;

/// Size of the whole image: 4 x 2 panels.
const SIZE: (u32, u32) = (1400, 700);

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Report(format!("profile plot: {e}"))
}

/// Draws `profiles` into an RGB buffer of [`SIZE`].
fn render(profiles: &Profiles, buf: &mut [u8]) -> Result<(), Error> {
    super::plot::register_fonts()?;
    let root = BitMapBackend::with_buffer(buf, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let panels = root.split_evenly((2, 4));
    for (p, area) in profiles.params.iter().zip(panels.iter()) {
        let xs = p.points.iter().map(|q| q.0);
        let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        // Loss relative to the minimum, capped a little above the threshold
        // so the interval's part of the curve is readable.
        let rel = |l: f64| l / profiles.loss.max(f64::MIN_POSITIVE);
        let top = rel(profiles.threshold) * 1.5;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{} ({})", p.name, p.status.name().replace('_', " ")),
                ("sans-serif", 18),
            )
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.9..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .y_desc("loss / minimum")
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
        chart
            .draw_series(LineSeries::new(
                [(x0, rel(profiles.threshold)), (x1, rel(profiles.threshold))],
                RED.stroke_width(1),
            ))
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
    root.present().map_err(plot_err)
}

/// Writes the profile plot of a fit to `path` atomically.
pub fn write_profiles_png(path: &Path, profiles: &Profiles) -> Result<(), Error> {
    let mut buf = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    render(profiles, &mut buf)?;
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
