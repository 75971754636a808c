//! Probes of operations under stress against a running sandbox: API faults during
//! install/upgrade/diff, concurrent operations on one release, and kill -9 mid-upgrade.

use std::ffi::OsString;
use std::time::Duration;

use serde_json::{json, Value};

use super::cluster::{app_chart, history_faults, must, os, statuses, write_files};
use super::harness::{judge, run_rudder, Ctx, Failure, Probe};
use crate::common::Sandbox;

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
