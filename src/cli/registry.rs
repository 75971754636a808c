//! `rudder registry` and its subcommands.

use super::{CliResult, GlobalArgs};

/// Subcommands of `rudder registry`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    #[command(hide = true)]
    Pending,
}

/// Runs `rudder registry`.
pub fn run(_command: Command, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("registry"))
}
