//! `rudder install`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder install`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder install`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("install"))
}
