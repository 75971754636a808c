//! `make bench`: `rudder diff upgrade` of a 300-object release (`testdata/bench/chart-300`,
//! installed first, then one image tag changed) against `rudder sandbox --latency 20`.
//!
//! Reports the wall time of the whole `rudder` process and the requests the sandbox answered
//! (`/sandbox/requests`), split into object requests (server-side dry-run applies, lists, GETs),
//! release record reads (Secrets) and discovery, for the default concurrency (16) and for the
//! sequential baseline (`--concurrency 1`). Numbers, not assertions.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{http, Sandbox};

const LATENCY_MS: &str = "20";
const OBJECTS: usize = 300;
const RUNS: usize = 3;

/// Requests answered since the last call, by kind.
#[derive(Default)]
struct Requests {
    total: usize,
    dry_runs: usize,
    object_reads: usize,
    records: usize,
    discovery: usize,
}

fn take_requests(host: &str) -> Requests {
    let body = http(host, "GET", "/sandbox/requests", "");
    let answer: Value = serde_json::from_str(&body).expect("requests JSON");
    http(host, "DELETE", "/sandbox/requests", "");
    let mut r = Requests::default();
    for request in answer["requests"].as_array().into_iter().flatten() {
        r.total += 1;
        let verb = request["verb"].as_str().unwrap_or_default();
        let path = request["path"].as_str().unwrap_or_default();
        if path.contains("/secrets") {
            r.records += 1;
        } else if verb == "patch" {
            r.dry_runs += 1;
        } else if path.contains("/namespaces/") && matches!(verb, "get" | "list") {
            r.object_reads += 1;
        } else {
            r.discovery += 1;
        }
    }
    r
}

/// Runs `rudder ARGS`; returns its wall time and stdout.
fn rudder(exe: &str, sandbox: &Sandbox, args: &[&str]) -> (Duration, String) {
    let started = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rudder");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "rudder {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_rudder");
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bench/chart-300");
    let sandbox = Sandbox::start(exe, &["--latency", LATENCY_MS]);
    let host = sandbox.host.clone();
    rudder(exe, &sandbox, &["install", "bench", chart]);
    take_requests(&host);
    println!(
        "diff upgrade of chart-300 ({OBJECTS} objects, image.tag changed), rudder sandbox --latency {LATENCY_MS}; \
         best of {RUNS} runs for concurrency 16, one sequential run"
    );
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>12} {:>8} {:>10} {:>16}",
        "concurrency",
        "wall",
        "requests",
        "dry-runs",
        "object reads",
        "records",
        "discovery",
        "per object",
    );
    for (label, concurrency, runs) in [("16 (default)", "16", RUNS), ("1 (sequential)", "1", 1)] {
        let mut best: Option<(Duration, Requests)> = None;
        let mut summary = String::new();
        for _ in 0..runs {
            let (took, out) = rudder(
                exe,
                &sandbox,
                &[
                    "diff",
                    "upgrade",
                    "bench",
                    chart,
                    "--set",
                    "image.tag=1.28",
                    "-o",
                    "simple",
                    "--concurrency",
                    concurrency,
                ],
            );
            summary = out.lines().last().unwrap_or_default().to_string();
            let requests = take_requests(&host);
            if best.as_ref().is_none_or(|(b, _)| took < *b) {
                best = Some((took, requests));
            }
        }
        let Some((took, r)) = best else { continue };
        let per_object = (r.dry_runs + r.object_reads) as f64 / OBJECTS as f64;
        println!(
            "{label:<14} {:>7.3}s {:>9} {:>9} {:>12} {:>8} {:>10} {:>16.2}",
            took.as_secs_f64(),
            r.total,
            r.dry_runs,
            r.object_reads,
            r.records,
            r.discovery,
            per_object,
        );
        println!("{:<14} {summary}", "");
    }
}
