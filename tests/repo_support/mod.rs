//! Shared by the `repo_*` tests: an isolated rudder environment, a chart repository served over
//! loopback HTTP, a real OCI registry (Debian's `docker-registry`) on a free port, and the Python
//! judge (Helm 4's SDK).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use assert_cmd::prelude::*;

/// A throwaway HOME / XDG config / XDG cache for one test.
pub struct Env {
    pub root: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.path().join("config/rudder")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path().join("cache/rudder")
    }

    /// `rudder ARGS` with this environment.
    pub fn rudder(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("rudder").expect("rudder binary");
        cmd.args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env("DOCKER_CONFIG", self.path().join("docker"))
            .env_remove("SOURCE_DATE_EPOCH")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs rudder and returns (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.rudder(args).output().expect("run rudder");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs rudder and panics with its output unless it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(
            ok,
            "rudder {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout
    }

    /// Runs rudder, expects failure, returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(
            !ok,
            "rudder {args:?} should have failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stderr
    }
}

/// Writes a small chart `name` at `version` under `dir/name` and returns its folder.
pub fn write_chart(dir: &Path, name: &str, version: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\ndescription: The {name} chart\nversion: {version}\nappVersion: \"2.0\"\nkeywords: [demo]\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("values.yaml"), "replicas: 2\nenabled: true\n").unwrap();
    std::fs::write(
        root.join("templates/cm.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\ndata:\n  replicas: \"{{{{ .Values.replicas }}}}\"\n"
        ),
    )
    .unwrap();
    root
}

/// Snapshot of every file below `dir` (path → bytes), to prove a failure changed nothing.
pub fn snapshot(dir: &Path) -> HashMap<PathBuf, Vec<u8>> {
    let mut out = HashMap::new();
    fn walk(dir: &Path, out: &mut HashMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    walk(dir, &mut out);
    out
}

/// The Python interpreter with `helm_python`; the test fails (never skips) when it is missing.
pub fn python() -> PathBuf {
    let path = std::env::var_os("RUDDER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let ok = Command::new(&path)
        .args(["-c", "import helm_python"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Helm SDK judge (helm_python) is not available at {}: run `make test-deps`",
        path.display()
    );
    path
}

/// Runs a Python snippet with the judge; panics with its output on failure; returns stdout.
pub fn judge(script: &str) -> String {
    let out = Command::new(python())
        .args(["-c", script])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "Helm SDK judge failed:\n{script}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A canned answer for one path, overriding the served folder.
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Announce this Content-Length (larger than the body to simulate a cut connection).
    pub claimed_length: Option<usize>,
}

/// A chart repository on loopback: serves a folder over HTTP/1.1, optionally behind Basic or
/// bearer auth, with canned answers for chosen paths. Runs until dropped.
pub struct RepoServer {
    pub url: String,
    pub root: PathBuf,
    canned: Arc<Mutex<HashMap<String, Canned>>>,
    /// `Authorization` header value required on every request, if any.
    required_auth: Arc<Mutex<Option<String>>>,
    /// Paths requested, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl RepoServer {
    pub fn start(root: &Path) -> Self {
        Self::start_with(root, None)
    }

    /// Serves over HTTPS with a certificate for 127.0.0.1 issued by a fresh CA; returns the CA
    /// (PEM) too.
    pub fn start_tls(root: &Path) -> (Self, TestPki) {
        let pki = TestPki::new();
        let server = Self::start_with(root, Some(pki.server_config()));
        (server, pki)
    }

    fn start_with(root: &Path, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let server = RepoServer {
            url,
            root: root.to_path_buf(),
            canned: Arc::default(),
            required_auth: Arc::default(),
            requests: Arc::default(),
        };
        let (root, canned, auth, requests) = (
            server.root.clone(),
            server.canned.clone(),
            server.required_auth.clone(),
            server.requests.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, canned, auth, requests, tls) = (
                    root.clone(),
                    canned.clone(),
                    auth.clone(),
                    requests.clone(),
                    tls.clone(),
                );
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        let mut tls_stream = rustls::StreamOwned::new(conn, stream);
                        let _ = serve_one(&mut tls_stream, &root, &canned, &auth, &requests);
                        tls_stream.conn.send_close_notify();
                        let _ = tls_stream.flush();
                    }
                    None => {
                        let mut stream = stream;
                        let _ = serve_one(&mut stream, &root, &canned, &auth, &requests);
                    }
                });
            }
        });
        server
    }

    pub fn can(&self, path: &str, canned: Canned) {
        self.canned.lock().unwrap().insert(path.to_string(), canned);
    }

    pub fn clear_canned(&self) {
        self.canned.lock().unwrap().clear();
    }

    pub fn require_auth(&self, header: Option<&str>) {
        *self.required_auth.lock().unwrap() = header.map(String::from);
    }
}

fn serve_one<S: Read + Write>(
    stream: &mut S,
    root: &Path,
    canned: &Mutex<HashMap<String, Canned>>,
    auth: &Mutex<Option<String>>,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    // Read the request head byte by byte (requests here have no body).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    requests.lock().unwrap().push(path.clone());
    let required = auth.lock().unwrap().clone();
    if let Some(required) = required {
        if headers.get("authorization") != Some(&required) {
            return respond(stream, 401, "text/plain", b"unauthorized", None);
        }
    }
    if let Some(c) = canned.lock().unwrap().get(&path).cloned() {
        return respond(stream, c.status, &c.content_type, &c.body, c.claimed_length);
    }
    let rel = path.trim_start_matches('/');
    let file = root.join(rel);
    if rel.contains("..") || !file.is_file() {
        return respond(stream, 404, "text/plain", b"404 page not found", None);
    }
    let body = std::fs::read(&file)?;
    respond(stream, 200, "application/octet-stream", &body, None)
}

fn respond<S: Write>(
    stream: &mut S,
    status: u16,
    content_type: &str,
    body: &[u8],
    claimed_length: Option<usize>,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        claimed_length.unwrap_or(body.len())
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// A throwaway CA and a server certificate for 127.0.0.1 / localhost.
pub struct TestPki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestPki {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rudder test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let cert = params.signed_by(&key, &ca).unwrap();
        TestPki {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// The server certificate in DER.
    pub fn cert_der(&self) -> Vec<u8> {
        pem_der(&self.cert_pem)
    }

    /// The server key in DER (PKCS#8).
    pub fn key_der(&self) -> Vec<u8> {
        pem_der(&self.key_pem)
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let certs = vec![rustls::pki_types::CertificateDer::from(pem_der(
            &self.cert_pem,
        ))];
        let key = rustls::pki_types::PrivateKeyDer::try_from(pem_der(&self.key_pem)).unwrap();
        Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        )
    }

    /// Writes ca.pem, cert.pem and key.pem into `dir`.
    pub fn write_to(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &self.ca_pem).unwrap();
        std::fs::write(dir.join("cert.pem"), &self.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &self.key_pem).unwrap();
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The bcrypt hash of `rudder-pass` (cost 5), for the registry's htpasswd file.
pub const REGISTRY_USER: &str = "rudder";
pub const REGISTRY_PASSWORD: &str = "rudder-pass";
const HTPASSWD: &str = "rudder:$2b$05$fN8mmSQjC1PGFIhXmODOT.EBZ2ifH2zMMJFnEPNvXuV.5QLc2zvp2\n";

/// A CNCF distribution registry (`docker-registry serve`) on a free loopback port, killed on drop.
pub struct Registry {
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry; with `auth`, it requires Basic credentials (htpasswd).
    pub fn start(auth: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let auth_section = if auth {
            std::fs::write(dir.path().join("htpasswd"), HTPASSWD).unwrap();
            format!(
                "auth:\n  htpasswd:\n    realm: rudder-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            )
        } else {
            String::new()
        };
        Self::start_with(dir, auth_section)
    }

    /// Starts a registry that trusts bearer tokens from `realm` signed by a key certified by
    /// `ca_pem` (the distribution token flow), for service `rudder-test`, issuer `rudder-issuer`.
    pub fn start_token(realm: &str, ca_pem: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
        let auth_section = format!(
            "auth:\n  token:\n    realm: {realm}\n    service: rudder-test\n    issuer: rudder-issuer\n    rootcertbundle: {}\n",
            dir.path().join("ca.pem").display()
        );
        Self::start_with(dir, auth_section)
    }

    fn start_with(dir: tempfile::TempDir, auth_section: String) -> Self {
        let binary = Path::new("/usr/bin/docker-registry");
        assert!(
            binary.exists(),
            "{} is missing: run `make test-deps` (Debian package docker-registry)",
            binary.display()
        );
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{auth_section}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            host,
            child,
            _dir: dir,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(mut s) = TcpStream::connect(&self.host) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("docker-registry did not start on {}", self.host);
    }

    pub fn oci(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released; the registry binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
