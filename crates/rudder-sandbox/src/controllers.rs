//! Simulated controllers: what a cluster's controllers would write, so that rollouts, waits and
//! failures can be tested without a real cluster.
//!
//! Driven by the store's change stream. After `rollout_delay` a Deployment gets its ReplicaSet
//! and Pods and a status written the way the real controller writes it; StatefulSets,
//! DaemonSets, Jobs, bare Pods, PVCs and LoadBalancer Services likewise. An image whose tag is
//! `fail` (ImagePullBackOff) or whose name contains `crashloop` (CrashLoopBackOff) never becomes
//! ready; a Deployment with one reports `ProgressDeadlineExceeded` after its
//! `progressDeadlineSeconds` scaled by `time_scale`, and a Job fails with `BackoffLimitExceeded`.
//! Deleting an owner deletes its dependents (ownerReferences), as the garbage collector does.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::clock::Clock;
use super::store::{ChangeKind, ObjectKey, Store, Txn};
use super::Gvk;

/// Timing of the simulated controllers.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a rollout (or a Job) takes to finish.
    pub rollout_delay: Duration,
    /// Factor applied to durations written in specs (e.g. `progressDeadlineSeconds`).
    pub time_scale: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rollout_delay: Duration::from_millis(200),
            time_scale: 0.01,
        }
    }
}

/// Starts the controllers; they run until the runtime stops. Their timers run on `clock`.
pub fn spawn(
    store: Arc<Store>,
    settings: Settings,
    clock: Arc<Clock>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (existing, mut rx) = store.subscribe(|state| state.all_objects_with_keys());
        for (key, object) in existing {
            react(&store, settings, &clock, key, &object, ChangeKind::Added);
        }
        loop {
            match rx.recv().await {
                Ok(change) => react(
                    &store,
                    settings,
                    &clock,
                    change.key.clone(),
                    &change.object,
                    change.kind,
                ),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    })
}

fn kind_of(object: &Value) -> (&str, &str) {
    (
        object["apiVersion"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default(),
    )
}

/// Decides whether a change needs work and schedules it.
fn react(
    store: &Arc<Store>,
    settings: Settings,
    clock: &Arc<Clock>,
    key: ObjectKey,
    object: &Value,
    kind: ChangeKind,
) {
    if kind == ChangeKind::Deleted {
        if let Some(uid) = object["metadata"]["uid"].as_str() {
            let store = store.clone();
            let uid = uid.to_string();
            tokio::spawn(async move { collect_garbage(&store, &uid) });
        }
        return;
    }
    if !object["metadata"]["deletionTimestamp"].is_null() {
        return;
    }
    let generation = object["metadata"]["generation"].as_i64().unwrap_or(1);
    let observed = object["status"]["observedGeneration"].as_i64();
    let needs = match kind_of(object) {
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") => observed != Some(generation),
        // A failing Job is started once, then fails after its back-off (see `job`).
        ("batch/v1", "Job") => {
            object["status"]["conditions"]
                .as_array()
                .is_none_or(|c| c.is_empty())
                && object["spec"]["suspend"] != true
                && (object["status"]["startTime"].is_null() || kind == ChangeKind::Added)
        }
        ("v1", "Pod") => {
            object["metadata"]["ownerReferences"].is_null() && object["status"]["phase"].is_null()
        }
        ("v1", "PersistentVolumeClaim") => object["status"]["phase"] != "Bound",
        ("v1", "Service") => {
            object["spec"]["type"] == "LoadBalancer"
                && object["status"]["loadBalancer"]["ingress"].is_null()
        }
        _ => false,
    };
    if !needs {
        return;
    }
    let store = store.clone();
    let clock = clock.clone();
    tokio::spawn(async move {
        clock.sleep(settings.rollout_delay).await;
        reconcile(&store, &clock, &key);
    });
}

fn reconcile(store: &Arc<Store>, clock: &Arc<Clock>, key: &ObjectKey) {
    // Deadlines count from before the status is written, so an advance of the clock made by
    // someone who saw that status always reaches them.
    let started = clock.now();
    let deadline = store
        .write(false, |txn| {
            let Some(object) = txn.get(key) else {
                return Ok::<_, ()>(None);
            };
            let mut object = (*object).clone();
            let deadline = match kind_of(&object) {
                ("apps/v1", "Deployment") => deployment(txn, &mut object),
                ("apps/v1", "StatefulSet") => {
                    statefulset(txn, &mut object);
                    None
                }
                ("apps/v1", "DaemonSet") => {
                    daemonset(txn, &mut object);
                    None
                }
                ("batch/v1", "Job") => job(&mut object),
                ("v1", "Pod") => {
                    bare_pod(&mut object);
                    None
                }
                ("v1", "PersistentVolumeClaim") => {
                    bind_claim(txn, &mut object);
                    None
                }
                ("v1", "Service") => {
                    let n = txn.next_service_ip_index() % 250 + 2;
                    object["status"]["loadBalancer"] =
                        json!({"ingress": [{"ip": format!("192.0.2.{n}"), "ipMode": "VIP"}]});
                    None
                }
                _ => None,
            };
            txn.put(key, object);
            Ok(deadline)
        })
        .ok()
        .flatten();
    // A failing Deployment reports ProgressDeadlineExceeded once its (scaled) deadline passes;
    // a failing Job fails once its back-off is spent.
    if let Some(seconds) = deadline {
        let store = store.clone();
        let key = key.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            clock
                .sleep_until(started + clock.scaled(seconds.max(0.0)))
                .await;
            let _ = store.write(false, |txn| {
                if let Some(object) = txn.get(&key) {
                    let mut object = (*object).clone();
                    let changed = match kind_of(&object) {
                        ("apps/v1", "Deployment") => deployment_timed_out(&mut object),
                        ("batch/v1", "Job") => job_failed(&mut object),
                        _ => false,
                    };
                    if changed {
                        txn.put(&key, object);
                    }
                }
                Ok::<_, ()>(())
            });
        });
    }
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Why an image never becomes ready, if it does not: tag `fail` or a name with `crashloop`.
fn image_failure(image: &str) -> Option<(&'static str, String)> {
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, ""),
    };
    if tag == "fail" {
        Some((
            "ImagePullBackOff",
            format!("Back-off pulling image \"{image}\""),
        ))
    } else if name.contains("crashloop") {
        Some((
            "CrashLoopBackOff",
            "back-off 5m0s restarting failed container".to_string(),
        ))
    } else {
        None
    }
}

fn template_failure(template: &Value) -> Option<(&'static str, String)> {
    template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            template["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find_map(|c| image_failure(c["image"].as_str().unwrap_or_default()))
}

/// A short, stable hash in Kubernetes' pod-template-hash alphabet.
fn short_hash(value: &Value) -> String {
    let text = value.to_string();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|i| ALPHABET[((h >> (i * 6)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

fn owner_ref(owner: &Value) -> Value {
    json!([{
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

fn key_for(
    txn: &Txn<'_>,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<ObjectKey> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    };
    let gvk = Gvk {
        group,
        version,
        kind: kind.to_string(),
    };
    let rt = txn.catalog().by_gvk(&gvk)?;
    Some(ObjectKey::new(&rt, namespace, name))
}

/// Stores a controller-made object, keeping the identity of an existing one.
fn upsert(txn: &mut Txn<'_>, key: &ObjectKey, mut object: Value) {
    let existing = txn.get(key);
    let meta = &mut object["metadata"];
    match &existing {
        Some(e) => {
            meta["uid"] = e["metadata"]["uid"].clone();
            meta["creationTimestamp"] = e["metadata"]["creationTimestamp"].clone();
            meta["generation"] = e["metadata"]["generation"].clone();
        }
        None => {
            meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
            meta["creationTimestamp"] = json!(now());
            meta["generation"] = json!(1);
        }
    }
    if meta["generation"].is_null() {
        meta.as_object_mut().map(|m| m.remove("generation"));
    }
    txn.put(key, object);
}

fn pod(
    owner: &Value,
    name: &str,
    namespace: &str,
    template: &Value,
    extra_labels: &Value,
) -> Value {
    let mut labels = template["metadata"]["labels"].clone();
    if let (Some(l), Some(extra)) = (labels.as_object_mut(), extra_labels.as_object()) {
        for (k, v) in extra {
            l.insert(k.clone(), v.clone());
        }
    }
    let failure = template_failure(template);
    let now = now();
    let containers: Vec<Value> = template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or_default();
            let state = match image_failure(image) {
                Some((reason, message)) => json!({"waiting": {"reason": reason, "message": message}}),
                None => json!({"running": {"startedAt": now}}),
            };
            json!({"name": c["name"], "image": image, "imageID": "", "ready": image_failure(image).is_none(),
                   "started": image_failure(image).is_none(), "restartCount": 0, "state": state})
        })
        .collect();
    let ready = if failure.is_none() { "True" } else { "False" };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels,
                     "ownerReferences": owner_ref(owner)},
        "spec": template["spec"].clone(),
        "status": {
            "phase": if failure.is_none() { "Running" } else { "Pending" },
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
                {"type": "Ready", "status": ready, "lastTransitionTime": now},
            ],
            "hostIP": "10.0.0.1", "podIP": "10.244.0.10", "startTime": now,
            "containerStatuses": containers,
            "qosClass": "BestEffort",
        }
    })
}

/// Pods owned by `uid` in `namespace`.
fn owned(txn: &Txn<'_>, namespace: &str, uid: &str, kind: &str) -> Vec<(ObjectKey, Arc<Value>)> {
    txn.state()
        .all_objects_with_keys()
        .into_iter()
        .filter(|(k, o)| {
            k.namespace == namespace
                && o["kind"] == kind
                && o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .collect()
}

/// One of an object's metadata strings (`namespace`, `name`, `uid`), empty when unset.
fn meta_text(object: &Value, field: &str) -> String {
    object["metadata"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn condition(kind: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
           "reason": reason, "message": message})
}

/// Deployment → ReplicaSet → Pods and status. Returns the progress deadline (seconds) when the
/// rollout can never finish.
fn deployment(txn: &mut Txn<'_>, d: &mut Value) -> Option<f64> {
    let namespace = meta_text(d, "namespace");
    let name = meta_text(d, "name");
    let uid = meta_text(d, "uid");
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let template = d["spec"]["template"].clone();
    let hash = short_hash(&template);
    let rs_name = format!("{name}-{hash}");
    let failure = template_failure(&template);
    let revision = owned(txn, &namespace, &uid, "ReplicaSet").len() + 1;
    // Old ReplicaSets scale to zero; their Pods go.
    for (rs_key, rs) in owned(txn, &namespace, &uid, "ReplicaSet") {
        if rs["metadata"]["name"] == rs_name.as_str() {
            continue;
        }
        let rs_uid = meta_text(&rs, "uid");
        for (pod_key, _) in owned(txn, &namespace, &rs_uid, "Pod") {
            txn.remove(&pod_key);
        }
        let mut rs = (*rs).clone();
        rs["spec"]["replicas"] = json!(0);
        rs["status"] = json!({"replicas": 0, "observedGeneration": rs["metadata"]["generation"]});
        txn.put(&rs_key, rs);
    }
    let ready = if failure.is_none() { replicas } else { 0 };
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"] = labels.clone();
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": namespace, "labels": labels,
                     "annotations": {"deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                                     "deployment.kubernetes.io/max-replicas": (replicas + 1).to_string(),
                                     "deployment.kubernetes.io/revision": revision.to_string()},
                     "ownerReferences": owner_ref(d)},
        "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
        "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
                   "availableReplicas": ready, "observedGeneration": 1},
    });
    let rs_key = key_for(txn, "apps/v1", "ReplicaSet", &namespace, &rs_name)?;
    upsert(txn, &rs_key, rs);
    let rs_obj = txn.get(&rs_key)?;
    let rs_uid = meta_text(&rs_obj, "uid");
    let existing = owned(txn, &namespace, &rs_uid, "Pod");
    for (pod_key, _) in existing.iter().skip(replicas.max(0) as usize) {
        txn.remove(pod_key);
    }
    for i in existing.len()..replicas.max(0) as usize {
        let suffix: String = short_hash(&json!([rs_name, i])).chars().take(5).collect();
        let pod_name = format!("{rs_name}-{suffix}");
        let pod = pod(
            &rs_obj,
            &pod_name,
            &namespace,
            &template,
            &json!({"pod-template-hash": hash}),
        );
        if let Some(k) = key_for(txn, "v1", "Pod", &namespace, &pod_name) {
            upsert(txn, &k, pod);
        }
    }
    let now = now();
    let generation = d["metadata"]["generation"].clone();
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": ready, "availableReplicas": ready,
    });
    let conditions = if failure.is_none() {
        vec![
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &now,
            ),
            condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                &now,
            ),
        ]
    } else {
        status["unavailableReplicas"] = json!(replicas);
        vec![
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &now,
            ),
            condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs_name}\" is progressing."),
                &now,
            ),
        ]
    };
    if ready == 0 {
        status.as_object_mut().map(|s| {
            s.remove("readyReplicas");
            s.remove("availableReplicas")
        });
    }
    status["conditions"] = json!(conditions);
    d["status"] = status;
    failure.map(|_| {
        d["spec"]["progressDeadlineSeconds"]
            .as_f64()
            .unwrap_or(600.0)
    })
}

/// Marks a still-failing rollout as past its deadline; false when there is nothing to mark.
fn deployment_timed_out(d: &mut Value) -> bool {
    if template_failure(&d["spec"]["template"]).is_none() {
        return false;
    }
    let Some(conditions) = d["status"]["conditions"].as_array_mut() else {
        return false;
    };
    let now = now();
    let mut changed = false;
    for c in conditions.iter_mut() {
        if c["type"] == "Progressing" && c["reason"] != "ProgressDeadlineExceeded" {
            let rs = c["message"]
                .as_str()
                .and_then(|m| m.split('"').nth(1))
                .unwrap_or_default()
                .to_string();
            *c = condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs}\" has timed out progressing."),
                &now,
            );
            changed = true;
        }
    }
    changed
}

fn statefulset(txn: &mut Txn<'_>, s: &mut Value) {
    let namespace = meta_text(s, "namespace");
    let name = meta_text(s, "name");
    let replicas = s["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let template = s["spec"]["template"].clone();
    let revision = format!("{name}-{}", short_hash(&template));
    let failure = template_failure(&template);
    for i in 0..replicas {
        let pod_name = format!("{name}-{i}");
        let labels = json!({"controller-revision-hash": revision,
                            "statefulset.kubernetes.io/pod-name": pod_name,
                            "apps.kubernetes.io/pod-index": i.to_string()});
        let pod = pod(s, &pod_name, &namespace, &template, &labels);
        if let Some(k) = key_for(txn, "v1", "Pod", &namespace, &pod_name) {
            upsert(txn, &k, pod);
        }
        // Claims from volumeClaimTemplates outlive the StatefulSet, as in a real cluster.
        for claim in s["spec"]["volumeClaimTemplates"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let claim_name = format!(
                "{}-{name}-{i}",
                claim["metadata"]["name"].as_str().unwrap_or("data")
            );
            let Some(k) = key_for(txn, "v1", "PersistentVolumeClaim", &namespace, &claim_name)
            else {
                continue;
            };
            if txn.get(&k).is_some() {
                continue;
            }
            let mut pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": namespace,
                             "labels": template["metadata"]["labels"].clone()},
                "spec": claim["spec"].clone()});
            if pvc["spec"]["volumeMode"].is_null() {
                pvc["spec"]["volumeMode"] = json!("Filesystem");
            }
            bind_claim(txn, &mut pvc);
            upsert(txn, &k, pvc);
        }
    }
    for (pod_key, pod) in owned(
        txn,
        &namespace,
        s["metadata"]["uid"].as_str().unwrap_or_default(),
        "Pod",
    ) {
        let index = pod["metadata"]["name"]
            .as_str()
            .and_then(|n| n.rsplit('-').next())
            .and_then(|i| i.parse::<i64>().ok());
        if index.is_none_or(|i| i >= replicas) {
            txn.remove(&pod_key);
        }
    }
    let ready = if failure.is_none() { replicas } else { 0 };
    s["status"] = json!({
        "observedGeneration": s["metadata"]["generation"],
        "replicas": replicas, "readyReplicas": ready, "currentReplicas": replicas,
        "updatedReplicas": replicas, "availableReplicas": ready,
        "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
    });
}

fn daemonset(txn: &mut Txn<'_>, d: &mut Value) {
    let namespace = meta_text(d, "namespace");
    let name = meta_text(d, "name");
    let template = d["spec"]["template"].clone();
    let failure = template_failure(&template);
    let suffix: String = short_hash(&template).chars().take(5).collect();
    let uid = meta_text(d, "uid");
    for (pod_key, _) in owned(txn, &namespace, &uid, "Pod") {
        txn.remove(&pod_key);
    }
    let pod_name = format!("{name}-{suffix}");
    let pod = pod(d, &pod_name, &namespace, &template, &json!({}));
    if let Some(k) = key_for(txn, "v1", "Pod", &namespace, &pod_name) {
        upsert(txn, &k, pod);
    }
    let ready = i64::from(failure.is_none());
    d["status"] = json!({
        "observedGeneration": d["metadata"]["generation"],
        "currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0,
        "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": 1,
    });
    if ready == 0 {
        d["status"]["numberUnavailable"] = json!(1);
    }
}

/// A Job that succeeds completes at once; one whose image fails runs, and returns how long
/// (cluster seconds) its pods' back-off takes before it fails (10 s doubling per retry, at most
/// 6 min each, `backoffLimit` retries), as the Job controller does.
fn job(j: &mut Value) -> Option<f64> {
    let now = now();
    let failure = template_failure(&j["spec"]["template"]);
    let Some(_) = failure else {
        j["status"] = json!({
            "startTime": now, "completionTime": now, "active": 0, "ready": 0, "terminating": 0,
            "succeeded": j["spec"]["completions"].as_i64().unwrap_or(1),
            "uncountedTerminatedPods": {},
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                {"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
            ],
        });
        return None;
    };
    let start = j["status"]["startTime"]
        .as_str()
        .unwrap_or(&now)
        .to_string();
    j["status"] = json!({
        "startTime": start, "active": 1, "ready": 0, "terminating": 0,
        "uncountedTerminatedPods": {},
    });
    let retries = j["spec"]["backoffLimit"].as_i64().unwrap_or(6).clamp(0, 64);
    Some(
        (0..retries)
            .map(|i| (10.0 * 2f64.powi(i as i32)).min(360.0))
            .sum(),
    )
}

/// Marks a Job whose pods keep failing as failed; false when there is nothing to mark.
fn job_failed(j: &mut Value) -> bool {
    if template_failure(&j["spec"]["template"]).is_none()
        || j["status"]["conditions"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    {
        return false;
    }
    let now = now();
    let start = j["status"]["startTime"]
        .as_str()
        .unwrap_or(&now)
        .to_string();
    j["status"] = json!({
        "startTime": start, "active": 0, "ready": 0, "terminating": 0,
        "failed": j["spec"]["backoffLimit"].as_i64().unwrap_or(6) + 1,
        "uncountedTerminatedPods": {},
        "conditions": [
            {"type": "FailureTarget", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
             "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
            {"type": "Failed", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
             "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
        ],
    });
    true
}

/// A Pod nobody owns (a hook or test Pod, or `kubectl run`): runs, or runs to completion when it
/// does not restart; a failing image never starts.
fn bare_pod(p: &mut Value) {
    let template =
        json!({"metadata": {"labels": p["metadata"]["labels"].clone()}, "spec": p["spec"].clone()});
    let made = pod(&json!({}), "", "", &template, &json!({}));
    let mut status = made["status"].clone();
    let runs_once = p["spec"]["restartPolicy"]
        .as_str()
        .is_some_and(|r| r != "Always");
    let failed = template_failure(&template).is_some();
    if runs_once {
        let now = now();
        status["phase"] = json!(if failed { "Failed" } else { "Succeeded" });
        if !failed {
            for c in status["containerStatuses"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                c["ready"] = json!(false);
                c["started"] = json!(false);
                c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}});
            }
            for c in status["conditions"].as_array_mut().into_iter().flatten() {
                if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                    c["status"] = json!("False");
                    c["reason"] = json!("PodCompleted");
                }
            }
        }
    }
    p["status"] = status;
}

/// Binds a claim to a generated PersistentVolume.
fn bind_claim(txn: &mut Txn<'_>, pvc: &mut Value) {
    if pvc["status"]["phase"] == "Bound" {
        return;
    }
    let namespace = meta_text(pvc, "namespace");
    let claim = meta_text(pvc, "name");
    let volume = format!("pvc-{}", short_hash(&json!([namespace, claim])));
    let storage = pvc["spec"]["resources"]["requests"]["storage"].clone();
    let access = pvc["spec"]["accessModes"].clone();
    if let Some(k) = key_for(txn, "v1", "PersistentVolume", "", &volume) {
        let pv = json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": volume},
            "spec": {"capacity": {"storage": storage}, "accessModes": access,
                     "persistentVolumeReclaimPolicy": "Delete", "volumeMode": "Filesystem",
                     "storageClassName": pvc["spec"]["storageClassName"].as_str().unwrap_or("standard"),
                     "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                  "namespace": namespace, "name": claim},
                     "hostPath": {"path": format!("/var/lib/sandbox/{volume}")}},
            "status": {"phase": "Bound"}});
        upsert(txn, &k, pv);
    }
    pvc["spec"]["volumeName"] = json!(volume);
    pvc["status"] =
        json!({"phase": "Bound", "accessModes": access, "capacity": {"storage": storage}});
}

/// Deletes every object owned by `uid` (their own deletions cascade further).
fn collect_garbage(store: &Store, uid: &str) {
    let _ = store.write(false, |txn| {
        let dependents: Vec<ObjectKey> = txn
            .state()
            .all_objects_with_keys()
            .into_iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .map(|(k, _)| k)
            .collect();
        for key in dependents {
            txn.remove(&key);
        }
        Ok::<_, ()>(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_images_are_recognised() {
        assert_eq!(
            image_failure("nginx:fail").map(|f| f.0),
            Some("ImagePullBackOff")
        );
        assert_eq!(
            image_failure("me/crashloop-app:1.0").map(|f| f.0),
            Some("CrashLoopBackOff")
        );
        assert_eq!(image_failure("registry:5000/nginx"), None);
        assert_eq!(image_failure("nginx:1.27"), None);
    }

    #[test]
    fn template_hash_is_stable_and_short() {
        let a = short_hash(&json!({"spec": {"containers": [{"image": "a"}]}}));
        assert_eq!(a.len(), 10);
        assert_eq!(
            a,
            short_hash(&json!({"spec": {"containers": [{"image": "a"}]}}))
        );
        assert_ne!(
            a,
            short_hash(&json!({"spec": {"containers": [{"image": "b"}]}}))
        );
    }

    #[test]
    fn deadline_marks_progressing_false() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"image": "x:fail"}]}}},
            "status": {"conditions": [condition("Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"web-abc\" is progressing.", "t")]}});
        assert!(deployment_timed_out(&mut d));
        assert_eq!(
            d["status"]["conditions"][0]["reason"],
            "ProgressDeadlineExceeded"
        );
        assert_eq!(
            d["status"]["conditions"][0]["message"],
            "ReplicaSet \"web-abc\" has timed out progressing."
        );
        assert!(!deployment_timed_out(&mut d));
    }
}
