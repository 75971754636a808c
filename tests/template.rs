//! `rudder template` end to end: the real binary on the example charts and on broken inputs.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rudder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .current_dir(root())
        .env_remove("RUDDER_ENV")
        .env_remove("RUDDER_NAMESPACE")
        .output()
        .expect("rudder runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs rudder and expects failure whose stderr contains every needle.
fn fails_with(args: &[&str], needles: &[&str]) -> String {
    let out = rudder(args);
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "rudder {args:?} succeeded:\n{}",
        stdout(&out)
    );
    assert!(
        out.stdout.is_empty(),
        "no product on stdout when failing: {}",
        stdout(&out)
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr of rudder {args:?} lacks {needle:?}:\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Writes a minimal Tera chart with the given templates into `dir/name`.
fn write_chart(dir: &Path, name: &str, chart_yaml: &str, files: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), chart_yaml).unwrap();
    for (path, text) in files {
        let path = chart.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    chart
}

const CHART_YAML: &str = "apiVersion: v2\nname: demo\nversion: 0.1.0\nengine: tera\n";
const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name }}\ndata:\n  a: {{ Values.a | quote }}\n";

#[test]
fn web_prod_output_is_stable() {
    let out = rudder(&["template", "web", "charts/web", "--env", "prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("web_prod", stdout(&out));
}

#[test]
fn environments_change_the_output() {
    let dev = rudder(&["template", "web", "charts/web", "--env", "dev"]);
    let prod = rudder(&["template", "web", "charts/web", "--env", "prod"]);
    assert!(dev.status.success(), "{}", stderr(&dev));
    let (dev, prod) = (stdout(&dev), stdout(&prod));
    assert!(dev.contains("host: \"web.dev.example.com\""), "{dev}");
    assert!(dev.contains("replicas: 1"), "{dev}");
    assert!(!dev.contains("kind: HorizontalPodAutoscaler"), "{dev}");
    assert!(prod.contains("kind: HorizontalPodAutoscaler"), "{prod}");
    assert!(prod.contains("host: \"web.example.com\""), "{prod}");
    // With autoscaling the HPA owns the replica count.
    assert!(!prod.contains("  replicas:"), "{prod}");
}

#[test]
fn documents_come_in_helm_install_order() {
    let out = rudder(&["template", "web", "charts/web", "--env", "prod"]);
    let text = stdout(&out);
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Service",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress"
        ]
    );
    assert!(text.starts_with("---\n# Source: web/templates/serviceaccount.yaml\n"));
}

#[test]
fn set_overrides_env_and_release_flags_reach_templates() {
    let out = rudder(&[
        "template",
        "shop",
        "charts/web",
        "--env",
        "dev",
        "-n",
        "payments",
        "--set-string",
        "image.tag=20261126153000",
        "--set",
        "replicaCount=4",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("image: \"nginxinc/nginx-unprivileged:20261126153000\""),
        "{text}"
    );
    assert!(text.contains("replicas: 4"), "{text}");
    assert!(text.contains("name: shop-web"), "{text}");
    assert!(text.contains("app.kubernetes.io/instance: shop"), "{text}");
}

#[test]
fn one_argument_is_the_chart() {
    let out = rudder(&["template", "charts/redis"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: release-name-redis"));
}

#[test]
fn show_only_selects_templates_and_rejects_unknown_ones() {
    let out = rudder(&[
        "template",
        "web",
        "charts/web",
        "--env",
        "prod",
        "-s",
        "templates/hpa.yaml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("---\n# Source: web/templates/hpa.yaml\n"),
        "{text}"
    );
    assert_eq!(text.matches("# Source:").count(), 1, "{text}");
    fails_with(
        &["template", "web", "charts/web", "-s", "templates/nope.yaml"],
        &["could not find template templates/nope.yaml"],
    );
}

#[test]
fn kube_version_and_api_versions_reach_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "caps",
        CHART_YAML,
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  minor: {{ Capabilities.KubeVersion.Minor | quote }}\n  crd: {{ \"example.com/v1\" in Capabilities.APIVersions }}\n",
        )],
    );
    let out = rudder(&[
        "template",
        chart.to_str().unwrap(),
        "--kube-version",
        "1.29",
        "-a",
        "example.com/v1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("minor: \"29\"") && text.contains("crd: true"),
        "{text}"
    );
    fails_with(
        &[
            "template",
            chart.to_str().unwrap(),
            "--kube-version",
            "banana",
        ],
        &["--kube-version", "banana"],
    );
}

#[test]
fn output_dir_writes_files_and_nothing_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = rudder(&[
        "template",
        "web",
        "charts/web",
        "--env",
        "prod",
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hpa = std::fs::read_to_string(out_dir.join("web/templates/hpa.yaml")).unwrap();
    assert!(hpa.starts_with("---\n# Source: web/templates/hpa.yaml\napiVersion: autoscaling/v2"));

    let broken = write_chart(
        dir.path(),
        "broken",
        CHART_YAML,
        &[
            ("templates/a.yaml", CONFIGMAP),
            ("templates/b.yaml", "x: {{ Values.nope }}\n"),
        ],
    );
    let out_dir = dir.path().join("out2");
    fails_with(
        &[
            "template",
            broken.to_str().unwrap(),
            "--set",
            "a=1",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ],
        &["b.yaml"],
    );
    assert!(!out_dir.exists(), "no partial output");
}

#[test]
fn include_crds_prints_crds_first() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "crdchart",
        CHART_YAML,
        &[
            ("templates/cm.yaml", CONFIGMAP),
            (
                "crds/widget.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
            ),
        ],
    );
    let path = chart.to_str().unwrap();
    let without = stdout(&rudder(&["template", path, "--set", "a=1"]));
    assert!(!without.contains("CustomResourceDefinition"), "{without}");
    let with = rudder(&["template", path, "--set", "a=1", "--include-crds"]);
    assert!(with.status.success(), "{}", stderr(&with));
    assert!(
        stdout(&with).starts_with(
            "---\n# Source: demo/crds/widget.yaml\napiVersion: apiextensions.k8s.io/v1"
        ),
        "{}",
        stdout(&with)
    );
}

/// A CRD file may hold several documents, and a document may start with any comment: a
/// `# Source:` line inside a CRD file must not choose where `--output-dir` writes.
#[test]
fn output_dir_never_writes_outside_for_a_crd_claiming_another_source() {
    let dir = tempfile::tempdir().unwrap();
    let absolute = dir.path().join("abs-escaped.yaml");
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n";
    let hostile = format!(
        "{crd}---\n# Source: ../../escaped.yaml\n{crd}---\n# Source: {}\n{crd}",
        absolute.display()
    );
    let chart = write_chart(
        dir.path(),
        "crdchart",
        CHART_YAML,
        &[
            ("templates/cm.yaml", CONFIGMAP),
            ("crds/widget.yaml", &hostile),
        ],
    );
    let out_dir = dir.path().join("a/out");
    let out = rudder(&[
        "template",
        chart.to_str().unwrap(),
        "--set",
        "a=1",
        "--include-crds",
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !dir.path().join("escaped.yaml").exists(),
        "wrote above --output-dir"
    );
    assert!(
        !absolute.exists(),
        "wrote to an absolute path from a CRD file"
    );
    let written = std::fs::read_to_string(out_dir.join("demo/crds/widget.yaml")).unwrap();
    assert_eq!(
        written.matches("kind: CustomResourceDefinition").count(),
        3,
        "{written}"
    );
}

// ---- bad input: each a clear error, nothing on stdout, no panic ----

#[test]
fn missing_chart() {
    fails_with(
        &["template", "web", "./charts/does-not-exist"],
        &["./charts/does-not-exist", "no such file or directory"],
    );
    // Like Helm, a missing DIR/NAME may be a repository chart: the error says which repository.
    fails_with(
        &["template", "web", "charts/does-not-exist"],
        &["no repository named \"charts\""],
    );
}

#[test]
fn chart_yaml_without_version() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "nover",
        "apiVersion: v2\nname: nover\nengine: tera\n",
        &[("templates/cm.yaml", CONFIGMAP)],
    );
    fails_with(
        &["template", chart.to_str().unwrap()],
        &["Chart.yaml", "version"],
    );
}

#[test]
fn chart_yaml_with_non_semver_version() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "badver",
        "apiVersion: v2\nname: badver\nversion: one.two\nengine: tera\n",
        &[("templates/cm.yaml", CONFIGMAP)],
    );
    fails_with(
        &["template", chart.to_str().unwrap()],
        &["Chart.yaml", "one.two"],
    );
}

#[test]
fn invalid_yaml_in_a_values_file_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad-values.yaml");
    std::fs::write(&file, "replicaCount: 2\nimage:\n  tag: [unclosed\n").unwrap();
    let err = fails_with(
        &[
            "template",
            "web",
            "charts/web",
            "-f",
            file.to_str().unwrap(),
        ],
        &["bad-values.yaml"],
    );
    assert!(
        err.contains("bad-values.yaml:3:")
            || err.contains("bad-values.yaml:4:")
            || err.contains("line 3")
            || err.contains("line 4"),
        "no line in {err}"
    );
}

#[test]
fn unknown_env_lists_the_available_ones() {
    fails_with(
        &["template", "web", "charts/web", "--env", "qa"],
        &["qa", "dev", "prod", "staging"],
    );
}

#[test]
fn malformed_set_names_expression_and_position() {
    fails_with(
        &["template", "web", "charts/web", "--set", "a[x]=1"],
        &["--set", "a[x]=1"],
    );
}

#[test]
fn unreadable_set_file() {
    fails_with(
        &[
            "template",
            "web",
            "charts/web",
            "--set-file",
            "secret.apiKey=/nonexistent/key.txt",
        ],
        &["/nonexistent/key.txt"],
    );
}

#[test]
fn schema_violations_are_reported_by_path_all_at_once() {
    fails_with(
        &[
            "template",
            "cache",
            "charts/redis",
            "--set",
            "persistence.size=20GB",
            "--set",
            "port=99999",
        ],
        &["persistence.size", "port"],
    );
}

#[test]
fn template_syntax_error_names_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "demo",
        CHART_YAML,
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Release.Name | }}\n",
        )],
    );
    fails_with(
        &["template", chart.to_str().unwrap()],
        &["demo/templates/cm.yaml:4:", "syntax error"],
    );
}

#[test]
fn undefined_variable_names_file_line_column_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "demo",
        CHART_YAML,
        &[("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  tag: {{ Values.image.tagg }}\n")],
    );
    fails_with(
        &["template", chart.to_str().unwrap(), "--set", "image.tag=1"],
        &["demo/templates/cm.yaml:6:11", "Values.image.tagg"],
    );
}

#[test]
fn required_value_message() {
    fails_with(
        &[
            "template",
            "web",
            "charts/web",
            "--set",
            "image.repository=",
        ],
        &["web/templates/", "image.repository is required"],
    );
}

#[test]
fn manifest_that_is_not_a_kubernetes_object() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "demo",
        CHART_YAML,
        &[("templates/notes.yaml", "just: some\nvalues: here\n")],
    );
    fails_with(
        &["template", chart.to_str().unwrap()],
        &[
            "demo/templates/notes.yaml",
            "not a Kubernetes object",
            "apiVersion",
        ],
    );
}

#[test]
fn helm_charts_without_engine_tera_are_refused_clearly_until_supported() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "helmish",
        "apiVersion: v2\nname: helmish\nversion: 0.1.0\n",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        )],
    );
    let out = rudder(&["template", chart.to_str().unwrap()]);
    // Either the Go-template engine renders it, or rudder says why it cannot.
    if out.status.success() {
        assert!(
            stdout(&out).contains("name: release-name"),
            "{}",
            stdout(&out)
        );
    } else {
        assert!(stderr(&out).contains("engine: tera"), "{}", stderr(&out));
    }
}

// ---- archives ----

fn gzip_tar(entries: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>)) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    entries(&mut builder);
    builder.into_inner().unwrap().finish().unwrap()
}

/// Appends a file entry whose raw name is written verbatim (tar's safe setters refuse `..`).
fn append_raw(
    builder: &mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>,
    name: &str,
    data: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    let raw = &mut header.as_old_mut().name;
    raw[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn good_entries(builder: &mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>) {
    append_raw(builder, "demo/Chart.yaml", CHART_YAML.as_bytes());
    append_raw(builder, "demo/templates/cm.yaml", CONFIGMAP.as_bytes());
}

fn archive_fails(name: &str, bytes: Vec<u8>, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    fails_with(
        &["template", path.to_str().unwrap(), "--set", "a=1"],
        needles,
    );
    // Nothing was unpacked next to the archive or above it.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(entries.len(), 1, "archive rejected without writing files");
    assert!(!dir.path().parent().unwrap().join("evil").exists());
}

#[test]
fn a_good_archive_renders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-0.1.0.tgz");
    std::fs::write(&path, gzip_tar(good_entries)).unwrap();
    let out = rudder(&["template", "r", path.to_str().unwrap(), "--set", "a=1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("# Source: demo/templates/cm.yaml"));
}

#[test]
fn archive_with_dotdot_entry_is_rejected() {
    let bytes = gzip_tar(|b| {
        good_entries(b);
        append_raw(b, "demo/../../evil", b"x");
    });
    archive_fails("dotdot.tgz", bytes, &["..", "evil"]);
}

#[test]
fn archive_with_absolute_entry_is_rejected() {
    let bytes = gzip_tar(|b| {
        good_entries(b);
        append_raw(b, "/tmp/evil", b"x");
    });
    archive_fails("absolute.tgz", bytes, &["/tmp/evil"]);
}

#[test]
fn archive_with_symlink_is_rejected() {
    let bytes = gzip_tar(|b| {
        good_entries(b);
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        header.set_path("demo/templates/link.yaml").unwrap();
        header.set_link_name("/etc/passwd").unwrap();
        header.set_cksum();
        b.append(&header, std::io::empty()).unwrap();
    });
    archive_fails("symlink.tgz", bytes, &["symlink", "link.yaml"]);
}

/// Helm overlays a second Chart.yaml onto the first, and for other files the last copy wins:
/// a reviewer and a tool could each see a different chart, so duplicates are refused.
#[test]
fn archive_with_a_duplicate_entry_is_refused() {
    let bytes = gzip_tar(|b| {
        good_entries(b);
        append_raw(
            b,
            "demo/Chart.yaml",
            b"apiVersion: v2\nname: other\nversion: 9.9.9\n",
        );
    });
    archive_fails("twice.tgz", bytes, &["demo/Chart.yaml", "more than once"]);
    let bytes = gzip_tar(|b| {
        good_entries(b);
        append_raw(b, "./demo//templates/cm.yaml", CONFIGMAP.as_bytes());
    });
    archive_fails(
        "twice.tgz",
        bytes,
        &["demo/templates/cm.yaml", "more than once"],
    );
}

/// testdata/bomb-104mib.tgz: 108 KB that inflates to 104 MiB (26 files of 4 MiB of zeros, each
/// under the per-file limit, so only the whole-archive limit can catch it).
#[test]
fn archive_inflating_past_100_mib_is_rejected() {
    let bytes = std::fs::read(root().join("testdata/bomb-104mib.tgz")).unwrap();
    archive_fails(
        "bomb.tgz",
        bytes,
        &["inflates to more than 100 MiB", "RUDDER_MAX_CHART_SIZE"],
    );
}

// ---- judge: Kubernetes' own OpenAPI schemas (kubernetes-validate) ----

fn python() -> PathBuf {
    match std::env::var_os("RUDDER_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => root().join(".venv/bin/python"),
    }
}

/// Every environment of every example chart renders objects that Kubernetes' published schemas
/// accept in strict mode (unknown fields rejected).
#[test]
fn example_charts_are_valid_kubernetes_in_every_environment() {
    let python = python();
    let probe = std::process::Command::new(&python)
        .args(["-c", "import kubernetes_validate"])
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "the Python judge (kubernetes-validate) is missing at {}: run `make test-deps`",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    for chart in ["web", "redis"] {
        for env in ["dev", "staging", "prod"] {
            let out = rudder(&["template", chart, &format!("charts/{chart}"), "--env", env]);
            assert!(out.status.success(), "{chart} {env}: {}", stderr(&out));
            let file = dir.path().join(format!("{chart}-{env}.yaml"));
            std::fs::write(&file, &out.stdout).unwrap();
            let judged = std::process::Command::new(&python)
                .args([
                    "-m",
                    "kubernetes_validate",
                    "--strict",
                    "--quiet",
                    "-k",
                    "1.33.0",
                ])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                judged.status.success(),
                "{chart} --env {env} is not valid Kubernetes:\n{}{}",
                String::from_utf8_lossy(&judged.stdout),
                String::from_utf8_lossy(&judged.stderr)
            );
        }
    }
}

#[test]
fn kube_version_constraint_of_the_chart_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "demo",
        "apiVersion: v2\nname: demo\nversion: 0.1.0\nengine: tera\nkubeVersion: \">=1.30.0-0\"\n",
        &[("templates/cm.yaml", CONFIGMAP)],
    );
    let path = chart.to_str().unwrap();
    let ok = rudder(&["template", path, "--set", "a=1", "--kube-version", "1.31"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    fails_with(
        &["template", path, "--set", "a=1", "--kube-version", "1.29"],
        &[">=1.30.0-0", "v1.29.0"],
    );
}

#[test]
fn hooks_print_after_manifests_and_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "demo",
        CHART_YAML,
        &[
            ("templates/cm.yaml", CONFIGMAP),
            (
                "templates/migrate.yaml",
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: m\n          image: busybox\n",
            ),
            (
                "templates/test.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers:\n    - name: t\n      image: busybox\n",
            ),
        ],
    );
    let path = chart.to_str().unwrap();
    let all = stdout(&rudder(&["template", path, "--set", "a=1"]));
    let sources: Vec<&str> = all.lines().filter(|l| l.starts_with("# Source:")).collect();
    assert_eq!(
        sources,
        [
            "# Source: demo/templates/cm.yaml",
            "# Source: demo/templates/test.yaml",
            "# Source: demo/templates/migrate.yaml"
        ],
        "manifests first, then hooks in kind order (Pod before Job)"
    );
    let no_tests = stdout(&rudder(&["template", path, "--set", "a=1", "--skip-tests"]));
    assert!(
        !no_tests.contains("smoke") && no_tests.contains("migrate"),
        "{no_tests}"
    );
    let no_hooks = stdout(&rudder(&["template", path, "--set", "a=1", "--no-hooks"]));
    assert!(
        !no_hooks.contains("migrate") && !no_hooks.contains("smoke"),
        "{no_hooks}"
    );
}

/// Each bad input's message reads once: neither the message nor its position is repeated as a
/// `caused by:` line or inside the message itself.
#[test]
fn bad_input_errors_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "badver",
        "apiVersion: v2\nname: badver\nversion: one.two\nengine: tera\n",
        &[("templates/cm.yaml", CONFIGMAP)],
    );
    let values = dir.path().join("broken.yaml");
    std::fs::write(&values, "replicaCount: 2\nimage:\n  tag: [unclosed\n").unwrap();
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["template", chart.to_str().unwrap()],
            "\"one.two\" is not a valid SemVer",
        ),
        (
            vec![
                "template",
                "web",
                "charts/web",
                "-f",
                values.to_str().unwrap(),
            ],
            "broken.yaml:",
        ),
        (
            vec!["template", "web", "charts/web", "--set", "a.b"],
            "--set \"a.b\"",
        ),
        (
            vec!["template", "web", "charts/web", "--env", "qa"],
            "unknown environment \"qa\"",
        ),
    ];
    for (args, needle) in cases {
        let err = fails_with(&args, &[needle]);
        assert_eq!(
            err.matches(needle).count(),
            1,
            "{needle:?} twice in:\n{err}"
        );
        assert!(!err.contains("caused by"), "{err}");
        assert!(
            !err.contains(": line "),
            "position repeated in words: {err}"
        );
    }
}

#[test]
fn get_host_by_name_resolves_only_with_enable_dns() {
    // Helm: `getHostByName` returns "" unless `--enable-dns` is given.
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        "dns",
        "apiVersion: v2\nname: dns\nversion: 0.1.0\n",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dns\ndata:\n  \
             host: {{ getHostByName \"localhost\" | quote }}\n",
        )],
    );
    let chart = chart.to_str().unwrap();
    let off = stdout(&rudder(&["template", "r", chart]));
    assert!(off.contains("host: \"\"\n"), "{off}");
    let on = stdout(&rudder(&["template", "r", chart, "--enable-dns"]));
    assert!(
        on.contains("host: \"127.0.0.1\"\n") || on.contains("host: \"::1\"\n"),
        "{on}"
    );
}
