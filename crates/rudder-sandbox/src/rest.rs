//! The resource endpoints: routing `/api/v1/...` and `/apis/G/V/...` to a resource type, and
//! the verbs get, list, create, update, patch, delete and deletecollection (watch is in
//! [`super::watch`]).
//!
//! Writes run the pipeline a real API server runs: decode → (patch | apply) → registry
//! preparation (system metadata, status reset, Secret folding, Namespace and CRD bookkeeping) →
//! defaults → validation → managedFields → store.

use std::sync::Arc;

use base64::Engine;
use http::Method;
use serde_json::{json, Map, Value};

use super::http::{ApiRequest, Outcome, Server};
use super::resources::{custom_types, GenerationRule, ResourceType};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{delete_success, ApiError};
use super::store::{ObjectKey, State, Txn};
use super::{apply, defaults, patch, protobuf, table, validate, watch};

/// Namespaces a real cluster refuses to delete.
const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// What a resource path addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub rt: Arc<ResourceType>,
    /// The namespace in the path (None: cluster-scoped or all namespaces).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Resolves the segments after `/api/v1` or `/apis/G/V` to a target.
pub fn resolve(
    state: &State,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Target, ApiError> {
    let find = |plural: &str| {
        state
            .catalog()
            .by_path(group, version, plural)
            .ok_or_else(ApiError::no_route)
    };
    let namespaced_path = rest.len() >= 3
        && rest[0] == "namespaces"
        && !(rest.len() == 3 && matches!(rest[2], "status" | "finalize"));
    let (namespace, rest) = if namespaced_path {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return Err(ApiError::no_route()),
    };
    let rt = find(plural)?;
    if namespace.is_some() && !rt.namespaced {
        return Err(ApiError::no_route());
    }
    if rt.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::no_route());
    }
    if let Some(s) = &sub {
        if !rt.has_subresource(s) {
            return Err(ApiError::no_route());
        }
    }
    Ok(Target {
        rt,
        namespace,
        name,
        subresource: sub,
    })
}

/// Handles a request under a group/version.
pub async fn handle(
    server: &Arc<Server>,
    req: &ApiRequest,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Outcome, ApiError> {
    let target = server.store.read(|st| resolve(st, group, version, rest))?;
    let is_watch = matches!(req.query("watch"), Some("true") | Some("1"));
    match (&req.method, &target.name) {
        (&Method::GET, None) if is_watch => watch::start(server, req, &target),
        (&Method::GET, None) => list(server, req, &target),
        (&Method::GET, Some(name)) => get(server, req, &target, name),
        (&Method::POST, None) => create(server, req, &target),
        (&Method::PUT, Some(name)) => update(server, req, &target, name),
        (&Method::PATCH, Some(name)) => patch_object(server, req, &target, name),
        (&Method::DELETE, Some(name)) => delete(server, req, &target, name),
        (&Method::DELETE, None) => delete_collection(server, req, &target),
        (m, _) => Err(ApiError::method_not_allowed(m.as_str())),
    }
}

/// The current time as the API server writes it (RFC 3339, whole seconds).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// [`present`] without a copy when the stored object already says `rt`'s apiVersion and kind
/// (always for built-in kinds).
fn present_shared(rt: &ResourceType, object: &Arc<Value>) -> Arc<Value> {
    let same = object["kind"].as_str() == Some(rt.gvk.kind.as_str())
        && object["apiVersion"].as_str() == Some(rt.api_version().as_str());
    if same || !object.is_object() {
        object.clone()
    } else {
        Arc::new(present(rt, object))
    }
}

/// An object as served at `rt`'s version (CRD objects are stored once for all versions).
fn present(rt: &ResourceType, object: &Value) -> Value {
    let mut o = object.clone();
    if o.is_object() {
        o["apiVersion"] = json!(rt.api_version());
        o["kind"] = json!(rt.gvk.kind);
    }
    o
}

fn get(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
    name: &str,
) -> Result<Outcome, ApiError> {
    let key = ObjectKey::new(&target.rt, target.namespace.as_deref().unwrap_or(""), name);
    let obj = server
        .store
        .read(|st| st.get(&key).cloned())
        .ok_or_else(|| ApiError::not_found(&target.rt, name))?;
    if target.subresource.as_deref() == Some("scale") {
        return Ok(Outcome::json(200, scale_of(&obj)));
    }
    let object = present_shared(&target.rt, &obj);
    if table::wants_table(req.header("accept")) {
        let rv = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let include = req.query("includeObject").unwrap_or("Metadata");
        let t = table::render(
            &target.rt,
            &[(*object).clone()],
            &rv,
            include,
            chrono::Utc::now(),
        );
        return Ok(Outcome::typed(200, t, table::CONTENT_TYPE));
    }
    Ok(Outcome::stored(200, object, Vec::new()))
}

/// The `autoscaling/v1` Scale of a workload, as its `/scale` subresource serves it.
fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                     "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

/// How a `/scale` write arrives: a whole Scale (PUT) or a patch of one.
enum ScaleWrite {
    Replace,
    Patch(PatchType),
}

/// PUT or PATCH on `/scale`: the change is computed on the workload's Scale and only
/// `spec.replicas` goes back into the workload, recorded under the `scale` subresource.
fn write_scale(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
    name: &str,
    how: ScaleWrite,
) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    let opts = WriteOptions::from_request(req)?;
    let body = match how {
        ScaleWrite::Replace => decode_body(req)?,
        ScaleWrite::Patch(PatchType::Apply) => {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::bad_request("patch body is not UTF-8"))?;
            decode_apply_body(text)?
        }
        ScaleWrite::Patch(_) => serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("error decoding patch body as JSON: {e}"))
        })?,
    };
    let key = ObjectKey::new(rt, target.namespace.as_deref().unwrap_or(""), name);
    let stored = server.store.write(opts.dry_run, |txn| {
        let old = txn.get(&key).ok_or_else(|| ApiError::not_found(rt, name))?;
        let current = scale_of(&old);
        let wanted = match how {
            ScaleWrite::Replace => body.clone(),
            ScaleWrite::Patch(PatchType::Json) => patch::json_patch(&current, &body)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?,
            ScaleWrite::Patch(_) => patch::merge_patch(&current, &body)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?,
        };
        if let Some(rv) = wanted["metadata"]["resourceVersion"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(rt, name));
            }
        }
        let replicas = match &wanted["spec"]["replicas"] {
            Value::Null => 0,
            Value::Number(n)
                if n.as_i64()
                    .is_some_and(|r| (0..=i64::from(i32::MAX)).contains(&r)) =>
            {
                n.as_i64().unwrap_or(0)
            }
            other => {
                let scale = super::Gvk {
                    group: "autoscaling".into(),
                    version: "v1".into(),
                    kind: "Scale".into(),
                };
                return Err(ApiError::invalid_kind(
                    &scale,
                    name,
                    &[validate::Cause {
                        reason: "FieldValueInvalid".into(),
                        field: "spec.replicas".into(),
                        message: format!(
                            "Invalid value: {other}: must be greater than or equal to 0"
                        ),
                    }],
                ));
            }
        };
        let mut new = (*old).clone();
        new["spec"]["replicas"] = json!(replicas);
        finish_write(txn, rt, &opts, &key, Some(&old), new, Some("scale"), false)
    })?;
    Ok(Outcome::json(200, scale_of(&stored)))
}

/// Parsed `labelSelector` and `fieldSelector` of a request.
pub struct Selection {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selection {
    /// Reads both selectors from the query.
    pub fn from_request(req: &ApiRequest, rt: &ResourceType) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(req.query("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = FieldSelector::parse(req.query("fieldSelector").unwrap_or(""), &rt.gvk.kind)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Selection { labels, fields })
    }

    /// Whether an object is selected.
    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(&object["metadata"]["labels"]) && self.fields.matches(object)
    }
}

/// The typed list kind of a resource (`SecretList`), never a bare `List`: typed Go clients
/// decode a bare `List` as empty.
pub fn list_kind(rt: &ResourceType) -> String {
    format!("{}List", rt.gvk.kind)
}

fn list(server: &Server, req: &ApiRequest, target: &Target) -> Result<Outcome, ApiError> {
    let selection = Selection::from_request(req, &target.rt)?;
    let limit = match req.query("limit") {
        Some(l) if !l.is_empty() => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
        ),
        _ => None,
    }
    .filter(|l| *l > 0);
    let start_after = match req.query("continue").filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    let key = target.rt.key();
    let as_table = table::wants_table(req.header("accept"));
    let (items, rv, next, remaining) = server.store.read(|st| {
        let mut items = Vec::new();
        let mut next = None;
        let mut remaining = 0usize;
        for (k, obj) in st.list(&key, target.namespace.as_deref()) {
            if let Some((ns, name)) = &start_after {
                if (&k.namespace, &k.name) <= (ns, name) {
                    continue;
                }
            }
            if !selection.matches(obj) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                if next.is_none() {
                    next = items
                        .last()
                        .map(|(k, _): &(ObjectKey, Value)| (k.namespace.clone(), k.name.clone()));
                }
                remaining += 1;
                continue;
            }
            let item = if as_table {
                present(&target.rt, obj)
            } else {
                strip_type_meta(&target.rt, obj)
            };
            items.push((k.clone(), item));
        }
        (items, st.resource_version(), next, remaining)
    });
    if as_table {
        let objects: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
        let include = req.query("includeObject").unwrap_or("Metadata");
        let mut t = table::render(
            &target.rt,
            &objects,
            &rv.to_string(),
            include,
            chrono::Utc::now(),
        );
        if let Some((ns, name)) = next {
            t["metadata"]["continue"] = json!(encode_continue(rv, &ns, &name));
            t["metadata"]["remainingItemCount"] = json!(remaining);
        }
        return Ok(Outcome::typed(200, t, table::CONTENT_TYPE));
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some((ns, name)) = next {
        metadata["continue"] = json!(encode_continue(rv, &ns, &name));
        metadata["remainingItemCount"] = json!(remaining);
    }
    Ok(Outcome::json(
        200,
        json!({
            "kind": list_kind(&target.rt),
            "apiVersion": target.rt.api_version(),
            "metadata": metadata,
            "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        }),
    ))
}

/// List items of built-in kinds carry no apiVersion/kind, as from a real server; custom
/// resources keep them.
fn strip_type_meta(rt: &ResourceType, obj: &Value) -> Value {
    if rt.builtin {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
        }
        o
    } else {
        present(rt, obj)
    }
}

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{namespace}/{name}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.to_string())
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: illegal base64 data");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let start = v["start"].as_str().ok_or_else(bad)?;
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

/// Options every write shares.
struct WriteOptions {
    dry_run: bool,
    manager: String,
    validation: FieldValidation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

impl WriteOptions {
    fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        let dry_run = match req.query("dryRun") {
            None | Some("") => false,
            Some("All") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid dry run value: {other:?}: supported values: \"All\""
                )))
            }
        };
        let manager = match req.query("fieldManager") {
            Some(m) if !m.is_empty() => {
                if m.len() > 128 || m.chars().any(|c| c.is_control()) {
                    return Err(ApiError::unprocessable(format!(
                        "fieldManager: Invalid value: {m:?}: must be at most 128 printable characters"
                    )));
                }
                m.to_string()
            }
            _ => req.user_agent_product(),
        };
        let validation = match req.query("fieldValidation") {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                "fieldValidation: Invalid value: {other:?}: must be one of Ignore, Warn, or Strict"
            )))
            }
        };
        Ok(WriteOptions {
            dry_run,
            manager,
            validation,
        })
    }

    /// Checks unknown fields of a request object: 400 under Strict; under Warn a warning each,
    /// and under Warn and Ignore they are dropped, as a real server's decoder never stores them.
    fn check_fields(&self, rt: &ResourceType, object: &mut Value) -> Result<Vec<String>, ApiError> {
        let unknown = validate::unknown_fields(&rt.gvk, object);
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        let messages: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{}\"", f.trim_start_matches('.')))
            .collect();
        match self.validation {
            FieldValidation::Strict => Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
                messages.join(", "),
                kind = rt.gvk.kind,
                version = rt.gvk.version,
            ))),
            FieldValidation::Warn => {
                validate::drop_unknown_fields(&rt.gvk, object);
                Ok(messages)
            }
            FieldValidation::Ignore => {
                validate::drop_unknown_fields(&rt.gvk, object);
                Ok(Vec::new())
            }
        }
    }
}

/// Decodes a request body by its Content-Type (JSON, YAML or Kubernetes protobuf).
fn decode_body(req: &ApiRequest) -> Result<Value, ApiError> {
    let content_type = req.header("content-type");
    let media = content_type.split(';').next().unwrap_or("").trim();
    let value = match media {
        "" | "application/json" | "*/*" => {
            serde_json::from_slice::<Value>(&req.body).map_err(|e| {
                ApiError::bad_request(format!("error decoding request body as JSON: {e}"))
            })?
        }
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
            rudder_yaml::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
        }
        protobuf::MEDIA_TYPE => protobuf::decode(&req.body).map_err(|e| match e {
            protobuf::ProtobufError::UnsupportedKind(_) => {
                ApiError::unsupported_media_type(content_type)
            }
            other => ApiError::bad_request(other.to_string()),
        })?,
        _ => return Err(ApiError::unsupported_media_type(content_type)),
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

/// Checks the body's apiVersion/kind against the endpoint, filling them in when absent.
fn check_type(rt: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    let want_av = rt.api_version();
    match object["apiVersion"].as_str() {
        Some(av) if av != want_av => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )))
        }
        _ => object["apiVersion"] = json!(want_av),
    }
    match object["kind"].as_str() {
        Some(k) if k != rt.gvk.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.gvk.kind
            )))
        }
        _ => object["kind"] = json!(rt.gvk.kind),
    }
    if !object["metadata"].is_object() {
        if object["metadata"].is_null() {
            object["metadata"] = json!({});
        } else {
            return Err(ApiError::bad_request("metadata must be an object"));
        }
    }
    check_shape(rt, object)
}

/// Rejects what a Go server could not decode into the kind's struct (400), so later steps can
/// rely on the shape of the fields they touch.
fn check_shape(rt: &ResourceType, object: &Value) -> Result<(), ApiError> {
    let bad = |field: &str, want: &str| {
        Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: json: cannot unmarshal {field} into a Go value of type {want}",
            rt.gvk.kind,
            rt.gvk.version,
            rt.gvk.kind
        )))
    };
    let meta = &object["metadata"];
    for field in ["labels", "annotations"] {
        match &meta[field] {
            Value::Null => {}
            Value::Object(m) if m.values().all(|v| v.is_string() || v.is_null()) => {}
            _ => return bad(&format!("metadata.{field}"), "map[string]string"),
        }
    }
    for field in [
        "name",
        "namespace",
        "generateName",
        "resourceVersion",
        "uid",
    ] {
        if !(meta[field].is_null() || meta[field].is_string()) {
            return bad(&format!("metadata.{field}"), "string");
        }
    }
    match &meta["finalizers"] {
        Value::Null => {}
        Value::Array(a) if a.iter().all(Value::is_string) => {}
        _ => return bad("metadata.finalizers", "[]string"),
    }
    for field in ["ownerReferences", "managedFields"] {
        match &meta[field] {
            Value::Null => {}
            Value::Array(a) if a.iter().all(Value::is_object) => {}
            _ => return bad(&format!("metadata.{field}"), "[]object"),
        }
    }
    if rt.builtin {
        for field in ["spec", "status", "data", "stringData", "binaryData"] {
            if !(object[field].is_null() || object[field].is_object()) {
                return bad(field, "struct");
            }
        }
    }
    Ok(())
}

fn namespace_key(name: &str) -> ObjectKey {
    ObjectKey {
        resource: super::resources::ResourceKey {
            group: String::new(),
            plural: "namespaces".into(),
        },
        namespace: String::new(),
        name: name.to_string(),
    }
}

/// 404 when the namespace is missing, 403 when it is terminating.
fn require_namespace(txn: &Txn<'_>, namespace: &str) -> Result<(), ApiError> {
    match txn.get(&namespace_key(namespace)) {
        None => Err(ApiError::namespace_not_found(namespace)),
        Some(ns) if !ns["metadata"]["deletionTimestamp"].is_null() => {
            Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            )))
        }
        Some(_) => Ok(()),
    }
}

fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// Checks `metadata.name` as the kind requires (DNS-1123 label or subdomain).
fn check_name(rt: &ResourceType, name: &str) -> Result<(), ApiError> {
    let label_only = matches!(rt.gvk.kind.as_str(), "Namespace" | "Service") && rt.builtin;
    let (ok, what) = if label_only {
        (
            is_dns1123_label(name),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        )
    } else if matches!(
        rt.gvk.kind.as_str(),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
    ) {
        // RBAC names are path segments, not DNS names.
        (
            !name.is_empty()
                && !name.contains('/')
                && !name.contains('%')
                && name != "."
                && name != "..",
            "may not contain '/' or '%'",
        )
    } else {
        (
            is_dns1123_subdomain(name),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )
    };
    if ok {
        return Ok(());
    }
    Err(ApiError::invalid(
        rt,
        name,
        &[validate::Cause {
            reason: "FieldValueInvalid".into(),
            field: "metadata.name".into(),
            message: format!("Invalid value: {name:?}: {what}"),
        }],
    ))
}

fn generate_name(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{suffix}")
}

/// Secret `stringData` folded into `data`; every `data` value must be base64.
fn prepare_secret(object: &mut Value) -> Result<(), ApiError> {
    let engine = base64::engine::general_purpose::STANDARD;
    if let Some(Value::Object(string_data)) =
        object.as_object_mut().and_then(|o| o.remove("stringData"))
    {
        if !object["data"].is_object() {
            object["data"] = json!({});
        }
        for (k, v) in string_data {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            object["data"][k] = json!(engine.encode(text.as_bytes()));
        }
    }
    if let Some(data) = object["data"].as_object() {
        for (k, v) in data {
            let ok = match v {
                Value::String(s) => engine.decode(s).is_ok(),
                Value::Null => true,
                _ => false,
            };
            if !ok {
                return Err(ApiError::bad_request(format!(
                    "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[{k:?}]"
                )));
            }
        }
    }
    Ok(())
}

/// Registry strategies: what the server itself sets for some kinds.
fn prepare_kind(
    txn: &mut Txn<'_>,
    rt: &ResourceType,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if !rt.builtin {
        return Ok(());
    }
    match (rt.gvk.group.as_str(), rt.gvk.kind.as_str()) {
        ("", "Secret") => prepare_secret(object)?,
        ("", "Namespace") => {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if object["spec"]["finalizers"].is_null() {
                object["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            let phase = if object["metadata"]["deletionTimestamp"].is_null() {
                "Active"
            } else {
                "Terminating"
            };
            object["status"] = json!({"phase": phase});
        }
        ("", "Service") => {
            if let Some(old) = old {
                validate::carry_allocated_fields(&rt.gvk, old, object);
            }
            let kind = object["spec"]["type"]
                .as_str()
                .unwrap_or("ClusterIP")
                .to_string();
            let old_ip = old
                .and_then(|o| o["spec"]["clusterIP"].as_str())
                .map(str::to_string);
            if kind != "ExternalName" {
                let ip = match object["spec"]["clusterIP"].as_str() {
                    Some(ip) if !ip.is_empty() => ip.to_string(),
                    _ => match old_ip {
                        Some(ip) => ip,
                        None => defaults::service_cluster_ip(txn.next_service_ip_index()),
                    },
                };
                object["spec"]["clusterIP"] = json!(ip);
                if object["spec"]["clusterIPs"].is_null() {
                    object["spec"]["clusterIPs"] = json!([ip]);
                }
                if ip != "None" && object["spec"]["ipFamilies"].is_null() {
                    object["spec"]["ipFamilies"] = json!(["IPv4"]);
                }
                if object["spec"]["ipFamilyPolicy"].is_null() {
                    object["spec"]["ipFamilyPolicy"] = json!("SingleStack");
                }
                if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
                    let mut port = 30000 + (txn.state().resource_version() % 2700) as i64;
                    if let Some(ports) = object["spec"]["ports"].as_array_mut() {
                        for p in ports {
                            if p["nodePort"].is_null() {
                                p["nodePort"] = json!(port);
                                port += 1;
                            }
                        }
                    }
                }
            }
            if object["status"].is_null() {
                object["status"] = json!({"loadBalancer": {}});
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let names = object["spec"]["names"].clone();
            let storage: Vec<Value> = object["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["storage"].as_bool() == Some(true))
                .filter_map(|v| v["name"].as_str().map(|s| json!(s)))
                .collect();
            let t = now();
            let mut accepted = names.clone();
            if accepted["singular"].is_null() {
                if let Some(k) = names["kind"].as_str() {
                    accepted["singular"] = json!(k.to_lowercase());
                }
            }
            if accepted["listKind"].is_null() {
                if let Some(k) = names["kind"].as_str() {
                    accepted["listKind"] = json!(format!("{k}List"));
                }
            }
            object["status"] = json!({
                "acceptedNames": accepted,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t,
                     "reason": "NoConflicts", "message": "no conflicts found"},
                    {"type": "Established", "status": "True", "lastTransitionTime": t,
                     "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
                ],
                "storedVersions": storage,
            });
            if let Some(old) = old {
                // Keep the conditions' times stable so an unchanged CRD is a no-op write.
                if old["spec"]["names"] == object["spec"]["names"] {
                    object["status"]["conditions"] = old["status"]["conditions"].clone();
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Validates a CRD's identity (name = plural.group) and registers its kinds.
fn register_crd(txn: &mut Txn<'_>, rt: &ResourceType, object: &Value) -> Result<(), ApiError> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let spec = &object["spec"];
    let expected = format!(
        "{}.{}",
        spec["names"]["plural"].as_str().unwrap_or_default(),
        spec["group"].as_str().unwrap_or_default()
    );
    let types = custom_types(object);
    let mut causes = Vec::new();
    if name != expected {
        causes.push(validate::Cause {
            reason: "FieldValueInvalid".into(),
            field: "metadata.name".into(),
            message: format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
        });
    }
    if types.is_empty() {
        causes.push(validate::Cause {
            reason: "FieldValueRequired".into(),
            field: "spec.versions".into(),
            message: "Required value: must have exactly one version marked as storage version"
                .into(),
        });
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt, name, &causes));
    }
    if !txn.dry_run() {
        txn.catalog_mut().set_custom(name, types);
    }
    Ok(())
}

fn strip_for_generation(v: &Value) -> Value {
    let mut o = v.clone();
    if let Some(m) = o.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
    }
    o
}

/// The common tail of every write: system metadata, registry rules, defaults, validation,
/// managedFields, then the store. `old` is None for creates.
#[allow(clippy::too_many_arguments)]
fn finish_write(
    txn: &mut Txn<'_>,
    rt: &ResourceType,
    opts: &WriteOptions,
    key: &ObjectKey,
    old: Option<&Value>,
    mut new: Value,
    subresource: Option<&str>,
    applied: bool,
) -> Result<Arc<Value>, ApiError> {
    let name = key.name.clone();
    let t = now();
    match old {
        Some(old) => {
            if subresource == Some("status") {
                let status = new.get("status").cloned();
                let mut merged = old.clone();
                match status {
                    Some(s) => merged["status"] = s,
                    None => {
                        if let Some(m) = merged.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                if new["metadata"]["managedFields"].is_array() {
                    merged["metadata"]["managedFields"] = new["metadata"]["managedFields"].clone();
                }
                new = merged;
            } else if rt.has_subresource("status") && rt.gvk.kind != "Namespace" {
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            let meta = &old["metadata"];
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                match meta.get(field) {
                    Some(v) => new["metadata"][field] = v.clone(),
                    None => {
                        if let Some(m) = new["metadata"].as_object_mut() {
                            m.remove(field);
                        }
                    }
                }
            }
            if new["metadata"].get("managedFields").is_none() {
                if let Some(mf) = meta.get("managedFields") {
                    new["metadata"]["managedFields"] = mf.clone();
                }
            }
            if !meta["deletionTimestamp"].is_null() {
                let before: Vec<&Value> = meta["finalizers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .collect();
                let added = new["metadata"]["finalizers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|f| !before.contains(&f));
                if added {
                    return Err(ApiError::invalid(
                        rt,
                        &name,
                        &[validate::Cause {
                            reason: "FieldValueForbidden".into(),
                            field: "metadata.finalizers".into(),
                            message: "Forbidden: no new finalizers can be added if the object is being deleted".into(),
                        }],
                    ));
                }
            }
        }
        None => {
            let meta = new["metadata"]
                .as_object_mut()
                .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
            meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            meta.insert("creationTimestamp".into(), json!(t));
            meta.remove("deletionTimestamp");
            meta.remove("deletionGracePeriodSeconds");
            meta.remove("resourceVersion");
            meta.remove("selfLink");
            if rt.has_subresource("status")
                && !matches!(
                    rt.gvk.kind.as_str(),
                    "Namespace" | "CustomResourceDefinition"
                )
                && rt.builtin
            {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    new["metadata"]["name"] = json!(name);
    if rt.namespaced {
        new["metadata"]["namespace"] = json!(key.namespace);
    } else if let Some(m) = new["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    prepare_kind(txn, rt, &mut new, old)?;
    defaults::apply_defaults(&rt.gvk, &mut new);
    if rt.generation == GenerationRule::Spec {
        let generation = match old {
            None => 1,
            Some(old) => {
                let g = old["metadata"]["generation"].as_i64().unwrap_or(1);
                if strip_for_generation(old) != strip_for_generation(&new) {
                    g + 1
                } else {
                    g
                }
            }
        };
        new["metadata"]["generation"] = json!(generation);
    }
    let causes = validate::validate(&rt.gvk, &new, old);
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt, &name, &causes));
    }
    if rt.builtin && rt.gvk.kind == "CustomResourceDefinition" {
        register_crd(txn, rt, &new)?;
    }
    if !applied {
        apply::record_update(&rt.gvk, old, &mut new, &opts.manager, subresource, &t);
    }
    Ok(txn.put(key, new))
}

fn create(server: &Server, req: &ApiRequest, target: &Target) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    if rt.namespaced && target.namespace.is_none() {
        return Err(ApiError::method_not_allowed("POST"));
    }
    let opts = WriteOptions::from_request(req)?;
    let mut object = decode_body(req)?;
    check_type(rt, &mut object)?;
    let warnings = opts.check_fields(rt, &mut object)?;
    let url_ns = target.namespace.clone().unwrap_or_default();
    if rt.namespaced {
        match object["metadata"]["namespace"].as_str() {
            Some(ns) if !ns.is_empty() && ns != url_ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            _ => {}
        }
    }
    let name = match object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        Some(n) => n.to_string(),
        None => match object["metadata"]["generateName"]
            .as_str()
            .filter(|n| !n.is_empty())
        {
            Some(prefix) => generate_name(prefix),
            None => {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    &[validate::Cause {
                        reason: "FieldValueRequired".into(),
                        field: "metadata.name".into(),
                        message: "Required value: name or generateName is required".into(),
                    }],
                ))
            }
        },
    };
    check_name(rt, &name)?;
    let key = ObjectKey::new(rt, &url_ns, &name);
    let stored = server.store.write(opts.dry_run, |txn| {
        if rt.namespaced {
            require_namespace(txn, &url_ns)?;
        }
        if txn.get(&key).is_some() {
            return Err(ApiError::already_exists(rt, &name));
        }
        finish_write(txn, rt, &opts, &key, None, object, None, false)
    })?;
    Ok(Outcome::stored(201, present_shared(rt, &stored), warnings))
}

fn update(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
    name: &str,
) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    if target.subresource.as_deref() == Some("scale") {
        return write_scale(server, req, target, name, ScaleWrite::Replace);
    }
    let opts = WriteOptions::from_request(req)?;
    let mut object = decode_body(req)?;
    check_type(rt, &mut object)?;
    let warnings = opts.check_fields(rt, &mut object)?;
    match object["metadata"]["name"].as_str() {
        Some(n) if n == name => {}
        Some(n) if !n.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        _ => object["metadata"]["name"] = json!(name),
    }
    let key = ObjectKey::new(rt, target.namespace.as_deref().unwrap_or(""), name);
    let sub = target.subresource.as_deref();
    let stored = server.store.write(opts.dry_run, |txn| {
        let old = txn.get(&key).ok_or_else(|| ApiError::not_found(rt, name))?;
        if let Some(rv) = object["metadata"]["resourceVersion"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(rt, name));
            }
        }
        finish_write(txn, rt, &opts, &key, Some(&old), object, sub, false)
    })?;
    Ok(Outcome::stored(200, present_shared(rt, &stored), warnings))
}

/// Decodes an apply patch (YAML). kubectl, Helm and kube-rs send JSON, which is YAML too: that
/// common case is read by the JSON parser, many times faster, with the same result.
fn decode_apply_body(text: &str) -> Result<Value, ApiError> {
    if text.trim_start().starts_with('{') {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            return Ok(value);
        }
    }
    rudder_yaml::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// The four patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_object(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
    name: &str,
) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    let content_type = req.header("content-type");
    let media = content_type.split(';').next().unwrap_or("").trim();
    let kind = match media {
        "application/json-patch+json" => PatchType::Json,
        "application/merge-patch+json" => PatchType::Merge,
        "application/strategic-merge-patch+json" if rt.builtin => PatchType::Strategic,
        "application/apply-patch+yaml" => PatchType::Apply,
        _ => return Err(ApiError::unsupported_media_type(content_type)),
    };
    if target.subresource.as_deref() == Some("scale") {
        return write_scale(server, req, target, name, ScaleWrite::Patch(kind));
    }
    let opts = WriteOptions::from_request(req)?;
    let force = match req.query("force") {
        None | Some("") => None,
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid force value {other:?}"
            )))
        }
    };
    if kind == PatchType::Apply {
        if req.query("fieldManager").is_none_or(str::is_empty) {
            return Err(ApiError::unprocessable(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
    } else if force.is_some() {
        return Err(ApiError::unprocessable(
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
        ));
    }
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad_request("patch body is not UTF-8"))?;
    let patch_body: Value = if kind == PatchType::Apply {
        decode_apply_body(text)?
    } else {
        serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch body as JSON: {e}")))?
    };
    let namespace = target.namespace.clone().unwrap_or_default();
    let key = ObjectKey::new(rt, &namespace, name);
    let sub = target.subresource.as_deref();
    let mut warnings = Vec::new();
    // An apply's merge is the costly part: it is computed before taking the store's write lock,
    // against the object as it is now, and reused under the lock if nobody changed the object
    // meanwhile (otherwise computed again there), so concurrent applies use every core.
    let prepared = if kind == PatchType::Apply {
        let config = prepare_apply_config(rt, &opts, &patch_body, name, &namespace)?;
        let snapshot = server.store.read(|st| st.get(&key).cloned());
        let merged = merge_apply(rt, &opts, snapshot.as_ref(), &config.0, sub, force, name);
        Some((config, snapshot, merged))
    } else {
        None
    };
    let (code, stored) = server.store.write(opts.dry_run, |txn| {
        let old = txn.get(&key);
        if let Some((config, snapshot, merged)) = &prepared {
            let (config, warned) = config;
            warnings = warned.clone();
            if old.is_none() {
                if sub.is_some() {
                    return Err(ApiError::not_found(rt, name));
                }
                check_name(rt, name)?;
                if rt.namespaced {
                    require_namespace(txn, &namespace)?;
                }
            }
            let unchanged = match (&old, snapshot) {
                (Some(now), Some(then)) => Arc::ptr_eq(now, then),
                (None, None) => true,
                _ => false,
            };
            let mut merged = if unchanged {
                merged.clone()?
            } else {
                merge_apply(rt, &opts, old.as_ref(), config, sub, force, name)?
            };
            if !merged.is_object() {
                return Err(ApiError::internal(
                    "server-side apply produced a non-object",
                ));
            }
            check_type(rt, &mut merged)?;
            let created = old.is_none();
            let stored = finish_write(txn, rt, &opts, &key, old.as_deref(), merged, sub, true)?;
            return Ok((if created { 201 } else { 200 }, stored));
        }
        let old = old.ok_or_else(|| ApiError::not_found(rt, name))?;
        let result = match kind {
            PatchType::Json => patch::json_patch(&old, &patch_body),
            PatchType::Merge => patch::merge_patch(&old, &patch_body),
            _ => patch::strategic_merge_patch(&rt.gvk, &old, &patch_body),
        };
        let mut patched = result.map_err(|e| ApiError::unprocessable(e.to_string()))?;
        if !patched.is_object() {
            return Err(ApiError::unprocessable("the patch produced a non-object"));
        }
        check_type(rt, &mut patched)?;
        if let Some(rv) = patched["metadata"]["resourceVersion"].as_str() {
            if Some(rv) != old["metadata"]["resourceVersion"].as_str() {
                return Err(ApiError::stale(rt, name));
            }
        }
        if patched["metadata"]["name"].as_str() != Some(name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                patched["metadata"]["name"].as_str().unwrap_or("")
            )));
        }
        warnings = opts.check_fields(rt, &mut patched)?;
        let stored = finish_write(txn, rt, &opts, &key, Some(&old), patched, sub, false)?;
        Ok((200, stored))
    })?;
    Ok(Outcome::stored(code, present_shared(rt, &stored), warnings))
}

/// The apply configuration after the checks that do not depend on the live object, with the
/// unknown-field warnings.
fn prepare_apply_config(
    rt: &ResourceType,
    opts: &WriteOptions,
    patch_body: &Value,
    name: &str,
    namespace: &str,
) -> Result<(Value, Vec<String>), ApiError> {
    let mut config = patch_body.clone();
    if !config.is_object() {
        return Err(ApiError::bad_request("apply patch must be an object"));
    }
    if config["kind"].as_str().is_none_or(str::is_empty)
        || config["apiVersion"].as_str().is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(
            "invalid object: apiVersion and kind must be set in an apply patch",
        ));
    }
    check_type(rt, &mut config)?;
    match config["metadata"]["name"].as_str() {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        _ => {}
    }
    if rt.namespaced {
        if let Some(ns) = config["metadata"]["namespace"].as_str() {
            if !ns.is_empty() && ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
    }
    let warnings = opts.check_fields(rt, &mut config)?;
    Ok((config, warnings))
}

/// Server-side apply of `config` onto `live`, with conflicts as the server's 409.
fn merge_apply(
    rt: &ResourceType,
    opts: &WriteOptions,
    live: Option<&Arc<Value>>,
    config: &Value,
    sub: Option<&str>,
    force: Option<bool>,
    name: &str,
) -> Result<Value, ApiError> {
    apply::server_side_apply_to(
        &rt.gvk,
        live.map(|l| &**l),
        config,
        &opts.manager,
        sub,
        force.unwrap_or(false),
        &now(),
    )
    .map_err(|c| {
        let api_version = |m: &str| -> String {
            live.and_then(|l| l["metadata"]["managedFields"].as_array())
                .into_iter()
                .flatten()
                .find(|e| e["manager"] == m && e["operation"] == "Update")
                .and_then(|e| e["apiVersion"].as_str().map(|v| format!(" using {v}")))
                .unwrap_or_default()
        };
        ApiError::apply_conflicts(rt, name, &c.conflicts, &api_version)
    })
}

/// DeleteOptions of a request: body (JSON or protobuf) and query parameters.
struct DeleteOptions {
    dry_run: bool,
    propagation: String,
    uid: Option<String>,
    resource_version: Option<String>,
}

impl DeleteOptions {
    fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        let body = if req.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            decode_body(req)?
        };
        let mut dry_run = WriteOptions::from_request(req)?.dry_run;
        match &body["dryRun"] {
            Value::Array(a) if !a.is_empty() => {
                if a.iter().any(|v| v != "All") {
                    return Err(ApiError::bad_request(
                        "Invalid dry run value: supported values: \"All\"",
                    ));
                }
                dry_run = true;
            }
            _ => {}
        }
        let propagation = body["propagationPolicy"]
            .as_str()
            .map(str::to_string)
            .or_else(|| req.query("propagationPolicy").map(str::to_string))
            .or_else(|| {
                if body["orphanDependents"].as_bool() == Some(true) {
                    Some("Orphan".to_string())
                } else {
                    None
                }
            })
            .unwrap_or_else(|| "Background".to_string());
        if !matches!(propagation.as_str(), "Background" | "Foreground" | "Orphan") {
            return Err(ApiError::unprocessable(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {propagation:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
        Ok(DeleteOptions {
            dry_run,
            propagation,
            uid: body["preconditions"]["uid"].as_str().map(str::to_string),
            resource_version: body["preconditions"]["resourceVersion"]
                .as_str()
                .map(str::to_string),
        })
    }
}

/// What a delete did.
enum Deleted {
    /// Gone; the last state.
    Removed(Arc<Value>),
    /// Held by finalizers (or a terminating namespace): the object with `deletionTimestamp`.
    Pending(Arc<Value>),
}

/// Deletes one object inside a transaction, cascading to namespace content and dependents.
fn delete_in(
    txn: &mut Txn<'_>,
    rt: &ResourceType,
    key: &ObjectKey,
    propagation: &str,
) -> Option<Deleted> {
    let current = txn.get(key)?;
    let uid = current["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let is_namespace = rt.builtin && rt.gvk.kind == "Namespace";
    let has_finalizers = current["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    // Foreground: the owner waits, with a finalizer, while the garbage collector (gc.rs)
    // deletes its dependents.
    let foreground = propagation == "Foreground"
        && !uid.is_empty()
        && !super::gc::dependents(txn, &uid).is_empty();
    if is_namespace || has_finalizers || foreground {
        let mut marked = (*current).clone();
        if marked["metadata"]["deletionTimestamp"].is_null() {
            marked["metadata"]["deletionTimestamp"] = json!(now());
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        if foreground && !super::gc::waits_for_dependents(&marked) {
            match marked["metadata"]["finalizers"].as_array_mut() {
                Some(list) => list.push(json!(super::gc::FOREGROUND)),
                None => marked["metadata"]["finalizers"] = json!([super::gc::FOREGROUND]),
            }
        }
        if is_namespace {
            marked["status"] = json!({"phase": "Terminating"});
        }
        let pending = txn.put(key, marked);
        if is_namespace {
            delete_namespace_content(txn, &key.name);
            txn.finish_namespace_if_terminating(&key.name);
        }
        if !foreground {
            cascade(txn, &uid, propagation);
        }
        return Some(Deleted::Pending(pending));
    }
    let removed = txn.remove(key)?;
    if rt.builtin && rt.gvk.kind == "CustomResourceDefinition" {
        remove_crd_kinds(txn, &key.name);
    }
    cascade(txn, &uid, propagation);
    Some(Deleted::Removed(removed))
}

/// Deletes one object as a DELETE request with `propagation` would (for the garbage collector).
pub(super) fn delete_object(
    txn: &mut Txn<'_>,
    rt: &ResourceType,
    key: &ObjectKey,
    propagation: &str,
) {
    delete_in(txn, rt, key, propagation);
}

fn delete_namespace_content(txn: &mut Txn<'_>, namespace: &str) {
    let types: Vec<Arc<ResourceType>> = txn
        .catalog()
        .types()
        .iter()
        .filter(|t| t.namespaced)
        .cloned()
        .collect();
    let mut seen = std::collections::HashSet::new();
    for t in types {
        if !seen.insert(t.key()) {
            continue;
        }
        let resource = t.key();
        let keys: Vec<ObjectKey> = txn
            .state()
            .list(&resource, Some(namespace))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            delete_in(txn, &t, &k, "Background");
        }
    }
}

fn remove_crd_kinds(txn: &mut Txn<'_>, crd_name: &str) {
    let types: Vec<Arc<ResourceType>> = txn
        .catalog()
        .types()
        .iter()
        .filter(|t| !t.builtin && format!("{}.{}", t.plural, t.gvk.group) == crd_name)
        .cloned()
        .collect();
    if let Some(t) = types.first() {
        let resource = t.key();
        let keys: Vec<ObjectKey> = txn
            .state()
            .list(&resource, None)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            txn.remove(&k);
        }
    }
    if !txn.dry_run() {
        txn.catalog_mut().remove_custom(crd_name);
    }
}

/// Garbage collection of dependents (objects whose ownerReferences name `uid`).
fn cascade(txn: &mut Txn<'_>, uid: &str, propagation: &str) {
    if uid.is_empty() {
        return;
    }
    let dependents: Vec<(ObjectKey, Arc<Value>)> = {
        let st = txn.state();
        st.all_objects_with_keys()
            .into_iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .collect()
    };
    for (key, obj) in dependents {
        if propagation == "Orphan" {
            let mut o = (*obj).clone();
            if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                refs.retain(|r| r["uid"] != uid);
                if refs.is_empty() {
                    if let Some(meta) = o["metadata"].as_object_mut() {
                        meta.remove("ownerReferences");
                    }
                }
            }
            txn.put(&key, o);
        } else if let Some(rt) = txn.catalog().by_key(&key.resource) {
            delete_in(txn, &rt, &key, propagation);
        }
    }
}

fn delete(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
    name: &str,
) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    if target.subresource.is_some() {
        return Err(ApiError::method_not_allowed("DELETE"));
    }
    let opts = DeleteOptions::from_request(req)?;
    let key = ObjectKey::new(rt, target.namespace.as_deref().unwrap_or(""), name);
    if rt.builtin && rt.gvk.kind == "Namespace" && PROTECTED_NAMESPACES.contains(&name) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        )));
    }
    let deleted = server.store.write(opts.dry_run, |txn| {
        let current = txn.get(&key).ok_or_else(|| ApiError::not_found(rt, name))?;
        if let Some(uid) = &opts.uid {
            let actual = current["metadata"]["uid"].as_str().unwrap_or_default();
            if uid != actual {
                return Err(ApiError::conflict(
                    rt,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                ));
            }
        }
        if let Some(rv) = &opts.resource_version {
            let actual = current["metadata"]["resourceVersion"].as_str().unwrap_or_default();
            if rv != actual {
                return Err(ApiError::conflict(
                    rt,
                    name,
                    &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"),
                ));
            }
        }
        delete_in(txn, rt, &key, &opts.propagation).ok_or_else(|| ApiError::not_found(rt, name))
    })?;
    Ok(match deleted {
        Deleted::Pending(obj) => Outcome::json(200, present(rt, &obj)),
        Deleted::Removed(obj) if rt.builtin => Outcome::json(
            200,
            delete_success(
                rt,
                name,
                obj["metadata"]["uid"].as_str().unwrap_or_default(),
            ),
        ),
        Deleted::Removed(obj) => Outcome::json(200, present(rt, &obj)),
    })
}

fn delete_collection(
    server: &Server,
    req: &ApiRequest,
    target: &Target,
) -> Result<Outcome, ApiError> {
    let rt = &target.rt;
    if !rt.verbs.iter().any(|v| v == "deletecollection") {
        return Err(ApiError::method_not_allowed("DELETE"));
    }
    let selection = Selection::from_request(req, rt)?;
    let opts = DeleteOptions::from_request(req)?;
    let resource = rt.key();
    let items = server.store.write(opts.dry_run, |txn| {
        let keys: Vec<ObjectKey> = txn
            .state()
            .list(&resource, target.namespace.as_deref())
            .filter(|(_, o)| selection.matches(o))
            .map(|(k, _)| k.clone())
            .collect();
        let mut items = Vec::new();
        for k in keys {
            match delete_in(txn, rt, &k, &opts.propagation) {
                Some(Deleted::Removed(o)) | Some(Deleted::Pending(o)) => {
                    items.push(strip_type_meta(rt, &o))
                }
                None => {}
            }
        }
        Ok::<_, ApiError>(items)
    })?;
    let rv = server.store.read(|st| st.resource_version());
    Ok(Outcome::json(
        200,
        json!({
            "kind": list_kind(rt),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    ))
}

/// Object fields as a map (for callers that build objects).
pub fn object_map(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_checked_like_a_real_server() {
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("Upper"));
        assert!(!is_dns1123_subdomain("-x"));
        assert!(is_dns1123_label("abc-1"));
        assert!(!is_dns1123_label("a.b"));
    }

    #[test]
    fn continue_tokens_round_trip_and_garbage_is_rejected() {
        let t = encode_continue(7, "ns", "name");
        assert_eq!(decode_continue(&t).unwrap(), ("ns".into(), "name".into()));
        assert_eq!(decode_continue("!!!").unwrap_err().code, 400);
    }

    #[test]
    fn secret_string_data_is_folded_and_base64_checked() {
        let mut s = json!({"stringData": {"a": "hello"}, "data": {"b": "d29ybGQ="}});
        prepare_secret(&mut s).unwrap();
        assert_eq!(s, json!({"data": {"a": "aGVsbG8=", "b": "d29ybGQ="}}));
        let mut bad = json!({"data": {"x": "not base64!"}});
        assert_eq!(prepare_secret(&mut bad).unwrap_err().code, 400);
    }
}
