//! Runs the real `rudder` binary once per probe, in a throwaway folder, under an address-space
//! limit and a time bound, and checks the invariants every bad input must satisfy:
//!
//! - the exit code is 0 or 1 (2 too under `--detailed-exitcode`): never a panic (101), an abort
//!   (134), a signal or a hang;
//! - stderr is bounded, names the problem when the command fails, and holds no panic message,
//!   backtrace hint, internal limit name or Rust `Debug` dump;
//! - no planted secret (plain or base64) appears on stdout or stderr;
//! - nothing is written outside the folders the command was asked to write to.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// Longer than any honest run of a probe; a probe still running then is a hang.
pub const HANG_BOUND: Duration = Duration::from_secs(60);
/// Address space allowed to rudder (bytes): inflating inputs must be refused well below it.
pub const MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// An error message longer than this does not "name the problem", it dumps something.
pub const STDERR_LIMIT: usize = 8 * 1024;

const FORBIDDEN_IN_STDERR: &[&str] = &[
    "panicked",
    "RUST_BACKTRACE",
    "fatal runtime error",
    "budget breached",
    "stack backtrace",
];

/// Prepares a probe's folder (called with the working directory).
pub type Setup = Arc<dyn Fn(&Path) + Send + Sync>;

/// What a probe's exit must be, beyond the invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Refusing or accepting are both fine.
    Either,
    /// The input is bad: the command must fail (exit 1).
    Fails,
    /// The input is legitimate: the command must succeed.
    Succeeds,
}

/// One run of `rudder` with bad input.
#[derive(Clone)]
pub struct Probe {
    pub name: String,
    pub args: Vec<OsString>,
    pub files: Vec<(String, Vec<u8>)>,
    pub setup: Option<Setup>,
    pub stdin: Option<Vec<u8>>,
    /// Strings that must never appear on stdout or stderr (nor their base64).
    pub secrets: Vec<String>,
    /// Strings that must not appear on stderr only (stdout is the product, e.g. `template`).
    pub stderr_secrets: Vec<String>,
    pub outcome: Outcome,
    /// Text stderr must contain when the command fails.
    pub mentions: Option<String>,
    /// Folders (relative to the working directory) the command may write to; `out` always.
    pub writes_to: Vec<String>,
    /// Overrides the hang bound (for probes that pass `--timeout`).
    pub bound: Duration,
    pub env: Vec<(String, String)>,
    /// The command reports problems on stdout (`lint`): a failure may name them there.
    pub reports_on_stdout: bool,
}

impl Probe {
    /// A probe running `rudder ARGS` in a fresh working directory.
    pub fn new<S: AsRef<str>>(name: impl Into<String>, args: &[S]) -> Self {
        Probe {
            name: name.into(),
            args: args.iter().map(|a| OsString::from(a.as_ref())).collect(),
            files: Vec::new(),
            setup: None,
            stdin: None,
            secrets: Vec::new(),
            stderr_secrets: Vec::new(),
            outcome: Outcome::Either,
            mentions: None,
            writes_to: Vec::new(),
            bound: HANG_BOUND,
            env: Vec::new(),
            reports_on_stdout: false,
        }
    }

    pub fn reports_on_stdout(mut self) -> Self {
        self.reports_on_stdout = true;
        self
    }

    /// Appends a raw (possibly invalid UTF-8) argument.
    pub fn raw_arg(mut self, arg: Vec<u8>) -> Self {
        self.args.push(OsString::from_vec(arg));
        self
    }

    pub fn arg(mut self, arg: impl AsRef<str>) -> Self {
        self.args.push(OsString::from(arg.as_ref()));
        self
    }

    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_string(), contents.into()));
        self
    }

    pub fn files(mut self, files: &[(String, Vec<u8>)]) -> Self {
        self.files.extend_from_slice(files);
        self
    }

    pub fn setup(mut self, setup: impl Fn(&Path) + Send + Sync + 'static) -> Self {
        self.setup = Some(Arc::new(setup));
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    pub fn secret(mut self, s: &str) -> Self {
        self.secrets.push(s.to_string());
        self
    }

    pub fn stderr_secret(mut self, s: &str) -> Self {
        self.stderr_secrets.push(s.to_string());
        self
    }

    pub fn fails(mut self) -> Self {
        self.outcome = Outcome::Fails;
        self
    }

    pub fn succeeds(mut self) -> Self {
        self.outcome = Outcome::Succeeds;
        self
    }

    pub fn mentions(mut self, text: &str) -> Self {
        self.mentions = Some(text.to_string());
        self
    }

    pub fn writes_to(mut self, dir: &str) -> Self {
        self.writes_to.push(dir.to_string());
        self
    }

    /// The command line, for a failure report.
    pub fn command_line(&self) -> String {
        let mut line = String::from("rudder");
        for a in &self.args {
            let mut text = a.to_string_lossy().into_owned();
            if text.chars().count() > 80 {
                let cut: String = text.chars().take(60).collect();
                text = format!("{cut}…({} bytes)", a.len());
            }
            if text.is_empty() || text.contains(|c: char| c.is_whitespace() || c == '\'') {
                line.push_str(&format!(" {text:?}"));
            } else {
                line.push(' ');
                line.push_str(&text);
            }
        }
        line
    }
}

/// What one run produced.
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub hung: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Where the probes of one category run: the cluster, if any, shared by all.
#[derive(Clone, Default)]
pub struct Ctx {
    pub kubeconfig: Option<PathBuf>,
}

/// Runs `rudder ARGS` as a probe would (limits, bound, fresh HOME) in `dir`; for set-up steps
/// and follow-up checks that are not probes themselves.
pub fn run_rudder(ctx: &Ctx, dir: &Path, args: &[OsString], stdin: Option<&[u8]>) -> Run {
    let io = tempfile::tempdir().expect("a folder for the probe's output");
    execute(
        ctx,
        dir,
        &dir.join("home"),
        args,
        stdin,
        &[],
        HANG_BOUND,
        io.path(),
    )
}

/// [`run_rudder`] with the output files in `io`, for a probe run outside [`check`].
pub fn run_rudder_in(ctx: &Ctx, dir: &Path, args: &[OsString], io: &Path) -> Run {
    execute(ctx, dir, &dir.join("home"), args, None, &[], HANG_BOUND, io)
}

#[allow(clippy::too_many_arguments)]
fn execute(
    ctx: &Ctx,
    cwd: &Path,
    home: &Path,
    args: &[OsString],
    stdin: Option<&[u8]>,
    env: &[(String, String)],
    bound: Duration,
    io: &Path,
) -> Run {
    let out_path = io.join("stdout");
    let err_path = io.join("stderr");
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={MEMORY_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("DOCKER_CONFIG", home.join("docker"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("RUDDER_NAMESPACE")
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    match &ctx.kubeconfig {
        Some(k) => cmd.env("KUBECONFIG", k),
        None => cmd.env("KUBECONFIG", home.join("no-kubeconfig")),
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn prlimit rudder");
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let data = data.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            // rudder may stop reading early (a size cap): a broken pipe is its right.
            let _ = pipe.write_all(&data);
        })
    });
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for rudder") {
            break status;
        }
        if started.elapsed() > bound {
            hung = true;
            let _ = child.kill();
            break child.wait().expect("reap rudder");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    use std::os::unix::process::ExitStatusExt;
    Run {
        code: status.code(),
        signal: status.signal(),
        hung,
        stdout: read_capped(&out_path),
        stderr: read_capped(&err_path),
    }
}

/// Reads at most 256 MiB: the secret scan must see what a user would see, but a probe must not
/// take the test's own memory down with it.
fn read_capped(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut data = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(256 * 1024 * 1024).read_to_end(&mut data);
    }
    data
}

/// The paths under `root` with a fingerprint of each (file size and content hash, link target).
fn snapshot(root: &Path, skip: &Path) -> BTreeMap<PathBuf, String> {
    let mut map = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path == skip {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let print = if meta.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&path).ok())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else {
                use sha2::Digest as _;
                let data = std::fs::read(&path).unwrap_or_default();
                format!(
                    "{} {}",
                    meta.len(),
                    hex::encode(sha2::Sha256::digest(&data))
                )
            };
            map.insert(path, print);
        }
    }
    map
}

/// Runs one probe and returns what broke (empty when every invariant held).
pub fn check(ctx: &Ctx, probe: &Probe) -> Vec<String> {
    let root = tempfile::tempdir().expect("probe folder");
    // The working directory sits two levels down so that `../..` from the target still lands
    // inside the probe's folder, where the snapshot sees it.
    let cwd = root.path().join("w/x");
    let home = root.path().join("home");
    let io = root.path().join("io");
    for d in [&cwd, &home, &io] {
        std::fs::create_dir_all(d).expect("probe folders");
    }
    for (path, data) in &probe.files {
        let path = cwd.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("parent folder");
        std::fs::write(&path, data).expect("write probe file");
    }
    if let Some(setup) = &probe.setup {
        setup(&cwd);
    }
    let before = snapshot(root.path(), &io);
    let args: Vec<OsString> = probe
        .args
        .iter()
        .map(|a| match a.to_str() {
            Some(s) if s.contains("{root}") => {
                OsString::from(s.replace("{root}", &root.path().to_string_lossy()))
            }
            _ => a.clone(),
        })
        .collect();
    let run = execute(
        ctx,
        &cwd,
        &home,
        &args,
        probe.stdin.as_deref(),
        &probe.env,
        probe.bound,
        &io,
    );
    let after = snapshot(root.path(), &io);
    let mut broken = judge(probe, &run);
    let mut allowed = vec![cwd.join("out"), home.clone()];
    allowed.extend(
        probe
            .writes_to
            .iter()
            .map(|d| normalize(&cwd.join(d.replace("{root}", &root.path().to_string_lossy())))),
    );
    for (path, print) in &after {
        if before.get(path) == Some(print) || allowed.iter().any(|a| path.starts_with(a)) {
            continue;
        }
        let rel = path.strip_prefix(root.path()).unwrap_or(path);
        broken.push(format!("wrote outside its target: {}", rel.display()));
    }
    for path in before.keys() {
        if !after.contains_key(path) && !allowed.iter().any(|a| path.starts_with(a)) {
            let rel = path.strip_prefix(root.path()).unwrap_or(path);
            broken.push(format!("removed outside its target: {}", rel.display()));
        }
    }
    broken
}

/// `a/b/../c` → `a/c`, without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The invariants on one run's exit and output.
pub fn judge(probe: &Probe, run: &Run) -> Vec<String> {
    let mut broken = Vec::new();
    let detailed = probe.args.iter().any(|a| a == "--detailed-exitcode");
    if run.hung {
        broken.push(format!("still running after {:?}: killed", probe.bound));
    }
    match (run.code, run.signal) {
        (Some(0 | 1), _) => {}
        (Some(2), _) if detailed => {}
        (Some(code), _) => broken.push(format!("exit code {code}")),
        (None, Some(sig)) if !run.hung => broken.push(format!("killed by signal {sig}")),
        _ => {}
    }
    let stderr = run.stderr_text();
    if run.stderr.len() > STDERR_LIMIT {
        broken.push(format!("stderr is {} bytes", run.stderr.len()));
    }
    for word in FORBIDDEN_IN_STDERR {
        if stderr.contains(word) {
            broken.push(format!("stderr says {word:?}"));
        }
    }
    if let Some(dump) = debug_dump(&stderr) {
        broken.push(format!("stderr holds a Debug dump: {dump:?}"));
    }
    let failed = run.code == Some(1);
    let named_on_stdout = probe.reports_on_stdout && !run.stdout.is_empty();
    if failed && stderr.trim().is_empty() && !named_on_stdout {
        broken.push("failed without a word on stderr".to_string());
    }
    match probe.outcome {
        Outcome::Fails if run.code == Some(0) => {
            broken.push("accepted a bad input (exit 0)".to_string())
        }
        Outcome::Succeeds if run.code != Some(0) => {
            broken.push("refused a legitimate input".to_string())
        }
        _ => {}
    }
    if let (Some(text), true) = (&probe.mentions, failed) {
        if !stderr.contains(text.as_str()) {
            broken.push(format!("stderr does not mention {text:?}"));
        }
    }
    for secret in &probe.secrets {
        for form in secret_forms(secret) {
            if contains(&run.stdout, &form) {
                broken.push(format!("stdout shows the secret {form:?}"));
            }
            if contains(&run.stderr, &form) {
                broken.push(format!("stderr shows the secret {form:?}"));
            }
        }
    }
    for secret in &probe.stderr_secrets {
        for form in secret_forms(secret) {
            if contains(&run.stderr, &form) {
                broken.push(format!("stderr shows the secret {form:?}"));
            }
        }
    }
    broken
}

fn secret_forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_string(),
        base64::engine::general_purpose::STANDARD.encode(secret),
    ]
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// A Rust `Debug` rendering of a struct (`Nodes { nodes: 250001 }`, `Os { code: 2, kind: … }`):
/// a capitalised identifier, ` { `, then a lower-case field name and `: `.
pub fn debug_dump(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(" { ") {
        let at = from + at;
        from = at + 3;
        let head = &text[..at];
        let ident: String = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !ident.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        let tail = &text[at + 3..];
        let field: String = tail
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !field.is_empty() && tail[field.len()..].starts_with(": ") {
            let end = (at + 3 + field.len() + 20).min(bytes.len());
            let end = (end..=bytes.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(bytes.len());
            return Some(text[at - ident.len()..end].to_string());
        }
    }
    None
}

/// One failed probe, for the report.
pub struct Failure {
    pub name: String,
    pub command: String,
    pub broken: Vec<String>,
}

/// Runs `probes` on `threads` threads and prints `probes: CATEGORY N/M hold` plus every
/// failure with its command line; returns the failures.
pub fn run_category(category: &str, ctx: &Ctx, probes: &[Probe], threads: usize) -> Vec<Failure> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let slowest = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(probe) = probes.get(i) else {
                    break;
                };
                let started = Instant::now();
                let broken = check(ctx, probe);
                slowest
                    .lock()
                    .expect("slowest")
                    .push((started.elapsed(), probe.name.clone()));
                if !broken.is_empty() {
                    failures.lock().expect("failures").push(Failure {
                        name: probe.name.clone(),
                        command: probe.command_line(),
                        broken,
                    });
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    let mut slowest = slowest.into_inner().expect("slowest");
    slowest.sort_by_key(|(took, _)| std::cmp::Reverse(*took));
    let shown: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(d, n)| format!("{n} {:.1}s", d.as_secs_f64()))
        .collect();
    eprintln!("probes: {category} slowest: {}", shown.join(", "));
    report(category, probes.len(), &failures, started.elapsed());
    failures
}

/// Prints the count line and the failures.
pub fn report(category: &str, total: usize, failures: &[Failure], elapsed: Duration) {
    for f in failures {
        eprintln!(
            "probe {category}/{} broke: {}\n    {}",
            f.name,
            f.broken.join("; "),
            f.command
        );
    }
    let held = total - failures.len();
    let word = if failures.is_empty() { "hold" } else { "held" };
    eprintln!(
        "probes: {category} {held}/{total} {word} ({:.1}s)",
        elapsed.as_secs_f64()
    );
}

/// Fails the test with the list of failures.
#[track_caller]
pub fn assert_held(category: &str, failures: &[Failure]) {
    assert!(
        failures.is_empty(),
        "{} {category} probe(s) broke an invariant:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| format!("- {}: {}\n    {}", f.name, f.broken.join("; "), f.command))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::debug_dump;

    #[test]
    fn debug_dumps_are_recognised_and_prose_is_not() {
        assert!(debug_dump("Error: budget breached: Nodes { nodes: 250001 }").is_some());
        assert!(debug_dump("Os { code: 2, kind: NotFound }").is_some());
        assert!(debug_dump("Error: values.yaml:1:4: unclosed bracket '{'").is_none());
        assert!(debug_dump("template: c/templates/x.yaml:1: {{ if }} missing").is_none());
        assert!(debug_dump("expected a map { a: 1 }").is_none());
    }
}
