//! `rudder rollback NAME [REVISION]`.

use std::time::Duration;

use miette::IntoDiagnostic;

use super::release_args;
use super::{CliResult, GlobalArgs};
use rudder::release::rollback::{rollback, RollbackOptions};
use rudder::release::ApplySettings;

/// Arguments of `rudder rollback`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// Revision to roll back to (0 or omitted: the previous one).
    #[arg(default_value_t = 0)]
    pub revision: u64,
    /// Wait strategy (see `rudder upgrade --help`).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "watcher", value_name = "STRATEGY")]
    pub wait: Option<String>,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// Time to wait for any single operation, e.g. 5m0s.
    #[arg(long, default_value = "5m0s", value_parser = release_args::parse_duration)]
    pub timeout: Duration,
    /// While another operation holds the release, wait up to this long for it (e.g. 2m) instead
    /// of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = release_args::parse_duration)]
    pub wait_for_lock: Option<Duration>,
    /// Delete objects created by a failed rollback.
    #[arg(long)]
    pub cleanup_on_fail: bool,
    /// Simulate the rollback (none, client or server).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<String>,
    /// Take fields owned by other field managers.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Delete and recreate objects whose change touches an immutable field.
    #[arg(long, alias = "force")]
    pub force_replace: bool,
    /// Skip hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Revisions to keep (0 = unlimited).
    #[arg(long, default_value_t = 10, env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
}

/// Runs `rudder rollback`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let settings = ApplySettings {
        wait: release_args::parse_wait(args.wait.as_deref())?,
        wait_for_jobs: args.wait_for_jobs,
        timeout: args.timeout,
        no_hooks: args.no_hooks,
        dry_run: release_args::parse_dry_run(args.dry_run.as_deref())?,
        force_conflicts: args.force_conflicts,
        force_replace: args.force_replace,
        cleanup_on_fail: args.cleanup_on_fail,
        history_max: args.history_max,
        // The release's own objects are adopted back as they were.
        take_ownership: true,
        wait_for_lock: args.wait_for_lock.unwrap_or_default(),
        ..ApplySettings::default()
    };
    let options = RollbackOptions {
        name: args.name.clone(),
        namespace: global.namespace.clone(),
        revision: args.revision,
        settings,
    };
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let progress = release_args::progress();
    let outcome = release_args::run_operation(&runtime, rollback(&cluster, &options, &progress))?
        .into_diagnostic()?;
    for notice in &outcome.notices {
        eprintln!("{notice}");
    }
    println!("Rollback was a success! Happy Helming!");
    Ok(0)
}
