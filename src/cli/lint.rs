//! `rudder lint`: check a chart in every environment.

use std::path::PathBuf;

use super::values_args::ValuesArgs;
use super::{CliResult, GlobalArgs};
use rudder::lint::{lint, LintOptions, Severity};

/// Arguments of `rudder lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Chart directory or .tgz archive.
    #[arg(value_name = "CHART")]
    pub chart: PathBuf,
    /// Values flags applied in every environment; --env limits the lint to one environment.
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Lint the chart without an overlay and with every values/<env>.yaml (the default).
    #[arg(long, conflicts_with = "env")]
    pub all_envs: bool,
    /// Kubernetes version the apiVersions are checked against (default: the newest rudder knows).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

/// Runs `rudder lint`; exits 1 when there is an error.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let namespace = global.namespace.as_deref().unwrap_or("default");
    let inputs = args.values.inputs();
    let render = super::template::render_options(
        "release-name",
        namespace,
        args.kube_version.as_deref(),
        &[],
        None,
        false,
    )?;
    let envs = match (&inputs.env, args.all_envs) {
        (Some(env), false) => vec![Some(env.clone())],
        _ => Vec::new(),
    };
    let options = LintOptions {
        envs,
        inputs,
        render,
    };
    let report = lint(&args.chart, &options);
    let findings = &report.findings;
    for finding in findings {
        println!("{finding}");
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error || args.strict)
        .count();
    let warnings = findings.len() - errors;
    let environments: Vec<&str> = report
        .environments
        .iter()
        .map(|e| e.as_deref().unwrap_or("(no overlay)"))
        .collect();
    println!(
        "{}: {errors} error(s), {warnings} warning(s) in {}",
        args.chart.display(),
        if environments.is_empty() {
            "no environment".to_string()
        } else {
            environments.join(", ")
        }
    );
    Ok(if errors > 0 { 1 } else { 0 })
}
