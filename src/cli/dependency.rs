//! `rudder dependency list|update|build CHART`.

use std::path::PathBuf;

use super::repo::format_table;
use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::dependency::{
    build_dependencies, list_dependencies, update_dependencies, DependencyOptions, LockedDependency,
};
use rudder::repo::Dirs;

/// Subcommands of `rudder dependency`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List a chart's dependencies and whether charts/ satisfies them.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Resolve Chart.yaml's version ranges, download into charts/ and write Chart.lock.
    #[command(alias = "up")]
    Update(UpdateArgs),
    /// Rebuild charts/ from Chart.lock.
    Build(UpdateArgs),
}

/// Arguments of `rudder dependency list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Chart directory.
    #[arg(default_value = ".")]
    pub chart: PathBuf,
    /// Cut columns to this width.
    #[arg(long, default_value_t = 80)]
    pub max_col_width: usize,
}

/// Arguments of `rudder dependency update|build`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Chart directory.
    #[arg(default_value = ".")]
    pub chart: PathBuf,
    /// Use the cached repository indexes without refreshing them.
    #[arg(long)]
    pub skip_refresh: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// Runs `rudder dependency`.
pub fn run(command: Command, _global: &GlobalArgs) -> CliResult {
    match command {
        Command::List(args) => {
            let deps = list_dependencies(&args.chart)?;
            if deps.is_empty() {
                eprintln!(
                    "WARNING: no dependencies at {}",
                    args.chart.join("charts").display()
                );
                return Ok(0);
            }
            let rows: Vec<Vec<String>> = deps
                .into_iter()
                .map(|d| vec![d.name, d.version, d.repository, d.status])
                .collect();
            print!(
                "{}",
                format_table(
                    &["NAME", "VERSION", "REPOSITORY", "STATUS"],
                    &rows,
                    args.max_col_width
                )
            );
            Ok(0)
        }
        Command::Update(args) => {
            let opts = options(&args)?;
            let locked = super::runtime()?.block_on(update_dependencies(&args.chart, &opts))?;
            report(&locked);
            Ok(0)
        }
        Command::Build(args) => {
            let opts = options(&args)?;
            let locked = super::runtime()?.block_on(build_dependencies(&args.chart, &opts))?;
            report(&locked);
            Ok(0)
        }
    }
}

fn options(args: &UpdateArgs) -> miette::Result<DependencyOptions> {
    Ok(DependencyOptions {
        http: args.transport.http_options()?,
        skip_refresh: args.skip_refresh,
        dirs: Dirs::from_env(),
    })
}

fn report(locked: &[LockedDependency]) {
    eprintln!("Saving {} charts", locked.len());
    for l in locked {
        let from = if l.repository.is_empty() {
            "charts/"
        } else {
            l.repository.as_str()
        };
        eprintln!("Dependency {} {} from {from}", l.name, l.version);
    }
}
