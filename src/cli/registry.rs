//! `rudder registry login|logout HOST`.

use super::repo_args::TransportArgs;
use super::{CliResult, GlobalArgs};
use rudder::repo::config::{Credentials, RegistryConfig};
use rudder::repo::oci::RegistryClient;
use rudder::repo::Dirs;

/// Subcommands of `rudder registry`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check credentials against a registry and store them (0600, Docker config.json format).
    Login(LoginArgs),
    /// Forget the stored credentials of a registry.
    Logout(LogoutArgs),
}

/// Arguments of `rudder registry login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Registry host (`host[:port]`).
    pub host: String,
    /// Registry username.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Registry password or identity token.
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Skip TLS certificate checks (dangerous).
    #[arg(long, alias = "insecure-skip-tls-verify")]
    pub insecure: bool,
    /// Verify the registry's certificate with this CA bundle (PEM).
    #[arg(long)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Identify with this client certificate (PEM).
    #[arg(long)]
    pub cert_file: Option<std::path::PathBuf>,
    /// Private key (PEM) of --cert-file.
    #[arg(long)]
    pub key_file: Option<std::path::PathBuf>,
    /// Talk plain, unencrypted HTTP to the registry.
    #[arg(long)]
    pub plain_http: bool,
}

/// Arguments of `rudder registry logout`.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Registry host (`host[:port]`).
    pub host: String,
}

/// Runs `rudder registry`.
pub fn run(command: Command, _global: &GlobalArgs) -> CliResult {
    let dirs = Dirs::from_env();
    match command {
        Command::Login(args) => login(args, &dirs),
        Command::Logout(args) => {
            let host = registry_host(&args.host)?;
            let path = dirs.registry_config_file();
            let mut config = RegistryConfig::load(&path)?;
            if !config.remove_credentials(&host) {
                return Err(miette::miette!("not logged in to {host}"));
            }
            config.save(&path)?;
            eprintln!("Removing login credentials for {host}");
            Ok(0)
        }
    }
}

fn login(args: LoginArgs, dirs: &Dirs) -> CliResult {
    let host = registry_host(&args.host)?;
    let transport = TransportArgs {
        username: args.username,
        password: args.password,
        password_stdin: args.password_stdin,
        ca_file: args.ca_file,
        cert_file: args.cert_file,
        key_file: args.key_file,
        insecure_skip_tls_verify: args.insecure,
        plain_http: args.plain_http,
        pass_credentials: false,
    };
    let mut http = transport.http_options()?;
    let username = http
        .username
        .take()
        .ok_or_else(|| miette::miette!("--username is required"))?;
    let password = http
        .password
        .take()
        .ok_or_else(|| miette::miette!("--password or --password-stdin is required"))?;
    let creds = Credentials { username, password };
    let client = RegistryClient::new(&host, &http, Some(creds.clone()))?;
    super::runtime()?.block_on(client.check_login())?;
    let path = dirs.registry_config_file();
    let mut config = RegistryConfig::load(&path)?;
    config.set_credentials(&host, &creds);
    config.save(&path)?;
    eprintln!("Login Succeeded");
    Ok(0)
}

/// `host[:port]` from what the user typed (an `oci://` prefix is tolerated, a path is not).
fn registry_host(text: &str) -> miette::Result<String> {
    let host = text
        .strip_prefix("oci://")
        .unwrap_or(text)
        .trim_end_matches('/');
    if host.is_empty() || host.contains('/') || host.contains("://") {
        return Err(miette::miette!(
            "invalid registry host {text:?}: expected HOST or HOST:PORT, without a path"
        ));
    }
    Ok(host.to_string())
}
