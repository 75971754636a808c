//! `rudder history NAME`.

use miette::IntoDiagnostic;
use serde::Serialize;

use super::release_args::{self, OutputFormat};
use super::{CliResult, GlobalArgs};
use rudder::release::Store;

/// Arguments of `rudder history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
    /// Maximum number of revisions to show (the newest).
    #[arg(long, default_value_t = 256)]
    pub max: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// One row of `history -o json`, exactly Helm's shape.
#[derive(Serialize)]
struct Entry {
    revision: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    status: String,
    chart: String,
    app_version: String,
    #[serde(skip_serializing_if = "is_zero")]
    rollback_revision: u64,
    description: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Runs `rudder history`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let namespace = cluster.namespace().to_string();
    let store = Store::new(cluster);
    let history = runtime
        .block_on(store.history(&namespace, &args.name))
        .into_diagnostic()?;
    if history.is_empty() {
        return Err(miette::miette!("release: not found"));
    }
    let skip = history.len().saturating_sub(args.max);
    let entries: Vec<Entry> = history
        .iter()
        .skip(skip)
        .map(|r| {
            let info = r.release.info.clone().unwrap_or_default();
            Entry {
                revision: r.release.version,
                updated: info.last_deployed.clone(),
                status: info.status.to_string(),
                chart: release_args::chart_of(&r.release),
                app_version: release_args::app_version_of(&r.release),
                rollback_revision: info.rollback_revision,
                description: info.description,
            }
        })
        .collect();
    if args.output != OutputFormat::Table {
        release_args::print_structured(&entries, args.output)?;
        return Ok(0);
    }
    let with_rollback = entries.iter().any(|e| e.rollback_revision > 0);
    let mut header = vec!["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION"];
    if with_rollback {
        header.push("ROLLBACK");
    }
    header.push("DESCRIPTION");
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for e in entries {
        let mut row = vec![
            e.revision.to_string(),
            release_args::ansic(e.updated.as_deref()),
            e.status,
            e.chart,
            e.app_version,
        ];
        if with_rollback {
            row.push(if e.rollback_revision > 0 {
                e.rollback_revision.to_string()
            } else {
                String::new()
            });
        }
        row.push(e.description);
        rows.push(row);
    }
    release_args::print_table(&rows);
    Ok(0)
}
