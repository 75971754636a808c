//! Building the pairs to compare: live objects against what a verb would apply (server-side dry
//! run), stored revisions against each other, or two local renders.
//!
//! Round trips in live mode: one list per kind and namespace of the new objects, one
//! server-side dry-run apply per object that already exists, one GET per object that would be
//! removed, plus the release's history. Requests run concurrently (bounded, default 16).
//! Hooks are compared as rendered and stored (a hook's live copy is recreated whenever it runs).

use std::collections::BTreeMap;
use std::path::Path;

use futures::StreamExt;
use serde_json::Value;

use super::{as_hooks, pair_by_key, ObjectKey, Pair};
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef};
use crate::release::apply::{self, Context, Desired};
use crate::release::install;
use crate::release::plan::{self, PlanInputs, UpgradePlan};
use crate::release::rendering::{self, merge_values, objects_of_manifest, ManifestObject};
use crate::release::storage::{Hook, Status};
use crate::release::store::{self, Revision};
use crate::release::upgrade::{self, UpgradeOptions};
use crate::release::{quiet, ApplySettings, DryRun, ReleaseError, Store};
use crate::render::{Capabilities, ReleaseInfo};
use crate::values::ValuesInputs;

/// A diff that could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Release(#[from] Box<ReleaseError>),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Chart(#[from] crate::chart::ChartError),
    #[error(transparent)]
    Values(#[from] crate::values::ValuesError),
    #[error("release {name} has no revision {revision} (it has {available})")]
    NoRevision {
        name: String,
        revision: u64,
        available: String,
    },
    #[error("release {name} has no deployed revision to compare with")]
    NothingDeployed { name: String },
}

impl From<ReleaseError> for DiffError {
    fn from(e: ReleaseError) -> Self {
        DiffError::Release(Box::new(e))
    }
}

/// How a live or stored comparison runs.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    /// Compare hooks too (helm-diff's default; `--no-hooks` turns it off).
    pub hooks: bool,
    /// Also compare `test` hooks.
    pub include_tests: bool,
    /// How many requests run at once.
    pub concurrency: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            hooks: true,
            include_tests: false,
            concurrency: 16,
        }
    }
}

fn key_of(reference: &ObjectRef) -> ObjectKey {
    ObjectKey {
        api_version: reference.api_version.clone(),
        kind: reference.kind.clone(),
        namespace: reference.namespace.clone().unwrap_or_default(),
        name: reference.name.clone(),
    }
}

/// What `rudder diff upgrade` found: the pairs to compare and, in live mode, the plan that
/// applies exactly this change (`--save-plan`, `rudder upgrade --diff`).
pub struct UpgradeComparison {
    pub pairs: Vec<Pair>,
    /// `None` with `--from-release`, or when the release does not exist yet.
    pub plan: Option<UpgradePlan>,
}

/// What `rudder upgrade` with the same options would change. With `from_release`, the new
/// render is compared with the manifest of the deployed revision and no object is read.
pub async fn upgrade_pairs(
    cluster: &Cluster,
    options: &UpgradeOptions,
    from_release: bool,
    compare: CompareOptions,
) -> Result<UpgradeComparison, DiffError> {
    let mut dry = options.clone();
    dry.settings.dry_run = DryRun::Client;
    let outcome = upgrade::upgrade(cluster, &dry, &quiet()).await?;
    let name = outcome.release.name.clone();
    let namespace = outcome.release.namespace.clone();
    let history = Store::new(cluster.clone())
        .history(&namespace, &name)
        .await?;
    let base = store::last_deployed(&history);
    let previous = base
        .map(|r| objects_of_manifest(&r.release.manifest))
        .transpose()?
        .unwrap_or_default();
    let mut hooks = if compare.hooks {
        let old = base.map(|r| r.release.hooks.as_slice()).unwrap_or_default();
        hook_pairs(cluster, &namespace, old, &outcome.release.hooks, compare).await?
    } else {
        Vec::new()
    };
    let new_objects = objects_of_manifest(&outcome.release.manifest)?;
    if from_release {
        let mut pairs = stored_pairs(cluster, &namespace, previous, new_objects).await?;
        pairs.append(&mut hooks);
        return Ok(UpgradeComparison { pairs, plan: None });
    }
    let settings = ApplySettings {
        concurrency: compare.concurrency,
        ..options.settings.clone()
    };
    let state = live_pairs(cluster, &name, &namespace, &settings, new_objects, previous).await?;
    let plan = match history.last() {
        Some(latest) if latest.release.status() != Status::Uninstalled => {
            let crds = if options.skip_crds {
                Vec::new()
            } else {
                crate::chart::load(&options.chart)
                    .map_err(ReleaseError::from)
                    .and_then(|chart| install::crd_objects(&chart))?
            };
            Some(plan::make(PlanInputs {
                revision: outcome.release.clone(),
                base_revision: latest.release.version,
                desired: &state.desired,
                live: &state.live,
                removed: state.removed,
                crds,
            }))
        }
        _ => None,
    };
    let mut pairs = state.pairs;
    pairs.append(&mut hooks);
    Ok(UpgradeComparison { pairs, plan })
}

/// The hooks of two revisions (or renders), paired; `test` hooks only with `include_tests`.
async fn hook_pairs(
    cluster: &Cluster,
    namespace: &str,
    before: &[Hook],
    after: &[Hook],
    compare: CompareOptions,
) -> Result<Vec<Pair>, DiffError> {
    let before = hook_objects(before, compare.include_tests)?;
    let after = hook_objects(after, compare.include_tests)?;
    Ok(as_hooks(
        stored_pairs(cluster, namespace, before, after).await?,
    ))
}

/// The objects of hooks; `test` hooks only with `include_tests`.
fn hook_objects(hooks: &[Hook], include_tests: bool) -> Result<Vec<ManifestObject>, DiffError> {
    let mut out = Vec::new();
    for hook in hooks {
        if !include_tests && hook.events.iter().any(|e| e.starts_with("test")) {
            continue;
        }
        out.extend(objects_of_manifest(&hook.manifest)?);
    }
    Ok(out)
}

/// What `rudder rollback NAME REVISION` would change (revision 0: the one before the latest).
pub async fn rollback_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    revision: u64,
    compare: CompareOptions,
) -> Result<Vec<Pair>, DiffError> {
    let history = Store::new(cluster.clone()).history(namespace, name).await?;
    let latest = history.last().ok_or_else(|| ReleaseError::NotFound {
        name: name.to_string(),
        namespace: namespace.to_string(),
    })?;
    let wanted = if revision == 0 {
        latest.release.version.saturating_sub(1)
    } else {
        revision
    };
    let target = find_revision(&history, name, wanted)?;
    let current = store::last_deployed(&history).ok_or_else(|| DiffError::NothingDeployed {
        name: name.to_string(),
    })?;
    let settings = ApplySettings {
        concurrency: compare.concurrency,
        ..ApplySettings::default()
    };
    let mut pairs = live_pairs(
        cluster,
        name,
        namespace,
        &settings,
        objects_of_manifest(&target.release.manifest)?,
        objects_of_manifest(&current.release.manifest)?,
    )
    .await?
    .pairs;
    if compare.hooks {
        pairs.extend(
            hook_pairs(
                cluster,
                namespace,
                &current.release.hooks,
                &target.release.hooks,
                compare,
            )
            .await?,
        );
    }
    Ok(pairs)
}

/// Stored revision `a` against revision `b` (default: the latest). Reads no objects.
pub async fn revision_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    a: u64,
    b: Option<u64>,
    compare: CompareOptions,
) -> Result<Vec<Pair>, DiffError> {
    let history = Store::new(cluster.clone()).history(namespace, name).await?;
    let old = find_revision(&history, name, a)?;
    let new = match b {
        Some(b) => find_revision(&history, name, b)?,
        None => history.last().ok_or_else(|| ReleaseError::NotFound {
            name: name.to_string(),
            namespace: namespace.to_string(),
        })?,
    };
    let mut pairs = stored_pairs(
        cluster,
        namespace,
        objects_of_manifest(&old.release.manifest)?,
        objects_of_manifest(&new.release.manifest)?,
    )
    .await?;
    if compare.hooks {
        pairs.extend(
            hook_pairs(
                cluster,
                namespace,
                &old.release.hooks,
                &new.release.hooks,
                compare,
            )
            .await?,
        );
    }
    Ok(pairs)
}

fn find_revision<'a>(
    history: &'a [Revision],
    name: &str,
    revision: u64,
) -> Result<&'a Revision, DiffError> {
    history
        .iter()
        .find(|r| r.release.version == revision)
        .ok_or_else(|| DiffError::NoRevision {
            name: name.to_string(),
            revision,
            available: history
                .iter()
                .map(|r| r.release.version.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Fills in namespaces (discovery only, no object reads) and pairs two manifests by key.
async fn stored_pairs(
    cluster: &Cluster,
    namespace: &str,
    before: Vec<ManifestObject>,
    after: Vec<ManifestObject>,
) -> Result<Vec<Pair>, DiffError> {
    let mut sides = [Vec::new(), Vec::new()];
    for (side, objects) in sides.iter_mut().zip([before, after]) {
        for ManifestObject { mut object, .. } in objects {
            match cluster.place(&mut object, namespace).await {
                Ok(_) | Err(ClusterError::UnknownKind { .. }) => side.push(object),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let [before, after] = sides;
    Ok(pair_by_key(before, after))
}

/// A live comparison and what a plan needs from it.
struct LiveState {
    pairs: Vec<Pair>,
    desired: Vec<Desired>,
    live: BTreeMap<ObjectRef, Value>,
    /// Objects leaving the chart: live state (`None`: already gone) and keep flag.
    removed: Vec<(ObjectRef, Option<Value>, bool)>,
}

/// Live objects against the result of applying `new_objects` (server-side dry run), plus the
/// objects of `previous` that the new set no longer has.
async fn live_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    settings: &ApplySettings,
    new_objects: Vec<ManifestObject>,
    previous: Vec<ManifestObject>,
) -> Result<LiveState, DiffError> {
    let progress = quiet();
    let ctx = Context {
        cluster,
        name,
        namespace,
        settings,
        progress: &progress,
    };
    let concurrency = settings.concurrency.max(1);
    let desired = apply::prepare(&ctx, new_objects).await?;
    let live = apply::read_live(cluster, &desired).await?;
    let after = futures::stream::iter(desired.iter())
        .map(|d| {
            let current = live.get(&d.reference);
            async move { (d, current, applied_state(cluster, d, current).await) }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let mut pairs = Vec::with_capacity(after.len());
    for (d, current, result) in after {
        pairs.push(Pair {
            key: key_of(&d.reference),
            before: current.cloned(),
            after: Some(result?),
            kept: false,
            hook: false,
        });
    }
    let wanted: BTreeMap<&ObjectRef, ()> = desired.iter().map(|d| (&d.reference, ())).collect();
    let gone: Vec<(ObjectRef, bool)> = apply::references(cluster, namespace, previous)
        .await?
        .into_iter()
        .filter(|(r, _)| !wanted.contains_key(r))
        .collect();
    let fetched = futures::stream::iter(gone)
        .map(|(reference, keep)| async move {
            let current = cluster.get(&reference).await;
            (reference, keep, current)
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let mut removed = Vec::new();
    for (reference, keep, current) in fetched {
        let current = current?;
        if let Some(object) = &current {
            pairs.push(Pair {
                key: key_of(&reference),
                before: Some(object.clone()),
                after: None,
                kept: keep,
                hook: false,
            });
        }
        removed.push((reference, current, keep));
    }
    Ok(LiveState {
        pairs,
        desired,
        live,
        removed,
    })
}

/// What the cluster would hold after applying `d`: the server's dry-run answer for an existing
/// object, the object itself for a new one.
async fn applied_state(
    cluster: &Cluster,
    d: &Desired,
    current: Option<&Value>,
) -> Result<Value, DiffError> {
    let Some(current) = current else {
        return Ok(d.object.clone());
    };
    let options = ApplyOptions {
        force: true,
        dry_run: true,
    };
    match cluster.apply(&d.object, options).await {
        Ok(result) => Ok(result),
        // The server refuses the change (e.g. an immutable field): show the intended state so
        // the reviewer sees the field the upgrade would trip on.
        Err(ClusterError::Api { code: 422, .. }) => {
            let mut merged = current.clone();
            merge_values(&mut merged, &d.object);
            Ok(merged)
        }
        Err(e) => Err(e.into()),
    }
}

/// The objects of a local render: the manifest's and the hooks' (`test` hooks only with
/// `include_tests`).
pub struct Rendered {
    pub objects: Vec<Value>,
    pub hooks: Vec<Value>,
}

/// Renders a chart locally (no cluster) and returns its objects, for `diff envs` and
/// `diff charts`.
pub fn render_objects(
    chart_path: &Path,
    inputs: &ValuesInputs,
    release_name: &str,
    namespace: &str,
    include_tests: bool,
) -> Result<Rendered, DiffError> {
    let chart = crate::chart::load(chart_path)?;
    let composed = crate::values::compose(&chart, inputs)?;
    let info = ReleaseInfo {
        name: release_name.to_string(),
        namespace: namespace.to_string(),
        revision: 1,
        is_install: true,
        is_upgrade: false,
    };
    let rendered = rendering::render_release(
        &composed.chart,
        &composed.values,
        info,
        Capabilities::default(),
        inputs.env.clone(),
        None,
    )?;
    let values = |objects: Vec<ManifestObject>| {
        objects
            .into_iter()
            .map(|m| place_offline(m.object, namespace))
            .collect()
    };
    Ok(Rendered {
        objects: values(objects_of_manifest(&rendered.manifest)?),
        hooks: values(hook_objects(&rendered.hooks, include_tests)?),
    })
}

/// Kinds of the built-in APIs that are cluster-scoped (without a cluster there is no discovery to
/// ask).
const CLUSTER_SCOPED: [&str; 16] = [
    "APIService",
    "CSIDriver",
    "CSINode",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingWebhookConfiguration",
];

/// Puts an object without a namespace into the release namespace, as applying it would, unless
/// its kind is cluster-scoped.
fn place_offline(mut object: Value, namespace: &str) -> Value {
    let kind = object["kind"].as_str().unwrap_or_default();
    if CLUSTER_SCOPED.contains(&kind) {
        return object;
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let missing = meta
            .get("namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
    }
    object
}

/// Keeps `UpgradeOptions` constructible from the diff CLI without importing release internals.
pub fn upgrade_options(
    name: String,
    chart: std::path::PathBuf,
    values: ValuesInputs,
    namespace: Option<String>,
    reuse: upgrade::ValuesReuse,
    install: bool,
) -> UpgradeOptions {
    UpgradeOptions {
        name,
        chart,
        values,
        namespace,
        reuse,
        install,
        ..Default::default()
    }
}
