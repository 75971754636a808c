//! `rudder diff` end to end against the sandbox: the no-noise guarantee after install, live
//! changes, every output format, Secret redaction, and agreement with `kubectl diff --server-side`.

mod common;

use std::collections::BTreeSet;
use std::process::Output;

use common::{ok, stderr, stdout, Sandbox};

const PLANTED: &str = "pl4nted-s3cret-VALUE";

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

fn chart_dir() -> String {
    format!("{}/charts/web", env!("CARGO_MANIFEST_DIR"))
}

fn install_web(sandbox: &Sandbox) {
    let secret = format!("secret.apiKey={PLANTED}");
    ok(&rudder(
        sandbox,
        &[
            "install",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
        ],
    ));
}

#[test]
fn right_after_install_the_same_upgrade_shows_nothing() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let secret = format!("secret.apiKey={PLANTED}");
    let out = rudder(
        &sandbox,
        &[
            "diff",
            "upgrade",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "expected no output");
}

#[test]
fn an_image_change_shows_in_every_format_and_secrets_never_leak() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let new_secret = format!("secret.apiKey={PLANTED}-rotated");
    let ansi = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    for format in ["diff", "simple", "json", "markdown"] {
        let out = rudder(
            &sandbox,
            &[
                "diff",
                "upgrade",
                "web",
                &chart_dir(),
                "--env",
                "dev",
                "--set-string",
                "image.tag=20261126-1530",
                "--set",
                &new_secret,
                "--detailed-exitcode",
                "--output",
                format,
                "--color",
                "always",
            ],
        );
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{format}: {text}\n{}",
            stderr(&out)
        );
        assert!(
            !text.contains(PLANTED),
            "{format} leaked the secret:\n{text}"
        );
        assert!(
            !stderr(&out).contains(PLANTED),
            "{format} leaked the secret on stderr"
        );
        assert!(text.contains("Deployment"), "{format}: {text}");
        match format {
            "diff" => {
                assert!(
                    text.contains("default, web, Deployment (apps) has changed:"),
                    "{text}"
                );
                assert!(text.contains("20261126-1530"), "{text}");
                assert!(
                    text.contains("\u{1b}["),
                    "--color always must color: {text}"
                );
                let plain = ansi.replace_all(&text, "");
                assert!(
                    plain.contains("+   API_KEY: ++++++++ # (28 bytes)"),
                    "{plain}"
                );
                assert!(
                    plain.contains("-   API_KEY: -------- # (20 bytes)"),
                    "{plain}"
                );
            }
            "simple" => assert!(text.contains("~ default, web, Deployment (apps)"), "{text}"),
            "json" => {
                let doc: serde_json::Value = serde_json::from_str(&text).expect("json output");
                assert_eq!(doc["changes"], serde_json::json!(true));
                assert!(doc["summary"]["changed"].as_u64().unwrap() >= 2, "{text}");
            }
            "markdown" => {
                assert!(text.contains("| Object | Action | Lines |"), "{text}");
                assert!(text.contains("```diff"), "{text}");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn a_new_release_is_all_added_with_install_and_an_error_without() {
    let sandbox = Sandbox::start();
    let out = rudder(
        &sandbox,
        &["diff", "upgrade", "fresh", &chart_dir(), "--env", "dev"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fresh"), "{}", stderr(&out));
    let out = rudder(
        &sandbox,
        &[
            "diff",
            "upgrade",
            "fresh",
            &chart_dir(),
            "--env",
            "dev",
            "--install",
            "-o",
            "simple",
        ],
    );
    let text = ok(&out);
    assert!(
        text.contains("+ default, fresh-web, Deployment (apps)"),
        "{text}"
    );
    assert!(!text.contains("~ "), "{text}");
}

#[test]
fn objects_gone_from_the_chart_show_as_removed_live_and_from_release() {
    let sandbox = Sandbox::start();
    let secret = format!("secret.apiKey={PLANTED}");
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "web",
            &chart_dir(),
            "--env",
            "prod",
            "--set",
            &secret,
        ],
    ));
    // prod turns autoscaling on; dev has no HorizontalPodAutoscaler.
    let chart = chart_dir();
    for mode in [None, Some("--from-release")] {
        let mut args = vec![
            "diff", "upgrade", "web", &chart, "--env", "dev", "--set", &secret, "-o", "simple",
        ];
        args.extend(mode);
        let text = ok(&rudder(&sandbox, &args));
        assert!(
            text.contains("- default, web, HorizontalPodAutoscaler (autoscaling)"),
            "{mode:?}: {text}"
        );
        assert!(
            text.contains("~ default, web, Deployment (apps)"),
            "{mode:?}: {text}"
        );
        assert!(!text.contains(PLANTED));
    }
}

#[test]
fn diff_revision_and_rollback_compare_stored_and_live_state() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let secret = format!("secret.apiKey={PLANTED}");
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
            "--set-string",
            "image.tag=2.0.0",
        ],
    ));
    let out = rudder(
        &sandbox,
        &["diff", "revision", "web", "1", "2", "--detailed-exitcode"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains("2.0.0"), "{}", stdout(&out));
    let out = rudder(&sandbox, &["diff", "rollback", "web", "1", "-o", "simple"]);
    let text = ok(&out);
    assert!(text.contains("~ default, web, Deployment (apps)"), "{text}");
    assert!(!text.contains(PLANTED));
}

#[test]
fn envs_and_charts_need_no_cluster() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args([
            "diff",
            "envs",
            &chart_dir(),
            "dev",
            "prod",
            "-o",
            "simple",
            "--detailed-exitcode",
        ])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run rudder");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("+ , release-name-web, HorizontalPodAutoscaler (autoscaling)"),
        "{text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args([
            "diff",
            "charts",
            &chart_dir(),
            &chart_dir(),
            "--detailed-exitcode",
        ])
        .output()
        .expect("run rudder");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

/// The rendered objects as one JSON List, with the ownership metadata rudder stamps on apply.
fn stamped_list(manifest: &str) -> String {
    let mut items = Vec::new();
    for doc in manifest.split("\n---") {
        let object = rudder::yaml::from_str(doc).expect("rendered YAML");
        if object.is_null() {
            continue;
        }
        let mut object = object;
        object["metadata"]["namespace"] = "default".into();
        object["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm".into();
        object["metadata"]["annotations"]["meta.helm.sh/release-name"] = "web".into();
        object["metadata"]["annotations"]["meta.helm.sh/release-namespace"] = "default".into();
        items.push(object);
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

/// The objects `kubectl diff --server-side` reports as changed are the ones rudder reports.
#[test]
fn changed_objects_agree_with_kubectl_diff_server_side() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let secret = format!("secret.apiKey={PLANTED}");
    let args = [
        "template",
        "web",
        &chart_dir(),
        "--env",
        "dev",
        "--set",
        &secret,
        "--set-string",
        "image.tag=3.1.4",
        "--set",
        "config.LOG_LEVEL=debug",
    ];
    let manifest = ok(&rudder(&sandbox, &args));
    let out = rudder(
        &sandbox,
        &[
            "diff",
            "upgrade",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
            "--set-string",
            "image.tag=3.1.4",
            "--set",
            "config.LOG_LEVEL=debug",
            "-o",
            "json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&ok(&out)).expect("json");
    let ours: BTreeSet<String> = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["action"] == "changed")
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    let kubectl = sandbox.kubectl_stdin(
        &[
            "diff",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            "rudder",
            "-n",
            "default",
            "-f",
            "-",
        ],
        &stamped_list(&manifest),
    );
    let theirs: BTreeSet<String> = stdout(&kubectl)
        .lines()
        .filter_map(|l| l.strip_prefix("+++ "))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|path| path.rsplit('/').next())
        .filter_map(|file| {
            // kubectl names files GROUP.VERSION.KIND.NAMESPACE.NAME
            let parts: Vec<&str> = file.split('.').collect();
            let n = parts.len();
            (n >= 4).then(|| format!("{}/{}", parts[n - 3], parts[n - 1]))
        })
        .collect();
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs, "kubectl diff said:\n{}", stdout(&kubectl));
}
