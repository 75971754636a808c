//! `rudder package CHART...`: write reproducible `NAME-VERSION.tgz` archives.

use std::path::PathBuf;

use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::dependency::{update_dependencies, DependencyOptions};
use rudder::repo::package::{package_chart, PackageOptions};
use rudder::repo::Dirs;

/// Arguments of `rudder package`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Chart directories to package.
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
    /// Folder to write the archives to.
    #[arg(short = 'd', long, default_value = ".")]
    pub destination: PathBuf,
    /// Set the chart version (SemVer) in the package.
    #[arg(long)]
    pub version: Option<String>,
    /// Set the chart's appVersion in the package.
    #[arg(long)]
    pub app_version: Option<String>,
    /// Update dependencies into charts/ before packaging.
    #[arg(short = 'u', long)]
    pub dependency_update: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// Runs `rudder package`.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    let opts = PackageOptions {
        version: args.version.clone(),
        app_version: args.app_version.clone(),
        destination: args.destination.clone(),
    };
    for chart in &args.charts {
        if args.dependency_update {
            let dep_opts = DependencyOptions {
                http: args.transport.http_options()?,
                skip_refresh: false,
                dirs: Dirs::from_env(),
            };
            super::runtime()?.block_on(update_dependencies(chart, &dep_opts))?;
        }
        let path = package_chart(chart, &opts)?;
        println!(
            "Successfully packaged chart and saved it to: {}",
            path.display()
        );
    }
    Ok(0)
}
