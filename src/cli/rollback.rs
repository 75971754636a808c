//! `rudder rollback`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder rollback`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder rollback`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("rollback"))
}
