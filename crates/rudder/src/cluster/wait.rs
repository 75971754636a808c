//! Watch-based waits: one watch per kind and namespace, judged by [`super::readiness`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use serde_json::Value;

use super::readiness::{pod_container_reasons, readiness, Readiness};
use super::{Cluster, ClusterError, ObjectRef};

/// One change seen while waiting.
#[derive(Debug, Clone)]
pub struct WaitEvent {
    pub object: ObjectRef,
    pub readiness: Readiness,
}

/// An object that did not become ready, with the cluster's reason.
#[derive(Debug, Clone)]
pub struct UnreadyObject {
    pub object: ObjectRef,
    pub reason: String,
}

/// Why a wait ended without every object ready.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The timeout passed first.
    #[error("timed out after {} waiting for {}:{}", format_duration(*timeout), plural(unready.len()), list(unready))]
    Timeout {
        timeout: Duration,
        unready: Vec<UnreadyObject>,
    },
    /// An object failed for good (a failed Job or Pod, a rollout past its deadline).
    #[error("{}:{}", if unready.len() == 1 { "an object failed".to_string() } else { format!("{} objects failed", unready.len()) }, list(unready))]
    Failed { unready: Vec<UnreadyObject> },
    /// The cluster could not be asked.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl WaitError {
    /// The objects that were not ready.
    pub fn unready(&self) -> &[UnreadyObject] {
        match self {
            WaitError::Timeout { unready, .. } | WaitError::Failed { unready } => unready,
            WaitError::Cluster(_) => &[],
        }
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 object".to_string()
    } else {
        format!("{n} objects")
    }
}

fn list(unready: &[UnreadyObject]) -> String {
    unready
        .iter()
        .map(|u| format!("\n  {}: {}", u.object, u.reason))
        .collect()
}

/// Formats a duration as Go does (`5m0s`, `1m30s`, `45s`, `1.5s`).
pub fn format_duration(d: Duration) -> String {
    let total = d.as_secs();
    let millis = d.subsec_millis();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let seconds = if millis == 0 {
        format!("{s}s")
    } else {
        let frac = format!("{:03}", millis);
        format!("{s}.{}s", frac.trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{seconds}")
    } else if m > 0 {
        format!("{m}m{seconds}")
    } else {
        seconds
    }
}

type GroupKey = (String, String, Option<String>);

/// Opens one watch per kind and namespace over `objects`; yields (group, event).
async fn open_watches(
    cluster: &Cluster,
    objects: &[ObjectRef],
) -> Result<
    futures::stream::SelectAll<
        futures::stream::BoxStream<
            'static,
            (
                GroupKey,
                Result<watcher::Event<DynamicObject>, watcher::Error>,
            ),
        >,
    >,
    ClusterError,
> {
    let mut streams = futures::stream::SelectAll::new();
    for (key, names) in super::group_by_kind(objects) {
        let (api_version, kind, namespace) = key.clone();
        let resource = cluster.resolve(&api_version, &kind).await?;
        let api: Api<DynamicObject> = cluster.dynamic_api(&resource, namespace.as_deref());
        let mut config = watcher::Config::default();
        if names.len() == 1 {
            config = config.fields(&format!("metadata.name={}", names[0]));
        }
        let stream = watcher::watcher(api, config)
            .map(move |event| (key.clone(), event))
            .boxed();
        streams.push(stream);
    }
    Ok(streams)
}

fn reference_of(key: &GroupKey, obj: &DynamicObject) -> ObjectRef {
    ObjectRef {
        api_version: key.0.clone(),
        kind: key.1.clone(),
        namespace: key.2.clone(),
        name: obj.metadata.name.clone().unwrap_or_default(),
    }
}

fn json_of(key: &GroupKey, obj: DynamicObject) -> Value {
    let mut value = serde_json::to_value(obj).unwrap_or(Value::Null);
    if value.is_object() {
        value["apiVersion"] = Value::String(key.0.clone());
        value["kind"] = Value::String(key.1.clone());
    }
    value
}

pub(super) async fn wait_ready(
    cluster: &Cluster,
    objects: &[ObjectRef],
    timeout: Duration,
    progress: &(dyn Fn(WaitEvent) + Send + Sync),
) -> Result<(), WaitError> {
    if objects.is_empty() {
        return Ok(());
    }
    let wanted: BTreeSet<&ObjectRef> = objects.iter().collect();
    let mut state: BTreeMap<ObjectRef, (Readiness, Value)> = objects
        .iter()
        .map(|o| {
            (
                o.clone(),
                (Readiness::Pending("not found yet".to_string()), Value::Null),
            )
        })
        .collect();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut streams = open_watches(cluster, objects).await?;
    loop {
        if state.values().all(|(r, _)| r.is_ready()) {
            return Ok(());
        }
        let next = match tokio::time::timeout_at(deadline, streams.next()).await {
            Ok(Some(next)) => next,
            Ok(None) | Err(_) => {
                let unready = explain(cluster, &state).await;
                return Err(WaitError::Timeout { timeout, unready });
            }
        };
        let (key, event) = next;
        let changes: Vec<(ObjectRef, Readiness, Value)> = match event {
            Ok(watcher::Event::Apply(obj)) | Ok(watcher::Event::InitApply(obj)) => {
                let reference = reference_of(&key, &obj);
                let value = json_of(&key, obj);
                vec![(reference, readiness(&value), value)]
            }
            Ok(watcher::Event::Delete(obj)) => {
                let reference = reference_of(&key, &obj);
                vec![(
                    reference,
                    Readiness::Pending("deleted".to_string()),
                    Value::Null,
                )]
            }
            Ok(_) => Vec::new(),
            // The watcher re-lists by itself after errors; the timeout bounds how long we let it.
            Err(err) => {
                tracing::debug!("watch error: {err}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                Vec::new()
            }
        };
        for (reference, ready, value) in changes {
            if !wanted.contains(&reference) {
                continue;
            }
            let changed = state.get(&reference).map(|(r, _)| r) != Some(&ready);
            if changed {
                progress(WaitEvent {
                    object: reference.clone(),
                    readiness: ready.clone(),
                });
            }
            let failed = matches!(ready, Readiness::Failed(_));
            state.insert(reference, (ready, value));
            if failed {
                let unready = explain(cluster, &state)
                    .await
                    .into_iter()
                    .filter(|u| matches!(state.get(&u.object), Some((Readiness::Failed(_), _))))
                    .collect();
                return Err(WaitError::Failed { unready });
            }
        }
    }
}

const EXPLAIN_BUDGET: Duration = Duration::from_secs(5);

/// Describes every unready object, adding its pods' reasons for workloads.
async fn explain(
    cluster: &Cluster,
    state: &BTreeMap<ObjectRef, (Readiness, Value)>,
) -> Vec<UnreadyObject> {
    // The wait may have ended at the operation's deadline: asking the pods why gets a few
    // seconds of its own.
    let cluster = &cluster.with_budget(EXPLAIN_BUDGET);
    let mut out = Vec::new();
    for (object, (ready, live)) in state {
        let mut reason = match ready {
            Readiness::Ready => continue,
            Readiness::Pending(r) | Readiness::Failed(r) => r.clone(),
        };
        if let Some(pods) = pod_reasons(cluster, object, live).await {
            if !pods.is_empty() {
                reason.push_str("; ");
                reason.push_str(&pods.join("; "));
            }
        }
        out.push(UnreadyObject {
            object: object.clone(),
            reason,
        });
    }
    out
}

/// The waiting reasons of a workload's pods (`pod web-1: container app: ImagePullBackOff`).
async fn pod_reasons(cluster: &Cluster, object: &ObjectRef, live: &Value) -> Option<Vec<String>> {
    if !matches!(
        object.kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job"
    ) {
        return None;
    }
    let labels = live["spec"]["selector"]["matchLabels"].as_object()?;
    let selector = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",");
    let pods = cluster
        .list("v1", "Pod", object.namespace.as_deref(), Some(&selector))
        .await
        .ok()?;
    let mut reasons = BTreeSet::new();
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        for why in pod_container_reasons(pod) {
            reasons.insert(format!("pod {name}: {why}"));
        }
    }
    Some(reasons.into_iter().collect())
}

pub(super) async fn wait_deleted(
    cluster: &Cluster,
    objects: &[ObjectRef],
    timeout: Duration,
) -> Result<(), WaitError> {
    if objects.is_empty() {
        return Ok(());
    }
    let wanted: BTreeSet<ObjectRef> = objects.iter().cloned().collect();
    let mut present: BTreeSet<ObjectRef> = BTreeSet::new();
    let mut listed: BTreeSet<GroupKey> = BTreeSet::new();
    let groups = super::group_by_kind(objects).len();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut streams = open_watches(cluster, objects).await?;
    let mut init: BTreeMap<GroupKey, BTreeSet<ObjectRef>> = BTreeMap::new();
    loop {
        if listed.len() == groups && present.is_empty() {
            return Ok(());
        }
        let (key, event) = match tokio::time::timeout_at(deadline, streams.next()).await {
            Ok(Some(next)) => next,
            Ok(None) | Err(_) => {
                let unready = present
                    .iter()
                    .map(|o| UnreadyObject {
                        object: o.clone(),
                        reason: "still exists".to_string(),
                    })
                    .collect();
                return Err(WaitError::Timeout { timeout, unready });
            }
        };
        match event {
            Ok(watcher::Event::Init) => {
                init.insert(key, BTreeSet::new());
            }
            Ok(watcher::Event::InitApply(obj)) => {
                let reference = reference_of(&key, &obj);
                if wanted.contains(&reference) {
                    init.entry(key).or_default().insert(reference);
                }
            }
            Ok(watcher::Event::InitDone) => {
                let seen = init.remove(&key).unwrap_or_default();
                present.retain(|o| {
                    (o.api_version.clone(), o.kind.clone(), o.namespace.clone()) != key
                });
                present.extend(seen);
                listed.insert(key);
            }
            Ok(watcher::Event::Apply(obj)) => {
                let reference = reference_of(&key, &obj);
                if wanted.contains(&reference) {
                    present.insert(reference);
                }
            }
            Ok(watcher::Event::Delete(obj)) => {
                present.remove(&reference_of(&key, &obj));
            }
            Err(err) => {
                tracing::debug!("watch error: {err}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

impl fmt::Display for WaitEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.readiness {
            Readiness::Ready => write!(f, "{}: ready", self.object),
            Readiness::Pending(why) => write!(f, "{}: {why}", self.object),
            Readiness::Failed(why) => write!(f, "{}: failed: {why}", self.object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
    }

    #[test]
    fn timeout_error_names_each_object_and_reason() {
        let err = WaitError::Timeout {
            timeout: Duration::from_secs(300),
            unready: vec![UnreadyObject {
                object: ObjectRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: Some("prod".into()),
                    name: "web".into(),
                },
                reason: "0/2 replicas updated; pod web-1: container app: ImagePullBackOff".into(),
            }],
        };
        assert_eq!(
            err.to_string(),
            "timed out after 5m0s waiting for 1 object:\n  Deployment prod/web: 0/2 replicas \
             updated; pod web-1: container app: ImagePullBackOff"
        );
    }
}
