//! `rudder sandbox`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use rudder_sandbox::http::DEFAULT_KUBE_VERSION;
use rudder_sandbox::serve::{self, Options};

use super::{CliResult, GlobalArgs};

/// Arguments of `rudder sandbox` (the kubeconfig to write is the global `--kubeconfig`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Load objects from this file at start and save them to it on every change.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Kubernetes version reported by /version (kubectl's dispatcher picks its client by it).
    #[arg(long, value_name = "VERSION", default_value = DEFAULT_KUBE_VERSION)]
    pub kube_version: String,
    /// Print one line per request on stderr (method, path, status, user agent).
    #[arg(long)]
    pub log_requests: bool,
    /// Turn off the simulated controllers (rollouts, Jobs, volume claims, load balancers).
    #[arg(long)]
    pub no_controllers: bool,
    /// How long a simulated rollout or Job takes, e.g. 200ms or 2s.
    #[arg(long, default_value = "200ms", value_parser = super::release_args::parse_duration)]
    pub rollout_delay: std::time::Duration,
    /// Factor applied to durations in specs (progressDeadlineSeconds 600 becomes 6 s at 0.01).
    #[arg(long, default_value_t = 0.01)]
    pub time_scale: f64,
    /// Delay every Kubernetes request by this many milliseconds before serving it.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Add a random extra delay of 0..=MS milliseconds to every Kubernetes request.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub jitter: u64,
    /// Serve HTTPS with a certificate authority made at start; the kubeconfig trusts it.
    #[arg(long)]
    pub tls: bool,
    /// Require `Authorization: Bearer TOKEN` on every request; the kubeconfig presents it.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "RUDDER_SANDBOX_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Also accept this bearer token, for reads only: writes get 403 Forbidden. The kubeconfig
    /// presents it in the context `rudder-sandbox-read-only`.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub read_only_token: Option<String>,
}

/// Runs `rudder sandbox`: serves until SIGINT/SIGTERM.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let kube_version = normalize_version(&args.kube_version).ok_or_else(|| {
        miette::miette!(
            "--kube-version {:?} is not a version like 1.32 or v1.32.4",
            args.kube_version
        )
    })?;
    let kubeconfig = global.kubeconfig.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rudder-sandbox-{}.kubeconfig", std::process::id()))
    });
    let options = Options {
        listen: args.listen,
        kubeconfig,
        state: args.state,
        kube_version,
        log_requests: args.log_requests,
        controllers: (!args.no_controllers).then_some(rudder_sandbox::controllers::Settings {
            rollout_delay: args.rollout_delay,
            time_scale: args.time_scale,
        }),
        latency: std::time::Duration::from_millis(args.latency),
        jitter: std::time::Duration::from_millis(args.jitter),
        tls: args.tls,
        token: non_empty(args.token, "--token")?,
        read_only_token: non_empty(args.read_only_token, "--read-only-token")?,
    };
    if (options.token.is_some() || options.read_only_token.is_some()) && !options.tls {
        eprintln!(
            "warning: kubectl, Helm and rudder send bearer tokens only over HTTPS: add --tls to use --token with them"
        );
    }
    serve::run(options, |url, path| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "sandbox ready: {url} kubeconfig={}", path.display());
        let _ = out.flush();
    })
    .map_err(|e| miette::miette!("{e}"))?;
    Ok(0)
}

/// A token flag's value, refusing an empty or blank one (it would lock every client out).
fn non_empty(token: Option<String>, flag: &str) -> miette::Result<Option<String>> {
    match token {
        Some(t) if t.trim().is_empty() || t.chars().any(char::is_whitespace) => Err(
            miette::miette!("{flag} must be a non-empty token without spaces"),
        ),
        other => Ok(other),
    }
}

/// `1.31`, `v1.31.2` → `v1.31.x` form with a patch number.
fn normalize_version(text: &str) -> Option<String> {
    let v = text.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return None;
    }
    let patch = parts.get(2).copied().unwrap_or("0");
    Some(format!("v{}.{}.{}", parts[0], parts[1], patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_are_normalized() {
        assert_eq!(normalize_version("1.31").as_deref(), Some("v1.31.0"));
        assert_eq!(normalize_version("v1.32.4").as_deref(), Some("v1.32.4"));
        assert_eq!(normalize_version("banana"), None);
    }
}
