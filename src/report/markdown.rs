//! Text for people: `report.md` and the terminal summary.

use std::fmt::Write as _;

use crate::data::{DeclinePolicy, TrainingData};
use crate::fit::{FitResult, Forecast, Target};
use crate::model::{N_PARAMS, PARAM_NAMES};

use super::group_thousands;

/// What each parameter is, for readers: (symbol, unit, meaning).
const PARAM_INFO: [(&str, &str, &str); N_PARAMS] = [
    (
        "R_0",
        "",
        "basic reproduction number: new infections per infectious person before interventions",
    ),
    (
        "theta",
        "",
        "fatality ratio: the share of removed persons (recovered + dead) who die",
    ),
    (
        "k",
        "",
        "steepness of the decay from R_0 to R_t (Hill exponent; large k = abrupt change)",
    ),
    (
        "L",
        "days",
        "decay midpoint: the day (after the first training day) at which R is half-way between R_0 and R_t",
    ),
    (
        "R_t",
        "",
        "reproduction number after interventions (what R(t) decays to)",
    ),
    (
        "D_rec",
        "days",
        "infectious period: mean days from becoming infectious to removal (rho = 1/D_rec)",
    ),
    (
        "D_inc",
        "days",
        "incubation period: mean days from infection to becoming infectious (alpha = 1/D_inc)",
    ),
];

/// Formats a parameter value with a precision that suits its size.
fn fmt_value(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

/// A compact number for losses.
/// A duration for people: milliseconds below a second (a fit takes a few),
/// seconds above.
fn fmt_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

fn fmt_loss(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        format!("{v:.5}")
    }
}

/// The calendar date of day `l` after the first training day.
fn midpoint_date(result: &FitResult) -> String {
    let l = result.params.l;
    if l.is_finite() && l.abs() < 1e5 {
        (result.start_date + chrono::Duration::days(l.round() as i64)).to_string()
    } else {
        "-".into()
    }
}

fn policy_name(p: DeclinePolicy) -> &'static str {
    match p {
        DeclinePolicy::Keep => "keep (numbers used as reported)",
        DeclinePolicy::RunningMax => "running-max (each day raised to the running maximum)",
        DeclinePolicy::Redistribute => "redistribute (corrections spread back over earlier days)",
    }
}

/// Model values and observation on the last forecast day.
struct Headline {
    date: chrono::NaiveDate,
    cases: f64,
    deaths: f64,
    observed: Option<(f64, f64)>,
}

/// The last forecast day's 5/50/95 % quantiles of cumulative cases and of
/// deaths, when the forecast has intervals.
fn published_headline(forecast: &Forecast) -> Option<(chrono::NaiveDate, [f64; 3], [f64; 3])> {
    let iv = forecast.intervals.as_ref()?;
    let date = *iv.dates.last()?;
    let last = |target: Target| -> Option<[f64; 3]> {
        let q = |l: f64| iv.quantile(target, l).and_then(|v| v.last().copied());
        Some([q(0.05)?, q(0.5)?, q(0.95)?])
    };
    Some((date, last(Target::Cases)?, last(Target::Deaths)?))
}

/// `n` persons with the noun in the singular for exactly one ("1 death",
/// "2 deaths", "1,234 cases").
fn counted(n: f64, noun: &str) -> String {
    let n = group_thousands(n);
    let s = if n == "1" { "" } else { "s" };
    format!("{n} {noun}{s}")
}

fn headline(data: &TrainingData, forecast: &Forecast) -> Option<Headline> {
    let j = forecast.dates.len().checked_sub(1)?;
    let date = forecast.dates[j];
    let observed = data
        .held_out_dates
        .iter()
        .position(|d| *d == date)
        .map(|h| (data.held_out_cases[h], data.held_out_deaths[h]))
        .or_else(|| {
            data.dates
                .iter()
                .position(|d| *d == date)
                .map(|t| (data.cases[t], data.deaths[t]))
        });
    Some(Headline {
        date,
        cases: forecast.cases[j],
        deaths: forecast.deaths[j],
        observed,
    })
}

/// "upper bound: the data do not determine it" for a parameter on a bound
/// (which bound it is, read off the value), `None` for the others.
fn bound_note(result: &FitResult, j: usize) -> Option<String> {
    let v = result.params.to_array()[j];
    let lo = result.config.bounds.lower.to_array()[j];
    let hi = result.config.bounds.upper.to_array()[j];
    // The fit's own list, or a value within 0.1% of the range from a bound
    // (R_0 = 6.4899 is the bound 6.49 for a reader).
    let near = (v - lo).abs().min((hi - v).abs()) <= 1e-3 * (hi - lo).abs();
    if !near && !result.at_bound.iter().any(|b| b == PARAM_NAMES[j]) {
        return None;
    }
    let side = if (v - lo).abs() <= (hi - v).abs() {
        "lower"
    } else {
        "upper"
    };
    Some(format!("{side} bound: the data do not determine it"))
}

/// The first training day on which cumulative cases reached `threshold`.
fn first_day_with(data: &TrainingData, threshold: f64) -> Option<chrono::NaiveDate> {
    data.cases
        .iter()
        .position(|c| *c >= threshold)
        .map(|j| data.dates[j])
}

/// What R(t) did, in words, with the caveats a reader needs: a change dated
/// before the outbreak took off (day 0 is the first confirmed case, often a
/// lone import weeks earlier) is how the fit bends its start, not the date
/// of an intervention; a rise from R_0 = 0 has no percentage.
fn transmission_sentence(data: &TrainingData, result: &FitResult) -> String {
    let p = &result.params;
    let (r0, rt) = (fmt_value(p.r_0), fmt_value(p.r_t));
    let when = format!("around {} (day {:.1})", midpoint_date(result), p.l);
    let mut out = if (p.r_0 - p.r_t).abs() < 1e-3 * p.r_0.abs().max(1e-3) {
        format!("R_0 = {r0} = R_t: transmission did not change in the fitted window.")
    } else if p.r_0 <= 1e-9 {
        format!("R_0 = 0 -> R_t = {rt}: R(t) rose from 0 to {rt} {when}; the model starts without transmission, which is how it fits a delayed take-off, not a measured rise.")
    } else {
        let change = (1.0 - p.r_t / p.r_0).abs() * 100.0;
        let verb = if p.r_t < p.r_0 { "fell" } else { "rose" };
        format!("R_0 = {r0} -> R_t = {rt}: transmission {verb} by {change:.0}% {when}.")
    };
    // Take-off: cumulative cases first reach 100 (or a tenth of the last
    // count, for small outbreaks).
    let last = data.cases.last().copied().unwrap_or(0.0);
    let threshold = (last / 10.0).clamp(1.0, 100.0).round();
    let midpoint = result.start_date + chrono::Duration::days(p.l.clamp(0.0, 1e5).round() as i64);
    if let Some(takeoff) = first_day_with(data, threshold) {
        if p.r_0 > 1e-9 && midpoint < takeoff {
            out.push_str(&format!(
                "\n\n**Caveat:** this change is dated before cumulative cases reached {} (on {takeoff}). \
                 Day 0 is the first day with a confirmed case, {}; a change dated before \
                 the outbreak took off is how the fit shapes its start, not the date of an intervention.",
                group_thousands(threshold),
                result.start_date
            ));
        }
    }
    out
}

/// `## Fit quality`: the whole window, daily counts, the worst day, and
/// what the model cannot represent.
fn quality_section(s: &mut String, data: &TrainingData, forecast: &Forecast) {
    let q = super::quality::window_quality(data, forecast);
    let _ = writeln!(
        s,
        "## Fit quality over the whole window
"
    );
    let _ = writeln!(
        s,
        "The loss above weighs only the last days; these numbers cover every training day.\n"
    );
    let deaths = q
        .rmsle_daily_deaths
        .map(|d| format!(", deaths {d:.2}"))
        .unwrap_or_else(|| "; no deaths observed".into());
    let _ = writeln!(
        s,
        "- RMSLE of daily new counts: cases {:.2}{deaths} (0 is a perfect fit; 0.69 means typically 2-fold off)",
        q.rmsle_daily_cases
    );
    if let Some(w) = &q.worst {
        let _ = writeln!(
            s,
            "- Worst day: {}, cumulative {}: model {}, observed {} ({:.1}-fold {})",
            w.date,
            w.series,
            group_thousands(w.model),
            group_thousands(w.observed),
            w.fold,
            if w.model > w.observed {
                "too high"
            } else {
                "too low"
            }
        );
    }
    let _ = writeln!(s);
    if q.new_cases < 30.0 {
        let _ = writeln!(
            s,
            "**Nearly flat series:** only {} new cases in the window. So few counts cannot \
             determine the parameters; read the fit as a curve through them, not as estimates.\n",
            group_thousands(q.new_cases)
        );
    } else if q.waves >= 2 {
        let _ = writeln!(
            s,
            "**The model cannot represent these data:** the daily cases show {} waves, and the \
             model's transmission declines once (R_0 to R_t), so it can follow one wave at most. \
             The fit is a compromise between the waves; fit a window around one wave (`--start`, `--end`).\n",
            q.waves
        );
    } else if q.rmsle_daily_cases > 1.0 {
        let _ = writeln!(
            s,
            "**Poor fit:** the model misses daily cases {:.1}-fold on the median day, and \
             {:.1}-fold or more on one day in ten.\n",
            q.median_fold_daily_cases, q.p90_fold_daily_cases
        );
    }
}

/// The page `report.md`.
pub fn report_md(data: &TrainingData, result: &FitResult, forecast: &Forecast) -> String {
    let mut s = String::new();
    // The name comes from the data: escaped, so that `<script>` or a
    // `[x](javascript:...)` link in it stays text in report.md and report.html.
    let name = crate::text::markdown_inline(&data.key.display_name());
    let p = &result.params;
    let bounds = &result.config.bounds;
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(s, "# SEIRD fit: {name}\n");
    let _ = writeln!(
        s,
        "![observed vs fitted cumulative and daily cases and deaths, and R(t)](forecast.png)\n"
    );
    let _ = writeln!(
        s,
        "Blue shade: the training window; yellow: the forecast days. Light rings: \
         observations the fit saw; crosses: held-out observations after the window. \
         Dark lines: the model over the training window; dashed: the forecast, the \
         median of its 50 % and 90 % intervals (shaded) when they were computed, from \
         the last observation (the model curve then continues as a thin line), else \
         the model curve. Zeros sit on the grey row marked 0. R(t) = beta(t)/rho is the reproduction number in a wholly \
         susceptible population; R_eff = R(t) S/N accounts for the immune.\n"
    );

    let _ = writeln!(s, "## Data window\n");
    let _ = writeln!(
        s,
        "- Training window: {} to {} ({} days; day 0 is the first day with confirmed cases unless `--start` was given)",
        result.start_date, result.end_date, result.train_days
    );
    let _ = writeln!(s, "- Population: {}", group_thousands(result.population));
    if let (Some(c), Some(d)) = (data.cases.last(), data.deaths.last()) {
        let _ = writeln!(
            s,
            "- Observed on {}: {} cases, {} deaths",
            result.end_date,
            group_thousands(*c),
            group_thousands(*d)
        );
    }
    let _ = writeln!(
        s,
        "- Days whose cumulative counts went down (reporting corrections): {}; policy: {}",
        result.data.decline_days,
        policy_name(result.data.decline_policy)
    );
    let _ = writeln!(
        s,
        "- Held-out days (observed after the window, not used by the fit): {}\n",
        result.data.held_out_days
    );

    let _ = writeln!(s, "## Parameters\n");
    let _ = writeln!(
        s,
        "R(t) = R_t + (R_0 - R_t) / (1 + (t/L)^k) and beta(t) = R(t) / D_rec drive \
         S -> E -> I -> R/D: dS = -beta S I / N, dE = beta S I / N - E / D_inc, \
         dI = E / D_inc - I / D_rec, dR = (1 - theta) I / D_rec, dD = theta I / D_rec.\n"
    );
    let _ = writeln!(
        s,
        "| parameter | value | lower bound | upper bound | meaning |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---|");
    let (v, lo, hi) = (
        p.to_array(),
        bounds.lower.to_array(),
        bounds.upper.to_array(),
    );
    for (j, (symbol, unit, meaning)) in PARAM_INFO.iter().enumerate() {
        let flag = bound_note(result, j)
            .map(|note| format!(" **({note})**"))
            .unwrap_or_default();
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        let extra = if PARAM_NAMES[j] == "l" {
            format!(" (calendar date {})", midpoint_date(result))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {symbol} (`{}`) | {}{unit}{flag} | {} | {} | {meaning}{extra} |",
            PARAM_NAMES[j],
            fmt_value(v[j]),
            fmt_value(lo[j]),
            fmt_value(hi[j]),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", transmission_sentence(data, result));
    // Identifiability (which parameters the data determine) is the fit's to
    // compute; until FitResult carries it, parameters on a bound are the
    // ones known not to be determined, and are worded so in the table.
    if result.at_bound.is_empty() {
        let _ = writeln!(s, "\nNo parameter ended on a bound.\n");
    } else {
        let _ = writeln!(
            s,
            "\n**Parameters at a bound: {}.** The optimum may lie outside the box; \
             the data do not determine these values: read them as limits, not estimates.\n",
            result.at_bound.join(", ")
        );
    }
    identifiability(&mut s, result);

    let _ = writeln!(s, "## Loss\n");
    let loss = &result.loss;
    let cfg = &result.config.loss;
    // The loss scores min(window, n) days: an 8-day series has 8 scored days.
    let scored = cfg.window.min(result.train_days);
    let _ = writeln!(
        s,
        "Recency-weighted mean squared log error over the last {scored} training days (weights 1/{scored}, ..., 1/1).\n"
    );
    let _ = writeln!(s, "| | MSLE |\n|---|---:|");
    let _ = writeln!(
        s,
        "| objective ({}) | {} |",
        if cfg.cases_only {
            "cases only"
        } else {
            "mean of cases and deaths"
        },
        fmt_loss(loss.msle)
    );
    let _ = writeln!(s, "| cases | {} |", fmt_loss(loss.msle_cases));
    let _ = writeln!(s, "| deaths | {} |\n", fmt_loss(loss.msle_deaths));
    quality_section(&mut s, data, forecast);

    let _ = writeln!(s, "## Optimizer\n");
    let o = &result.optimizer;
    let _ = writeln!(s, "- Method: {} with {} gradients", o.method, o.gradient);
    let _ = writeln!(s, "- Iterations: {}", o.iterations);
    let _ = writeln!(
        s,
        "- Evaluations: {} loss, {} gradient",
        o.loss_evals, o.gradient_evals
    );
    let _ = writeln!(s, "- Termination: {}", o.termination);
    let _ = writeln!(s, "- Wall time: {}", fmt_duration(o.seconds));
    let _ = writeln!(
        s,
        "- Failed ODE solves (the line search backed off): {}{}\n",
        o.solve_failures,
        o.solve_failure
            .as_deref()
            .map(|why| format!(" (the last: {why})"))
            .unwrap_or_default()
    );

    let _ = writeln!(s, "## Forecast\n");
    let days_ahead = forecast.dates.len().saturating_sub(forecast.train_days);
    let published = published_headline(forecast);
    if let (Some(h), Some((date, [c05, c50, c95], [d05, d50, d95]))) =
        (headline(data, forecast), published)
    {
        // With intervals the forecast is their median (the table below,
        // forecast_quantiles.csv and the dashed line of forecast.png); the
        // model curve is not it, and a headline quoting the curve
        // contradicted the table (Italy to 2020-04-30: 231,400 against a
        // median of 257,974).
        let method = result
            .forecast
            .as_ref()
            .map_or(String::new(), |f| format!(", method `{}`", f.method));
        let _ = writeln!(
            s,
            "On {date} ({days_ahead} days after the window) the forecast (median{method}) is \
             {} and {} (90 % intervals {}-{} and {}-{}); the fitted model's curve alone \
             reaches {} and {}.",
            counted(c50, "cumulative case"),
            counted(d50, "death"),
            group_thousands(c05),
            group_thousands(c95),
            group_thousands(d05),
            group_thousands(d95),
            group_thousands(h.cases),
            group_thousands(h.deaths)
        );
        if let Some((c, d)) = h.observed {
            let _ = writeln!(
                s,
                "Observed that day: {} and {}.",
                counted(c, "case"),
                counted(d, "death")
            );
        }
    } else if let Some(h) = headline(data, forecast) {
        let _ = writeln!(
            s,
            "On {} ({days_ahead} days after the window) the model predicts {} cumulative cases and {} deaths.",
            h.date,
            group_thousands(h.cases),
            group_thousands(h.deaths)
        );
        if let Some((c, d)) = h.observed {
            let _ = writeln!(
                s,
                "Observed that day: {} cases, {} deaths.",
                group_thousands(c),
                group_thousands(d)
            );
        }
    }
    if let Some(iv) = &forecast.intervals {
        let how = result.forecast.as_ref().map_or(String::new(), |f| {
            format!(
                " (method `{}`, calibrated on its own errors at up to {} earlier origins of \
                 this region, the data cut at each; beyond the {} most recent, origins whose \
                 weekly count was under {} of today's are left out)",
                f.method,
                f.pseudo_origins,
                crate::forecast::MIN_KEPT,
                crate::forecast::MIN_ACTIVITY
            )
        });
        let _ = writeln!(
            s,
            "\nForecast quantiles{how}; every day and level in \
             [forecast_quantiles.csv](forecast_quantiles.csv):\n\n{}",
            super::quantiles::markdown_table(iv)
        );
    }
    let _ = writeln!(
        s,
        "\nEvery day's numbers, compartments and R(t) are in [forecast.csv](forecast.csv); \
         the fit itself in [fit.json](fit.json)."
    );
    s
}

/// A few lines for the terminal: window, loss, optimizer, a compact
/// parameter table and the forecast headline.
pub fn summary_text(result: &FitResult, forecast: &Forecast) -> String {
    let mut s = String::new();
    // A name from the data, for the terminal.
    let name = crate::text::for_terminal(&match &result.region.province {
        Some(p) => format!("{}/{}", result.region.country, p),
        None => result.region.country.clone(),
    });
    let o = &result.optimizer;
    let _ = writeln!(
        s,
        "{name}: {} .. {} ({} training days), population {}",
        result.start_date,
        result.end_date,
        result.train_days,
        group_thousands(result.population)
    );
    let _ = writeln!(
        s,
        "  loss  msle {} (cases {}, deaths {})",
        fmt_loss(result.loss.msle),
        fmt_loss(result.loss.msle_cases),
        fmt_loss(result.loss.msle_deaths)
    );
    let _ = writeln!(
        s,
        "  {} ({}): {} iterations, {} loss / {} gradient evaluations, {}, {}",
        o.method,
        o.gradient,
        o.iterations,
        o.loss_evals,
        o.gradient_evals,
        fmt_duration(o.seconds),
        o.termination
    );
    let _ = writeln!(
        s,
        "  {:<6} {:>10} {:>9} {:>9}",
        "param", "value", "lower", "upper"
    );
    let v = result.params.to_array();
    let lo = result.config.bounds.lower.to_array();
    let hi = result.config.bounds.upper.to_array();
    for (j, (symbol, _, _)) in PARAM_INFO.iter().enumerate() {
        let flag = if result.at_bound.iter().any(|b| b == PARAM_NAMES[j]) {
            "  at bound"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {symbol:<6} {:>10} {:>9} {:>9}{flag}",
            fmt_value(v[j]),
            fmt_value(lo[j]),
            fmt_value(hi[j])
        );
    }
    // The published forecast (the intervals' median) when there is one; the
    // model curve, which this line printed as "forecast" before, can be far
    // from it (Kenedy, TX: 8 cases and 1 death against 7 and 2).
    if let Some((d, [c05, c50, c95], [d05, d50, d95])) = published_headline(forecast) {
        let _ = writeln!(
            s,
            "  forecast {d} (median [90 %]): {} cases [{}, {}], {} deaths [{}, {}]",
            group_thousands(c50),
            group_thousands(c05),
            group_thousands(c95),
            group_thousands(d50),
            group_thousands(d05),
            group_thousands(d95)
        );
    } else if let (Some(d), Some(c), Some(x)) = (
        forecast.dates.last(),
        forecast.cases.last(),
        forecast.deaths.last(),
    ) {
        let _ = writeln!(
            s,
            "  forecast {d}: {} cases, {} deaths",
            group_thousands(*c),
            group_thousands(*x)
        );
    }
    s
}

/// What a parameter's profile says, in the words of report.md and
/// profiles.png alike: `value` with its 90 % `interval` inside the box
/// `[lo, hi]`. A value on a bound reads "upper bound: the data do not
/// determine it"; an interval open to a bound gives only a limit, so it is
/// never worded "estimated".
pub fn verdict_words(
    value: f64,
    interval: [f64; 2],
    lo: f64,
    hi: f64,
    status: crate::fit::identify::Identifiability,
) -> String {
    use crate::fit::identify::Identifiability;
    let width = (hi - lo).abs();
    // Within 0.1 % of the range from a bound is the bound for a reader
    // (R_0 = 6.4899 is 6.49), as in the parameter list above.
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-3 * width;
    let [a, b] = interval;
    // An undetermined value's profile may still close on one side: Kenedy's
    // R_t = 0 has [0, 1.79], its R_0 [0, 3.64], and profiles.png shows those
    // limits; the words must not say the data say nothing.
    let limit = match (near(a, lo), near(b, hi)) {
        (true, false) => format!(" (at most {b:.3})"),
        (false, true) => format!(" (at least {a:.3})"),
        _ => String::new(),
    };
    if status == Identifiability::OnBound || near(value, lo) || near(value, hi) {
        let side = if (value - lo).abs() <= (hi - value).abs() {
            "lower"
        } else {
            "upper"
        };
        return format!("{side} bound: the data do not determine it{limit}");
    }
    match (status, near(a, lo), near(b, hi)) {
        (Identifiability::NotIdentifiable, _, _) | (_, true, true) => {
            format!("not identifiable: the data do not determine it{limit}")
        }
        (_, false, true) => format!("at least {a:.3}: the data give no upper limit"),
        (_, true, false) => format!("at most {b:.3}: the data give no lower limit"),
        _ => "estimated".into(),
    }
}

/// What the data determine: the 90 % profile-likelihood interval and the
/// verdict of each parameter (nothing when they were not computed).
fn identifiability(s: &mut String, result: &FitResult) {
    let (Some(ci), Some(verdict)) = (&result.params_ci, &result.identifiable) else {
        return;
    };
    let _ = writeln!(
        s,
        "What the data determine (90 % profile-likelihood intervals; the weighted MSLE read as \
         a Gaussian log-likelihood with the noise scale estimated from the residuals):\n"
    );
    let _ = writeln!(s, "| parameter | estimate | 90 % interval | verdict |");
    let _ = writeln!(s, "|---|---|---|---|");
    let x = result.params.to_array();
    let lo = result.config.bounds.lower.to_array();
    let hi = result.config.bounds.upper.to_array();
    for (j, name) in PARAM_NAMES.iter().enumerate() {
        let (Some(&[a, b]), Some(&v)) = (ci.get(*name), verdict.get(*name)) else {
            continue;
        };
        let _ = writeln!(
            s,
            "| {name} | {:.4} | [{a:.4}, {b:.4}] | {} |",
            x[j],
            verdict_words(x[j], [a, b], lo[j], hi[j], v)
        );
    }
    let _ = writeln!(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_open_to_a_bound_is_never_worded_estimated() {
        use crate::fit::identify::Identifiability::*;
        // Italy to 2020-04-30: R_0 = 6.02 in [0, 6.49], interval [4.55, 6.49].
        assert_eq!(
            verdict_words(6.022, [4.551, 6.49], 0.0, 6.49, Estimated),
            "at least 4.551: the data give no upper limit"
        );
        assert_eq!(
            verdict_words(0.338, [0.0, 0.693], 0.0, 6.49, Estimated),
            "at most 0.693: the data give no lower limit"
        );
        assert_eq!(
            verdict_words(6.4899, [5.0, 6.49], 0.0, 6.49, Estimated),
            "upper bound: the data do not determine it (at least 5.000)"
        );
        assert_eq!(
            verdict_words(3.48, [3.48, 4.3], 3.48, 18.0, OnBound),
            "lower bound: the data do not determine it (at most 4.300)"
        );
        // Kenedy, TX to 2020-09-30: R_t = 0 in [0, 1.792] of [0, 6.49].
        assert_eq!(
            verdict_words(0.0, [0.0, 1.792], 0.0, 6.49, OnBound),
            "lower bound: the data do not determine it (at most 1.792)"
        );
        // An interval from bound to bound gives no limit.
        assert_eq!(
            verdict_words(5.0, [0.0, 5.0], 0.0, 5.0, OnBound),
            "upper bound: the data do not determine it"
        );
        // Over half the box is not identifiable, but one side may close.
        assert_eq!(
            verdict_words(1.012, [0.0, 3.643], 0.0, 6.49, NotIdentifiable),
            "not identifiable: the data do not determine it (at most 3.643)"
        );
        assert_eq!(
            verdict_words(0.15, [0.12, 0.15], 0.01, 0.15, OnBound),
            "upper bound: the data do not determine it (at least 0.120)"
        );
        assert_eq!(
            verdict_words(2.0, [0.0, 5.0], 0.0, 5.0, Estimated),
            "not identifiable: the data do not determine it"
        );
        assert_eq!(
            verdict_words(0.14, [0.13, 0.145], 0.01, 0.15, Estimated),
            "estimated"
        );
    }

    #[test]
    fn durations_read_in_milliseconds_below_a_second() {
        assert_eq!(fmt_duration(0.00364), "3.6 ms");
        assert_eq!(fmt_duration(0.0), "0.0 ms");
        assert_eq!(fmt_duration(2.5), "2.50 s");
    }
}
