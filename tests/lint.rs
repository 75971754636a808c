//! `rudder lint` end to end.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn rudder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUDDER_ENV")
        .output()
        .expect("rudder runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write_chart(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join("demo");
    for (path, body) in files {
        let path = chart.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    chart
}

const CHART_YAML: &str =
    "apiVersion: v2\nname: demo\nversion: 0.1.0\ndescription: lint fixture\nengine: tera\n";

#[test]
fn example_charts_lint_clean_in_every_environment() {
    for chart in ["charts/web", "charts/redis"] {
        let out = rudder(&["lint", chart]);
        let report = text(&out);
        assert!(out.status.success(), "{report}");
        assert!(
            report.contains("0 error(s), 0 warning(s) in (no overlay), dev, prod, staging"),
            "{report}"
        );
        assert!(!report.contains("warning:"), "{report}");
    }
}

#[test]
fn removed_api_version_is_an_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        &[
            ("Chart.yaml", CHART_YAML),
            ("values.yaml", "host: a.example.com\n"),
            (
                "templates/ingress.yaml",
                "# legacy ingress\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: old\nspec:\n  rules:\n    - host: {{ Values.host }}\n",
            ),
        ],
    );
    let out = rudder(&["lint", chart.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("demo/templates/ingress.yaml:2: error: extensions/v1beta1 Ingress was removed in Kubernetes 1.22"),
        "{report}"
    );
    assert!(report.contains("networking.k8s.io/v1"), "{report}");
}

#[test]
fn duplicate_resources_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n";
    let chart = write_chart(
        dir.path(),
        &[
            ("Chart.yaml", CHART_YAML),
            ("templates/a.yaml", cm),
            ("templates/b.yaml", cm),
        ],
    );
    let out = rudder(&["lint", chart.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("demo/templates/b.yaml:4: error: duplicate resource ConfigMap default/same (first defined at demo/templates/a.yaml:4)"), "{report}");
}

#[test]
fn each_environment_is_rendered_and_named_in_findings() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        &[
            ("Chart.yaml", CHART_YAML),
            ("values.yaml", "name: ok\n"),
            ("values/dev.yaml", "name: dev\n"),
            ("values/prod.yaml", "name: \"\"\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ Values.name | required(message=\"name is required\") }}\n",
            ),
        ],
    );
    let out = rudder(&["lint", chart.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("name is required [env prod]"), "{report}");
    assert!(!report.contains("[env dev]"), "{report}");
    let only_dev = rudder(&["lint", chart.to_str().unwrap(), "--env", "dev"]);
    assert!(only_dev.status.success(), "{}", text(&only_dev));
}

#[test]
fn bad_chart_yaml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(
        dir.path(),
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 1.0\nengine: tera\n",
        )],
    );
    let out = rudder(&["lint", chart.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("Chart.yaml"), "{report}");
    assert!(report.contains("1.0"), "{report}");
}
