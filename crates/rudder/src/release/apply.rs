//! Applying a release's objects: ownership, conflict and immutability checks before any change,
//! then server-side apply kind group by kind group in Helm's install order, the objects of a
//! group concurrently.
//!
//! Round trips: one list per kind and namespace (the pre-flight), one apply per object, plus a
//! server-side dry run only for objects that other tools have edited (`Update` managers), to find
//! field conflicts before anything changes.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::{Map, Value};

use crate::cluster::{ApplyOptions, Cascade, Cluster, ClusterError, ObjectRef, FIELD_MANAGER};
use crate::manifest::{sort_by_kind, KindOrder};

use super::rendering::ManifestObject;
use super::{ApplySettings, DryRun, Progress, ReleaseError};

/// Label Helm puts on every object of a release.
pub const OWNER_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation naming the owning release.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
/// Annotation naming the owning release's namespace.
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
/// `helm.sh/resource-policy: keep` objects are never deleted by upgrade or uninstall.
pub const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";

/// An object the release wants in the cluster.
#[derive(Debug, Clone)]
pub(crate) struct Desired {
    pub reference: ObjectRef,
    pub object: Value,
    /// Annotated `helm.sh/resource-policy: keep`.
    pub keep: bool,
}

/// The release an operation acts for.
pub(crate) struct Context<'a> {
    pub cluster: &'a Cluster,
    pub name: &'a str,
    pub namespace: &'a str,
    pub settings: &'a ApplySettings,
    pub progress: &'a Progress,
}

/// Fills in namespaces and stamps Helm's ownership metadata on each object.
pub(crate) async fn prepare(
    ctx: &Context<'_>,
    objects: Vec<ManifestObject>,
) -> Result<Vec<Desired>, ReleaseError> {
    let mut out = Vec::with_capacity(objects.len());
    for ManifestObject { object, .. } in objects {
        let mut object = object;
        let reference = ctx.cluster.place(&mut object, ctx.namespace).await?;
        let keep = object["metadata"]["annotations"][RESOURCE_POLICY_ANNOTATION] == "keep";
        stamp_ownership(&mut object, ctx.name, ctx.namespace);
        out.push(Desired {
            reference,
            object,
            keep,
        });
    }
    Ok(out)
}

/// References of a stored manifest's objects, namespaces filled in (no ownership stamping).
pub(crate) async fn references(
    cluster: &Cluster,
    namespace: &str,
    objects: Vec<ManifestObject>,
) -> Result<Vec<(ObjectRef, bool)>, ReleaseError> {
    let mut out = Vec::with_capacity(objects.len());
    for ManifestObject { mut object, .. } in objects {
        let keep = object["metadata"]["annotations"][RESOURCE_POLICY_ANNOTATION] == "keep";
        match cluster.place(&mut object, namespace).await {
            Ok(reference) => out.push((reference, keep)),
            // A kind the server no longer serves has nothing left to delete.
            Err(ClusterError::UnknownKind { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Sets `app.kubernetes.io/managed-by: Helm` and the release annotations, as Helm does.
pub(crate) fn stamp_ownership(object: &mut Value, name: &str, namespace: &str) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    labels[OWNER_LABEL] = Value::String("Helm".into());
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    annotations[RELEASE_NAME_ANNOTATION] = Value::String(name.into());
    annotations[RELEASE_NAMESPACE_ANNOTATION] = Value::String(namespace.into());
}

/// Why a live object does not belong to the release, if it does not.
pub(crate) fn ownership_problem(live: &Value, name: &str, namespace: &str) -> Option<String> {
    let meta = &live["metadata"];
    let managed_by = meta["labels"][OWNER_LABEL].as_str();
    let owner = meta["annotations"][RELEASE_NAME_ANNOTATION].as_str();
    let owner_ns = meta["annotations"][RELEASE_NAMESPACE_ANNOTATION].as_str();
    match (managed_by, owner, owner_ns) {
        (Some("Helm"), Some(n), Some(ns)) if n == name && ns == namespace => None,
        (_, Some(n), Some(ns)) => Some(format!("belongs to release {n} in namespace {ns}")),
        (_, Some(n), None) => Some(format!("belongs to release {n}")),
        _ => Some("belongs to no release".to_string()),
    }
}

/// Field managers of a live object, excluding status writers: (manager, operation).
fn managers(live: &Value) -> Vec<(String, String)> {
    live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["subresource"].as_str().unwrap_or_default() != "status")
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default().to_string(),
                m["operation"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The field manager to apply `live` with: rudder's own, unless another tool alone applied the
/// object so far (Helm: `helm`, or an SDK program's name). Then rudder keeps that manager: two
/// appliers of the same release split the ownership of lists the server fills with defaults
/// (a StatefulSet's `volumeClaimTemplates`), and the one that does not force — Helm — is refused
/// on its next upgrade or rollback even with unchanged values (a real kube-apiserver does it).
pub(crate) fn apply_manager(live: Option<&Value>) -> String {
    let mut appliers: Vec<String> = live
        .map(managers)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, op)| op == "Apply")
        .map(|(m, _)| m)
        .collect();
    appliers.sort();
    appliers.dedup();
    match appliers.as_slice() {
        [only] if !only.is_empty() && only != FIELD_MANAGER => only.clone(),
        _ => FIELD_MANAGER.to_string(),
    }
}

/// Whether tools other than appliers (kubectl edit/scale, controllers) own fields of the object.
fn has_update_managers(live: &Value) -> bool {
    managers(live)
        .iter()
        .any(|(m, op)| op == "Update" && m != FIELD_MANAGER)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether every value of `desired` is present and equal in `live` (server defaults may add more).
pub(crate) fn is_subset(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        // An empty map or list is what the API server does not store (`labels: {}` comes
        // back absent), so it matches a missing key as `null` does.
        (Value::Object(d), Value::Object(l)) => d.iter().all(|(k, v)| match l.get(k) {
            Some(lv) => v.is_null() || is_subset(v, lv),
            None => is_empty(v),
        }),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(a, b)| is_subset(a, b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Immutable fields that `desired` would change on `live`, by kind (JSON paths like
/// `spec.selector`).
pub(crate) fn immutable_changes(kind: &str, live: &Value, desired: &Value) -> Vec<String> {
    let paths: &[&str] = match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" => &["spec.selector"],
        "StatefulSet" => &[
            "spec.selector",
            "spec.serviceName",
            "spec.volumeClaimTemplates",
            "spec.podManagementPolicy",
        ],
        "Job" => &["spec.selector", "spec.template", "spec.completionMode"],
        "Service" => &["spec.clusterIP"],
        "PersistentVolumeClaim" => &[
            "spec.accessModes",
            "spec.storageClassName",
            "spec.selector",
            "spec.volumeMode",
        ],
        "ConfigMap" | "Secret" if live["immutable"] == true => &["data", "binaryData"],
        _ => &[],
    };
    let at = |v: &Value, path: &str| {
        path.split('.')
            .try_fold(v, |v, key| v.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    paths
        .iter()
        .filter(|path| {
            let want = at(desired, path);
            let have = at(live, path);
            !want.is_null() && !have.is_null() && !is_subset(&want, &have)
        })
        .map(|p| p.to_string())
        .collect()
}

/// What applying did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Objects that did not exist before (what `--cleanup-on-fail` deletes).
    pub created: Vec<ObjectRef>,
}

type GroupKey = (String, String, Option<String>);

fn group_key(r: &ObjectRef) -> GroupKey {
    (r.api_version.clone(), r.kind.clone(), r.namespace.clone())
}

/// Reads the live objects of every kind and namespace in `desired` (one list each).
pub(crate) async fn read_live(
    cluster: &Cluster,
    desired: &[Desired],
) -> Result<BTreeMap<ObjectRef, Value>, ReleaseError> {
    let groups: BTreeSet<GroupKey> = desired.iter().map(|d| group_key(&d.reference)).collect();
    let lists = futures::stream::iter(groups)
        .map(|(api_version, kind, namespace)| async move {
            let items = cluster
                .list(&api_version, &kind, namespace.as_deref(), None)
                .await?;
            Ok::<_, ClusterError>(items)
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let mut live = BTreeMap::new();
    for list in lists {
        for item in list? {
            live.insert(ObjectRef::of(&item), item);
        }
    }
    Ok(live)
}

/// What the pre-flight found: the live objects and which must be replaced.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    live: BTreeMap<ObjectRef, Value>,
    /// Objects whose change touches an immutable field (`--force-replace`).
    replace: BTreeSet<ObjectRef>,
}

/// Checks ownership, immutable fields and field conflicts before anything is changed (callers
/// run it before taking the release lock, so a refused operation leaves no revision behind).
pub(crate) async fn check(ctx: &Context<'_>, desired: &[Desired]) -> Result<Plan, ReleaseError> {
    let live = read_live(ctx.cluster, desired).await?;
    let mut not_ours = Vec::new();
    let mut replace = BTreeSet::new();
    let mut to_dry_run = Vec::new();
    for d in desired {
        let Some(current) = live.get(&d.reference) else {
            continue;
        };
        if let Some(problem) = ownership_problem(current, ctx.name, ctx.namespace) {
            if !ctx.settings.take_ownership {
                not_ours.push(format!("{}: {problem}", d.reference));
                continue;
            }
        }
        let changes = immutable_changes(&d.reference.kind, current, &d.object);
        if let Some(field) = changes.first() {
            if !ctx.settings.force_replace {
                return Err(ReleaseError::Immutable {
                    object: d.reference.to_string(),
                    field: field.clone(),
                });
            }
            replace.insert(d.reference.clone());
            continue;
        }
        if !ctx.settings.force_conflicts && has_update_managers(current) {
            to_dry_run.push(d);
        }
    }
    if !not_ours.is_empty() {
        return Err(ReleaseError::Ownership {
            name: ctx.name.to_string(),
            objects: not_ours,
        });
    }
    let live_ref = &live;
    let results = futures::stream::iter(to_dry_run)
        .map(|d| async move {
            let options = ApplyOptions {
                force: false,
                dry_run: true,
            };
            let manager = apply_manager(live_ref.get(&d.reference));
            (d, ctx.cluster.apply_as(&d.object, options, &manager).await)
        })
        .buffer_unordered(ctx.settings.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut conflicts = Vec::new();
    for (d, result) in results {
        match result {
            Ok(_) => {}
            Err(ClusterError::Api {
                code: 409,
                conflicts: found,
                message,
                ..
            }) => {
                let appliers: BTreeSet<String> = live
                    .get(&d.reference)
                    .map(managers)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(_, op)| op == "Apply")
                    .map(|(m, _)| m)
                    .collect();
                if found.is_empty() {
                    conflicts.push(format!("{}: {message}", d.reference));
                }
                for (field, manager) in found {
                    // A previous applier of this release (Helm, an earlier rudder) is forced.
                    if !appliers.contains(&manager) {
                        conflicts.push(format!(
                            "{}: {field} is owned by {manager:?} (Update)",
                            d.reference
                        ));
                    }
                }
            }
            Err(e) if is_immutable_error(&e) && ctx.settings.force_replace => {
                replace.insert(d.reference.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !conflicts.is_empty() {
        return Err(ReleaseError::Conflicts { conflicts });
    }
    Ok(Plan { live, replace })
}

fn is_immutable_error(e: &ClusterError) -> bool {
    matches!(e, ClusterError::Api { code: 422, message, .. } if message.contains("immutable"))
}

/// Applies `desired` (in install order) kind group by kind group; objects of a group in parallel.
pub(crate) async fn apply_all(
    ctx: &Context<'_>,
    desired: &[Desired],
    plan: &Plan,
) -> Result<Applied, ReleaseError> {
    let Plan { live, replace } = plan;
    let dry_run = ctx.settings.dry_run == DryRun::Server;
    let mut applied = Applied::default();
    let mut start = 0;
    while start < desired.len() {
        let kind = &desired[start].reference.kind;
        let end = desired[start..]
            .iter()
            .position(|d| &d.reference.kind != kind)
            .map_or(desired.len(), |n| start + n);
        let group = &desired[start..end];
        let results = futures::stream::iter(group)
            .map(|d| {
                let replace = replace.contains(&d.reference);
                let manager = apply_manager(live.get(&d.reference));
                async move { (d, apply_one(ctx, d, &manager, replace, dry_run).await) }
            })
            .buffer_unordered(ctx.settings.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let mut errors = Vec::new();
        let mut created = 0;
        for (d, result) in results {
            match result {
                Ok(()) => {
                    if !live.contains_key(&d.reference) {
                        created += 1;
                        applied.created.push(d.reference.clone());
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
        let verb = if dry_run {
            "checked (server dry run)"
        } else {
            "applied"
        };
        ctx.progress.line(&format!(
            "{kind}: {} {verb}{}",
            group.len(),
            if created > 0 && !dry_run {
                format!(" ({created} created)")
            } else {
                String::new()
            }
        ));
        start = end;
    }
    Ok(applied)
}

async fn apply_one(
    ctx: &Context<'_>,
    d: &Desired,
    manager: &str,
    replace: bool,
    dry_run: bool,
) -> Result<(), ReleaseError> {
    let options = ApplyOptions {
        force: true,
        dry_run,
    };
    if replace && !dry_run {
        recreate(ctx, d).await?;
        return Ok(());
    }
    match ctx.cluster.apply_as(&d.object, options, manager).await {
        Ok(_) => Ok(()),
        Err(e) if is_immutable_error(&e) && !dry_run => {
            if ctx.settings.force_replace {
                recreate(ctx, d).await
            } else {
                let field = match &e {
                    ClusterError::Api { message, .. } => message.clone(),
                    _ => String::new(),
                };
                Err(ReleaseError::Immutable {
                    object: d.reference.to_string(),
                    field,
                })
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn recreate(ctx: &Context<'_>, d: &Desired) -> Result<(), ReleaseError> {
    ctx.progress.line(&format!(
        "{}: replacing (immutable field changed)",
        d.reference
    ));
    ctx.cluster
        .delete(&d.reference, Cascade::Background)
        .await?;
    ctx.cluster
        .wait_deleted(std::slice::from_ref(&d.reference), ctx.settings.timeout)
        .await?;
    ctx.cluster
        .apply(
            &d.object,
            ApplyOptions {
                force: true,
                dry_run: false,
            },
        )
        .await?;
    Ok(())
}

/// Deletes objects in Helm's uninstall order; objects marked `keep` are left and returned.
pub(crate) async fn delete_objects(
    ctx: &Context<'_>,
    objects: &[(ObjectRef, bool)],
    cascade: Cascade,
) -> Result<Vec<String>, ReleaseError> {
    let mut ordered: Vec<&(ObjectRef, bool)> = objects.iter().collect();
    sort_by_kind(&mut ordered, KindOrder::Uninstall, |o| o.0.kind.as_str());
    let mut kept = Vec::new();
    let mut deleted = Vec::new();
    for (reference, keep) in ordered {
        if *keep {
            kept.push(reference.to_string());
            continue;
        }
        if ctx.settings.dry_run != DryRun::None {
            continue;
        }
        if ctx.cluster.delete(reference, cascade).await? {
            deleted.push(reference.clone());
        }
    }
    for k in &kept {
        ctx.progress
            .line(&format!("{k}: kept (helm.sh/resource-policy: keep)"));
    }
    if !deleted.is_empty() {
        ctx.progress
            .line(&format!("deleted {} object(s)", deleted.len()));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_release_another_tool_alone_applied_keeps_its_field_manager() {
        let with = |entries: Value| json!({"metadata": {"managedFields": entries}});
        let helm = json!({"manager": "helm", "operation": "Apply"});
        let rudder = json!({"manager": "rudder", "operation": "Apply"});
        let kcm_status = json!({"manager": "kube-controller-manager", "operation": "Update", "subresource": "status"});
        let kubectl_edit = json!({"manager": "kubectl-edit", "operation": "Update"});
        assert_eq!(apply_manager(None), "rudder");
        assert_eq!(
            apply_manager(Some(&with(json!([helm, kcm_status, kubectl_edit])))),
            "helm"
        );
        // Once rudder applied under its own name, or two appliers share it: rudder's.
        assert_eq!(apply_manager(Some(&with(json!([helm, rudder])))), "rudder");
        let sdk = json!({"manager": "python3", "operation": "Apply"});
        assert_eq!(apply_manager(Some(&with(json!([helm, sdk])))), "rudder");
        // Client-side apply (Helm 3) leaves Update entries only.
        let csa = json!({"manager": "helm", "operation": "Update"});
        assert_eq!(apply_manager(Some(&with(json!([csa])))), "rudder");
    }

    #[test]
    fn stamps_helm_ownership() {
        let mut obj = json!({"metadata": {"name": "a", "labels": {"x": "y"}}});
        stamp_ownership(&mut obj, "web", "prod");
        assert_eq!(obj["metadata"]["labels"][OWNER_LABEL], "Helm");
        assert_eq!(obj["metadata"]["labels"]["x"], "y");
        assert_eq!(
            obj["metadata"]["annotations"][RELEASE_NAME_ANNOTATION],
            "web"
        );
        assert_eq!(
            obj["metadata"]["annotations"][RELEASE_NAMESPACE_ANNOTATION],
            "prod"
        );
        assert_eq!(ownership_problem(&obj, "web", "prod"), None);
    }

    #[test]
    fn ownership_names_the_other_owner() {
        let mut obj = json!({"metadata": {"name": "a"}});
        assert_eq!(
            ownership_problem(&obj, "web", "prod").as_deref(),
            Some("belongs to no release")
        );
        stamp_ownership(&mut obj, "api", "prod");
        assert_eq!(
            ownership_problem(&obj, "web", "prod").as_deref(),
            Some("belongs to release api in namespace prod")
        );
    }

    #[test]
    fn update_managers_other_than_status_writers_count() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "rudder", "operation": "Apply"},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status"}
        ]}});
        assert!(!has_update_managers(&live));
        let edited = json!({"metadata": {"managedFields": [
            {"manager": "rudder", "operation": "Apply"},
            {"manager": "kubectl-edit", "operation": "Update"}
        ]}});
        assert!(has_update_managers(&edited));
    }

    #[test]
    fn immutable_selector_change_is_found_and_defaults_are_not_changes() {
        let live = json!({"spec": {"selector": {"matchLabels": {"app": "web"}},
                          "template": {"spec": {"restartPolicy": "Always"}}}});
        let same = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}});
        assert!(immutable_changes("Deployment", &live, &same).is_empty());
        let changed = json!({"spec": {"selector": {"matchLabels": {"app": "api"}}}});
        assert_eq!(
            immutable_changes("Deployment", &live, &changed),
            vec!["spec.selector".to_string()]
        );
        // A Job's template gets server defaults; only a real change counts.
        let job_live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "m", "image": "a", "terminationMessagePath": "/dev/termination-log"}]}}}});
        let job_same = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "m", "image": "a"}]}}}});
        assert!(immutable_changes("Job", &job_live, &job_same).is_empty());
        let job_new = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "m", "image": "b"}]}}}});
        assert_eq!(
            immutable_changes("Job", &job_live, &job_new),
            vec!["spec.template"]
        );
    }

    #[test]
    fn empty_maps_and_lists_the_server_drops_are_not_immutable_changes() {
        // redis-ha's claim template says `labels: {}`; a real API server stores no `labels`.
        let live = json!({"spec": {"volumeClaimTemplates": [{"apiVersion": "v1",
            "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}}]}});
        let same = json!({"spec": {"volumeClaimTemplates": [{"apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "annotations": null, "labels": {}, "finalizers": []},
            "spec": {"accessModes": ["ReadWriteOnce"]}}]}});
        assert!(immutable_changes("StatefulSet", &live, &same).is_empty());
        let renamed = json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "db",
            "labels": {}}}]}});
        assert_eq!(
            immutable_changes("StatefulSet", &live, &renamed),
            vec!["spec.volumeClaimTemplates".to_string()]
        );
    }

    #[test]
    fn immutable_configmaps_cannot_change_data() {
        let live = json!({"immutable": true, "data": {"a": "1"}});
        assert_eq!(
            immutable_changes("ConfigMap", &live, &json!({"data": {"a": "2"}})),
            vec!["data"]
        );
        let mutable = json!({"data": {"a": "1"}});
        assert!(immutable_changes("ConfigMap", &mutable, &json!({"data": {"a": "2"}})).is_empty());
    }
}
