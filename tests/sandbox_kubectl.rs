//! kubectl (the real client) against `rudder sandbox`.

mod common;

use common::{ok, stderr, stdout, Sandbox};

#[test]
fn kubectl_sees_version_and_api_resources() {
    let sandbox = Sandbox::start();
    let version = ok(&sandbox.kubectl(&["version"]));
    assert!(version.contains("Server Version: v1.32"), "{version}");
    let resources = ok(&sandbox.kubectl(&["api-resources"]));
    for line in [
        "deployments",
        "customresourcedefinitions",
        "horizontalpodautoscalers",
    ] {
        assert!(resources.contains(line), "missing {line} in\n{resources}");
    }
    let deploy = resources
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments row");
    let cols: Vec<&str> = deploy.split_whitespace().collect();
    assert_eq!(
        cols,
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    let namespaced = ok(&sandbox.kubectl(&["api-resources", "--namespaced=false", "-o", "name"]));
    assert!(
        namespaced.lines().any(|l| l == "namespaces"),
        "{namespaced}"
    );
    assert!(
        !namespaced.lines().any(|l| l == "configmaps"),
        "{namespaced}"
    );
}

#[test]
fn kubectl_creates_gets_and_deletes_namespaces_and_configmaps() {
    let sandbox = Sandbox::start();
    let names = ok(&sandbox.kubectl(&["get", "namespaces", "-o", "name"]));
    for ns in ["default", "kube-system", "kube-public"] {
        assert!(names.contains(&format!("namespace/{ns}")), "{names}");
    }
    ok(&sandbox.kubectl(&["create", "namespace", "team-a"]));
    ok(&sandbox.kubectl(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--from-literal=mode=fast",
    ]));
    let again = sandbox.kubectl(&["create", "namespace", "team-a"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("AlreadyExists"),
        "{}",
        stderr(&again)
    );
    let mode = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.mode}",
    ]));
    assert_eq!(mode, "fast");
    let deleted = ok(&sandbox.kubectl(&["delete", "namespace", "team-a"]));
    assert!(
        deleted.contains("namespace \"team-a\" deleted"),
        "{deleted}"
    );
    let gone = sandbox.kubectl(&["get", "configmap", "settings", "-n", "team-a"]);
    assert!(!gone.status.success());
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));
    let protected = sandbox.kubectl(&["delete", "namespace", "default"]);
    assert!(!protected.status.success());
    assert!(
        stderr(&protected).contains("may not be deleted"),
        "{}",
        stderr(&protected)
    );
    let missing = sandbox.kubectl(&["create", "configmap", "x", "-n", "nowhere"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("namespaces \"nowhere\" not found"),
        "{}",
        stderr(&missing)
    );
    let _ = stdout(&missing);
}
