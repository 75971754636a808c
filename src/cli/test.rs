//! `rudder test`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder test`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder test`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("test"))
}
