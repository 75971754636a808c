//! Helm 4's Go SDK (through the `helm_python` judge) against `rudder sandbox`: Helm's Secret
//! storage driver writes protobuf bodies and reads typed `SecretList`s.

mod common;

use common::{ok, Sandbox};
use serde_json::Value;

const CHART: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/helm-charts/sandbox-demo"
);

/// Runs `body` (Python) with `cfg` bound to a Helm config for namespace `default`, `chart` to the
/// test chart, and `out(x)` printing JSON; returns what `out` printed.
fn helm(sandbox: &Sandbox, body: &str) -> Value {
    let script = format!(
        "import helm_python, json, os, sys\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace='default')\n\
         chart = {CHART:?}\n\
         def out(x):\n    print(json.dumps(x, default=str))\n\
         {body}\n"
    );
    let output = sandbox.python(&script);
    let text = ok(&output);
    let last = text.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("helm script printed {text:?}: {e}"))
}

#[test]
fn helm_installs_upgrades_rolls_back_and_uninstalls() {
    let sandbox = Sandbox::start();
    let installed = helm(
        &sandbox,
        "r = cfg.install(chart, 'demo', {'message': 'one'})\nout(r['status'])",
    );
    assert_eq!(installed, "deployed");
    let message = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "-o",
        "jsonpath={.data.message}",
    ]));
    assert_eq!(message, "one");

    let upgraded = helm(
        &sandbox,
        "r = cfg.upgrade(chart, 'demo', {'message': 'two', 'replicas': 3})\nout([r['revision'], r['status']])",
    );
    assert_eq!(upgraded, serde_json::json!([2, "deployed"]));
    let replicas = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "demo-web",
        "-o",
        "jsonpath={.spec.replicas} {.metadata.generation}",
    ]));
    assert_eq!(replicas, "3 2", "the upgrade changed the spec once");

    let history = helm(
        &sandbox,
        "cfg.rollback('demo', version=1)\n\
         out([[h['revision'], h['status']] for h in cfg.history('demo')])",
    );
    assert_eq!(
        history,
        serde_json::json!([[1, "superseded"], [2, "superseded"], [3, "deployed"]])
    );
    let message = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "-o",
        "jsonpath={.data.message}",
    ]));
    assert_eq!(message, "one", "rollback restored revision 1's values");

    let listed = helm(
        &sandbox,
        "out([[r['name'], r['revision'], r['status']] for r in cfg.list()])",
    );
    assert_eq!(listed, serde_json::json!([["demo", 3, "deployed"]]));

    let secrets = ok(&sandbox.kubectl(&[
        "get",
        "secrets",
        "-l",
        "owner=helm",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.type} {.metadata.labels.status}{\"\\n\"}{end}",
    ]));
    assert_eq!(
        secrets,
        "sh.helm.release.v1.demo.v1 helm.sh/release.v1 superseded\n\
         sh.helm.release.v1.demo.v2 helm.sh/release.v1 superseded\n\
         sh.helm.release.v1.demo.v3 helm.sh/release.v1 deployed\n"
    );

    let uninstalled = helm(
        &sandbox,
        "cfg.uninstall('demo')\nout(len(cfg.list(all_states=True)))",
    );
    assert_eq!(uninstalled, 0);
    let left = ok(&sandbox.kubectl(&[
        "get",
        "secrets,configmaps,deployments,services",
        "-o",
        "name",
    ]));
    assert!(!left.contains("demo"), "uninstall left {left}");
}

#[test]
fn helm_waits_with_a_streaming_list_watch() {
    let sandbox = Sandbox::start();
    // `watcher` waits through client-go's WatchList: it needs the initial-events-end bookmark.
    let status = helm(
        &sandbox,
        "r = cfg.install(chart, 'waiting', {'web': {'enabled': False}}, wait='watcher', timeout=120)\n\
         out(r['status'])",
    );
    assert_eq!(status, "deployed");
}

#[test]
fn helm_watcher_wait_succeeds_for_a_good_chart_and_fails_for_a_broken_image() {
    let sandbox = Sandbox::start();
    let good = helm(
        &sandbox,
        "r = cfg.install(chart, 'good', {}, wait='watcher', timeout=30)\nout(r['status'])",
    );
    assert_eq!(good, "deployed");
    let ready = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "good-web",
        "-o",
        "jsonpath={.status.readyReplicas}",
    ]));
    assert_eq!(ready, "1", "Helm returned once the rollout was ready");

    let broken = helm(
        &sandbox,
        "try:\n    cfg.install(chart, 'broken', {'image': 'nginx:fail'}, wait='watcher', timeout=30)\n    error = 'installed'\n\
         except helm_python.HelmReleaseError as e:\n    error = str(e)\n\
         out([cfg.history('broken')[-1]['status'], error])",
    );
    let (status, message) = (
        broken[0].as_str().unwrap_or(""),
        broken[1].as_str().unwrap_or(""),
    );
    assert_eq!(status, "failed", "{broken}");
    assert!(
        message.contains("Deployment/default/broken-web not ready"),
        "Helm's own error names the Deployment: {message}"
    );
    assert!(message.contains("Progress deadline exceeded"), "{message}");
}
