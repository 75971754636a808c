//! `rudder upgrade NAME CHART`.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use super::release_args::{self, ApplyArgs};
use super::values_args::ValuesArgs;
use super::{CliResult, GlobalArgs};
use crate::release::upgrade::{upgrade, UpgradeOptions, ValuesReuse};

/// Arguments of `rudder upgrade`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// The chart: a path, REPO/CHART, oci://HOST/PATH/CHART or an https:// URL.
    pub chart: PathBuf,
    /// Install the release if it does not exist.
    #[arg(short = 'i', long)]
    pub install: bool,
    /// With --install, create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Do not install missing CRDs from crds/.
    #[arg(long)]
    pub skip_crds: bool,
    /// Apply changed CRDs from crds/ too (Helm never upgrades CRDs).
    #[arg(long)]
    pub upgrade_crds: bool,
    /// Use only the chart's defaults and the values given now.
    #[arg(long, conflicts_with_all = ["reuse_values", "reset_then_reuse_values"])]
    pub reset_values: bool,
    /// Reuse the last revision's values (and chart defaults) under the values given now.
    #[arg(long, conflicts_with = "reset_then_reuse_values")]
    pub reuse_values: bool,
    /// The new chart's defaults, then the last revision's values, then the values given now.
    #[arg(long)]
    pub reset_then_reuse_values: bool,
    /// Revisions to keep (0 = unlimited).
    #[arg(long, default_value_t = 10, env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    #[command(flatten)]
    pub source: super::repo_args::ChartSourceArgs,
}

/// Runs `rudder upgrade`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let reuse = if args.reset_values {
        ValuesReuse::Reset
    } else if args.reuse_values {
        ValuesReuse::Reuse
    } else if args.reset_then_reuse_values {
        ValuesReuse::ResetThenReuse
    } else {
        ValuesReuse::Default
    };
    let options = UpgradeOptions {
        name: args.name.clone(),
        chart: args.source.resolve(&args.chart.to_string_lossy())?,
        values: release_args::values_inputs(&args.values),
        namespace: global.namespace.clone(),
        reuse,
        install: args.install,
        create_namespace: args.create_namespace,
        skip_crds: args.skip_crds,
        upgrade_crds: args.upgrade_crds,
        settings: args.apply.settings(args.history_max)?,
    };
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let progress = release_args::progress();
    let outcome = runtime
        .block_on(upgrade(&cluster, &options, &progress))
        .into_diagnostic()?;
    if args.apply.output == release_args::OutputFormat::Table {
        println!(
            "Release {:?} has been upgraded. Happy Helming!",
            outcome.release.name
        );
    }
    release_args::report_outcome(&outcome, args.apply.output, args.apply.hide_notes)?;
    Ok(0)
}
