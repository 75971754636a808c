//! `rudder diff upgrade|rollback|revision|envs|charts`: what an operation would change.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;
use regex::Regex;

use super::release_args;
use super::values_args::ValuesArgs;
use super::{CliResult, ColorWhen, GlobalArgs};
use rudder::diff::live::{self, CompareOptions, DiffError};
use rudder::diff::render::{self, Format};
use rudder::diff::{
    as_hooks, compare, pair_by_key, DiffOptions, DiffReport, IgnorePath, Pair, SecretMode,
};
use rudder::release::plan::UpgradePlan;
use rudder::release::upgrade::ValuesReuse;

/// Subcommands of `rudder diff`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// What `rudder upgrade NAME CHART` with the same arguments would change in the cluster.
    Upgrade(UpgradeArgs),
    /// What `rudder rollback NAME [REVISION]` would change in the cluster.
    Rollback(RollbackArgs),
    /// Compare two stored revisions of a release (no object reads).
    Revision(RevisionArgs),
    /// Compare a chart rendered for two environments (no cluster).
    Envs(EnvsArgs),
    /// Compare two charts rendered with the same values (no cluster).
    Charts(ChartsArgs),
}

/// How the diff is shown and what counts.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Diff)]
    pub output: Format,
    /// Unchanged lines shown around each change.
    #[arg(short = 'C', long, default_value_t = 3)]
    pub context: usize,
    /// Exit 2 when there are changes (0 none, 1 error); suppressed changes do not count.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Hide changes of this kind (repeatable); they do not count as changes.
    #[arg(long, value_name = "KIND")]
    pub suppress: Vec<String>,
    /// Hide Secrets entirely (same as --suppress Secret).
    #[arg(short = 'q', long)]
    pub suppress_secrets: bool,
    /// Drop diff lines matching this regular expression (repeatable).
    #[arg(long, value_name = "RE")]
    pub suppress_output_line_regex: Vec<String>,
    /// Drop a field from both sides, e.g. metadata.labels.helm\.sh/chart (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ignore_path: Vec<String>,
    /// Show Secret values as stored (base64). Never use in CI logs.
    #[arg(long, conflicts_with = "show_secrets_decoded")]
    pub show_secrets: bool,
    /// Show Secret values decoded. Never use in CI logs.
    #[arg(long)]
    pub show_secrets_decoded: bool,
    /// Leave hooks out of the comparison.
    #[arg(long)]
    pub no_hooks: bool,
    /// Also compare `test` hooks.
    #[arg(long)]
    pub include_tests: bool,
    /// How many cluster requests run at once (1 = sequential; for benchmarks).
    #[arg(long, default_value_t = 16, hide = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

impl OutputArgs {
    /// How the comparison runs.
    pub fn compare(&self) -> CompareOptions {
        CompareOptions {
            hooks: !self.no_hooks,
            include_tests: self.include_tests,
            concurrency: usize::from(self.concurrency),
        }
    }
}

/// Arguments of `rudder diff upgrade`.
#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// Release name.
    pub name: String,
    /// The chart: a path, REPO/CHART, oci://HOST/PATH/CHART or an https:// URL.
    pub chart: PathBuf,
    /// Treat a release that does not exist yet as a new install (everything is added).
    #[arg(long, alias = "allow-unreleased")]
    pub install: bool,
    /// Compare with the deployed revision's stored manifest instead of the live objects.
    #[arg(long)]
    pub from_release: bool,
    /// Write the plan (objects, live resourceVersions, digests) for `rudder upgrade --plan`.
    #[arg(long, value_name = "FILE", conflicts_with = "from_release")]
    pub save_plan: Option<PathBuf>,
    /// Use only the chart's defaults and the new values.
    #[arg(long, conflicts_with_all = ["reuse_values", "reset_then_reuse_values"])]
    pub reset_values: bool,
    /// Reuse the previous revision's values under the new ones.
    #[arg(long, conflicts_with = "reset_then_reuse_values")]
    pub reuse_values: bool,
    /// New chart defaults, then the previous values, then the new ones.
    #[arg(long)]
    pub reset_then_reuse_values: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub source: super::repo_args::ChartSourceArgs,
}

/// Arguments of `rudder diff rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// Release name.
    pub name: String,
    /// Revision to roll back to (0 or omitted: the previous one).
    #[arg(default_value_t = 0)]
    pub revision: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Arguments of `rudder diff revision`.
#[derive(Debug, clap::Args)]
pub struct RevisionArgs {
    /// Release name.
    pub name: String,
    /// The older revision.
    pub revision_a: u64,
    /// The newer revision (default: the latest).
    pub revision_b: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Arguments of `rudder diff envs`.
#[derive(Debug, clap::Args)]
pub struct EnvsArgs {
    /// Chart directory or archive.
    pub chart: PathBuf,
    /// The environment on the left (values/<ENV_A>.yaml).
    pub env_a: String,
    /// The environment on the right.
    pub env_b: String,
    /// Release name used for rendering.
    #[arg(long, default_value = "release-name")]
    pub release: String,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Arguments of `rudder diff charts`.
#[derive(Debug, clap::Args)]
pub struct ChartsArgs {
    /// The old chart.
    pub old_chart: PathBuf,
    /// The new chart.
    pub new_chart: PathBuf,
    /// Release name used for rendering.
    #[arg(long, default_value = "release-name")]
    pub release: String,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `rudder diff`.
pub fn run(command: Command, global: &GlobalArgs) -> CliResult {
    match command {
        Command::Upgrade(args) => {
            let runtime = super::runtime()?;
            let cluster = release_args::connect(&runtime, global)?;
            let reuse = if args.reset_values {
                ValuesReuse::Reset
            } else if args.reuse_values {
                ValuesReuse::Reuse
            } else if args.reset_then_reuse_values {
                ValuesReuse::ResetThenReuse
            } else {
                ValuesReuse::Default
            };
            let chart = args.source.resolve(&args.chart.to_string_lossy())?;
            let options = live::upgrade_options(
                args.name,
                chart,
                release_args::values_inputs(&args.values),
                global.namespace.clone(),
                reuse,
                args.install,
            );
            let comparison = runtime
                .block_on(live::upgrade_pairs(
                    &cluster,
                    &options,
                    args.from_release,
                    args.output.compare(),
                ))
                .map_err(report)?;
            if let Some(path) = &args.save_plan {
                let plan = comparison.plan.as_ref().ok_or_else(|| {
                    miette::miette!(
                        "--save-plan needs an existing release: {} has no revision to plan an upgrade of (install it first)",
                        options.name
                    )
                })?;
                save_plan(path, plan)?;
            }
            finish(comparison.pairs, &args.output, global)
        }
        Command::Rollback(args) => {
            let runtime = super::runtime()?;
            let cluster = release_args::connect(&runtime, global)?;
            let namespace = cluster.namespace().to_string();
            let pairs = runtime
                .block_on(live::rollback_pairs(
                    &cluster,
                    &args.name,
                    &namespace,
                    args.revision,
                    args.output.compare(),
                ))
                .map_err(report)?;
            finish(pairs, &args.output, global)
        }
        Command::Revision(args) => {
            let runtime = super::runtime()?;
            let cluster = release_args::connect(&runtime, global)?;
            let namespace = cluster.namespace().to_string();
            let pairs = runtime
                .block_on(live::revision_pairs(
                    &cluster,
                    &args.name,
                    &namespace,
                    args.revision_a,
                    args.revision_b,
                    args.output.compare(),
                ))
                .map_err(report)?;
            finish(pairs, &args.output, global)
        }
        Command::Envs(args) => {
            let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
            let mut inputs = release_args::values_inputs(&args.values);
            let tests = args.output.include_tests;
            inputs.env = Some(args.env_a.clone());
            let before =
                live::render_objects(&args.chart, &inputs, &args.release, &namespace, tests)
                    .map_err(report)?;
            inputs.env = Some(args.env_b.clone());
            let after =
                live::render_objects(&args.chart, &inputs, &args.release, &namespace, tests)
                    .map_err(report)?;
            finish(
                local_pairs(before, after, &args.output),
                &args.output,
                global,
            )
        }
        Command::Charts(args) => {
            let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
            let inputs = release_args::values_inputs(&args.values);
            let tests = args.output.include_tests;
            let before =
                live::render_objects(&args.old_chart, &inputs, &args.release, &namespace, tests)
                    .map_err(report)?;
            let after =
                live::render_objects(&args.new_chart, &inputs, &args.release, &namespace, tests)
                    .map_err(report)?;
            finish(
                local_pairs(before, after, &args.output),
                &args.output,
                global,
            )
        }
    }
}

fn report(e: DiffError) -> miette::Report {
    miette::Report::msg(e.to_string())
}

/// Pairs two local renders, hooks included unless `--no-hooks`.
fn local_pairs(before: live::Rendered, after: live::Rendered, output: &OutputArgs) -> Vec<Pair> {
    let mut pairs = pair_by_key(before.objects, after.objects);
    if !output.no_hooks {
        pairs.extend(as_hooks(pair_by_key(before.hooks, after.hooks)));
    }
    pairs
}

/// Writes a plan with mode 0600 (it holds Secret data and values in clear), replacing `path`
/// atomically, and says so on stderr.
pub fn save_plan(path: &Path, plan: &UpgradePlan) -> miette::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = serde_json::to_string_pretty(plan)
        .map_err(|e| miette::miette!("cannot encode the plan: {e}"))?;
    text.push('\n');
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| miette::miette!("--save-plan {}: not a file name", path.display()))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        miette::miette!("--save-plan {}: cannot write the plan: {e}", path.display())
    })?;
    eprintln!(
        "wrote plan {} (mode 0600) for release {} revision {}: it holds the rendered objects, Secret data included, and the values in clear; keep it private",
        path.display(),
        plan.release.name,
        plan.release.next_revision
    );
    Ok(())
}

/// Builds the comparison options from the flags; a bad regex or path names the flag.
pub fn diff_options(args: &OutputArgs) -> miette::Result<DiffOptions> {
    let mut suppress_kinds = args.suppress.clone();
    if args.suppress_secrets {
        suppress_kinds.push("Secret".into());
    }
    let suppress_lines = args
        .suppress_output_line_regex
        .iter()
        .map(|re| {
            Regex::new(re).map_err(|e| {
                miette::miette!(
                    "--suppress-output-line-regex {re:?} is not a valid regular expression: {e}"
                )
            })
        })
        .collect::<miette::Result<Vec<_>>>()?;
    let ignore_paths = args
        .ignore_path
        .iter()
        .map(|p| {
            IgnorePath::parse(p).ok_or_else(|| {
                miette::miette!("--ignore-path {p:?} is not a field path (e.g. metadata.labels.helm\\.sh/chart)")
            })
        })
        .collect::<miette::Result<Vec<_>>>()?;
    let secrets = if args.show_secrets_decoded {
        SecretMode::ShowDecoded
    } else if args.show_secrets {
        SecretMode::Show
    } else {
        SecretMode::Redact
    };
    Ok(DiffOptions {
        context: args.context,
        suppress_kinds,
        suppress_lines,
        ignore_paths,
        secrets,
    })
}

/// Whether stdout gets colors: `--color`, `--no-color`, `NO_COLOR`, and a terminal for auto.
pub fn use_color(global: &GlobalArgs) -> bool {
    if global.no_color {
        return false;
    }
    match global.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Prints the report in the chosen format and returns the exit code.
pub fn print_report(report: &DiffReport, output: &OutputArgs, global: &GlobalArgs) -> u8 {
    let color = use_color(global);
    let text = match output.output {
        Format::Diff => render::diff(report, color),
        Format::Simple => render::simple(report, color),
        Format::Json => render::json(report),
        Format::Markdown => render::markdown(report),
    };
    print!("{text}");
    if !report.has_changes() && matches!(output.output, Format::Diff | Format::Simple) {
        eprintln!("no changes ({})", report.summary());
    }
    if output.detailed_exitcode && report.has_changes() {
        2
    } else {
        0
    }
}

fn finish(pairs: Vec<Pair>, output: &OutputArgs, global: &GlobalArgs) -> CliResult {
    let options = diff_options(output)?;
    let report = compare(pairs, &options);
    let code = print_report(&report, output, global);
    use std::io::Write;
    std::io::stdout().flush().into_diagnostic()?;
    Ok(code)
}
