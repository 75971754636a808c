//! `rudder install [NAME] CHART`.

use miette::IntoDiagnostic;

use super::release_args::{self, ApplyArgs};
use super::values_args::ValuesArgs;
use super::{CliResult, GlobalArgs};
use rudder::release::install::{install, InstallOptions};
use rudder::release::DryRun;

/// Arguments of `rudder install`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name, then the chart (only the chart with --generate-name): a path, REPO/CHART,
    /// oci://HOST/PATH/CHART or an https:// URL.
    #[arg(value_name = "NAME CHART", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Generate the release name.
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// Create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Do not install the chart's CRDs from crds/.
    #[arg(long)]
    pub skip_crds: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    #[command(flatten)]
    pub source: super::repo_args::ChartSourceArgs,
}

/// Runs `rudder install`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let (name, chart) = match (args.args.as_slice(), args.generate_name) {
        ([chart], true) => (None, chart.clone()),
        ([name, chart], false) => (Some(name.clone()), chart.clone()),
        ([_], false) => {
            return Err(miette::miette!(
                "rudder install needs a release name and a chart (or --generate-name and a chart)"
            ))
        }
        (_, true) => return Err(miette::miette!("with --generate-name, give only the chart")),
        _ => return Err(miette::miette!("rudder install takes NAME and CHART")),
    };
    let settings = args.apply.settings(0)?;
    let options = InstallOptions {
        name,
        chart: args.source.resolve(&chart)?,
        values: release_args::values_inputs(&args.values),
        namespace: global.namespace.clone(),
        create_namespace: args.create_namespace,
        generate_name: args.generate_name,
        skip_crds: args.skip_crds,
        settings,
    };
    let runtime = super::runtime()?;
    let cluster = if options.settings.dry_run == DryRun::Client {
        release_args::connect(&runtime, global).ok()
    } else {
        Some(release_args::connect(&runtime, global)?)
    };
    let progress = release_args::progress();
    let outcome =
        release_args::run_operation(&runtime, install(cluster.as_ref(), &options, &progress))?
            .into_diagnostic()?;
    release_args::report_outcome(&outcome, args.apply.output, args.apply.hide_notes)?;
    Ok(0)
}
