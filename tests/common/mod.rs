//! Shared harness for end-to-end tests: start a real `rudder sandbox` on loopback and drive it
//! with real clients (kubectl, the Helm SDK through Python, rudder itself).
//!
//! With `RUDDER_TEST_CLUSTER=real` the same tests run against a real Kubernetes control plane
//! (`scripts/real-cluster.sh`): one cluster per test binary (or the one `RUDDER_REAL_KUBECONFIG`
//! names), each test in a namespace of its own, so tests that share the cluster cannot see each
//! other's releases.
//!
//! ```ignore
//! mod common;
//! let sandbox = common::Sandbox::start();
//! let out = sandbox.kubectl(&["get", "namespaces", "-o", "name"]);
//! assert!(out.status.success());
//! ```
#![allow(dead_code)]

mod real;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `rudder sandbox` process, killed on drop; or, on the real tier, a namespace of the
/// shared real cluster, deleted on drop.
pub struct Sandbox {
    /// `http://127.0.0.1:PORT` (`https://` on the real cluster).
    pub url: String,
    /// The kubeconfig the sandbox wrote (cluster, user and context `rudder-sandbox`); on the real
    /// cluster a copy whose context names this test's namespace.
    pub kubeconfig: PathBuf,
    /// A scratch directory for this test; also `HOME` for the clients (isolates kubectl's cache).
    pub dir: PathBuf,
    /// The namespace releases go to when a command names none.
    pub namespace: String,
    /// `None` on the real cluster, which outlives one test.
    child: Option<Child>,
    /// A real cluster of this test's own (`start_exclusive`).
    _private: Option<real::Private>,
    _tmp: tempfile::TempDir,
}

/// A point in the cluster's request log (`Sandbox::mark_requests`).
pub struct RequestMark(u64);

/// Which cluster the end-to-end tests run against: `RUDDER_TEST_CLUSTER=sandbox|real`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Sandbox,
    Real,
}

/// The cluster this test run targets (default: the sandbox).
pub fn target() -> Target {
    match std::env::var("RUDDER_TEST_CLUSTER").as_deref() {
        Ok("real") => Target::Real,
        Ok("sandbox") | Ok("") | Err(_) => Target::Sandbox,
        Ok(other) => panic!("RUDDER_TEST_CLUSTER={other:?}: expected `sandbox` or `real`"),
    }
}

/// True (and says so on stderr, uncaptured, so CI's log shows it) when the test cannot run on
/// the real cluster; the caller returns early. Every such test is listed in docs/real-cluster.md.
pub fn sandbox_only(why: &str) -> bool {
    if target() != Target::Real {
        return false;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    // Not eprintln!: the test harness captures that, and a skip must be visible in CI's log.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED on the real cluster: {test}: {why}"
    );
    true
}

impl Sandbox {
    /// Starts a sandbox on a free port and waits for its ready line; on the real tier, a fresh
    /// namespace of the shared real cluster instead.
    pub fn start() -> Self {
        if target() == Target::Real {
            return Self::real();
        }
        Self::start_with(&[])
    }

    /// `text` with the namespace `default` (as in `default/web` or `default, web, …`) made this
    /// test's namespace: expected output written for the sandbox, fit for either cluster.
    pub fn ns(&self, text: &str) -> String {
        text.replace("default/", &format!("{}/", self.namespace))
            .replace("default, ", &format!("{}, ", self.namespace))
    }

    /// `text` with this test's namespace written `default`, for snapshots shared by both clusters.
    pub fn unns(&self, text: &str) -> String {
        if self.namespace == "default" {
            return text.to_string();
        }
        text.replace(&self.namespace, "default")
    }

    /// For tests that look at the whole cluster (`list -A`, cluster-scoped objects): a sandbox,
    /// or on the real tier a real cluster of the test's own (about 5 s to start), namespace
    /// `default`.
    pub fn start_exclusive() -> Self {
        if target() != Target::Real {
            return Self::start_with(&[]);
        }
        let private = real::Private::start();
        let tmp = tempfile::tempdir().expect("create a temporary directory");
        Sandbox {
            url: private.cluster.url.clone(),
            kubeconfig: private.cluster.kubeconfig.clone(),
            dir: tmp.path().to_path_buf(),
            namespace: "default".to_string(),
            child: None,
            _private: Some(private),
            _tmp: tmp,
        }
    }

    /// Marks the point after which `writes_since` counts: clears the sandbox's request log, or
    /// notes where the real cluster's audit log ends.
    pub fn mark_requests(&self) -> RequestMark {
        if self.child.is_some() {
            self.request("DELETE", "/sandbox/requests", &[], b"");
            return RequestMark(0);
        }
        RequestMark(real::audit_mark(self.audit_log()))
    }

    /// Write requests (`VERB path`) the clients of this test sent since `mark`.
    pub fn writes_since(&self, mark: &RequestMark) -> Vec<String> {
        if self.child.is_some() {
            let answer = self.request("GET", "/sandbox/requests", &[], b"");
            return answer.json()["requests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| !matches!(r["verb"].as_str(), Some("GET" | "get" | "list" | "watch")))
                .map(|r| format!("{} {}", r["verb"], r["path"]))
                .collect();
        }
        real::writes_since(self.audit_log(), mark.0, &self.namespace)
    }

    fn audit_log(&self) -> &Path {
        let cluster = match &self._private {
            Some(private) => &private.cluster,
            None => real::cluster(),
        };
        cluster.audit_log.as_deref().expect(
            "counting requests on a real cluster needs its audit log: set RUDDER_REAL_AUDIT_LOG",
        )
    }

    /// A namespace of its own on the shared real cluster, with a kubeconfig that selects it.
    fn real() -> Self {
        let cluster = real::cluster();
        let tmp = tempfile::tempdir().expect("create a temporary directory");
        let dir = tmp.path().to_path_buf();
        let namespace = real::fresh_namespace();
        let kubeconfig = dir.join("kubeconfig");
        let text = std::fs::read_to_string(&cluster.kubeconfig).expect("read the real kubeconfig");
        std::fs::write(&kubeconfig, real::with_namespace(&text, &namespace))
            .expect("write the test's kubeconfig");
        let sandbox = Sandbox {
            url: cluster.url.clone(),
            kubeconfig,
            dir,
            namespace,
            child: None,
            _private: None,
            _tmp: tmp,
        };
        ok(&sandbox.kubectl(&["create", "namespace", &sandbox.namespace]));
        sandbox
    }

    /// Starts a sandbox with extra `rudder sandbox` arguments (e.g. `--state FILE`).
    pub fn start_with(extra: &[&str]) -> Self {
        let tmp = tempfile::tempdir().expect("create a temporary directory");
        let dir = tmp.path().to_path_buf();
        let kubeconfig = dir.join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rudder"))
            .arg("sandbox")
            .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rudder sandbox");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep draining so the sandbox never blocks on a full pipe.
            for _ in lines {}
        });
        // Not a timing assertion: a guard so a broken sandbox fails the test instead of hanging.
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("rudder sandbox printed no ready line");
            }
        };
        let rest = line
            .strip_prefix("sandbox ready: ")
            .unwrap_or_else(|| panic!("unexpected first line from rudder sandbox: {line:?}"));
        let (url, kc) = rest
            .split_once(" kubeconfig=")
            .unwrap_or_else(|| panic!("ready line without kubeconfig: {line:?}"));
        assert_eq!(Path::new(kc), kubeconfig.as_path());
        Sandbox {
            url: url.to_string(),
            kubeconfig,
            dir,
            namespace: "default".to_string(),
            child: Some(child),
            _private: None,
            _tmp: tmp,
        }
    }

    /// A kubectl command with `KUBECONFIG` and `HOME` pointing at this sandbox's files.
    pub fn kubectl_command(&self) -> Command {
        let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
        let mut cmd = Command::new(kubectl);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs kubectl with `args` against this sandbox.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command()
            .args(args)
            .output()
            .expect("run kubectl (is it installed? `make test-deps` installs it)")
    }

    /// Runs kubectl with `args`, feeding `stdin` (e.g. `apply -f -`).
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .kubectl_command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl (is it installed? `make test-deps` installs it)");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("write kubectl stdin");
        child.wait_with_output().expect("wait for kubectl")
    }

    /// A `rudder` command with `KUBECONFIG` pointing at this sandbox.
    pub fn rudder(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rudder"));
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .env("NO_COLOR", "1");
        cmd
    }

    /// Writes `contents` to `name` in the scratch directory and returns its path.
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Runs a Python script with the judge interpreter (helm_python available), in the scratch
    /// directory, with `KUBECONFIG` set.
    pub fn python(&self, script: &str) -> Output {
        Command::new(python())
            .arg("-c")
            .arg(script)
            .current_dir(&self.dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .output()
            .expect("run the Python judge")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        match &mut self.child {
            Some(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // The whole private cluster goes.
            None if self._private.is_some() => {}
            // The namespace controller finishes the deletion; nobody needs to wait for it.
            None => {
                let _ = self.kubectl(&["delete", "namespace", &self.namespace, "--wait=false"]);
            }
        }
    }
}

/// The Python interpreter with the judges (`helm_python`, `kubernetes_validate`):
/// `$RUDDER_PYTHON`, else `$CARGO_MANIFEST_DIR/.venv/bin/python`. Panics (fails the test) when
/// missing: run `make test-deps`.
pub fn python() -> PathBuf {
    let path = match std::env::var_os("RUDDER_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    };
    assert!(
        path.exists(),
        "the Python judge {} is missing: run `make test-deps`",
        path.display()
    );
    path
}

/// stdout of an Output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of an Output as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success, printing both streams otherwise; returns stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// A raw HTTP/1.1 answer.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body parsed as JSON (panics with the body text if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header value (first match, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Sandbox {
    /// Sends one raw HTTP/1.1 request (`Connection: close`) and reads the whole answer; for
    /// exercising bad input that no well-behaved client sends.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        use std::io::Read;
        let hostport = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        let mut stream = self.connect();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .expect("send request head");
        // The server may answer (413) before reading the whole body; a failed write is fine.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw)
    }
}

/// A byte stream to the sandbox: plain TCP, or TLS for an `https://` sandbox.
trait Stream: std::io::Read + Write {}
impl<T: std::io::Read + Write> Stream for T {}

impl Sandbox {
    /// The CA the sandbox's kubeconfig trusts (PEM), for `--tls` sandboxes.
    pub fn ca_pem(&self) -> Vec<u8> {
        use base64::Engine as _;
        let text = std::fs::read_to_string(&self.kubeconfig).expect("read the kubeconfig");
        let data = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
            .expect("an https sandbox's kubeconfig carries certificate-authority-data");
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .expect("certificate-authority-data is base64")
    }

    fn connect(&self) -> Box<dyn Stream> {
        use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
        let hostport = self
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        let tcp = std::net::TcpStream::connect(hostport).expect("connect to the sandbox");
        if !self.url.starts_with("https://") {
            return Box::new(tcp);
        }
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(&self.ca_pem()).expect("the CA is PEM"))
            .expect("a usable CA certificate");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
        let name = ServerName::try_from(host.to_string()).expect("a server name");
        let conn =
            rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("a TLS client");
        Box::new(rustls::StreamOwned::new(conn, tcp))
    }
}

fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

impl Sandbox {
    /// Stops the sandbox gracefully (SIGTERM) and waits for it to exit; returns whether it
    /// exited successfully.
    pub fn stop(mut self) -> bool {
        let child = self
            .child
            .as_mut()
            .expect("stop() is for a sandbox process, not the shared real cluster");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        child.wait().map(|s| s.success()).unwrap_or(false)
    }
}
