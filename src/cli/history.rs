//! `rudder history`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder history`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder history`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("history"))
}
