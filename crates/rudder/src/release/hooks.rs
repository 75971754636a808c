//! Running hooks: one at a time in weight order (ties by name, as Helm's code does), Jobs and
//! Pods waited to completion, delete policies applied, each run recorded in the hook's `last_run`.

use crate::cluster::{ApplyOptions, Cascade, ObjectRef, WaitError};

use super::apply::Context;
use super::rendering::objects_of_manifest;
use super::storage::{self, Hook};
use super::{DryRun, ReleaseError};

const BEFORE_HOOK_CREATION: &str = "before-hook-creation";
const HOOK_SUCCEEDED: &str = "hook-succeeded";
const HOOK_FAILED: &str = "hook-failed";

/// Runs every hook of `event` (`pre-install`, `test`, ...). Stops at the first failure.
pub(crate) async fn run(
    ctx: &Context<'_>,
    hooks: &mut [Hook],
    event: &str,
) -> Result<(), ReleaseError> {
    if ctx.settings.no_hooks || ctx.settings.dry_run != DryRun::None {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..hooks.len())
        .filter(|&i| hooks[i].events.iter().any(|e| e == event))
        .collect();
    order.sort_by(|&a, &b| {
        hooks[a]
            .weight
            .cmp(&hooks[b].weight)
            .then_with(|| hooks[a].name.cmp(&hooks[b].name))
    });
    for i in order {
        run_one(ctx, &mut hooks[i], event).await?;
    }
    Ok(())
}

async fn run_one(ctx: &Context<'_>, hook: &mut Hook, event: &str) -> Result<(), ReleaseError> {
    if hook.delete_policies.is_empty() {
        hook.delete_policies.push(BEFORE_HOOK_CREATION.to_string());
    }
    let hook_label = format!("{} {}", hook_kind(hook), hook.name);
    let hook_error = |reason: String| ReleaseError::Hook {
        event: event.to_string(),
        hook: hook_label.clone(),
        reason,
    };
    let Some(parsed) = objects_of_manifest(&hook.manifest)?.into_iter().next() else {
        return Ok(());
    };
    let mut object = parsed.object;
    let reference = ctx.cluster.place(&mut object, ctx.namespace).await?;
    let policy = |p: &str| hook.delete_policies.iter().any(|x| x == p);
    // CRDs created as hooks are never deleted by a policy (Helm's rule).
    let deletable = reference.kind != "CustomResourceDefinition";
    if deletable && policy(BEFORE_HOOK_CREATION) {
        delete_and_wait(ctx, &reference).await?;
    }
    ctx.progress
        .line(&format!("running {event} hook {reference}"));
    hook.last_run = storage::HookExecution {
        started_at: Some(storage::now_go()),
        completed_at: None,
        phase: "Running".into(),
    };
    let options = ApplyOptions {
        force: true,
        dry_run: false,
    };
    if let Err(e) = ctx.cluster.apply(&object, options).await {
        hook.last_run.phase = "Failed".into();
        return Err(hook_error(e.to_string()));
    }
    let outcome = if matches!(reference.kind.as_str(), "Job" | "Pod") {
        ctx.cluster
            .wait_ready(
                std::slice::from_ref(&reference),
                ctx.settings.timeout,
                &|_| {},
            )
            .await
    } else {
        Ok(())
    };
    hook.last_run.completed_at = Some(storage::now_go());
    match outcome {
        Ok(()) => {
            hook.last_run.phase = "Succeeded".into();
            if deletable && policy(HOOK_SUCCEEDED) {
                ctx.cluster.delete(&reference, Cascade::Background).await?;
            }
            Ok(())
        }
        Err(err) => {
            hook.last_run.phase = "Failed".into();
            if deletable && policy(HOOK_FAILED) {
                ctx.cluster.delete(&reference, Cascade::Background).await?;
            }
            let reason = match &err {
                WaitError::Cluster(e) => e.to_string(),
                other => {
                    let reasons: Vec<String> =
                        other.unready().iter().map(|u| u.reason.clone()).collect();
                    if reasons.is_empty() {
                        other.to_string()
                    } else if matches!(other, WaitError::Timeout { .. }) {
                        format!("timed out: {}", reasons.join("; "))
                    } else {
                        reasons.join("; ")
                    }
                }
            };
            Err(hook_error(reason))
        }
    }
}

fn hook_kind(hook: &Hook) -> &str {
    if hook.kind.is_empty() {
        "hook"
    } else {
        &hook.kind
    }
}

async fn delete_and_wait(ctx: &Context<'_>, reference: &ObjectRef) -> Result<(), ReleaseError> {
    if ctx.cluster.delete(reference, Cascade::Background).await? {
        ctx.cluster
            .wait_deleted(std::slice::from_ref(reference), ctx.settings.timeout)
            .await?;
    }
    Ok(())
}
