//! Running a sandbox process: bind, write the kubeconfig, load and save `--state`, serve until
//! a signal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;

use super::http::{Config, Server};
use super::kubeconfig;
use super::store::Store;

/// Options of `rudder sandbox`.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub kubeconfig: PathBuf,
    /// Objects are loaded from and saved to this file.
    pub state: Option<PathBuf>,
    pub kube_version: String,
    /// Print one line per request on stderr.
    pub log_requests: bool,
    /// Simulated controllers (rollouts, Jobs, claims); `None` turns them off.
    pub controllers: Option<super::controllers::Settings>,
    /// Every Kubernetes request waits this long before being served.
    pub latency: std::time::Duration,
    /// Up to this much more, picked at random per request.
    pub jitter: std::time::Duration,
    /// Serve HTTPS with a certificate authority made at start (`--tls`).
    pub tls: bool,
    /// Every request must present this bearer token (`--token`).
    pub token: Option<String>,
    /// A bearer token that may only read (`--read-only-token`).
    pub read_only_token: Option<String>,
}

/// Why the sandbox could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("refusing to overwrite {path}: it is not a kubeconfig written by rudder sandbox (pass --kubeconfig with another path)")]
    ForeignKubeconfig { path: PathBuf },
    #[error("cannot write the kubeconfig {path}: {source}")]
    WriteKubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the state file {path}: {message}")]
    ReadState { path: PathBuf, message: String },
    #[error("cannot save the state file {path}: {source}")]
    WriteState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] super::tls::TlsError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Runs a sandbox until SIGINT or SIGTERM. `on_ready` is called once the server accepts
/// connections, with its URL and the kubeconfig path.
pub fn run(options: Options, on_ready: impl FnOnce(&str, &Path)) -> Result<(), SandboxError> {
    ignore_sigpipe();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(SandboxError::Runtime)?;
    runtime.block_on(run_async(options, on_ready))
}

async fn run_async(
    options: Options,
    on_ready: impl FnOnce(&str, &Path),
) -> Result<(), SandboxError> {
    let store = Arc::new(Store::new());
    match &options.state {
        Some(path) if path.exists() => load_state(&store, path)?,
        _ => seed(&store),
    }
    let listener =
        TcpListener::bind(options.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: options.listen,
                source,
            })?;
    let addr = listener.local_addr().map_err(SandboxError::Serve)?;
    let identity = if options.tls {
        Some(super::tls::generate(Some(addr.ip()))?)
    } else {
        None
    };
    let url = match identity {
        Some(_) => format!("https://{addr}"),
        None => format!("http://{addr}"),
    };
    if !kubeconfig::may_overwrite(&options.kubeconfig) {
        return Err(SandboxError::ForeignKubeconfig {
            path: options.kubeconfig.clone(),
        });
    }
    let access = kubeconfig::Access {
        ca_pem: identity.as_ref().map(|i| i.ca_pem.clone()),
        token: options.token.clone(),
        read_only_token: options.read_only_token.clone(),
    };
    kubeconfig::write_atomically(
        &options.kubeconfig,
        kubeconfig::render_with(&url, &access).as_bytes(),
    )
    .map_err(|source| SandboxError::WriteKubeconfig {
        path: options.kubeconfig.clone(),
        source,
    })?;
    let settings = options.controllers.unwrap_or_default();
    let clock = Arc::new(super::clock::Clock::new(settings.time_scale));
    let controllers = options
        .controllers
        .map(|settings| super::controllers::spawn(store.clone(), settings, clock.clone()));
    let collector = super::gc::spawn(store.clone(), clock.clone(), settings.rollout_delay);
    let saver = options.state.clone().map(|path| {
        let store = store.clone();
        tokio::spawn(save_on_change(store, path))
    });
    let mut server = Server::new(
        store.clone(),
        Config {
            kube_version: options.kube_version.clone(),
        },
    );
    server = server
        .with_trouble(super::trouble::Trouble::new(
            options.latency,
            options.jitter,
        ))
        .with_clock(clock);
    if let Some(identity) = identity {
        server = server.with_tls(identity.acceptor);
    }
    if options.token.is_some() || options.read_only_token.is_some() {
        server = server.with_hook(Arc::new(super::auth::TokenAuth {
            token: options.token.clone(),
            read_only_token: options.read_only_token.clone(),
        }));
    }
    if options.log_requests {
        server = server.with_hook(Arc::new(super::http::RequestLog));
    }
    let server = Arc::new(server);
    on_ready(&url, &options.kubeconfig);
    server
        .serve(listener, shutdown_signal())
        .await
        .map_err(SandboxError::Serve)?;
    if let Some(task) = saver {
        task.abort();
    }
    if let Some(task) = controllers {
        task.abort();
    }
    collector.abort();
    if let Some(path) = &options.state {
        save_state(&store, path).map_err(|source| SandboxError::WriteState {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// A server must outlive its clients: writing to a connection a client closed raises SIGPIPE
/// (`writev`, which TLS uses, has no MSG_NOSIGNAL), and rudder's main restores its default
/// disposition (terminate) for the command-line tools' sake.
fn ignore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called before the runtime starts its threads; setting a signal's disposition to
    // SIG_IGN has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// The namespaces every cluster starts with.
pub fn seed(store: &Store) {
    let rt = store.read(|st| st.catalog().by_path("", "v1", "namespaces"));
    let Some(rt) = rt else { return };
    let now = super::rest::now();
    let _ = store.write(false, |txn| {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let key = super::store::ObjectKey::new(&rt, "", name);
            let object = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": uuid::Uuid::new_v4().to_string(),
                    "creationTimestamp": now,
                    "labels": {"kubernetes.io/metadata.name": name},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            txn.put(&key, object);
        }
        Ok::<_, ()>(())
    });
}

fn load_state(store: &Store, path: &Path) -> Result<(), SandboxError> {
    let err = |message: String| SandboxError::ReadState {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    if text.trim().is_empty() {
        seed(store);
        return Ok(());
    }
    let snapshot: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err(format!("line {} column {}: {e}", e.line(), e.column())))?;
    for skipped in store.restore(&snapshot) {
        eprintln!(
            "warning: {}: skipped an object of unknown kind: {skipped}",
            path.display()
        );
    }
    Ok(())
}

fn save_state(store: &Store, path: &Path) -> std::io::Result<()> {
    let snapshot = store.snapshot();
    let bytes = serde_json::to_vec_pretty(&snapshot).map_err(std::io::Error::other)?;
    kubeconfig::write_atomically(path, &bytes)
}

async fn save_on_change(store: Arc<Store>, path: PathBuf) {
    let mut committed = store.committed();
    // The initial state (seeded or loaded) is saved too, so the file exists from the start.
    if let Err(e) = save_state(&store, &path) {
        eprintln!("warning: cannot save {}: {e}", path.display());
    }
    while committed.changed().await.is_ok() {
        // Coalesce a burst of writes into one save.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        committed.borrow_and_update();
        let store = store.clone();
        let p = path.clone();
        let result = tokio::task::spawn_blocking(move || save_state(&store, &p)).await;
        if let Ok(Err(e)) = result {
            eprintln!("warning: cannot save {}: {e}", path.display());
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
