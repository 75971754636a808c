//! Building the pairs to compare: live objects against what a verb would apply (server-side dry
//! run), stored revisions against each other, or two local renders.
//!
//! Round trips in live mode: one list per kind and namespace of the new objects, one
//! server-side dry-run apply per object that already exists, one GET per object that would be
//! removed, plus the release's history. Requests run concurrently (bounded).

use std::collections::BTreeMap;
use std::path::Path;

use futures::StreamExt;
use serde_json::Value;

use super::{pair_by_key, ObjectKey, Pair};
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ObjectRef};
use crate::release::apply::{self, Context, Desired};
use crate::release::rendering::{self, merge_values, objects_of_manifest, ManifestObject};
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

/// How many requests run at once.
const CONCURRENCY: usize = 16;

fn key_of(reference: &ObjectRef) -> ObjectKey {
    ObjectKey {
        api_version: reference.api_version.clone(),
        kind: reference.kind.clone(),
        namespace: reference.namespace.clone().unwrap_or_default(),
        name: reference.name.clone(),
    }
}

/// What `rudder upgrade` with the same options would change. With `from_release`, the new
/// render is compared with the manifest of the deployed revision and no object is read.
pub async fn upgrade_pairs(
    cluster: &Cluster,
    options: &UpgradeOptions,
    from_release: bool,
) -> Result<Vec<Pair>, DiffError> {
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
    let new_objects = objects_of_manifest(&outcome.release.manifest)?;
    if from_release {
        return stored_pairs(cluster, &namespace, previous, new_objects).await;
    }
    live_pairs(
        cluster,
        &name,
        &namespace,
        &options.settings,
        new_objects,
        previous,
    )
    .await
}

/// What `rudder rollback NAME REVISION` would change (revision 0: the one before the latest).
pub async fn rollback_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    revision: u64,
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
    live_pairs(
        cluster,
        name,
        namespace,
        &ApplySettings::default(),
        objects_of_manifest(&target.release.manifest)?,
        objects_of_manifest(&current.release.manifest)?,
    )
    .await
}

/// Stored revision `a` against revision `b` (default: the latest). Reads no objects.
pub async fn revision_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    a: u64,
    b: Option<u64>,
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
    stored_pairs(
        cluster,
        namespace,
        objects_of_manifest(&old.release.manifest)?,
        objects_of_manifest(&new.release.manifest)?,
    )
    .await
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

/// Live objects against the result of applying `new_objects` (server-side dry run), plus the
/// objects of `previous` that the new set no longer has.
async fn live_pairs(
    cluster: &Cluster,
    name: &str,
    namespace: &str,
    settings: &ApplySettings,
    new_objects: Vec<ManifestObject>,
    previous: Vec<ManifestObject>,
) -> Result<Vec<Pair>, DiffError> {
    let progress = quiet();
    let ctx = Context {
        cluster,
        name,
        namespace,
        settings,
        progress: &progress,
    };
    let desired = apply::prepare(&ctx, new_objects).await?;
    let live = apply::read_live(cluster, &desired).await?;
    let after = futures::stream::iter(desired.iter())
        .map(|d| {
            let current = live.get(&d.reference);
            async move { (d, current, applied_state(cluster, d, current).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut pairs = Vec::with_capacity(after.len());
    for (d, current, result) in after {
        pairs.push(Pair {
            key: key_of(&d.reference),
            before: current.cloned(),
            after: Some(result?),
            kept: false,
        });
    }
    let wanted: BTreeMap<&ObjectRef, ()> = desired.iter().map(|d| (&d.reference, ())).collect();
    let gone: Vec<(ObjectRef, bool)> = apply::references(cluster, namespace, previous)
        .await?
        .into_iter()
        .filter(|(r, _)| !wanted.contains_key(r))
        .collect();
    let removed = futures::stream::iter(gone)
        .map(|(reference, keep)| async move {
            let current = cluster.get(&reference).await;
            (reference, keep, current)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    for (reference, keep, current) in removed {
        if let Some(object) = current? {
            pairs.push(Pair {
                key: key_of(&reference),
                before: Some(object),
                after: None,
                kept: keep,
            });
        }
    }
    Ok(pairs)
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

/// Renders a chart locally (no cluster) and returns its objects, for `diff envs` and
/// `diff charts`.
pub fn render_objects(
    chart_path: &Path,
    inputs: &ValuesInputs,
    release_name: &str,
    namespace: &str,
) -> Result<Vec<Value>, DiffError> {
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
    Ok(objects_of_manifest(&rendered.manifest)?
        .into_iter()
        .map(|m| m.object)
        .collect())
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
