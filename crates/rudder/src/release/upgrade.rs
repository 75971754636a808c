//! `upgrade`: the whole flow of a new revision of an existing release.
//!
//! History → take over a stale pending revision → values (Helm's reuse/reset rules) → render →
//! prune history → pending-upgrade revision (the lock) → pre-upgrade hooks → apply → delete
//! objects gone from the chart (except `keep`) → wait → post-upgrade hooks → previous deployed
//! revision superseded, new one deployed. On failure: failed, then optionally cleanup of created
//! objects and a rollback to the last deployed revision.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::cluster::{Cascade, Cluster, ObjectRef};
use crate::render::ReleaseInfo;
use crate::values::ValuesInputs;

use super::apply::{self, Context};
use super::install::{self, InstallOptions};
use super::rendering::{
    self, as_map, check_size, merge_values, objects_of_manifest, ClusterLookup,
};
use super::storage::{self, Release, Status, StoredChart};
use super::store::{self, Revision};
use super::{lock, rollback, ApplySettings, DryRun, Outcome, Progress, ReleaseError, Store};

/// How an upgrade treats the previous revision's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValuesReuse {
    /// Helm's default: new values if any were given, else the previous revision's.
    #[default]
    Default,
    /// `--reset-values`: only chart defaults and the new values.
    Reset,
    /// `--reuse-values`: the previous values (and chart defaults) under the new ones.
    Reuse,
    /// `--reset-then-reuse-values`: new chart defaults, then previous values, then new ones.
    ResetThenReuse,
}

/// What `upgrade` needs beyond the shared apply settings.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    pub name: String,
    pub chart: PathBuf,
    pub values: ValuesInputs,
    pub namespace: Option<String>,
    pub reuse: ValuesReuse,
    /// `--install`: install when the release does not exist.
    pub install: bool,
    pub create_namespace: bool,
    pub skip_crds: bool,
    /// `--upgrade-crds`: apply the chart's CRDs too (Helm never does).
    pub upgrade_crds: bool,
    pub settings: ApplySettings,
}

fn user_values_given(inputs: &ValuesInputs) -> bool {
    inputs.env.is_some()
        || !inputs.files.is_empty()
        || !inputs.set.is_empty()
        || !inputs.set_string.is_empty()
        || !inputs.set_file.is_empty()
        || !inputs.set_json.is_empty()
        || !inputs.set_literal.is_empty()
}

/// Upgrades a release (or installs it with `--install`).
pub async fn upgrade(
    cluster: &Cluster,
    options: &UpgradeOptions,
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
    // The release's records and the cluster's capabilities do not depend on each other.
    let (mut history, capabilities) = tokio::try_join!(
        store.history(&namespace, &name),
        rendering::capabilities(Some(cluster))
    )?;
    let installable = history
        .last()
        .is_none_or(|r| r.release.status() == Status::Uninstalled);
    if installable {
        if !options.install {
            return Err(if history.is_empty() {
                ReleaseError::NotFound { name, namespace }
            } else {
                ReleaseError::NoDeployedReleases { name }
            });
        }
        progress.line(&format!("release {name} does not exist; installing it"));
        let install_options = InstallOptions {
            name: Some(name),
            chart: options.chart.clone(),
            values: options.values.clone(),
            namespace: Some(namespace),
            create_namespace: options.create_namespace,
            generate_name: false,
            skip_crds: options.skip_crds,
            settings: options.settings.clone(),
        };
        return install::install(Some(cluster), &install_options, progress).await;
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
    } else if let Some(latest) = history.last() {
        if latest.release.status().holds_lock() {
            return Err(store::locked_error(
                &name,
                latest.release.status(),
                storage::lock_of(&latest.secret),
                storage::last_sign_of_life(&latest.secret),
            ));
        }
    }
    let latest_version = history.last().map_or(0, |r| r.release.version);
    let base: Revision = store::last_deployed(&history)
        .or_else(|| history.last())
        .cloned()
        .ok_or_else(|| ReleaseError::NoDeployedReleases { name: name.clone() })?;

    let chart = crate::chart::load(&options.chart)?;
    let composed = crate::values::compose(&chart, &options.values)?;
    for warning in &composed.warnings {
        progress.line(&format!("warning: {warning}"));
    }
    let (values, user_supplied) = upgrade_values(
        options.reuse,
        user_values_given(&options.values),
        &composed.values,
        &composed.user_supplied,
        &base.release,
    );
    let version = latest_version + 1;
    let info = ReleaseInfo {
        name: name.clone(),
        namespace: namespace.clone(),
        revision: version,
        is_install: false,
        is_upgrade: true,
    };
    let rendered = rendering::render_release(
        &composed.chart,
        &values,
        info,
        capabilities,
        options.values.env.clone(),
        ClusterLookup::shared(cluster.clone()),
    )?;
    let mut labels = base.release.labels.clone();
    for (k, v) in &options.settings.labels {
        if v == "null" {
            labels.remove(k);
        } else {
            labels.insert(k.clone(), v.clone());
        }
    }
    let mut record = Release {
        name: name.clone(),
        namespace: namespace.clone(),
        version,
        info: Some(storage::Info {
            first_deployed: base
                .release
                .info
                .as_ref()
                .and_then(|i| i.first_deployed.clone()),
            last_deployed: Some(storage::now_go()),
            status: Status::PendingUpgrade,
            description: "Preparing upgrade".into(),
            notes: rendered.notes.clone(),
            ..Default::default()
        }),
        chart: Some(StoredChart::from_chart(&composed.chart)),
        config: Some(as_map(&user_supplied)),
        manifest: rendered.manifest.clone(),
        hooks: rendered.hooks.clone(),
        labels,
        apply_method: "ssa".into(),
    };
    check_size(&record)?;
    if options.settings.dry_run == DryRun::Client {
        record.set_status(Status::PendingUpgrade, "Dry run complete");
        return Ok(Outcome {
            release: record,
            kept: Vec::new(),
            notices,
        });
    }
    let ctx = Context {
        cluster,
        name: &name,
        namespace: &namespace,
        settings: &options.settings,
        progress,
    };
    if !options.skip_crds {
        notices.extend(upgrade_crds(&ctx, &composed.chart, options.upgrade_crds).await?);
    }
    let desired = apply::prepare(&ctx, objects_of_manifest(&record.manifest)?).await?;
    let removed = removed_objects(
        apply::references(
            cluster,
            &namespace,
            objects_of_manifest(&base.release.manifest)?,
        )
        .await?,
        &desired,
    );
    let plan = apply::check(&ctx, &desired).await?;
    if options.settings.dry_run == DryRun::Server {
        apply::apply_all(&ctx, &desired, &plan).await?;
        record.set_status(Status::PendingUpgrade, "Dry run complete");
        return Ok(Outcome {
            release: record,
            kept: Vec::new(),
            notices,
        });
    }
    let rollout = Rollout {
        event: "upgrade",
        done: "Upgrade complete".into(),
        base: &base.release,
    };
    match roll_out(
        &ctx,
        &store,
        &history,
        &mut record,
        &desired,
        &plan,
        &removed,
        rollout,
    )
    .await
    {
        Ok(kept) => Ok(Outcome {
            release: record,
            kept,
            notices,
        }),
        Err(failure) => {
            Err(recover(cluster, &options.settings, &base.release, failure, progress).await)
        }
    }
}

/// How a new revision of an existing release is rolled out: by `upgrade` or `rollback`.
pub(crate) struct Rollout<'a> {
    /// The hook event and the word for failures: `upgrade` or `rollback`.
    pub event: &'static str,
    /// The description of the revision once deployed, unless `--description` says otherwise.
    pub done: String,
    /// The revision rolled out from: `--cleanup-on-fail` deletes only what it did not have.
    pub base: &'a Release,
}

/// Deploys `record` over an existing release, the part upgrade, upgrade from a plan and rollback
/// share: prunes history, takes the release lock with the pending revision, runs hooks, applies,
/// deletes what the chart dropped, waits, and records the outcome — deployed (superseding the
/// previously deployed revision) or failed with the reason, then `--cleanup-on-fail`.
/// Returns the objects kept by `helm.sh/resource-policy: keep`.
#[allow(clippy::too_many_arguments)] // each is one piece of the flow the callers already hold
pub(crate) async fn roll_out(
    ctx: &Context<'_>,
    store: &Store,
    history: &[Revision],
    record: &mut Release,
    desired: &[apply::Desired],
    checked: &apply::Plan,
    removed: &[(ObjectRef, bool)],
    rollout: Rollout<'_>,
) -> Result<Vec<String>, ReleaseError> {
    let settings = ctx.settings;
    store.prune(history, settings.history_max).await?;
    let held = lock::acquire(store, record, settings.timeout).await?;
    let kept: Vec<String> = removed
        .iter()
        .filter(|(_, keep)| *keep)
        .map(|(r, _)| r.to_string())
        .collect();
    let result = install::deploy(
        ctx,
        desired,
        checked,
        removed,
        &mut record.hooks,
        rollout.event,
    )
    .await;
    match result {
        Ok(()) => {
            let description = settings.description.clone().unwrap_or(rollout.done);
            record.set_status(Status::Deployed, description);
            held.finish_superseding(record, history).await?;
            Ok(kept)
        }
        Err(failure) => {
            let mut verb = rollout.event.to_string();
            verb[..1].make_ascii_uppercase();
            record.set_status(
                Status::Failed,
                format!("{verb} {:?} failed: {failure}", ctx.name),
            );
            held.finish(record).await?;
            if settings.cleanup_on_fail {
                // The failure may be the deadline itself: cleaning up gets a budget of its own.
                let cleaning = ctx.cluster.with_budget(settings.timeout);
                let ctx = Context {
                    cluster: &cleaning,
                    ..*ctx
                };
                cleanup_created(&ctx, desired, rollout.base).await;
            }
            Err(failure)
        }
    }
}

/// After a failed upgrade: the failure as it is, or with `--rollback-on-failure` the failure
/// together with how rolling back to `base` went.
pub(crate) async fn recover(
    cluster: &Cluster,
    settings: &ApplySettings,
    base: &Release,
    failure: ReleaseError,
    progress: &Progress,
) -> ReleaseError {
    if !settings.rollback_on_failure {
        return failure;
    }
    progress.line(&format!(
        "upgrade failed; rolling back to revision {} (--rollback-on-failure)",
        base.version
    ));
    let rollback_options = rollback::RollbackOptions {
        name: base.name.clone(),
        namespace: Some(base.namespace.clone()),
        revision: base.version,
        settings: ApplySettings {
            rollback_on_failure: false,
            ..settings.clone()
        },
    };
    let recovery = match rollback::rollback(cluster, &rollback_options, progress).await {
        Ok(done) => format!(
            "rolled back to revision {} (now revision {})",
            base.version, done.release.version
        ),
        Err(e) => format!("rolling back failed as well: {e}"),
    };
    ReleaseError::RolledBack {
        failure: Box::new(failure),
        recovery,
    }
}

/// The values and user config of the new revision under Helm's reuse/reset rules.
/// `values` are the new chart's defaults coalesced with the new inputs; `user` the new inputs.
pub fn upgrade_values(
    reuse: ValuesReuse,
    new_values_given: bool,
    values: &Value,
    user: &Value,
    previous: &Release,
) -> (Value, Value) {
    let old_config = previous.config_value();
    let reuse_old = match reuse {
        ValuesReuse::Reset => false,
        ValuesReuse::Reuse | ValuesReuse::ResetThenReuse => true,
        // Helm reuses the previous values when no new ones were given.
        ValuesReuse::Default => !new_values_given,
    };
    if !reuse_old {
        return (values.clone(), user.clone());
    }
    let mut merged_user = old_config.clone();
    merge_values(&mut merged_user, user);
    let mut merged = values.clone();
    if reuse == ValuesReuse::Reuse {
        // --reuse-values keeps the previous chart's defaults, not the new chart's.
        if let Some(old_defaults) = previous.chart.as_ref().map(|c| &c.values) {
            merge_values(&mut merged, old_defaults);
        }
    }
    merge_values(&mut merged, &old_config);
    merge_values(&mut merged, user);
    (merged, merged_user)
}

/// Objects of the previous revision that the new one no longer has.
pub(crate) fn removed_objects(
    previous: Vec<(ObjectRef, bool)>,
    desired: &[apply::Desired],
) -> Vec<(ObjectRef, bool)> {
    let wanted: BTreeSet<&ObjectRef> = desired.iter().map(|d| &d.reference).collect();
    previous
        .into_iter()
        .filter(|(r, _)| !wanted.contains(r))
        .collect()
}

/// `--cleanup-on-fail`: deletes objects this revision added that the base revision did not have.
pub(crate) async fn cleanup_created(ctx: &Context<'_>, desired: &[apply::Desired], base: &Release) {
    let before: BTreeSet<ObjectRef> = match objects_of_manifest(&base.manifest) {
        Ok(objects) => apply::references(ctx.cluster, ctx.namespace, objects)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(r, _)| r)
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    let new: Vec<(ObjectRef, bool)> = desired
        .iter()
        .filter(|d| !before.contains(&d.reference))
        .map(|d| (d.reference.clone(), d.keep))
        .collect();
    if new.is_empty() {
        return;
    }
    ctx.progress.line(&format!(
        "deleting {} object(s) created by the failed operation (--cleanup-on-fail)",
        new.len()
    ));
    if let Err(e) = apply::delete_objects(ctx, &new, Cascade::Background).await {
        ctx.progress.line(&format!("cleanup failed: {e}"));
    }
}

/// CRDs on upgrade: created when missing; changed ones applied only with `--upgrade-crds`,
/// otherwise reported as skipped.
async fn upgrade_crds(
    ctx: &Context<'_>,
    chart: &crate::chart::Chart,
    upgrade: bool,
) -> Result<Vec<String>, ReleaseError> {
    let crds = install::crd_objects(chart)?;
    if crds.is_empty() {
        return Ok(Vec::new());
    }
    if !upgrade {
        let mut notices = install::install_crds(ctx, chart).await?;
        notices.retain(|n| !n.is_empty());
        return Ok(notices
            .into_iter()
            .map(|n| n.replace("left unchanged", "skipped"))
            .collect());
    }
    let options = crate::cluster::ApplyOptions {
        force: true,
        dry_run: ctx.settings.dry_run == DryRun::Server,
    };
    let mut refs = Vec::new();
    for crd in &crds {
        ctx.cluster.apply(crd, options).await?;
        refs.push(ObjectRef::of(crd));
    }
    ctx.progress
        .line(&format!("applied {} CRD(s) (--upgrade-crds)", refs.len()));
    if ctx.settings.dry_run == DryRun::None {
        ctx.cluster
            .wait_ready(&refs, ctx.settings.timeout, &|_| {})
            .await?;
        ctx.cluster.forget_discovery();
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn previous() -> Release {
        Release {
            config: json!({"image": {"tag": "v1"}, "replicas": 3})
                .as_object()
                .cloned(),
            chart: Some(StoredChart {
                metadata: json!({"name": "web", "version": "1.0.0"}),
                lock: Value::Null,
                templates: None,
                values: json!({"image": {"tag": "v0", "repo": "old"}, "replicas": 1}),
                schema: None,
                schemamodtime: Value::Null,
                files: None,
                modtime: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn default_reuses_previous_values_only_when_none_given() {
        let defaults = json!({"image": {"tag": "v0", "repo": "new"}, "replicas": 1});
        let (values, user) = upgrade_values(
            ValuesReuse::Default,
            false,
            &defaults,
            &json!({}),
            &previous(),
        );
        assert_eq!(values["replicas"], 3);
        assert_eq!(values["image"]["tag"], "v1");
        assert_eq!(values["image"]["repo"], "new");
        assert_eq!(user, json!({"image": {"tag": "v1"}, "replicas": 3}));

        let given = json!({"image": {"tag": "v2", "repo": "new"}, "replicas": 1});
        let (values, user) = upgrade_values(
            ValuesReuse::Default,
            true,
            &given,
            &json!({"image": {"tag": "v2"}}),
            &previous(),
        );
        assert_eq!(values["replicas"], 1);
        assert_eq!(user, json!({"image": {"tag": "v2"}}));
    }

    #[test]
    fn reuse_and_reset_then_reuse_layer_new_values_over_old() {
        let new_values = json!({"image": {"tag": "v2", "repo": "new"}, "replicas": 1});
        let new_user = json!({"image": {"tag": "v2"}});
        let (values, user) = upgrade_values(
            ValuesReuse::Reuse,
            true,
            &new_values,
            &new_user,
            &previous(),
        );
        assert_eq!(values["image"]["tag"], "v2");
        assert_eq!(values["replicas"], 3);
        // --reuse-values keeps the old chart's defaults.
        assert_eq!(values["image"]["repo"], "old");
        assert_eq!(user, json!({"image": {"tag": "v2"}, "replicas": 3}));

        let (values, _) = upgrade_values(
            ValuesReuse::ResetThenReuse,
            true,
            &new_values,
            &new_user,
            &previous(),
        );
        assert_eq!(values["image"]["repo"], "new");
        assert_eq!(values["replicas"], 3);
    }

    #[test]
    fn reset_ignores_previous_values() {
        let new_values = json!({"replicas": 1});
        let (values, user) = upgrade_values(
            ValuesReuse::Reset,
            false,
            &new_values,
            &json!({}),
            &previous(),
        );
        assert_eq!(values, json!({"replicas": 1}));
        assert_eq!(user, json!({}));
    }
}
