//! Conformance against Helm 4.2.3: every case of the Helm chart corpus (`RUDDER_CORPUS`, by
//! default `../shared/corpus`) rendered with the real `rudder template` and compared with
//! `helm template`'s output byte for byte (structurally for templates the corpus marks random).
//!
//! `make conformance` runs it (`cargo test --test helm_corpus -- --ignored --nocapture`); it
//! prints the pass rate and, per failing case, the first differing line. The minimum pass rates
//! are `RUDDER_CONFORMANCE_MIN_RENDERED` (default 100) and `RUDDER_CONFORMANCE_MIN_IDENTICAL`
//! (default 95), in percent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("RUDDER_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One case of the corpus.
struct Case {
    id: String,
    chart_dir: PathBuf,
    case_dir: PathBuf,
    release: String,
    namespace: String,
    nondeterministic: Vec<String>,
}

fn cases(corpus: &Path) -> Vec<Case> {
    let index = read_json(&corpus.join("INDEX.json"));
    let mut out = Vec::new();
    for entry in index.as_array().expect("INDEX.json is a list") {
        let chart = entry["chart"].as_str().expect("chart name");
        for case in entry["cases"].as_array().expect("cases") {
            let case = case.as_str().expect("case name");
            let case_dir = corpus.join("cases").join(chart).join(case);
            let release = read_json(&case_dir.join("release.json"));
            let nondeterministic = entry["case_details"][case]["nondeterministic_templates"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Case {
                id: format!("{chart}/{case}"),
                chart_dir: corpus.join("charts").join(chart),
                case_dir,
                release: release["name"]
                    .as_str()
                    .unwrap_or("release-name")
                    .to_string(),
                namespace: release["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string(),
                nondeterministic,
            });
        }
    }
    out
}

/// `helm template` output split into (source path, document text) pairs.
fn documents(output: &str) -> Vec<(String, String)> {
    let mut docs = Vec::new();
    for chunk in output.split("---\n") {
        if chunk.trim().is_empty() {
            continue;
        }
        let source = chunk
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# Source: "))
            .unwrap_or("")
            .to_string();
        docs.push((source, chunk.to_string()));
    }
    docs
}

/// The shape of a YAML value: kinds and keys, not scalar contents.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => Value::String("string".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::Bool(_) => Value::String("bool".into()),
        Value::Null => Value::Null,
    }
}

fn same_structure(got: &str, want: &str) -> bool {
    let parse = |s: &str| rudder::yaml::from_str(s).ok().map(|v| shape(&v));
    match (parse(got), parse(want)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn first_difference(got: &str, want: &str) -> String {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let i = (0..g.len().max(w.len()))
        .find(|i| g.get(*i) != w.get(*i))
        .unwrap_or(0);
    format!(
        "line {}:\n      rudder: {:?}\n      helm:   {:?}",
        i + 1,
        g.get(i).copied().unwrap_or("<end of output>"),
        w.get(i).copied().unwrap_or("<end of output>")
    )
}

/// Compares outputs: byte for byte, except random templates' documents structurally.
fn compare(got: &str, want: &str, nondeterministic: &[String]) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    if nondeterministic.is_empty() {
        return Err(first_difference(got, want));
    }
    let (g, w) = (documents(got), documents(want));
    if g.len() != w.len() {
        return Err(format!(
            "{} documents, helm printed {}; {}",
            g.len(),
            w.len(),
            first_difference(got, want)
        ));
    }
    for ((gs, gd), (ws, wd)) in g.iter().zip(&w) {
        if gs != ws {
            return Err(format!("document from {gs}, helm printed one from {ws}"));
        }
        let random = nondeterministic.iter().any(|t| t == gs);
        if random {
            if !same_structure(gd, wd) {
                return Err(format!("{gs} (random) differs in structure"));
            }
        } else if gd != wd {
            return Err(format!("{gs}: {}", first_difference(gd, wd)));
        }
    }
    Ok(())
}

enum Outcome {
    Identical,
    Differs(String),
    Failed(String),
}

fn run_case(case: &Case) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_rudder"))
        .arg("template")
        .arg(&case.release)
        .arg(&case.chart_dir)
        .arg("-n")
        .arg(&case.namespace)
        .arg("-f")
        .arg(case.case_dir.join("values.yaml"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run rudder");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected_error = case.case_dir.join("expected_error.json");
    if expected_error.exists() {
        let want = read_json(&expected_error);
        let msg = want["message"].as_str().unwrap_or_default();
        return if !output.status.success() && stderr.contains(msg) {
            Outcome::Identical
        } else if output.status.success() {
            Outcome::Differs(format!("rendered, but helm fails with: {msg}"))
        } else {
            Outcome::Differs(format!(
                "error differs:\n      rudder: {}\n      helm:   {msg}",
                stderr.trim()
            ))
        };
    }
    if !output.status.success() {
        return Outcome::Failed(stderr.trim().chars().take(600).collect());
    }
    let want = std::fs::read_to_string(case.case_dir.join("expected.yaml")).unwrap_or_default();
    match compare(&stdout, &want, &case.nondeterministic) {
        Ok(()) => Outcome::Identical,
        Err(e) => Outcome::Differs(e),
    }
}

fn percent(n: usize, total: usize) -> f64 {
    if total == 0 {
        return 100.0;
    }
    n as f64 * 100.0 / total as f64
}

fn env_percent(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "needs the Helm chart corpus; run with `make conformance`"]
fn helm_corpus_conformance() {
    let corpus = corpus_dir();
    assert!(
        corpus.join("INDEX.json").exists(),
        "no Helm chart corpus at {} (set RUDDER_CORPUS)",
        corpus.display()
    );
    let filter = std::env::var("RUDDER_CONFORMANCE_FILTER").unwrap_or_default();
    let cases: Vec<Case> = cases(&corpus)
        .into_iter()
        .filter(|c| c.id.contains(&filter))
        .collect();
    let mut failures = BTreeMap::new();
    let (mut identical, mut rendered) = (0, 0);
    for case in &cases {
        match run_case(case) {
            Outcome::Identical => {
                identical += 1;
                rendered += 1;
            }
            Outcome::Differs(d) => {
                rendered += 1;
                failures.insert(case.id.clone(), format!("differs at {d}"));
            }
            Outcome::Failed(e) => {
                failures.insert(case.id.clone(), format!("failed: {e}"));
            }
        }
    }
    for (id, why) in &failures {
        println!("FAIL {id}: {why}");
    }
    let total = cases.len();
    let (r, i) = (percent(rendered, total), percent(identical, total));
    println!(
        "conformance: {identical}/{total} byte-identical ({i:.1}%), {rendered}/{total} rendered ({r:.1}%)"
    );
    let (min_r, min_i) = (
        env_percent("RUDDER_CONFORMANCE_MIN_RENDERED", 100.0),
        env_percent("RUDDER_CONFORMANCE_MIN_IDENTICAL", 95.0),
    );
    assert!(
        r >= min_r && i >= min_i,
        "conformance below target: {r:.1}% rendered (want {min_r}%), {i:.1}% identical (want {min_i}%)"
    );
}

#[test]
fn structural_comparison_ignores_scalar_contents_only() {
    let want = "---\n# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  p: abc\n";
    let same = "---\n# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  p: xyz\n";
    let other = "---\n# Source: c/templates/s.yaml\nkind: Secret\ndata:\n  q: xyz\n";
    let random = vec!["c/templates/s.yaml".to_string()];
    assert!(compare(same, want, &random).is_ok());
    assert!(compare(other, want, &random).is_err());
    assert!(compare(same, want, &[]).is_err());
}
