//! The `rudder` binary: parse the command line, run the command, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 error, 2 changes found (only under `--detailed-exitcode`).

fn main() -> std::process::ExitCode {
    rudder::cli::main()
}
