//! `rudder create`: write a starter rudder-native chart.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use super::{CliResult, GlobalArgs};
use rudder::chart::starter;

/// Arguments of `rudder create`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create; its last component is the chart name (e.g. charts/shop).
    #[arg(value_name = "NAME")]
    pub name: PathBuf,
}

/// Runs `rudder create`.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    let written = starter::create(&args.name).into_diagnostic()?;
    eprintln!(
        "Created chart {} ({} files). Try: rudder template {} --env dev",
        args.name.display(),
        written.len(),
        args.name.display()
    );
    Ok(0)
}
