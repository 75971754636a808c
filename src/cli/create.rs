//! `rudder create`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder create`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder create`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("create"))
}
