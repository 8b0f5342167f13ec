//! Reports: fit.json, forecast.csv, forecast.png and report.md per region.
