//! Object semantics of `rudder sandbox` (server-side apply, managedFields, the patch types,
//! defaulting, validation) judged by kubectl's own output and exit codes.

mod common;

use common::{ok, stderr, stdout, Sandbox};
use serde_json::Value;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: REPLICAS
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
        env:
        - {name: MODE, value: fast}
EXTRA
"#;

fn deployment(replicas: u32, extra_container: bool) -> String {
    let extra = if extra_container {
        "      - name: sidecar\n        image: busybox"
    } else {
        ""
    };
    DEPLOYMENT
        .replace("REPLICAS", &replicas.to_string())
        .replace("EXTRA", extra)
}

fn get_json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
    let out = ok(&sandbox.kubectl(&full));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl printed no JSON ({e}): {out}"))
}

fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

#[test]
fn server_side_apply_records_field_ownership_and_defaults() {
    let sandbox = Sandbox::start_with(&["--no-controllers"]); // status writes would move the resourceVersion
    let out = ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(2, false),
    ));
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");

    let live = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    let spec = &live["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["strategy"]["type"], "RollingUpdate");
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    let container = &pod["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container["ports"][0]["protocol"], "TCP");

    let applied = entry(&live, "kubectl", "Apply").expect("kubectl's Apply entry");
    assert_eq!(applied["fieldsType"], "FieldsV1");
    assert_eq!(applied["apiVersion"], "apps/v1");
    let fields = &applied["fieldsV1"]["f:spec"];
    assert_eq!(fields["f:replicas"], serde_json::json!({}));
    let web = &fields["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
    assert_eq!(web["."], serde_json::json!({}), "{applied}");
    assert!(
        web["f:env"]["k:{\"name\":\"MODE\"}"].is_object(),
        "{applied}"
    );
    assert!(
        web["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"].is_object(),
        "{applied}"
    );
    // Defaulted fields are not owned by the applier.
    assert!(fields.get("f:strategy").is_none(), "{applied}");

    // Applying the same manifest again is a no-op: same resourceVersion.
    let rv = live["metadata"]["resourceVersion"].clone();
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(2, false),
    ));
    let again = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    assert_eq!(again["metadata"]["resourceVersion"], rv);
}

#[test]
fn server_side_apply_conflicts_until_forced() {
    let sandbox = Sandbox::start();
    // Client-side apply first: kubectl's server-side apply may take over the fields its
    // last-applied annotation describes (the CSA to SSA upgrade path), without a conflict.
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], &deployment(2, false)));
    let upgraded = ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(3, false),
    ));
    assert_eq!(upgraded.trim(), "deployment.apps/web serverside-applied");
    let live = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    assert_eq!(live["spec"]["replicas"], 3);

    // Another writer changes replicas: now it owns the field and applying a different value
    // conflicts.
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":5}}"#,
    ]));
    let refused = sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(3, false),
    );
    assert!(!refused.status.success(), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(
            "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using apps/v1: .spec.replicas"
        ),
        "{err}"
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    let live = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    assert_eq!(live["spec"]["replicas"], 5);

    // Applying the value the other manager set is shared ownership, not a conflict.
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(5, false),
    ));
    let live = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    let patcher = entry(&live, "kubectl-patch", "Update").expect("kubectl-patch entry");
    assert!(
        patcher["fieldsV1"]["f:spec"].get("f:replicas").is_some(),
        "{patcher}"
    );

    let forced = sandbox.kubectl_stdin(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &deployment(3, false),
    );
    ok(&forced);
    let live = get_json(&sandbox, &["deployment", "web", "-n", "default"]);
    assert_eq!(live["spec"]["replicas"], 3);
    let applied = entry(&live, "kubectl", "Apply").expect("kubectl's Apply entry");
    assert!(applied["fieldsV1"]["f:spec"].get("f:replicas").is_some());
    assert!(
        entry(&live, "kubectl-patch", "Update").is_none(),
        "kubectl-patch owned only replicas and lost it: {}",
        live["metadata"]["managedFields"]
    );
}

#[test]
fn server_side_apply_removes_what_the_manager_stopped_applying() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &deployment(1, true)));
    let names = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].name}",
    ]));
    assert_eq!(names, "web sidecar");
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        &deployment(1, false),
    ));
    let names = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].name}",
    ]));
    assert_eq!(names, "web");
}

#[test]
fn client_side_apply_then_diff_exit_codes() {
    let sandbox = Sandbox::start();
    let cm = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: \"{value}\"\n"
        )
    };
    let file = sandbox.write_file("cm.yaml", &cm("fast"));
    let file = file.to_str().expect("utf-8 path");
    assert_eq!(
        ok(&sandbox.kubectl(&["apply", "-f", file])).trim(),
        "configmap/settings created"
    );
    let same = sandbox.kubectl(&["diff", "-f", file]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(stdout(&same), "");

    sandbox.write_file("cm.yaml", &cm("slow"));
    let changed = sandbox.kubectl(&["diff", "-f", file]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let diff = stdout(&changed);
    assert!(diff.contains("-  mode: fast"), "{diff}");
    assert!(diff.contains("+  mode: slow"), "{diff}");

    assert_eq!(
        ok(&sandbox.kubectl(&["apply", "-f", file])).trim(),
        "configmap/settings configured"
    );
    assert_eq!(
        ok(&sandbox.kubectl(&["apply", "-f", file])).trim(),
        "configmap/settings unchanged"
    );
    let after = sandbox.kubectl(&["diff", "-f", file]);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));

    // A Deployment round trip: defaulted fields must not show up as a diff.
    let deploy = sandbox.write_file("deploy.yaml", &deployment(2, false));
    let deploy = deploy.to_str().expect("utf-8 path");
    ok(&sandbox.kubectl(&["apply", "-f", deploy]));
    let clean = sandbox.kubectl(&["diff", "-f", deploy]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    sandbox.write_file("deploy.yaml", &deployment(2, true));
    let more = sandbox.kubectl(&["diff", "-f", deploy]);
    assert_eq!(more.status.code(), Some(1), "{}", stderr(&more));
    assert!(
        stdout(&more).contains("+      - image: busybox"),
        "{}",
        stdout(&more)
    );
}

#[test]
fn kubectl_patch_with_each_patch_type() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, false)));
    let names = |sandbox: &Sandbox| {
        ok(&sandbox.kubectl(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ]))
    };

    // Strategic: containers merge by name.
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}"#,
    ]));
    assert_eq!(names(&sandbox), "web sidecar");
    // ... and `$patch: delete` removes one by its key.
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
    ]));
    assert_eq!(names(&sandbox), "web");

    // Merge: lists are replaced wholesale, null deletes.
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":"front"}},"spec":{"template":{"spec":{"containers":[{"name":"only","image":"redis"}]}}}}"#,
    ]));
    assert_eq!(names(&sandbox), "only");
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":null}}}"#,
    ]));
    let labels = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.metadata.labels}",
    ]));
    assert!(!labels.contains("tier"), "{labels}");

    // JSON patch: operations in order; a failed test leaves the object alone.
    ok(&sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":4}]"#,
    ]));
    let replicas = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]));
    assert_eq!(replicas, "4");
    let failed = sandbox.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":9}]"#,
    ]);
    assert!(!failed.status.success());
    let replicas = ok(&sandbox.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]));
    assert_eq!(replicas, "4");

    // The patcher owns what it changed.
    let live = get_json(&sandbox, &["deployment", "web"]);
    let patcher = entry(&live, "kubectl-patch", "Update").expect("kubectl-patch entry");
    assert!(
        patcher["fieldsV1"]["f:spec"].get("f:replicas").is_some(),
        "{patcher}"
    );
}

#[test]
fn service_defaults_are_visible_to_kubectl() {
    let sandbox = Sandbox::start();
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
    ));
    let svc = get_json(&sandbox, &["service", "web"]);
    let spec = &svc["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["ports"][0]["protocol"], "TCP");
    assert_eq!(spec["ports"][0]["targetPort"], 80);
    assert_eq!(spec["ipFamilies"], serde_json::json!(["IPv4"]));
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    let ip = spec["clusterIP"].as_str().expect("clusterIP allocated");
    assert!(ip.starts_with("10.9"), "{ip}");
    // Re-applying without clusterIP keeps the allocated address.
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "-f", "-"],
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n    name: http\n",
    ));
    let again = get_json(&sandbox, &["service", "web"]);
    assert_eq!(again["spec"]["clusterIP"], ip);
}

#[test]
fn invalid_and_unknown_fields_are_rejected_like_a_real_server() {
    let sandbox = Sandbox::start();
    let mismatched = deployment(1, false).replace("labels: {app: web}", "labels: {app: other}");
    let out = sandbox.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &mismatched);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("The Deployment \"web\" is invalid"), "{err}");
    assert!(
        err.contains("spec.template.metadata.labels: Invalid value"),
        "{err}"
    );
    assert!(
        err.contains("`selector` does not match template `labels`"),
        "{err}"
    );

    let no_image = deployment(1, false).replace("        image: nginx:1.27\n", "");
    let out = sandbox.kubectl_stdin(&["apply", "-f", "-"], &no_image);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("spec.template.spec.containers[0].image: Required value"),
        "{err}"
    );

    // kubectl validates strictly by default, through the server (fieldValidation=Strict).
    let unknown = deployment(1, false).replace("  replicas: 1\n", "  replicas: 1\n  replica: 2\n");
    let out = sandbox.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &unknown);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unknown field \"spec.replica\""), "{err}");
    // With --validate=false the field is dropped and the apply succeeds.
    ok(&sandbox.kubectl_stdin(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        &unknown,
    ));

    // The selector cannot change once set.
    let reselected = deployment(1, false)
        .replace(
            "matchLabels: {app: web}",
            "matchLabels: {app: web, v: \"2\"}",
        )
        .replace("labels: {app: web}", "labels: {app: web, v: \"2\"}");
    let out = sandbox.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &reselected);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("spec.selector: Invalid value"), "{err}");
    assert!(err.contains("field is immutable"), "{err}");
}

/// One object of most built-in kinds a chart uses, as a chart author writes them.
const MANY_KINDS: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: NS}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres:16
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]
        livenessProbe: {tcpSocket: {port: 5432}}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: NS}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox, args: [sleep, "1000"]}]
      volumes: [{name: cfg, configMap: {name: agent}}, {name: tmp, emptyDir: {}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: NS}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: busybox}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: NS}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: nightly, image: busybox:1.36}]
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: NS}
spec:
  type: NodePort
  selector: {app: db}
  ports: [{name: pg, port: 5432, targetPort: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: NS}
spec:
  rules:
  - host: example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: NS}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: NS}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: NS}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: NS}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: r, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: ServiceAccount, name: default, namespace: NS}]
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: NS}
stringData: {password: hunter2}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: NS}
"#;

#[test]
fn defaults_never_show_up_as_diffs_for_any_kind() {
    let sandbox = Sandbox::start();
    // Server-side: apply, then a server-side dry-run diff of the same manifest is empty.
    let ssa = sandbox.write_file("ssa.yaml", &MANY_KINDS.replace("NS", "default"));
    let ssa = ssa.to_str().expect("utf-8 path");
    ok(&sandbox.kubectl(&["apply", "--server-side", "-f", ssa]));
    let diff = sandbox.kubectl(&["diff", "--server-side", "-f", ssa]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "{}{}",
        stdout(&diff),
        stderr(&diff)
    );

    // Client-side: apply, then the three-way-patch dry-run diff is empty too.
    ok(&sandbox.kubectl(&["create", "namespace", "csa"]));
    let csa = sandbox.write_file("csa.yaml", &MANY_KINDS.replace("NS", "csa"));
    let csa = csa.to_str().expect("utf-8 path");
    ok(&sandbox.kubectl(&["apply", "-f", csa]));
    let diff = sandbox.kubectl(&["diff", "-f", csa]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "{}{}",
        stdout(&diff),
        stderr(&diff)
    );

    // A real change to one object is the only diff.
    let changed = MANY_KINDS
        .replace("NS", "csa")
        .replace("maxReplicas: 5", "maxReplicas: 7");
    sandbox.write_file("csa.yaml", &changed);
    let diff = sandbox.kubectl(&["diff", "-f", csa]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let text = stdout(&diff);
    assert!(text.contains("+  maxReplicas: 7"), "{text}");
    assert_eq!(text.matches("diff -u -N").count(), 1, "{text}");

    // The Job got its generated selector and the StatefulSet its claim defaults.
    let job = get_json(&sandbox, &["job", "once", "-n", "csa"]);
    let uid = job["metadata"]["uid"].as_str().expect("uid");
    assert_eq!(
        job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
        uid
    );
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"]["job-name"],
        "once"
    );
    assert_eq!(job["spec"]["backoffLimit"], 6);
    let sts = get_json(&sandbox, &["statefulset", "db", "-n", "csa"]);
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
}
