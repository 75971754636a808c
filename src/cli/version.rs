//! `rudder version`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder version`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print only the version number.
    #[arg(long)]
    pub short: bool,
}

/// Prints rudder's version.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    let version = env!("CARGO_PKG_VERSION");
    if args.short {
        println!("v{version}");
    } else {
        println!("rudder v{version}");
    }
    Ok(0)
}
