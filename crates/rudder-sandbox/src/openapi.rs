//! The OpenAPI documents served at `/openapi/v2` and `/openapi/v3`.
//!
//! kubectl and Helm read them before they write anything: both refuse to apply unless the kind's
//! PATCH operation in the group-version document lists the `fieldValidation` query parameter and
//! carries `x-kubernetes-group-version-kind` (cli-runtime's `supportsQueryParamV3`), and kubectl
//! builds strategic-merge-patch metadata from `components.schemas` when the PATCH operation
//! accepts `application/strategic-merge-patch+json`. Documents are built once from the schema
//! table and cached with their hash, which changes whenever a document does (clients cache by it).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use super::schema::{self, KindInfo};

const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// A group-version document and the hash clients cache it by.
struct Published {
    document: Value,
    hash: String,
}

fn published() -> &'static BTreeMap<String, Published> {
    static DOCS: OnceLock<BTreeMap<String, Published>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut by_gv: BTreeMap<String, Vec<&KindInfo>> = BTreeMap::new();
        for info in schema::kinds() {
            by_gv.entry(gv_path(info)).or_default().push(info);
        }
        by_gv
            .into_iter()
            .map(|(path, kinds)| {
                let document = build_v3_document(&kinds);
                let hash = document_hash(&document);
                (path, Published { document, hash })
            })
            .collect()
    })
}

/// `api/v1` or `apis/GROUP/VERSION`: the key in the v3 index and the document's path.
fn gv_path(info: &KindInfo) -> String {
    if info.group.is_empty() {
        format!("api/{}", info.version)
    } else {
        format!("apis/{}/{}", info.group, info.version)
    }
}

fn document_hash(document: &Value) -> String {
    let bytes = serde_json::to_vec(document).unwrap_or_default();
    hex::encode_upper(Sha512::digest(&bytes))
}

/// `/openapi/v3`: the index of group-version documents, each with a `?hash=` URL.
pub fn v3_index() -> Value {
    let paths: Map<String, Value> = published()
        .iter()
        .map(|(path, doc)| {
            (
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", doc.hash)}),
            )
        })
        .collect();
    json!({ "paths": paths })
}

/// `/openapi/v3/apis/GROUP/VERSION` or `/openapi/v3/api/v1` (the `/openapi/v3/` prefix and a
/// query string are optional); `None` when not served.
pub fn v3_document(path: &str) -> Option<Value> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("openapi/v3/").unwrap_or(path);
    let path = path.trim_end_matches('/');
    published().get(path).map(|doc| doc.document.clone())
}

/// The hash in the v3 index for a group-version path (for `ETag`/cache headers).
pub fn v3_document_hash(path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("openapi/v3/").unwrap_or(path);
    published().get(path).map(|doc| doc.hash.clone())
}

/// The media type client-go asks `/openapi/v2` for.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// The Content-Type of that answer: kube-openapi spells it with a `.`, because Go's MIME parser
/// (and so client-go) rejects the `@`.
pub const V2_PROTOBUF_RETURNED: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// `/openapi/v2` as JSON (the complete document).
pub fn v2_document() -> Value {
    static V2: OnceLock<Value> = OnceLock::new();
    V2.get_or_init(build_v2_document).clone()
}

/// `/openapi/v2` in gnostic's protobuf encoding (`openapi.v2.Document`), as kubectl asks for it:
/// `swagger`, `info`, and empty `paths` and `definitions`.
///
/// kubectl 1.32 reads v2 only when v3 does not describe a kind (custom kinds a CRD has not
/// published yet, kinds nobody serves): then it validates client-side against v2. A document
/// without definitions makes it skip that validation, exactly what a real server's v2 (which
/// lacks those kinds too) leads to, so kubectl goes on to its own "no matches for kind" error
/// instead of failing to download the schema.
pub fn v2_protobuf(kube_version: &str) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
        out.push(number << 3 | 2);
        let mut len = bytes.len();
        while len >= 0x80 {
            out.push((len as u8 & 0x7f) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(bytes);
    }
    let mut info = Vec::new();
    field(&mut info, 1, b"Kubernetes");
    field(&mut info, 2, kube_version.as_bytes());
    let mut document = Vec::new();
    field(&mut document, 1, b"2.0");
    field(&mut document, 2, &info);
    field(&mut document, 8, &[]);
    field(&mut document, 9, &[]);
    document
}

fn build_v3_document(kinds: &[&KindInfo]) -> Value {
    let mut paths = Map::new();
    let mut roots: Vec<&str> = vec![STATUS, DELETE_OPTIONS, PATCH, WATCH_EVENT];
    for info in kinds {
        add_kind_paths(&mut paths, info, Version::V3);
        roots.push(&info.schema);
        roots.push(&info.list_schema);
        if info.subresources.iter().any(|s| s == "scale") {
            roots.push(SCALE);
        }
    }
    let schemas: Map<String, Value> = reachable(&roots)
        .into_iter()
        .filter_map(|name| {
            let def = schema::table().definitions.get(&name)?;
            Some((name, publish_v3(def)))
        })
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": schema::table().kubernetes_version},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn build_v2_document() -> Value {
    let mut paths = Map::new();
    for info in schema::kinds() {
        add_kind_paths(&mut paths, info, Version::V2);
    }
    let definitions: Map<String, Value> = schema::table()
        .definitions
        .iter()
        .map(|(name, def)| (name.clone(), publish_v2(def)))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": schema::table().kubernetes_version},
        "paths": paths,
        "definitions": definitions,
    })
}

/// Definition names reachable from `roots` through `$ref`s.
fn reachable(roots: &[&str]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().map(|s| s.to_string()).collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = schema::table().definitions.get(&name) {
            collect_refs(def, &mut todo);
        }
    }
    seen
}

fn collect_refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = schema::ref_name(node) {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// A real server wraps a `$ref` that has sibling keywords in `allOf`, since OpenAPI 3.0 ignores
/// siblings of `$ref`; kubectl reads the patch extensions from those siblings.
fn publish_v3(node: &Value) -> Value {
    match node {
        Value::Object(map) => {
            // A `$ref` key with a non-string value is a property *named* `$ref` (as in
            // JSONSchemaProps.properties), not a reference.
            let mut out: Map<String, Value> = map
                .iter()
                .filter(|(k, v)| !(k.as_str() == "$ref" && v.is_string()))
                .map(|(k, v)| (k.clone(), publish_v3(v)))
                .collect();
            if let Some(reference @ Value::String(_)) = map.get("$ref") {
                if out.is_empty() {
                    out.insert("$ref".into(), reference.clone());
                } else {
                    out.insert("allOf".into(), json!([{ "$ref": reference }]));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(publish_v3).collect()),
        other => other.clone(),
    }
}

fn publish_v2(node: &Value) -> Value {
    match node {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            Value::String(r.replace("#/components/schemas/", "#/definitions/"))
                        }
                        _ => publish_v2(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(publish_v2).collect()),
        other => other.clone(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Version {
    V2,
    V3,
}

impl Version {
    fn schema_ref(self, name: &str) -> Value {
        match self {
            Version::V3 => json!({ "$ref": format!("#/components/schemas/{name}") }),
            Version::V2 => json!({ "$ref": format!("#/definitions/{name}") }),
        }
    }
}

fn query_param(version: Version, name: &str, kind: &str) -> Value {
    match version {
        Version::V3 => {
            json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}})
        }
        Version::V2 => json!({"name": name, "in": "query", "type": kind, "uniqueItems": true}),
    }
}

fn path_param(version: Version, name: &str) -> Value {
    match version {
        Version::V3 => json!({"name": name, "in": "path", "required": true,
                              "schema": {"type": "string", "uniqueItems": true}}),
        Version::V2 => json!({"name": name, "in": "path", "required": true,
                              "type": "string", "uniqueItems": true}),
    }
}

/// What an operation of one kind needs to know to be written out.
struct OperationSpec<'a> {
    version: Version,
    action: &'a str,
    operation_id: String,
    gvk: Value,
    params: Vec<Value>,
    body: Option<(Vec<&'a str>, &'a str)>,
    response: &'a str,
}

fn operation(spec: OperationSpec<'_>) -> Value {
    let OperationSpec {
        version,
        action,
        operation_id,
        gvk,
        params,
        body,
        response,
    } = spec;
    let mut op = json!({
        "operationId": operation_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": params,
    });
    let consumes: Vec<&str> = body.as_ref().map(|(c, _)| c.clone()).unwrap_or_default();
    match version {
        Version::V3 => {
            if let Some((content_types, schema_name)) = &body {
                let content: Map<String, Value> = content_types
                    .iter()
                    .map(|ct| {
                        (
                            ct.to_string(),
                            json!({ "schema": version.schema_ref(schema_name) }),
                        )
                    })
                    .collect();
                op["requestBody"] = json!({"content": content, "required": true});
            }
            let ok = json!({"description": "OK", "content": {
                "application/json": {"schema": version.schema_ref(response)},
                "application/yaml": {"schema": version.schema_ref(response)},
                "application/vnd.kubernetes.protobuf": {"schema": version.schema_ref(response)},
            }});
            op["responses"] = json!({"200": ok.clone(), "401": {"description": "Unauthorized"}});
            if matches!(action, "post" | "patch" | "put") {
                op["responses"]["201"] = ok;
            }
        }
        Version::V2 => {
            if let Some((content_types, schema_name)) = &body {
                op["consumes"] = json!(consumes);
                let mut params = op["parameters"].as_array().cloned().unwrap_or_default();
                params.push(json!({"name": "body", "in": "body", "required": true,
                                   "schema": version.schema_ref(schema_name)}));
                op["parameters"] = Value::Array(params);
                let _ = content_types;
            }
            op["produces"] = json!([
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf"
            ]);
            op["responses"] = json!({
                "200": {"description": "OK", "schema": version.schema_ref(response)},
                "401": {"description": "Unauthorized"},
            });
        }
    }
    op
}

fn add_kind_paths(paths: &mut Map<String, Value>, info: &KindInfo, version: Version) {
    let prefix = if info.group.is_empty() {
        format!("/api/{}", info.version)
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    let gvk = json!({"group": info.group, "version": info.version, "kind": info.kind});
    let id_prefix = operation_id_prefix(info);
    let scope = if info.namespaced { "Namespaced" } else { "" };
    let collection = if info.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("{prefix}/{}", info.plural)
    };
    let item = format!("{collection}/{{name}}");
    let mut path_params = vec![query_param(version, "pretty", "string")];
    if info.namespaced {
        path_params.insert(0, path_param(version, "namespace"));
    }
    let write_params = |with_force: bool| {
        let mut params = vec![
            query_param(version, "dryRun", "string"),
            query_param(version, "fieldManager", "string"),
            query_param(version, "fieldValidation", "string"),
        ];
        if with_force {
            params.push(query_param(version, "force", "boolean"));
        }
        params
    };
    let list_params = || {
        [
            "allowWatchBookmarks",
            "continue",
            "fieldSelector",
            "labelSelector",
            "limit",
            "resourceVersion",
            "resourceVersionMatch",
            "sendInitialEvents",
            "timeoutSeconds",
            "watch",
        ]
        .iter()
        .map(|name| {
            let kind = match *name {
                "allowWatchBookmarks" | "sendInitialEvents" | "watch" => "boolean",
                "limit" | "timeoutSeconds" => "integer",
                _ => "string",
            };
            query_param(version, name, kind)
        })
        .collect::<Vec<_>>()
    };
    // Only built-in kinds are in the table, and they all take strategic merge patches.
    let patch_types = vec![
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ];
    let json_types = vec!["application/json", "application/yaml"];

    // Collection: list, create, delete collection.
    let mut collection_ops = Map::new();
    collection_ops.insert(
        "get".into(),
        operation(OperationSpec {
            version,
            action: "list",
            operation_id: format!("list{id_prefix}{scope}{}", info.kind),
            gvk: gvk.clone(),
            params: list_params(),
            body: None,
            response: &info.list_schema,
        }),
    );
    collection_ops.insert(
        "post".into(),
        operation(OperationSpec {
            version,
            action: "post",
            operation_id: format!("create{id_prefix}{scope}{}", info.kind),
            gvk: gvk.clone(),
            params: write_params(false),
            body: Some((json_types.clone(), &info.schema)),
            response: &info.schema,
        }),
    );
    collection_ops.insert(
        "delete".into(),
        operation(OperationSpec {
            version,
            action: "deletecollection",
            operation_id: format!("deletecollection{id_prefix}{scope}{}", info.kind),
            gvk: gvk.clone(),
            params: list_params(),
            body: Some((json_types.clone(), DELETE_OPTIONS)),
            response: STATUS,
        }),
    );
    collection_ops.insert("parameters".into(), Value::Array(path_params.clone()));
    paths.insert(collection, Value::Object(collection_ops));

    if info.namespaced {
        let mut all = Map::new();
        all.insert(
            "get".into(),
            operation(OperationSpec {
                version,
                action: "list",
                operation_id: format!("list{id_prefix}{}ForAllNamespaces", info.kind),
                gvk: gvk.clone(),
                params: list_params(),
                body: None,
                response: &info.list_schema,
            }),
        );
        all.insert(
            "parameters".into(),
            json!([query_param(version, "pretty", "string")]),
        );
        paths.insert(format!("{prefix}/{}", info.plural), Value::Object(all));
    }

    // Item, then its subresources: get, replace, patch (and delete for the item itself).
    let mut item_params = path_params.clone();
    item_params.insert(0, path_param(version, "name"));
    let mut targets = vec![(
        item.clone(),
        String::new(),
        info.schema.as_str(),
        gvk.clone(),
    )];
    for sub in &info.subresources {
        let (schema_name, sub_gvk) = if sub == "scale" {
            (
                SCALE,
                json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
            )
        } else {
            (info.schema.as_str(), gvk.clone())
        };
        let mut title = sub.clone();
        title[..1].make_ascii_uppercase();
        targets.push((format!("{item}/{sub}"), title, schema_name, sub_gvk));
    }
    for (path, suffix, schema_name, target_gvk) in targets {
        let mut ops = Map::new();
        let name = format!("{id_prefix}{scope}{}{suffix}", info.kind);
        ops.insert(
            "get".into(),
            operation(OperationSpec {
                version,
                action: "get",
                operation_id: format!("read{name}"),
                gvk: target_gvk.clone(),
                params: Vec::new(),
                body: None,
                response: schema_name,
            }),
        );
        ops.insert(
            "put".into(),
            operation(OperationSpec {
                version,
                action: "put",
                operation_id: format!("replace{name}"),
                gvk: target_gvk.clone(),
                params: write_params(false),
                body: Some((json_types.clone(), schema_name)),
                response: schema_name,
            }),
        );
        ops.insert(
            "patch".into(),
            operation(OperationSpec {
                version,
                action: "patch",
                operation_id: format!("patch{name}"),
                gvk: target_gvk.clone(),
                params: write_params(true),
                body: Some((patch_types.clone(), PATCH)),
                response: schema_name,
            }),
        );
        if suffix.is_empty() {
            let mut delete_params = vec![query_param(version, "dryRun", "string")];
            for (name, kind) in [
                ("gracePeriodSeconds", "integer"),
                ("propagationPolicy", "string"),
            ] {
                delete_params.push(query_param(version, name, kind));
            }
            ops.insert(
                "delete".into(),
                operation(OperationSpec {
                    version,
                    action: "delete",
                    operation_id: format!("delete{name}"),
                    gvk: target_gvk.clone(),
                    params: delete_params,
                    body: Some((json_types.clone(), DELETE_OPTIONS)),
                    response: STATUS,
                }),
            );
        }
        ops.insert("parameters".into(), Value::Array(item_params.clone()));
        paths.insert(path, Value::Object(ops));
    }
}

/// `CoreV1`, `AppsV1`, `NetworkingV1`, `RbacAuthorizationV1`, ... as in real operation ids.
fn operation_id_prefix(info: &KindInfo) -> String {
    let group = if info.group.is_empty() {
        "core".to_string()
    } else {
        info.group
            .trim_end_matches(".k8s.io")
            .split('.')
            .map(capitalise)
            .collect::<String>()
    };
    format!("{}{}", capitalise(&group), capitalise(&info.version))
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cli-runtime's `supportsQueryParamV3` does: find the PATCH operation whose GVK
    /// extension matches, then look for the parameter by name.
    fn patch_supports(doc: &Value, group: &str, version: &str, kind: &str, param: &str) -> bool {
        let paths = doc["paths"].as_object().expect("paths");
        paths.values().any(|path| {
            let op = &path["patch"];
            op["x-kubernetes-group-version-kind"]
                == json!({"group": group, "version": version, "kind": kind})
                && op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == param))
        })
    }

    #[test]
    fn index_lists_every_group_version_with_a_hash() {
        let index = v3_index();
        let paths = index["paths"].as_object().expect("paths");
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/apps/v1"));
        assert!(paths.contains_key("apis/autoscaling/v2"));
        assert!(paths.contains_key("apis/apiextensions.k8s.io/v1"));
        let url = paths["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("url");
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        let hash = url.rsplit('=').next().expect("hash");
        assert_eq!(hash.len(), 128);
        assert_eq!(v3_document_hash("apis/apps/v1").as_deref(), Some(hash));
    }

    #[test]
    fn every_kind_advertises_field_validation_on_patch() {
        for info in schema::kinds() {
            let doc = v3_document(&format!("/openapi/v3/{}", gv_path(info))).expect("document");
            assert_eq!(doc["openapi"], "3.0.0");
            assert!(
                patch_supports(
                    &doc,
                    &info.group,
                    &info.version,
                    &info.kind,
                    "fieldValidation"
                ),
                "{}",
                info.kind
            );
        }
    }

    #[test]
    fn kind_schemas_carry_gvk_and_merge_metadata() {
        let doc = v3_document("apis/apps/v1?hash=x").expect("apps/v1");
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        let strategy = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        assert_eq!(
            strategy["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
        );
        // Every $ref resolves inside the document.
        let mut refs = Vec::new();
        collect_refs_raw(&doc, &mut refs);
        for r in refs {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(schemas.get(name).is_some(), "dangling {r}");
        }
        let item = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
        assert!(item["patch"]["requestBody"]["content"]
            .get("application/strategic-merge-patch+json")
            .is_some());
        assert!(v3_document("apis/nothing/v1").is_none());
    }

    fn collect_refs_raw(node: &Value, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| collect_refs_raw(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs_raw(v, out)),
            _ => {}
        }
    }

    #[test]
    fn cluster_scoped_kinds_have_no_namespace_in_paths() {
        let doc = v3_document("api/v1").expect("core");
        assert!(doc["paths"].get("/api/v1/namespaces/{name}").is_some());
        assert!(doc["paths"]
            .get("/api/v1/namespaces/{namespace}/configmaps/{name}")
            .is_some());
        assert!(doc["paths"]
            .get("/api/v1/persistentvolumes/{name}")
            .is_some());
        assert_eq!(
            operation_id_prefix(&schema::kinds()[0]),
            "CoreV1",
            "core group ids"
        );
    }

    #[test]
    fn v2_uses_definitions_refs() {
        let doc = v2_document();
        assert_eq!(doc["swagger"], "2.0");
        let spec = &doc["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"];
        assert_eq!(
            spec["$ref"],
            "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
        );
    }
}
