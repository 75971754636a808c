//! Helm interoperability, judged by Helm 4's Go SDK (`helm_python`) against `rudder sandbox`:
//! rudder reads, rolls back, upgrades and uninstalls releases Helm made; Helm reads what rudder
//! wrote, and upgrades it with force-conflicts.

mod common;

use common::{ok, stderr, stdout, Sandbox};
use serde_json::{json, Value};

const CHART: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/helm-charts/sandbox-demo"
);

/// Runs `body` (Python) with `cfg` bound to a Helm config for namespace `default` and `chart` to
/// the test chart; returns what the last `out(x)` printed.
fn helm(sandbox: &Sandbox, body: &str) -> Value {
    let script = format!(
        "import helm_python, json, os, sys\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace={ns:?})\n\
         chart = {CHART:?}\n\
         def out(x):\n    print(json.dumps(x, default=str))\n\
         {body}\n",
        ns = sandbox.namespace
    );
    let output = sandbox.python(&script);
    let text = ok(&output);
    let last = text.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("helm script printed {text:?}: {e}"))
}

fn rudder(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

fn configmap_message(sandbox: &Sandbox) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "-o",
        "jsonpath={.data.message}",
    ]))
}

/// Creates revision `to` of release `demo` as a copy of revision `from`, left `pending-upgrade`
/// by "rudder pid 4242 on host ci-7" with the given heartbeat, as a killed rudder leaves it.
fn leave_pending(sandbox: &Sandbox, from: u64, to: u64, heartbeat: &str, timeout: u64) {
    use base64::Engine as _;
    use rudder::release::storage;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut secret: Value = serde_json::from_str(&ok(&sandbox.kubectl(&[
        "get",
        "secret",
        &format!("sh.helm.release.v1.demo.v{from}"),
        "-o",
        "json",
    ])))
    .unwrap();
    let payload = b64
        .decode(secret["data"]["release"].as_str().unwrap())
        .unwrap();
    let mut release = storage::decode(&payload, "fixture").unwrap();
    release.version = to;
    release.set_status(storage::Status::PendingUpgrade, "Preparing upgrade");
    secret["data"]["release"] = json!(b64.encode(storage::encode(&release)));
    let meta = secret["metadata"].as_object_mut().unwrap();
    meta.retain(|k, _| k == "labels" || k == "namespace");
    meta.insert(
        "name".into(),
        json!(format!("sh.helm.release.v1.demo.v{to}")),
    );
    meta.insert(
        "annotations".into(),
        json!({
            "rudder.dev/lock-holder": "rudder pid 4242 on host ci-7",
            "rudder.dev/lock-since": heartbeat,
            "rudder.dev/lock-heartbeat": heartbeat,
            "rudder.dev/lock-timeout-seconds": timeout.to_string()
        }),
    );
    secret["metadata"]["labels"]["version"] = json!(to.to_string());
    secret["metadata"]["labels"]["status"] = json!("pending-upgrade");
    ok(&sandbox.kubectl_stdin(&["create", "-f", "-"], &secret.to_string()));
}

#[test]
fn rudder_lists_rolls_back_upgrades_and_uninstalls_a_release_helm_made_and_helm_upgrades_it_back() {
    let sandbox = Sandbox::start();
    helm(
        &sandbox,
        "cfg.install(chart, 'demo', {'message': 'one'})\n\
         cfg.upgrade(chart, 'demo', {'message': 'two'})\nout(1)",
    );

    let list = ok(&rudder(&sandbox, &["list", "-o", "json"]));
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["name"], "demo");
    assert_eq!(list[0]["revision"], "2");
    assert_eq!(list[0]["status"], "deployed");
    assert_eq!(list[0]["chart"], "sandbox-demo-0.1.0");

    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "demo", "-o", "json"]))).unwrap();
    let rows: Vec<Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| json!([h["revision"], h["status"], h["description"]]))
        .collect();
    assert_eq!(
        rows,
        vec![
            json!([1, "superseded", "Install complete"]),
            json!([2, "deployed", "Upgrade complete"])
        ]
    );

    let values = ok(&rudder(&sandbox, &["get", "values", "demo", "-o", "json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&values).unwrap(),
        json!({"message": "two"})
    );
    let status = ok(&rudder(&sandbox, &["status", "demo"]));
    assert!(status.contains("STATUS: deployed"), "{status}");
    assert!(status.contains("REVISION: 2"), "{status}");

    // Rolling back needs no rendering: the stored manifest is applied.
    let rolled = rudder(&sandbox, &["rollback", "demo", "1"]);
    ok(&rolled);
    assert_eq!(configmap_message(&sandbox), "one");

    // Helm sees rudder's revision, with the values of revision 1.
    let seen = helm(
        &sandbox,
        "out([[h['revision'], h['status']] for h in cfg.history('demo')] + [cfg.get_values('demo')])",
    );
    assert_eq!(
        seen,
        json!([[1, "superseded"], [2, "superseded"], [3, "deployed"], {"message": "one"}])
    );

    // rudder upgrades Helm's release under Helm's own field manager (here the SDK program's):
    // one applier, so Helm upgrades it again without force-conflicts. (A release rudder
    // installed is rudder's: Helm needs force-conflicts there, tests/real_helm.rs.)
    ok(&rudder(
        &sandbox,
        &["upgrade", "demo", CHART, "--set", "message=three"],
    ));
    assert_eq!(configmap_message(&sandbox), "three");
    let managers = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "demo-config",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]));
    // One manager, the SDK program's name (`python` or `python3`, whichever ran it).
    assert!(
        managers.starts_with("python") && !managers.contains(' '),
        "{managers}"
    );
    let upgraded = helm(
        &sandbox,
        "cfg.upgrade(chart, 'demo', {'message': 'four'})\n\
         out([[h['revision'], h['status']] for h in cfg.history('demo')][-1])",
    );
    assert_eq!(upgraded, json!([5, "deployed"]));
    assert_eq!(configmap_message(&sandbox), "four");
    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "demo", "-o", "json"]))).unwrap();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "superseded",
            "superseded",
            "superseded",
            "superseded",
            "deployed"
        ]
    );

    let gone = rudder(&sandbox, &["uninstall", "demo"]);
    assert!(
        stdout(&gone).contains("release \"demo\" uninstalled"),
        "{}",
        stderr(&gone)
    );
    let left = ok(&sandbox.kubectl(&[
        "get",
        "secrets,configmaps,deployments,services",
        "-o",
        "name",
    ]));
    assert!(!left.contains("demo"), "uninstall left {left}");
    let listed = helm(&sandbox, "out(len(cfg.list(all_states=True)))");
    assert_eq!(listed, 0);
}

#[test]
fn concurrent_rollbacks_let_exactly_one_win_and_name_the_holder() {
    let sandbox = Sandbox::start();
    helm(
        &sandbox,
        "cfg.install(chart, 'demo', {'message': 'one'})\n\
         cfg.upgrade(chart, 'demo', {'message': 'two'})\nout(1)",
    );
    let spawn = || {
        sandbox
            .rudder()
            .args(["rollback", "demo", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn rudder")
    };
    let (a, b) = (spawn(), spawn());
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let winners = outputs.iter().filter(|o| o.status.success()).count();
    // Both may succeed one after the other when the first finished before the second read the
    // history; then the second is simply revision 4. Never may both write revision 3.
    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "demo", "-o", "json"]))).unwrap();
    let revisions = history.as_array().unwrap().len();
    assert_eq!(revisions, 1 + winners + 1, "{history}");
    for o in outputs.iter().filter(|o| !o.status.success()) {
        let err = stderr(o);
        assert!(
            (err.contains("is being rolled back by rudder pid") && err.contains("since")
                || err.contains("was changed by rudder pid"))
                && err.contains("on host"),
            "the loser must name the holder: {err}"
        );
    }
}

#[test]
fn a_pending_revision_whose_holder_died_is_taken_over() {
    let sandbox = Sandbox::start();
    helm(
        &sandbox,
        "cfg.install(chart, 'demo', {'message': 'one'})\n\
         cfg.upgrade(chart, 'demo', {'message': 'two'})\nout(1)",
    );
    // Leave revision 3 pending as a killed rudder would, with an old heartbeat.
    leave_pending(&sandbox, 2, 3, "2020-01-01T00:00:00Z", 60);

    let rolled = rudder(&sandbox, &["rollback", "demo", "1"]);
    ok(&rolled);
    let err = stderr(&rolled);
    assert!(
        err.contains("left")
            && err.contains("rudder pid 4242 on host ci-7")
            && err.contains("took over"),
        "{err}"
    );
    let history: Value =
        serde_json::from_str(&ok(&rudder(&sandbox, &["history", "demo", "-o", "json"]))).unwrap();
    assert_eq!(history[2]["status"], "failed", "{history}");
    assert_eq!(history[3]["status"], "deployed", "{history}");
}

#[test]
fn a_live_pending_revision_blocks_with_the_holder_named_and_unlock_releases_it() {
    let sandbox = Sandbox::start();
    helm(
        &sandbox,
        "cfg.install(chart, 'demo', {'message': 'one'})\nout(1)",
    );
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    leave_pending(&sandbox, 1, 2, &now, 3600);

    let blocked = rudder(&sandbox, &["rollback", "demo", "1"]);
    assert!(!blocked.status.success());
    let err = stderr(&blocked);
    assert!(
        err.contains("by rudder pid 4242 on host ci-7 since"),
        "{err}"
    );

    let unlocked = ok(&rudder(&sandbox, &["unlock", "demo"]));
    assert!(
        unlocked.contains("rudder pid 4242 on host ci-7"),
        "{unlocked}"
    );
    ok(&rudder(&sandbox, &["rollback", "demo", "1"]));
}
