//! `install`: the whole flow of a first revision.
//!
//! Render → record size check → (create namespace) → CRDs from `crds/` (waited Established) →
//! pending-install revision (the lock) → pre-install hooks → apply in Helm's install order →
//! wait → post-install hooks → deployed. On failure the revision is marked failed; with
//! `--rollback-on-failure` the release is uninstalled again.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::cluster::{ApplyOptions, Cascade, Cluster, ObjectRef, Readiness, WaitEvent};
use crate::render::ReleaseInfo;
use crate::values::ValuesInputs;

use super::apply::{self, Context, Desired};
use super::rendering::{self, as_map, check_size, objects_of_manifest, ClusterLookup};
use super::storage::{self, Release, Status, StoredChart};
use super::{
    hooks, lock, ApplySettings, DryRun, Outcome, Progress, ReleaseError, Store, WaitStrategy,
};

/// What `install` needs beyond the shared apply settings.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Release name; `None` with `generate_name`.
    pub name: Option<String>,
    pub chart: PathBuf,
    pub values: ValuesInputs,
    /// Release namespace (`-n`); the context's namespace when `None`.
    pub namespace: Option<String>,
    pub create_namespace: bool,
    pub generate_name: bool,
    pub skip_crds: bool,
    pub settings: ApplySettings,
}

/// Installs a chart as a new release.
pub async fn install(
    cluster: Option<&Cluster>,
    options: &InstallOptions,
    progress: &Progress,
) -> Result<Outcome, ReleaseError> {
    let chart = crate::chart::load(&options.chart)?;
    let name = match (&options.name, options.generate_name) {
        (Some(name), _) => name.clone(),
        (None, true) => super::generate_name(chart.name()),
        (None, false) => {
            return Err(ReleaseError::Usage(
                "a release name is required (or use --generate-name)".into(),
            ))
        }
    };
    super::validate_name(&name)?;
    let composed = crate::values::compose(&chart, &options.values)?;
    for warning in &composed.warnings {
        progress.line(&format!("warning: {warning}"));
    }
    let offline = options.settings.dry_run == DryRun::Client;
    // `--timeout` bounds every request and wait of the operation from here on.
    let bounded = cluster
        .filter(|_| !offline)
        .map(|c| c.with_budget(options.settings.timeout));
    let cluster = bounded.as_ref();
    let namespace = options
        .namespace
        .clone()
        .or_else(|| cluster.map(|c| c.namespace().to_string()))
        .unwrap_or_else(|| "default".to_string());
    let mut version = 1;
    let mut notices = Vec::new();
    let capabilities = if let Some(cluster) = cluster {
        let store = Store::new(cluster.clone());
        // The release's records and the cluster's capabilities do not depend on each other.
        let (mut history, capabilities) = tokio::try_join!(
            store.history(&namespace, &name),
            rendering::capabilities(Some(cluster))
        )?;
        let locked = history
            .last()
            .is_some_and(|r| r.release.status().holds_lock());
        if locked && options.settings.dry_run == DryRun::None {
            // Another operation's turn first: the name may be free (or plainly in use) after it.
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
        if let Some(latest) = history.last() {
            if latest.release.status() != Status::Uninstalled {
                return Err(ReleaseError::NameInUse {
                    name,
                    revision: latest.release.version,
                    status: latest.release.status().to_string(),
                });
            }
            version = latest.release.version + 1;
        }
        capabilities
    } else {
        rendering::capabilities(None).await?
    };
    let lookup = cluster.and_then(|c| ClusterLookup::shared(c.clone()));
    let info = ReleaseInfo {
        name: name.clone(),
        namespace: namespace.clone(),
        revision: version,
        is_install: true,
        is_upgrade: false,
    };
    let rendered = rendering::render_release(
        &composed.chart,
        &composed.values,
        info,
        capabilities,
        options.values.env.clone(),
        lookup,
    )?;
    let now = storage::now_go();
    let mut record = Release {
        name: name.clone(),
        namespace: namespace.clone(),
        version,
        info: Some(storage::Info {
            first_deployed: Some(now.clone()),
            last_deployed: Some(now),
            status: Status::PendingInstall,
            description: "Initial install underway".into(),
            notes: rendered.notes.clone(),
            ..Default::default()
        }),
        chart: Some(StoredChart::from_chart(&composed.chart)),
        config: Some(as_map(&composed.user_supplied)),
        manifest: rendered.manifest.clone(),
        hooks: rendered.hooks.clone(),
        labels: options
            .settings
            .labels
            .iter()
            .filter(|(_, v)| v.as_str() != "null")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        apply_method: "ssa".into(),
    };
    check_size(&record)?;
    let Some(cluster) = cluster else {
        record.set_status(Status::PendingInstall, "Dry run complete");
        return Ok(Outcome {
            release: record,
            kept: Vec::new(),
            notices: Vec::new(),
        });
    };
    let ctx = Context {
        cluster,
        name: &name,
        namespace: &namespace,
        settings: &options.settings,
        progress,
    };
    if options.create_namespace {
        create_namespace(&ctx).await?;
    }
    if !options.skip_crds {
        notices.extend(install_crds(&ctx, &composed.chart).await?);
    }
    let desired = apply::prepare(&ctx, objects_of_manifest(&record.manifest)?).await?;
    let plan = apply::check(&ctx, &desired).await?;
    if options.settings.dry_run == DryRun::Server {
        apply::apply_all(&ctx, &desired, &plan).await?;
        record.set_status(Status::PendingInstall, "Dry run complete");
        return Ok(Outcome {
            release: record,
            kept: Vec::new(),
            notices,
        });
    }
    let store = Store::new(cluster.clone());
    let held = lock::acquire(&store, &record, options.settings.timeout).await?;
    let result = deploy(&ctx, &desired, &plan, &[], &mut record.hooks, "install").await;
    match result {
        Ok(()) => {
            let description = options
                .settings
                .description
                .clone()
                .unwrap_or_else(|| "Install complete".into());
            record.set_status(Status::Deployed, description);
            held.finish(&record).await?;
            Ok(Outcome {
                release: record,
                kept: Vec::new(),
                notices,
            })
        }
        Err(failure) => {
            record.set_status(
                Status::Failed,
                format!("Release {name:?} failed: {failure}"),
            );
            held.finish(&record).await?;
            if !options.settings.rollback_on_failure {
                return Err(failure);
            }
            progress.line(&format!(
                "install failed; uninstalling release {name} (--rollback-on-failure)"
            ));
            let refs: Vec<(ObjectRef, bool)> = desired
                .iter()
                .map(|d| (d.reference.clone(), false))
                .collect();
            // The failure may be the deadline itself: recovering gets a budget of its own.
            let recovering = cluster.with_budget(options.settings.timeout);
            let store = Store::new(recovering.clone());
            let ctx = Context {
                cluster: &recovering,
                ..ctx
            };
            let recovery = match apply::delete_objects(&ctx, &refs, Cascade::Background).await {
                Ok(_) => {
                    for r in store.history(&namespace, &name).await? {
                        store.delete(&namespace, &name, r.release.version).await?;
                    }
                    format!("release {name} was uninstalled (--rollback-on-failure)")
                }
                Err(e) => format!("uninstalling release {name} failed as well: {e}"),
            };
            Err(ReleaseError::RolledBack {
                failure: Box::new(failure),
                recovery,
            })
        }
    }
}

/// Runs one revision: pre hooks, apply, delete what is gone, wait, post hooks. Shared by
/// install, upgrade and rollback (`event` is `install`, `upgrade` or `rollback`).
pub(crate) async fn deploy(
    ctx: &Context<'_>,
    desired: &[Desired],
    plan: &apply::Plan,
    removed: &[(ObjectRef, bool)],
    hooks: &mut [storage::Hook],
    event: &str,
) -> Result<(), ReleaseError> {
    hooks::run(ctx, hooks, &format!("pre-{event}")).await?;
    apply::apply_all(ctx, desired, plan).await?;
    if !removed.is_empty() {
        apply::delete_objects(ctx, removed, Cascade::Background).await?;
    }
    if ctx.settings.wait == WaitStrategy::Watcher {
        let waited: Vec<ObjectRef> = desired
            .iter()
            .map(|d| d.reference.clone())
            .filter(|r| {
                crate::cluster::readiness::has_readiness_rule(&r.kind)
                    && (r.kind != "Job" || ctx.settings.wait_for_jobs)
            })
            .collect();
        if !waited.is_empty() {
            ctx.progress.line(&format!(
                "waiting for {} object(s) to be ready",
                waited.len()
            ));
            let progress = ctx.progress.clone();
            let report = move |event: WaitEvent| {
                if !matches!(event.readiness, Readiness::Pending(ref why) if why == "not found yet")
                {
                    progress.line(&event.to_string());
                }
            };
            ctx.cluster
                .wait_ready(&waited, ctx.settings.timeout, &report)
                .await?;
        }
    }
    hooks::run(ctx, hooks, &format!("post-{event}")).await?;
    Ok(())
}

async fn create_namespace(ctx: &Context<'_>) -> Result<(), ReleaseError> {
    let namespace = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ctx.namespace},
    });
    let options = ApplyOptions {
        force: false,
        dry_run: ctx.settings.dry_run == DryRun::Server,
    };
    match ctx.cluster.apply(&namespace, options).await {
        Ok(_) => Ok(()),
        // Owned by someone else already: it exists, which is all we need.
        Err(crate::cluster::ClusterError::Api { code: 409, .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates the chart's CRDs that do not exist yet and waits until they are Established. Existing
/// CRDs are never changed here; the returned notices name those that differ from the chart's.
pub(crate) async fn install_crds(
    ctx: &Context<'_>,
    chart: &crate::chart::Chart,
) -> Result<Vec<String>, ReleaseError> {
    let crds = crd_objects(chart)?;
    if crds.is_empty() {
        return Ok(Vec::new());
    }
    let mut notices = Vec::new();
    let mut created = Vec::new();
    for crd in &crds {
        let reference = ObjectRef::of(crd);
        if let Some(live) = ctx.cluster.get(&reference).await? {
            // Only a CRD the chart would change is worth a word: its update is being skipped.
            if !apply::is_subset(&crd["spec"], &live["spec"]) {
                notices.push(format!(
                    "CRD {} already exists and differs from the chart's; left unchanged (rudder never upgrades or deletes CRDs implicitly; use --upgrade-crds on upgrade)",
                    reference.name
                ));
            }
            continue;
        }
        let options = ApplyOptions {
            force: false,
            dry_run: ctx.settings.dry_run == DryRun::Server,
        };
        ctx.cluster.apply(crd, options).await?;
        created.push(reference);
    }
    if !created.is_empty() && ctx.settings.dry_run == DryRun::None {
        ctx.progress.line(&format!(
            "installed {} CRD(s); waiting until established",
            created.len()
        ));
        ctx.cluster
            .wait_ready(&created, ctx.settings.timeout, &|_| {})
            .await?;
        ctx.cluster.forget_discovery();
    }
    Ok(notices)
}

/// Every object in the chart's `crds/` files.
pub(crate) fn crd_objects(chart: &crate::chart::Chart) -> Result<Vec<Value>, ReleaseError> {
    let mut out = Vec::new();
    for file in chart.crd_files() {
        let text = String::from_utf8_lossy(&file.data);
        for (line, doc) in crate::manifest::split_documents(&text) {
            let source = format!("{}/{}", chart.name(), file.name);
            if let Some((_, value)) = crate::manifest::parse_object(&source, line, &doc)? {
                out.push(value);
            }
        }
    }
    Ok(out)
}
