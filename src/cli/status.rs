//! `rudder status NAME`.

use miette::IntoDiagnostic;

use super::release_args::{self, OutputFormat};
use super::{CliResult, GlobalArgs};
use rudder::cluster::{readiness, ObjectRef, Readiness};

/// Arguments of `rudder status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// Show this revision (default: the newest).
    #[arg(long, default_value_t = 0)]
    pub revision: u64,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Also list the release's objects with their live readiness.
    #[arg(long)]
    pub show_resources: bool,
    /// Do not print the chart's notes.
    #[arg(long)]
    pub hide_notes: bool,
}

/// Runs `rudder status`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let release = release_args::fetch_revision(&runtime, &cluster, &args.name, args.revision)?;
    release_args::print_release(&release, args.output, args.hide_notes, false)?;
    if args.show_resources && args.output == OutputFormat::Table {
        let objects =
            rudder::release::rendering::objects_of_manifest(&release.manifest).into_diagnostic()?;
        println!("RESOURCES:");
        for o in objects {
            let mut reference = ObjectRef::of(&o.object);
            if reference.namespace.is_none() {
                reference.namespace = Some(release.namespace.clone());
            }
            let live = runtime.block_on(async {
                let mut r = reference.clone();
                if let Ok(res) = cluster.resolve(&r.api_version, &r.kind).await {
                    if !res.namespaced {
                        r.namespace = None;
                    }
                }
                cluster.get(&r).await
            });
            let state = match live {
                Ok(Some(obj)) => match readiness(&obj) {
                    Readiness::Ready => "ready".to_string(),
                    Readiness::Pending(why) => format!("not ready: {why}"),
                    Readiness::Failed(why) => format!("failed: {why}"),
                },
                Ok(None) => "missing".to_string(),
                Err(e) => format!("unknown: {e}"),
            };
            println!("  {reference}: {state}");
        }
    }
    Ok(0)
}
