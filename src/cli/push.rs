//! `rudder push`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder push`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder push`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("push"))
}
