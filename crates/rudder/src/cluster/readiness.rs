//! Readiness rules: whether a live object is ready, and if not, the cluster's own reason.
//!
//! Pure functions over the object's JSON so they can be tested without a server. Unlike kube's
//! `conditions::is_deployment_completed`, every rule first checks that the controller has seen the
//! current spec (`status.observedGeneration >= metadata.generation`); otherwise the status still
//! describes the previous rollout.

use serde_json::Value;

/// The readiness of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready (or, for Jobs and hook Pods, completed).
    Ready,
    /// Not ready yet; the text says why, in the cluster's words where it gave any.
    Pending(String),
    /// Will not become ready without a change (a failed Job or Pod, a rollout past its deadline).
    Failed(String),
}

impl Readiness {
    /// Whether the object is ready.
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready)
    }
}

/// Judges any object by its kind. Kinds without a rule are ready once they exist, except that a
/// `Ready` condition, when present, must be `True`.
pub fn readiness(obj: &Value) -> Readiness {
    if let Some(pending) = stale_generation(obj) {
        return pending;
    }
    match obj["kind"].as_str().unwrap_or_default() {
        "Deployment" => deployment(obj),
        "StatefulSet" => statefulset(obj),
        "DaemonSet" => daemonset(obj),
        "Job" => job(obj),
        "Pod" => pod(obj),
        "PersistentVolumeClaim" => pvc(obj),
        "Service" => service(obj),
        "CustomResourceDefinition" => crd(obj),
        _ => generic(obj),
    }
}

/// Whether `kind` has a readiness rule worth waiting for (`--wait` skips the others).
pub fn has_readiness_rule(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "Job"
            | "Pod"
            | "PersistentVolumeClaim"
            | "Service"
            | "CustomResourceDefinition"
    )
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn stale_generation(obj: &Value) -> Option<Readiness> {
    let generation = obj["metadata"]["generation"].as_i64()?;
    let observed = obj["status"]["observedGeneration"].as_i64();
    match observed {
        Some(seen) if seen >= generation => None,
        // Kinds whose controllers never report observedGeneration are judged by their status alone.
        None if !matches!(
            obj["kind"].as_str(),
            Some("Deployment" | "StatefulSet" | "DaemonSet")
        ) =>
        {
            None
        }
        _ => Some(Readiness::Pending(
            "waiting for the controller to observe the new generation".to_string(),
        )),
    }
}

/// The condition of `type_`, if the object has one.
fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn condition_true(obj: &Value, type_: &str) -> bool {
    condition(obj, type_).is_some_and(|c| c["status"] == "True")
}

fn condition_text(c: &Value) -> String {
    let reason = c["reason"].as_str().unwrap_or_default();
    let message = c["message"].as_str().unwrap_or_default();
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        (true, false) => message.to_string(),
        (true, true) => format!("condition {} is {}", c["type"], c["status"]),
    }
}

fn desired_replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn deployment(obj: &Value) -> Readiness {
    if let Some(progressing) = condition(obj, "Progressing") {
        if progressing["reason"] == "ProgressDeadlineExceeded" {
            return Readiness::Failed(condition_text(progressing));
        }
    }
    let want = desired_replicas(obj);
    let status = &obj["status"];
    let updated = int(&status["updatedReplicas"]);
    let available = int(&status["availableReplicas"]);
    let total = int(&status["replicas"]);
    if updated >= want && available >= want && total <= updated {
        return Readiness::Ready;
    }
    let mut text = format!("{updated}/{want} replicas updated, {available}/{want} available");
    if total > updated {
        text.push_str(&format!(
            ", {} old replicas pending termination",
            total - updated
        ));
    }
    if let Some(c) = condition(obj, "Available").filter(|c| c["status"] == "False") {
        text.push_str(&format!(" ({})", condition_text(c)));
    }
    Readiness::Pending(text)
}

fn statefulset(obj: &Value) -> Readiness {
    let want = desired_replicas(obj);
    let status = &obj["status"];
    let ready = int(&status["readyReplicas"]);
    let updated = int(&status["updatedReplicas"]);
    let strategy = &obj["spec"]["updateStrategy"];
    if strategy["type"] == "OnDelete" {
        return if ready >= want {
            Readiness::Ready
        } else {
            Readiness::Pending(format!("{ready}/{want} replicas ready"))
        };
    }
    let partition = strategy["rollingUpdate"]["partition"].as_i64().unwrap_or(0);
    let want_updated = (want - partition).max(0);
    let revision_done =
        partition > 0 || status["currentRevision"] == status["updateRevision"] || want == 0;
    if ready >= want && updated >= want_updated && revision_done {
        Readiness::Ready
    } else {
        Readiness::Pending(format!(
            "{ready}/{want} replicas ready, {updated}/{want_updated} updated"
        ))
    }
}

fn daemonset(obj: &Value) -> Readiness {
    let status = &obj["status"];
    let desired = int(&status["desiredNumberScheduled"]);
    let updated = int(&status["updatedNumberScheduled"]);
    let available = int(&status["numberAvailable"]);
    if updated >= desired && available >= desired {
        Readiness::Ready
    } else {
        Readiness::Pending(format!(
            "{updated}/{desired} pods updated, {available}/{desired} available"
        ))
    }
}

fn job(obj: &Value) -> Readiness {
    if let Some(failed) = condition(obj, "Failed").filter(|c| c["status"] == "True") {
        return Readiness::Failed(condition_text(failed));
    }
    if condition_true(obj, "Complete") {
        return Readiness::Ready;
    }
    let want = obj["spec"]["completions"].as_i64().unwrap_or(1);
    let succeeded = int(&obj["status"]["succeeded"]);
    let failed = int(&obj["status"]["failed"]);
    let mut text = format!("{succeeded}/{want} completions");
    if failed > 0 {
        text.push_str(&format!(", {failed} failed pods"));
    }
    Readiness::Pending(text)
}

/// The waiting or terminated reasons of a pod's containers (`ImagePullBackOff: Back-off pulling
/// image "web:fail"`), init containers first.
pub fn pod_container_reasons(pod: &Value) -> Vec<String> {
    let mut reasons = Vec::new();
    for key in ["initContainerStatuses", "containerStatuses"] {
        for cs in pod["status"][key].as_array().into_iter().flatten() {
            let name = cs["name"].as_str().unwrap_or("?");
            let state = &cs["state"];
            for (phase, detail) in [
                ("waiting", &state["waiting"]),
                ("terminated", &state["terminated"]),
            ] {
                let Some(reason) = detail["reason"].as_str() else {
                    continue;
                };
                if phase == "terminated" && reason == "Completed" {
                    continue;
                }
                let message = detail["message"].as_str().unwrap_or_default();
                let text = if message.is_empty() {
                    format!("container {name}: {reason}")
                } else {
                    format!("container {name}: {reason}: {message}")
                };
                reasons.push(text);
            }
        }
    }
    reasons
}

fn pod(obj: &Value) -> Readiness {
    let phase = obj["status"]["phase"].as_str().unwrap_or("Pending");
    match phase {
        "Succeeded" => return Readiness::Ready,
        "Failed" => {
            let mut why = pod_container_reasons(obj);
            if let Some(msg) = obj["status"]["message"].as_str() {
                why.insert(0, msg.to_string());
            }
            if why.is_empty() {
                why.push("pod failed".to_string());
            }
            return Readiness::Failed(why.join("; "));
        }
        _ => {}
    }
    if condition_true(obj, "Ready") {
        return Readiness::Ready;
    }
    let why = pod_container_reasons(obj);
    if why.is_empty() {
        match condition(obj, "PodScheduled").filter(|c| c["status"] == "False") {
            Some(c) => Readiness::Pending(condition_text(c)),
            None => Readiness::Pending(format!("pod is {phase}")),
        }
    } else {
        Readiness::Pending(why.join("; "))
    }
}

fn pvc(obj: &Value) -> Readiness {
    match obj["status"]["phase"].as_str() {
        Some("Bound") => Readiness::Ready,
        Some("Lost") => Readiness::Failed("claim lost its volume".to_string()),
        Some(other) => Readiness::Pending(format!("claim is {other}")),
        None => Readiness::Pending("claim is Pending".to_string()),
    }
}

fn service(obj: &Value) -> Readiness {
    if obj["spec"]["type"] != "LoadBalancer" {
        return Readiness::Ready;
    }
    let has_address = obj["status"]["loadBalancer"]["ingress"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    if has_address {
        Readiness::Ready
    } else {
        Readiness::Pending("waiting for a load balancer address".to_string())
    }
}

fn crd(obj: &Value) -> Readiness {
    if condition_true(obj, "Established") {
        return Readiness::Ready;
    }
    match condition(obj, "NamesAccepted").filter(|c| c["status"] == "False") {
        Some(c) => Readiness::Failed(condition_text(c)),
        None => Readiness::Pending("waiting for the definition to be established".to_string()),
    }
}

fn generic(obj: &Value) -> Readiness {
    match condition(obj, "Ready") {
        Some(c) if c["status"] != "True" => Readiness::Pending(condition_text(c)),
        _ => Readiness::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(generation: i64, observed: i64, updated: i64, available: i64) -> Value {
        json!({
            "kind": "Deployment",
            "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": observed, "replicas": 2,
                       "updatedReplicas": updated, "availableReplicas": available}
        })
    }

    #[test]
    fn deployment_is_ready_when_all_replicas_updated_and_available() {
        assert_eq!(readiness(&deploy(2, 2, 2, 2)), Readiness::Ready);
    }

    #[test]
    fn deployment_with_stale_status_is_not_ready() {
        // The previous rollout's complete status must not count for the new generation.
        assert!(!readiness(&deploy(3, 2, 2, 2)).is_ready());
    }

    #[test]
    fn deployment_counts_updated_and_available_replicas() {
        let Readiness::Pending(text) = readiness(&deploy(2, 2, 1, 1)) else {
            panic!("expected pending")
        };
        assert!(text.contains("1/2 replicas updated"), "{text}");
    }

    #[test]
    fn deployment_past_its_deadline_failed_with_the_condition_message() {
        let mut d = deploy(2, 2, 1, 1);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-1\" has timed out progressing."}]);
        assert_eq!(
            readiness(&d),
            Readiness::Failed(
                "ProgressDeadlineExceeded: ReplicaSet \"web-1\" has timed out progressing.".into()
            )
        );
    }

    #[test]
    fn deployment_without_observed_generation_waits() {
        let d = json!({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {}});
        assert!(!readiness(&d).is_ready());
    }

    #[test]
    fn statefulset_needs_ready_replicas_and_current_revision() {
        let mut s = json!({"kind": "StatefulSet", "metadata": {"generation": 1},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2,
                       "currentRevision": "a", "updateRevision": "b"}});
        assert!(!readiness(&s).is_ready());
        s["status"]["currentRevision"] = json!("b");
        assert!(readiness(&s).is_ready());
    }

    #[test]
    fn statefulset_partition_limits_the_replicas_to_update() {
        let s = json!({"kind": "StatefulSet", "metadata": {"generation": 1},
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"partition": 2}}},
            "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1,
                       "currentRevision": "a", "updateRevision": "b"}});
        assert!(readiness(&s).is_ready());
    }

    #[test]
    fn daemonset_needs_every_scheduled_pod_updated_and_available() {
        let mut d = json!({"kind": "DaemonSet", "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3,
                       "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert!(!readiness(&d).is_ready());
        d["status"]["numberAvailable"] = json!(3);
        assert!(readiness(&d).is_ready());
    }

    #[test]
    fn job_complete_failed_and_running() {
        let running = json!({"kind": "Job", "status": {"active": 1}});
        assert_eq!(
            readiness(&running),
            Readiness::Pending("0/1 completions".into())
        );
        let done = json!({"kind": "Job", "status": {"conditions": [
            {"type": "Complete", "status": "True"}]}});
        assert!(readiness(&done).is_ready());
        let failed = json!({"kind": "Job", "status": {"conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit"}]}});
        assert_eq!(
            readiness(&failed),
            Readiness::Failed(
                "BackoffLimitExceeded: Job has reached the specified backoff limit".into()
            )
        );
    }

    #[test]
    fn pod_reports_image_pull_back_off() {
        let p = json!({"kind": "Pod", "status": {"phase": "Pending",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "app", "state": {"waiting": {
                "reason": "ImagePullBackOff",
                "message": "Back-off pulling image \"web:fail\""}}}]}});
        assert_eq!(
            readiness(&p),
            Readiness::Pending(
                "container app: ImagePullBackOff: Back-off pulling image \"web:fail\"".into()
            )
        );
    }

    #[test]
    fn pod_ready_succeeded_and_failed() {
        let ready = json!({"kind": "Pod", "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(readiness(&ready).is_ready());
        let done = json!({"kind": "Pod", "status": {"phase": "Succeeded"}});
        assert!(readiness(&done).is_ready());
        let failed = json!({"kind": "Pod", "status": {"phase": "Failed",
            "containerStatuses": [{"name": "t", "state": {"terminated": {
                "reason": "Error", "exitCode": 1}}}]}});
        assert_eq!(
            readiness(&failed),
            Readiness::Failed("container t: Error".into())
        );
    }

    #[test]
    fn pvc_must_be_bound() {
        let p = json!({"kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}});
        assert!(!readiness(&p).is_ready());
        let b = json!({"kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}});
        assert!(readiness(&b).is_ready());
    }

    #[test]
    fn only_load_balancer_services_wait_for_an_address() {
        let cluster_ip = json!({"kind": "Service", "spec": {"type": "ClusterIP"}});
        assert!(readiness(&cluster_ip).is_ready());
        let mut lb = json!({"kind": "Service", "spec": {"type": "LoadBalancer"}, "status": {}});
        assert!(!readiness(&lb).is_ready());
        lb["status"]["loadBalancer"]["ingress"] = json!([{"ip": "10.0.0.1"}]);
        assert!(readiness(&lb).is_ready());
    }

    #[test]
    fn crd_waits_for_established() {
        let c = json!({"kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "NamesAccepted", "status": "True"}]}});
        assert!(!readiness(&c).is_ready());
        let e = json!({"kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "Established", "status": "True"}]}});
        assert!(readiness(&e).is_ready());
    }

    #[test]
    fn kinds_without_rules_are_ready_unless_a_ready_condition_says_otherwise() {
        assert!(readiness(&json!({"kind": "ConfigMap"})).is_ready());
        let cr = json!({"kind": "Widget", "status": {"conditions": [
            {"type": "Ready", "status": "False", "message": "reconciling"}]}});
        assert_eq!(readiness(&cr), Readiness::Pending("reconciling".into()));
    }
}
