//! `rudder uninstall`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder uninstall`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder uninstall`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("uninstall"))
}
