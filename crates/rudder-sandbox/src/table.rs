//! Server-side printing: `meta.k8s.io/v1 Table` answers for `kubectl get`, with the columns a
//! real server prints for each kind.

use serde_json::{json, Value};

use super::resources::ResourceType;

/// Whether the Accept header asks for a Table (kubectl's human-readable output does).
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| {
        let params: Vec<String> = first
            .split(';')
            .map(|p| p.trim().replace(' ', ""))
            .collect();
        params.iter().any(|p| p == "as=Table") && params.iter().any(|p| p == "g=meta.k8s.io")
    })
}

/// The response Content-Type of a Table.
pub const CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// A Table of `objects` (full objects with apiVersion/kind), `include_object` as the
/// `includeObject` parameter says (`None`, `Metadata` by default, or `Object`).
pub fn render(
    rt: &ResourceType,
    objects: &[Value],
    resource_version: &str,
    include_object: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let columns = columns(rt);
    let definitions: Vec<Value> = columns
        .iter()
        .map(|(name, kind, priority)| {
            json!({
                "name": name,
                "type": kind,
                "format": if *name == "Name" { "name" } else { "" },
                "description": "",
                "priority": priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let object = match include_object {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                }),
            };
            json!({"cells": cells(rt, o, now), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

/// (name, type, priority): priority 1 columns appear only with `-o wide`.
fn columns(rt: &ResourceType) -> Vec<(&'static str, &'static str, u8)> {
    let name = ("Name", "string", 0);
    let age = ("Age", "string", 0);
    if !rt.builtin {
        return vec![name, age];
    }
    match rt.gvk.kind.as_str() {
        "ConfigMap" => vec![name, ("Data", "string", 0), age],
        "Secret" => vec![name, ("Type", "string", 0), ("Data", "string", 0), age],
        "Namespace" => vec![name, ("Status", "string", 0), age],
        "ServiceAccount" => vec![name, ("Secrets", "string", 0), age],
        "Service" => vec![
            name,
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            age,
            ("Selector", "string", 1),
        ],
        "Deployment" => vec![
            name,
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            age,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "StatefulSet" => vec![name, ("Ready", "string", 0), age],
        "ReplicaSet" => vec![
            name,
            ("Desired", "string", 0),
            ("Current", "string", 0),
            ("Ready", "string", 0),
            age,
        ],
        "DaemonSet" => vec![
            name,
            ("Desired", "string", 0),
            ("Current", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            ("Node Selector", "string", 0),
            age,
        ],
        "Pod" => vec![
            name,
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            age,
        ],
        "Job" => vec![
            name,
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            age,
        ],
        "CronJob" => vec![
            name,
            ("Schedule", "string", 0),
            ("Timezone", "string", 0),
            ("Suspend", "string", 0),
            ("Active", "string", 0),
            ("Last Schedule", "string", 0),
            age,
        ],
        "PersistentVolumeClaim" => vec![
            name,
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            age,
        ],
        "Ingress" => vec![
            name,
            ("Class", "string", 0),
            ("Hosts", "string", 0),
            ("Address", "string", 0),
            ("Ports", "string", 0),
            age,
        ],
        _ => vec![name, age],
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn count(v: &Value) -> usize {
    v.as_object().map(|m| m.len()).unwrap_or(0)
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

fn cells(rt: &ResourceType, o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let name = json!(o["metadata"]["name"].as_str().unwrap_or_default());
    let age = json!(age(&o["metadata"]["creationTimestamp"], now));
    if !rt.builtin {
        return vec![name, age];
    }
    let spec = &o["spec"];
    let status = &o["status"];
    let s = |v: String| json!(v);
    match rt.gvk.kind.as_str() {
        "ConfigMap" => vec![
            name,
            json!(count(&o["data"]) + count(&o["binaryData"])),
            age,
        ],
        "Secret" => vec![
            name,
            s(o["type"].as_str().unwrap_or("Opaque").to_string()),
            json!(count(&o["data"])),
            age,
        ],
        "Namespace" => vec![
            name,
            s(status["phase"].as_str().unwrap_or("Active").to_string()),
            age,
        ],
        "ServiceAccount" => vec![
            name,
            json!(o["secrets"].as_array().map(Vec::len).unwrap_or(0)),
            age,
        ],
        "Service" => {
            let ports: Vec<String> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let proto = p["protocol"].as_str().unwrap_or("TCP");
                    match p["nodePort"].as_i64() {
                        Some(n) => format!("{}:{n}/{proto}", int(&p["port"])),
                        None => format!("{}/{proto}", int(&p["port"])),
                    }
                })
                .collect();
            let external = match spec["type"].as_str() {
                Some("LoadBalancer") => "<pending>".to_string(),
                Some("ExternalName") => spec["externalName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                _ => "<none>".to_string(),
            };
            vec![
                name,
                s(spec["type"].as_str().unwrap_or("ClusterIP").to_string()),
                s(or_none(
                    spec["clusterIP"].as_str().unwrap_or_default().to_string(),
                )),
                s(external),
                s(or_none(ports.join(","))),
                age,
                s(or_none(selector(&spec["selector"]))),
            ]
        }
        "Deployment" => {
            let desired = spec["replicas"].as_i64().unwrap_or(1);
            let containers = &spec["template"]["spec"]["containers"];
            vec![
                name,
                s(format!("{}/{desired}", int(&status["readyReplicas"]))),
                json!(int(&status["updatedReplicas"])),
                json!(int(&status["availableReplicas"])),
                age,
                s(join(containers, "name")),
                s(join(containers, "image")),
                s(or_none(selector(&spec["selector"]["matchLabels"]))),
            ]
        }
        "StatefulSet" => vec![
            name,
            s(format!(
                "{}/{}",
                int(&status["readyReplicas"]),
                spec["replicas"].as_i64().unwrap_or(1)
            )),
            age,
        ],
        "ReplicaSet" => vec![
            name,
            json!(spec["replicas"].as_i64().unwrap_or(1)),
            json!(int(&status["replicas"])),
            json!(int(&status["readyReplicas"])),
            age,
        ],
        "DaemonSet" => vec![
            name,
            json!(int(&status["desiredNumberScheduled"])),
            json!(int(&status["currentNumberScheduled"])),
            json!(int(&status["numberReady"])),
            json!(int(&status["updatedNumberScheduled"])),
            json!(int(&status["numberAvailable"])),
            s(or_none(selector(&spec["template"]["spec"]["nodeSelector"]))),
            age,
        ],
        "Pod" => {
            let containers = spec["containers"].as_array().map(Vec::len).unwrap_or(0);
            let statuses = status["containerStatuses"].as_array();
            let ready = statuses
                .map(|c| {
                    c.iter()
                        .filter(|c| c["ready"].as_bool() == Some(true))
                        .count()
                })
                .unwrap_or(0);
            let restarts: i64 = statuses
                .map(|c| c.iter().map(|c| int(&c["restartCount"])).sum())
                .unwrap_or(0);
            vec![
                name,
                s(format!("{ready}/{containers}")),
                s(status["phase"].as_str().unwrap_or("Pending").to_string()),
                json!(restarts),
                age,
            ]
        }
        "Job" => {
            let completions = spec["completions"].as_i64().unwrap_or(1);
            let conditions = status["conditions"].as_array();
            let has = |t: &str| {
                conditions
                    .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
            };
            let state = if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else if spec["suspend"].as_bool() == Some(true) {
                "Suspended"
            } else {
                "Running"
            };
            vec![
                name,
                s(state.to_string()),
                s(format!("{}/{completions}", int(&status["succeeded"]))),
                s(String::new()),
                age,
            ]
        }
        "CronJob" => vec![
            name,
            s(spec["schedule"].as_str().unwrap_or_default().to_string()),
            s(or_none(
                spec["timeZone"].as_str().unwrap_or_default().to_string(),
            )),
            s(if spec["suspend"].as_bool() == Some(true) {
                "True"
            } else {
                "False"
            }
            .to_string()),
            json!(status["active"].as_array().map(Vec::len).unwrap_or(0)),
            s(status["lastScheduleTime"]
                .as_str()
                .map(|_| self::age(&status["lastScheduleTime"], now))
                .unwrap_or_else(|| "<none>".into())),
            age,
        ],
        "PersistentVolumeClaim" => vec![
            name,
            s(status["phase"].as_str().unwrap_or("Pending").to_string()),
            s(spec["volumeName"].as_str().unwrap_or_default().to_string()),
            s(status["capacity"]["storage"]
                .as_str()
                .unwrap_or_default()
                .to_string()),
            s(String::new()),
            s(or_none(
                spec["storageClassName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )),
            s("<unset>".to_string()),
            age,
        ],
        "Ingress" => {
            let hosts: Vec<String> = spec["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["host"].as_str().map(str::to_string))
                .collect();
            let tls = spec["tls"].as_array().is_some_and(|t| !t.is_empty());
            vec![
                name,
                s(or_none(
                    spec["ingressClassName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )),
                s(if hosts.is_empty() {
                    "*".to_string()
                } else {
                    hosts.join(",")
                }),
                s(String::new()),
                s(if tls { "80, 443" } else { "80" }.to_string()),
                age,
            ]
        }
        _ => vec![name, age],
    }
}

fn join(list: &Value, field: &str) -> String {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c[field].as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn selector(map: &Value) -> String {
    map.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// kubectl's short age: `45s`, `3m12s`, `5h`, `2d3h`, ...
pub fn age(timestamp: &Value, now: chrono::DateTime<chrono::Utc>) -> String {
    let Some(t) = timestamp
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    else {
        return "<unknown>".into();
    };
    let secs = (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        let mm = m % 60;
        if mm == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{mm}m")
        }
    } else if h < 48 {
        format!("{h}h")
    } else if d < 8 {
        let hh = h % 24;
        if hh == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{hh}h")
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Catalog;

    #[test]
    fn kubectl_accept_header_asks_for_a_table() {
        assert!(wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
        assert!(!wants_table("application/json"));
    }

    #[test]
    fn secret_rows_carry_type_and_data_count() {
        let rt = Catalog::builtin()
            .by_path("", "v1", "secrets")
            .expect("secrets");
        let now = chrono::Utc::now();
        let created = (now - chrono::Duration::seconds(30))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let s = json!({"metadata": {"name": "s", "creationTimestamp": created}, "type": "Opaque", "data": {"a": "", "b": ""}});
        let table = render(&rt, &[s], "5", "Metadata", now);
        assert_eq!(table["rows"][0]["cells"], json!(["s", "Opaque", 2, "30s"]));
        assert_eq!(table["columnDefinitions"][1]["name"], "Type");
    }

    #[test]
    fn ages_read_like_kubectl() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let at = |s: &str| age(&json!(s), now);
        assert_eq!(at("2026-01-09T23:59:15Z"), "45s");
        assert_eq!(at("2026-01-09T23:56:48Z"), "3m12s");
        assert_eq!(at("2026-01-09T19:00:00Z"), "5h");
        assert_eq!(at("2026-01-07T21:00:00Z"), "2d3h");
    }
}
