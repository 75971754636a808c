//! `rollback`: a new revision copying an earlier one; its stored manifest is applied as is (no
//! rendering), objects the current revision has and the target lacks are deleted.

use crate::cluster::Cluster;

use super::apply::{self, Context};
use super::rendering::{check_size, objects_of_manifest};
use super::storage::{self, HookExecution, Release, Status};
use super::store;
use super::upgrade::{removed_objects, roll_out, Rollout};
use super::{lock, ApplySettings, DryRun, Outcome, Progress, ReleaseError, Store};

/// What `rollback` needs beyond the shared apply settings.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    pub name: String,
    pub namespace: Option<String>,
    /// Target revision; `0` means the one before the latest.
    pub revision: u64,
    pub settings: ApplySettings,
}

/// Rolls a release back to an earlier revision.
pub async fn rollback(
    cluster: &Cluster,
    options: &RollbackOptions,
    progress: &Progress,
) -> Result<Outcome, ReleaseError> {
    let name = options.name.clone();
    super::validate_name(&name)?;
    // `--timeout` bounds every request and wait of the operation from here on.
    let bounded = cluster.with_budget(options.settings.timeout);
    let cluster = &bounded;
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace().to_string());
    let store = Store::new(cluster.clone());
    let mut history = store.history(&namespace, &name).await?;
    if history.is_empty() {
        return Err(ReleaseError::NotFound { name, namespace });
    }
    let mut notices = Vec::new();
    if options.settings.dry_run == DryRun::None {
        notices.extend(
            lock::await_turn(
                &store,
                &mut history,
                options.settings.wait_for_lock,
                progress,
            )
            .await?,
        );
    }
    let latest_version = history.last().map_or(0, |r| r.release.version);
    let target_version = if options.revision == 0 {
        latest_version.saturating_sub(1)
    } else {
        options.revision
    };
    let target = history
        .iter()
        .find(|r| r.release.version == target_version)
        .ok_or(ReleaseError::NoRevision {
            name: name.clone(),
            revision: target_version,
        })?
        .release
        .clone();
    let current = store::last_deployed(&history)
        .or_else(|| history.last())
        .map(|r| r.release.clone())
        .unwrap_or_default();
    let version = latest_version + 1;
    let mut record = Release {
        name: name.clone(),
        namespace: namespace.clone(),
        version,
        info: Some(storage::Info {
            first_deployed: current.info.as_ref().and_then(|i| i.first_deployed.clone()),
            last_deployed: Some(storage::now_go()),
            status: Status::PendingRollback,
            description: format!("Rollback to {target_version}"),
            notes: target
                .info
                .as_ref()
                .map(|i| i.notes.clone())
                .unwrap_or_default(),
            rollback_revision: target_version,
            ..Default::default()
        }),
        chart: target.chart.clone(),
        config: target.config.clone(),
        manifest: target.manifest.clone(),
        hooks: target
            .hooks
            .iter()
            .cloned()
            .map(|mut h| {
                h.last_run = HookExecution::default();
                h
            })
            .collect(),
        labels: target.labels.clone(),
        apply_method: "ssa".into(),
    };
    check_size(&record)?;
    let ctx = Context {
        cluster,
        name: &name,
        namespace: &namespace,
        settings: &options.settings,
        progress,
    };
    let desired = apply::prepare(&ctx, objects_of_manifest(&record.manifest)?).await?;
    let removed = removed_objects(
        apply::references(cluster, &namespace, objects_of_manifest(&current.manifest)?).await?,
        &desired,
    );
    let plan = apply::check(&ctx, &desired).await?;
    match options.settings.dry_run {
        DryRun::Client => {
            record.set_status(Status::PendingRollback, "Dry run complete");
            return Ok(Outcome {
                release: record,
                kept: Vec::new(),
                notices,
            });
        }
        DryRun::Server => {
            apply::apply_all(&ctx, &desired, &plan).await?;
            record.set_status(Status::PendingRollback, "Dry run complete");
            return Ok(Outcome {
                release: record,
                kept: Vec::new(),
                notices,
            });
        }
        DryRun::None => {}
    }
    let rollout = Rollout {
        event: "rollback",
        done: format!("Rollback to {target_version}"),
        base: &current,
    };
    let kept = roll_out(
        &ctx,
        &store,
        &history,
        &mut record,
        &desired,
        &plan,
        &removed,
        rollout,
    )
    .await?;
    Ok(Outcome {
        release: record,
        kept,
        notices,
    })
}
