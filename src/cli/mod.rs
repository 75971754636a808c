//! The command line: one thin file per command (clap args + one call into the library).
//!
//! Errors from the library are rendered once here (miette), with the cause chain; exit codes are
//! 0 success, 1 error, 2 changes found under `--detailed-exitcode`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub mod completion;
pub mod create;
pub mod dependency;
pub mod diff;
pub mod get;
pub mod history;
pub mod install;
pub mod lint;
pub mod list;
pub mod package;
pub mod pull;
pub mod push;
pub mod registry;
pub mod release_args;
pub mod repo;
pub mod repo_args;
pub mod rollback;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod search;
pub mod show;
pub mod status;
pub mod template;
pub mod test;
pub mod uninstall;
pub mod unlock;
pub mod upgrade;
pub mod values_args;
pub mod version;

/// What a command returns: the process exit code (0 ok, 2 changes found) or an error (exit 1).
pub type CliResult = miette::Result<u8>;

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorWhen {
    /// Color when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}

/// Flags every command accepts, with Helm's names.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Namespace scope for this request.
    #[arg(short = 'n', long, global = true, env = "RUDDER_NAMESPACE")]
    pub namespace: Option<String>,
    /// Path to the kubeconfig file.
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Name of the kubeconfig context to use.
    #[arg(long, global = true)]
    pub kube_context: Option<String>,
    /// Print the whole error chain and debug details.
    #[arg(long, global = true)]
    pub debug: bool,
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Never use colors (same as --color never).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Largest input file rudder reads (values files, stdin, --set-file, each file of a chart
    /// directory), e.g. 20MiB.
    #[arg(long, global = true, env = "RUDDER_MAX_FILE_SIZE", value_name = "SIZE",
          value_parser = rudder::input::parse_size, default_value = "5MiB")]
    pub max_file_size: u64,
    /// Largest output one template may render, and largest string or list a template function
    /// may build, e.g. 200MiB.
    #[arg(long, global = true, env = "RUDDER_MAX_RENDER_SIZE", value_name = "SIZE",
          value_parser = rudder::input::parse_size, default_value = "100MiB")]
    pub max_render_size: u64,
}

/// rudder: a Helm-like Kubernetes package manager.
#[derive(Debug, Parser)]
#[command(name = "rudder", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Every rudder command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render chart templates locally and print the manifests.
    Template(template::Args),
    /// Check a chart for problems in every environment.
    Lint(lint::Args),
    /// Show a chart's Chart.yaml, values or README.
    #[command(subcommand)]
    Show(show::Command),
    /// Create a new rudder-native chart.
    Create(create::Args),
    /// Install a chart as a new release.
    Install(install::Args),
    /// Upgrade a release to a new chart or new values.
    Upgrade(upgrade::Args),
    /// Roll a release back to an earlier revision.
    Rollback(rollback::Args),
    /// Uninstall a release (purges its history unless --keep-history).
    #[command(alias = "delete")]
    Uninstall(uninstall::Args),
    /// List releases.
    #[command(alias = "ls")]
    List(list::Args),
    /// Show a release's revision history.
    History(history::Args),
    /// Show a release's status.
    Status(status::Args),
    /// Show a release's values, manifest, notes or hooks.
    #[command(subcommand)]
    Get(get::Command),
    /// Run a release's test hooks.
    Test(test::Args),
    /// Release a release's lock left behind by a killed process.
    Unlock(unlock::Args),
    /// Show what an upgrade, rollback, or chart/environment change would change.
    #[command(subcommand)]
    Diff(diff::Command),
    /// Package a chart directory into a versioned archive.
    Package(package::Args),
    /// Manage chart repositories.
    #[command(subcommand)]
    Repo(repo::Command),
    /// Search chart repositories.
    #[command(subcommand)]
    Search(search::Command),
    /// Download a chart from a repository or registry.
    Pull(pull::Args),
    /// Push a chart archive to an OCI registry.
    Push(push::Args),
    /// Log in to or out of an OCI registry.
    #[command(subcommand)]
    Registry(registry::Command),
    /// Manage a chart's dependencies.
    #[command(subcommand, alias = "dep")]
    Dependency(dependency::Command),
    /// Run a local Kubernetes API server for tests and demos.
    #[cfg(feature = "sandbox")]
    Sandbox(sandbox::Args),
    /// Generate shell completion scripts.
    Completion(completion::Args),
    /// Print rudder's version.
    Version(version::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = parse_command_line();
    let debug = cli.global.debug;
    let global = cli.global;
    if let Err(report) = check_names(&cli.command, &global) {
        report_error(&report, debug);
        return ExitCode::from(1);
    }
    rudder::input::set_max_file_bytes(global.max_file_size);
    rudder::render::set_max_output_bytes(
        usize::try_from(global.max_render_size).unwrap_or(usize::MAX),
    );
    let result = match cli.command {
        Command::Template(args) => template::run(args, &global),
        Command::Lint(args) => lint::run(args, &global),
        Command::Show(cmd) => show::run(cmd, &global),
        Command::Create(args) => create::run(args, &global),
        Command::Install(args) => install::run(args, &global),
        Command::Upgrade(args) => upgrade::run(args, &global),
        Command::Rollback(args) => rollback::run(args, &global),
        Command::Uninstall(args) => uninstall::run(args, &global),
        Command::List(args) => list::run(args, &global),
        Command::History(args) => history::run(args, &global),
        Command::Status(args) => status::run(args, &global),
        Command::Get(cmd) => get::run(cmd, &global),
        Command::Test(args) => test::run(args, &global),
        Command::Unlock(args) => unlock::run(args, &global),
        Command::Diff(cmd) => diff::run(cmd, &global),
        Command::Package(args) => package::run(args, &global),
        Command::Repo(cmd) => repo::run(cmd, &global),
        Command::Search(cmd) => search::run(cmd, &global),
        Command::Pull(args) => pull::run(args, &global),
        Command::Push(args) => push::run(args, &global),
        Command::Registry(cmd) => registry::run(cmd, &global),
        Command::Dependency(cmd) => dependency::run(cmd, &global),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::run(args, &global),
        Command::Completion(args) => completion::run(args, &global),
        Command::Version(args) => version::run(args, &global),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            report_error(&report, debug);
            // 130 and 143 after SIGINT and SIGTERM, as a shell reports a signalled process.
            match report.downcast_ref::<release_args::Interrupted>() {
                Some(interrupted) => ExitCode::from(interrupted.code),
                None => ExitCode::from(1),
            }
        }
    }
}

/// Checks the namespace and every release name on the command line before any of them reaches a
/// request path: a namespace is a DNS-1123 label, a release name follows Helm's rule.
fn check_names(command: &Command, global: &GlobalArgs) -> miette::Result<()> {
    if let Some(namespace) = &global.namespace {
        rudder::release::validate_namespace(namespace).map_err(|reason| {
            miette::miette!("-n/--namespace {namespace:?} (or RUDDER_NAMESPACE) is not a valid namespace: {reason}")
        })?;
    }
    // (the flag that gave the name, or "" for a positional release name; the name)
    let names: Vec<(&str, &str)> = match command {
        Command::Install(a) if !a.generate_name && a.args.len() == 2 => {
            vec![("", &a.args[0])]
        }
        Command::Template(a) if a.chart.is_some() => vec![("", &a.name)],
        Command::Upgrade(a) => vec![("", &a.name)],
        Command::Rollback(a) => vec![("", &a.name)],
        Command::Uninstall(a) => a.names.iter().map(|n| ("", n.as_str())).collect(),
        Command::History(a) => vec![("", &a.name)],
        Command::Status(a) => vec![("", &a.name)],
        Command::Test(a) => vec![("", &a.name)],
        Command::Unlock(a) => vec![("", &a.name)],
        Command::Get(get) => vec![("", &get.target().name)],
        Command::Diff(diff::Command::Upgrade(a)) => vec![("", &a.name)],
        Command::Diff(diff::Command::Rollback(a)) => vec![("", &a.name)],
        Command::Diff(diff::Command::Revision(a)) => vec![("", &a.name)],
        Command::Diff(diff::Command::Envs(a)) => vec![("--release", &a.release)],
        Command::Diff(diff::Command::Charts(a)) => vec![("--release", &a.release)],
        _ => Vec::new(),
    };
    for (what, name) in names {
        rudder::release::validate_name(name).map_err(|err| match what {
            "" => miette::miette!("{err}"),
            flag => miette::miette!("{flag}: {err}"),
        })?;
    }
    Ok(())
}

/// `Cli::parse()`, without freeing the command tree afterwards: freeing it costs more than
/// parsing the arguments, and a process that runs one command never needs the memory back.
fn parse_command_line() -> Cli {
    let mut command = Cli::command();
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut matches| {
            Cli::from_arg_matches_mut(&mut matches).map_err(|err| err.format(&mut command))
        });
    std::mem::forget(command);
    parsed.unwrap_or_else(|err| {
        // clap exits 2 on a usage error, but 2 means "changes found" under
        // `--detailed-exitcode`: a bad command line is an error like any other (1, as in Helm).
        let code = if err.use_stderr() { 1 } else { 0 };
        let _ = err.print();
        std::process::exit(code)
    })
}

/// Prints an error and its causes on stderr, once.
fn report_error(report: &miette::Report, debug: bool) {
    if debug {
        eprintln!("{report:?}");
        return;
    }
    let causes = std::iter::successors(report.source(), |cause| cause.source());
    eprintln!("{}", elide_middle(error_text(&report.to_string(), causes)));
}

/// Longest error printed whole without `--debug`. A template that includes itself a thousand
/// times builds a chain of ~100 KB (Helm prints it all); what a user acts on is its start (which
/// template, where) and its end (the root cause), so the repeated middle is left out.
const MAX_ERROR_BYTES: usize = 8 * 1024;

/// `text`, or its first and last 3 KiB around a note of how much was left out.
fn elide_middle(text: String) -> String {
    if text.len() <= MAX_ERROR_BYTES {
        return text;
    }
    let keep = 3 * 1024;
    let mut head_end = keep;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - keep;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{}\n  … {} bytes left out (run with --debug to see the whole error) …\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

/// `Error: MESSAGE` and one `caused by:` line per cause, leaving out causes whose text is already
/// part of the message: many errors embed their source's text in their own (`cannot load chart:
/// {0}`), and each message should read once.
fn error_text<'a>(
    message: &str,
    causes: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut text = format!("Error: {message}");
    for cause in causes {
        let cause = cause.to_string();
        if !cause.is_empty() && !text.contains(&cause) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
    }
    text
}

/// Builds the async runtime for commands that talk to a cluster or the network.
pub fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    // Only ring is compiled in; installing it explicitly keeps rustls from guessing.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(block_sigpipe)
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))
}

/// main restores SIGPIPE's default (end quietly on a closed stdout), but a write to a socket
/// the server already closed raises it too (`writev` has no MSG_NOSIGNAL, and TLS uses it), and
/// must be an error, not the end of rudder. The runtime's threads, which do the network I/O,
/// block it; the main thread keeps it for stdout.
fn block_sigpipe() {
    #[cfg(unix)]
    // SAFETY: only changes the calling thread's signal mask, with a set built right here.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Leaf(&'static str);

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot load chart: {0}")]
        Embeds(#[from] Leaf),
        #[error("cannot load chart")]
        Wraps(#[source] Leaf),
    }

    #[test]
    fn a_long_error_keeps_its_start_and_end() {
        let long = format!("Error: start{}ROOT CAUSE é", "é…".repeat(10_000));
        let short = elide_middle(long.clone());
        assert!(short.len() < MAX_ERROR_BYTES, "{}", short.len());
        assert!(short.starts_with("Error: start"));
        assert!(short.ends_with("ROOT CAUSE é"));
        assert!(short.contains("bytes left out (run with --debug to see the whole error)"));
        assert_eq!(elide_middle("Error: short".into()), "Error: short");
    }

    #[test]
    fn prints_an_embedded_cause_once() {
        let err = Outer::Embeds(Leaf("Chart.yaml:5:1: bad version"));
        let text = error_text(
            &err.to_string(),
            std::iter::successors(std::error::Error::source(&err), |c| c.source()),
        );
        assert_eq!(
            text,
            "Error: cannot load chart: Chart.yaml:5:1: bad version"
        );
    }

    #[test]
    fn prints_a_separate_cause_on_its_own_line() {
        let err = Outer::Wraps(Leaf("Chart.yaml:5:1: bad version"));
        let text = error_text(
            &err.to_string(),
            std::iter::successors(std::error::Error::source(&err), |c| c.source()),
        );
        assert_eq!(
            text,
            "Error: cannot load chart\n  caused by: Chart.yaml:5:1: bad version"
        );
    }
}
