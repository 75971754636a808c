//! `rudder lint`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder lint`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder lint`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("lint"))
}
