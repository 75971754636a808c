//! What release verbs ask of the API server, counted by the sandbox (`GET /sandbox/requests`),
//! and how they fare when the server misbehaves (`POST /sandbox/faults`): the request budget,
//! transient errors retried, persistent ones failing the revision with the reason, and a rerun
//! succeeding.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use common::{ok, stderr, Sandbox};
use serde_json::{json, Value};

/// 3 objects per app (ConfigMap, Service, Deployment); `--set apps=N`.
const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bench/chart-300");

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

/// The Kubernetes resource a request path names (`secrets`, `deployments`), or `discovery` for
/// `/api`, `/apis` and `/version`.
fn resource_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match parts.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return "discovery".to_string(),
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        rest => rest,
    };
    rest.first().map_or("discovery", |r| *r).to_string()
}

/// The requests answered since the last call, counted by (verb, resource); forgets them.
fn take_requests(sandbox: &Sandbox) -> (BTreeMap<(String, String), u64>, Vec<Value>) {
    let answer = sandbox.request("GET", "/sandbox/requests", &[], b"").json();
    sandbox.request("DELETE", "/sandbox/requests", &[], b"");
    let requests = answer["requests"].as_array().cloned().unwrap_or_default();
    let mut counts = BTreeMap::new();
    for r in &requests {
        let verb = r["verb"].as_str().unwrap_or_default().to_string();
        let resource = resource_of(r["path"].as_str().unwrap_or_default());
        *counts.entry((verb, resource)).or_insert(0) += 1;
    }
    (counts, requests)
}

fn expect(rows: &[(&str, &str, u64)]) -> BTreeMap<(String, String), u64> {
    rows.iter()
        .map(|(v, r, n)| ((v.to_string(), r.to_string()), *n))
        .collect()
}

fn add_fault(sandbox: &Sandbox, rule: Value) {
    let answer = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        rule.to_string().as_bytes(),
    );
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

fn history(sandbox: &Sandbox, name: &str) -> Vec<Value> {
    let text = ok(&rudder(sandbox, &["history", name, "-o", "json"]));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

fn image_of(sandbox: &Sandbox, deployment: &str) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        deployment,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]))
}

#[test]
fn resource_names_are_read_from_request_paths() {
    assert_eq!(resource_of("/api"), "discovery");
    assert_eq!(resource_of("/version"), "discovery");
    assert_eq!(resource_of("/apis"), "discovery");
    assert_eq!(
        resource_of("/api/v1/namespaces/default/secrets?labelSelector=x"),
        "secrets"
    );
    assert_eq!(
        resource_of("/apis/apps/v1/namespaces/default/deployments/app-000"),
        "deployments"
    );
    assert_eq!(resource_of("/api/v1/namespaces/default"), "namespaces");
    assert_eq!(resource_of("/api/v1/namespaces"), "namespaces");
}

/// The budget of the issue: one write per object, and at most five requests on the release's
/// own records (one list of its Secrets, the create that is the lock, the final update, and on
/// upgrade the read of the previous revision that makes sure no uninstall took it meanwhile and
/// the update that supersedes it). Reads besides: discovery
/// (`/api`, `/apis` aggregated, `/version`) and one list per kind for the pre-flight checks.
#[test]
fn install_and_upgrade_write_each_object_once_plus_five_release_requests_at_most() {
    let sandbox = Sandbox::start();
    take_requests(&sandbox);
    ok(&rudder(
        &sandbox,
        &["install", "bench", CHART, "--set", "apps=2"],
    ));
    let (counts, requests) = take_requests(&sandbox);
    let reads = [
        ("get", "discovery", 3),
        ("list", "configmaps", 1),
        ("list", "services", 1),
        ("list", "deployments", 1),
    ];
    let mut want = expect(&reads);
    want.extend(expect(&[
        ("patch", "configmaps", 2),
        ("patch", "services", 2),
        ("patch", "deployments", 2),
        ("list", "secrets", 1),
        ("create", "secrets", 1),
        ("update", "secrets", 1),
    ]));
    assert_eq!(counts, want, "install asked: {requests:#?}");

    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "bench",
            CHART,
            "--set",
            "apps=2",
            "--set",
            "image.tag=1.28",
        ],
    ));
    let (counts, requests) = take_requests(&sandbox);
    let mut want = expect(&reads);
    want.extend(expect(&[
        ("patch", "configmaps", 2),
        ("patch", "services", 2),
        ("patch", "deployments", 2),
        ("list", "secrets", 1),
        ("create", "secrets", 1),
        // Once the lock is taken: is the previous revision being uninstalled?
        ("get", "secrets", 1),
        // The previous revision superseded, the new one deployed.
        ("update", "secrets", 2),
    ]));
    assert_eq!(counts, want, "upgrade asked: {requests:#?}");
    assert_eq!(image_of(&sandbox, "app-001"), "nginx:1.28");
}

#[test]
fn transient_errors_on_a_patch_are_retried_and_the_upgrade_succeeds() {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "web", CHART, "--set", "apps=2"],
    ));
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments", "name": "app-001"},
               "error": 500, "times": 2}),
    );
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "configmaps", "name": "app-000"},
               "error": "reset", "times": 1}),
    );
    take_requests(&sandbox);
    ok(&rudder(
        &sandbox,
        &["upgrade", "web", CHART, "--set", "apps=2,image.tag=1.28"],
    ));
    let (_, requests) = take_requests(&sandbox);
    let statuses = |suffix: &str| -> Vec<u64> {
        requests
            .iter()
            .filter(|r| r["verb"] == "patch" && r["path"].as_str().unwrap().ends_with(suffix))
            .map(|r| r["status"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(statuses("/deployments/app-001"), vec![500, 500, 200]);
    assert_eq!(statuses("/configmaps/app-000"), vec![0, 200]);
    assert_eq!(image_of(&sandbox, "app-001"), "nginx:1.28");
    let history = history(&sandbox, "web");
    assert_eq!(history[1]["status"], "deployed", "{history:?}");
}

/// A fault that outlasts the retries fails the upgrade: the revision is marked failed with the
/// object and the server's reason, on one line; once the server is healthy a rerun succeeds.
fn persistent_fault_fails_the_upgrade_and_a_rerun_succeeds(error: Value, reason: &str) {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "web", CHART, "--set", "apps=2"],
    ));
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments", "name": "app-001"},
               "error": error}),
    );
    let failed = rudder(
        &sandbox,
        &["upgrade", "web", CHART, "--set", "apps=2,image.tag=1.28"],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let err = stderr(&failed);
    assert!(
        err.contains("deployments") || err.contains("Deployment"),
        "{err}"
    );
    assert!(err.contains("app-001"), "{err}");
    assert!(err.contains(reason), "{err}");

    let revisions = history(&sandbox, "web");
    assert_eq!(revisions.len(), 2, "{revisions:?}");
    assert_eq!(revisions[0]["status"], "deployed");
    assert_eq!(revisions[1]["status"], "failed");
    let description = revisions[1]["description"].as_str().unwrap();
    assert!(
        description.starts_with("Upgrade \"web\" failed: ")
            && description.contains("app-001")
            && description.contains(reason),
        "{description}"
    );
    assert!(!description.contains('\n'), "{description:?}");
    let table = ok(&rudder(&sandbox, &["history", "web"]));
    assert_eq!(table.lines().count(), 3, "one line per revision:\n{table}");

    sandbox.request("DELETE", "/sandbox/faults", &[], b"");
    ok(&rudder(
        &sandbox,
        &["upgrade", "web", CHART, "--set", "apps=2,image.tag=1.28"],
    ));
    let revisions = history(&sandbox, "web");
    let statuses: Vec<&str> = revisions
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"]);
    assert_eq!(image_of(&sandbox, "app-001"), "nginx:1.28");
}

#[test]
fn a_500_on_every_retry_of_one_patch_fails_the_upgrade_and_a_rerun_succeeds() {
    persistent_fault_fails_the_upgrade_and_a_rerun_succeeds(json!(500), "500");
}

#[test]
fn a_connection_reset_on_every_retry_fails_the_upgrade_and_a_rerun_succeeds() {
    persistent_fault_fails_the_upgrade_and_a_rerun_succeeds(
        json!("reset"),
        "the connection failed",
    );
}
