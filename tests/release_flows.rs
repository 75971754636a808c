//! Release verbs end to end: the real `rudder` binary against `rudder sandbox`, judged by kubectl
//! and by Helm 4's SDK (`helm_python`).

mod common;

use std::path::PathBuf;
use std::process::{Output, Stdio};

use common::{ok, stderr, stdout, Sandbox};
use serde_json::{json, Value};

const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/web");

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

fn json_of(out: &Output) -> Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Helm's SDK against the sandbox; returns what the last `out(x)` printed.
fn helm(sandbox: &Sandbox, body: &str) -> Value {
    let script = format!(
        "import helm_python, json, os\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace={ns:?})\n\
         def out(x):\n    print(json.dumps(x, default=str))\n\
         {body}\n",
        ns = sandbox.namespace
    );
    let text = ok(&sandbox.python(&script));
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap()
}

/// Writes a rudder-native (Tera) chart with the given templates; returns its directory.
fn chart(sandbox: &Sandbox, name: &str, values: &str, templates: &[(&str, &str)]) -> PathBuf {
    sandbox.write_file(
        &format!("{name}/Chart.yaml"),
        &format!(
            "apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\nengine: tera\n"
        ),
    );
    sandbox.write_file(&format!("{name}/values.yaml"), values);
    for (file, text) in templates {
        sandbox.write_file(&format!("{name}/templates/{file}"), text);
    }
    sandbox.dir.join(name)
}

fn image_of_web(sandbox: &Sandbox) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]))
}

fn statuses(history: &Value) -> Vec<(u64, String)> {
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["revision"].as_u64().unwrap(),
                h["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn web_installs_upgrades_rolls_back_and_helm_reads_and_uninstalls_it() {
    let sandbox = Sandbox::start();
    let installed = rudder(&sandbox, &["install", "web", WEB, "--env", "dev"]);
    let text = ok(&installed);
    assert!(text.contains("STATUS: deployed"), "{text}");
    assert!(text.contains("NOTES:"), "{text}");
    assert_eq!(image_of_web(&sandbox), "nginxinc/nginx-unprivileged:1.27.0");

    // Ownership is recorded as Helm records it.
    let meta = json_of(&sandbox.kubectl(&["get", "deployment", "web", "-o", "json"]));
    assert_eq!(
        meta["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    assert_eq!(
        meta["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "web"
    );
    assert_eq!(
        meta["metadata"]["annotations"]["meta.helm.sh/release-namespace"],
        sandbox.namespace.as_str()
    );

    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "web",
            WEB,
            "--env",
            "dev",
            "--set-string",
            "image.tag=1.27.1",
        ],
    ));
    assert_eq!(image_of_web(&sandbox), "nginxinc/nginx-unprivileged:1.27.1");
    let history = json_of(&rudder(&sandbox, &["history", "web", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(1, "superseded".into()), (2, "deployed".into())]
    );
    assert_eq!(history[1]["description"], "Upgrade complete");
    assert_eq!(history[1]["chart"], "web-0.1.0");

    let values = json_of(&rudder(&sandbox, &["get", "values", "web", "-o", "json"]));
    assert_eq!(values["image"]["tag"], "1.27.1");
    let manifest = ok(&rudder(&sandbox, &["get", "manifest", "web"]));
    assert!(
        manifest.contains("# Source: web/templates/deployment.yaml"),
        "{manifest}"
    );

    ok(&rudder(&sandbox, &["rollback", "web", "1"]));
    assert_eq!(image_of_web(&sandbox), "nginxinc/nginx-unprivileged:1.27.0");

    let list = json_of(&rudder(&sandbox, &["list", "-o", "json"]));
    assert_eq!(list[0]["name"], "web");
    assert_eq!(list[0]["revision"], "3");
    assert_eq!(list[0]["status"], "deployed");

    // Helm's SDK reads rudder's records: list, history, values, and uninstalls the release.
    let seen = helm(
        &sandbox,
        "out([[[r['name'], r['revision'], r['status']] for r in cfg.list()],\n\
              [[h['revision'], h['status']] for h in cfg.history('web')],\n\
              cfg.get_values('web')])",
    );
    let ours = json_of(&rudder(&sandbox, &["get", "values", "web", "-o", "json"]));
    assert_eq!(
        seen,
        json!([
            [["web", 3, "deployed"]],
            [[1, "superseded"], [2, "superseded"], [3, "deployed"]],
            ours
        ])
    );
    assert!(
        ours.get("image").is_none(),
        "revision 1 had no --set: {ours}"
    );
    let remaining = helm(
        &sandbox,
        "cfg.uninstall('web')\nout(len(cfg.list(all_states=True)))",
    );
    assert_eq!(remaining, 0);
    let left = ok(&sandbox.kubectl(&["get", "deployments,services,configmaps", "-o", "name"]));
    assert!(!left.contains("web"), "Helm's uninstall left {left}");
}

#[test]
fn upgrade_deletes_objects_gone_from_the_chart_except_keep_and_uninstall_purges() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "kept",
        "extra: true\n",
        &[
            (
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
            ),
            (
                "b.yaml",
                "{% if Values.extra %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: v\n{% endif %}",
            ),
            (
                "c.yaml",
                "{% if Values.extra %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    helm.sh/resource-policy: keep\ndata:\n  k: v\n{% endif %}",
            ),
        ],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(
        &sandbox,
        &["install", "kept", dir, "-l", "team=blue"],
    ));
    let labels = ok(&sandbox.kubectl(&[
        "get",
        "secret",
        "sh.helm.release.v1.kept.v1",
        "-o",
        "jsonpath={.metadata.labels.team} {.metadata.labels.owner} {.metadata.labels.status}",
    ]));
    assert_eq!(labels, "blue helm deployed");

    ok(&rudder(
        &sandbox,
        &["upgrade", "kept", dir, "--set", "extra=false"],
    ));
    let names = ok(&sandbox.kubectl(&["get", "configmaps", "-o", "name"]));
    assert!(names.contains("configmap/a"), "{names}");
    assert!(
        !names.contains("configmap/b"),
        "b is gone from the chart: {names}"
    );
    assert!(names.contains("configmap/c"), "c is kept: {names}");

    let gone = rudder(&sandbox, &["uninstall", "kept"]);
    assert!(stdout(&gone).contains("release \"kept\" uninstalled"));
    let secrets = ok(&sandbox.kubectl(&["get", "secrets", "-l", "owner=helm", "-o", "name"]));
    assert_eq!(secrets.trim(), "", "history is purged by default");
    let names = ok(&sandbox.kubectl(&["get", "configmaps", "-o", "name"]));
    assert!(!names.contains("configmap/a"), "{names}");
}

#[test]
fn keep_history_marks_the_release_uninstalled() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "kh",
        "{}\n",
        &[(
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kh\n",
        )],
    );
    ok(&rudder(&sandbox, &["install", "kh", dir.to_str().unwrap()]));
    ok(&rudder(&sandbox, &["uninstall", "kh", "--keep-history"]));
    let history = json_of(&rudder(&sandbox, &["history", "kh", "-o", "json"]));
    assert_eq!(statuses(&history), vec![(1, "uninstalled".into())]);
    assert_eq!(history[0]["description"], "Uninstallation complete");
    // A kept, uninstalled name may be installed again.
    ok(&rudder(&sandbox, &["install", "kh", dir.to_str().unwrap()]));
    let history = json_of(&rudder(&sandbox, &["history", "kh", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(1, "uninstalled".into()), (2, "deployed".into())]
    );
}

#[test]
fn existing_objects_of_no_release_are_refused_unless_taken_over() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl(&["create", "configmap", "owned", "--from-literal=k=old"]));
    let dir = chart(
        &sandbox,
        "own",
        "{}\n",
        &[(
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\ndata:\n  k: new\n",
        )],
    );
    let dir = dir.to_str().unwrap();
    let refused = rudder(&sandbox, &["install", "own", dir]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "ConfigMap {}/owned: belongs to no release",
            sandbox.namespace
        )) && err.contains("--take-ownership"),
        "{err}"
    );
    // Nothing was changed, and no release was recorded.
    assert_eq!(
        ok(&sandbox.kubectl(&["get", "configmap", "owned", "-o", "jsonpath={.data.k}"])),
        "old"
    );
    let secrets = ok(&sandbox.kubectl(&["get", "secrets", "-l", "owner=helm", "-o", "name"]));
    assert_eq!(secrets.trim(), "");

    // kubectl create made `kubectl-create` an Update manager of .data.k: taking the object over
    // still needs --force-conflicts.
    let conflict = rudder(&sandbox, &["install", "own", dir, "--take-ownership"]);
    assert!(!conflict.status.success());
    let err = stderr(&conflict);
    assert!(
        err.contains("kubectl-create") && err.contains("--force-conflicts"),
        "{err}"
    );

    ok(&rudder(
        &sandbox,
        &[
            "install",
            "own",
            dir,
            "--take-ownership",
            "--force-conflicts",
        ],
    ));
    assert_eq!(
        ok(&sandbox.kubectl(&["get", "configmap", "owned", "-o", "jsonpath={.data.k}"])),
        "new"
    );
}

#[test]
fn dry_runs_write_nothing() {
    let sandbox = Sandbox::start();
    for mode in ["--dry-run", "--dry-run=server"] {
        let out = rudder(&sandbox, &["install", "web", WEB, "--env", "dev", mode]);
        let text = ok(&out);
        assert!(
            text.contains("DESCRIPTION: Dry run complete"),
            "{mode}: {text}"
        );
        assert!(text.contains("MANIFEST:"), "{mode}: {text}");
        assert!(
            text.contains("# Source: web/templates/deployment.yaml"),
            "{mode}"
        );
    }
    let left = ok(&sandbox.kubectl(&["get", "deployments,secrets", "-o", "name"]));
    assert_eq!(left.trim(), "", "a dry run created {left}");
}

#[test]
fn history_max_prunes_the_oldest_revisions() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "hm",
        "n: 0\n",
        &[(
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hm\ndata:\n  n: \"{{ Values.n }}\"\n",
        )],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "hm", dir]));
    for n in 1..=3 {
        let set = format!("n={n}");
        ok(&rudder(
            &sandbox,
            &["upgrade", "hm", dir, "--set", &set, "--history-max", "2"],
        ));
    }
    let history = json_of(&rudder(&sandbox, &["history", "hm", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(3, "superseded".into()), (4, "deployed".into())]
    );
}

#[test]
fn hooks_run_outside_the_manifest_in_weight_order() {
    let sandbox = Sandbox::start();
    let hook = |name: &str, weight: i32| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"{weight}\"\ndata:\n  rev: \"{{{{ Release.Revision }}}}\"\n"
        )
    };
    let dir = chart(
        &sandbox,
        "hooked",
        "{}\n",
        &[
            (
                "app.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
            ),
            ("late.yaml", &hook("late-hook", 5)),
            ("early.yaml", &hook("early-hook", -5)),
        ],
    );
    let dir = dir.to_str().unwrap();
    let out = rudder(&sandbox, &["install", "hooked", dir]);
    ok(&out);
    let err = stderr(&out);
    let ns = &sandbox.namespace;
    let early = err.find(&format!("pre-install hook ConfigMap {ns}/early-hook"));
    let late = err.find(&format!("pre-install hook ConfigMap {ns}/late-hook"));
    assert!(early.is_some() && late.is_some() && early < late, "{err}");
    let manifest = ok(&rudder(&sandbox, &["get", "manifest", "hooked"]));
    assert!(
        !manifest.contains("early-hook"),
        "hooks are not in the manifest"
    );
    let hooks = ok(&rudder(&sandbox, &["get", "hooks", "hooked"]));
    assert!(hooks.contains("name: early-hook") && hooks.contains("name: late-hook"));

    // before-hook-creation (the default) recreates the hook on upgrade.
    ok(&rudder(&sandbox, &["upgrade", "hooked", dir]));
    assert_eq!(
        ok(&sandbox.kubectl(&[
            "get",
            "configmap",
            "late-hook",
            "-o",
            "jsonpath={.data.rev}"
        ])),
        "2"
    );
    // Hooks are not part of the release: uninstall leaves them.
    ok(&rudder(&sandbox, &["uninstall", "hooked"]));
    let names = ok(&sandbox.kubectl(&["get", "configmaps", "-o", "name"]));
    assert!(
        !names.contains("configmap/app") && names.contains("configmap/late-hook"),
        "{names}"
    );
}

/// A chart whose Deployment never becomes ready without controllers, and cannot with them
/// (its image tag is `fail`).
fn failing_chart(sandbox: &Sandbox) -> PathBuf {
    chart(
        sandbox,
        "app",
        "tag: ok\n",
        &[(
            "deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n      - name: app\n        image: \"example.com/app:{{ Values.tag }}\"\n",
        )],
    )
}

#[test]
fn a_failed_wait_marks_the_revision_failed_and_names_the_object() {
    let sandbox = Sandbox::start();
    let dir = failing_chart(&sandbox);
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "app", dir]));
    let out = rudder(
        &sandbox,
        &[
            "upgrade",
            "app",
            dir,
            "--set",
            "tag=fail",
            "--wait",
            "--timeout",
            "2s",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Deployment {}/app", sandbox.namespace)),
        "{err}"
    );
    // The cluster's reason: the pod's waiting reason.
    assert!(err.contains("ImagePullBackOff"), "{err}");
    let history = json_of(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(1, "deployed".into()), (2, "failed".into())]
    );
    assert!(
        history[1]["description"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade \"app\" failed:"),
        "{history}"
    );
}

#[test]
fn rollback_on_failure_restores_the_last_deployed_revision() {
    let sandbox = Sandbox::start();
    // The upgrade fails in its post-upgrade hook: the server refuses the hook's name.
    let dir = chart(
        &sandbox,
        "rof",
        "message: one\nhook: fine\n",
        &[
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rof\ndata:\n  message: \"{{ Values.message }}\"\n",
            ),
            (
                "hook.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{{ Values.hook }}\"\n  annotations:\n    helm.sh/hook: post-upgrade\n",
            ),
        ],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "rof", dir]));
    let out = rudder(
        &sandbox,
        &[
            "upgrade",
            "rof",
            dir,
            "--set",
            "message=two",
            "--set",
            "hook=Not_A_Name",
            "--rollback-on-failure",
            "--timeout",
            "20s",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("post-upgrade hook ConfigMap Not_A_Name failed"),
        "{err}"
    );
    assert!(err.contains("rolled back to revision 1"), "{err}");
    let history = json_of(&rudder(&sandbox, &["history", "rof", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![
            (1, "superseded".into()),
            (2, "failed".into()),
            (3, "deployed".into())
        ]
    );
    assert_eq!(history[2]["description"], "Rollback to 1");
    let message =
        ok(&sandbox.kubectl(&["get", "configmap", "rof", "-o", "jsonpath={.data.message}"]));
    assert_eq!(message, "one");
}

#[test]
fn concurrent_upgrades_let_one_hold_the_lock_and_the_other_name_it() {
    let sandbox = Sandbox::start();
    let dir = failing_chart(&sandbox);
    let dir = dir.to_str().unwrap().to_string();
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    // Each upgrade holds the release while it waits: tag `fail` never gets ready, so the
    // winner still holds it when the loser looks, whichever of them starts first.
    let spawn = |note: &str| {
        let set = format!("tag=fail,note={note}");
        sandbox
            .rudder()
            .args([
                "upgrade",
                "app",
                &dir,
                "--set",
                &set,
                "--wait",
                "--timeout",
                "4s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rudder")
    };
    let (a, b) = (spawn("a"), spawn("b"));
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let locked: Vec<String> = outputs
        .iter()
        .map(stderr)
        .filter(|e| e.contains("is being upgraded by rudder pid"))
        .collect();
    assert_eq!(locked.len(), 1, "exactly one must be refused: {outputs:?}");
    assert!(
        locked[0].contains("on host") && locked[0].contains("since"),
        "{}",
        locked[0]
    );
    let history = json_of(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
}

#[test]
fn of_two_concurrent_upgrades_one_succeeds_and_the_other_names_the_holder() {
    if common::sandbox_only(
        "needs the sandbox's slow rollouts (--rollout-delay 3s) to hold the lock",
    ) {
        return;
    }
    // Rollouts take 3s, so the first upgrade holds the release while it waits.
    let sandbox = Sandbox::start_with(&["--rollout-delay", "3s"]);
    let dir = failing_chart(&sandbox);
    let dir = dir.to_str().unwrap().to_string();
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let mut first = sandbox
        .rudder()
        .args(["upgrade", "app", &dir, "--set", "tag=v2", "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rudder");
    let stderr_pipe = first.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr_pipe));
    for line in lines.by_ref() {
        if line.unwrap_or_default().contains("waiting for") {
            break;
        }
    }
    let second = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v3"]);
    assert_eq!(second.status.code(), Some(1));
    let err = stderr(&second);
    let pid = first.id();
    assert!(
        err.contains(&format!(
            "release app is being upgraded by rudder pid {pid} on host"
        )) && err.contains(" since "),
        "{err}"
    );
    let drained: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(first.wait().unwrap().success(), "{drained:?}");
    let history = json_of(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(1, "superseded".into()), (2, "deployed".into())]
    );
    assert_eq!(
        ok(&sandbox.kubectl(&[
            "get",
            "deployment",
            "app",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])),
        "example.com/app:v2"
    );
}

#[test]
fn a_killed_upgrade_is_recovered_by_the_next_one() {
    let sandbox = Sandbox::start();
    let dir = failing_chart(&sandbox);
    let dir = dir.to_str().unwrap().to_string();
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    // This upgrade holds the release while it waits for a Deployment that never gets ready.
    let mut victim = sandbox
        .rudder()
        .args([
            "upgrade",
            "app",
            &dir,
            "--set",
            "tag=v2",
            "--wait",
            "--timeout",
            "2s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rudder");
    // Kill it (SIGKILL: no cleanup) once its revision is pending.
    let stderr_pipe = victim.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr_pipe));
    for line in lines.by_ref() {
        if line.unwrap_or_default().contains("waiting for") {
            break;
        }
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    let history = json_of(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    assert_eq!(statuses(&history)[1], (2, "pending-upgrade".into()));

    // While its heartbeat is fresh the release stays locked; after its 2s timeout it is stale.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let next = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v3"]);
    ok(&next);
    let err = stderr(&next);
    assert!(
        err.contains("revision 2 of release app was left pending-upgrade by rudder pid")
            && err.contains("marked it failed and took over"),
        "{err}"
    );
    let history = json_of(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![
            (1, "superseded".into()),
            (2, "failed".into()),
            (3, "deployed".into())
        ]
    );
}

#[test]
fn upgrade_install_installs_then_upgrades_and_test_runs_test_hooks() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "ui",
        "n: 1\n",
        &[
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ui\ndata:\n  n: \"{{ Values.n }}\"\n",
            ),
            (
                "test.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ui-test\n  annotations:\n    helm.sh/hook: test\n",
            ),
        ],
    );
    let dir = dir.to_str().unwrap();
    let missing = rudder(&sandbox, &["upgrade", "ui", dir]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );

    // Like Helm, `--install` of a missing release reports an install, then later runs upgrade.
    let installed = ok(&rudder(&sandbox, &["upgrade", "--install", "ui", dir]));
    assert!(
        !installed.contains("has been upgraded") && installed.contains("REVISION: 1"),
        "{installed}"
    );
    let upgraded = ok(&rudder(
        &sandbox,
        &["upgrade", "--install", "ui", dir, "--set", "n=2"],
    ));
    assert!(
        upgraded.contains("has been upgraded") && upgraded.contains("REVISION: 2"),
        "{upgraded}"
    );
    let history = json_of(&rudder(&sandbox, &["history", "ui", "-o", "json"]));
    assert_eq!(
        statuses(&history),
        vec![(1, "superseded".into()), (2, "deployed".into())]
    );
    // Without new values an upgrade keeps the previous ones (Helm's rule).
    ok(&rudder(&sandbox, &["upgrade", "ui", dir]));
    assert_eq!(
        ok(&sandbox.kubectl(&["get", "configmap", "ui", "-o", "jsonpath={.data.n}"])),
        "2"
    );
    ok(&rudder(&sandbox, &["upgrade", "ui", dir, "--reset-values"]));
    assert_eq!(
        ok(&sandbox.kubectl(&["get", "configmap", "ui", "-o", "jsonpath={.data.n}"])),
        "1"
    );

    let tested = ok(&rudder(&sandbox, &["test", "ui"]));
    assert!(tested.contains("TEST SUITE:     ui-test"), "{tested}");
    assert!(tested.contains("Phase:          Succeeded"), "{tested}");
    let status = ok(&rudder(&sandbox, &["status", "ui"]));
    assert!(
        status.contains("Phase:          Succeeded"),
        "the run is recorded: {status}"
    );
}

#[test]
fn invalid_release_names_are_refused() {
    let sandbox = Sandbox::start();
    let out = rudder(&sandbox, &["install", "Bad_Name", WEB]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("invalid release name \"Bad_Name\""),
        "{}",
        stderr(&out)
    );
    let long = "a".repeat(54);
    let out = rudder(&sandbox, &["install", &long, WEB]);
    assert!(
        stderr(&out).contains("longer than 53 characters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn immutable_changes_fail_up_front_unless_force_replace() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "imm",
        "app: one\n",
        &[(
            "deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: imm\nspec:\n  selector:\n    matchLabels:\n      app: \"{{ Values.app }}\"\n  template:\n    metadata:\n      labels:\n        app: \"{{ Values.app }}\"\n    spec:\n      containers:\n      - name: c\n        image: example.com/c:1\n",
        )],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "imm", dir]));
    let refused = rudder(&sandbox, &["upgrade", "imm", dir, "--set", "app=two"]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "Deployment {}/imm: field spec.selector is immutable",
            sandbox.namespace
        )) && err.contains("--force-replace"),
        "{err}"
    );
    let history = json_of(&rudder(&sandbox, &["history", "imm", "-o", "json"]));
    assert_eq!(
        history.as_array().unwrap().len(),
        1,
        "nothing was recorded: {history}"
    );

    ok(&rudder(
        &sandbox,
        &["upgrade", "imm", dir, "--set", "app=two", "--force-replace"],
    ));
    let selector = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "imm",
        "-o",
        "jsonpath={.spec.selector.matchLabels.app}",
    ]));
    assert_eq!(selector, "two");
}

#[test]
fn fields_edited_with_kubectl_block_an_upgrade_unless_force_conflicts() {
    let sandbox = Sandbox::start();
    let dir = chart(
        &sandbox,
        "fc",
        "replicas: 1\nmessage: one\n",
        &[
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fc\ndata:\n  message: \"{{ Values.message }}\"\n",
            ),
            (
                "deploy.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fc\nspec:\n  replicas: {{ Values.replicas }}\n  selector:\n    matchLabels:\n      app: fc\n  template:\n    metadata:\n      labels:\n        app: fc\n    spec:\n      containers:\n      - name: c\n        image: example.com/c:1\n",
            ),
        ],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "fc", dir]));
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "fc",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":5}}"#,
    ]));
    let refused = rudder(
        &sandbox,
        &["upgrade", "fc", dir, "--set", "replicas=2,message=two"],
    );
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "Deployment {}/fc: .spec.replicas is owned by \"kubectl-patch\"",
            sandbox.namespace
        )) && err.contains("--force-conflicts"),
        "{err}"
    );
    // Refused before anything changed: the ConfigMap (applied before Deployments) is untouched.
    let message =
        ok(&sandbox.kubectl(&["get", "configmap", "fc", "-o", "jsonpath={.data.message}"]));
    assert_eq!(message, "one");

    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "fc",
            dir,
            "--set",
            "replicas=2,message=two",
            "--force-conflicts",
        ],
    ));
    let replicas =
        ok(&sandbox.kubectl(&["get", "deployment", "fc", "-o", "jsonpath={.spec.replicas}"]));
    assert_eq!(replicas, "2");
}

/// A chart or values error during install reads once, not again as its own `caused by:`.
#[test]
fn install_errors_read_once() {
    let sandbox = Sandbox::start();
    let cases: [(&[&str], &str); 2] = [
        (&["--env", "qa"], "unknown environment \"qa\""),
        (&["--set", "a.b"], "--set \"a.b\""),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["install", "web", WEB];
        args.extend_from_slice(extra);
        let out = rudder(&sandbox, &args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{err}");
        assert_eq!(
            err.matches(needle).count(),
            1,
            "{needle:?} not once in:\n{err}"
        );
    }
}
