//! Command-line interface: clap definitions and subcommand dispatch.
//!
//! `seird-fit --country X` (no subcommand) fits one region; the subcommands
//! live in [`crate::commands`], one module each.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::error::Error;

/// Fit SEIRD epidemic models with a time-varying transmission rate to
/// surveillance data, fast, and report what the fit means.
#[derive(Debug, Parser)]
#[command(
    name = "seird-fit",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  seird-fit --country Italy --data ../shared/data/kaggle/train.csv --end 2020-04-30\n  seird-fit --country China --province Hubei --data ../shared/data/jhu --end 2020-03-15\n  seird-fit regions --data ../shared/data/jhu\n  seird-fit batch --all --data ../shared/data/jhu --end 2020-04-30"
)]
pub struct Cli {
    /// A subcommand; without one, fit a single region (same flags as `fit`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Fit flags, when no subcommand is given.
    #[command(flatten)]
    pub fit: commands::fit::FitArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit one region (the default when no subcommand is given).
    Fit(commands::fit::FitArgs),
    /// List every region of a data set: population, first case, days.
    Regions(commands::regions::RegionsArgs),
    /// Simulate a synthetic data set with known parameters (Kaggle layout).
    Simulate(commands::simulate::SimulateArgs),
    /// Minimise a test problem with any solver of the optimizer stack.
    Optimize(commands::optimize::OptimizeArgs),
    /// Fit many regions in parallel and write a browsable report.
    Batch(commands::batch::BatchArgs),
    /// Rolling-origin evaluation of forecasts and intervals against persistence.
    Backtest(commands::backtest::BacktestArgs),
    /// Join the summaries of several batch shards.
    Merge(commands::merge::MergeArgs),
    /// Download real data (JHU CSSE global or US counties, or OWID).
    Download(commands::download::DownloadArgs),
    /// Print a shell completion script: `seird-fit completions bash > ~/.local/share/bash-completion/completions/seird-fit`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `seird-fit man > ~/.local/share/man/man1/seird-fit.1`.
    Man,
}

/// Parses `args` and runs the command. Usage errors and `--help` are printed
/// by clap here; other errors are returned for `main` to print as one line.
pub fn main_with_args<I, T>(args: I) -> Result<ExitCode, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use clap::FromArgMatches as _;
    let cli = match command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        // --help and --version print as clap renders them; a usage error
        // is one line `seird-fit: ...`, like every other error.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            eprintln!(
                "seird-fit: {}",
                one_line_usage_error(&e.render().to_string())
            );
            return Ok(ExitCode::from(2));
        }
    };
    run(cli)
}

/// The command line's definition, with every option taking a negative
/// number as its value: `--forecast-days -5` then reaches the flag's own
/// check and is refused naming the flag, instead of clap's misleading
/// "unexpected argument '-5' found".
fn command() -> clap::Command {
    fn negatives(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            if !a.is_positional() && a.get_action().takes_values() {
                a.allow_negative_numbers(true)
            } else {
                a
            }
        })
        .mut_subcommands(negatives)
    }
    negatives(<Cli as clap::CommandFactory>::command())
}

/// Clap's multi-line usage error as one line: the message and its details
/// (possible values, the missing flags), without the `Usage:` block and the
/// `--help` hint, and without clap's `error: ` prefix.
fn one_line_usage_error(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = parts.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    // A negative number for a count: say so rather than echo the integer
    // parser's "invalid digit found in string".
    let negative =
        line.starts_with("invalid value '-") && line.ends_with(": invalid digit found in string");
    let line = if negative {
        line.replace(
            ": invalid digit found in string",
            ": must be a whole number, not negative",
        )
    } else {
        line.to_string()
    };
    // The line echoes what the user typed: no control characters (ANSI or
    // OSC sequences), and a bounded length.
    let clean: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match clean.char_indices().nth(400) {
        Some((i, _)) => format!("{}...", &clean[..i]),
        None => clean,
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        None => commands::fit::run(&cli.fit),
        Some(Command::Fit(a)) => commands::fit::run(&a),
        Some(Command::Regions(a)) => commands::regions::run(&a),
        Some(Command::Simulate(a)) => commands::simulate::run(&a),
        Some(Command::Optimize(a)) => commands::optimize::run(&a),
        Some(Command::Batch(a)) => commands::batch::run(&a),
        Some(Command::Backtest(a)) => commands::backtest::run(&a),
        Some(Command::Merge(a)) => commands::merge::run(&a),
        Some(Command::Download(a)) => commands::download::run(&a),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "seird-fit", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| Error::Report(format!("man page: {e}")))?;
            use std::io::Write as _;
            std::io::stdout()
                .write_all(&out)
                .map_err(|source| Error::Io {
                    path: "<stdout>".into(),
                    source,
                })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
