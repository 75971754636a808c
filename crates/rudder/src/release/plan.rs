//! Upgrade plans: an upgrade computed ahead of time (`rudder diff upgrade --save-plan`),
//! reviewed, then applied exactly as computed (`rudder upgrade NAME --plan`).
//!
//! Applying a plan never renders again: the objects and the revision record come from the plan.
//! Before any write it checks that the cluster still is what the plan was computed against —
//! the release's latest revision, and the `resourceVersion` of every object it touches (an object
//! that appeared or vanished counts; one whose status alone moved does not) — and refuses, naming
//! each object that moved.
//!
//! A plan holds the rendered objects, Secret data included, and the user-supplied values in
//! clear; whoever writes one must keep it private (the CLI writes it with mode 0600).

use std::collections::BTreeMap;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cluster::{ApplyOptions, Cluster, ObjectRef};

use super::apply::{self, Context, Desired, RESOURCE_POLICY_ANNOTATION};
use super::storage::{self, Release, Status};
use super::upgrade::{recover, roll_out, Rollout};
use super::{ApplySettings, Outcome, Progress, ReleaseError, Store};

/// `apiVersion` of a plan file.
pub const PLAN_API_VERSION: &str = "rudder.dev/v1";
/// `kind` of a plan file.
pub const PLAN_KIND: &str = "UpgradePlan";

/// A plan file (schema in docs/diff.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePlan {
    pub api_version: String,
    pub kind: String,
    /// When the plan was computed (RFC 3339, UTC).
    pub created_at: String,
    pub release: PlannedRelease,
    pub chart: PlannedChart,
    /// `sha256:` of the user-supplied values stored in the revision (`revision.config`).
    pub values_digest: String,
    /// Every object the upgrade applies, ownership metadata stamped, in apply order, with the
    /// `resourceVersion` it had when the plan was made (`null`: it did not exist).
    pub objects: Vec<PlannedObject>,
    /// Objects of the base revision the chart no longer has (deleted, or kept when annotated
    /// `helm.sh/resource-policy: keep`).
    pub removed: Vec<PlannedObject>,
    /// CRDs from the chart's `crds/`, created when missing (never changed).
    #[serde(default)]
    pub crds: Vec<Value>,
    /// The revision record to write, in Helm's release format.
    pub revision: Release,
}

/// Which release the plan is for and which revision it was computed against.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRelease {
    pub name: String,
    pub namespace: String,
    /// The latest revision when the plan was made; applying refuses if it is no longer latest.
    pub base_revision: u64,
    /// The revision the plan writes (`base_revision + 1`).
    pub next_revision: u64,
    /// Labels of the release record (`--labels`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The chart the plan was rendered from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChart {
    pub name: String,
    pub version: String,
    /// `sha256:` of the chart as stored in the revision (`revision.chart`).
    pub digest: String,
}

/// One object of a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The live object's `metadata.resourceVersion` when the plan was made; `null` when absent.
    pub live_resource_version: Option<String>,
    /// Digest of the live object without its status and server bookkeeping (`resourceVersion`,
    /// `managedFields`): a controller writing status moves the resourceVersion, not this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_digest: Option<String>,
    /// Annotated `helm.sh/resource-policy: keep`.
    #[serde(default)]
    pub keep: bool,
    /// The object to apply (absent for removed objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

impl PlannedObject {
    fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    fn new(reference: &ObjectRef, live: Option<&Value>, keep: bool, object: Option<Value>) -> Self {
        PlannedObject {
            api_version: reference.api_version.clone(),
            kind: reference.kind.clone(),
            namespace: reference.namespace.clone(),
            name: reference.name.clone(),
            live_resource_version: live.and_then(resource_version),
            live_digest: live.map(content_digest),
            keep,
            object,
        }
    }
}

/// Why a plan cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("not an upgrade plan: expected apiVersion {PLAN_API_VERSION} and kind {PLAN_KIND}, found {api_version} {kind}")]
    NotAPlan { api_version: String, kind: String },
    #[error("the plan is for release {planned} in namespace {planned_namespace}, not {name} in {namespace}")]
    OtherRelease {
        planned: String,
        planned_namespace: String,
        name: String,
        namespace: String,
    },
    #[error(
        "the plan was edited after it was made: its {part} digest does not match its contents"
    )]
    Tampered { part: &'static str },
    #[error("release {name} moved since the plan was made: it was computed against revision {planned}, the latest is now revision {now} ({status}); make a new plan")]
    ReleaseMoved {
        name: String,
        planned: u64,
        now: u64,
        status: String,
    },
    #[error("{count} object(s) changed in the cluster since the plan was made; nothing was applied, make a new plan:{list}", count = objects.len(), list = objects.iter().map(|o| format!("\n  {o}")).collect::<String>())]
    Drifted { objects: Vec<String> },
}

/// `sha256:HEX` of a value's JSON.
pub fn digest(value: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// `digest` of what an object says apart from its status and the server's bookkeeping, which
/// controllers rewrite on their own (on a real cluster a Deployment's status moves for seconds
/// after a rollout; a plan must not be refused for that).
fn content_digest(object: &Value) -> String {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
    }
    digest(&object)
}

fn resource_version(object: &Value) -> Option<String> {
    object["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_string)
}

/// What an upgrade computed, to be frozen into a plan.
pub(crate) struct PlanInputs<'a> {
    /// The revision record the upgrade would write (from a client-side dry run).
    pub revision: Release,
    /// The latest revision when the plan was computed.
    pub base_revision: u64,
    pub desired: &'a [Desired],
    /// Live objects by reference, as read for the comparison.
    pub live: &'a BTreeMap<ObjectRef, Value>,
    /// Objects leaving the chart with their live state (`None`: already gone) and keep flag.
    pub removed: Vec<(ObjectRef, Option<Value>, bool)>,
    pub crds: Vec<Value>,
}

/// Freezes what an upgrade computed into a plan.
pub(crate) fn make(inputs: PlanInputs<'_>) -> UpgradePlan {
    let PlanInputs {
        mut revision,
        base_revision,
        desired,
        live,
        removed,
        crds,
    } = inputs;
    revision.set_status(Status::PendingUpgrade, "Planned upgrade");
    let chart_meta = revision.chart.as_ref().map(|c| &c.metadata);
    let text = |key: &str| {
        chart_meta
            .and_then(|m| m[key].as_str())
            .unwrap_or_default()
            .to_string()
    };
    UpgradePlan {
        api_version: PLAN_API_VERSION.into(),
        kind: PLAN_KIND.into(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        release: PlannedRelease {
            name: revision.name.clone(),
            namespace: revision.namespace.clone(),
            base_revision,
            next_revision: revision.version,
            labels: revision.labels.clone(),
        },
        chart: PlannedChart {
            name: text("name"),
            version: text("version"),
            digest: digest(&revision.chart),
        },
        values_digest: digest(&revision.config),
        objects: desired
            .iter()
            .map(|d| {
                PlannedObject::new(
                    &d.reference,
                    live.get(&d.reference),
                    d.keep,
                    Some(d.object.clone()),
                )
            })
            .collect(),
        removed: removed
            .into_iter()
            .map(|(reference, current, keep)| {
                PlannedObject::new(&reference, current.as_ref(), keep, None)
            })
            .collect(),
        crds,
        revision,
    }
}

/// Checks a plan's own consistency and that it is for `name` in `namespace`.
pub fn validate(plan: &UpgradePlan, name: &str, namespace: &str) -> Result<(), PlanError> {
    if plan.api_version != PLAN_API_VERSION || plan.kind != PLAN_KIND {
        return Err(PlanError::NotAPlan {
            api_version: plan.api_version.clone(),
            kind: plan.kind.clone(),
        });
    }
    if plan.release.name != name || plan.release.namespace != namespace {
        return Err(PlanError::OtherRelease {
            planned: plan.release.name.clone(),
            planned_namespace: plan.release.namespace.clone(),
            name: name.to_string(),
            namespace: namespace.to_string(),
        });
    }
    if digest(&plan.revision.chart) != plan.chart.digest {
        return Err(PlanError::Tampered { part: "chart" });
    }
    if digest(&plan.revision.config) != plan.values_digest {
        return Err(PlanError::Tampered { part: "values" });
    }
    if plan.revision.name != plan.release.name
        || plan.revision.namespace != plan.release.namespace
        || plan.revision.version != plan.release.next_revision
        || plan.objects.iter().any(|o| o.object.is_none())
    {
        return Err(PlanError::Tampered { part: "release" });
    }
    Ok(())
}

/// Objects whose live state is no longer what the plan saw, each with what moved.
fn drifted(planned: &PlannedObject, live: Option<&Value>) -> Option<String> {
    let now = live.and_then(resource_version);
    let reference = planned.reference();
    match (&planned.live_resource_version, now) {
        (Some(a), Some(b)) if *a == b => None,
        (Some(_), Some(_))
            if planned.live_digest.is_some() && planned.live_digest == live.map(content_digest) =>
        {
            None
        }
        (None, None) => None,
        (Some(a), Some(b)) => Some(format!(
            "{reference}: changed (resourceVersion {a} in the plan, {b} now)"
        )),
        (Some(_), None) => Some(format!("{reference}: deleted since the plan was made")),
        (None, Some(_)) => Some(format!("{reference}: created since the plan was made")),
    }
}

/// Applies a plan: refuses before any write if the release or any of its objects moved since the
/// plan was made, then runs the upgrade's lifecycle (lock, hooks, apply, deletions, wait,
/// superseding) with the plan's objects and record.
pub async fn apply_plan(
    cluster: &Cluster,
    plan: &UpgradePlan,
    settings: &ApplySettings,
    progress: &Progress,
) -> Result<Outcome, ReleaseError> {
    let name = plan.release.name.clone();
    let namespace = plan.release.namespace.clone();
    validate(plan, &name, &namespace)?;
    // `--timeout` bounds every request and wait of the operation from here on.
    let bounded = cluster.with_budget(settings.timeout);
    let cluster = &bounded;
    let store = Store::new(cluster.clone());
    let history = store.history(&namespace, &name).await?;
    let latest = history.last().ok_or_else(|| ReleaseError::NotFound {
        name: name.clone(),
        namespace: namespace.clone(),
    })?;
    if latest.release.version != plan.release.base_revision {
        return Err(PlanError::ReleaseMoved {
            name,
            planned: plan.release.base_revision,
            now: latest.release.version,
            status: latest.release.status().as_str().to_string(),
        }
        .into());
    }
    if latest.release.status().holds_lock() {
        return Err(super::store::locked_error(
            &name,
            latest.release.status(),
            storage::lock_of(&latest.secret),
            storage::last_sign_of_life(&latest.secret),
        ));
    }
    let desired: Vec<Desired> = plan
        .objects
        .iter()
        .filter_map(|o| {
            o.object.clone().map(|object| Desired {
                reference: o.reference(),
                keep: object["metadata"]["annotations"][RESOURCE_POLICY_ANNOTATION] == "keep",
                object,
            })
        })
        .collect();

    // Nothing is written before this check.
    let live = apply::read_live(cluster, &desired).await?;
    let mut moved: Vec<String> = plan
        .objects
        .iter()
        .filter_map(|o| drifted(o, live.get(&o.reference())))
        .collect();
    let removed_now = futures::stream::iter(&plan.removed)
        .map(|o| async move { (o, cluster.get(&o.reference()).await) })
        .buffer_unordered(settings.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for (o, current) in removed_now {
        moved.extend(drifted(o, current?.as_ref()));
    }
    if !moved.is_empty() {
        moved.sort();
        return Err(PlanError::Drifted { objects: moved }.into());
    }

    let ctx = Context {
        cluster,
        name: &name,
        namespace: &namespace,
        settings,
        progress,
    };
    create_missing_crds(&ctx, &plan.crds).await?;
    let removed: Vec<(ObjectRef, bool)> = plan
        .removed
        .iter()
        .map(|o| (o.reference(), o.keep))
        .collect();
    let checked = apply::check(&ctx, &desired).await?;
    let mut record = plan.revision.clone();
    record.labels = plan.release.labels.clone();
    if let Some(info) = record.info.as_mut() {
        info.last_deployed = Some(storage::now_go());
    }
    record.set_status(Status::PendingUpgrade, "Preparing upgrade (from a plan)");
    let base = &latest.release;
    let rollout = Rollout {
        event: "upgrade",
        done: "Upgrade complete".into(),
        base,
    };
    match roll_out(
        &ctx,
        &store,
        &history,
        &mut record,
        &desired,
        &checked,
        &removed,
        rollout,
    )
    .await
    {
        Ok(kept) => Ok(Outcome {
            release: record,
            kept,
            notices: Vec::new(),
        }),
        Err(failure) => Err(recover(cluster, settings, base, failure, progress).await),
    }
}

/// Creates the plan's CRDs that do not exist yet and waits until they are established.
async fn create_missing_crds(ctx: &Context<'_>, crds: &[Value]) -> Result<(), ReleaseError> {
    let mut created = Vec::new();
    for crd in crds {
        let reference = ObjectRef::of(crd);
        if ctx.cluster.get(&reference).await?.is_some() {
            continue;
        }
        let options = ApplyOptions {
            force: false,
            dry_run: false,
        };
        ctx.cluster.apply(crd, options).await?;
        created.push(reference);
    }
    if !created.is_empty() {
        ctx.cluster
            .wait_ready(&created, ctx.settings.timeout, &|_| {})
            .await?;
        ctx.cluster.forget_discovery();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn planned(rv: Option<&str>) -> PlannedObject {
        PlannedObject {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("default".into()),
            name: "web".into(),
            live_resource_version: rv.map(str::to_string),
            live_digest: None,
            keep: false,
            object: None,
        }
    }

    #[test]
    fn a_controller_writing_only_status_is_no_drift_but_a_spec_change_is() {
        // What the real kube-controller-manager does after a rollout: status (and the managed
        // fields entry of its status writes) move, the resourceVersion with them.
        let seen = json!({"metadata": {"resourceVersion": "7", "managedFields": [{"manager": "rudder"}]},
                          "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        let planned = PlannedObject::new(&planned(None).reference(), Some(&seen), false, None);
        let mut status_only = seen.clone();
        status_only["metadata"]["resourceVersion"] = json!("9");
        status_only["metadata"]["managedFields"] =
            json!([{"manager": "rudder"}, {"manager": "kube-controller-manager"}]);
        status_only["status"]["readyReplicas"] = json!(2);
        assert_eq!(drifted(&planned, Some(&status_only)), None);

        let mut scaled = status_only.clone();
        scaled["metadata"]["resourceVersion"] = json!("10");
        scaled["spec"]["replicas"] = json!(3);
        assert_eq!(
            drifted(&planned, Some(&scaled)).as_deref(),
            Some("Deployment default/web: changed (resourceVersion 7 in the plan, 10 now)")
        );
    }

    #[test]
    fn drift_names_changed_created_and_deleted_objects() {
        let live = |rv: &str| json!({"metadata": {"resourceVersion": rv}});
        assert_eq!(drifted(&planned(Some("7")), Some(&live("7"))), None);
        assert_eq!(drifted(&planned(None), None), None);
        assert_eq!(
            drifted(&planned(Some("7")), Some(&live("9"))).as_deref(),
            Some("Deployment default/web: changed (resourceVersion 7 in the plan, 9 now)")
        );
        assert_eq!(
            drifted(&planned(Some("7")), None).as_deref(),
            Some("Deployment default/web: deleted since the plan was made")
        );
        assert_eq!(
            drifted(&planned(None), Some(&live("1"))).as_deref(),
            Some("Deployment default/web: created since the plan was made")
        );
    }

    fn plan() -> UpgradePlan {
        let revision = Release {
            name: "web".into(),
            namespace: "default".into(),
            version: 2,
            config: json!({"image": {"tag": "v2"}}).as_object().cloned(),
            ..Default::default()
        };
        make(PlanInputs {
            revision,
            base_revision: 1,
            desired: &[],
            live: &BTreeMap::new(),
            removed: Vec::new(),
            crds: Vec::new(),
        })
    }

    #[test]
    fn a_plan_round_trips_and_validates() {
        let plan = plan();
        let text = serde_json::to_string(&plan).unwrap();
        let back: UpgradePlan = serde_json::from_str(&text).unwrap();
        validate(&back, "web", "default").unwrap();
        assert!(matches!(
            validate(&back, "api", "default"),
            Err(PlanError::OtherRelease { .. })
        ));
    }

    #[test]
    fn edited_values_are_detected() {
        let mut plan = plan();
        plan.revision.config = json!({"image": {"tag": "v3"}}).as_object().cloned();
        assert!(matches!(
            validate(&plan, "web", "default"),
            Err(PlanError::Tampered { part: "values" })
        ));
    }
}
