//! seird-fit's integration tests, as one test binary (ripgrep style): each
//! module links the crate once instead of once per file, which is most of a
//! fresh clone's `cargo test` time.

mod batch_common;
mod bin;
mod common;
mod report_common;

mod batch;
mod batch_cli;
mod batch_index;
mod cli;
mod cli_data;
mod cli_ux;
mod converge;
mod counties;
mod data;
mod data_hygiene;
mod data_layouts;
mod data_lines;
mod download;
mod echo;
mod fit;
mod forecast;
mod fuzz_loaders;
mod model;
mod negative_values;
mod ode_models;
mod ode_oracle;
mod optim;
mod optim_auglag;
mod optim_checks;
mod optim_cli;
mod optim_expr;
mod optim_first_order;
mod optim_run;
mod optim_seird;
mod region_names;
mod reliable;
mod report;
mod report_plot;
mod report_ux;
mod run_config;
mod scale;
mod speed;
