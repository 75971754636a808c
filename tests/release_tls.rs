//! The whole release flow over TLS with a bearer token: the real rudder binary against
//! `rudder sandbox --tls --token T`, and a read-only token that must fail an install at once.

mod common;

use common::{ok, stderr, Sandbox};
use serde_json::Value;

const TOKEN: &str = "release-t0ken";
const VIEWER_TOKEN: &str = "look-only";

fn chart() -> String {
    format!("{}/charts/web", env!("CARGO_MANIFEST_DIR"))
}

fn secure_sandbox() -> Sandbox {
    let sandbox =
        Sandbox::start_with(&["--tls", "--token", TOKEN, "--read-only-token", VIEWER_TOKEN]);
    assert!(sandbox.url.starts_with("https://"), "{}", sandbox.url);
    sandbox
}

fn rudder(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

fn image(sandbox: &Sandbox) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]))
}

#[test]
fn install_upgrade_history_rollback_uninstall_over_tls_with_a_token() {
    let sandbox = secure_sandbox();
    let chart = chart();
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "web",
            &chart,
            "--env",
            "dev",
            "--wait",
            "--timeout",
            "60s",
        ],
    ));
    let first = image(&sandbox);
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "web",
            &chart,
            "--env",
            "dev",
            "--set-string",
            "image.tag=1.27.1",
            "--wait",
            "--timeout",
            "60s",
        ],
    ));
    assert!(image(&sandbox).ends_with(":1.27.1"), "{}", image(&sandbox));

    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "web", "-o", "json"])))
            .expect("history is JSON");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("a list of revisions")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["superseded", "deployed"]);

    ok(&rudder(
        &sandbox,
        &["rollback", "web", "1", "--wait", "--timeout", "60s"],
    ));
    assert_eq!(image(&sandbox), first, "rollback restored revision 1");
    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "web", "-o", "json"])))
            .expect("history is JSON");
    assert_eq!(history.as_array().map(Vec::len), Some(3));

    ok(&rudder(&sandbox, &["uninstall", "web", "--wait"]));
    let left = ok(&sandbox.kubectl(&["get", "deploy,svc,cm,secrets", "-o", "name"]));
    assert!(!left.contains("web"), "uninstall left {left}");
    assert!(!left.contains("sh.helm.release"), "uninstall left {left}");
}

#[test]
fn a_read_only_token_fails_the_install_at_once_and_leaves_nothing() {
    let sandbox = secure_sandbox();
    let auth = format!("Bearer {TOKEN}");
    sandbox.request("DELETE", "/sandbox/requests", &[], b"");
    let install = rudder(
        &sandbox,
        &[
            "install",
            "web",
            &chart(),
            "--env",
            "dev",
            "--wait",
            "--kube-context",
            "rudder-sandbox-read-only",
        ],
    );
    assert_eq!(install.status.code(), Some(1));
    let err = stderr(&install);
    assert!(err.contains("forbidden"), "{err}");
    assert!(
        err.contains("User \"rudder-sandbox-viewer\" cannot create"),
        "{err}"
    );

    let log = sandbox.request("GET", "/sandbox/requests", &[], b"").json();
    let requests = log["requests"].as_array().expect("request log");
    let denied: Vec<&Value> = requests.iter().filter(|r| r["status"] == 403).collect();
    assert_eq!(denied.len(), 1, "one refused write, not retried: {log}");
    let writes_allowed = requests
        .iter()
        .filter(|r| !matches!(r["verb"].as_str(), Some("get" | "list" | "watch")))
        .filter(|r| r["status"] != 403)
        .count();
    assert_eq!(writes_allowed, 0, "nothing was written: {log}");

    // With the full token: no objects, no release record of any status.
    let left = ok(&sandbox.kubectl(&["get", "deploy,svc,cm,secrets", "-o", "name"]));
    assert!(!left.contains("web"), "{left}");
    assert!(!left.contains("sh.helm.release"), "{left}");
    let listed = ok(&rudder(&sandbox, &["list", "-a", "-o", "json"]));
    assert_eq!(listed.trim(), "[]", "{listed}");
    let raw = sandbox.request(
        "GET",
        "/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["items"], serde_json::json!([]));
}
