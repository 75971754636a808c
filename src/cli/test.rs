//! `rudder test NAME`: runs the release's test hooks.

use std::time::Duration;

use miette::IntoDiagnostic;

use super::release_args;
use super::{CliResult, GlobalArgs};
use rudder::release::test_hooks::run_tests;
use rudder::release::ApplySettings;

/// Arguments of `rudder test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// Time to wait for each test, e.g. 5m0s.
    #[arg(long, default_value = "5m0s", value_parser = release_args::parse_duration)]
    pub timeout: Duration,
    /// While another operation holds the release, wait up to this long for it (e.g. 2m) instead
    /// of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = release_args::parse_duration)]
    pub wait_for_lock: Option<Duration>,
}

/// Runs `rudder test`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let progress = release_args::progress();
    let settings = ApplySettings {
        timeout: args.timeout,
        wait_for_lock: args.wait_for_lock.unwrap_or_default(),
        ..ApplySettings::default()
    };
    let tests = run_tests(
        &cluster,
        global.namespace.as_deref(),
        &args.name,
        &settings,
        &progress,
    );
    let (release, result) = release_args::run_operation(&runtime, tests)?.into_diagnostic()?;
    release_args::print_release(&release, release_args::OutputFormat::Table, true, false)?;
    result.into_diagnostic()?;
    Ok(0)
}
