//! `rudder upgrade NAME CHART`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;

use super::release_args::{self, ApplyArgs};
use super::values_args::ValuesArgs;
use super::{CliResult, GlobalArgs};
use rudder::cluster::Cluster;
use rudder::diff::live::{self, CompareOptions};
use rudder::diff::{compare, render, DiffOptions};
use rudder::release::plan::{self, apply_plan, UpgradePlan};
use rudder::release::upgrade::{upgrade, UpgradeOptions, ValuesReuse};
use rudder::release::DryRun;

/// Arguments of `rudder upgrade`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// The chart: a path, REPO/CHART, oci://HOST/PATH/CHART or an https:// URL.
    #[arg(required_unless_present = "plan")]
    pub chart: Option<PathBuf>,
    /// Apply exactly the plan written by `rudder diff upgrade --save-plan` (no chart, no values);
    /// refused, before any write, if the release or any of its objects changed since.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["chart", "diff", "install", "upgrade_crds", "reset_values", "reuse_values", "reset_then_reuse_values"])]
    pub plan: Option<PathBuf>,
    /// Print the diff of what the upgrade changes (as `rudder diff upgrade`), then apply exactly
    /// that.
    #[arg(long)]
    pub diff: bool,
    /// With --diff, ask y/N on the terminal before applying.
    #[arg(long, requires = "diff")]
    pub confirm: bool,
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
    if let Some(path) = &args.plan {
        return run_plan(&args, path, global);
    }
    // Fail before any cluster read rather than hang waiting for an answer nobody can give.
    if args.confirm && !std::io::stdin().is_terminal() {
        return Err(miette::miette!(
            help = "run without --confirm, or review with `rudder diff upgrade ... --save-plan FILE` and apply with `rudder upgrade NAME --plan FILE`",
            "--confirm asks y/N on a terminal, but stdin is not a terminal"
        ));
    }
    let chart = args
        .chart
        .as_ref()
        .ok_or_else(|| miette::miette!("a CHART argument is required (or --plan FILE)"))?;
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
        chart: args.source.resolve(&chart.to_string_lossy())?,
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
    let mut planned = None;
    if args.diff {
        match show_diff(&runtime, &cluster, &options, &args, global)? {
            Reviewed::Apply(plan) => planned = plan,
            Reviewed::Declined => {
                eprintln!("upgrade cancelled; nothing was changed");
                return Ok(1);
            }
        }
    }
    let outcome = match planned {
        // Apply exactly what was shown, refusing if anything moved while the user read it.
        Some(plan) => release_args::run_operation(
            &runtime,
            apply_plan(&cluster, &plan, &options.settings, &progress),
        )?,
        None => release_args::run_operation(&runtime, upgrade(&cluster, &options, &progress))?,
    }
    .into_diagnostic()?;
    // `--install` of a release that did not exist installs it; like Helm, it then reports an
    // install (the progress line said so), not an upgrade. Only a first revision was deployed
    // first and last at the same moment.
    let installed = outcome
        .release
        .info
        .as_ref()
        .is_some_and(|info| info.first_deployed == info.last_deployed);
    if args.apply.output == release_args::OutputFormat::Table && !installed {
        println!(
            "Release {:?} has been upgraded. Happy Helming!",
            outcome.release.name
        );
    }
    release_args::report_outcome(&outcome, args.apply.output, args.apply.hide_notes)?;
    Ok(0)
}

/// What the user decided after seeing the diff.
enum Reviewed {
    /// Go ahead; with the plan that applies exactly the diff shown (none for a new release or a
    /// dry run, which take the ordinary path).
    Apply(Option<Box<UpgradePlan>>),
    Declined,
}

/// `--diff`: prints what the upgrade changes (stdout, or stderr when stdout carries JSON/YAML)
/// and, with `--confirm`, asks on the terminal.
fn show_diff(
    runtime: &tokio::runtime::Runtime,
    cluster: &Cluster,
    options: &UpgradeOptions,
    args: &Args,
    global: &GlobalArgs,
) -> miette::Result<Reviewed> {
    let compare_options = CompareOptions {
        hooks: !args.apply.no_hooks,
        ..CompareOptions::default()
    };
    let comparison = runtime
        .block_on(live::upgrade_pairs(
            cluster,
            options,
            false,
            compare_options,
        ))
        .map_err(|e| miette::miette!("{e}"))?;
    let report = compare(comparison.pairs, &DiffOptions::default());
    let to_stdout = args.apply.output == release_args::OutputFormat::Table;
    let color = if to_stdout {
        super::diff::use_color(global)
    } else {
        super::diff::use_color(global) && std::io::stderr().is_terminal()
    };
    let text = render::diff(&report, color);
    if to_stdout {
        print!("{text}");
        std::io::stdout().flush().into_diagnostic()?;
    } else {
        eprint!("{text}");
    }
    if !report.has_changes() {
        eprintln!("no changes ({})", report.summary());
    }
    if args.confirm {
        eprint!(
            "Upgrade release {} with these changes? [y/N] ",
            options.name
        );
        std::io::stderr().flush().into_diagnostic()?;
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .into_diagnostic()?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Ok(Reviewed::Declined);
        }
    }
    // A plan applies objects only; CRD upgrades and dry runs take the ordinary path.
    let plan = comparison
        .plan
        .filter(|_| options.settings.dry_run == DryRun::None && !options.upgrade_crds)
        .map(Box::new);
    Ok(Reviewed::Apply(plan))
}

/// `rudder upgrade NAME --plan FILE`.
fn run_plan(args: &Args, path: &Path, global: &GlobalArgs) -> CliResult {
    let v = &args.values;
    let values_given = v.env.is_some()
        || !v.values.is_empty()
        || !v.set.is_empty()
        || !v.set_string.is_empty()
        || !v.set_file.is_empty()
        || !v.set_json.is_empty()
        || !v.set_literal.is_empty();
    if values_given {
        return Err(miette::miette!(
            "--plan applies the values fixed in the plan; drop --env, -f and --set* (make a new plan to change them)"
        ));
    }
    if args.apply.dry_run.is_some() {
        return Err(miette::miette!(
            "--plan cannot be combined with --dry-run; `rudder diff upgrade` shows what a plan does"
        ));
    }
    let bytes = rudder::input::read_file(path).map_err(|e| miette::miette!("--plan: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| miette::miette!("--plan {}: not UTF-8 text", path.display()))?;
    let plan: UpgradePlan = serde_json::from_str(&text).map_err(|e| {
        miette::miette!(
            "--plan {}:{}:{}: not an upgrade plan: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| plan.release.namespace.clone());
    plan::validate(&plan, &args.name, &namespace)
        .map_err(|e| miette::miette!("--plan {}: {e}", path.display()))?;
    let settings = args.apply.settings(args.history_max)?;
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let progress = release_args::progress();
    let outcome =
        release_args::run_operation(&runtime, apply_plan(&cluster, &plan, &settings, &progress))?
            .into_diagnostic()?;
    if args.apply.output == release_args::OutputFormat::Table {
        println!(
            "Release {:?} has been upgraded from plan {}. Happy Helming!",
            outcome.release.name,
            path.display()
        );
    }
    release_args::report_outcome(&outcome, args.apply.output, args.apply.hide_notes)?;
    Ok(0)
}
