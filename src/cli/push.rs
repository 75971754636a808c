//! `rudder push CHART.tgz oci://HOST/PATH`.

use std::path::PathBuf;

use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::Dirs;

/// Arguments of `rudder push`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The packaged chart (`NAME-VERSION.tgz`).
    pub chart: PathBuf,
    /// Where to push: `oci://HOST/PATH` (the chart name is appended, the version is the tag).
    pub remote: String,
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// Runs `rudder push`.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    let http = args.transport.http_options()?;
    let dirs = Dirs::from_env();
    let pushed = super::runtime()?.block_on(rudder::repo::oci::push_archive(
        &args.chart,
        &args.remote,
        &http,
        &dirs,
    ))?;
    println!(
        "Pushed: {}",
        pushed.reference.to_string().trim_start_matches("oci://")
    );
    println!("Digest: {}", pushed.manifest_digest);
    Ok(0)
}
