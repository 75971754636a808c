//! `rudder sandbox`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder sandbox`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("sandbox"))
}
