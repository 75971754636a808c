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

/// A kubeconfig with a token and a plain `http://` server: like kubectl, rudder sends no
/// credentials over the unencrypted connection, and says so on stderr. A loopback listener
/// records the request headers it receives.
#[test]
fn a_token_is_never_sent_over_plain_http() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::{Arc, Mutex};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let headers: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = headers.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                seen.lock().unwrap().push(line.trim_end().to_string());
                line.clear();
            }
            let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"recorded"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\nusers:\n- name: u\n  user:\n    token: {TOKEN}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(["list"])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    let headers = headers.lock().unwrap().clone();
    assert!(
        headers.iter().any(|h| h.starts_with("GET ")),
        "rudder reached the listener: {headers:?}\n{err}"
    );
    assert!(
        !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("authorization:")),
        "credentials sent in clear: {headers:?}"
    );
    assert!(
        err.contains(&format!(
            "warning: the kubeconfig's credentials were not sent to http://127.0.0.1:{port}: the connection is not encrypted"
        )),
        "{err}"
    );
}
