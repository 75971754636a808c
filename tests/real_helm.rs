//! Helm interoperability with the real `helm` 4.2.3 CLI (built by `scripts/real-cluster.sh
//! build`), both ways, on whichever cluster `RUDDER_TEST_CLUSTER` names: Helm installs and rudder
//! diffs, upgrades, rolls back and uninstalls; rudder installs and Helm lists, gets, upgrades,
//! rolls back and uninstalls.
//!
//! It also pins the server-side-apply co-ownership answer (docs/ci.md): a StatefulSet's
//! `volumeClaimTemplates` is an atomic list that the API server fills with defaults, so of two
//! field managers the one that does not force (Helm) conflicts with the other, even with
//! unchanged values. rudder applies a release Helm made under Helm's manager, so Helm takes it
//! back without flags; on a release rudder installed Helm needs `--force-conflicts`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{ok, stderr, stdout, Sandbox};
use serde_json::Value;

/// The helm binary, or `None` (with the reason printed) when it is not built.
fn helm_bin() -> Option<PathBuf> {
    let cache = std::env::var_os("RUDDER_REAL_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rudder/real-cluster"))
        })?;
    let path = cache.join("v1.37.2/bin/helm");
    if path.exists() {
        return Some(path);
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {}: no helm binary at {} (scripts/real-cluster.sh build makes it; make test runs it first)",
        std::thread::current().name().unwrap_or("a test"),
        path.display()
    );
    None
}

fn helm(sandbox: &Sandbox, bin: &PathBuf, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .env("HOME", &sandbox.dir)
        .env("HELM_CACHE_HOME", sandbox.dir.join(".helm/cache"))
        .env("HELM_CONFIG_HOME", sandbox.dir.join(".helm/config"))
        .env("HELM_DATA_HOME", sandbox.dir.join(".helm/data"))
        .output()
        .expect("run helm")
}

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A Helm chart: a ConfigMap, a Deployment, a NetworkPolicy and a StatefulSet with a volume
/// claim template (atomic lists the API server defaults into). No `--wait` below: with no
/// volume provisioner the StatefulSet's claim stays Pending on a real cluster.
fn chart(sandbox: &Sandbox) -> String {
    sandbox.write_file(
        "coown/Chart.yaml",
        "apiVersion: v2\nname: coown\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    );
    sandbox.write_file("coown/values.yaml", "message: one\nimage: nginx:1.27\n");
    sandbox.write_file(
        "coown/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  message: {{ .Values.message | quote }}\n",
    );
    sandbox.write_file(
        "coown/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n",
    );
    sandbox.write_file(
        "coown/templates/netpol.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  podSelector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              access: \"true\"\n      ports:\n        - port: 80\n",
    );
    sandbox.write_file(
        "coown/templates/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ .Release.Name }}-db\nspec:\n  serviceName: {{ .Release.Name }}-db\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}-db\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}-db\n    spec:\n      containers:\n        - name: db\n          image: postgres:16\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources:\n          requests:\n            storage: 1Gi\n",
    );
    sandbox.dir.join("coown").to_str().unwrap().to_string()
}

fn message(sandbox: &Sandbox) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "-o",
        "jsonpath={.data.message}",
    ]))
}

fn exists(sandbox: &Sandbox, kind: &str, name: &str) -> bool {
    sandbox.kubectl(&["get", kind, name]).status.success()
}

#[test]
fn helm_installs_and_rudder_diffs_upgrades_rolls_back_and_uninstalls() {
    let Some(bin) = helm_bin() else { return };
    let sandbox = Sandbox::start();
    let chart = chart(&sandbox);
    ok(&helm(&sandbox, &bin, &["install", "demo", &chart]));
    assert_eq!(message(&sandbox), "one");

    // Right after Helm's install rudder sees nothing to change: no noise.
    let out = rudder(
        &sandbox,
        &["diff", "upgrade", "demo", &chart, "--detailed-exitcode"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    ok(&rudder(
        &sandbox,
        &["upgrade", "demo", &chart, "--set", "message=two"],
    ));
    assert_eq!(message(&sandbox), "two");
    // Helm reads rudder's revision.
    let history = json_of(&ok(&helm(
        &sandbox,
        &bin,
        &["history", "demo", "-o", "json"],
    )));
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    assert_eq!(history[1]["status"], "deployed");

    ok(&rudder(&sandbox, &["rollback", "demo", "1"]));
    assert_eq!(message(&sandbox), "one");
    let list = json_of(&ok(&helm(&sandbox, &bin, &["list", "-o", "json"])));
    assert_eq!(list[0]["revision"], "3", "{list}");

    // rudder applied Helm's release under Helm's field manager (`helm`), so Helm takes it back
    // without --force-conflicts, though `.spec.volumeClaimTemplates` (defaulted by the server,
    // never equal to what the chart says) counts as changed on every apply.
    let managers = ok(&sandbox.kubectl(&[
        "get",
        "statefulset",
        "demo-db",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]));
    assert!(!managers.contains("rudder"), "{managers}");
    ok(&helm(&sandbox, &bin, &["rollback", "demo", "2"]));
    assert_eq!(message(&sandbox), "two");

    let out = ok(&rudder(&sandbox, &["uninstall", "demo", "--wait"]));
    assert!(out.contains("release \"demo\" uninstalled"), "{out}");
    for (kind, name) in [
        ("configmap", "demo-config"),
        ("deployment", "demo"),
        ("networkpolicy", "demo"),
        ("statefulset", "demo-db"),
    ] {
        assert!(
            !exists(&sandbox, kind, name),
            "{kind}/{name} is still there"
        );
    }
    let list = json_of(&ok(&helm(&sandbox, &bin, &["list", "-o", "json"])));
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn rudder_installs_and_helm_lists_gets_upgrades_rolls_back_and_uninstalls() {
    let Some(bin) = helm_bin() else { return };
    let sandbox = Sandbox::start();
    let chart = chart(&sandbox);
    ok(&rudder(
        &sandbox,
        &["install", "demo", &chart, "--set", "message=hello"],
    ));

    let list = json_of(&ok(&helm(&sandbox, &bin, &["list", "-o", "json"])));
    assert_eq!(list[0]["name"], "demo", "{list}");
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["chart"], "coown-0.1.0");
    let values = json_of(&ok(&helm(
        &sandbox,
        &bin,
        &["get", "values", "demo", "-o", "json"],
    )));
    assert_eq!(values["message"], "hello");
    let manifest = ok(&helm(&sandbox, &bin, &["get", "manifest", "demo"]));
    assert!(
        manifest.contains("# Source: coown/templates/sts.yaml"),
        "{manifest}"
    );

    // Unchanged values, and still Helm's apply conflicts with rudder's manager on the atomic,
    // server-defaulted list; --force-conflicts is what Helm needs.
    let refused = helm(
        &sandbox,
        &bin,
        &["upgrade", "demo", &chart, "--reuse-values"],
    );
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("conflict with \"rudder\": .spec.volumeClaimTemplates"),
        "{}",
        stderr(&refused)
    );
    ok(&helm(
        &sandbox,
        &bin,
        &[
            "upgrade",
            "demo",
            &chart,
            "--set",
            "message=two",
            "--force-conflicts",
        ],
    ));
    assert_eq!(message(&sandbox), "two");
    // rudder reads Helm's revisions: the refused upgrade (failed), then Helm's.
    let history: Value = json_of(&ok(&rudder(&sandbox, &["history", "demo", "-o", "json"])));
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"], "{history}");

    ok(&helm(&sandbox, &bin, &["rollback", "demo", "1"]));
    assert_eq!(message(&sandbox), "hello");
    let out = rudder(
        &sandbox,
        &[
            "diff",
            "upgrade",
            "demo",
            &chart,
            "--set",
            "message=hello",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    ok(&helm(&sandbox, &bin, &["uninstall", "demo", "--wait"]));
    assert!(!exists(&sandbox, "configmap", "demo-config"));
    assert!(!exists(&sandbox, "statefulset", "demo-db"));
    let list = json_of(&ok(&rudder(&sandbox, &["list", "-o", "json"])));
    assert_eq!(list, serde_json::json!([]));
}
