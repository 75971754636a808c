//! Bad input gets the Status a real API server answers, and the server keeps serving.

mod common;

use common::{ok, stderr, Sandbox};

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn assert_status(r: &common::RawResponse, code: u16, reason: &str) -> serde_json::Value {
    let body = r.json();
    assert_eq!(r.status, code, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    body
}

#[test]
fn malformed_and_oversized_bodies_get_status_errors() {
    let sandbox = Sandbox::start();
    let cms = "/api/v1/namespaces/default/configmaps";
    assert_status(
        &sandbox.request("POST", cms, &[JSON], b"{not json"),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request("POST", cms, &[JSON], b"[1, 2]"),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request("POST", cms, &[("Content-Type", "text/plain")], b"hello"),
        415,
        "UnsupportedMediaType",
    );
    assert_status(
        &sandbox.request(
            "POST",
            cms,
            &[("Content-Type", "application/vnd.kubernetes.protobuf")],
            b"k8s\0\xff\xfe",
        ),
        400,
        "BadRequest",
    );
    let apply = [("Content-Type", "application/apply-patch+yaml")];
    assert_status(
        &sandbox.request(
            "PATCH",
            &format!("{cms}/x?fieldManager=t"),
            &apply,
            b"a: [unclosed",
        ),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request(
            "PATCH",
            &format!("{cms}/x"),
            &apply,
            b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}",
        ),
        422,
        "Invalid",
    );
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    assert_status(
        &sandbox.request("POST", cms, &[JSON], &big),
        413,
        "RequestEntityTooLarge",
    );
    assert_status(
        &sandbox.request(
            "PATCH",
            &format!("{cms}/x"),
            &[("Content-Type", "application/xml")],
            b"<x/>",
        ),
        415,
        "UnsupportedMediaType",
    );

    let version = sandbox.request("GET", "/version", &[], b"");
    assert_eq!(version.status, 200, "the server keeps serving");
}

#[test]
fn unknown_kinds_paths_and_verbs() {
    let sandbox = Sandbox::start();
    let nf = assert_status(
        &sandbox.request("GET", "/api/v1/namespaces/default/widgets", &[], b""),
        404,
        "NotFound",
    );
    assert_eq!(
        nf["message"],
        "the server could not find the requested resource"
    );
    assert_status(
        &sandbox.request("GET", "/apis/example.com/v1/things", &[], b""),
        404,
        "NotFound",
    );
    assert_status(
        &sandbox.request("GET", "/nonsense", &[], b""),
        404,
        "NotFound",
    );
    let missing = assert_status(
        &sandbox.request(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/nope",
            &[],
            b"",
        ),
        404,
        "NotFound",
    );
    assert_eq!(missing["message"], "deployments.apps \"nope\" not found");
    assert_eq!(missing["details"]["kind"], "deployments");
    assert_eq!(missing["details"]["group"], "apps");
    assert_status(
        &sandbox.request(
            "POST",
            "/api/v1/namespaces/default/configmaps/x",
            &[JSON],
            b"{}",
        ),
        405,
        "MethodNotAllowed",
    );
    assert_status(
        &sandbox.request(
            "GET",
            "/api/v1/namespaces/default/configmaps?labelSelector=a%3D%3D%3Db",
            &[],
            b"",
        ),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request(
            "GET",
            "/api/v1/namespaces/default/configmaps?fieldSelector=spec.x%3D1",
            &[],
            b"",
        ),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request(
            "POST",
            "/api/v1/namespaces/default/configmaps?dryRun=Maybe",
            &[JSON],
            b"{\"metadata\":{\"name\":\"a\"}}",
        ),
        400,
        "BadRequest",
    );
    assert_status(
        &sandbox.request(
            "GET",
            "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true",
            &[],
            b"",
        ),
        422,
        "Invalid",
    );
}

#[test]
fn conflicts_invalid_names_and_field_validation() {
    let sandbox = Sandbox::start();
    let cms = "/api/v1/namespaces/default/configmaps";
    let created = sandbox.request(
        "POST",
        cms,
        &[JSON],
        br#"{"metadata":{"name":"a"},"data":{"k":"1"}}"#,
    );
    assert_eq!(created.status, 201);
    let rv = created.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    assert_status(
        &sandbox.request("POST", cms, &[JSON], br#"{"metadata":{"name":"a"}}"#),
        409,
        "AlreadyExists",
    );
    let update =
        format!(r#"{{"metadata":{{"name":"a","resourceVersion":"{rv}"}},"data":{{"k":"2"}}}}"#);
    assert_eq!(
        sandbox
            .request("PUT", &format!("{cms}/a"), &[JSON], update.as_bytes())
            .status,
        200
    );
    let stale = assert_status(
        &sandbox.request("PUT", &format!("{cms}/a"), &[JSON], update.as_bytes()),
        409,
        "Conflict",
    );
    assert!(
        stale["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the object has been modified"),
        "{stale}"
    );
    let invalid = assert_status(
        &sandbox.request(
            "POST",
            cms,
            &[JSON],
            br#"{"metadata":{"name":"Not_Valid"}}"#,
        ),
        422,
        "Invalid",
    );
    assert_eq!(invalid["details"]["causes"][0]["field"], "metadata.name");
    let unnamed = assert_status(
        &sandbox.request("POST", cms, &[JSON], br#"{"metadata":{}}"#),
        422,
        "Invalid",
    );
    assert!(unnamed["message"]
        .as_str()
        .unwrap_or_default()
        .contains("name or generateName is required"));
    let generated = sandbox.request(
        "POST",
        cms,
        &[JSON],
        br#"{"metadata":{"generateName":"gen-"}}"#,
    );
    assert_eq!(generated.status, 201);
    let name = generated.json()["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let strict = assert_status(
        &sandbox.request(
            "POST",
            &format!("{cms}?fieldValidation=Strict"),
            &[JSON],
            br#"{"metadata":{"name":"s"},"bogus":1}"#,
        ),
        400,
        "BadRequest",
    );
    assert!(
        strict["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown field \"bogus\""),
        "{strict}"
    );
    let warned = sandbox.request(
        "POST",
        &format!("{cms}?fieldValidation=Warn"),
        &[JSON],
        br#"{"metadata":{"name":"w"},"bogus":1}"#,
    );
    assert_eq!(warned.status, 201);
    assert!(
        warned
            .header("warning")
            .unwrap_or_default()
            .contains("unknown field"),
        "{:?}",
        warned.headers
    );

    let dry = sandbox.request(
        "POST",
        &format!("{cms}?dryRun=All"),
        &[JSON],
        br#"{"metadata":{"name":"dry"}}"#,
    );
    assert_eq!(dry.status, 201);
    assert_status(
        &sandbox.request("GET", &format!("{cms}/dry"), &[], b""),
        404,
        "NotFound",
    );

    let secret = sandbox.request(
        "POST",
        "/api/v1/namespaces/default/secrets",
        &[JSON],
        br#"{"metadata":{"name":"s"},"stringData":{"password":"hunter2"}}"#,
    );
    assert_eq!(secret.status, 201);
    let body = secret.json();
    assert_eq!(body["data"]["password"], "aHVudGVyMg==");
    assert!(body.get("stringData").is_none());
    assert_eq!(body["type"], "Opaque");
    assert_status(
        &sandbox.request(
            "POST",
            "/api/v1/namespaces/default/secrets",
            &[JSON],
            br#"{"metadata":{"name":"b"},"data":{"x":"%%%"}}"#,
        ),
        400,
        "BadRequest",
    );
}

#[test]
fn watch_from_a_compacted_version_is_gone() {
    let sandbox = Sandbox::start();
    let r = sandbox.request(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=5&timeoutSeconds=5",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    let text = String::from_utf8_lossy(&r.body);
    let event: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or("")).expect("one event");
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
}

#[test]
fn crds_serve_their_kinds_once_established() {
    let sandbox = Sandbox::start();
    let crd = sandbox.write_file(
        "crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
",
    );
    ok(&sandbox.kubectl(&[
        "apply",
        "--server-side",
        "-f",
        crd.to_str().expect("utf-8 path"),
    ]));
    let established = ok(&sandbox.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=60s",
    ]));
    assert!(established.contains("condition met"), "{established}");
    let resources = ok(&sandbox.kubectl(&["api-resources", "--api-group=example.com"]));
    assert!(
        resources.contains("widgets") && resources.contains("wd"),
        "{resources}"
    );
    let widget = sandbox.write_file(
        "widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n",
    );
    let widget = widget.to_str().expect("utf-8 path");
    ok(&sandbox.kubectl(&["apply", "--server-side", "-f", widget]));
    let size = ok(&sandbox.kubectl(&[
        "get",
        "wd",
        "w1",
        "-o",
        "jsonpath={.spec.size} {.metadata.generation}",
    ]));
    assert_eq!(size, "3 1");
    let listed = sandbox.request(
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets",
        &[],
        b"",
    );
    let list = listed.json();
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(list["items"][0]["kind"], "Widget");
    ok(&sandbox.kubectl(&["delete", "crd", "widgets.example.com"]));
    let gone = sandbox.kubectl(&["get", "widgets.example.com"]);
    assert!(!gone.status.success(), "{}", stderr(&gone));
    assert_status(
        &sandbox.request(
            "GET",
            "/apis/example.com/v1/namespaces/default/widgets",
            &[],
            b"",
        ),
        404,
        "NotFound",
    );
}

#[test]
fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().expect("utf-8 path");
    let first = Sandbox::start_with(&["--state", state_arg]);
    ok(&first.kubectl(&["create", "namespace", "kept"]));
    ok(&first.kubectl(&[
        "create",
        "configmap",
        "c",
        "-n",
        "kept",
        "--from-literal=k=v",
    ]));
    assert!(first.stop(), "graceful shutdown");
    let text = std::fs::read_to_string(&state).expect("state file written");
    assert!(text.contains("\"kept\""), "{text}");
    let second = Sandbox::start_with(&["--state", state_arg]);
    let value = ok(&second.kubectl(&["get", "cm", "c", "-n", "kept", "-o", "jsonpath={.data.k}"]));
    assert_eq!(value, "v");
    let created = ok(&second.kubectl(&["create", "configmap", "d", "-n", "kept"]));
    assert!(created.contains("created"), "{created}");
}

#[test]
fn wrongly_shaped_objects_are_bad_requests() {
    let sandbox = Sandbox::start();
    for body in [
        r#"{"metadata":{"name":"a","labels":"x"}}"#,
        r#"{"metadata":{"name":"a","labels":{"k":1}}}"#,
        r#"{"metadata":{"name":"a","finalizers":"x"}}"#,
        r#"{"metadata":{"name":["a"]}}"#,
        r#"{"metadata":{"name":"a"},"data":[1]}"#,
        r#"{"metadata":"nope"}"#,
    ] {
        let r = sandbox.request(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &[JSON],
            body.as_bytes(),
        );
        assert_status(&r, 400, "BadRequest");
    }
    let ns = sandbox.request(
        "POST",
        "/api/v1/namespaces",
        &[JSON],
        br#"{"metadata":{"name":"x"},"spec":"s"}"#,
    );
    assert_status(&ns, 400, "BadRequest");
    let apply = sandbox.request(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d?fieldManager=t",
        &[("Content-Type", "application/apply-patch+yaml")],
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  annotations: [1]\n",
    );
    assert_status(&apply, 400, "BadRequest");
    assert_eq!(sandbox.request("GET", "/version", &[], b"").status, 200);
}
