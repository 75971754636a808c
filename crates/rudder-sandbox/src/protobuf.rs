//! Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): the `k8s\0` envelope
//! around a `runtime.Unknown` whose `raw` holds the typed message.
//!
//! client-go's typed clients (Helm's Secret and ConfigMap storage drivers) send their create,
//! update and delete bodies this way; everything else speaks JSON.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

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

/// Decodes an enveloped body into the JSON form of the object, for any kind in the generated
/// field table (`schemas/protobuf-fields.json`, from the `k8s-pb` crate's message definitions).
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let raw = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoEnvelope)?;
    let unknown = Unknown::decode(raw).map_err(|e| ProtobufError::Malformed(e.to_string()))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let message = message_name(&api_version, &kind)
        .ok_or_else(|| ProtobufError::UnsupportedKind(kind.clone()))?;
    let mut out = match message_to_json(message, &raw, 0)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    Ok(Value::Object(out))
}

/// tag → (JSON name, type) per message.
type FieldTable = HashMap<String, HashMap<u32, (String, String)>>;

fn fields() -> &'static FieldTable {
    static TABLE: OnceLock<FieldTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let raw: HashMap<String, HashMap<String, (String, String)>> =
            serde_json::from_str(include_str!("schemas/protobuf-fields.json")).unwrap_or_default();
        raw.into_iter()
            .map(|(name, table)| {
                let table = table
                    .into_iter()
                    .filter_map(|(tag, f)| tag.parse::<u32>().ok().map(|t| (t, f)))
                    .collect();
                (name, table)
            })
            .collect()
    })
}

/// The message of a kind: `apps/v1 Deployment` → `io.k8s.api.apps.v1.Deployment`.
fn message_name(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => {
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".to_string()
        }
        "meta.k8s.io" => "io.k8s.apimachinery.pkg.apis.meta".to_string(),
        g => format!("io.k8s.api.{}", g.split('.').next().unwrap_or(g)),
    };
    let wanted = format!("{package}.{version}.{kind}");
    let table = fields();
    if let Some((name, _)) = table.get_key_value(&wanted) {
        return Some(name.as_str());
    }
    // Options types (DeleteOptions) travel with the request's group-version; they live in meta.
    let meta = format!("io.k8s.apimachinery.pkg.apis.meta.v1.{kind}");
    table.get_key_value(&meta).map(|(name, _)| name.as_str())
}

/// Fields whose zero value means something (Go pointers): kept when the wire carries 0/false.
/// Every other zero scalar is a Go value field that JSON's omitempty drops.
const MEANINGFUL_ZERO: &[&str] = &[
    "replicas",
    "automountServiceAccountToken",
    "enableServiceLinks",
    "suspend",
    "parallelism",
    "completions",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "allowPrivilegeEscalation",
    "readOnlyRootFilesystem",
    "privileged",
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "fsGroup",
    "optional",
    "immutable",
    "hostUsers",
    "shareProcessNamespace",
    "setHostnameAsFQDN",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "partition",
    "ttlSecondsAfterFinished",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "defaultMode",
    "mode",
    "allocateLoadBalancerNodePorts",
    "minReplicas",
    "gracePeriodSeconds",
    "orphanDependents",
    "start",
    "sizeLimit",
    "expirationSeconds",
    "stdinOnce",
];

/// A protobuf wire reader over one message's bytes.
struct Reader<'a> {
    data: &'a [u8],
}

/// One field from the wire.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .data
                .split_first()
                .ok_or_else(|| ProtobufError::Malformed("truncated varint".into()))?;
            self.data = rest;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::Malformed("varint too long".into()))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtobufError> {
        if self.data.len() < n {
            return Err(ProtobufError::Malformed("truncated field".into()));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn next(&mut self) -> Option<Result<(u32, Wire<'a>), ProtobufError>> {
        if self.data.is_empty() {
            return None;
        }
        Some(self.field())
    }

    fn field(&mut self) -> Result<(u32, Wire<'a>), ProtobufError> {
        let key = self.varint()?;
        let tag = u32::try_from(key >> 3)
            .map_err(|_| ProtobufError::Malformed("field number out of range".into()))?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                Wire::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let n = usize::try_from(self.varint()?)
                    .map_err(|_| ProtobufError::Malformed("length out of range".into()))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Wire::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            }
            other => {
                return Err(ProtobufError::Malformed(format!(
                    "unsupported wire type {other}"
                )))
            }
        };
        Ok((tag, wire))
    }
}

/// Deeper nesting than any Kubernetes object needs is an attack, not an object.
const MAX_DEPTH: usize = 64;

fn message_to_json(name: &str, bytes: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::Malformed("message nested too deeply".into()));
    }
    if let Some(special) = special_to_json(name, bytes)? {
        return Ok(special);
    }
    let table = fields().get(name);
    let mut out = Map::new();
    let mut reader = Reader { data: bytes };
    while let Some(field) = reader.next() {
        let (tag, wire) = field?;
        let Some((json_name, ty)) = table.and_then(|t| t.get(&tag)) else {
            continue;
        };
        if let Some(item_type) = ty.strip_prefix("repeated ") {
            let items = out
                .entry(json_name.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = items {
                match (&wire, is_numeric(item_type)) {
                    // Packed repeated scalars.
                    (Wire::Bytes(packed), true) => {
                        let mut r = Reader { data: packed };
                        while !r.data.is_empty() {
                            let v = r.varint()?;
                            list.push(scalar(item_type, &Wire::Varint(v))?);
                        }
                    }
                    _ => list.push(value_of(item_type, &wire, depth)?),
                }
            }
            continue;
        }
        if let Some(map_type) = ty.strip_prefix("map:") {
            let value_type = map_type.split_once(':').map(|(_, v)| v).unwrap_or("string");
            let Wire::Bytes(entry) = wire else { continue };
            let mut r = Reader { data: entry };
            let (mut key, mut value) = (String::new(), None);
            while let Some(f) = r.next() {
                match f? {
                    (1, Wire::Bytes(k)) => key = String::from_utf8_lossy(k).into_owned(),
                    (2, w) => value = Some(value_of(value_type, &w, depth)?),
                    _ => {}
                }
            }
            let value = value.unwrap_or_else(|| empty_of(value_type));
            let map = out
                .entry(json_name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = map {
                m.insert(key, value);
            }
            continue;
        }
        let value = value_of(ty, &wire, depth)?;
        if json_name.is_empty() {
            // An inline (embedded) Go struct: its fields belong to this object.
            if let Value::Object(inner) = value {
                out.extend(inner);
            }
            continue;
        }
        let zero = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            _ => false,
        };
        if zero
            && !(MEANINGFUL_ZERO.contains(&json_name.as_str())
                && !value.is_null()
                && !value.is_string())
        {
            continue;
        }
        out.insert(json_name.clone(), value);
    }
    Ok(Value::Object(out))
}

fn is_numeric(ty: &str) -> bool {
    matches!(ty, "int32" | "int64" | "bool")
}

fn empty_of(ty: &str) -> Value {
    match ty {
        "string" | "bytes" => json!(""),
        "bool" => json!(false),
        "int32" | "int64" | "double" | "float" => json!(0),
        _ => json!({}),
    }
}

fn value_of(ty: &str, wire: &Wire<'_>, depth: usize) -> Result<Value, ProtobufError> {
    match ty.strip_prefix("message:") {
        Some(message) => match wire {
            Wire::Bytes(b) => message_to_json(message, b, depth + 1),
            _ => Err(ProtobufError::Malformed(format!(
                "{message} is not length-delimited"
            ))),
        },
        None => scalar(ty, wire),
    }
}

fn scalar(ty: &str, wire: &Wire<'_>) -> Result<Value, ProtobufError> {
    let engine = base64::engine::general_purpose::STANDARD;
    Ok(match (ty, wire) {
        ("string", Wire::Bytes(b)) => json!(String::from_utf8_lossy(b)),
        ("bytes", Wire::Bytes(b)) => json!(engine.encode(b)),
        ("bool", Wire::Varint(v)) => json!(*v != 0),
        ("int32", Wire::Varint(v)) => json!(*v as i64 as i32),
        ("int64", Wire::Varint(v)) => json!(*v as i64),
        ("double", Wire::Fixed64(v)) => json!(f64::from_bits(*v)),
        ("float", Wire::Fixed32(v)) => json!(f32::from_bits(*v)),
        _ => {
            return Err(ProtobufError::Malformed(format!(
                "field of type {ty} has the wrong wire type"
            )))
        }
    })
}

/// Messages whose JSON form is not an object of their fields.
fn special_to_json(name: &str, bytes: &[u8]) -> Result<Option<Value>, ProtobufError> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let handled = matches!(
        name,
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
            | "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
            | "io.k8s.apimachinery.pkg.apis.meta.v1.Duration"
            | "io.k8s.apimachinery.pkg.api.resource.Quantity"
            | "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
            | "io.k8s.apimachinery.pkg.runtime.RawExtension"
            | "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"
            | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"
    );
    if !handled {
        return Ok(None);
    }
    let mut ints: HashMap<u32, i64> = HashMap::new();
    let mut texts: HashMap<u32, &[u8]> = HashMap::new();
    let mut reader = Reader { data: bytes };
    while let Some(field) = reader.next() {
        match field? {
            (tag, Wire::Varint(v)) => {
                ints.insert(tag, v as i64);
            }
            (tag, Wire::Bytes(b)) => {
                texts.insert(tag, b);
            }
            _ => {}
        }
    }
    let text = |tag: u32| {
        texts
            .get(&tag)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    Ok(Some(match short {
        "Time" | "MicroTime" => {
            let secs = ints.get(&1).copied().unwrap_or(0);
            if secs == 0 {
                Value::Null
            } else {
                match chrono::DateTime::from_timestamp(secs, 0) {
                    Some(dt) if short == "Time" => {
                        json!(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    }
                    Some(dt) => json!(dt.format("%Y-%m-%dT%H:%M:%S.000000Z").to_string()),
                    None => Value::Null,
                }
            }
        }
        "Duration" => {
            let nanos = ints.get(&1).copied().unwrap_or(0);
            json!(go_duration(nanos))
        }
        "Quantity" => json!(text(1).unwrap_or_default()),
        "IntOrString" => {
            if ints.get(&1).copied().unwrap_or(0) == 1 {
                json!(text(3).unwrap_or_default())
            } else {
                json!(ints.get(&2).copied().unwrap_or(0) as i32)
            }
        }
        _ => texts
            .get(&1)
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .unwrap_or(Value::Null),
    }))
}

/// Go's `time.Duration` string for whole seconds (`1h0m0s`, `90s` → `1m30s`).
fn go_duration(nanos: i64) -> String {
    let secs = nanos / 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
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
    fn deployments_decode_through_the_generated_field_table() {
        use k8s_pb::api::apps::v1 as apps;
        use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
        let deployment = apps::Deployment {
            metadata: Some(meta::ObjectMeta {
                name: Some("web".into()),
                generate_name: Some(String::new()),
                labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(apps::DeploymentSpec {
                replicas: Some(0),
                paused: Some(false),
                template: Some(core::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta::default()),
                    spec: Some(core::PodSpec {
                        containers: vec![core::Container {
                            name: Some("web".into()),
                            image: Some("nginx".into()),
                            ports: vec![core::ContainerPort {
                                container_port: Some(80),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                }),
                strategy: Some(apps::DeploymentStrategy {
                    r#type: Some("RollingUpdate".into()),
                    rolling_update: Some(apps::RollingUpdateDeployment {
                        max_surge: Some(IntOrString {
                            r#type: Some(1),
                            int_val: Some(0),
                            str_val: Some("25%".into()),
                        }),
                        max_unavailable: Some(IntOrString {
                            r#type: Some(0),
                            int_val: Some(1),
                            str_val: Some(String::new()),
                        }),
                    }),
                }),
                ..Default::default()
            }),
            status: None,
        };
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some("apps/v1".into()),
                kind: Some("Deployment".into()),
            }),
            raw: Some(deployment.encode_to_vec()),
            content_encoding: None,
            content_type: None,
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        let v = decode(&body).expect("decodes");
        assert_eq!(
            v,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"replicas": 0,
                    "template": {"metadata": {}, "spec": {"containers": [
                        {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}},
                    "strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}})
        );
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
