//! `rudder diff` and its subcommands.

use super::{CliResult, GlobalArgs};

/// Subcommands of `rudder diff`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    #[command(hide = true)]
    Pending,
}

/// Runs `rudder diff`.
pub fn run(_command: Command, _global: &GlobalArgs) -> CliResult {
    Err(super::not_implemented("diff"))
}
