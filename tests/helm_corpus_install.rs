//! A real-world Helm chart from the corpus (`RUDDER_CORPUS`, by default `../shared/corpus`)
//! installed end to end into `rudder sandbox`: bitnami redis with the corpus's values, as
//! `rudder install`, `diff upgrade`, `upgrade` and `uninstall`. Judges: kubectl sees the objects,
//! Helm 4's SDK (`helm_python`) reads the release rudder stored and finds the manifest `helm
//! template` made (the corpus's `expected.yaml`), and the chart's `lookup` of its own Secret keeps
//! the generated password across the upgrade.
//!
//! Like `helm_corpus`, it needs the corpus, so it is `#[ignore]`d in a plain `cargo test` and run
//! by `make conformance` (`scripts/conformance.sh`), which `make test` runs when the corpus exists.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{ok, Sandbox};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("RUDDER_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

/// A manifest split into `# Source:` path → documents from that template.
fn documents_by_source(manifest: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chunk in manifest.split("---\n") {
        let Some(rest) = chunk.strip_prefix("# Source: ") else {
            continue;
        };
        let (source, body) = rest.split_once('\n').unwrap_or((rest, ""));
        out.entry(source.to_string())
            .or_default()
            .push(body.trim_end().to_string());
    }
    out
}

/// (kind, name) of every object in a manifest.
fn objects(manifest: &str) -> Vec<(String, String)> {
    let docs = rudder::yaml::from_str_multi(manifest).expect("the manifest is YAML");
    docs.iter()
        .filter(|d| d.is_object())
        .map(|d| {
            (
                d["kind"].as_str().expect("kind").to_string(),
                d["metadata"]["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

fn redis_password(sandbox: &Sandbox, namespace: &str, secret: &str) -> String {
    ok(&sandbox.kubectl(&[
        "get",
        "secret",
        secret,
        "-n",
        namespace,
        "-o",
        "jsonpath={.data.redis-password}",
    ]))
}

/// The release as Helm 4's SDK reads it from the cluster.
fn helm_status(sandbox: &Sandbox, name: &str, namespace: &str) -> Value {
    let script = format!(
        "import helm_python, json, os\n\
         cfg = helm_python.Config(kubeconfig_path=os.environ['KUBECONFIG'], namespace={namespace:?})\n\
         print(json.dumps(cfg.status({name:?}), default=str))\n"
    );
    let out = sandbox.python(&script);
    let text = ok(&out);
    serde_json::from_str(text.lines().last().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("the Helm judge printed {text:?}: {e} (run `make test-deps`)"))
}

#[test]
#[ignore = "needs the Helm chart corpus: run `make conformance` (RUDDER_CORPUS)"]
fn bitnami_redis_installs_upgrades_and_uninstalls() {
    let corpus = corpus_dir();
    assert!(
        corpus.join("INDEX.json").exists(),
        "the Helm chart corpus is missing at {} (set RUDDER_CORPUS)",
        corpus.display()
    );
    let chart = corpus.join("charts/redis");
    let case = corpus.join("cases/redis/sentinel");
    let release: Value = serde_json::from_str(
        &std::fs::read_to_string(case.join("release.json")).expect("read release.json"),
    )
    .expect("release.json is JSON");
    let name = release["name"].as_str().expect("release name");
    let namespace = release["namespace"].as_str().expect("release namespace");
    let expected = std::fs::read_to_string(case.join("expected.yaml")).expect("read expected");
    let values = case.join("values.yaml");
    let chart_arg = chart.to_str().expect("a UTF-8 corpus path");
    let values_arg = values.to_str().expect("a UTF-8 corpus path");

    let sandbox = Sandbox::start();
    let rudder = |args: &[&str]| {
        let out = sandbox.rudder().args(args).output().expect("run rudder");
        ok(&out)
    };
    rudder(&[
        "install",
        name,
        chart_arg,
        "-n",
        namespace,
        "--create-namespace",
        "-f",
        values_arg,
    ]);

    // Every object `helm template` renders for this case exists in the cluster.
    let wanted = objects(&expected);
    assert!(wanted.len() > 5, "the case renders objects: {wanted:?}");
    for (kind, object) in &wanted {
        let got = ok(&sandbox.kubectl(&[
            "get",
            &format!("{kind}/{object}"),
            "-n",
            namespace,
            "-o",
            "name",
        ]));
        assert!(!got.trim().is_empty(), "{kind}/{object} is missing");
    }

    // Helm reads the release rudder stored, and its manifest is what `helm template` rendered
    // (templates that print random data compared by their objects only).
    let status = helm_status(&sandbox, name, namespace);
    assert_eq!(status["status"], "deployed", "{status}");
    assert_eq!(status["chart_name"], "redis");
    let manifest = status["manifest"].as_str().expect("a manifest");
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("INDEX.json")).expect("read INDEX.json"),
    )
    .expect("INDEX.json is JSON");
    let random: Vec<&str> = index
        .as_array()
        .expect("INDEX.json is a list")
        .iter()
        .find(|e| e["chart"] == "redis")
        .and_then(|e| e["case_details"]["sentinel"]["nondeterministic_templates"].as_array())
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let stored = documents_by_source(manifest);
    let rendered = documents_by_source(&expected);
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        rendered.keys().collect::<Vec<_>>()
    );
    for (source, docs) in &rendered {
        if !random.contains(&source.as_str()) {
            assert_eq!(&stored[source], docs, "{source} differs from helm template");
        }
    }
    let mut stored_objects = objects(manifest);
    let mut wanted_sorted = wanted.clone();
    stored_objects.sort();
    wanted_sorted.sort();
    assert_eq!(stored_objects, wanted_sorted);

    // The chart keeps its generated password through `lookup` of its own Secret: a live lookup
    // during `diff upgrade` and `upgrade` renders the same Secret, so nothing changes.
    let secret = wanted
        .iter()
        .find(|(kind, _)| kind == "Secret")
        .map(|(_, object)| object.clone())
        .expect("the chart renders its password Secret");
    let password = redis_password(&sandbox, namespace, &secret);
    assert!(!password.is_empty());
    let diff = sandbox
        .rudder()
        .args([
            "diff", "upgrade", name, chart_arg, "-n", namespace, "-f", values_arg,
        ])
        .arg("--detailed-exitcode")
        .output()
        .expect("run rudder diff");
    assert_eq!(
        diff.status.code(),
        Some(0),
        "diff upgrade finds changes:\n{}{}",
        common::stdout(&diff),
        common::stderr(&diff)
    );
    rudder(&[
        "upgrade", name, chart_arg, "-n", namespace, "-f", values_arg,
    ]);
    assert_eq!(redis_password(&sandbox, namespace, &secret), password);
    assert_eq!(helm_status(&sandbox, name, namespace)["revision"], 2);

    rudder(&["uninstall", name, "-n", namespace]);
    for (kind, object) in &wanted {
        let left = sandbox.kubectl(&[
            "get",
            &format!("{kind}/{object}"),
            "-n",
            namespace,
            "-o",
            "name",
            "--ignore-not-found",
        ]);
        assert_eq!(
            ok(&left).trim(),
            "",
            "{kind}/{object} is left after uninstall"
        );
    }
    let releases = ok(&sandbox.kubectl(&[
        "get",
        "secrets",
        "-n",
        namespace,
        "-l",
        &format!("owner=helm,name={name}"),
        "-o",
        "name",
    ]));
    assert_eq!(releases.trim(), "", "release records are left: {releases}");
}
