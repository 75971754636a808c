//! `rudder create`, `show` and `completion` end to end.

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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn created_chart_templates_and_lints_clean_in_every_environment() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("shop");
    let path = chart.to_str().unwrap();
    let out = rudder(&["create", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let chart_yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    assert!(chart_yaml.contains("name: shop") && chart_yaml.contains("engine: tera"));
    for env in ["dev", "staging", "prod"] {
        assert!(chart.join(format!("values/{env}.yaml")).is_file(), "{env}");
        let out = rudder(&["template", "shop", path, "--env", env]);
        assert!(out.status.success(), "{env}: {}", stderr(&out));
        assert!(stdout(&out).contains("kind: Deployment"));
    }
    let prod = stdout(&rudder(&["template", "shop", path, "--env", "prod"]));
    assert!(prod.contains("host: \"shop.example.com\""), "{prod}");
    let lint = rudder(&["lint", path]);
    assert!(lint.status.success(), "{}{}", stdout(&lint), stderr(&lint));

    let again = rudder(&["create", path]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn create_rejects_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = rudder(&["create", dir.path().join("Bad_Name").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("\"Bad_Name\" is invalid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn show_prints_chart_values_and_readme() {
    let chart = stdout(&rudder(&["show", "chart", "charts/web"]));
    assert!(
        chart.contains("name: web") && chart.contains("engine: tera"),
        "{chart}"
    );
    let values = stdout(&rudder(&["show", "values", "charts/web"]));
    assert!(
        values.contains("# CI sets the tag"),
        "comments kept: {values}"
    );
    let readme = stdout(&rudder(&["show", "readme", "charts/redis"]));
    assert!(readme.starts_with("# redis"), "{readme}");
    let missing = rudder(&["show", "chart", "charts/nope"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("charts/nope"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn completion_scripts_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef rudder"),
        ("fish", "complete -c rudder"),
    ] {
        let out = rudder(&["completion", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("template"), "{shell} completes subcommands");
    }
}
