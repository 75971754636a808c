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
                    text.contains(&sandbox.ns("default, web, Deployment (apps) has changed:")),
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
            "simple" => assert!(
                text.contains(&sandbox.ns("~ default, web, Deployment (apps)")),
                "{text}"
            ),
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
        text.contains(&sandbox.ns("+ default, fresh-web, Deployment (apps)")),
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
            text.contains(&sandbox.ns("- default, web, HorizontalPodAutoscaler (autoscaling)")),
            "{mode:?}: {text}"
        );
        assert!(
            text.contains(&sandbox.ns("~ default, web, Deployment (apps)")),
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
    assert!(
        text.contains(&sandbox.ns("~ default, web, Deployment (apps)")),
        "{text}"
    );
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
        text.contains("+ default, release-name-web, HorizontalPodAutoscaler (autoscaling)"),
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
fn stamped_list(manifest: &str, namespace: &str) -> String {
    let mut items = Vec::new();
    for doc in manifest.split("\n---") {
        let object = rudder::yaml::from_str(doc).expect("rendered YAML");
        if object.is_null() {
            continue;
        }
        let mut object = object;
        object["metadata"]["namespace"] = namespace.into();
        object["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm".into();
        object["metadata"]["annotations"]["meta.helm.sh/release-name"] = "web".into();
        object["metadata"]["annotations"]["meta.helm.sh/release-namespace"] = namespace.into();
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
            &sandbox.namespace,
            "-f",
            "-",
        ],
        &stamped_list(&manifest, &sandbox.namespace),
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

// ---------------------------------------------------------------------------------------------
// Snapshots of every output format. Update with `INSTA_UPDATE=always cargo test --test diff`
// (or `cargo insta review`), then read the change before committing it.

const FIXTURE_SECRETS: [&str; 3] = [
    "pl4nted-fixture-PASSWORD",
    "fixture-token-1",
    "fixture-token-2-rotated",
];

fn fixture(name: &str) -> String {
    format!("{}/testdata/diff/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Escape sequences made visible, so a colored snapshot reads as text.
fn visible_escapes(text: &str) -> String {
    text.replace('\u{1b}', "\\e")
}

fn assert_no_fixture_secret(what: &str, out: &Output) {
    for secret in FIXTURE_SECRETS {
        assert!(
            !stdout(out).contains(secret) && !stderr(out).contains(secret),
            "{what} leaked {secret}:\n{}{}",
            stdout(out),
            stderr(out)
        );
    }
}

const FORMATS: [(&str, &[&str]); 5] = [
    ("diff", &["-o", "diff", "--color", "never"]),
    ("diff_color", &["-o", "diff", "--color", "always"]),
    ("simple", &["-o", "simple", "--color", "never"]),
    ("json", &["-o", "json"]),
    ("markdown", &["-o", "markdown"]),
];

#[test]
fn snapshots_of_diff_charts_in_every_format() {
    for (name, flags) in FORMATS {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(["diff", "charts", &fixture("shop-v1"), &fixture("shop-v2")])
            .args(["--release", "shop", "-n", "shop", "--detailed-exitcode"])
            .args(flags)
            .env_remove("NO_COLOR")
            .output()
            .expect("run rudder");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert_no_fixture_secret(name, &out);
        insta::assert_snapshot!(format!("charts_{name}"), visible_escapes(&stdout(&out)));
    }
}

#[test]
fn snapshot_of_diff_envs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args([
            "diff",
            "envs",
            &chart_dir(),
            "staging",
            "prod",
            "--color",
            "never",
        ])
        .args(["--set", &format!("secret.apiKey={PLANTED}")])
        .output()
        .expect("run rudder");
    let text = ok(&out);
    assert!(!text.contains(PLANTED) && !stderr(&out).contains(PLANTED));
    insta::assert_snapshot!("envs_staging_prod", text);
}

/// Server-assigned values that differ between runs (cluster IPs) made stable.
fn normalise_live(text: &str) -> String {
    let ip = regex::Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").unwrap();
    ip.replace_all(text, "<ip>").into_owned()
}

#[test]
fn snapshots_of_a_live_upgrade_diff() {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "shop", &fixture("shop-v1"), "--wait"],
    ));
    let v2 = fixture("shop-v2");
    for (name, flags) in FORMATS {
        let mut args = vec!["diff", "upgrade", "shop", &v2[..], "--detailed-exitcode"];
        args.extend_from_slice(flags);
        let out = sandbox
            .rudder()
            .args(&args)
            .env_remove("NO_COLOR")
            .output()
            .expect("run rudder");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert_no_fixture_secret(name, &out);
        insta::assert_snapshot!(
            format!("live_upgrade_{name}"),
            visible_escapes(&normalise_live(&sandbox.unns(&stdout(&out))))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hooks.

#[test]
fn hooks_are_diffed_unless_no_hooks() {
    let charts = [fixture("shop-v1"), fixture("shop-v2")];
    let local = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
            .args(["diff", "charts", &charts[0], &charts[1], "-o", "simple"])
            .args(["--release", "shop"])
            .args(extra)
            .output()
            .expect("run rudder");
        ok(&out)
    };
    let text = local(&[]);
    assert!(
        text.contains("~ default, shop-migrate, Job (batch) (hook)"),
        "{text}"
    );
    // Hooks are recreated when they run: an immutable field of a hook is no problem.
    assert!(!text.contains("immutable"), "{text}");
    assert!(
        !text.contains("shop-test"),
        "test hooks need --include-tests: {text}"
    );
    let text = local(&["--no-hooks"]);
    assert!(!text.contains("shop-migrate"), "{text}");
    assert!(
        text.contains("~ default, shop, Deployment (apps)"),
        "{text}"
    );
    let text = local(&["--include-tests"]);
    assert!(text.contains("shop-migrate"), "{text}");

    let sandbox = Sandbox::start();
    ok(&rudder(&sandbox, &["install", "shop", &charts[0]]));
    let live = |extra: &[&str]| {
        let mut args = vec!["diff", "upgrade", "shop", &charts[1][..], "-o", "json"];
        args.extend_from_slice(extra);
        let doc: serde_json::Value =
            serde_json::from_str(&ok(&rudder(&sandbox, &args))).expect("json");
        doc["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["hook"] == true)
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(live(&[]), vec!["Job/shop-migrate".to_string()]);
    assert!(live(&["--no-hooks"]).is_empty());
    assert!(live(&["--from-release"]).contains(&"Job/shop-migrate".to_string()));
}

// ---------------------------------------------------------------------------------------------
// Review, then apply exactly what was reviewed.

fn deployed_image(sandbox: &Sandbox, name: &str) -> String {
    let out = sandbox.kubectl(&[
        "get",
        "deployment",
        name,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    ok(&out)
}

fn save_plan(sandbox: &Sandbox, plan: &str, tag: &str) -> Output {
    let secret = format!("secret.apiKey={PLANTED}");
    let tag = format!("image.tag={tag}");
    rudder(
        sandbox,
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
            &tag,
            "--save-plan",
            plan,
        ],
    )
}

#[test]
fn a_saved_plan_applies_exactly_and_only_against_its_revision() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start();
    let secret = format!("secret.apiKey={PLANTED}");
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
            "--wait",
        ],
    ));
    let plan = sandbox.dir.join("plan.json");
    let plan = plan.to_str().unwrap();
    let out = save_plan(&sandbox, plan, "7.7.7");
    let text = ok(&out);
    assert!(text.contains("7.7.7"), "{text}");
    assert!(!text.contains(PLANTED) && !stderr(&out).contains(PLANTED));
    assert!(stderr(&out).contains("mode 0600"), "{}", stderr(&out));
    let mode = std::fs::metadata(plan).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the plan holds Secret data: it must be private"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    assert_eq!(doc["kind"], "UpgradePlan");
    assert_eq!(doc["release"]["baseRevision"], 1);
    assert!(doc["valuesDigest"].as_str().unwrap().starts_with("sha256:"));
    assert!(doc["chart"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let deployment = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment is planned");
    assert!(
        deployment["liveResourceVersion"].is_string(),
        "{deployment}"
    );

    // The plan fixes chart and values: nothing else is needed, nothing else is accepted.
    let out = rudder(
        &sandbox,
        &["upgrade", "web", "--plan", plan, "--set", "a=b"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--plan"), "{}", stderr(&out));
    let out = rudder(&sandbox, &["upgrade", "other", "--plan", plan]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("release web"), "{}", stderr(&out));

    ok(&rudder(&sandbox, &["upgrade", "web", "--plan", plan]));
    assert!(deployed_image(&sandbox, "web").ends_with(":7.7.7"));
    let history = ok(&rudder(&sandbox, &["history", "web", "-o", "json"]));
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[1]["status"], "deployed");

    // The same upgrade now changes nothing.
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
            "image.tag=7.7.7",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // The release moved on: the old plan is refused, before any write.
    let mark = sandbox.mark_requests();
    let out = rudder(&sandbox, &["upgrade", "web", "--plan", plan]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("computed against revision 1, the latest is now revision 2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sandbox.writes_since(&mark), Vec::<String>::new());
}

#[test]
fn a_plan_is_refused_naming_objects_changed_since_and_nothing_is_written() {
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
            "--wait",
        ],
    ));
    let plan = sandbox.dir.join("plan.json");
    let plan = plan.to_str().unwrap();
    // Planned against prod with the dev overlay: the HPA leaves the chart (a planned removal).
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
            "image.tag=8.8.8",
            "-o",
            "simple",
            "--save-plan",
            plan,
        ],
    );
    assert!(ok(&out).contains(&sandbox.ns("- default, web, HorizontalPodAutoscaler")));
    ok(&sandbox.kubectl(&["annotate", "configmap", "web", "reviewed=no"]));
    ok(&sandbox.kubectl(&["delete", "horizontalpodautoscaler", "web"]));
    let before = deployed_image(&sandbox, "web");

    let mark = sandbox.mark_requests();
    let out = rudder(&sandbox, &["upgrade", "web", "--plan", plan]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    assert!(
        err.contains("2 object(s) changed in the cluster since the plan"),
        "{err}"
    );
    assert!(
        err.contains(&sandbox.ns("ConfigMap default/web: changed (resourceVersion")),
        "{err}"
    );
    assert!(
        err.contains(
            &sandbox.ns("HorizontalPodAutoscaler default/web: deleted since the plan was made")
        ),
        "{err}"
    );
    assert!(!err.contains(PLANTED));
    assert_eq!(sandbox.writes_since(&mark), Vec::<String>::new());
    assert_eq!(deployed_image(&sandbox, "web"), before);
    let history = ok(&rudder(&sandbox, &["history", "web", "-o", "json"]));
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}

// ---------------------------------------------------------------------------------------------
// `rudder upgrade --diff [--confirm]`.

/// Runs `rudder ARGS` on a pseudo-terminal (util-linux `script`), typing `answer`.
fn rudder_on_a_terminal(sandbox: &Sandbox, args: &[&str], answer: &str) -> Output {
    use std::io::Write;
    let mut line = String::from(env!("CARGO_BIN_EXE_rudder"));
    for arg in args {
        line.push_str(&format!(" '{}'", arg.replace('\'', r"'\''")));
    }
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("KUBECONFIG", &sandbox.kubeconfig)
        .env("HOME", &sandbox.dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    child.wait_with_output().expect("wait for script")
}

#[test]
fn upgrade_diff_confirm_asks_on_a_terminal_and_never_hangs_without_one() {
    let sandbox = Sandbox::start();
    let secret = format!("secret.apiKey={PLANTED}");
    ok(&rudder(
        &sandbox,
        &[
            "install",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &secret,
            "--wait",
        ],
    ));
    let args = |tag: &'static str| {
        vec![
            "upgrade".to_string(),
            "web".into(),
            chart_dir(),
            "--env".into(),
            "dev".into(),
            "--set".into(),
            secret.clone(),
            "--set-string".into(),
            format!("image.tag={tag}"),
            "--diff".into(),
            "--confirm".into(),
        ]
    };
    let revisions = |sandbox: &Sandbox| {
        let text = ok(&rudder(sandbox, &["history", "web", "-o", "json"]));
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };

    // No terminal: a clear error, no question, no change.
    let a = args("5.0.0");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = sandbox
        .rudder()
        .args(&a)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run rudder");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("stdin is not a terminal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(revisions(&sandbox), 1);

    // A terminal, answer no: the diff was shown, nothing changed.
    let out = rudder_on_a_terminal(&sandbox, &a, "n\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&sandbox.ns("default, web, Deployment (apps) has changed:")),
        "{text}"
    );
    assert!(
        text.contains("+         image: nginxinc/nginx-unprivileged:5.0.0"),
        "{text}"
    );
    assert!(text.contains("[y/N]"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!text.contains(PLANTED), "{text}");
    assert_eq!(revisions(&sandbox), 1);

    // Answer yes: applied.
    let out = rudder_on_a_terminal(&sandbox, &a, "y\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("has been upgraded"), "{text}");
    assert!(!text.contains(PLANTED), "{text}");
    assert_eq!(revisions(&sandbox), 2);
    assert!(deployed_image(&sandbox, "web").ends_with(":5.0.0"));

    // --diff alone prints the same diff and applies.
    let out = rudder(
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
            "image.tag=5.0.1",
            "--diff",
        ],
    );
    let text = ok(&out);
    assert!(
        text.contains("-         image: nginxinc/nginx-unprivileged:5.0.0"),
        "{text}"
    );
    assert!(
        text.contains("+         image: nginxinc/nginx-unprivileged:5.0.1"),
        "{text}"
    );
    assert!(!text.contains(PLANTED) && !stderr(&out).contains(PLANTED));
    assert_eq!(revisions(&sandbox), 3);
}

// ---------------------------------------------------------------------------------------------
// Secrets never leak, in every subcommand and format; the Markdown cap holds on a big release.

#[test]
fn a_planted_secret_never_leaks_from_any_subcommand_or_format() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let rotated = format!("secret.apiKey={PLANTED}-rotated");
    ok(&rudder(
        &sandbox,
        &[
            "upgrade",
            "web",
            &chart_dir(),
            "--env",
            "dev",
            "--set",
            &rotated,
        ],
    ));
    let chart = chart_dir();
    let upgrade = [
        "diff", "upgrade", "web", &chart, "--env", "prod", "--set", &rotated,
    ];
    let from_release = [
        "diff",
        "upgrade",
        "web",
        &chart,
        "--env",
        "prod",
        "--set",
        &rotated,
        "--from-release",
    ];
    let rollback = ["diff", "rollback", "web", "1"];
    let revision = ["diff", "revision", "web", "1", "2"];
    let envs = ["diff", "envs", &chart, "dev", "prod", "--set", &rotated];
    let subcommands: [&[&str]; 5] = [&upgrade, &from_release, &rollback, &revision, &envs];
    for subcommand in subcommands {
        for format in ["diff", "simple", "json", "markdown"] {
            let out = sandbox
                .rudder()
                .args(subcommand)
                .args(["-o", format, "--color", "always"])
                .output()
                .expect("run rudder");
            assert!(
                out.status.success(),
                "{subcommand:?} {format}: {}",
                stderr(&out)
            );
            for text in [stdout(&out), stderr(&out)] {
                assert!(
                    !text.contains(PLANTED),
                    "{subcommand:?} -o {format} leaked:\n{text}"
                );
            }
        }
    }
}

#[test]
fn markdown_of_a_300_object_release_stays_under_the_comment_limit() {
    let sandbox = Sandbox::start();
    let chart = format!("{}/testdata/bench/chart-300", env!("CARGO_MANIFEST_DIR"));
    let out = rudder(
        &sandbox,
        &[
            "diff",
            "upgrade",
            "big",
            &chart,
            "--install",
            "-o",
            "markdown",
        ],
    );
    let text = ok(&out);
    assert!(
        text.chars().count() <= 60_000,
        "{} characters",
        text.chars().count()
    );
    assert!(
        text.contains("**0 changed, 300 added, 0 removed, 0 unchanged**"),
        "{}",
        &text[..300]
    );
    assert!(
        text.contains("> **Output cut:**"),
        "no note saying what was cut"
    );
    // Every object is still in the summary table.
    assert_eq!(text.matches("| added |").count(), 300);
}

#[test]
fn suppressed_changes_are_shown_as_such_but_never_counted() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let secret = format!("secret.apiKey={PLANTED}");
    let chart = chart_dir();
    let base = [
        "diff",
        "upgrade",
        "web",
        &chart,
        "--env",
        "dev",
        "--set",
        &secret,
        "--set-string",
        "image.tag=4.0.0",
        "--detailed-exitcode",
    ];
    let run = |extra: &[&str]| {
        sandbox
            .rudder()
            .args(base)
            .args(extra)
            .output()
            .expect("run rudder")
    };
    assert_eq!(run(&[]).status.code(), Some(2));
    let out = run(&["--suppress", "Deployment", "-o", "simple"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(&sandbox.ns("~ default, web, Deployment (apps) (suppressed)")));
    let out = run(&["--suppress-output-line-regex", "image:|checksum/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("has changed, but diff is empty after suppression."),
        "{}",
        stdout(&out)
    );
    let out = run(&["--ignore-path", "spec.template", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn an_immutable_field_change_is_flagged_in_every_format_and_the_upgrade_does_fail() {
    let sandbox = Sandbox::start();
    install_web(&sandbox);
    let secret = format!("secret.apiKey={PLANTED}");
    let chart = chart_dir();
    // Same object names, another `app.kubernetes.io/name`: the Deployment's selector changes.
    let args = [
        "web",
        &chart,
        "--env",
        "dev",
        "--set",
        &secret,
        "--set",
        "fullnameOverride=web",
        "--set",
        "nameOverride=site",
    ];
    let expected = [
        ("diff", "! immutable field spec.selector changes"),
        (
            "simple",
            "~ default, web, Deployment (apps) (immutable spec.selector)",
        ),
        ("json", "\"spec.selector\""),
        ("markdown", "immutable: spec.selector"),
    ];
    for (format, flag) in expected {
        let out = sandbox
            .rudder()
            .args(["diff", "upgrade"])
            .args(args)
            .args(["-o", format])
            .output()
            .expect("run rudder");
        let text = ok(&out);
        assert!(text.contains(&sandbox.ns(flag)), "{format}:\n{text}");
        assert!(!text.contains(PLANTED));
    }
    let out = sandbox
        .rudder()
        .arg("upgrade")
        .args(args)
        .output()
        .expect("run rudder");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("spec.selector"), "{}", stderr(&out));
}
