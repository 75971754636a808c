//! `uninstall`: pre-delete hooks, delete the release's objects in Helm's uninstall order (except
//! `keep` ones, which are reported), post-delete hooks, then purge the history (default) or keep
//! it marked `uninstalled` (`--keep-history`).

use std::time::Duration;

use crate::cluster::{Cascade, Cluster, ObjectRef};

use super::apply::{self, Context};
use super::rendering::objects_of_manifest;
use super::storage::{self, Status};
use super::{
    hooks, lock, ApplySettings, DryRun, Outcome, Progress, ReleaseError, Store, WaitStrategy,
};

/// What `uninstall` needs.
#[derive(Debug, Clone)]
pub struct UninstallOptions {
    pub name: String,
    pub namespace: Option<String>,
    pub keep_history: bool,
    pub cascade: Cascade,
    pub no_hooks: bool,
    pub dry_run: bool,
    pub ignore_not_found: bool,
    pub wait: WaitStrategy,
    pub timeout: Duration,
    pub description: Option<String>,
    /// `--wait-for-lock`: how long to wait while another operation holds the release.
    pub wait_for_lock: Duration,
}

impl Default for UninstallOptions {
    fn default() -> Self {
        UninstallOptions {
            name: String::new(),
            namespace: None,
            keep_history: false,
            cascade: Cascade::Background,
            no_hooks: false,
            dry_run: false,
            ignore_not_found: false,
            wait: WaitStrategy::HookOnly,
            timeout: Duration::from_secs(300),
            description: None,
            wait_for_lock: Duration::ZERO,
        }
    }
}

/// Uninstalls a release. `Ok(None)` when it did not exist and `ignore_not_found` is set.
pub async fn uninstall(
    cluster: &Cluster,
    options: &UninstallOptions,
    progress: &Progress,
) -> Result<Option<Outcome>, ReleaseError> {
    let name = options.name.clone();
    // `--timeout` bounds every request and wait of the operation from here on.
    let bounded = cluster.with_budget(options.timeout);
    let cluster = &bounded;
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace().to_string());
    let store = Store::new(cluster.clone());
    let mut history = store.history(&namespace, &name).await?;
    let mut notices = Vec::new();
    if !options.dry_run {
        notices
            .extend(lock::await_turn(&store, &mut history, options.wait_for_lock, progress).await?);
    }
    let Some(latest) = history.last().cloned() else {
        if options.ignore_not_found {
            return Ok(None);
        }
        return Err(ReleaseError::NotFound { name, namespace });
    };
    let mut record = latest.release.clone();
    if record.status() == Status::Uninstalled {
        if options.keep_history {
            return Err(ReleaseError::Usage(format!(
                "release {name} is already uninstalled (its history is kept)"
            )));
        }
        // Purging a kept history: nothing left in the cluster but the records.
        if !options.dry_run {
            for r in &history {
                store.delete(&namespace, &name, r.release.version).await?;
            }
        }
        return Ok(Some(Outcome {
            release: record,
            kept: Vec::new(),
            notices,
        }));
    }
    let settings = ApplySettings {
        no_hooks: options.no_hooks,
        dry_run: if options.dry_run {
            DryRun::Client
        } else {
            DryRun::None
        },
        timeout: options.timeout,
        ..ApplySettings::default()
    };
    let ctx = Context {
        cluster,
        name: &name,
        namespace: &namespace,
        settings: &settings,
        progress,
    };
    let objects =
        apply::references(cluster, &namespace, objects_of_manifest(&record.manifest)?).await?;
    if options.dry_run {
        let kept = objects
            .iter()
            .filter(|(_, k)| *k)
            .map(|(r, _)| r.to_string())
            .collect();
        return Ok(Some(Outcome {
            release: record,
            kept,
            notices,
        }));
    }
    record.set_status(
        Status::Uninstalling,
        "Deletion in progress (or silently failed)",
    );
    // The latest revision marked `uninstalling` is the lock: install, upgrade and rollback
    // refuse while it is held, and a revision created meanwhile makes this uninstall back off.
    let held = lock::hold(&store, &record, &latest, options.timeout).await?;
    // Once objects are deleted, no earlier revision may still claim to be deployed (the latest
    // one is being uninstalled; an earlier one is deployed when the latest failed).
    let earlier = &history[..history.len().saturating_sub(1)];
    let kept = match delete_release_objects(&ctx, &mut record, &objects, options).await {
        Ok(kept) => kept,
        Err(failure) => {
            // Some objects may be gone: the revision no longer describes what runs.
            record.set_status(Status::Failed, format!("Uninstallation failed: {failure}"));
            held.finish_superseding(&record, earlier).await?;
            return Err(failure);
        }
    };
    if options.keep_history {
        let description = options
            .description
            .clone()
            .unwrap_or_else(|| "Uninstallation complete".into());
        record.info_mut().deleted = Some(storage::now_go());
        record.set_status(Status::Uninstalled, description);
        held.finish_superseding(&record, earlier).await?;
    } else {
        held.release().await;
        for r in &history {
            store.delete(&namespace, &name, r.release.version).await?;
        }
    }
    Ok(Some(Outcome {
        release: record,
        kept,
        notices,
    }))
}

/// Pre-delete hooks, the deletion itself (in Helm's uninstall order, `keep` objects spared and
/// returned), the optional wait for the objects to be gone, post-delete hooks.
async fn delete_release_objects(
    ctx: &Context<'_>,
    record: &mut storage::Release,
    objects: &[(ObjectRef, bool)],
    options: &UninstallOptions,
) -> Result<Vec<String>, ReleaseError> {
    hooks::run(ctx, &mut record.hooks, "pre-delete").await?;
    let kept = apply::delete_objects(ctx, objects, options.cascade).await?;
    if options.wait == WaitStrategy::Watcher {
        let gone: Vec<ObjectRef> = objects
            .iter()
            .filter(|(_, k)| !*k)
            .map(|(r, _)| r.clone())
            .collect();
        ctx.cluster.wait_deleted(&gone, options.timeout).await?;
    }
    hooks::run(ctx, &mut record.hooks, "post-delete").await?;
    Ok(kept)
}
