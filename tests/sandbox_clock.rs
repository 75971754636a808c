//! `POST /sandbox/clock`: advancing simulated time makes progress deadlines and Job back-off
//! pass at once. The sandbox runs at `--time-scale 1`, so without the advance they would take
//! ten minutes and every wait below would time out instead.

mod common;

use common::{ok, stderr, stdout, Sandbox};

const FAILING: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: c, image: "nginx:fail"}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "me/crashloop-job:1"}]
"#;

#[test]
fn advancing_the_clock_fires_progress_deadlines_and_job_backoff() {
    let sandbox = Sandbox::start_with(&["--time-scale", "1"]);
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], FAILING));
    // The controllers have seen both objects: their timers are running.
    ok(&sandbox.kubectl(&[
        "wait",
        "deploy/bad",
        "--for=jsonpath={.status.observedGeneration}=1",
        "--timeout=60s",
    ]));
    ok(&sandbox.kubectl(&[
        "wait",
        "job/broken",
        "--for=jsonpath={.status.active}=1",
        "--timeout=60s",
    ]));
    let conditions = ok(&sandbox.kubectl(&[
        "get",
        "job",
        "broken",
        "-o",
        "jsonpath={.status.conditions}",
    ]));
    assert_eq!(conditions, "", "the Job is still backing off");

    let bad = sandbox.request("POST", "/sandbox/clock", &[], br#"{"advance": "soon"}"#);
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("\"soon\""),
        "{:?}",
        bad.json()
    );
    let moved = sandbox.request("POST", "/sandbox/clock", &[], br#"{"advance": "11m"}"#);
    assert_eq!(moved.status, 200);
    assert_eq!(moved.json()["advancedSeconds"], 660.0);
    let now = sandbox.request("GET", "/sandbox/clock", &[], b"");
    assert_eq!(now.json()["advancedSeconds"], 660.0);

    let rollout = sandbox.kubectl(&["rollout", "status", "deploy/bad", "--timeout=60s"]);
    assert!(!rollout.status.success(), "{}", stdout(&rollout));
    assert!(
        stderr(&rollout).contains("exceeded its progress deadline"),
        "{}",
        stderr(&rollout)
    );
    ok(&sandbox.kubectl(&[
        "wait",
        "job/broken",
        "--for=condition=Failed",
        "--timeout=60s",
    ]));
    let reason = ok(&sandbox.kubectl(&[
        "get",
        "job",
        "broken",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
    ]));
    assert_eq!(reason, "BackoffLimitExceeded");
}
