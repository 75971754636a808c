//! Simulated controllers, judged by kubectl (`rollout status`, `wait`) and by rudder's own
//! `--wait` / `--rollback-on-failure` flow.

mod common;

use common::{ok, stderr, stdout, Sandbox};

const DEPLOYMENTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: good}
spec:
  replicas: 2
  selector: {matchLabels: {app: good}}
  template:
    metadata: {labels: {app: good}}
    spec: {containers: [{name: c, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  progressDeadlineSeconds: 200
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec: {containers: [{name: c, image: "nginx:fail"}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: done}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "me/crashloop-job:1"}]
"#;

#[test]
fn kubectl_rollout_status_and_wait_see_simulated_rollouts() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], DEPLOYMENTS));
    let good = sandbox.kubectl(&["rollout", "status", "deploy/good", "--timeout", "10s"]);
    assert!(good.status.success(), "{}{}", stdout(&good), stderr(&good));
    assert!(
        stdout(&good).contains("successfully rolled out"),
        "{}",
        stdout(&good)
    );
    let bad = sandbox.kubectl(&["rollout", "status", "deploy/bad", "--timeout", "10s"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("exceeded its progress deadline"),
        "{}",
        stderr(&bad)
    );
    let done = sandbox.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/done",
        "--timeout",
        "10s",
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    let broken = sandbox.kubectl(&[
        "wait",
        "--for=condition=failed",
        "job/broken",
        "--timeout",
        "10s",
    ]);
    assert!(broken.status.success(), "{}", stderr(&broken));
    let reason = ok(&sandbox.kubectl(&[
        "get",
        "job",
        "broken",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
    ]));
    assert_eq!(reason.trim(), "BackoffLimitExceeded");
    let pods = ok(&sandbox.kubectl(&[
        "get",
        "pods",
        "-l",
        "app=bad",
        "-o",
        "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}",
    ]));
    assert_eq!(pods.trim(), "ImagePullBackOff");
    // The garbage collector removes a deleted Deployment's ReplicaSet and Pods.
    ok(&sandbox.kubectl(&["delete", "deploy", "good"]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = ok(&sandbox.kubectl(&["get", "pods", "-l", "app=good", "-o", "name"]));
        if left.trim().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "pods left: {left}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn statefulset_claims_are_bound_and_outlive_the_statefulset() {
    let sandbox = Sandbox::start();
    let sts = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: "redis:7"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], sts));
    let status = sandbox.kubectl(&["rollout", "status", "statefulset/db", "--timeout", "10s"]);
    assert!(
        status.status.success(),
        "{}{}",
        stdout(&status),
        stderr(&status)
    );
    let phase =
        ok(&sandbox.kubectl(&["get", "pvc", "data-db-1", "-o", "jsonpath={.status.phase}"]));
    assert_eq!(phase, "Bound");
    ok(&sandbox.kubectl(&["delete", "statefulset", "db"]));
    let claims = ok(&sandbox.kubectl(&["get", "pvc", "-o", "name"]));
    assert!(
        claims.contains("data-db-0") && claims.contains("data-db-1"),
        "{claims}"
    );
}

#[test]
fn a_bad_rollout_fails_loudly_and_rolls_back() {
    let sandbox = Sandbox::start();
    let chart = format!("{}/charts/web", env!("CARGO_MANIFEST_DIR"));
    let install = sandbox
        .rudder()
        .args([
            "install",
            "web",
            &chart,
            "--env",
            "dev",
            "--wait",
            "--timeout",
            "30s",
        ])
        .output()
        .expect("run rudder");
    assert!(install.status.success(), "{}", stderr(&install));
    let upgrade = sandbox
        .rudder()
        .args([
            "upgrade",
            "--install",
            "web",
            &chart,
            "--env",
            "dev",
            "--set-string",
            "image.tag=fail",
            "--wait",
            "--timeout",
            "30s",
            "--rollback-on-failure",
        ])
        .output()
        .expect("run rudder");
    assert_eq!(upgrade.status.code(), Some(1));
    let err = stderr(&upgrade);
    assert!(err.contains("ProgressDeadlineExceeded"), "{err}");
    assert!(err.contains("ImagePullBackOff"), "{err}");
    assert!(err.contains("rolled back to revision 1"), "{err}");
    let history: serde_json::Value = serde_json::from_str(&ok(&sandbox
        .rudder()
        .args(["history", "web", "-o", "json"])
        .output()
        .expect("run rudder")))
    .expect("history json");
    let statuses: Vec<&str> = history
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"]);
    let image = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]));
    assert_eq!(image, "nginxinc/nginx-unprivileged:1.27.0");
}
