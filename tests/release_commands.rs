//! The release commands and flags of Helm 4 that rudder takes, one by one, against the sandbox:
//! `list`, `history`, `status`, `get`, labels, values reuse, dry runs, CRDs, hooks, generated
//! names, namespaces, cascade, and the release size limit.

mod common;

use std::path::PathBuf;
use std::process::Output;

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

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Writes a Helm (Go template) chart in directory `name` (its last part is the chart's name);
/// `files` are paths under the chart directory.
fn chart(sandbox: &Sandbox, name: &str, values: &str, files: &[(&str, &str)]) -> PathBuf {
    let chart_name = name.rsplit('/').next().unwrap_or(name);
    sandbox.write_file(
        &format!("{name}/Chart.yaml"),
        &format!("apiVersion: v2\nname: {chart_name}\nversion: 0.1.0\nappVersion: \"1.0\"\n"),
    );
    sandbox.write_file(&format!("{name}/values.yaml"), values);
    for (file, text) in files {
        sandbox.write_file(&format!("{name}/{file}"), text);
    }
    sandbox.dir.join(name)
}

fn configmap(sandbox: &Sandbox, name: &str, key: &str) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        name,
        "-o",
        &format!("jsonpath={{.data.{key}}}"),
    ]))
}

fn exists(sandbox: &Sandbox, args: &[&str]) -> bool {
    sandbox.kubectl(&[&["get"], args].concat()).status.success()
}

#[test]
fn list_history_status_and_get_read_every_revision_namespace_and_format() {
    // `list -A` sees every namespace: no other test's releases may be there.
    let sandbox = Sandbox::start_exclusive();
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "alpha",
            WEB,
            "--env",
            "dev",
            "-l",
            "team=a",
            "--description",
            "first cut",
        ],
    ));
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "beta",
            WEB,
            "--env",
            "dev",
            "-n",
            "team",
            "--create-namespace",
        ],
    ));
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "gamma",
            WEB,
            "--env",
            "dev",
            "--namespace",
            "other",
            "--create-namespace",
        ],
    ));
    ok(&rudder(
        &sandbox,
        &["uninstall", "gamma", "-n", "other", "--keep-history"],
    ));

    // list: the current namespace by default, -A all of them; every status is shown (Helm 4),
    // -a is accepted for Helm 3 habits; --filter is a regular expression on names.
    assert_eq!(
        names(&json_of(&rudder(&sandbox, &["list", "-o", "json"]))),
        ["alpha"]
    );
    let all = json_of(&rudder(&sandbox, &["list", "-A", "-o", "json"]));
    assert_eq!(names(&all), ["alpha", "beta", "gamma"]);
    let gamma = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "gamma");
    assert_eq!(gamma.unwrap()["status"], "uninstalled");
    assert_eq!(gamma.unwrap()["namespace"], "other");
    assert_eq!(
        names(&json_of(&rudder(
            &sandbox,
            &["list", "-A", "-a", "-o", "json"]
        ))),
        ["alpha", "beta", "gamma"]
    );
    let filtered = json_of(&rudder(
        &sandbox,
        &["list", "-A", "--filter", "^b", "-o", "json"],
    ));
    assert_eq!(names(&filtered), ["beta"]);
    let row = &filtered[0];
    let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "app_version",
            "chart",
            "name",
            "namespace",
            "revision",
            "status",
            "updated"
        ]
    );
    let yaml = ok(&rudder(&sandbox, &["list", "-o", "yaml"]));
    assert!(
        yaml.contains("- app_version:") && yaml.contains("name: alpha"),
        "{yaml}"
    );
    let table = ok(&rudder(&sandbox, &["list", "-A"]));
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION"
        ]
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    // -l labels the release Secret; `k=null` removes a label on upgrade.
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "alpha",
            WEB,
            "--env",
            "dev",
            "--set",
            "image.tag=1.28",
            "--labels",
            "team=null",
        ],
    ));
    let label = |revision: u64| {
        ok(&sandbox.kubectl(&[
            "get",
            "secret",
            &format!("sh.helm.release.v1.alpha.v{revision}"),
            "-o",
            "jsonpath={.metadata.labels.team}",
        ]))
    };
    assert_eq!(label(1), "a");
    assert_eq!(label(2), "");

    // history: Helm 4's JSON shape; --max keeps the newest.
    let history = json_of(&rudder(&sandbox, &["history", "alpha", "-o", "json"]));
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["description"], "first cut");
    let mut keys: Vec<&String> = history[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "app_version",
            "chart",
            "description",
            "revision",
            "status",
            "updated"
        ]
    );
    let newest = json_of(&rudder(
        &sandbox,
        &["history", "alpha", "--max", "1", "-o", "json"],
    ));
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["revision"], 2);
    assert_eq!(newest[0]["status"], "deployed");
    let yaml = ok(&rudder(&sandbox, &["history", "alpha", "-o", "yaml"]));
    assert!(
        yaml.contains("revision: 1") && yaml.contains("status: superseded"),
        "{yaml}"
    );

    // status: any revision, as JSON; --show-resources lists the release's objects.
    let first = json_of(&rudder(
        &sandbox,
        &["status", "alpha", "--revision", "1", "-o", "json"],
    ));
    assert_eq!(first["version"], 1);
    assert_eq!(first["info"]["status"], "superseded");
    assert_eq!(first["info"]["description"], "first cut");
    let status = ok(&rudder(&sandbox, &["status", "alpha", "--show-resources"]));
    assert!(status.contains("REVISION: 2"), "{status}");
    assert!(status.contains("RESOURCES:"), "{status}");
    assert!(
        status.contains(&sandbox.ns("Deployment default/alpha-web")),
        "{status}"
    );
    let beta = ok(&rudder(&sandbox, &["status", "beta", "-n", "team"]));
    assert!(beta.contains("NAMESPACE: team"), "{beta}");

    // get: values (user-supplied, or --all computed), manifest, notes, hooks, all; any revision.
    let now = json_of(&rudder(&sandbox, &["get", "values", "alpha", "-o", "json"]));
    assert_eq!(now["image"]["tag"], "1.28");
    let then = json_of(&rudder(
        &sandbox,
        &["get", "values", "alpha", "--revision", "1", "-o", "json"],
    ));
    assert_eq!(then["image"], Value::Null, "{then}");
    let computed = json_of(&rudder(
        &sandbox,
        &["get", "values", "alpha", "--all", "-o", "json"],
    ));
    assert_eq!(computed["image"]["tag"], "1.28");
    assert_eq!(computed["autoscaling"]["enabled"], false, "{computed}");
    let manifest = ok(&rudder(&sandbox, &["get", "manifest", "alpha"]));
    assert!(manifest.contains("nginx-unprivileged:1.28"), "{manifest}");
    let old = ok(&rudder(
        &sandbox,
        &["get", "manifest", "alpha", "--revision", "1"],
    ));
    assert!(old.contains("nginx-unprivileged:1.27.0"), "{old}");
    assert!(
        old.contains("# Source: web/templates/deployment.yaml"),
        "{old}"
    );
    let notes = ok(&rudder(&sandbox, &["get", "notes", "alpha"]));
    assert!(
        notes.contains("nginx-unprivileged:1.28 is deployed"),
        "{notes}"
    );
    ok(&rudder(&sandbox, &["get", "hooks", "alpha"]));
    let everything = ok(&rudder(
        &sandbox,
        &["get", "all", "alpha", "--revision", "1"],
    ));
    for part in [
        "REVISION: 1",
        "USER-SUPPLIED VALUES:",
        "COMPUTED VALUES:",
        "1.27.0",
    ] {
        assert!(everything.contains(part), "{part} missing:\n{everything}");
    }
}

/// Helm's values rules on upgrade, with a chart whose default for `b` changes from 1 to 2.
#[test]
fn reuse_reset_then_reuse_and_reset_values_follow_helm() {
    let sandbox = Sandbox::start();
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vals\ndata:\n  a: \"{{ .Values.a }}\"\n  b: \"{{ .Values.b }}\"\n";
    let v1 = chart(
        &sandbox,
        "v1/vals",
        "a: 1\nb: 1\n",
        &[("templates/cm.yaml", template)],
    );
    let v2 = chart(
        &sandbox,
        "v2/vals",
        "a: 1\nb: 2\n",
        &[("templates/cm.yaml", template)],
    );
    let (v1, v2) = (v1.to_str().unwrap(), v2.to_str().unwrap());
    let both = |s: &Sandbox| (configmap(s, "vals", "a"), configmap(s, "vals", "b"));
    ok(&rudder(&sandbox, &["install", "vals", v1, "--set", "a=10"]));
    assert_eq!(both(&sandbox), ("10".into(), "1".into()));
    // --reuse-values: the previous values and the previous chart's defaults under the new ones.
    ok(&rudder(
        &sandbox,
        &["upgrade", "vals", v2, "--reuse-values", "--set", "d=1"],
    ));
    assert_eq!(both(&sandbox), ("10".into(), "1".into()));
    // --reset-then-reuse-values: the new chart's defaults, then the previous values.
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "vals",
            v2,
            "--reset-then-reuse-values",
            "--set",
            "d=2",
        ],
    ));
    assert_eq!(both(&sandbox), ("10".into(), "2".into()));
    // New values given without a flag: the previous ones are dropped.
    ok(&rudder(&sandbox, &["upgrade", "vals", v2, "--set", "d=3"]));
    assert_eq!(both(&sandbox), ("1".into(), "2".into()));
    ok(&rudder(&sandbox, &["upgrade", "vals", v2, "--set", "a=5"]));
    ok(&rudder(
        &sandbox,
        &["upgrade", "vals", v2, "--reset-values"],
    ));
    assert_eq!(both(&sandbox), ("1".into(), "2".into()));

    // Dry runs of an upgrade change nothing: client renders only, server asks the API server.
    let revisions = |s: &Sandbox| {
        json_of(&rudder(s, &["history", "vals", "-o", "json"]))
            .as_array()
            .unwrap()
            .len()
    };
    let before = revisions(&sandbox);
    let client = ok(&rudder(
        &sandbox,
        &["upgrade", "vals", v2, "--set", "a=99", "--dry-run=client"],
    ));
    assert!(client.contains("a: \"99\""), "{client}");
    let server = ok(&rudder(
        &sandbox,
        &["upgrade", "vals", v2, "--set", "a=98", "--dry-run=server"],
    ));
    assert!(server.contains("a: \"98\""), "{server}");
    assert_eq!(both(&sandbox), ("1".into(), "2".into()));
    assert_eq!(revisions(&sandbox), before);
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          description: DESCRIPTION\n          x-kubernetes-preserve-unknown-fields: true\n";

fn crd_description(sandbox: &Sandbox) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "crd",
        "widgets.example.com",
        "-o",
        "jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}",
    ]))
}

#[test]
fn crds_are_skipped_on_request_never_upgraded_implicitly_and_never_deleted() {
    // CRDs are cluster-wide: another test's CRD of the same name would be seen here.
    let sandbox = Sandbox::start_exclusive();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crdapp\n";
    let dir = chart(
        &sandbox,
        "crdapp",
        "{}\n",
        &[
            ("templates/cm.yaml", cm),
            ("crds/widgets.yaml", &CRD.replace("DESCRIPTION", "one")),
        ],
    );
    let dir = dir.to_str().unwrap();
    ok(&rudder(
        &sandbox,
        &["install", "crdapp", dir, "--skip-crds"],
    ));
    assert!(!exists(&sandbox, &["crd", "widgets.example.com"]));
    ok(&rudder(&sandbox, &["uninstall", "crdapp"]));

    let installed = rudder(&sandbox, &["install", "crdapp", dir]);
    ok(&installed);
    assert!(
        stderr(&installed).contains("installed 1 CRD(s)"),
        "{}",
        stderr(&installed)
    );
    assert_eq!(crd_description(&sandbox), "one");

    // An unchanged CRD is not worth a word; a changed one is reported as skipped unless
    // --upgrade-crds.
    let quiet = rudder(&sandbox, &["upgrade", "crdapp", dir]);
    ok(&quiet);
    assert!(!stderr(&quiet).contains("CRD"), "{}", stderr(&quiet));
    sandbox.write_file(
        "crdapp/crds/widgets.yaml",
        &CRD.replace("DESCRIPTION", "two"),
    );
    let skipped = rudder(&sandbox, &["upgrade", "crdapp", dir]);
    ok(&skipped);
    assert!(
        stderr(&skipped).contains(
            "CRD widgets.example.com already exists and differs from the chart's; skipped"
        ),
        "{}",
        stderr(&skipped)
    );
    assert_eq!(crd_description(&sandbox), "one");
    let upgraded = rudder(&sandbox, &["upgrade", "crdapp", dir, "--upgrade-crds"]);
    ok(&upgraded);
    assert!(
        stderr(&upgraded).contains("applied 1 CRD(s) (--upgrade-crds)"),
        "{}",
        stderr(&upgraded)
    );
    assert_eq!(crd_description(&sandbox), "two");

    ok(&rudder(&sandbox, &["uninstall", "crdapp"]));
    assert!(exists(&sandbox, &["crd", "widgets.example.com"]));
    assert!(!exists(&sandbox, &["configmap", "crdapp"]));
}

const JOB_HOOK: &str = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: m\n          image: \"busybox:{{ .Values.tag }}\"\n";

fn hooked_chart(sandbox: &Sandbox) -> PathBuf {
    chart(
        sandbox,
        "hooked",
        "tag: ok\nmessage: one\n",
        &[
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\ndata:\n  message: \"{{ .Values.message }}\"\n",
            ),
            ("templates/job.yaml", JOB_HOOK),
        ],
    )
}

#[test]
fn a_failing_hook_job_fails_the_upgrade_with_its_reason_and_no_hooks_skips_it() {
    let sandbox = Sandbox::start();
    let dir = hooked_chart(&sandbox);
    let dir = dir.to_str().unwrap();
    ok(&rudder(&sandbox, &["install", "hooked", dir]));
    // The sandbox fails a Job whose image cannot be pulled (BackoffLimitExceeded); a real Job
    // keeps its pod in ImagePullBackOff, which is no failure, until the hook's timeout.
    let expected = match common::target() {
        common::Target::Sandbox => "pre-upgrade hook Job migrate failed: BackoffLimitExceeded",
        common::Target::Real => "pre-upgrade hook Job migrate failed: timed out",
    };
    let failed = rudder(
        &sandbox,
        &[
            "upgrade",
            "hooked",
            dir,
            "--set",
            "tag=fail,message=two",
            "--timeout",
            "15s",
        ],
    );
    assert_eq!(failed.status.code(), Some(1));
    let err = stderr(&failed);
    assert!(err.contains(expected), "{err}");
    assert!(
        common::target() == common::Target::Sandbox || err.contains("ImagePullBackOff"),
        "{err}"
    );
    // The hook ran before anything was applied.
    assert_eq!(configmap(&sandbox, "hooked", "message"), "one");
    let history = json_of(&rudder(&sandbox, &["history", "hooked", "-o", "json"]));
    assert_eq!(history[1]["status"], "failed");
    let description = history[1]["description"].as_str().unwrap();
    assert!(description.contains(expected), "{description}");

    // --no-hooks: the broken hook is not run, the upgrade goes through.
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "hooked",
            dir,
            "--set",
            "tag=fail,message=three",
            "--no-hooks",
        ],
    ));
    assert_eq!(configmap(&sandbox, "hooked", "message"), "three");
    let history = json_of(&rudder(&sandbox, &["history", "hooked", "-o", "json"]));
    assert_eq!(history[2]["status"], "deployed");
}

#[test]
fn generate_name_names_the_release_after_the_chart() {
    let sandbox = Sandbox::start();
    let dir = hooked_chart(&sandbox);
    let out = rudder(
        &sandbox,
        &[
            "install",
            dir.to_str().unwrap(),
            "--generate-name",
            "--no-hooks",
            "-o",
            "json",
        ],
    );
    let release = json_of(&out);
    let name = release["name"].as_str().unwrap();
    let suffix = name
        .strip_prefix("hooked-")
        .unwrap_or_else(|| panic!("{name}"));
    assert!(suffix.chars().all(|c| c.is_ascii_digit()), "{name}");
    // --no-hooks on install: the pre-install Job was never created.
    assert!(!exists(&sandbox, &["job", "migrate"]));
    let listed = json_of(&rudder(&sandbox, &["list", "-o", "json"]));
    assert_eq!(names(&listed), [name.to_string()]);
}

#[test]
fn uninstall_cascade_orphan_leaves_dependents_and_foreground_removes_them() {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "web", WEB, "--env", "dev", "--wait"],
    ));
    let replica_sets = |s: &Sandbox| ok(&s.kubectl(&["get", "replicasets", "-o", "name"]));
    assert!(!replica_sets(&sandbox).trim().is_empty());
    // --wait: on a real cluster the orphan finalizer holds the Deployment until the garbage
    // collector has released its ReplicaSets, a moment after the DELETE answered.
    let out = rudder(
        &sandbox,
        &["uninstall", "web", "--cascade", "orphan", "--wait"],
    );
    assert!(
        stdout(&out).contains("release \"web\" uninstalled"),
        "{}",
        stderr(&out)
    );
    assert!(!exists(&sandbox, &["deployment", "web"]));
    let orphans = replica_sets(&sandbox);
    assert!(orphans.contains("replicaset.apps/web-"), "{orphans}");
    for rs in orphans.lines() {
        ok(&sandbox.kubectl(&["delete", rs]));
    }

    ok(&rudder(
        &sandbox,
        &["install", "web", WEB, "--env", "dev", "--wait"],
    ));
    // Foreground: the Deployment waits (foregroundDeletion finalizer) for its ReplicaSet and
    // Pods to go, as on a real cluster; --wait waits for all of it.
    ok(&rudder(
        &sandbox,
        &["uninstall", "web", "--cascade", "foreground", "--wait"],
    ));
    assert!(!exists(&sandbox, &["deployment", "web"]));
    assert_eq!(replica_sets(&sandbox).trim(), "");
}

#[test]
fn a_release_over_one_mib_fails_before_anything_is_applied_naming_its_largest_parts() {
    let sandbox = Sandbox::start();
    // Pseudo-random hex compresses to half at best: 2.4 MB of it cannot fit in 1 MiB.
    let mut state = 0x2545_f491_u64;
    let blob: String = (0..2_400_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from_digit((state % 16) as u32, 16).unwrap()
        })
        .collect();
    let dir = chart(
        &sandbox,
        "big",
        "{}\n",
        &[
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n",
            ),
            ("files/blob.txt", &blob),
        ],
    );
    let out = rudder(&sandbox, &["install", "big", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("release big would be") && err.contains("over the 1 MiB Secret limit"),
        "{err}"
    );
    assert!(
        err.contains("chart file files/blob.txt: 2400000 bytes"),
        "{err}"
    );
    assert!(!exists(&sandbox, &["configmap", "big"]));
    let secrets = ok(&sandbox.kubectl(&["get", "secrets", "-o", "name"]));
    assert!(!secrets.contains("sh.helm.release"), "{secrets}");
    assert_eq!(
        json_of(&rudder(&sandbox, &["list", "-o", "json"])),
        json!([])
    );
}
