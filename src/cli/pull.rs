//! `rudder pull`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder pull`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder pull`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("pull"))
}
