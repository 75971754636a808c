//! `rudder show`: print a chart's Chart.yaml, values or README.

use std::path::PathBuf;

use miette::{miette, IntoDiagnostic};

use super::{CliResult, GlobalArgs};
use rudder::chart;

/// Subcommands of `rudder show`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the chart's Chart.yaml.
    Chart {
        /// Chart directory or .tgz archive.
        chart: PathBuf,
    },
    /// Print the chart's values.yaml (as written, comments included).
    Values {
        /// Chart directory or .tgz archive.
        chart: PathBuf,
    },
    /// Print the chart's README.
    Readme {
        /// Chart directory or .tgz archive.
        chart: PathBuf,
    },
}

/// Runs `rudder show`.
pub fn run(command: Command, _global: &GlobalArgs) -> CliResult {
    match command {
        Command::Chart { chart } => {
            let chart = chart::load(&chart).into_diagnostic()?;
            let value = serde_json::to_value(&chart.metadata).into_diagnostic()?;
            print!("{}", rudder::yaml::to_string(&value));
        }
        Command::Values { chart } => {
            let chart = chart::load(&chart).into_diagnostic()?;
            match &chart.raw_values {
                Some(text) => print!("{text}"),
                None => print!("{}", rudder::yaml::to_string(&chart.values)),
            }
        }
        Command::Readme { chart: path } => {
            let chart = chart::load(&path).into_diagnostic()?;
            let readme = chart
                .files
                .iter()
                .find(|f| {
                    let lower = f.name.to_ascii_lowercase();
                    matches!(lower.as_str(), "readme.md" | "readme.txt" | "readme")
                })
                .ok_or_else(|| miette!("chart {} has no README.md", path.display()))?;
            print!("{}", String::from_utf8_lossy(&readme.data));
        }
    }
    Ok(0)
}
