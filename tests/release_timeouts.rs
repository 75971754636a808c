//! `--timeout` bounds a whole operation, retries and unanswered requests included: under
//! sandbox faults (`POST /sandbox/faults`: persistent 503 or 429, or requests that never get an
//! answer) rudder retries within the budget saying so on stderr, records the revision failed with
//! the reason, leaves nothing pending and releases the lock.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{ok, stderr, Sandbox};
use serde_json::{json, Value};

/// 3 objects per app (ConfigMap, Service, Deployment); `--set apps=N`.
const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bench/chart-300");

/// Long enough for any bounded run on a loaded machine; a run still going then hangs.
const WATCHDOG: Duration = Duration::from_secs(60);

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

/// Runs `command` to its end, failing the test if it still runs after [`WATCHDOG`] (it is
/// killed then). This checks that the process ends, not how fast.
#[track_caller]
fn run_to_end(mut command: Command, dir: &std::path::Path) -> Output {
    let out_path = dir.join("watched.out");
    let err_path = dir.join("watched.err");
    let mut child = command
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .expect("spawn rudder");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "rudder still ran after {WATCHDOG:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

fn add_fault(sandbox: &Sandbox, rule: Value) {
    let answer = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        rule.to_string().as_bytes(),
    );
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

fn clear_faults(sandbox: &Sandbox) {
    sandbox.request("DELETE", "/sandbox/faults", &[], b"");
}

fn history(sandbox: &Sandbox, name: &str) -> Vec<Value> {
    let text = ok(&rudder(sandbox, &["history", name, "-o", "json"]));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

fn statuses(revisions: &[Value]) -> Vec<&str> {
    revisions
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

/// The release is free again: an `upgrade --install` with the server healthy succeeds.
#[track_caller]
fn assert_a_rerun_works(sandbox: &Sandbox) {
    clear_faults(sandbox);
    ok(&rudder(
        sandbox,
        &["upgrade", "web", CHART, "--install", "--set", "apps=1"],
    ));
    assert_eq!(
        history(sandbox, "web").last().unwrap()["status"],
        "deployed"
    );
}

#[test]
fn install_under_a_persistent_503_retries_five_times_and_ends_failed() {
    let sandbox = Sandbox::start();
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments"}, "error": 503}),
    );
    let mut install = sandbox.rudder();
    install.args([
        "install",
        "web",
        CHART,
        "--set",
        "apps=1",
        "--timeout",
        "5s",
    ]);
    let out = run_to_end(install, &sandbox.dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for attempt in 2..=5 {
        let line = format!(
            "retrying PATCH deployments/app-000: 503 ServiceUnavailable (attempt {attempt}/5)"
        );
        assert!(err.contains(&line), "no {line:?} in:\n{err}");
    }
    assert!(!err.contains("attempt 6/5"), "{err}");

    let revisions = history(&sandbox, "web");
    assert_eq!(statuses(&revisions), ["failed"]);
    let description = revisions[0]["description"].as_str().unwrap();
    assert!(
        description.contains("app-000") && description.contains("503"),
        "{description}"
    );
    assert_a_rerun_works(&sandbox);
}

#[test]
fn a_request_that_never_answers_fails_the_install_at_its_timeout() {
    let sandbox = Sandbox::start();
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments"}, "error": "hang"}),
    );
    let mut install = sandbox.rudder();
    install.args([
        "install",
        "web",
        CHART,
        "--set",
        "apps=1",
        "--timeout",
        "5s",
    ]);
    let out = run_to_end(install, &sandbox.dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let reason = "timed out after 5s waiting for PATCH deployments/app-000";
    assert!(stderr(&out).contains(reason), "{}", stderr(&out));

    let revisions = history(&sandbox, "web");
    assert_eq!(statuses(&revisions), ["failed"]);
    let description = revisions[0]["description"].as_str().unwrap();
    assert!(description.contains(reason), "{description}");
    assert_a_rerun_works(&sandbox);
}

#[test]
fn an_upgrade_past_its_timeout_is_rolled_back_with_a_budget_of_its_own() {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "web", CHART, "--set", "apps=1"],
    ));
    // Only the upgrade's patch hangs; the rollback's goes through.
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments"}, "error": "hang", "times": 1}),
    );
    let mut upgrade = sandbox.rudder();
    upgrade.args([
        "upgrade",
        "web",
        CHART,
        "--set",
        "apps=1,image.tag=1.28",
        "--timeout",
        "5s",
        "--rollback-on-failure",
    ]);
    let out = run_to_end(upgrade, &sandbox.dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("timed out after 5s waiting for PATCH deployments/app-000"),
        "{err}"
    );
    assert!(err.contains("rolled back to revision 1"), "{err}");
    let revisions = history(&sandbox, "web");
    assert_eq!(statuses(&revisions), ["superseded", "failed", "deployed"]);
    assert_a_rerun_works(&sandbox);
}

#[test]
fn a_429_is_retried_after_the_servers_retry_after_and_the_upgrade_succeeds() {
    let sandbox = Sandbox::start();
    ok(&rudder(
        &sandbox,
        &["install", "web", CHART, "--set", "apps=1"],
    ));
    add_fault(
        &sandbox,
        json!({"match": {"verb": "patch", "resource": "deployments"}, "error": 429, "times": 2}),
    );
    let out = rudder(
        &sandbox,
        &["upgrade", "web", CHART, "--set", "apps=1,image.tag=1.28"],
    );
    let err = stderr(&out);
    ok(&out);
    assert!(
        err.contains("retrying PATCH deployments/app-000: 429 TooManyRequests (attempt 2/5)")
            && err.contains("(attempt 3/5)")
            && !err.contains("(attempt 4/5)"),
        "{err}"
    );
    assert_eq!(
        statuses(&history(&sandbox, "web")),
        ["superseded", "deployed"]
    );
}
