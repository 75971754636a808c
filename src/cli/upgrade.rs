//! `rudder upgrade`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder upgrade`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder upgrade`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("upgrade"))
}
