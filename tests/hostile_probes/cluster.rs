//! Probes against a running sandbox: bad flags and names, secrets on every output path, API
//! faults during install/upgrade/diff, concurrent operations and kill -9 mid-upgrade.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::fixtures::Files;
use super::harness::{judge, run_rudder, Ctx, Failure, Probe};
use crate::common::Sandbox;

/// Planted in a Secret's `stringData` and `data` through values; never printed outside
/// `template`/`get manifest`.
pub const SECRET_A: &str = "Sb0x-Secret-Alpha-5521";
pub const SECRET_B: &str = "Sb0x-Secret-Bravo-9034";

/// A chart with a ConfigMap, a Secret built from values and a Deployment.
pub fn app_chart(schema: Option<&str>) -> Files {
    let mut files: Files = vec![
        ("app/Chart.yaml".into(), b"apiVersion: v2\nname: app\nversion: 0.1.0\n".to_vec()),
        ("app/values.yaml".into(), b"a: 1\npassword: changeme\ntoken: changeme\n".to_vec()),
        (
            "app/templates/cm.yaml".into(),
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  a: {{ .Values.a | quote }}\n".to_vec(),
        ),
        (
            "app/templates/secret.yaml".into(),
            b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-s\nstringData:\n  password: {{ .Values.password | quote }}\ndata:\n  token: {{ .Values.token | b64enc | quote }}\n".to_vec(),
        ),
        (
            "app/templates/deploy.yaml".into(),
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-d\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: c\n        image: nginx:{{ .Values.a }}\n".to_vec(),
        ),
    ];
    if let Some(schema) = schema {
        files.push(("app/values.schema.json".into(), schema.as_bytes().to_vec()));
    }
    files
}

fn write_files(dir: &Path, files: &Files) {
    for (path, data) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(path, data).expect("write");
    }
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Runs `rudder ARGS` for set-up, failing the test if it fails.
fn must(ctx: &Ctx, dir: &Path, args: &[&str]) {
    let run = run_rudder(ctx, dir, &os(args), None);
    assert_eq!(
        run.code,
        Some(0),
        "set-up `rudder {}` failed: {}",
        args.join(" "),
        run.stderr_text()
    );
}

/// The statuses in `history NAME -n NS -o json`, oldest first (empty if there is none).
pub fn statuses(ctx: &Ctx, dir: &Path, name: &str, ns: &str) -> Vec<String> {
    let run = run_rudder(
        ctx,
        dir,
        &os(&["history", name, "-n", ns, "-o", "json"]),
        None,
    );
    let parsed: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    parsed
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["status"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with a release's history after an operation, if anything.
fn history_faults(statuses: &[String]) -> Vec<String> {
    let mut broken = Vec::new();
    let deployed = statuses.iter().filter(|s| *s == "deployed").count();
    if deployed > 1 {
        broken.push(format!(
            "history shows {deployed} deployed revisions: {statuses:?}"
        ));
    }
    broken
}

/// Flags and names that must be refused (or accepted) cleanly, on verbs that talk to the cluster.
pub fn flag_probes() -> Vec<Probe> {
    let chart = app_chart(None);
    let mut probes = Vec::new();
    let long63 = "n".repeat(64);
    let long300 = "r".repeat(300);
    for (i, ns) in [
        "",
        "..",
        "../x",
        "A",
        "a/b",
        &long63,
        "%2F",
        "a b",
        "kube-system/../x",
        "-n",
    ]
    .iter()
    .enumerate()
    {
        for verb in [
            "install",
            "upgrade",
            "status",
            "history",
            "uninstall",
            "list",
            "diff-upgrade",
        ] {
            let args: Vec<String> = match verb {
                "install" | "upgrade" => vec![
                    verb.into(),
                    format!("ns{i}"),
                    "app".into(),
                    "-n".into(),
                    ns.to_string(),
                ],
                "diff-upgrade" => vec![
                    "diff".into(),
                    "upgrade".into(),
                    format!("ns{i}"),
                    "app".into(),
                    "-n".into(),
                    ns.to_string(),
                ],
                "list" => vec!["list".into(), "-n".into(), ns.to_string()],
                _ => vec![verb.into(), format!("ns{i}"), "-n".into(), ns.to_string()],
            };
            let valid = ns.len() <= 63
                && !ns.is_empty()
                && ns.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            // A namespace that changes the URL path (`..`, `/`, `%2F`) must never reach it;
            // `list -n A` finding nothing is as harmless as kubectl's answer.
            let path_like = ns.contains('/') || ns.contains('%') || ns.contains("..");
            let mut probe = Probe::new(format!("namespace/{i}/{verb}"), &args).files(&chart);
            if !valid && (verb != "list" || path_like) {
                probe = probe.fails();
            }
            probes.push(probe);
        }
    }
    for (i, name) in [
        "",
        "..",
        ".",
        "A",
        "a/b",
        &long300,
        "x%2F",
        "ünï",
        "a_b",
        "-x",
        &"r".repeat(54),
    ]
    .iter()
    .enumerate()
    {
        for verb in [
            "install",
            "upgrade",
            "status",
            "history",
            "rollback",
            "uninstall",
            "unlock",
            "get-values",
            "template",
        ] {
            let args: Vec<String> = match verb {
                "install" | "upgrade" | "template" => {
                    vec![verb.into(), name.to_string(), "app".into()]
                }
                "get-values" => vec!["get".into(), "values".into(), name.to_string()],
                _ => vec![verb.into(), name.to_string()],
            };
            probes.push(Probe::new(format!("release-name/{i}/{verb}"), &args).files(&chart));
        }
    }
    for (i, timeout) in [
        "",
        "abc",
        "-1s",
        "1y",
        "99999999999h",
        "1e9s",
        "0s",
        "1ms",
        "5m5m",
    ]
    .iter()
    .enumerate()
    {
        for verb in ["install", "upgrade", "uninstall", "rollback"] {
            let args: Vec<String> = match verb {
                "install" | "upgrade" => vec![
                    verb.into(),
                    format!("t{i}{verb}"),
                    "app".into(),
                    "--timeout".into(),
                    timeout.to_string(),
                ],
                _ => vec![
                    verb.into(),
                    format!("t{i}{verb}"),
                    "--timeout".into(),
                    timeout.to_string(),
                ],
            };
            probes.push(Probe::new(format!("timeout/{i}/{verb}"), &args).files(&chart));
        }
    }
    let odd: &[(&str, &[&str])] = &[
        (
            "install-output-bogus",
            &["install", "o1", "app", "-o", "bogus"],
        ),
        ("install-output-empty", &["install", "o2", "app", "-o", ""]),
        ("status-output-bogus", &["status", "o1", "-o", "bogus"]),
        ("history-output-bogus", &["history", "o1", "-o", "bogus"]),
        ("list-output-bogus", &["list", "-o", "bogus"]),
        (
            "diff-output-bogus",
            &["diff", "upgrade", "o1", "app", "-o", "bogus"],
        ),
        (
            "install-wait-bogus",
            &["install", "o3", "app", "--wait=bogus"],
        ),
        (
            "install-dry-run-bogus",
            &["install", "o4", "app", "--dry-run=bogus"],
        ),
        ("install-labels-bad", &["install", "o5", "app", "-l", "=="]),
        (
            "install-labels-reserved",
            &["install", "o6", "app", "-l", "status=x"],
        ),
        ("install-unknown-flag", &["install", "o7", "app", "--nope"]),
        ("install-no-chart", &["install", "o8"]),
        ("install-chart-missing", &["install", "o9", "missing-chart"]),
        (
            "install-kube-context-missing",
            &["install", "o10", "app", "--kube-context", "nope"],
        ),
        (
            "install-kubeconfig-missing",
            &["install", "o11", "app", "--kubeconfig", "missing.yaml"],
        ),
        (
            "install-kubeconfig-garbage",
            &["install", "o12", "app", "--kubeconfig", "app/values.yaml"],
        ),
        (
            "install-wait-for-lock-bad",
            &["install", "o13", "app", "--wait-for-lock", "forever"],
        ),
        ("rollback-revision-zero", &["rollback", "o1", "0"]),
        ("rollback-revision-negative", &["rollback", "o1", "-1"]),
        (
            "rollback-revision-huge",
            &["rollback", "o1", "99999999999999999999"],
        ),
        ("rollback-revision-text", &["rollback", "o1", "abc"]),
        (
            "get-values-revision-huge",
            &["get", "values", "o1", "--revision", "99999999999999999999"],
        ),
        ("diff-revision-bad", &["diff", "revision", "o1", "0", "-1"]),
        (
            "diff-detailed-bad-values",
            &[
                "diff",
                "upgrade",
                "o1",
                "app",
                "--detailed-exitcode",
                "--set",
                "a[=1",
            ],
        ),
        (
            "template-kube-version-bogus",
            &["template", "r", "app", "--kube-version", "bogus"],
        ),
        (
            "template-api-versions-empty",
            &["template", "r", "app", "--api-versions", ""],
        ),
        (
            "template-show-only-missing",
            &["template", "r", "app", "-s", "templates/nope.yaml"],
        ),
        (
            "template-show-only-glob-bad",
            &["template", "r", "app", "-s", "[["],
        ),
        (
            "max-file-size-bogus",
            &["template", "r", "app", "--max-file-size", "lots"],
        ),
        (
            "max-render-size-zero",
            &["template", "r", "app", "--max-render-size", "0"],
        ),
        (
            "color-bogus",
            &["template", "r", "app", "--color", "sometimes"],
        ),
    ];
    for (name, args) in odd {
        probes.push(Probe::new(format!("flags/{name}"), args).files(&chart));
    }
    probes
}

/// Secret values on every path that must not show them; `dir` holds the installed release
/// `sec` (revision 1 with SECRET_A, revision 2 with SECRET_B).
pub fn secret_probes() -> Vec<Probe> {
    let chart = app_chart(None);
    let mut probes = Vec::new();
    for output in ["diff", "simple", "json", "markdown"] {
        for (what, args) in [
            (
                "upgrade-change",
                vec![
                    "diff",
                    "upgrade",
                    "sec",
                    "app",
                    "--set",
                    &format!("password={SECRET_A}x"),
                    "--set",
                    &format!("token={SECRET_A}y"),
                ],
            ),
            (
                "upgrade-same",
                vec![
                    "diff",
                    "upgrade",
                    "sec",
                    "app",
                    "--set",
                    &format!("password={SECRET_B}"),
                    "--set",
                    &format!("token={SECRET_B}"),
                ],
            ),
            ("rollback", vec!["diff", "rollback", "sec", "1"]),
            ("revision", vec!["diff", "revision", "sec", "1", "2"]),
        ] {
            let mut args: Vec<String> = args.into_iter().map(String::from).collect();
            args.extend([
                "-o".to_string(),
                output.to_string(),
                "--detailed-exitcode".to_string(),
            ]);
            probes.push(
                Probe::new(format!("diff/{what}/{output}"), &args)
                    .files(&chart)
                    .secret(SECRET_A)
                    .secret(SECRET_B)
                    .secret(&format!("{SECRET_A}x"))
                    .secret(&format!("{SECRET_A}y")),
            );
        }
    }
    // `status -o json` prints the release with its values and manifest, as Helm's does: the
    // documented promise (docs/diff.md) covers diffs, so only its exit is probed.
    probes.push(Probe::new("read/status-json", &["status", "sec", "-o", "json"]).files(&chart));
    for (what, args) in [
        ("status", vec!["status", "sec"]),
        ("history", vec!["history", "sec", "-o", "json"]),
        ("list", vec!["list", "-o", "json"]),
        (
            "diff-envs-missing",
            vec!["diff", "envs", "app", "dev", "prod"],
        ),
    ] {
        probes.push(
            Probe::new(format!("read/{what}"), &args)
                .files(&chart)
                .secret(SECRET_A)
                .secret(SECRET_B),
        );
    }
    // Error paths: the secret is in the values, the error is elsewhere.
    let broken_template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  x: {{ .Values.nope.deeper }}\n";
    let mut broken = app_chart(None);
    broken.push((
        "app/templates/broken.yaml".into(),
        broken_template.as_bytes().to_vec(),
    ));
    for verb in ["install", "upgrade", "diff-upgrade", "template"] {
        let mut args: Vec<String> = match verb {
            "diff-upgrade" => vec!["diff".into(), "upgrade".into(), "sec".into(), "app".into()],
            "template" => vec!["template".into(), "sec".into(), "app".into()],
            "install" => vec!["install".into(), "sec-new".into(), "app".into()],
            _ => vec![verb.into(), "sec".into(), "app".into()],
        };
        args.extend(["--set".into(), format!("password={SECRET_A}")]);
        probes.push(
            Probe::new(format!("template-error/{verb}"), &args)
                .files(&broken)
                .fails()
                .secret(SECRET_A),
        );
    }
    // The API server refuses the object: its error must not carry the Secret's data.
    let bad_secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: Bad_Name\nstringData:\n  password: {{ .Values.password | quote }}\n";
    let mut rejected = app_chart(None);
    rejected.push((
        "app/templates/bad.yaml".into(),
        bad_secret.as_bytes().to_vec(),
    ));
    for verb in ["install", "upgrade", "diff-upgrade"] {
        let mut args: Vec<String> = match verb {
            "diff-upgrade" => vec!["diff".into(), "upgrade".into(), "sec".into(), "app".into()],
            "install" => vec!["install".into(), "sec-rejected".into(), "app".into()],
            _ => vec![verb.into(), "sec".into(), "app".into()],
        };
        args.extend(["--set".into(), format!("password={SECRET_A}")]);
        probes.push(
            Probe::new(format!("api-error/{verb}"), &args)
                .files(&rejected)
                .secret(SECRET_A),
        );
    }
    let not_base64 = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nb64\ndata:\n  password: {{ .Values.password | quote }}\n";
    let mut nb = app_chart(None);
    nb.push((
        "app/templates/nb.yaml".into(),
        not_base64.as_bytes().to_vec(),
    ));
    probes.push(
        Probe::new(
            "api-error/not-base64",
            &[
                "install",
                "sec-nb64",
                "app",
                "--set",
                &format!("password={SECRET_A}!"),
            ],
        )
        .files(&nb)
        .secret(&format!("{SECRET_A}!")),
    );
    // Schema errors never show the value: it may be a password.
    for (rule, schema) in [
        (
            "maxLength",
            r#"{"properties": {"password": {"type": "string", "maxLength": 3}}}"#,
        ),
        (
            "pattern",
            r#"{"properties": {"password": {"type": "string", "pattern": "^[0-9]+$"}}}"#,
        ),
        (
            "enum",
            r#"{"properties": {"password": {"enum": ["a", "b"]}}}"#,
        ),
        ("const", r#"{"properties": {"password": {"const": "x"}}}"#),
        (
            "type",
            r#"{"properties": {"password": {"type": "integer"}}}"#,
        ),
        (
            "format",
            r#"{"properties": {"password": {"type": "string", "format": "email"}}}"#,
        ),
        (
            "not",
            r#"{"properties": {"password": {"not": {"type": "string"}}}}"#,
        ),
        (
            "additional",
            r#"{"additionalProperties": false, "properties": {"a": {}, "token": {}}}"#,
        ),
    ] {
        for verb in ["template", "install", "diff-upgrade", "lint"] {
            let mut args: Vec<String> = match verb {
                "diff-upgrade" => vec!["diff".into(), "upgrade".into(), "sec".into(), "app".into()],
                "install" => vec![
                    "install".into(),
                    format!("schema-{}", rule.to_lowercase()),
                    "app".into(),
                ],
                "lint" => vec!["lint".into(), "app".into()],
                _ => vec![verb.into(), "sec".into(), "app".into()],
            };
            args.extend(["--set".into(), format!("password={SECRET_A}")]);
            let mut probe = Probe::new(format!("schema/{rule}/{verb}"), &args)
                .files(&app_chart(Some(schema)))
                .stderr_secret(SECRET_A);
            probe = if verb == "lint" {
                probe.reports_on_stdout().secret(SECRET_A)
            } else if rule == "format" {
                // Whether `format` is asserted differs between JSON Schema validators.
                probe
            } else {
                probe.fails()
            };
            probes.push(probe);
        }
    }
    probes
}

/// Installs `sec` (two revisions) in the sandbox for the secret probes.
pub fn install_secret_release(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("set-up folder");
    write_files(dir.path(), &app_chart(None));
    for (verb, secret) in [("install", SECRET_A), ("upgrade", SECRET_B)] {
        must(
            ctx,
            dir.path(),
            &[
                verb,
                "sec",
                "app",
                "--set",
                &format!("password={secret}"),
                "--set",
                &format!("token={secret}"),
            ],
        );
    }
    // `o1`: the release the bad-flag probes point their reads and rollbacks at.
    must(ctx, dir.path(), &["install", "o1", "app"]);
}

/// One fault scenario: the operation, the rule, and whether the operation is expected to win.
struct FaultCase {
    verb: &'static str,
    rule: Value,
    timeout: Option<&'static str>,
}

fn fault_cases() -> Vec<FaultCase> {
    let mut cases = Vec::new();
    let rules: Vec<(Value, Option<&'static str>)> = vec![
        (
            json!({"match": {"verb": "patch", "resource": "configmaps"}, "error": 500, "times": 1}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "configmaps"}, "error": 500, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "deployments"}, "error": 503, "times": 2}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "deployments"}, "error": 429, "times": 2}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "secrets"}, "error": "reset", "times": 1}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "secrets"}, "error": "reset", "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "create", "resource": "secrets"}, "error": 500, "times": 1}),
            None,
        ),
        (
            json!({"match": {"verb": "create", "resource": "secrets"}, "error": 500, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "update", "resource": "secrets"}, "error": 500, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "list", "resource": "secrets"}, "error": 500, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "get", "resource": "configmaps"}, "error": 500, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "get", "resource": "secrets"}, "error": "reset", "times": 3}),
            None,
        ),
        (
            json!({"match": {"resource": "configmaps"}, "error": 429, "times": 3}),
            None,
        ),
        (
            json!({"match": {"resource": "deployments"}, "error": 503, "times": 50}),
            None,
        ),
        (
            json!({"match": {"verb": "patch", "resource": "configmaps"}, "error": 503, "times": 1000}),
            Some("8s"),
        ),
        (
            json!({"match": {"verb": "patch", "resource": "configmaps"}, "error": "hang", "times": 1}),
            Some("8s"),
        ),
        (
            json!({"match": {"verb": "list", "resource": "secrets"}, "error": "hang", "times": 1}),
            Some("8s"),
        ),
    ];
    for verb in ["install", "upgrade", "diff"] {
        for (rule, timeout) in &rules {
            cases.push(FaultCase {
                verb,
                rule: rule.clone(),
                timeout: *timeout,
            });
        }
    }
    cases
}

fn add_fault(sandbox: &Sandbox, rule: &Value) {
    let r = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        rule.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Runs every fault case in its own namespace (faults are scoped to it), `threads` at a time.
/// Each case: set up the release (for upgrade/diff), add the fault, run the probe, then check
/// the history and that a rerun after the fault succeeds.
pub fn run_faults(sandbox: &Sandbox, ctx: &Ctx, threads: usize) -> (usize, Vec<Failure>) {
    let cases = fault_cases();
    let runnable: Vec<(usize, &FaultCase)> = cases.iter().enumerate().collect();
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((i, case)) = runnable.get(k) else {
                    break;
                };
                let broken = run_fault_case(sandbox, ctx, *i, case);
                if !broken.is_empty() {
                    failures.lock().expect("failures").push(Failure {
                        name: format!("{i}-{}", case.verb),
                        command: format!(
                            "rudder {} f{i} app -n f{i} with fault {}",
                            case.verb, case.rule
                        ),
                        broken,
                    });
                }
            });
        }
    });
    (runnable.len(), failures.into_inner().expect("failures"))
}

fn run_fault_case(sandbox: &Sandbox, ctx: &Ctx, i: usize, case: &FaultCase) -> Vec<String> {
    let ns = format!("f{i}");
    let name = format!("f{i}");
    let dir = tempfile::tempdir().expect("case folder");
    write_files(dir.path(), &app_chart(None));
    if case.verb != "install" {
        must(
            ctx,
            dir.path(),
            &["install", &name, "app", "-n", &ns, "--create-namespace"],
        );
    } else {
        // The namespace exists so that the fault, not its absence, is what the install meets.
        must(
            ctx,
            dir.path(),
            &["install", "other", "app", "-n", &ns, "--create-namespace"],
        );
    }
    let mut rule = case.rule.clone();
    rule["match"]["namespace"] = json!(ns);
    add_fault(sandbox, &rule);
    let mut args: Vec<String> = match case.verb {
        "diff" => vec![
            "diff".into(),
            "upgrade".into(),
            name.clone(),
            "app".into(),
            "--set".into(),
            "a=2".into(),
        ],
        verb => vec![
            verb.into(),
            name.clone(),
            "app".into(),
            "--set".into(),
            "a=2".into(),
        ],
    };
    args.extend(["-n".into(), ns.clone()]);
    // `diff` has no --timeout: a hanging request meets the per-request cap.
    if let (Some(t), false) = (case.timeout, case.verb == "diff") {
        args.extend(["--timeout".into(), t.into()]);
    }
    let probe = Probe::new(format!("faults/{i}"), &args).files(&app_chart(None));
    let io = tempfile::tempdir().expect("probe output");
    let run = super::harness::run_rudder_in(ctx, dir.path(), &probe.args, io.path());
    let mut broken = judge(&probe, &run);
    let after = statuses(ctx, dir.path(), &name, &ns);
    broken.extend(history_faults(&after));
    // A record the store refuses to update stays pending: then rudder must say so and how to
    // recover (issue 19 #4), never leave it silently.
    let stderr = run.stderr_text();
    let explained = stderr.contains("unlock") || stderr.contains("rollback");
    if after.last().is_some_and(|s| s.starts_with("pending-")) && !explained {
        broken.push(format!(
            "exit {:?} left a pending record without saying how to recover: {after:?}; stderr: {}",
            run.code,
            stderr.trim()
        ));
    }
    // The fault is spent (or outlasted): the same operation now succeeds.
    let times = rule["times"].as_u64().unwrap_or(0);
    if times <= 50 {
        let _ = sandbox.request("GET", "/sandbox/faults", &[], b"");
        // An install that won despite the fault leaves a release: the rerun is the upgrade.
        let mut rerun_args: Vec<OsString> = args.iter().map(OsString::from).collect();
        if case.verb == "install" {
            rerun_args.splice(
                0..1,
                [OsString::from("upgrade"), OsString::from("--install")],
            );
        }
        let rerun = run_rudder(ctx, dir.path(), &rerun_args, None);
        let spent = {
            // A rule with failures left would fail the rerun for a reason of its own.
            let faults = sandbox.request("GET", "/sandbox/faults", &[], b"").json();
            faults["faults"].as_array().is_none_or(|list| {
                !list
                    .iter()
                    .any(|f| f["match"]["namespace"] == json!(ns) && f["remaining"] != json!(0))
            })
        };
        if spent && rerun.code != Some(0) && !(case.verb == "diff" && rerun.code == Some(2)) {
            broken.push(format!(
                "rerun after the fault failed: {}",
                rerun.stderr_text().trim()
            ));
        }
        let last = statuses(ctx, dir.path(), &name, &ns);
        broken.extend(history_faults(&last));
    }
    broken
}

/// Several upgrades of one release at once, `trials` times: every run exits 0/1 with a clean
/// error, the history never shows two deployed revisions, and a rerun succeeds.
pub fn run_concurrent_upgrades(
    ctx: &Ctx,
    name: &str,
    parallel: usize,
    trials: usize,
) -> Vec<String> {
    let dir = tempfile::tempdir().expect("folder");
    write_files(dir.path(), &app_chart(None));
    must(ctx, dir.path(), &["install", name, "app"]);
    let mut broken = Vec::new();
    for trial in 0..trials {
        let runs: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..parallel)
                .map(|k| {
                    let args = os(&["upgrade", name, "app", "--set", &format!("a={trial}{k}")]);
                    let dir = dir.path();
                    scope.spawn(move || {
                        let run = run_rudder(ctx, dir, &args, None);
                        let probe = Probe::new("upgrade", &["upgrade", name]);
                        (judge(&probe, &run), run.code)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a probe thread"))
                .collect()
        });
        for (k, (b, _)) in runs.iter().enumerate() {
            broken.extend(b.iter().map(|b| format!("trial {trial} run {k}: {b}")));
        }
        if !runs.iter().any(|(_, code)| *code == Some(0)) {
            broken.push(format!("trial {trial}: no upgrade won"));
        }
        broken.extend(history_faults(&statuses(ctx, dir.path(), name, "default")));
    }
    let rerun = run_rudder(ctx, dir.path(), &os(&["upgrade", name, "app"]), None);
    if rerun.code != Some(0) {
        broken.push(format!("rerun failed: {}", rerun.stderr_text().trim()));
    }
    broken
}

/// Several installs of one new name at once: exactly one wins, the others are refused cleanly.
pub fn run_concurrent_installs(ctx: &Ctx, name: &str, parallel: usize) -> Vec<String> {
    let dir = tempfile::tempdir().expect("folder");
    write_files(dir.path(), &app_chart(None));
    let runs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parallel)
            .map(|_| {
                let dir = dir.path();
                scope.spawn(move || run_rudder(ctx, dir, &os(&["install", name, "app"]), None))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a probe thread"))
            .collect::<Vec<_>>()
    });
    let probe = Probe::new("install", &["install", name]);
    let mut broken: Vec<String> = runs.iter().flat_map(|r| judge(&probe, r)).collect();
    let winners = runs.iter().filter(|r| r.code == Some(0)).count();
    if winners != 1 {
        broken.push(format!(
            "{winners} of {parallel} installs of one name succeeded"
        ));
    }
    let history = statuses(ctx, dir.path(), name, "default");
    broken.extend(history_faults(&history));
    if history.len() != 1 {
        broken.push(format!("history after {parallel} installs: {history:?}"));
    }
    broken
}

/// Upgrade, rollback and uninstall of one release at once: the history never says deployed
/// while the objects are gone.
pub fn run_mixed(sandbox: &Sandbox, ctx: &Ctx, name: &str, trials: usize) -> Vec<String> {
    let dir = tempfile::tempdir().expect("folder");
    write_files(dir.path(), &app_chart(None));
    let mut broken = Vec::new();
    for trial in 0..trials {
        let mut ready = true;
        for args in [
            ["upgrade", "--install", name, "app", "--set", "a=1"],
            ["upgrade", name, "app", "--set", "a=2", ""],
        ] {
            let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
            let run = run_rudder(ctx, dir.path(), &os(&args), None);
            if run.code != Some(0) {
                let history = statuses(ctx, dir.path(), name, "default");
                broken.push(format!(
                    "trial {trial}: after the previous trial settled, `rudder {}` failed: {} (history {history:?})",
                    args.join(" "),
                    run.stderr_text().trim()
                ));
                ready = false;
                break;
            }
        }
        if !ready {
            // Clear what the previous trial left so that the next one measures itself.
            let _ = run_rudder(ctx, dir.path(), &os(&["unlock", name]), None);
            let _ = run_rudder(ctx, dir.path(), &os(&["uninstall", name]), None);
            continue;
        }
        let verbs: Vec<Vec<OsString>> = vec![
            os(&["upgrade", name, "app", "--set", "a=3"]),
            os(&["rollback", name, "1"]),
            os(&["uninstall", name]),
            os(&["upgrade", name, "app", "--set", "a=4"]),
        ];
        let runs: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = verbs
                .iter()
                .map(|args| {
                    let dir = dir.path();
                    scope.spawn(move || run_rudder(ctx, dir, args, None))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a probe thread"))
                .collect::<Vec<_>>()
        });
        for (args, run) in verbs.iter().zip(&runs) {
            let probe = Probe {
                args: args.clone(),
                ..Probe::new("mixed", &["mixed"])
            };
            broken.extend(
                judge(&probe, run)
                    .into_iter()
                    .map(|b| format!("trial {trial} {:?}: {b}", args[0])),
            );
        }
        let history = statuses(ctx, dir.path(), name, "default");
        broken.extend(history_faults(&history));
        // Every process has exited: a lock left now belongs to one that gave up (whether a
        // later run would take it over as its holder's pid is gone does not matter here).
        if history
            .iter()
            .any(|s| s.starts_with("pending-") || s == "uninstalling")
        {
            broken.push(format!(
                "trial {trial}: a lock is left after every process exited: {history:?}"
            ));
        }
        if history.last().is_some_and(|s| s == "deployed") {
            let cm = sandbox.kubectl(&["get", "configmap", &format!("{name}-cm"), "-o", "name"]);
            if !cm.status.success() {
                broken.push(format!(
                    "trial {trial}: history says deployed but the objects are gone: {history:?}"
                ));
            }
        }
        // Start the next trial from a clean slate whatever won.
        let _ = run_rudder(ctx, dir.path(), &os(&["uninstall", name]), None);
    }
    broken
}

/// kill -9 while `upgrade` waits on a hanging request (one per kill point): the history never
/// shows two deployed revisions and, after `unlock` if the lock was left, a rerun succeeds.
pub fn run_kill_points(sandbox: &Sandbox, ctx: &Ctx) -> (usize, Vec<Failure>) {
    let points: &[(&str, Value)] = &[
        (
            "read-history",
            json!({"verb": "list", "resource": "secrets"}),
        ),
        (
            "write-pending",
            json!({"verb": "create", "resource": "secrets"}),
        ),
        (
            "apply-configmap",
            json!({"verb": "patch", "resource": "configmaps"}),
        ),
        (
            "apply-secret",
            json!({"verb": "patch", "resource": "secrets"}),
        ),
        (
            "apply-deployment",
            json!({"verb": "patch", "resource": "deployments"}),
        ),
        (
            "finish-record",
            json!({"verb": "update", "resource": "secrets"}),
        ),
    ];
    let mut failures = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = points
            .iter()
            .enumerate()
            .map(|(i, (point, matcher))| {
                scope.spawn(move || {
                    let ns = format!("k{i}");
                    let name = format!("k{i}");
                    let dir = tempfile::tempdir().expect("folder");
                    write_files(dir.path(), &app_chart(None));
                    must(
                        ctx,
                        dir.path(),
                        &["install", &name, "app", "-n", &ns, "--create-namespace"],
                    );
                    let mut matcher = matcher.clone();
                    matcher["namespace"] = json!(ns);
                    add_fault(
                        sandbox,
                        &json!({"match": matcher, "error": "hang", "times": 1}),
                    );
                    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
                        .args(["upgrade", &name, "app", "-n", &ns, "--set", "a=5"])
                        .current_dir(dir.path())
                        .env("KUBECONFIG", ctx.kubeconfig.as_ref().expect("a cluster"))
                        .env("HOME", dir.path())
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .spawn()
                        .expect("spawn rudder upgrade");
                    std::thread::sleep(Duration::from_secs(3));
                    let mut broken = Vec::new();
                    match child.try_wait() {
                        Ok(Some(status)) => broken.push(format!(
                            "upgrade did not reach the kill point: ended {status}"
                        )),
                        _ => {
                            let _ = child.kill();
                        }
                    }
                    let _ = child.wait();
                    broken.extend(history_faults(&statuses(ctx, dir.path(), &name, &ns)));
                    let mut rerun = run_rudder(
                        ctx,
                        dir.path(),
                        &os(&["upgrade", &name, "app", "-n", &ns, "--set", "a=6"]),
                        None,
                    );
                    if rerun.code != Some(0) {
                        // The documented recovery for a killed process: unlock, then rerun.
                        let _ =
                            run_rudder(ctx, dir.path(), &os(&["unlock", &name, "-n", &ns]), None);
                        rerun = run_rudder(
                            ctx,
                            dir.path(),
                            &os(&["upgrade", &name, "app", "-n", &ns, "--set", "a=6"]),
                            None,
                        );
                    }
                    if rerun.code != Some(0) {
                        broken.push(format!(
                            "rerun after kill -9 (and unlock) failed: {}",
                            rerun.stderr_text().trim()
                        ));
                    }
                    let after = statuses(ctx, dir.path(), &name, &ns);
                    broken.extend(history_faults(&after));
                    if after.last().map(String::as_str) != Some("deployed") {
                        broken.push(format!(
                            "after the rerun the latest revision is not deployed: {after:?}"
                        ));
                    }
                    (point.to_string(), broken)
                })
            })
            .collect();
        for h in handles {
            let (point, broken) = h.join().expect("a kill thread");
            if !broken.is_empty() {
                failures.push(Failure {
                    name: point.clone(),
                    command: format!("rudder upgrade (killed with -9 at {point})"),
                    broken,
                });
            }
        }
    });
    (points.len(), failures)
}
