//! `rudder unlock`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder unlock`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder unlock`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("unlock"))
}
