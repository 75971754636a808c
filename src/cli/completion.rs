//! `rudder completion`: shell completion scripts.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, CliResult, GlobalArgs};

/// Arguments of `rudder completion`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to generate completions for (bash, zsh, fish, elvish, powershell).
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script for the shell on stdout.
pub fn run(args: Args, _global: &GlobalArgs) -> CliResult {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "rudder", &mut std::io::stdout());
    Ok(0)
}
