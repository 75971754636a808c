//! Trouble on demand: the sandbox's `/sandbox/` control API (request accounting, fault
//! injection) and `--latency`, judged with raw HTTP, kubectl and rudder.

mod common;

use common::{ok, stderr, Sandbox};
use serde_json::{json, Value};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/web");

fn requests(sandbox: &Sandbox) -> Value {
    let r = sandbox.request("GET", "/sandbox/requests", &[], b"");
    assert_eq!(r.status, 200);
    r.json()
}

fn clear_requests(sandbox: &Sandbox) {
    assert_eq!(
        sandbox
            .request("DELETE", "/sandbox/requests", &[], b"")
            .status,
        200
    );
}

fn add_fault(sandbox: &Sandbox, rule: Value) {
    let body = rule.to_string();
    let r = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// The recorded requests matching `verb` and `path`, as their statuses.
fn statuses_of(sandbox: &Sandbox, verb: &str, path: &str) -> Vec<u64> {
    requests(sandbox)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verb"] == verb && r["path"] == path)
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_fault_fails_exactly_the_matching_requests_then_lets_them_through() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl(&["create", "configmap", "x", "--from-literal=a=b"]));
    ok(&sandbox.kubectl(&["create", "configmap", "y", "--from-literal=a=b"]));
    add_fault(
        &sandbox,
        json!({"match": {"verb": "get", "resource": "configmaps", "name": "x"}, "error": 500, "times": 2}),
    );
    let path_x = "/api/v1/namespaces/default/configmaps/x";
    let path_y = "/api/v1/namespaces/default/configmaps/y";
    let y = sandbox.request("GET", path_y, &[], b"");
    assert_eq!(y.status, 200, "another name is not affected");
    for _ in 0..2 {
        let r = sandbox.request("GET", path_x, &[], b"");
        assert_eq!(r.status, 500);
        let status = r.json();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "InternalError");
        assert_eq!(status["code"], 500);
    }
    assert_eq!(sandbox.request("GET", path_x, &[], b"").status, 200);
    assert_eq!(statuses_of(&sandbox, "get", path_x), vec![500, 500, 200]);

    // kubectl sees the injected error, then succeeds once the rule is used up.
    add_fault(
        &sandbox,
        json!({"match": {"verb": "get", "name": "x"}, "error": 500, "times": 1}),
    );
    let failed = sandbox.kubectl(&["get", "configmap", "x", "-o", "name"]);
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("injected by rudder sandbox"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(
        ok(&sandbox.kubectl(&["get", "configmap", "x", "-o", "name"])).trim(),
        "configmap/x"
    );

    // DELETE /sandbox/faults clears unlimited rules.
    add_fault(
        &sandbox,
        json!({"match": {"resource": "configmaps"}, "error": 503}),
    );
    assert_eq!(sandbox.request("GET", path_y, &[], b"").status, 503);
    assert_eq!(
        sandbox
            .request("DELETE", "/sandbox/faults", &[], b"")
            .status,
        200
    );
    assert_eq!(sandbox.request("GET", path_y, &[], b"").status, 200);
}

#[test]
fn a_429_says_when_to_retry_and_bad_rules_are_refused() {
    let sandbox = Sandbox::start();
    add_fault(
        &sandbox,
        json!({"match": {"verb": "list", "resource": "namespaces"}, "error": 429, "times": 1}),
    );
    let r = sandbox.request("GET", "/api/v1/namespaces", &[], b"");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(r.json()["reason"], "TooManyRequests");

    let bad = sandbox.request("POST", "/sandbox/faults", &[], br#"{"error": 404}"#);
    assert_eq!(bad.status, 400);
    let bad = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[],
        br#"{"match": {"verb": "PATCH"}, "error": 500}"#,
    );
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("match.verb"));
}

#[test]
fn a_reset_drops_the_connection_and_a_hang_never_answers() {
    use std::io::{Read, Write};
    let sandbox = Sandbox::start();
    add_fault(
        &sandbox,
        json!({"match": {"verb": "get", "name": "default"}, "error": "reset", "times": 1}),
    );
    let hostport = sandbox.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&hostport).unwrap();
    stream
        .write_all(
            b"GET /api/v1/namespaces/default HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    assert_eq!(
        statuses_of(&sandbox, "get", "/api/v1/namespaces/default"),
        vec![0]
    );

    add_fault(
        &sandbox,
        json!({"match": {"verb": "get", "name": "kube-system"}, "error": "hang", "times": 1}),
    );
    let mut stream = std::net::TcpStream::connect(&hostport).unwrap();
    stream
        .write_all(b"GET /api/v1/namespaces/kube-system HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Not a timing assertion: the read must come back empty-handed, however long we wait.
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 64];
    let read = stream.read(&mut buf);
    assert!(
        matches!(&read, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{read:?}"
    );
    // The hung request holds nothing: the server keeps answering others.
    assert_eq!(
        sandbox
            .request("GET", "/api/v1/namespaces/kube-system", &[], b"")
            .status,
        200
    );
}

#[test]
fn rudder_upgrade_survives_a_500_on_the_deployment_patch() {
    let sandbox = Sandbox::start();
    ok(&sandbox
        .rudder()
        .args(["install", "web", WEB, "--env", "dev"])
        .output()
        .unwrap());
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments", "name": "web"}, "error": 500, "times": 1}),
    );
    clear_requests(&sandbox);
    ok(&sandbox
        .rudder()
        .args([
            "upgrade",
            "web",
            WEB,
            "--env",
            "dev",
            "--set-string",
            "image.tag=1.27.1",
        ])
        .output()
        .unwrap());
    let image = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]));
    assert_eq!(image, "nginxinc/nginx-unprivileged:1.27.1");
    let patches = statuses_of(
        &sandbox,
        "patch",
        "/apis/apps/v1/namespaces/default/deployments/web",
    );
    assert_eq!(patches.first(), Some(&500), "{patches:?}");
    assert!(patches[1..].contains(&200), "{patches:?}");
}

#[test]
fn request_counts_are_exact_under_16_concurrent_clients() {
    let sandbox = Sandbox::start();
    clear_requests(&sandbox);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                for _ in 0..10 {
                    let r = sandbox.request("GET", "/api/v1/namespaces/default", &[], b"");
                    assert_eq!(r.status, 200);
                }
            });
        }
    });
    let log = requests(&sandbox);
    assert_eq!(log["count"], 160);
    assert_eq!(
        statuses_of(&sandbox, "get", "/api/v1/namespaces/default").len(),
        160
    );
    // The control API itself is never counted.
    assert_eq!(requests(&sandbox)["count"], 160);
    clear_requests(&sandbox);
    assert_eq!(requests(&sandbox)["count"], 0);
}

#[test]
fn latency_delays_every_request_and_shows_in_its_duration() {
    let sandbox = Sandbox::start_with(&["--latency", "40", "--jitter", "10"]);
    clear_requests(&sandbox);
    ok(&sandbox.kubectl(&["get", "namespaces", "-o", "name"]));
    let log = requests(&sandbox);
    let list = log["requests"].as_array().unwrap();
    assert!(!list.is_empty());
    for r in list {
        assert!(r["durationMs"].as_f64().unwrap() >= 40.0, "{r}");
    }
}
