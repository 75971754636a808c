//! The `rudder` binary: parse the command line, run the command, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 error, 2 changes found (only under `--detailed-exitcode`).

mod cli;

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    cli::main()
}

/// Rust ignores SIGPIPE, so `rudder template ... | head` would turn a closed pipe into a panic
/// from `println!`. A command-line tool should end quietly like `cat` does, so the default
/// disposition (terminate) is restored before anything is printed.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; resetting a signal's
    // disposition to its default has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
