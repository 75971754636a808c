//! `rudder sandbox --tls`, `--token` and `--read-only-token`, judged by kubectl, Helm's SDK and
//! rudder's own client.

mod common;

use common::{ok, stderr, stdout, Sandbox};
use serde_json::Value;

const CHART: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/helm-charts/sandbox-demo"
);

/// The kubeconfig of `sandbox` with the CA of `other`: a server the client must not trust.
fn kubeconfig_with_foreign_ca(sandbox: &Sandbox, other: &Sandbox) -> std::path::PathBuf {
    let ca = |s: &Sandbox| {
        let text = std::fs::read_to_string(&s.kubeconfig).expect("read kubeconfig");
        text.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("certificate-authority-data: ")
                    .map(str::to_string)
            })
            .expect("the TLS kubeconfig carries certificate-authority-data")
    };
    let (ours, theirs) = (ca(sandbox), ca(other));
    assert_ne!(ours, theirs, "every sandbox makes its own CA");
    let text = std::fs::read_to_string(&sandbox.kubeconfig).expect("read kubeconfig");
    sandbox.write_file("wrong-ca.kubeconfig", &text.replace(&ours, &theirs))
}

#[test]
fn kubectl_and_rudder_verify_the_generated_ca() {
    let sandbox = Sandbox::start_with(&["--tls"]);
    assert!(
        sandbox.url.starts_with("https://127.0.0.1:"),
        "{}",
        sandbox.url
    );
    ok(&sandbox.kubectl(&["create", "namespace", "secure"]));
    let names = ok(&sandbox.kubectl(&["get", "namespaces", "-o", "name"]));
    assert!(names.contains("namespace/secure"), "{names}");
    let listed = sandbox
        .rudder()
        .args(["list", "-A"])
        .output()
        .expect("run rudder");
    ok(&listed);

    let other = Sandbox::start_with(&["--tls"]);
    let wrong = kubeconfig_with_foreign_ca(&sandbox, &other);
    let refused = sandbox
        .rudder()
        .env("KUBECONFIG", &wrong)
        .args(["list"])
        .output()
        .expect("run rudder");
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "cannot verify the TLS certificate of {}",
            sandbox.url
        )),
        "{err}"
    );
    assert!(err.contains("certificate-authority-data"), "{err}");
    let kubectl = sandbox
        .kubectl_command()
        .env("KUBECONFIG", &wrong)
        .args(["get", "namespaces"])
        .output()
        .expect("run kubectl");
    assert!(!kubectl.status.success());
    assert!(
        stderr(&kubectl).contains("x509"),
        "kubectl's verification failed for its own reason: {}",
        stderr(&kubectl)
    );
}

#[test]
fn helm_sdk_works_over_tls_with_a_token() {
    let sandbox = Sandbox::start_with(&["--tls", "--token", "s3cret"]);
    let script = format!(
        "import helm_python, json, os\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace='default')\n\
         r = cfg.install({CHART:?}, 'demo', {{'message': 'over tls'}})\n\
         print(json.dumps([r['status'], [h['status'] for h in cfg.history('demo')]]))\n"
    );
    let out = ok(&sandbox.python(&script));
    let seen: Value = serde_json::from_str(out.lines().last().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("helm printed {out:?}: {e}"));
    assert_eq!(seen, serde_json::json!(["deployed", ["deployed"]]));
    let message = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "-o",
        "jsonpath={.data.message}",
    ]));
    assert_eq!(message, "over tls");
}

#[test]
fn requests_without_the_token_are_unauthorized() {
    let sandbox = Sandbox::start_with(&["--tls", "--token", "s3cret", "--read-only-token", "look"]);
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", "Basic czNjcmV0")],
    ] {
        let answer = sandbox.request("GET", "/api/v1/namespaces", &headers, b"");
        assert_eq!(answer.status, 401, "{headers:?}");
        let status = answer.json();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "Unauthorized");
        assert_eq!(status["message"], "Unauthorized");
        assert_eq!(status["code"], 401);
    }
    let admin = sandbox.request(
        "GET",
        "/api/v1/namespaces",
        &[("Authorization", "Bearer s3cret")],
        b"",
    );
    assert_eq!(admin.status, 200);
    // The control API stays open for tests.
    assert_eq!(
        sandbox.request("GET", "/sandbox/requests", &[], b"").status,
        200
    );
    // The kubeconfig carries the token: kubectl and rudder just work.
    ok(&sandbox.kubectl(&["create", "configmap", "settings", "--from-literal=a=b"]));
    ok(&sandbox
        .rudder()
        .args(["list"])
        .output()
        .expect("run rudder"));
}

#[test]
fn the_read_only_token_reads_and_writes_are_forbidden() {
    let sandbox = Sandbox::start_with(&["--tls", "--token", "s3cret", "--read-only-token", "look"]);
    ok(&sandbox.kubectl(&["create", "configmap", "settings", "--from-literal=a=b"]));
    let viewer = |args: &[&str]| {
        let mut all = vec!["--context", "rudder-sandbox-read-only"];
        all.extend_from_slice(args);
        sandbox.kubectl(&all)
    };
    let names = ok(&viewer(&["get", "configmaps", "-o", "name"]));
    assert!(names.contains("configmap/settings"), "{names}");
    let denied = viewer(&["delete", "configmap", "settings"]);
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains(
            "Error from server (Forbidden): configmaps \"settings\" is forbidden: User \"rudder-sandbox-viewer\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"default\""
        ),
        "{}",
        stderr(&denied)
    );
    let denied = viewer(&["create", "namespace", "nope"]);
    assert!(
        stderr(&denied).contains(
            "cannot create resource \"namespaces\" in API group \"\" at the cluster scope"
        ),
        "{}",
        stderr(&denied)
    );

    // rudder fails at once on a 403, naming the object and carrying the server's message.
    sandbox.request("DELETE", "/sandbox/requests", &[], b"");
    let install = sandbox
        .rudder()
        .args([
            "install",
            "demo",
            CHART,
            "--kube-context",
            "rudder-sandbox-read-only",
        ])
        .output()
        .expect("run rudder");
    assert_eq!(install.status.code(), Some(1));
    let err = stderr(&install);
    assert!(
        err.contains(
            "forbidden: User \"rudder-sandbox-viewer\" cannot create resource \"secrets\""
        ),
        "{err}"
    );
    let log = sandbox.request("GET", "/sandbox/requests", &[], b"").json();
    let forbidden: Vec<&Value> = log["requests"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|r| r["status"] == 403)
        .collect();
    assert_eq!(forbidden.len(), 1, "a 403 is never retried: {log}");
}
