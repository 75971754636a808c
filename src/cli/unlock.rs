//! `rudder unlock NAME`: releases a lock left by a killed process.

use miette::IntoDiagnostic;

use super::release_args;
use super::{CliResult, GlobalArgs};
use rudder::release::lock::unlock;
use rudder::release::Store;

/// Arguments of `rudder unlock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name.
    pub name: String,
}

/// Runs `rudder unlock`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let runtime = super::runtime()?;
    let cluster = release_args::connect(&runtime, global)?;
    let namespace = cluster.namespace().to_string();
    let store = Store::new(cluster);
    match runtime
        .block_on(unlock(&store, &namespace, &args.name))
        .into_diagnostic()?
    {
        Some(message) => println!("{message}"),
        None => println!("release {:?} is not locked", args.name),
    }
    Ok(0)
}
