//! OpenAPI v3 documents for CRD-defined kinds: real servers publish `apis/GROUP/VERSION` for
//! every served CRD version, and kubectl looks there for the `fieldValidation` parameter of the
//! kind's PATCH operation before it sends `fieldValidation=Strict`.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use super::resources::ResourceType;

/// The `/openapi/v3` index entries (`apis/G/V` → URL with hash) for custom group-versions.
pub fn index_entries(types: &[&ResourceType], crds: &[Value]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut gvs: Vec<(String, String)> = types
        .iter()
        .map(|t| (t.gvk.group.clone(), t.gvk.version.clone()))
        .collect();
    gvs.sort();
    gvs.dedup();
    for (group, version) in gvs {
        let doc = document(types, crds, &group, &version);
        let path = format!("apis/{group}/{version}");
        out.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", hash(&doc))}),
        );
    }
    out
}

fn hash(document: &Value) -> String {
    hex::encode_upper(Sha512::digest(
        serde_json::to_vec(document).unwrap_or_default(),
    ))
}

/// The document for one custom group-version, built from the CRDs' schemas.
pub fn document(types: &[&ResourceType], crds: &[Value], group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in types
        .iter()
        .filter(|t| t.gvk.group == group && t.gvk.version == version)
    {
        let gvk = json!({"group": group, "version": version, "kind": t.gvk.kind});
        let reversed: Vec<&str> = group.split('.').rev().collect();
        let schema_name = format!("{}.{}.{}", reversed.join("."), version, t.gvk.kind);
        let mut schema = crds
            .iter()
            .find(|c| {
                c["spec"]["group"] == group && c["spec"]["names"]["plural"] == t.plural.as_str()
            })
            .and_then(|c| {
                c["spec"]["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["name"] == version)
                    .map(|v| v["schema"]["openAPIV3Schema"].clone())
            })
            .filter(Value::is_object)
            .unwrap_or_else(
                || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            );
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        let reference = json!({"$ref": format!("#/components/schemas/{schema_name}")});
        schemas.insert(schema_name, schema);
        let base = if t.namespaced {
            format!(
                "/apis/{group}/{version}/namespaces/{{namespace}}/{}",
                t.plural
            )
        } else {
            format!("/apis/{group}/{version}/{}", t.plural)
        };
        let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
        let body = |types: &[&str]| {
            let content: Map<String, Value> = types
                .iter()
                .map(|ct| (ct.to_string(), json!({"schema": reference.clone()})))
                .collect();
            json!({"content": content, "required": true})
        };
        let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference.clone()}}}});
        let operation = |verb: &str, params: Vec<Value>, request: Option<Value>| {
            let mut op = json!({
                "operationId": format!("{verb}{}", t.gvk.kind),
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk.clone(),
                "parameters": params,
                "responses": ok.clone(),
            });
            if let Some(r) = request {
                op["requestBody"] = r;
            }
            op
        };
        let write_params = || {
            vec![
                query("dryRun"),
                query("fieldManager"),
                query("fieldValidation"),
            ]
        };
        let mut patch_params = write_params();
        patch_params.push(query("force"));
        paths.insert(
            format!("{base}/{{name}}"),
            json!({
                "get": operation("get", vec![], None),
                "put": operation("put", write_params(), Some(body(&["application/json", "application/yaml"]))),
                "patch": operation("patch", patch_params, Some(body(&[
                    "application/apply-patch+yaml",
                    "application/json-patch+json",
                    "application/merge-patch+json",
                ]))),
                "delete": operation("delete", vec![query("dryRun")], None),
            }),
        );
        paths.insert(
            base,
            json!({
                "get": operation("list", vec![], None),
                "post": operation("post", write_params(), Some(body(&["application/json", "application/yaml"]))),
            }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}
