//! `rudder completion`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder completion`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder completion`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("completion"))
}
