//! kubectl (the real client) against `rudder sandbox`.

mod common;

use common::{ok, stderr, stdout, Sandbox};

#[test]
fn kubectl_sees_version_and_api_resources() {
    let sandbox = Sandbox::start();
    let version = ok(&sandbox.kubectl(&["version"]));
    assert!(version.contains("Server Version: v1.32"), "{version}");
    let resources = ok(&sandbox.kubectl(&["api-resources"]));
    for line in [
        "deployments",
        "customresourcedefinitions",
        "horizontalpodautoscalers",
    ] {
        assert!(resources.contains(line), "missing {line} in\n{resources}");
    }
    let deploy = resources
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments row");
    let cols: Vec<&str> = deploy.split_whitespace().collect();
    assert_eq!(
        cols,
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    let namespaced = ok(&sandbox.kubectl(&["api-resources", "--namespaced=false", "-o", "name"]));
    assert!(
        namespaced.lines().any(|l| l == "namespaces"),
        "{namespaced}"
    );
    assert!(
        !namespaced.lines().any(|l| l == "configmaps"),
        "{namespaced}"
    );
}

#[test]
fn kubectl_creates_gets_and_deletes_namespaces_and_configmaps() {
    let sandbox = Sandbox::start();
    let names = ok(&sandbox.kubectl(&["get", "namespaces", "-o", "name"]));
    for ns in ["default", "kube-system", "kube-public"] {
        assert!(names.contains(&format!("namespace/{ns}")), "{names}");
    }
    ok(&sandbox.kubectl(&["create", "namespace", "team-a"]));
    ok(&sandbox.kubectl(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--from-literal=mode=fast",
    ]));
    let again = sandbox.kubectl(&["create", "namespace", "team-a"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("AlreadyExists"),
        "{}",
        stderr(&again)
    );
    let mode = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.mode}",
    ]));
    assert_eq!(mode, "fast");
    let deleted = ok(&sandbox.kubectl(&["delete", "namespace", "team-a"]));
    assert!(
        deleted.contains("namespace \"team-a\" deleted"),
        "{deleted}"
    );
    let gone = sandbox.kubectl(&["get", "configmap", "settings", "-n", "team-a"]);
    assert!(!gone.status.success());
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));
    let protected = sandbox.kubectl(&["delete", "namespace", "default"]);
    assert!(!protected.status.success());
    assert!(
        stderr(&protected).contains("may not be deleted"),
        "{}",
        stderr(&protected)
    );
    let missing = sandbox.kubectl(&["create", "configmap", "x", "-n", "nowhere"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("namespaces \"nowhere\" not found"),
        "{}",
        stderr(&missing)
    );
    let _ = stdout(&missing);
}

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: settings}
data:
  mode: fast
";

#[test]
fn client_side_apply_then_diff_reports_changes_by_exit_code() {
    let sandbox = Sandbox::start();
    let file = sandbox.write_file("app.yaml", APP);
    let file = file.to_str().expect("utf-8 path");
    let created = ok(&sandbox.kubectl(&["apply", "-f", file]));
    assert!(created.contains("deployment.apps/web created"), "{created}");
    assert!(created.contains("service/web created"), "{created}");
    let again = ok(&sandbox.kubectl(&["apply", "-f", file]));
    assert_eq!(
        again,
        "deployment.apps/web unchanged\nservice/web unchanged\nconfigmap/settings unchanged\n"
    );
    let last_applied = ok(&sandbox.kubectl(&[
        "get",
        "configmap",
        "settings",
        "-o",
        "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}",
    ]));
    assert!(last_applied.contains("\"mode\":\"fast\""), "{last_applied}");

    let rv_before = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]));
    let same = sandbox.kubectl(&["diff", "-f", file]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "no diff expected:\n{}{}",
        stdout(&same),
        stderr(&same)
    );

    let changed_file = sandbox.write_file("app2.yaml", &APP.replace("mode: fast", "mode: slow"));
    let changed = sandbox.kubectl(&["diff", "-f", changed_file.to_str().expect("utf-8 path")]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let text = stdout(&changed);
    assert!(
        text.contains("-  mode: fast") && text.contains("+  mode: slow"),
        "{text}"
    );
    let rv_after = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]));
    assert_eq!(rv_before, rv_after, "diff is a dry run");
    let mode = ok(&sandbox.kubectl(&["get", "cm", "settings", "-o", "jsonpath={.data.mode}"]));
    assert_eq!(mode, "fast", "diff must not change the object");

    let applied =
        ok(&sandbox.kubectl(&["apply", "-f", changed_file.to_str().expect("utf-8 path")]));
    assert!(
        applied.contains("configmap/settings configured"),
        "{applied}"
    );
    assert!(
        applied.contains("deployment.apps/web unchanged"),
        "{applied}"
    );
}

#[test]
fn server_side_apply_get_json_shows_defaults_and_managers() {
    let sandbox = Sandbox::start();
    let file = sandbox.write_file("app.yaml", APP);
    let file = file.to_str().expect("utf-8 path");
    let out = ok(&sandbox.kubectl(&["apply", "--server-side", "-f", file]));
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "json",
        "--show-managed-fields",
    ])))
    .expect("kubectl prints JSON");
    assert_eq!(json["spec"]["replicas"], 1);
    assert_eq!(json["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(json["spec"]["revisionHistoryLimit"], 10);
    let container = &json["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(json["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert_eq!(json["metadata"]["generation"], 1);
    let managers: Vec<&str> = json["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| e["manager"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(managers, ["kubectl"]);

    let svc: serde_json::Value =
        serde_json::from_str(&ok(&sandbox.kubectl(&["get", "svc", "web", "-o", "json"])))
            .expect("kubectl prints JSON");
    let ip = svc["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP allocated");
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(svc["spec"]["clusterIPs"][0], ip);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);

    let again = ok(&sandbox.kubectl(&["apply", "--server-side", "-f", file]));
    assert!(again.contains("serverside-applied"), "{again}");
    let generation = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.generation}",
    ]));
    assert_eq!(
        generation, "1",
        "re-applying the same config changes nothing"
    );

    let scaled = sandbox.write_file(
        "scaled.yaml",
        &APP.replace(
            "spec:\n  selector:\n    matchLabels: {app: web}",
            "spec:\n  replicas: 4\n  selector:\n    matchLabels: {app: web}",
        ),
    );
    ok(&sandbox.kubectl(&[
        "apply",
        "--server-side",
        "-f",
        scaled.to_str().expect("utf-8 path"),
    ]));
    let state = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.metadata.generation}",
    ]));
    assert_eq!(state, "4 2");

    let other = sandbox.write_file(
        "other.yaml",
        &APP.replace(
            "spec:\n  selector:\n    matchLabels: {app: web}",
            "spec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}",
        ),
    );
    let other = other.to_str().expect("utf-8 path");
    let conflict = sandbox.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        other,
    ]);
    assert!(!conflict.status.success());
    assert!(
        stderr(&conflict).contains("conflict with \"kubectl\": .spec.replicas"),
        "{}",
        stderr(&conflict)
    );
    ok(&sandbox.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        other,
    ]));
    let replicas =
        ok(&sandbox.kubectl(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]));
    assert_eq!(replicas, "2");
}

#[test]
fn kubectl_get_by_label_and_wait_for_delete() {
    // No controllers: their ReplicaSets and Pods carry `app=web` too and would race `get all`.
    let sandbox = Sandbox::start_with(&["--no-controllers"]);
    let file = sandbox.write_file("app.yaml", APP);
    ok(&sandbox.kubectl(&[
        "apply",
        "--server-side",
        "-f",
        file.to_str().expect("utf-8 path"),
    ]));
    let web = ok(&sandbox.kubectl(&["get", "all", "-l", "app=web", "-o", "name"]));
    assert_eq!(web, "service/web\ndeployment.apps/web\n");
    let not_web =
        ok(&sandbox.kubectl(&["get", "configmaps,services", "-l", "app!=web", "-o", "name"]));
    assert_eq!(not_web, "configmap/settings\n");
    let set = ok(&sandbox.kubectl(&[
        "get",
        "deploy,cm",
        "-l",
        "app in (web,settings),!missing",
        "-o",
        "name",
    ]));
    assert_eq!(set, "deployment.apps/web\nconfigmap/settings\n");
    let front = ok(&sandbox.kubectl(&["get", "deploy", "-l", "tier", "-o", "name"]));
    assert_eq!(front, "deployment.apps/web\n");

    ok(&sandbox.kubectl(&[
        "patch",
        "cm",
        "settings",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]));
    let deleted = ok(&sandbox.kubectl(&["delete", "cm", "settings", "--wait=false"]));
    assert!(deleted.contains("deleted"), "{deleted}");
    let pending = ok(&sandbox.kubectl(&[
        "get",
        "cm",
        "settings",
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
    ]));
    assert!(
        !pending.is_empty(),
        "a finalizer keeps the object with a deletionTimestamp"
    );
    let mut waiter = sandbox
        .kubectl_command()
        .args([
            "wait",
            "--for=delete",
            "configmap/settings",
            "--timeout=120s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start kubectl wait");
    ok(&sandbox.kubectl(&[
        "patch",
        "cm",
        "settings",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]));
    let status = waiter.wait().expect("kubectl wait finishes");
    assert!(status.success(), "kubectl wait --for=delete failed");
    let gone = sandbox.kubectl(&["get", "cm", "settings"]);
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));
}

#[test]
fn kubectl_get_prints_the_server_side_columns() {
    let sandbox = Sandbox::start();
    let file = sandbox.write_file("app.yaml", APP);
    ok(&sandbox.kubectl(&[
        "apply",
        "--server-side",
        "-f",
        file.to_str().expect("utf-8 path"),
    ]));
    ok(&sandbox.kubectl(&[
        "create",
        "secret",
        "generic",
        "creds",
        "--from-literal=user=me",
        "--from-literal=pass=x",
    ]));
    let secrets = ok(&sandbox.kubectl(&["get", "secrets"]));
    let header: Vec<&str> = secrets
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "TYPE", "DATA", "AGE"], "{secrets}");
    let row: Vec<&str> = secrets
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(&row[..3], ["creds", "Opaque", "2"], "{secrets}");
    let deploy = ok(&sandbox.kubectl(&["get", "deploy", "-o", "wide"]));
    let header: Vec<&str> = deploy
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{deploy}"
    );
    assert!(
        deploy.contains("nginx:1.27") && deploy.contains("app=web"),
        "{deploy}"
    );
    let svc = ok(&sandbox.kubectl(&["get", "svc", "web"]));
    assert!(svc.contains("ClusterIP") && svc.contains("80/TCP"), "{svc}");
}

#[test]
fn kubectl_create_subcommands_send_protobuf_the_sandbox_decodes() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=0",
        "--port=80",
    ]));
    ok(&sandbox.kubectl(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--target-port=8080",
    ]));
    ok(&sandbox.kubectl(&[
        "create",
        "ingress",
        "web",
        "--rule=shop.example.com/=web:80",
    ]));
    ok(&sandbox.kubectl(&[
        "create",
        "job",
        "once",
        "--image=busybox",
        "--",
        "echo",
        "hi",
    ]));
    let deploy = ok(&sandbox.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}",
    ]));
    assert_eq!(
        deploy, "0 nginx:1.27 80",
        "replicas: 0 survives the protobuf decoding"
    );
    let svc = ok(&sandbox.kubectl(&[
        "get",
        "svc",
        "web",
        "-o",
        "jsonpath={.spec.ports[0].targetPort} {.spec.selector.app}",
    ]));
    assert_eq!(svc, "8080 web");
    let ingress = ok(&sandbox.kubectl(&[
        "get",
        "ingress",
        "web",
        "-o",
        "jsonpath={.spec.rules[0].host} {.spec.rules[0].http.paths[0].backend.service.name}",
    ]));
    assert_eq!(
        ingress, "shop.example.com web",
        "inline Go structs are flattened"
    );
    let job = ok(&sandbox.kubectl(&[
        "get",
        "job",
        "once",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].command}",
    ]));
    assert_eq!(job, r#"["echo","hi"]"#);
}
