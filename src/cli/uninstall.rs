//! `rudder uninstall NAME...`.

use std::time::Duration;

use miette::IntoDiagnostic;

use super::release_args;
use super::{CliResult, GlobalArgs};
use rudder::cluster::Cascade;
use rudder::release::uninstall::{uninstall, UninstallOptions};

/// `--cascade`.
#[derive(Debug, Clone, Copy, clap::ValueEnum, Default)]
pub enum CascadeArg {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// Arguments of `rudder uninstall`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Keep the revision history (mark the release uninstalled) instead of purging it.
    #[arg(long)]
    pub keep_history: bool,
    /// How dependents of deleted objects are deleted.
    #[arg(long, value_enum, default_value_t = CascadeArg::Background)]
    pub cascade: CascadeArg,
    /// Skip hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Simulate the uninstall.
    #[arg(long)]
    pub dry_run: bool,
    /// Succeed when the release does not exist.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Wait until every object is gone (`--wait` or `--wait=watcher`).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "watcher", value_name = "STRATEGY")]
    pub wait: Option<String>,
    /// Time to wait for any single operation, e.g. 5m0s.
    #[arg(long, default_value = "5m0s", value_parser = release_args::parse_duration)]
    pub timeout: Duration,
    /// While another operation holds the release, wait up to this long for it (e.g. 2m) instead
    /// of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = release_args::parse_duration)]
    pub wait_for_lock: Option<Duration>,
    /// Custom description stored with --keep-history.
    #[arg(long)]
    pub description: Option<String>,
}

/// Runs `rudder uninstall`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let progress = release_args::progress();
    let wait = release_args::parse_wait(args.wait.as_deref())?;
    for name in &args.names {
        let options = UninstallOptions {
            name: name.clone(),
            namespace: global.namespace.clone(),
            keep_history: args.keep_history,
            cascade: match args.cascade {
                CascadeArg::Background => Cascade::Background,
                CascadeArg::Foreground => Cascade::Foreground,
                CascadeArg::Orphan => Cascade::Orphan,
            },
            no_hooks: args.no_hooks,
            dry_run: args.dry_run,
            ignore_not_found: args.ignore_not_found,
            wait,
            timeout: args.timeout,
            description: args.description.clone(),
            wait_for_lock: args.wait_for_lock.unwrap_or_default(),
        };
        let outcome =
            release_args::run_operation(&runtime, uninstall(&cluster, &options, &progress))?
                .into_diagnostic()?;
        if let Some(outcome) = outcome {
            if !outcome.kept.is_empty() {
                println!("These resources were kept due to the resource policy:");
                for kept in &outcome.kept {
                    println!("[{kept}]");
                }
            }
            println!("release \"{name}\" uninstalled");
        }
    }
    Ok(0)
}
