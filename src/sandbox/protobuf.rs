//! Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): the `k8s\0` envelope
//! around a `runtime.Unknown` whose `raw` holds the typed message.
//!
//! client-go's typed clients (Helm's Secret and ConfigMap storage drivers) send their create,
//! update and delete bodies this way; everything else speaks JSON.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message;
use serde_json::{json, Map, Value};

/// The media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtobufError {
    #[error("protobuf body does not start with the k8s envelope magic")]
    NoEnvelope,
    #[error("malformed protobuf body: {0}")]
    Malformed(String),
    /// A kind this server does not decode from protobuf (the caller answers 415).
    #[error("protobuf bodies of kind {0:?} are not supported; send JSON")]
    UnsupportedKind(String),
}

/// Decodes an enveloped body into the JSON form of the object.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let raw = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoEnvelope)?;
    let unknown = Unknown::decode(raw).map_err(|e| ProtobufError::Malformed(e.to_string()))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let bad = |e: prost::DecodeError| ProtobufError::Malformed(e.to_string());
    let mut out = match kind.as_str() {
        "Secret" => secret_to_json(core::Secret::decode(raw.as_slice()).map_err(bad)?),
        "ConfigMap" => config_map_to_json(core::ConfigMap::decode(raw.as_slice()).map_err(bad)?),
        "Namespace" => namespace_to_json(core::Namespace::decode(raw.as_slice()).map_err(bad)?),
        "ServiceAccount" => {
            service_account_to_json(core::ServiceAccount::decode(raw.as_slice()).map_err(bad)?)
        }
        "DeleteOptions" => {
            delete_options_to_json(meta::DeleteOptions::decode(raw.as_slice()).map_err(bad)?)
        }
        other => return Err(ProtobufError::UnsupportedKind(other.to_string())),
    };
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    Ok(Value::Object(out))
}

fn secret_to_json(s: core::Secret) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "metadata".into(),
        object_meta_to_json(s.metadata.unwrap_or_default()),
    );
    if !s.data.is_empty() {
        m.insert("data".into(), bytes_map(&s.data));
    }
    if !s.string_data.is_empty() {
        m.insert("stringData".into(), json!(s.string_data));
    }
    if let Some(t) = s.r#type {
        m.insert("type".into(), json!(t));
    }
    if let Some(i) = s.immutable {
        m.insert("immutable".into(), json!(i));
    }
    m
}

fn config_map_to_json(c: core::ConfigMap) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "metadata".into(),
        object_meta_to_json(c.metadata.unwrap_or_default()),
    );
    if !c.data.is_empty() {
        m.insert("data".into(), json!(c.data));
    }
    if !c.binary_data.is_empty() {
        m.insert("binaryData".into(), bytes_map(&c.binary_data));
    }
    if let Some(i) = c.immutable {
        m.insert("immutable".into(), json!(i));
    }
    m
}

fn namespace_to_json(n: core::Namespace) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "metadata".into(),
        object_meta_to_json(n.metadata.unwrap_or_default()),
    );
    if let Some(spec) = n.spec {
        if !spec.finalizers.is_empty() {
            m.insert("spec".into(), json!({"finalizers": spec.finalizers}));
        }
    }
    m
}

fn service_account_to_json(s: core::ServiceAccount) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "metadata".into(),
        object_meta_to_json(s.metadata.unwrap_or_default()),
    );
    if !s.secrets.is_empty() {
        let refs: Vec<Value> = s
            .secrets
            .into_iter()
            .map(|r| json!({"name": r.name.unwrap_or_default()}))
            .collect();
        m.insert("secrets".into(), json!(refs));
    }
    if !s.image_pull_secrets.is_empty() {
        let refs: Vec<Value> = s
            .image_pull_secrets
            .into_iter()
            .map(|r| json!({"name": r.name.unwrap_or_default()}))
            .collect();
        m.insert("imagePullSecrets".into(), json!(refs));
    }
    if let Some(a) = s.automount_service_account_token {
        m.insert("automountServiceAccountToken".into(), json!(a));
    }
    m
}

fn delete_options_to_json(d: meta::DeleteOptions) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(g) = d.grace_period_seconds {
        m.insert("gracePeriodSeconds".into(), json!(g));
    }
    if let Some(p) = d.preconditions {
        let mut pm = Map::new();
        if let Some(uid) = p.uid {
            pm.insert("uid".into(), json!(uid));
        }
        if let Some(rv) = p.resource_version {
            pm.insert("resourceVersion".into(), json!(rv));
        }
        m.insert("preconditions".into(), Value::Object(pm));
    }
    if let Some(o) = d.orphan_dependents {
        m.insert("orphanDependents".into(), json!(o));
    }
    if let Some(p) = d.propagation_policy {
        m.insert("propagationPolicy".into(), json!(p));
    }
    if !d.dry_run.is_empty() {
        m.insert("dryRun".into(), json!(d.dry_run));
    }
    m
}

fn bytes_map(map: &BTreeMap<String, Vec<u8>>) -> Value {
    let engine = base64::engine::general_purpose::STANDARD;
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), json!(engine.encode(v))))
            .collect(),
    )
}

fn time_to_json(t: &meta::Time) -> Value {
    let secs = t.seconds.unwrap_or(0);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(dt) => json!(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        None => Value::Null,
    }
}

fn object_meta_to_json(o: meta::ObjectMeta) -> Value {
    let mut m = Map::new();
    let mut put_str = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.insert(k.into(), json!(v));
        }
    };
    put_str("name", o.name);
    put_str("generateName", o.generate_name);
    put_str("namespace", o.namespace);
    put_str("uid", o.uid);
    put_str("resourceVersion", o.resource_version);
    if let Some(g) = o.generation.filter(|g| *g != 0) {
        m.insert("generation".into(), json!(g));
    }
    if let Some(t) = &o.creation_timestamp {
        if t.seconds.unwrap_or(0) != 0 {
            m.insert("creationTimestamp".into(), time_to_json(t));
        }
    }
    if let Some(t) = &o.deletion_timestamp {
        m.insert("deletionTimestamp".into(), time_to_json(t));
    }
    if let Some(g) = o.deletion_grace_period_seconds {
        m.insert("deletionGracePeriodSeconds".into(), json!(g));
    }
    if !o.labels.is_empty() {
        m.insert("labels".into(), json!(o.labels));
    }
    if !o.annotations.is_empty() {
        m.insert("annotations".into(), json!(o.annotations));
    }
    if !o.owner_references.is_empty() {
        let refs: Vec<Value> = o
            .owner_references
            .into_iter()
            .map(|r| {
                let mut rm = Map::new();
                rm.insert(
                    "apiVersion".into(),
                    json!(r.api_version.unwrap_or_default()),
                );
                rm.insert("kind".into(), json!(r.kind.unwrap_or_default()));
                rm.insert("name".into(), json!(r.name.unwrap_or_default()));
                rm.insert("uid".into(), json!(r.uid.unwrap_or_default()));
                if let Some(c) = r.controller {
                    rm.insert("controller".into(), json!(c));
                }
                if let Some(b) = r.block_owner_deletion {
                    rm.insert("blockOwnerDeletion".into(), json!(b));
                }
                Value::Object(rm)
            })
            .collect();
        m.insert("ownerReferences".into(), json!(refs));
    }
    if !o.finalizers.is_empty() {
        m.insert("finalizers".into(), json!(o.finalizers));
    }
    if !o.managed_fields.is_empty() {
        let entries: Vec<Value> = o
            .managed_fields
            .into_iter()
            .map(|e| {
                let mut em = Map::new();
                if let Some(v) = e.manager {
                    em.insert("manager".into(), json!(v));
                }
                if let Some(v) = e.operation {
                    em.insert("operation".into(), json!(v));
                }
                if let Some(v) = e.api_version {
                    em.insert("apiVersion".into(), json!(v));
                }
                if let Some(t) = &e.time {
                    em.insert("time".into(), time_to_json(t));
                }
                if let Some(v) = e.fields_type {
                    em.insert("fieldsType".into(), json!(v));
                }
                if let Some(raw) = e.fields_v1.and_then(|f| f.raw) {
                    if let Ok(v) = serde_json::from_slice::<Value>(&raw) {
                        em.insert("fieldsV1".into(), v);
                    }
                }
                if let Some(v) = e.subresource.filter(|s| !s.is_empty()) {
                    em.insert("subresource".into(), json!(v));
                }
                Value::Object(em)
            })
            .collect();
        m.insert("managedFields".into(), json!(entries));
    }
    Value::Object(m)
}

/// Encodes the JSON form of a Secret, ConfigMap, their lists or a Status as an enveloped
/// protobuf body; `None` for kinds without a protobuf encoding here (answer JSON instead).
pub fn encode(object: &Value) -> Option<Vec<u8>> {
    let kind = object["kind"].as_str()?;
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let raw = match kind {
        "Secret" => secret_from_json(object).encode_to_vec(),
        "ConfigMap" => config_map_from_json(object).encode_to_vec(),
        "SecretList" => core::SecretList {
            metadata: Some(list_meta_from_json(&object["metadata"])),
            items: items(object).map(secret_from_json).collect(),
        }
        .encode_to_vec(),
        "ConfigMapList" => core::ConfigMapList {
            metadata: Some(list_meta_from_json(&object["metadata"])),
            items: items(object).map(config_map_from_json).collect(),
        }
        .encode_to_vec(),
        "Status" => status_from_json(object).encode_to_vec(),
        _ => return None,
    };
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.to_string()),
            kind: Some(kind.to_string()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = MAGIC.to_vec();
    out.extend(unknown.encode_to_vec());
    Some(out)
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list["items"].as_array().into_iter().flatten()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn decoded_bytes_map(v: &Value) -> BTreeMap<String, Vec<u8>> {
    let engine = base64::engine::general_purpose::STANDARD;
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .and_then(|s| engine.decode(s).ok())
                        .map(|b| (k.clone(), b))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn time_from_json(v: &Value) -> Option<meta::Time> {
    let s = v.as_str()?;
    let dt = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(meta::Time {
        seconds: Some(dt.timestamp()),
        nanos: Some(0),
    })
}

fn object_meta_from_json(m: &Value) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: opt_str(&m["name"]),
        generate_name: opt_str(&m["generateName"]),
        namespace: opt_str(&m["namespace"]),
        uid: opt_str(&m["uid"]),
        resource_version: opt_str(&m["resourceVersion"]),
        generation: m["generation"].as_i64(),
        creation_timestamp: time_from_json(&m["creationTimestamp"]),
        deletion_timestamp: time_from_json(&m["deletionTimestamp"]),
        deletion_grace_period_seconds: m["deletionGracePeriodSeconds"].as_i64(),
        labels: string_map(&m["labels"]),
        annotations: string_map(&m["annotations"]),
        owner_references: m["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| meta::OwnerReference {
                api_version: opt_str(&r["apiVersion"]),
                kind: opt_str(&r["kind"]),
                name: opt_str(&r["name"]),
                uid: opt_str(&r["uid"]),
                controller: r["controller"].as_bool(),
                block_owner_deletion: r["blockOwnerDeletion"].as_bool(),
            })
            .collect(),
        finalizers: m["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        managed_fields: m["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| meta::ManagedFieldsEntry {
                manager: opt_str(&e["manager"]),
                operation: opt_str(&e["operation"]),
                api_version: opt_str(&e["apiVersion"]),
                time: time_from_json(&e["time"]),
                fields_type: opt_str(&e["fieldsType"]),
                fields_v1: if e["fieldsV1"].is_null() {
                    None
                } else {
                    Some(meta::FieldsV1 {
                        raw: serde_json::to_vec(&e["fieldsV1"]).ok(),
                    })
                },
                subresource: opt_str(&e["subresource"]),
            })
            .collect(),
        ..Default::default()
    }
}

fn list_meta_from_json(m: &Value) -> meta::ListMeta {
    meta::ListMeta {
        resource_version: opt_str(&m["resourceVersion"]),
        r#continue: opt_str(&m["continue"]),
        remaining_item_count: m["remainingItemCount"].as_i64(),
        ..Default::default()
    }
}

fn secret_from_json(s: &Value) -> core::Secret {
    core::Secret {
        metadata: Some(object_meta_from_json(&s["metadata"])),
        immutable: s["immutable"].as_bool(),
        data: decoded_bytes_map(&s["data"]),
        string_data: BTreeMap::new(),
        r#type: opt_str(&s["type"]),
    }
}

fn config_map_from_json(c: &Value) -> core::ConfigMap {
    core::ConfigMap {
        metadata: Some(object_meta_from_json(&c["metadata"])),
        immutable: c["immutable"].as_bool(),
        data: string_map(&c["data"]),
        binary_data: decoded_bytes_map(&c["binaryData"]),
    }
}

fn status_from_json(s: &Value) -> meta::Status {
    let details = &s["details"];
    meta::Status {
        metadata: Some(meta::ListMeta::default()),
        status: opt_str(&s["status"]),
        message: opt_str(&s["message"]),
        reason: opt_str(&s["reason"]),
        details: if details.is_object() {
            Some(meta::StatusDetails {
                name: opt_str(&details["name"]),
                group: opt_str(&details["group"]),
                kind: opt_str(&details["kind"]),
                uid: opt_str(&details["uid"]),
                causes: details["causes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| meta::StatusCause {
                        reason: opt_str(&c["reason"]),
                        message: opt_str(&c["message"]),
                        field: opt_str(&c["field"]),
                    })
                    .collect(),
                retry_after_seconds: None,
            })
        } else {
            None
        },
        code: s["code"].as_i64().map(|c| c as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_through_the_envelope() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default", "labels": {"owner": "helm"},
                         "resourceVersion": "7", "creationTimestamp": "2026-01-02T03:04:05Z"},
            "type": "helm.sh/release.v1", "data": {"release": "aGVsbG8="}});
        let bytes = encode(&secret).expect("encodes");
        assert!(bytes.starts_with(b"k8s\0"));
        assert_eq!(decode(&bytes).expect("decodes"), secret);
    }

    #[test]
    fn helm_delete_options_body_decodes() {
        let body = b"k8s\x00\n\x13\n\x02v1\x12\rDeleteOptions\x12\x00\x1a\x00\"\x00";
        let v = decode(body).expect("decodes");
        assert_eq!(v["kind"], "DeleteOptions");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(decode(b"nope"), Err(ProtobufError::NoEnvelope));
        assert!(matches!(
            decode(b"k8s\0\xff\xff\xff"),
            Err(ProtobufError::Malformed(_))
        ));
    }
}
