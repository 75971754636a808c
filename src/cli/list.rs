//! `rudder list`.

use miette::IntoDiagnostic;
use serde::Serialize;

use super::release_args::{self, OutputFormat};
use super::{CliResult, GlobalArgs};
use rudder::release::storage::Status;
use rudder::release::Store;

/// Arguments of `rudder list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List releases in all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Show releases of every status (the default, as in Helm 4; kept for compatibility).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only releases whose name matches this regular expression.
    #[arg(short = 'f', long)]
    pub filter: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Print only release names.
    #[arg(short = 'q', long)]
    pub short: bool,
    /// Maximum number of releases to show.
    #[arg(short = 'm', long, default_value_t = 256)]
    pub max: usize,
    /// Omit the table header.
    #[arg(long)]
    pub no_headers: bool,
    /// Sort by last deployment time instead of name.
    #[arg(short = 'd', long)]
    pub date: bool,
    /// Reverse the order.
    #[arg(short = 'r', long)]
    pub reverse: bool,
    /// Only deployed releases.
    #[arg(long)]
    pub deployed: bool,
    /// Only failed releases.
    #[arg(long)]
    pub failed: bool,
    /// Only pending releases.
    #[arg(long)]
    pub pending: bool,
    /// Only superseded releases.
    #[arg(long)]
    pub superseded: bool,
    /// Only uninstalled releases (kept with --keep-history).
    #[arg(long)]
    pub uninstalled: bool,
}

/// One row of `list -o json`, exactly Helm's shape.
#[derive(Serialize)]
struct Element {
    name: String,
    namespace: String,
    revision: String,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
}

/// Runs `rudder list`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| miette::miette!("invalid --filter: {e}"))?;
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let namespace = (!args.all_namespaces).then(|| cluster.namespace().to_string());
    let store = Store::new(cluster);
    let mut releases = runtime
        .block_on(store.list(namespace.as_deref()))
        .into_diagnostic()?;
    let wanted: Vec<Status> = [
        (args.deployed, vec![Status::Deployed]),
        (args.failed, vec![Status::Failed]),
        (
            args.pending,
            vec![
                Status::PendingInstall,
                Status::PendingUpgrade,
                Status::PendingRollback,
            ],
        ),
        (args.superseded, vec![Status::Superseded]),
        (
            args.uninstalled,
            vec![Status::Uninstalled, Status::Uninstalling],
        ),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .flat_map(|(_, s)| s)
    .collect();
    releases.retain(|r| {
        (wanted.is_empty() || wanted.contains(&r.status()))
            && filter.as_ref().is_none_or(|re| re.is_match(&r.name))
    });
    if args.date {
        releases.sort_by(|a, b| {
            let t = |r: &rudder::release::storage::Release| {
                r.info
                    .as_ref()
                    .and_then(|i| i.last_deployed.clone())
                    .unwrap_or_default()
            };
            t(a).cmp(&t(b))
        });
    } else {
        releases.sort_by(|a, b| a.name.cmp(&b.name).then(a.namespace.cmp(&b.namespace)));
    }
    if args.reverse {
        releases.reverse();
    }
    releases.truncate(args.max);
    if args.short {
        for r in &releases {
            println!("{}", r.name);
        }
        return Ok(0);
    }
    let elements: Vec<Element> = releases
        .iter()
        .map(|r| Element {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            revision: r.version.to_string(),
            updated: release_args::go_time_string(
                r.info.as_ref().and_then(|i| i.last_deployed.as_deref()),
            ),
            status: r.status().to_string(),
            chart: release_args::chart_of(r),
            app_version: release_args::app_version_of(r),
        })
        .collect();
    if args.output != OutputFormat::Table {
        release_args::print_structured(&elements, args.output)?;
        return Ok(0);
    }
    let mut rows = Vec::new();
    if !args.no_headers {
        rows.push(
            [
                "NAME",
                "NAMESPACE",
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    for e in elements {
        rows.push(vec![
            e.name,
            e.namespace,
            e.revision,
            e.updated,
            e.status,
            e.chart,
            e.app_version,
        ]);
    }
    release_args::print_table(&rows);
    Ok(0)
}
