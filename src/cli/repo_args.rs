//! Flags shared by the commands that talk to chart repositories and registries, with Helm's names.

use std::path::PathBuf;

use rudder::repo::HttpOptions;

/// Credentials and TLS flags (`--username`, `--ca-file`, `--plain-http`, …).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TransportArgs {
    /// Username for the repository or registry.
    #[arg(long)]
    pub username: Option<String>,
    /// Password for the repository or registry.
    #[arg(long)]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Verify server certificates with this CA bundle (PEM), besides the system's.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Identify with this client certificate (PEM).
    #[arg(long)]
    pub cert_file: Option<PathBuf>,
    /// Private key (PEM) of --cert-file.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Skip TLS certificate checks (dangerous).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Allow plain, unencrypted http:// connections.
    #[arg(long)]
    pub plain_http: bool,
    /// Send credentials to every host a chart is downloaded from, not only the repository's.
    #[arg(long)]
    pub pass_credentials: bool,
}

impl TransportArgs {
    /// The transport options these flags describe (reads stdin for `--password-stdin`).
    pub fn http_options(&self) -> miette::Result<HttpOptions> {
        let mut password = self.password.clone();
        if self.password_stdin {
            if password.is_some() {
                return Err(miette::miette!(
                    "--password and --password-stdin are mutually exclusive"
                ));
            }
            let bytes = rudder::input::read_stdin("the password on stdin (--password-stdin)")
                .map_err(|e| miette::miette!("{e}"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| miette::miette!("--password-stdin: the password is not UTF-8 text"))?;
            password = Some(text.trim_end_matches(['\r', '\n']).to_string());
        }
        if password.is_some() && self.username.is_none() {
            return Err(miette::miette!("--password needs --username"));
        }
        Ok(HttpOptions {
            username: self.username.clone(),
            password,
            token: None,
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            plain_http: self.plain_http,
            pass_credentials: self.pass_credentials,
        })
    }
}

/// Where a chart comes from, for commands taking CHART (`install`, `upgrade`, `template`, `diff`):
/// Helm's chart path options (`--version`, `--devel`, `--repo`, credentials and TLS flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ChartSourceArgs {
    /// Chart version or constraint for REPO/CHART, --repo and oci:// charts (default: newest).
    #[arg(long)]
    pub version: Option<String>,
    /// Include pre-release versions (same as --version '>0.0.0-0').
    #[arg(long)]
    pub devel: bool,
    /// Chart repository URL to find CHART in, without adding it.
    #[arg(long)]
    pub repo: Option<String>,
    #[command(flatten)]
    pub transport: TransportArgs,
}

impl ChartSourceArgs {
    /// The version constraint these flags ask for (empty: newest stable).
    pub fn version_constraint(&self) -> String {
        match (&self.version, self.devel) {
            (Some(v), _) => v.clone(),
            (None, true) => ">0.0.0-0".to_string(),
            (None, false) => String::new(),
        }
    }

    /// Turns CHART (a path, `REPO/CHART`, `oci://…` or an `https://…/x.tgz` URL) into a local
    /// chart path, downloading into rudder's cache when needed. Safe to call from inside a tokio
    /// runtime.
    pub fn resolve(&self, chart: &str) -> miette::Result<PathBuf> {
        let opts = rudder::repo::FetchOptions {
            version: self.version_constraint(),
            http: self.transport.http_options()?,
            repo_url: self.repo.clone(),
            dirs: rudder::repo::Dirs::from_env(),
        };
        Ok(rudder::repo::resolve_chart_ref_blocking(chart, &opts)?)
    }
}
