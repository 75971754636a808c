//! The shared real cluster of one test binary (`RUDDER_TEST_CLUSTER=real`).
//!
//! Started once, on first use, by `scripts/real-cluster.sh up --watch-pid <this process>`: the
//! script's watchdog stops every process of the cluster as soon as this test binary exits, however
//! it exits (a panicking test, a failed assertion in a static initialiser, SIGKILL), because Rust
//! never runs destructors of statics. `RUDDER_REAL_KUBECONFIG` names a cluster that is already up
//! (started by `make test-real` for all test binaries) and is then used as is.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Where the shared real cluster is.
pub struct RealCluster {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The administrator's kubeconfig.
    pub kubeconfig: PathBuf,
    /// kube-apiserver's audit log (one JSON event a line), when known: always for a cluster
    /// started here, from `RUDDER_REAL_AUDIT_LOG` for one given by `RUDDER_REAL_KUBECONFIG`.
    pub audit_log: Option<PathBuf>,
}

static CLUSTER: OnceLock<RealCluster> = OnceLock::new();

/// The shared real cluster, started on first use.
pub fn cluster() -> &'static RealCluster {
    CLUSTER.get_or_init(|| match std::env::var_os("RUDDER_REAL_KUBECONFIG") {
        Some(path) if !path.is_empty() => {
            let kubeconfig = PathBuf::from(path);
            let text = std::fs::read_to_string(&kubeconfig)
                .unwrap_or_else(|e| panic!("RUDDER_REAL_KUBECONFIG={}: {e}", kubeconfig.display()));
            let url = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("server: "))
                .unwrap_or_else(|| panic!("{} names no server", kubeconfig.display()))
                .trim()
                .to_string();
            let audit_log = std::env::var_os("RUDDER_REAL_AUDIT_LOG")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from);
            RealCluster {
                url,
                kubeconfig,
                audit_log,
            }
        }
        _ => start(),
    })
}

fn start() -> RealCluster {
    // Kept for the whole run; the watchdog's `down` removes it with the cluster's data.
    let dir = tempfile::Builder::new()
        .prefix("rudder-real-")
        .tempdir()
        .expect("create a temporary directory")
        .keep();
    start_in(&dir)
}

/// A real cluster of one test's own, for tests that look at the whole cluster (`list -A`);
/// stopped on drop (and by the watchdog if the test binary dies first).
pub struct Private {
    pub cluster: RealCluster,
    dir: tempfile::TempDir,
}

impl Private {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rudder-real-")
            .tempdir()
            .expect("create a temporary directory");
        let cluster = start_in(dir.path());
        Private { cluster, dir }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("down")
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-cluster.sh")
}

fn start_in(dir: &Path) -> RealCluster {
    let kubeconfig = dir.join("kubeconfig");
    let mut child = Command::new("bash")
        .arg(script())
        .arg("up")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--dir")
        .arg(dir)
        .arg("--watch-pid")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run scripts/real-cluster.sh");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = BufReader::new(stdout)
        .lines()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let status = child.wait().expect("wait for scripts/real-cluster.sh up");
    assert!(
        status.success(),
        "scripts/real-cluster.sh up failed ({status}); build first: scripts/real-cluster.sh build"
    );
    let rest = line
        .strip_prefix("real cluster ready: ")
        .unwrap_or_else(|| panic!("unexpected line from scripts/real-cluster.sh: {line:?}"));
    let (url, kc) = rest
        .split_once(" kubeconfig=")
        .unwrap_or_else(|| panic!("ready line without kubeconfig: {line:?}"));
    assert_eq!(Path::new(kc), kubeconfig.as_path());
    RealCluster {
        url: url.to_string(),
        kubeconfig,
        audit_log: Some(dir.join("logs/audit.log")),
    }
}

/// A namespace name no other test of any run uses: `t-<pid>-<n>` is unique while this process
/// lives, and a later run gets a new cluster or a new pid.
pub fn fresh_namespace() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The kubeconfig `text` (as `scripts/real-cluster.sh` writes it) with its context's namespace
/// set to `namespace`.
pub fn with_namespace(text: &str, namespace: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut replaced = false;
    for line in text.lines() {
        if let Some(indent) = line.strip_suffix("namespace: default") {
            if indent.trim().is_empty() {
                out.push_str(indent);
                out.push_str("namespace: ");
                out.push_str(namespace);
                out.push('\n');
                replaced = true;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(replaced, "the real kubeconfig names no namespace: {text}");
    out
}

/// Write requests (`VERB path`) in `namespace` logged after byte `offset` of the audit log, by
/// anyone but the cluster's own components (so: the clients a test ran).
pub fn writes_since(audit_log: &Path, offset: u64, namespace: &str) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    // The audit event of a request is written as its response completes: give the last one a
    // moment to land.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut file = std::fs::File::open(audit_log)
        .unwrap_or_else(|e| panic!("open the audit log {}: {e}", audit_log.display()));
    file.seek(SeekFrom::Start(offset))
        .expect("seek the audit log");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("read the audit log");
    const COMPONENTS: [&str; 4] = [
        "kube-controller-manager",
        "kube-scheduler",
        "kube-apiserver",
        "kwok",
    ];
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["objectRef"]["namespace"] == namespace)
        .filter(|e| !matches!(e["verb"].as_str(), Some("get" | "list" | "watch")))
        .filter(|e| {
            let agent = e["userAgent"].as_str().unwrap_or_default();
            !COMPONENTS.iter().any(|c| agent.starts_with(c))
        })
        .map(|e| {
            format!(
                "{} {}",
                e["verb"].as_str().unwrap_or("?"),
                e["requestURI"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The audit log's current length: where `writes_since` starts.
pub fn audit_mark(audit_log: &Path) -> u64 {
    std::fs::metadata(audit_log)
        .unwrap_or_else(|e| panic!("the audit log {}: {e}", audit_log.display()))
        .len()
}
