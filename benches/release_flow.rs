//! `make bench`: install, then upgrade with one image tag changed, of `testdata/bench/chart-300`
//! (300 objects) against `rudder sandbox --latency 20`, by rudder and by Helm 4's SDK
//! (`helm_python`, through `.venv/bin/python` or `$RUDDER_PYTHON`) against the same sandbox.
//!
//! Reports wall time, the client's CPU time and the requests the sandbox answered
//! (`/sandbox/requests`) per step. rudder's times are the whole `rudder` process; Helm's are the
//! SDK call alone (the interpreter and the Go library load are not counted), which favours Helm.
//! CPU time tells the tools apart on a busy machine, where wall time mostly measures the wait
//! for a core. Numbers, not assertions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{http, Sandbox};

const LATENCY_MS: &str = "20";
const NEW_TAG: &str = "1.28";

/// Requests answered since the last call: (total, object writes, release records, other reads).
fn take_requests(host: &str) -> (usize, usize, usize, usize) {
    let answer: Value =
        serde_json::from_str(&http(host, "GET", "/sandbox/requests", "")).expect("requests JSON");
    http(host, "DELETE", "/sandbox/requests", "");
    let requests = answer["requests"].as_array().cloned().unwrap_or_default();
    let (mut writes, mut records, mut reads) = (0, 0, 0);
    for r in &requests {
        let verb = r["verb"].as_str().unwrap_or_default();
        let path = r["path"].as_str().unwrap_or_default();
        if path.contains("/secrets") {
            records += 1;
        } else if matches!(verb, "create" | "update" | "patch" | "delete") {
            writes += 1;
        } else {
            reads += 1;
        }
    }
    (requests.len(), writes, records, reads)
}

fn create_namespace(host: &str, name: &str) {
    let body =
        format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#);
    http(host, "POST", "/api/v1/namespaces", &body);
}

fn python() -> PathBuf {
    match std::env::var_os("RUDDER_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    }
}

/// CPU time (user + system) of every waited-for child process so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// Runs `rudder ARGS`; returns its wall and CPU time.
fn rudder(exe: &str, sandbox: &Sandbox, args: &[&str]) -> (Duration, Duration) {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .output()
        .expect("run rudder");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "rudder {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, children_cpu() - cpu_before)
}

/// Runs one Helm SDK call (`install` or `upgrade`) in a fresh interpreter; returns the wall and
/// CPU time the call took, measured inside Python.
fn helm(sandbox: &Sandbox, chart: &str, step: &str) -> Option<(Duration, Duration)> {
    let call = match step {
        "install" => "cfg.install(chart, 'bench', None)".to_string(),
        _ => format!("cfg.upgrade(chart, 'bench', {{'image': {{'tag': '{NEW_TAG}'}}}})"),
    };
    let script = format!(
        "import helm_python, os, time\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace='bench-helm')\n\
         chart = {chart:?}\n\
         started, cpu = time.monotonic(), time.process_time()\n\
         {call}\n\
         print(time.monotonic() - started, time.process_time() - cpu)\n"
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(&script)
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "helm {step} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut seconds = text
        .split_whitespace()
        .filter_map(|s| s.parse::<f64>().ok());
    let wall = Duration::from_secs_f64(seconds.next()?);
    let cpu = Duration::from_secs_f64(seconds.next()?);
    Some((wall, cpu))
}

fn row(tool: &str, step: &str, took: (Duration, Duration), requests: (usize, usize, usize, usize)) {
    let (total, writes, records, reads) = requests;
    println!(
        "{tool:<8} {step:<8} {:>9.3}s {:>8.3}s {total:>9} {writes:>7} {records:>8} {reads:>6}",
        took.0.as_secs_f64(),
        took.1.as_secs_f64()
    );
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_rudder");
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bench/chart-300");
    let sandbox = Sandbox::start(exe, &["--latency", LATENCY_MS]);
    let host = sandbox.host.clone();
    create_namespace(&host, "bench-rudder");
    create_namespace(&host, "bench-helm");
    println!(
        "chart-300 (300 objects), rudder sandbox --latency {LATENCY_MS} (ms per request); \
         writes = object creates/updates/patches/deletes, records = release Secret requests"
    );
    println!(
        "{:<8} {:<8} {:>10} {:>9} {:>9} {:>7} {:>8} {:>6}",
        "tool", "step", "wall", "cpu", "requests", "writes", "records", "reads"
    );
    take_requests(&host);
    let set_tag = format!("image.tag={NEW_TAG}");
    let steps: [(&str, Vec<&str>); 2] = [
        (
            "install",
            vec!["install", "bench", chart, "-n", "bench-rudder"],
        ),
        (
            "upgrade",
            vec![
                "upgrade",
                "bench",
                chart,
                "-n",
                "bench-rudder",
                "--set",
                &set_tag,
            ],
        ),
    ];
    let mut rudder_times = Vec::new();
    for (step, args) in &steps {
        let took = rudder(exe, &sandbox, args);
        row("rudder", step, took, take_requests(&host));
        rudder_times.push(took);
    }
    if !python().exists() {
        println!(
            "helm: the Python judge {} is missing (run `make test-deps`)",
            python().display()
        );
        return;
    }
    for (i, step) in ["install", "upgrade"].iter().enumerate() {
        take_requests(&host);
        let Some(took) = helm(&sandbox, chart, step) else {
            return;
        };
        row("helm", step, took, take_requests(&host));
        println!(
            "{:<8} {step:<8} {:>9.1}x faster than helm (wall), {:.1}x less CPU",
            "rudder",
            took.0.as_secs_f64() / rudder_times[i].0.as_secs_f64(),
            took.1.as_secs_f64() / rudder_times[i].1.as_secs_f64()
        );
    }
}
