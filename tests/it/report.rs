//! Region reports: every file `report::write_region` writes is read back and
//! checked against the hand-built outbreak it was written from.

use crate::report_common;

use std::path::Path;

use approx::assert_relative_eq;
use report_common::*;
use seird_fit::data::RegionKey;
use seird_fit::fit::FitResult;
use seird_fit::report::{self, plot, ForecastRow, Phase};

const TRAIN: usize = 30;
const HELD: usize = 10;
const FORECAST: usize = 14;

fn italy() -> RegionKey {
    RegionKey::country("Italy")
}

/// Reads a PNG's width and height from its IHDR chunk, after checking the
/// signature; also checks the file ends with an IEND chunk (not truncated).
fn png_dimensions(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        b"IEND",
        "ends with IEND"
    );
    (w, h)
}

fn write_italy(dir: &Path) -> report::RegionFiles {
    let (data, result, forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    report::write_region(dir, &data, &result, &forecast).unwrap()
}

#[test]
fn forecast_csv_holds_observations_model_and_compartments_per_day() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let mut reader = csv::Reader::from_path(&files.forecast_csv).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "date",
            "observed_cases",
            "observed_deaths",
            "fitted_cases",
            "fitted_deaths",
            "s",
            "e",
            "i",
            "r",
            "d",
            "reproduction",
            "phase"
        ]
    );
    let rows: Vec<ForecastRow> = reader.deserialize().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), TRAIN + FORECAST);
    for (t, row) in rows.iter().enumerate() {
        let expect_phase = if t < TRAIN {
            Phase::Train
        } else {
            Phase::Forecast
        };
        assert_eq!(row.phase, expect_phase, "day {t}");
        // Observations exist on training and held-out days, not after.
        if t < TRAIN + HELD {
            assert_eq!(row.observed_cases, Some(observed_cases(t)), "day {t}");
            assert_eq!(row.observed_deaths, Some(observed_deaths(t)), "day {t}");
        } else {
            assert_eq!(row.observed_cases, None, "day {t}");
            assert_eq!(row.observed_deaths, None, "day {t}");
        }
        assert_relative_eq!(row.fitted_cases, model_cases(t), max_relative = 1e-15);
        assert_relative_eq!(row.fitted_deaths, model_deaths(t), max_relative = 1e-15);
        assert_relative_eq!(row.reproduction, model_r(t), max_relative = 1e-15);
        // The compartments add up to the population and I + R + D to the cases.
        assert_relative_eq!(
            row.s + row.e + row.i + row.r + row.d,
            1e7,
            max_relative = 1e-12
        );
        assert_relative_eq!(row.i + row.r + row.d, model_cases(t), max_relative = 1e-12);
    }
    assert_eq!(
        rows[0].date,
        chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap()
    );
    assert_eq!(
        rows[TRAIN + FORECAST - 1].date,
        chrono::NaiveDate::from_ymd_opt(2020, 4, 13).unwrap()
    );
}

#[test]
fn fit_json_has_every_contract_field_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let text = std::fs::read_to_string(&files.fit_json).unwrap();
    let back: FitResult = serde_json::from_str(&text).unwrap();
    let (_, result, _) = outbreak(italy(), TRAIN, HELD, FORECAST);
    assert_eq!(back, result);

    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let paths = [
        "/region/country",
        "/region/province",
        "/population",
        "/start_date",
        "/end_date",
        "/train_days",
        "/params/r_0",
        "/params/theta",
        "/params/k",
        "/params/l",
        "/params/r_t",
        "/params/d_rec",
        "/params/d_inc",
        "/at_bound",
        "/loss/msle",
        "/loss/msle_cases",
        "/loss/msle_deaths",
        "/optimizer/method",
        "/optimizer/gradient",
        "/optimizer/iterations",
        "/optimizer/loss_evals",
        "/optimizer/gradient_evals",
        "/optimizer/termination",
        "/optimizer/seconds",
        "/config",
    ];
    for p in paths {
        assert!(v.pointer(p).is_some(), "fit.json lacks {p}");
    }
    assert_eq!(v.pointer("/region/country").unwrap(), "Italy");
    assert_eq!(v.pointer("/start_date").unwrap(), "2020-03-01");
    assert_eq!(v.pointer("/end_date").unwrap(), "2020-03-30");
    assert_eq!(v.pointer("/train_days").unwrap(), 30);
    assert_eq!(v.pointer("/at_bound/0").unwrap(), "theta");
}

#[test]
fn forecast_png_is_a_whole_png_of_the_promised_size_and_not_blank() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let bytes = std::fs::read(&files.forecast_png).unwrap();
    assert_eq!(png_dimensions(&bytes), plot::FORECAST_SIZE);
    // A blank white image of this size deflates to a few kilobytes; axes,
    // text, markers and lines make it far larger.
    assert!(
        bytes.len() > 30_000,
        "suspiciously small PNG: {} bytes",
        bytes.len()
    );
    // No temporary file is left beside the report.
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "leftover temp file {name}");
    }
}

/// Decodes a PNG into its header and pixels (RGB, 8 bits per channel).
fn decode_rgb_png(bytes: &[u8]) -> ((u32, u32), Vec<u8>) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Rgb, "colour type");
    assert_eq!(frame.bit_depth, png::BitDepth::Eight, "bit depth");
    pixels.truncate(frame.buffer_size());
    ((frame.width, frame.height), pixels)
}

#[test]
fn forecast_png_decodes_to_exactly_the_rendered_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let (size, pixels) = decode_rgb_png(&std::fs::read(&files.forecast_png).unwrap());
    assert_eq!(size, plot::FORECAST_SIZE);
    // PNG is lossless: the file holds the picture drawn in memory, pixel for
    // pixel (the plot is deterministic, so drawing it again gives the same).
    let (data, result, forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    let rendered = plot::render_forecast_rgb(&data, &result, &forecast, size).unwrap();
    assert!(
        pixels == rendered,
        "decoded PNG differs from the rendered plot"
    );
    // And that picture is the plot, not a blank: the three line colours,
    // the training shade and white background are all there.
    let count = |rgb: [u8; 3]| pixels.chunks(3).filter(|p| *p == rgb).count();
    for (what, rgb) in [
        ("cases", [31, 119, 180]),
        ("deaths", [214, 39, 40]),
        ("R(t)", [118, 66, 172]),
        ("training shade", [228, 236, 246]),
        ("background", [255, 255, 255]),
    ] {
        assert!(count(rgb) > 1_000, "{what} {rgb:?}: {} px", count(rgb));
    }
}

#[test]
fn forecast_plot_draws_both_series_the_training_shade_and_text() {
    let (data, result, forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    let (w, h) = (1200u32, 860u32);
    let buf = plot::render_forecast_rgb(&data, &result, &forecast, (w, h)).unwrap();
    let count = |rgb: [u8; 3]| buf.chunks(3).filter(|p| *p == rgb).count();
    let total = (w * h) as usize;
    let white = count([255, 255, 255]);
    let black = count([0, 0, 0]);
    let cases = count([31, 119, 180]);
    let deaths = count([214, 39, 40]);
    let shade = count([228, 236, 246]);
    let r = count([118, 66, 172]);
    assert!(white < total * 95 / 100, "mostly white: {white} of {total}");
    assert!(cases > 1_000, "cases drawn: {cases} px");
    assert!(deaths > 1_000, "deaths drawn: {deaths} px");
    assert!(shade > total / 20, "training window shaded: {shade} px");
    assert!(r > 1_000, "R(t) drawn: {r} px");
    // Text is anti-aliased glyphs in black; without a usable font there is none.
    assert!(black > 500, "text drawn: {black} px");
}

/// The region plot drawn by plotters' own bitmap backend, every glyph
/// rasterized afresh: the reference for the cached text of `plot`.
fn render_without_text_cache(key: RegionKey, train: usize) -> Vec<u8> {
    use plotters::prelude::*;
    let (data, result, forecast) = outbreak(key, train, HELD, FORECAST);
    let (w, h) = plot::FORECAST_SIZE;
    let mut buf = vec![0; w as usize * h as usize * 3];
    plot::register_fonts().unwrap();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        plot::draw_forecast(&root, &data, &result, &forecast).unwrap();
        root.present().unwrap();
    }
    buf
}

#[test]
fn cached_text_draws_the_same_pixels_as_plotters() {
    // Forty regions on one thread: the first plot fills the text cache, the
    // next reuse its legends and labels while adding a new title each, and
    // together they overflow it, so it is emptied and refilled on the way.
    for j in 0..40 {
        let key = RegionKey::country(&format!("Region {j}"));
        let train = TRAIN + j % 7;
        let (data, result, forecast) = outbreak(key.clone(), train, HELD, FORECAST);
        let cached =
            plot::render_forecast_rgb(&data, &result, &forecast, plot::FORECAST_SIZE).unwrap();
        let reference = render_without_text_cache(key, train);
        assert!(cached == reference, "plot {j} differs from plotters' own");
    }
}

#[test]
fn report_md_explains_every_parameter_and_embeds_the_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    for symbol in ["R_0", "theta", "k", "L", "R_t", "D_rec", "D_inc"] {
        assert!(
            md.contains(&format!("| {symbol} (`")),
            "no row for {symbol}"
        );
    }
    for needle in [
        "![",
        "(forecast.png)",
        "incubation",
        "infectious",
        "fatality",
        "decay midpoint",
        "steepness",
        // L = 20 days after 2020-03-01.
        "2020-03-21",
        "**(upper bound: the data do not determine it)**",
        "theta",
        "2020-03-01 to 2020-03-30 (30 days",
        "0.01250",
        "L-BFGS-B",
        "Iterations: 42",
        "57 loss, 50 gradient",
        "CONVERGENCE",
        "Failed ODE solves (the line search backed off): 1",
        "went down (reporting corrections): 2; policy: keep",
        "Held-out days (observed after the window, not used by the fit): 10",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    // Forecast headline: the model on the last forecast day, 2020-04-13 (t = 43).
    let cases = report::group_thousands(model_cases(43));
    assert!(md.contains(&format!(
        "On 2020-04-13 (14 days after the window) the model predicts {cases} cumulative cases"
    )));
}

#[test]
fn terminal_summary_has_window_loss_and_a_parameter_table() {
    let (_, result, forecast) = outbreak(
        RegionKey::new("China", Some("Hubei"), None),
        TRAIN,
        HELD,
        FORECAST,
    );
    let text = report::summary_text(&result, &forecast);
    assert!(text.starts_with("China/Hubei: 2020-03-01 .. 2020-03-30 (30 training days)"));
    for symbol in ["R_0", "theta", "k", "L", "R_t", "D_rec", "D_inc"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{symbol} "))),
            "no table row for {symbol}:\n{text}"
        );
    }
    let theta_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("theta "))
        .unwrap();
    assert!(theta_row.ends_with("at bound"));
    assert!(text.contains("42 iterations"));
    assert!(
        text.lines().count() < 16,
        "summary should be short:\n{text}"
    );
}

#[test]
fn thumbnail_is_a_small_svg_with_the_model_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_italy(tmp.path());
    let svg = std::fs::read_to_string(&files.thumbnail).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline"), "no lines in thumbnail");
    assert!(svg.len() < 60_000, "thumbnail too big: {} bytes", svg.len());
}

#[test]
fn a_forecast_with_misaligned_columns_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, result, mut forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    forecast.reproduction.pop();
    let err = report::write_region(tmp.path(), &data, &result, &forecast).unwrap_err();
    assert!(err.to_string().contains("'reproduction'"), "{err}");
    assert!(!tmp.path().join("fit.json").exists());
}

/// Not a check: writes the example report for a person to look at, into
/// `$SEIRD_REPORT_EXAMPLE_DIR` (default `target/report-example`). Run with
/// `cargo test --test report -- --ignored`.
#[test]
#[ignore = "writes an example report for viewing"]
fn example_report_for_viewing() {
    let dir = std::env::var_os("SEIRD_REPORT_EXAMPLE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-example"));
    write_italy(&dir);
}

/// The loss scores min(window, n) days, and report.md says so: an 8-day
/// series used to read "over the last 20 training days".
#[test]
fn report_md_names_the_days_actually_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, result, forecast) = outbreak(italy(), 8, 0, 5);
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    let md = std::fs::read_to_string(files.report_md).unwrap();
    assert!(
        md.contains("over the last 8 training days (weights 1/8, ..., 1/1)"),
        "{md}"
    );
    let (data, result, forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    let md = std::fs::read_to_string(files.report_md).unwrap();
    assert!(
        md.contains("over the last 20 training days (weights 1/20"),
        "{md}"
    );
}

/// A region name from the data is text in report.md, never markup: a
/// `<script>` block or a `javascript:` link used to pass through.
#[test]
fn hostile_region_names_stay_text_in_report_md() {
    let tmp = tempfile::tempdir().unwrap();
    let key = RegionKey::country("<script>alert(1)</script>[x](javascript:alert(2))");
    let (data, result, forecast) = outbreak(key, TRAIN, HELD, FORECAST);
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    assert!(!md.contains("<script>"), "{md}");
    // Only the escaped form `\](` remains, which is no link.
    assert!(!md.replace("\\](", "").contains("](javascript:"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    let html = std::fs::read_to_string(&files.report_html).unwrap();
    assert!(!html.contains("<script>alert"), "raw script in report.html");
    assert!(
        !html.contains("href=\"javascript:"),
        "a javascript link in report.html"
    );
}

/// Intervals whose quantiles are `factor` times the model's cumulative
/// values, times `1 + 0.2 (level - 0.5)`: 9 % below and above at 5 and 95 %.
fn scaled_intervals(forecast: &seird_fit::fit::Forecast, factor: f64) -> seird_fit::fit::Intervals {
    use seird_fit::fit::HUB_LEVELS;
    let t = forecast.train_days;
    let n = forecast.dates.len();
    let per = |v: &[f64]| -> Vec<Vec<f64>> {
        (t..n)
            .map(|j| {
                HUB_LEVELS
                    .iter()
                    .map(|l| v[j] * factor * (1.0 + 0.2 * (l - 0.5)))
                    .collect()
            })
            .collect()
    };
    let daily = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|j| if j == 0 { 0.0 } else { v[j] - v[j - 1] })
            .collect()
    };
    seird_fit::fit::Intervals {
        levels: HUB_LEVELS.to_vec(),
        dates: forecast.dates[t..].to_vec(),
        values: [
            per(&forecast.cases),
            per(&forecast.deaths),
            per(&daily(&forecast.cases)),
            per(&daily(&forecast.deaths)),
        ],
    }
}

#[test]
fn the_forecast_headline_quotes_the_published_median_not_the_model_curve() {
    let (data, result, mut forecast) = outbreak(italy(), TRAIN, HELD, FORECAST);
    forecast.intervals = Some(scaled_intervals(&forecast, 0.5));
    let tmp = tempfile::tempdir().unwrap();
    let files = report::write_region(tmp.path(), &data, &result, &forecast).unwrap();
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    // The last forecast day, 2020-04-13 (t = 43): median half the model.
    let g = report::group_thousands;
    let (model, median) = (model_cases(43), 0.5 * model_cases(43));
    let deaths = 0.5 * model_deaths(43);
    // 5 % and 95 %: the median times 1 -/+ 0.2 * 0.45.
    let (lo, hi) = (median * 0.91, median * 1.09);
    let want = format!(
        "On 2020-04-13 (14 days after the window) the forecast (median) is {} cumulative cases \
         and {} deaths (90 % intervals {}-{} and",
        g(median),
        g(deaths),
        g(lo),
        g(hi)
    );
    assert!(md.contains(&want), "report.md lacks {want:?}:\n{md}");
    assert!(
        md.contains(&format!(
            "the fitted model's curve alone reaches {}",
            g(model)
        )),
        "{md}"
    );
    assert!(!md.contains("the model predicts"), "{md}");
    // The terminal line says the same.
    let text = report::summary_text(&result, &forecast);
    let want = format!(
        "  forecast 2020-04-13 (median [90 %]): {} cases [",
        g(median)
    );
    assert!(text.contains(&want), "summary lacks {want:?}:\n{text}");
}
