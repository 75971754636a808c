//! `rudder template`.

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder template`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `rudder template`.
pub fn run(_args: Args, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("template"))
}
