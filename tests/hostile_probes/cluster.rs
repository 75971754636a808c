//! Probes against a running sandbox: bad flags and names, and secrets on every output path
//! (faults, concurrency and kill -9 are in `operations.rs`), plus the release set-up both use.

use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use super::fixtures::Files;
use super::harness::{run_rudder, Ctx, Probe};

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

pub fn write_files(dir: &Path, files: &Files) {
    for (path, data) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(path, data).expect("write");
    }
}

pub fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Runs `rudder ARGS` for set-up, failing the test if it fails.
pub fn must(ctx: &Ctx, dir: &Path, args: &[&str]) {
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
pub fn history_faults(statuses: &[String]) -> Vec<String> {
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
