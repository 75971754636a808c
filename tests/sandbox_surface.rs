//! The rest of the API surface, judged by kubectl's own output and exit codes: the `/scale`
//! subresource, `fieldValidation` modes, paging, every label selector form, OpenAPI v2
//! negotiation, Secret `stringData`, unknown kinds and `--state` across an abrupt stop.

mod common;

use common::{ok, stderr, stdout, Sandbox};

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web, tier: front}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, labels: {app: db, tier: back}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: postgres:16}
";

fn get_json(sandbox: &Sandbox, object: &str) -> serde_json::Value {
    let out = ok(&sandbox.kubectl(&["get", object, "-o", "json"]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl printed no JSON ({e}): {out}"))
}

/// Unknown fields are never stored (the last-applied annotation keeps the manifest as sent).
fn assert_typos_dropped(sandbox: &Sandbox) {
    let cm = get_json(sandbox, "cm/typo");
    assert!(cm.get("bogus").is_none(), "{cm}");
    assert_eq!(cm["data"]["k"], "v");
    let deploy = get_json(sandbox, "deploy/typo");
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("imagePullPolicyy").is_none(), "{container}");
    assert_eq!(container["image"], "nginx:1.27");
}

fn jsonpath(sandbox: &Sandbox, object: &str, path: &str) -> String {
    ok(&sandbox.kubectl(&["get", object, "-o", &format!("jsonpath={path}")]))
}

#[test]
fn kubectl_scale_goes_through_the_scale_subresource() {
    let sandbox = Sandbox::start_with(&["--no-controllers"]);
    ok(&sandbox.kubectl_stdin(&["apply", "--server-side", "-f", "-"], WEB));

    let scaled = ok(&sandbox.kubectl(&["scale", "deployment/web", "--replicas=5"]));
    assert_eq!(scaled, "deployment.apps/web scaled\n");
    assert_eq!(jsonpath(&sandbox, "deploy/web", "{.spec.replicas}"), "5");
    assert_eq!(
        jsonpath(&sandbox, "deploy/web", "{.metadata.generation}"),
        "2",
        "a replica change is a spec change"
    );
    let managers = jsonpath(
        &sandbox,
        "deploy/web",
        "{range .metadata.managedFields[*]}{.manager}/{.operation}/{.subresource};{end}",
    );
    assert!(managers.contains("/Update/scale;"), "{managers}");

    // --current-replicas is a precondition kubectl checks on the Scale it reads.
    let refused = sandbox.kubectl(&[
        "scale",
        "deploy/web",
        "--current-replicas=2",
        "--replicas=1",
    ]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("Expected replicas to be 2, was 5"),
        "{}",
        stderr(&refused)
    );
    ok(&sandbox.kubectl(&[
        "scale",
        "deploy/web",
        "--current-replicas=5",
        "--replicas=1",
    ]));
    assert_eq!(jsonpath(&sandbox, "deploy/web", "{.spec.replicas}"), "1");

    let sts = ok(&sandbox.kubectl(&["scale", "statefulset", "db", "--replicas=3"]));
    assert_eq!(sts, "statefulset.apps/db scaled\n");
    assert_eq!(jsonpath(&sandbox, "sts/db", "{.spec.replicas}"), "3");

    let scale = sandbox
        .request(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            &[],
            b"",
        )
        .json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=web");
    let negative = sandbox.request(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        &[("Content-Type", "application/merge-patch+json")],
        br#"{"spec":{"replicas":-1}}"#,
    );
    assert_eq!(negative.status, 422, "{}", negative.json());
    assert_eq!(
        negative.json()["details"]["causes"][0]["field"],
        "spec.replicas"
    );
    assert_eq!(jsonpath(&sandbox, "deploy/web", "{.spec.replicas}"), "1");
    let missing = sandbox.kubectl(&["scale", "deploy/nope", "--replicas=1"]);
    assert!(stderr(&missing).contains("NotFound") || stderr(&missing).contains("not found"));
}

const TYPO: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: typo}
data: {k: v}
bogus: 1
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  selector: {matchLabels: {app: typo}}
  template:
    metadata: {labels: {app: typo}}
    spec:
      containers:
      - {name: app, image: nginx:1.27, imagePullPolicyy: Always}
";

#[test]
fn field_validation_strict_warn_and_ignore_as_kubectl_reports_them() {
    let sandbox = Sandbox::start_with(&["--no-controllers"]);
    // Strict is kubectl's default: the server refuses the whole object.
    let strict = sandbox.kubectl_stdin(&["apply", "-f", "-"], TYPO);
    assert!(!strict.status.success());
    let err = stderr(&strict);
    assert!(
        err.contains("strict decoding error: unknown field \"bogus\""),
        "{err}"
    );
    assert!(
        err.contains("unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""),
        "{err}"
    );
    assert!(!sandbox.kubectl(&["get", "cm", "typo"]).status.success());

    // Warn: created, with the server's `Warning: 299` headers printed by kubectl.
    let warned = sandbox.kubectl_stdin(&["apply", "--validate=warn", "-f", "-"], TYPO);
    let err = stderr(&warned);
    assert!(warned.status.success(), "{err}");
    assert!(err.contains("Warning: unknown field \"bogus\""), "{err}");
    assert!(
        err.contains(
            "Warning: unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""
        ),
        "{err}"
    );
    assert_typos_dropped(&sandbox);

    // Ignore: no warning and nothing stored, for client-side and server-side apply alike.
    ok(&sandbox.kubectl(&["delete", "cm,deploy", "typo"]));
    for apply in [&["apply"][..], &["apply", "--server-side"][..]] {
        let mut args = apply.to_vec();
        args.extend(["--validate=false", "-f", "-"]);
        let ignored = sandbox.kubectl_stdin(&args, TYPO);
        let err = stderr(&ignored);
        assert!(ignored.status.success(), "{err}");
        assert!(!err.contains("unknown field"), "{err}");
        assert_typos_dropped(&sandbox);
        ok(&sandbox.kubectl(&["delete", "cm,deploy", "typo"]));
    }
}

#[test]
fn kubectl_pages_with_limit_and_continue_and_every_selector_form() {
    let sandbox = Sandbox::start_with(&["--no-controllers"]);
    for (name, labels) in [
        ("a", "app=web,tier=front"),
        ("b", "app=web,tier=back"),
        ("c", "app=db,tier=back"),
        ("d", "app=cache"),
        ("e", "tier=front"),
    ] {
        ok(&sandbox.kubectl(&["create", "configmap", name]));
        let mut args = vec!["label", "configmap", name];
        args.extend(labels.split(','));
        ok(&sandbox.kubectl(&args));
    }
    // --chunk-size=2 makes kubectl page: limit=2, then follow each continue token.
    let paged = sandbox.kubectl(&["get", "cm", "--chunk-size=2", "-o", "name", "-v=6"]);
    assert!(paged.status.success(), "{}", stderr(&paged));
    assert_eq!(
        stdout(&paged),
        "configmap/a\nconfigmap/b\nconfigmap/c\nconfigmap/d\nconfigmap/e\n"
    );
    let log = stderr(&paged);
    assert!(log.contains("limit=2"), "{log}");
    assert_eq!(
        log.matches("continue=").count(),
        2,
        "five items in pages of two need two continue tokens:\n{log}"
    );
    let table = ok(&sandbox.kubectl(&["get", "cm", "--chunk-size=1", "--no-headers"]));
    assert_eq!(table.lines().count(), 5, "{table}");

    let select = |selector: &str| -> String {
        ok(&sandbox.kubectl(&["get", "cm", "-l", selector, "-o", "name"]))
            .lines()
            .map(|l| l.trim_start_matches("configmap/"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(select("app=web"), "a,b");
    assert_eq!(select("app==web"), "a,b");
    assert_eq!(select("app!=web"), "c,d,e");
    assert_eq!(select("app in (db,cache)"), "c,d");
    assert_eq!(select("app notin (web,db)"), "d,e");
    assert_eq!(select("tier"), "a,b,c,e");
    assert_eq!(select("!tier"), "d");
    assert_eq!(select("app,tier=back,app!=db"), "b");
    let bad = sandbox.kubectl(&["get", "cm", "-l", "app in web"]);
    assert!(!bad.status.success(), "{}", stdout(&bad));
}

#[test]
fn openapi_v2_is_served_as_json_and_protobuf_and_other_formats_are_not_acceptable() {
    let sandbox = Sandbox::start();
    let pb = sandbox.request(
        "GET",
        "/openapi/v2",
        &[(
            "Accept",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
        )],
        b"",
    );
    assert_eq!(pb.status, 200);
    assert_eq!(
        pb.header("content-type"),
        Some("application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
    );
    // openapi.v2.Document field 1 (swagger) is "2.0".
    assert!(pb.body.starts_with(b"\x0a\x032.0"), "{:?}", pb.body);
    let json = sandbox.request("GET", "/openapi/v2", &[("Accept", "application/json")], b"");
    assert_eq!(json.status, 200);
    assert_eq!(json.json()["swagger"], "2.0");
    let xml = sandbox.request("GET", "/openapi/v2", &[("Accept", "application/xml")], b"");
    assert_eq!(xml.status, 406);
    assert_eq!(xml.json()["reason"], "NotAcceptable");
    // kubectl reads v3 for everything it knows; v2 protobuf only for kinds v3 lacks (the
    // unknown-kind test below shows kubectl getting past it to its own verdict).
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], WEB));
    let described = ok(&sandbox.kubectl(&["explain", "deployment.spec.replicas"]));
    assert!(described.contains("replicas"), "{described}");
}

#[test]
fn secrets_fold_string_data_and_unknown_kinds_are_refused() {
    let sandbox = Sandbox::start();
    let secret = "apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
data: {user: YWRtaW4=}
";
    for apply in [&["apply"][..], &["apply", "--server-side"][..]] {
        let mut args = apply.to_vec();
        args.extend(["-f", "-"]);
        ok(&sandbox.kubectl_stdin(&args, secret));
        let data = jsonpath(
            &sandbox,
            "secret/creds",
            "{.data.password} {.data.user} {.type}",
        );
        assert_eq!(data, "aHVudGVyMg== YWRtaW4= Opaque");
        let full = get_json(&sandbox, "secret/creds");
        assert!(full.get("stringData").is_none(), "{full}");
        ok(&sandbox.kubectl(&["delete", "secret", "creds"]));
    }
    let bad = sandbox.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ndata: {x: \"not base64!\"}\n",
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("illegal base64 data"),
        "{}",
        stderr(&bad)
    );

    let widget = sandbox.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    );
    assert!(!widget.status.success());
    assert!(
        stderr(&widget).contains("no matches for kind \"Widget\" in version \"example.com/v1\""),
        "{}",
        stderr(&widget)
    );
    let unknown = sandbox.kubectl(&["get", "widgets"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("the server doesn't have a resource type \"widgets\""),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn state_is_saved_on_every_change_not_only_at_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf-8 path");
    let first = Sandbox::start_with(&["--state", state_arg]);
    ok(&first.kubectl(&["create", "configmap", "kept", "--from-literal=k=v"]));
    let rv: u64 = jsonpath(&first, "cm/kept", "{.metadata.resourceVersion}")
        .parse()
        .expect("numeric resourceVersion");
    // Not a timing assertion: the save is asynchronous, so wait (boundedly) for it to land.
    let mut saved = false;
    for _ in 0..600 {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("\"kept\"") {
            saved = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(saved, "the state file never recorded the ConfigMap");
    // Dropping kills the process (SIGKILL): no shutdown save happens.
    drop(first);
    let second = Sandbox::start_with(&["--state", state_arg]);
    assert_eq!(jsonpath(&second, "cm/kept", "{.data.k}"), "v");
    ok(&second.kubectl(&["create", "configmap", "later"]));
    let later: u64 = jsonpath(&second, "cm/later", "{.metadata.resourceVersion}")
        .parse()
        .expect("numeric resourceVersion");
    assert!(
        later > rv,
        "resourceVersions keep increasing: {later} <= {rv}"
    );
    let namespaces = ok(&second.kubectl(&["get", "ns", "-o", "name"]));
    assert!(namespaces.contains("namespace/kube-system"), "{namespaces}");
}

#[test]
fn immutable_fields_are_refused_as_kubectl_shows_them() {
    let sandbox = Sandbox::start_with(&["--no-controllers"]);
    let job = "apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: run, image: busybox:1.36}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen}
immutable: true
data: {k: v}
";
    ok(&sandbox.kubectl_stdin(&["apply", "-f", "-"], job));

    let changed = job
        .replace("image: busybox:1.36", "image: busybox:1.37")
        .replace("ReadWriteOnce", "ReadWriteMany")
        .replace("data: {k: v}", "data: {k: w}");
    let out = sandbox.kubectl_stdin(&["apply", "-f", "-"], &changed);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("Job.batch \"once\" is invalid"), "{err}");
    assert!(err.contains("spec.template: Invalid value"), "{err}");
    assert!(err.contains("field is immutable"), "{err}");
    assert!(
        err.contains("PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after creation"),
        "{err}"
    );
    assert!(
        err.contains("ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"),
        "{err}"
    );

    let ip = jsonpath(&sandbox, "svc/web", "{.spec.clusterIP}");
    assert!(ip.starts_with("10."), "{ip}");
    let moved = sandbox.kubectl(&[
        "patch",
        "svc",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"clusterIP":"10.96.200.200","clusterIPs":["10.96.200.200"]}}"#,
    ]);
    assert!(!moved.status.success());
    assert!(
        stderr(&moved).contains("may not change once set"),
        "{}",
        stderr(&moved)
    );
    assert_eq!(jsonpath(&sandbox, "svc/web", "{.spec.clusterIP}"), ip);
    assert_eq!(
        jsonpath(
            &sandbox,
            "job/once",
            "{.spec.template.spec.containers[0].image}"
        ),
        "busybox:1.36"
    );
}
