//! Garbage collection by ownerReferences: `propagationPolicy` Foreground (the owner waits with
//! the `foregroundDeletion` finalizer) and Orphan (dependents stay, unowned), judged by kubectl
//! and by `rudder uninstall --cascade`.

mod common;

use common::{ok, stderr, Sandbox};

fn uid_of(sandbox: &Sandbox, what: &str) -> String {
    ok(&sandbox.kubectl(&["get", what, "-o", "jsonpath={.metadata.uid}"]))
}

fn names(sandbox: &Sandbox, kinds: &str) -> String {
    ok(&sandbox.kubectl(&["get", kinds, "-o", "name"]))
}

#[test]
fn a_foreground_delete_waits_for_the_dependents() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl(&["create", "configmap", "owner"]));
    let uid = uid_of(&sandbox, "configmap/owner");
    let child = format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {{"name": "child", "finalizers": ["example.com/hold"],
              "ownerReferences": [{{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                    "uid": "{uid}", "blockOwnerDeletion": true}}]}}}}"#
    );
    ok(&sandbox.kubectl_stdin(&["create", "-f", "-"], &child));

    ok(&sandbox.kubectl(&[
        "delete",
        "configmap",
        "owner",
        "--cascade=foreground",
        "--wait=false",
    ]));
    let owner = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "owner",
        "-o",
        "jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}",
    ]));
    let (stamp, finalizers) = owner.split_once(' ').unwrap_or_default();
    assert!(!stamp.is_empty(), "the owner is being deleted: {owner}");
    assert_eq!(finalizers, r#"["foregroundDeletion"]"#);
    // The collector deletes the child (its finalizer holds it), and the owner waits for it.
    ok(&sandbox.kubectl(&[
        "wait",
        "configmap/child",
        "--for=jsonpath={.metadata.deletionGracePeriodSeconds}=0",
        "--timeout=60s",
    ]));
    assert!(names(&sandbox, "configmaps").contains("configmap/owner"));

    ok(&sandbox.kubectl(&[
        "patch",
        "configmap",
        "child",
        "--type=json",
        "-p",
        r#"[{"op": "remove", "path": "/metadata/finalizers"}]"#,
    ]));
    ok(&sandbox.kubectl(&[
        "wait",
        "--for=delete",
        "configmap/child",
        "configmap/owner",
        "--timeout=60s",
    ]));

    // A Deployment goes after its ReplicaSet and Pods; kubectl waits for it.
    ok(&sandbox.kubectl(&["create", "deployment", "web", "--image=nginx:1.27"]));
    ok(&sandbox.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]));
    ok(&sandbox.kubectl(&["delete", "deployment", "web", "--cascade=foreground"]));
    assert_eq!(names(&sandbox, "deployments,replicasets,pods"), "");
}

#[test]
fn an_orphaning_delete_leaves_the_dependents_running_unowned() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl(&["create", "deployment", "web", "--image=nginx:1.27"]));
    ok(&sandbox.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]));
    ok(&sandbox.kubectl(&["delete", "deployment", "web", "--cascade=orphan"]));
    let left = names(&sandbox, "deployments,replicasets,pods");
    assert!(!left.contains("deployment.apps/web"), "{left}");
    assert!(left.contains("replicaset.apps/web-"), "{left}");
    assert!(left.contains("pod/web-"), "{left}");
    let owners = ok(&sandbox.kubectl(&[
        "get",
        "replicasets",
        "-o",
        "jsonpath={.items[*].metadata.ownerReferences}",
    ]));
    assert_eq!(owners, "", "the ReplicaSet lost its owner reference");
    let pod_owner = ok(&sandbox.kubectl(&[
        "get",
        "pods",
        "-o",
        "jsonpath={.items[0].metadata.ownerReferences[0].kind}",
    ]));
    assert_eq!(
        pod_owner, "ReplicaSet",
        "only direct dependents are orphaned"
    );
}

#[test]
fn rudder_uninstall_cascades_as_asked() {
    let sandbox = Sandbox::start();
    let chart = format!("{}/charts/web", env!("CARGO_MANIFEST_DIR"));
    let rudder = |args: &[&str]| sandbox.rudder().args(args).output().expect("run rudder");
    for release in ["kept", "gone"] {
        ok(&rudder(&[
            "install",
            release,
            &chart,
            "--env",
            "dev",
            "-n",
            release,
            "--create-namespace",
            "--wait",
            "--timeout",
            "60s",
        ]));
    }

    let orphaned = rudder(&[
        "uninstall",
        "kept",
        "-n",
        "kept",
        "--cascade",
        "orphan",
        "--wait",
    ]);
    ok(&orphaned);
    let left = ok(&sandbox.kubectl(&["get", "deploy,rs,pods", "-n", "kept", "-o", "name"]));
    assert!(!left.contains("deployment.apps/"), "{left}");
    assert!(left.contains("replicaset.apps/"), "{left}");
    assert!(left.contains("pod/"), "{left}");

    let foreground = rudder(&[
        "uninstall",
        "gone",
        "-n",
        "gone",
        "--cascade",
        "foreground",
        "--wait",
    ]);
    ok(&foreground);
    let left = sandbox.kubectl(&["get", "deploy,rs,pods", "-n", "gone", "-o", "name"]);
    assert_eq!(common::stdout(&left), "", "{}", stderr(&left));
}
