//! `rudder list`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder list`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder list`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("list"))
}
