//! `rudder status`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder status`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder status`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("status"))
}
