//! `rudder package`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder package`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder package`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("package"))
}
