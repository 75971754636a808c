//! `rudder pull CHART`: download a chart from a repository, a registry or a URL.

use std::path::PathBuf;

use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::resolve::{fetch_chart, ChartRef};
use rudder::repo::{Dirs, FetchOptions};

/// Arguments of `rudder pull`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `REPO/CHART`, `oci://HOST/PATH/CHART`, an `https://…/chart.tgz` URL, or CHART with --repo.
    pub chart: String,
    /// Version or constraint (`1.2.3`, `^1.2`, `>=1 <2`); default: the newest stable version.
    #[arg(long)]
    pub version: Option<String>,
    /// Include pre-release versions (same as --version '>0.0.0-0').
    #[arg(long)]
    pub devel: bool,
    /// Chart repository URL to find CHART in, without adding it.
    #[arg(long)]
    pub repo: Option<String>,
    /// Folder to write the archive (or the unpacked chart) to.
    #[arg(short = 'd', long, default_value = ".")]
    pub destination: PathBuf,
    /// Unpack the chart instead of keeping the archive.
    #[arg(long)]
    pub untar: bool,
    /// With --untar: folder to unpack into (relative to --destination).
    #[arg(long, default_value = ".")]
    pub untardir: PathBuf,
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// Runs `rudder pull`.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    if let ChartRef::Local(path) = ChartRef::parse(&args.chart, args.repo.as_deref())? {
        return Err(miette::miette!(
            "{} is a local path; pull downloads REPO/CHART, oci://… or a URL",
            path.display()
        ));
    }
    let version = super::repo_args::ChartSourceArgs {
        version: args.version.clone(),
        devel: args.devel,
        ..Default::default()
    }
    .version_constraint();
    let opts = FetchOptions {
        version,
        http: args.transport.http_options()?,
        repo_url: args.repo.clone(),
        dirs: Dirs::from_env(),
    };
    let fetched = super::runtime()?.block_on(fetch_chart(&args.chart, &opts))?;
    let file_name = if !fetched.name.is_empty() && !fetched.version.is_empty() {
        format!("{}-{}.tgz", fetched.name, fetched.version)
    } else {
        url_file_name(&args.chart)
    };
    // The name and version can come from the registry or the URL: never let them leave -d.
    rudder::chart::check_path_component(&file_name)
        .map_err(|e| miette::miette!("cannot save {}: {e}", fetched.source))?;
    if args.chart.starts_with("oci://") {
        eprintln!("Pulled: {}", fetched.source.trim_start_matches("oci://"));
    }
    if args.untar {
        let target = if args.untardir == std::path::Path::new(".") {
            args.destination.clone()
        } else {
            args.destination.join(&args.untardir)
        };
        let dir = rudder::repo::package::unpack_archive(&fetched.path, &target)?;
        eprintln!("Unpacked {} into {}", fetched.source, dir.display());
    } else {
        std::fs::create_dir_all(&args.destination)
            .map_err(|e| miette::miette!("cannot create {}: {e}", args.destination.display()))?;
        let out = args.destination.join(&file_name);
        let data = std::fs::read(&fetched.path)
            .map_err(|e| miette::miette!("cannot read {}: {e}", fetched.path.display()))?;
        rudder::repo::config::write_atomically(&out, &data, 0o644)?;
        eprintln!("Saved {} to {}", fetched.source, out.display());
    }
    Ok(0)
}

/// The last path segment of a URL (`https://h/x/web-1.0.0.tgz?x=1` → `web-1.0.0.tgz`).
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty() {
        "chart.tgz".to_string()
    } else {
        name.to_string()
    }
}
