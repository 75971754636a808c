//! The release lock end to end: every mutating verb (install, upgrade, rollback, uninstall,
//! test) is refused naming the holder while another operation holds the release, or waits for
//! it with `--wait-for-lock`; a signal or an unwritable record leaves no pending revision behind.

mod common;

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Output, Stdio};

use common::{ok, stderr, Sandbox};
use serde_json::Value;

fn rudder(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.rudder().args(args).output().expect("run rudder")
}

/// A chart with one Deployment whose image tag is `tag`; the sandbox never makes tag `fail`
/// ready, so an `upgrade --wait` to it holds the release until its timeout.
fn app_chart(sandbox: &Sandbox) -> String {
    sandbox.write_file(
        "app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\nengine: tera\n",
    );
    sandbox.write_file("app/values.yaml", "tag: ok\n");
    sandbox.write_file(
        "app/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n      - name: app\n        image: \"example.com/app:{{ Values.tag }}\"\n",
    );
    let dir: PathBuf = sandbox.dir.join("app");
    dir.to_str().unwrap().to_string()
}

/// Starts `upgrade app --set tag=fail --wait --timeout TIMEOUT` and returns once its revision is
/// pending (it printed that it waits), with the rest of its stderr.
fn start_holder(
    sandbox: &Sandbox,
    dir: &str,
    timeout: &str,
) -> (Child, Lines<BufReader<ChildStderr>>) {
    let mut holder = sandbox
        .rudder()
        .args([
            "upgrade",
            "app",
            dir,
            "--set",
            "tag=fail",
            "--wait",
            "--timeout",
            timeout,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rudder");
    let mut lines = BufReader::new(holder.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap_or_default().contains("waiting for") {
            break;
        }
    }
    (holder, lines)
}

fn statuses(sandbox: &Sandbox) -> Vec<String> {
    let text = ok(&rudder(sandbox, &["history", "app", "-o", "json"]));
    let history: Value = serde_json::from_str(&text).unwrap();
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn deployment_exists(sandbox: &Sandbox) -> bool {
    sandbox
        .kubectl(&["get", "deployment", "app", "-o", "name"])
        .status
        .success()
}

#[track_caller]
fn assert_names_holder(out: &Output, holder: &Child) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let err = stderr(out);
    assert!(
        err.contains(&format!(
            "release app is being upgraded by rudder pid {} on host",
            holder.id()
        )) && err.contains(" since "),
        "{err}"
    );
}

#[test]
fn uninstall_during_a_pending_upgrade_is_refused_naming_the_holder() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let (mut holder, _lines) = start_holder(&sandbox, &dir, "6s");

    let out = rudder(&sandbox, &["uninstall", "app"]);
    assert_names_holder(&out, &holder);
    assert!(
        deployment_exists(&sandbox),
        "the objects must still be there"
    );

    assert_eq!(holder.wait().unwrap().code(), Some(1));
    assert_eq!(statuses(&sandbox), ["deployed", "failed"]);
    assert!(deployment_exists(&sandbox));
}

#[test]
fn uninstall_with_wait_for_lock_waits_for_the_holder_then_uninstalls() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let (mut holder, _lines) = start_holder(&sandbox, &dir, "3s");

    let out = rudder(
        &sandbox,
        &[
            "uninstall",
            "app",
            "--keep-history",
            "--wait-for-lock",
            "60s",
        ],
    );
    ok(&out);
    assert!(stderr(&out).contains("--wait-for-lock"), "{}", stderr(&out));
    // The holder had finished (its wait timed out) before the uninstall began.
    assert_eq!(holder.try_wait().unwrap().and_then(|s| s.code()), Some(1));
    assert!(!deployment_exists(&sandbox));
    // No revision claims to be deployed once its objects are deleted.
    assert_eq!(statuses(&sandbox), ["superseded", "uninstalled"]);
}

#[test]
fn rollback_test_and_install_during_a_pending_upgrade_are_refused_naming_the_holder() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let (mut holder, _lines) = start_holder(&sandbox, &dir, "8s");

    assert_names_holder(&rudder(&sandbox, &["rollback", "app", "1"]), &holder);
    assert_names_holder(&rudder(&sandbox, &["test", "app"]), &holder);
    assert_names_holder(&rudder(&sandbox, &["install", "app", &dir]), &holder);

    assert_eq!(holder.wait().unwrap().code(), Some(1));
    assert_eq!(statuses(&sandbox), ["deployed", "failed"]);
}

#[test]
fn rollback_with_wait_for_lock_waits_for_the_holder_then_rolls_back() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let (mut holder, _lines) = start_holder(&sandbox, &dir, "3s");

    ok(&rudder(
        &sandbox,
        &["rollback", "app", "1", "--wait-for-lock", "60s"],
    ));
    assert_eq!(holder.wait().unwrap().code(), Some(1));
    assert_eq!(statuses(&sandbox), ["superseded", "failed", "deployed"]);
}

/// Sends `signal` (`TERM`, `INT`) to the holder mid-wait: it records its revision failed,
/// releases the lock and exits 128 + the signal's number; the next upgrade proceeds at once.
fn a_signal_mid_upgrade_leaves_no_pending_revision(signal: &str, code: i32) {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let (mut holder, lines) = start_holder(&sandbox, &dir, "5m");
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &holder.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = holder.wait().unwrap();
    assert_eq!(status.code(), Some(code), "{status:?} {rest:?}");
    let said = rest.join("\n");
    assert!(
        said.contains(&format!(
            "interrupted by SIG{signal}: revision 2 of release app recorded failed, lock released"
        )),
        "{said}"
    );

    let text = ok(&rudder(&sandbox, &["history", "app", "-o", "json"]));
    let history: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(history[1]["status"], "failed", "{history}");
    assert_eq!(
        history[1]["description"],
        format!("Upgrade interrupted by SIG{signal}")
    );
    ok(&rudder(
        &sandbox,
        &["upgrade", "app", &dir, "--set", "tag=v2"],
    ));
    assert_eq!(statuses(&sandbox), ["superseded", "failed", "deployed"]);
}

#[test]
fn sigterm_mid_upgrade_records_the_revision_failed_and_exits_143() {
    a_signal_mid_upgrade_leaves_no_pending_revision("TERM", 143);
}

#[test]
fn sigint_mid_upgrade_records_the_revision_failed_and_exits_130() {
    a_signal_mid_upgrade_leaves_no_pending_revision("INT", 130);
}

#[test]
fn an_unwritable_final_record_says_what_was_left_and_how_to_repair_it() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let fault = serde_json::json!({
        "match": {"verb": "update", "resource": "secrets", "name": "sh.helm.release.v1.app.v2"},
        "error": 500,
    });
    let answer = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200);

    let out = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for said in [
        "cannot record revision 2 of release app as deployed",
        "500",
        "revision 2 is still pending-upgrade",
        "no revision of release app is marked deployed",
        "`rudder unlock app`",
        "`rudder rollback app 2`",
    ] {
        assert!(err.contains(said), "no {said:?} in:\n{err}");
    }
    assert_eq!(statuses(&sandbox), ["superseded", "pending-upgrade"]);

    // The repair it names works once the server is healthy.
    sandbox.request("DELETE", "/sandbox/faults", &[], b"");
    ok(&rudder(&sandbox, &["unlock", "app"]));
    ok(&rudder(&sandbox, &["rollback", "app", "2"]));
    assert_eq!(statuses(&sandbox), ["superseded", "failed", "deployed"]);
}

#[test]
fn an_unwritable_superseded_record_says_what_was_left_and_how_to_repair_it() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    // Only the previous revision's record refuses updates: the upgrade's objects are applied,
    // but revision 1 cannot be marked superseded.
    let fault = serde_json::json!({
        "match": {"verb": "update", "resource": "secrets", "name": "sh.helm.release.v1.app.v1"},
        "error": 500,
    });
    let answer = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200);

    let out = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for said in [
        "cannot record revision 2 of release app as deployed",
        "500",
        "revision 1 is still deployed",
        "objects of revision 2 are applied",
        "`rudder rollback app 2`",
    ] {
        assert!(err.contains(said), "no {said:?} in:\n{err}");
    }
    // Never two deployed revisions, and no lock left behind.
    assert_eq!(statuses(&sandbox), ["deployed", "failed"]);

    sandbox.request("DELETE", "/sandbox/faults", &[], b"");
    ok(&rudder(&sandbox, &["rollback", "app", "2"]));
    assert_eq!(statuses(&sandbox), ["superseded", "failed", "deployed"]);
}

#[test]
fn a_lock_left_by_a_process_that_died_on_this_host_is_taken_over_at_once() {
    let sandbox = Sandbox::start();
    let dir = app_chart(&sandbox);
    ok(&rudder(&sandbox, &["install", "app", &dir]));
    let fault = serde_json::json!({
        "match": {"verb": "update", "resource": "secrets", "name": "sh.helm.release.v1.app.v2"},
        "error": 500,
    });
    let answer = sandbox.request(
        "POST",
        "/sandbox/faults",
        &[("Content-Type", "application/json")],
        fault.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200);
    let out = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(statuses(&sandbox), ["superseded", "pending-upgrade"]);
    sandbox.request("DELETE", "/sandbox/faults", &[], b"");

    // Its holder has exited: the next upgrade need not wait for the 5-minute timeout.
    let out = rudder(&sandbox, &["upgrade", "app", &dir, "--set", "tag=v3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("was left pending-upgrade by rudder pid") && err.contains("no longer runs"),
        "{err}"
    );
    assert_eq!(statuses(&sandbox), ["superseded", "failed", "deployed"]);
}
