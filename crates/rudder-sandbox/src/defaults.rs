//! Defaulting, as a real API server fills in fields on create and update (pure; no I/O).
//!
//! The rules follow Kubernetes 1.32's `SetDefaults_*` functions (pkg/apis/{core,apps,batch}/v1
//! defaults.go), the registry strategies that fill fields on create (Namespace finalizers, Job
//! selectors), the admission defaults every cluster runs (a Pod's service account, priority and
//! not-ready tolerations), and Go's serialisation of non-pointer structs (`status: {}`,
//! `resources: {}`, a pod template's `creationTimestamp: null`). Defaulting only adds what is
//! missing, so applying it twice changes nothing.

use serde_json::{json, Map, Value};

use super::Gvk;

/// Fills in the fields the API server defaults for this kind.
pub fn apply_defaults(gvk: &Gvk, object: &mut Value) {
    if !object.is_object() {
        return;
    }
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Pod") => default_pod(object),
        ("", "Service") => default_service(object),
        ("", "Secret") => {
            set_default(object, "type", json!("Opaque"));
        }
        ("", "Namespace") => default_namespace(object),
        ("", "PersistentVolumeClaim") => {
            default_pvc_spec(child(object, "spec"));
            set_default(child(object, "status"), "phase", json!("Pending"));
        }
        ("", "PersistentVolume") => {
            let spec = child(object, "spec");
            set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            set_default(spec, "volumeMode", json!("Filesystem"));
            set_default(child(object, "status"), "phase", json!("Pending"));
        }
        ("", "Endpoints") => {
            for subset in items(object.get_mut("subsets")) {
                for port in items(subset.get_mut("ports")) {
                    set_default(port, "protocol", json!("TCP"));
                }
            }
        }
        ("", "LimitRange") => default_limit_range(object),
        ("", "ResourceQuota") => {
            canonicalise_resource_list(child(object, "spec").get_mut("hard"));
            child(object, "status");
        }
        ("apps", "Deployment") => default_deployment(object),
        ("apps", "StatefulSet") => default_stateful_set(object),
        ("apps", "DaemonSet") => default_daemon_set(object),
        ("apps", "ReplicaSet") => {
            let spec = child(object, "spec");
            set_default(spec, "replicas", json!(1));
            default_pod_template(spec.get_mut("template"));
            // `replicas` has no omitempty in ReplicaSetStatus.
            set_default(child(object, "status"), "replicas", json!(0));
        }
        ("batch", "Job") => default_job(object),
        ("batch", "CronJob") => default_cron_job(object),
        ("networking.k8s.io", "Ingress") => {
            child(child(object, "status"), "loadBalancer");
        }
        ("networking.k8s.io", "NetworkPolicy") => default_network_policy(object),
        ("policy", "PodDisruptionBudget") => {
            let status = child(object, "status");
            for field in [
                "currentHealthy",
                "desiredHealthy",
                "disruptionsAllowed",
                "expectedPods",
            ] {
                set_default(status, field, json!(0));
            }
        }
        ("autoscaling", "HorizontalPodAutoscaler") => default_hpa(object),
        ("storage.k8s.io", "StorageClass") => {
            set_default(object, "reclaimPolicy", json!("Delete"));
            set_default(object, "volumeBindingMode", json!("Immediate"));
        }
        _ => {}
    }
}

/// The object at `key`, created as `{}` when missing or not an object.
fn child<'a>(object: &'a mut Value, key: &str) -> &'a mut Value {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let map = object
        .as_object_mut()
        .expect("replaced by an object just above");
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry
}

/// Sets `key` when it is missing or null (Go's zero value for pointers and empty strings).
fn set_default(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        let missing = match map.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if missing {
            map.insert(key.to_string(), value);
        }
    }
}

/// The items of a list field (nothing when it is absent or not a list).
fn items(list: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    list.and_then(Value::as_array_mut)
        .map(|v| v.iter_mut())
        .into_iter()
        .flatten()
        .filter(|v| v.is_object())
}

fn default_pod(pod: &mut Value) {
    let spec = child(pod, "spec");
    default_pod_spec(spec);
    // SetDefaults_Pod (Pods only, not templates): requests default to limits.
    for list in ["containers", "initContainers"] {
        for container in items(spec.get_mut(list)) {
            let resources = child(container, "resources");
            if let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() {
                let requests = child(resources, "requests");
                for (name, value) in limits {
                    set_default(requests, &name, value);
                }
            }
        }
    }
    set_default(spec, "enableServiceLinks", json!(true));
    // Admission plugins every cluster runs: ServiceAccount, Priority, DefaultTolerationSeconds.
    set_default(spec, "serviceAccountName", json!("default"));
    let account = spec["serviceAccountName"].clone();
    set_default(spec, "serviceAccount", account);
    set_default(spec, "priority", json!(0));
    set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    let tolerations = spec
        .as_object_mut()
        .map(|m| m.entry("tolerations").or_insert_with(|| json!([])));
    if let Some(Value::Array(tolerations)) = tolerations {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let tolerated = tolerations.iter().any(|t| {
                t.get("key").and_then(Value::as_str) == Some(key)
                    && t.get("effect")
                        .and_then(Value::as_str)
                        .is_none_or(|e| e == "NoExecute")
            });
            if !tolerated {
                tolerations.push(json!({"key": key, "operator": "Exists",
                    "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
    let status = child(pod, "status");
    set_default(status, "phase", json!("Pending"));
}

/// A pod template: its spec gets the PodSpec defaults, its metadata the `creationTimestamp: null`
/// that Go serialises for a zero time in 1.32.
fn default_pod_template(template: Option<&mut Value>) {
    let Some(template) = template else {
        return;
    };
    if !template.is_object() {
        return;
    }
    let metadata = child(template, "metadata");
    if let Some(map) = metadata.as_object_mut() {
        map.entry("creationTimestamp").or_insert(Value::Null);
    }
    default_pod_spec(child(template, "spec"));
}

fn default_pod_spec(spec: &mut Value) {
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    child(spec, "securityContext");
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in items(spec.get_mut(list)) {
            default_container(container);
        }
    }
    for volume in items(spec.get_mut("volumes")) {
        default_volume(volume);
    }
}

/// `Always` when the tag is `latest` or there is neither tag nor digest, else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = match last.split_once(':') {
        Some((_, tag)) => tag,
        None if digest.is_some() => "",
        None => "latest",
    };
    if tag == "latest" {
        "Always"
    } else {
        "IfNotPresent"
    }
}

fn default_container(container: &mut Value) {
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    set_default(
        container,
        "imagePullPolicy",
        json!(default_pull_policy(&image)),
    );
    set_default(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    set_default(container, "terminationMessagePolicy", json!("File"));
    let resources = child(container, "resources");
    canonicalise_resource_list(resources.get_mut("limits"));
    canonicalise_resource_list(resources.get_mut("requests"));
    for port in items(container.get_mut("ports")) {
        set_default(port, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).filter(|p| p.is_object()) {
            set_default(probe, "timeoutSeconds", json!(1));
            set_default(probe, "periodSeconds", json!(10));
            set_default(probe, "successThreshold", json!(1));
            set_default(probe, "failureThreshold", json!(3));
            default_http_get(probe.get_mut("httpGet"));
        }
    }
    if let Some(lifecycle) = container.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(hook) = lifecycle.get_mut(hook) {
                default_http_get(hook.get_mut("httpGet"));
            }
        }
    }
    for env in items(container.get_mut("env")) {
        if let Some(field_ref) = env.get_mut("valueFrom").and_then(|v| v.get_mut("fieldRef")) {
            set_default(field_ref, "apiVersion", json!("v1"));
        }
    }
}

fn default_http_get(action: Option<&mut Value>) {
    if let Some(action) = action.filter(|a| a.is_object()) {
        set_default(action, "path", json!("/"));
        set_default(action, "scheme", json!("HTTP"));
    }
}

const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

fn default_volume(volume: &mut Value) {
    let has_source = VOLUME_SOURCES
        .iter()
        .any(|s| volume.get(*s).is_some_and(|v| !v.is_null()));
    if !has_source {
        child(volume, "emptyDir");
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = volume.get_mut(source).filter(|s| s.is_object()) {
            set_default(src, "defaultMode", json!(420));
        }
    }
    if let Some(empty_dir) = volume.get_mut("emptyDir") {
        canonicalise_resource_list(Some(empty_dir));
    }
    if let Some(host_path) = volume.get_mut("hostPath").filter(|s| s.is_object()) {
        set_default_keep_empty(host_path, "type", json!(""));
    }
    if let Some(items_list) = volume
        .get_mut("downwardAPI")
        .and_then(|d| d.get_mut("items"))
    {
        for item in items(Some(items_list)) {
            if let Some(field_ref) = item.get_mut("fieldRef") {
                set_default(field_ref, "apiVersion", json!("v1"));
            }
        }
    }
    if let Some(sources) = volume
        .get_mut("projected")
        .and_then(|p| p.get_mut("sources"))
    {
        for source in items(Some(sources)) {
            if let Some(token) = source.get_mut("serviceAccountToken") {
                set_default(token, "expirationSeconds", json!(3600));
            }
        }
    }
}

/// Like [`set_default`] but an explicit empty string counts as set (hostPath's `type: ""`).
fn set_default_keep_empty(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        if map.get(key).is_none_or(Value::is_null) {
            map.insert(key.to_string(), value);
        }
    }
}

fn default_service(service: &mut Value) {
    let spec = child(service, "spec");
    set_default(spec, "sessionAffinity", json!("None"));
    if spec["sessionAffinity"] == "None" {
        if let Some(map) = spec.as_object_mut() {
            map.remove("sessionAffinityConfig");
        }
    } else if spec["sessionAffinity"] == "ClientIP" {
        let timeout = spec
            .pointer("/sessionAffinityConfig/clientIP/timeoutSeconds")
            .cloned();
        if timeout.is_none_or(|t| t.is_null()) {
            spec["sessionAffinityConfig"] = json!({"clientIP": {"timeoutSeconds": 10800}});
        }
    }
    set_default(spec, "type", json!("ClusterIP"));
    for port in items(spec.get_mut("ports")) {
        set_default(port, "protocol", json!("TCP"));
        let target = port.get("targetPort");
        let unset = matches!(target, None | Some(Value::Null))
            || target == Some(&json!(0))
            || target == Some(&json!(""));
        if unset {
            let number = port.get("port").cloned().unwrap_or(Value::Null);
            if let Some(map) = port.as_object_mut() {
                map.insert("targetPort".into(), number);
            }
        }
    }
    let kind = spec["type"].as_str().unwrap_or("").to_string();
    let external = matches!(kind.as_str(), "NodePort" | "LoadBalancer")
        || spec
            .get("externalIPs")
            .and_then(Value::as_array)
            .is_some_and(|ips| !ips.is_empty());
    if external {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if kind != "ExternalName" {
        // The registry's IP allocator sets these with the cluster IP; a single-stack IPv4
        // cluster answers like this.
        set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_default(spec, "ipFamilies", json!(["IPv4"]));
    }
    child(child(service, "status"), "loadBalancer");
}

/// The `n`th address (0-based) of the service range 10.96.0.0/12, skipping the network address
/// and `10.96.0.1` (the `kubernetes` Service's address). For the store's cluster IP allocator.
pub fn service_cluster_ip(n: u32) -> String {
    let base: u32 = (10 << 24) | (96 << 16);
    let offset = (n % ((1 << 20) - 3)) + 2;
    let ip = base + offset;
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 0xff,
        (ip >> 8) & 0xff,
        ip & 0xff
    )
}

fn default_namespace(namespace: &mut Value) {
    let name = namespace
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty() {
        let labels = child(child(namespace, "metadata"), "labels");
        labels["kubernetes.io/metadata.name"] = Value::String(name);
    }
    let spec = child(namespace, "spec");
    if spec.get("finalizers").is_none_or(Value::is_null) {
        spec["finalizers"] = json!(["kubernetes"]);
    }
    set_default(child(namespace, "status"), "phase", json!("Active"));
}

fn default_pvc_spec(spec: &mut Value) {
    set_default(spec, "volumeMode", json!("Filesystem"));
    let resources = child(spec, "resources");
    canonicalise_resource_list(resources.get_mut("limits"));
    canonicalise_resource_list(resources.get_mut("requests"));
}

fn default_limit_range(object: &mut Value) {
    let Some(limits) = object.pointer_mut("/spec/limits") else {
        return;
    };
    for item in items(Some(limits)) {
        for key in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            canonicalise_resource_list(item.get_mut(key));
        }
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let max = item.get("max").cloned();
        let min = item.get("min").cloned();
        let default = child(item, "default");
        for (k, v) in max
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            set_default(default, k, v.clone());
        }
        let default = default.clone();
        let request = child(item, "defaultRequest");
        for source in [Some(&default), min.as_ref()] {
            for (k, v) in source.and_then(Value::as_object).into_iter().flatten() {
                set_default(request, k, v.clone());
            }
        }
    }
}

fn default_deployment(object: &mut Value) {
    let spec = child(object, "spec");
    set_default(spec, "replicas", json!(1));
    let strategy = child(spec, "strategy");
    set_default(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        let rolling = child(strategy, "rollingUpdate");
        set_default(rolling, "maxUnavailable", json!("25%"));
        set_default(rolling, "maxSurge", json!("25%"));
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    default_pod_template(spec.get_mut("template"));
    child(object, "status");
}

fn default_stateful_set(object: &mut Value) {
    let spec = child(object, "spec");
    set_default(spec, "podManagementPolicy", json!("OrderedReady"));
    let strategy = child(spec, "updateStrategy");
    if strategy.get("type").is_none_or(|t| t.is_null() || t == "") {
        strategy["type"] = json!("RollingUpdate");
        child(strategy, "rollingUpdate");
    }
    if strategy["type"] == "RollingUpdate" {
        if let Some(rolling) = strategy.get_mut("rollingUpdate").filter(|r| r.is_object()) {
            set_default(rolling, "partition", json!(0));
        }
    }
    // StatefulSetAutoDeletePVC is on by default since 1.27.
    let retention = child(spec, "persistentVolumeClaimRetentionPolicy");
    set_default(retention, "whenDeleted", json!("Retain"));
    set_default(retention, "whenScaled", json!("Retain"));
    set_default(spec, "replicas", json!(1));
    set_default(spec, "revisionHistoryLimit", json!(10));
    default_pod_template(spec.get_mut("template"));
    for claim in items(spec.get_mut("volumeClaimTemplates")) {
        default_pvc_spec(child(claim, "spec"));
        set_default(child(claim, "status"), "phase", json!("Pending"));
        if let Some(map) = claim.as_object_mut() {
            map.entry("apiVersion").or_insert(json!("v1"));
            map.entry("kind").or_insert(json!("PersistentVolumeClaim"));
        }
        if let Some(meta) = claim.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.entry("creationTimestamp").or_insert(Value::Null);
        }
    }
    // `replicas` and `availableReplicas` have no omitempty in StatefulSetStatus.
    let status = child(object, "status");
    set_default(status, "replicas", json!(0));
    set_default(status, "availableReplicas", json!(0));
}

fn default_daemon_set(object: &mut Value) {
    let spec = child(object, "spec");
    let strategy = child(spec, "updateStrategy");
    set_default(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        let rolling = child(strategy, "rollingUpdate");
        set_default(rolling, "maxUnavailable", json!(1));
        set_default(rolling, "maxSurge", json!(0));
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    default_pod_template(spec.get_mut("template"));
    // Status counters are plain int32s without omitempty.
    let status = child(object, "status");
    for field in [
        "currentNumberScheduled",
        "desiredNumberScheduled",
        "numberMisscheduled",
        "numberReady",
    ] {
        set_default(status, field, json!(0));
    }
}

fn default_job_spec(spec: &mut Value) {
    let completions_unset = spec.get("completions").is_none_or(Value::is_null);
    let parallelism_unset = spec.get("parallelism").is_none_or(Value::is_null);
    if completions_unset && parallelism_unset {
        spec["completions"] = json!(1);
    }
    set_default(spec, "parallelism", json!(1));
    let per_index = spec
        .get("backoffLimitPerIndex")
        .is_some_and(|v| !v.is_null());
    set_default(
        spec,
        "backoffLimit",
        json!(if per_index { i32::MAX as i64 } else { 6 }),
    );
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    // JobPodReplacementPolicy is beta and on by default since 1.29.
    let failure_policy = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
    set_default(
        spec,
        "podReplacementPolicy",
        json!(if failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }),
    );
    default_pod_template(spec.get_mut("template"));
}

fn default_job(object: &mut Value) {
    default_job_spec(child(object, "spec"));
    // The generated selector labels land in the template first, so a Job created without labels
    // carries them too (and later defaulting passes find nothing to copy).
    generate_job_selector(object);
    let template_labels = object
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels {
        let metadata = child(object, "metadata");
        let empty = metadata
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty);
        if empty {
            metadata["labels"] = labels;
        }
    }
    child(object, "status");
}

/// The Job registry's create step: unless `manualSelector` is set, the selector matches the
/// Job's uid and the template carries the uid and name labels. Needs `metadata.uid`.
fn generate_job_selector(job: &mut Value) {
    let uid = job.pointer("/metadata/uid").and_then(Value::as_str);
    let name = job.pointer("/metadata/name").and_then(Value::as_str);
    let (Some(uid), Some(name)) = (uid.map(str::to_string), name.map(str::to_string)) else {
        return;
    };
    let spec = child(job, "spec");
    if spec.get("manualSelector") == Some(&json!(true))
        || spec.get("selector").is_some_and(|s| !s.is_null())
    {
        return;
    }
    spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let labels = child(child(child(spec, "template"), "metadata"), "labels");
    for (key, value) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        set_default(labels, key, Value::String(value.clone()));
    }
}

fn default_cron_job(object: &mut Value) {
    let spec = child(object, "spec");
    set_default(spec, "concurrencyPolicy", json!("Allow"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    let job_template = child(spec, "jobTemplate");
    if let Some(meta) = child(job_template, "metadata").as_object_mut() {
        meta.entry("creationTimestamp").or_insert(Value::Null);
    }
    default_job_spec(child(job_template, "spec"));
    child(object, "status");
}

fn default_network_policy(object: &mut Value) {
    let spec = child(object, "spec");
    for direction in ["ingress", "egress"] {
        for rule in items(spec.get_mut(direction)) {
            for port in items(rule.get_mut("ports")) {
                set_default(port, "protocol", json!("TCP"));
            }
        }
    }
    // policyTypes: Ingress always, Egress when egress rules exist (registry defaulting).
    let has_egress = spec
        .get("egress")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty());
    if spec.get("policyTypes").is_none_or(Value::is_null) {
        spec["policyTypes"] = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
    }
}

fn default_hpa(object: &mut Value) {
    let spec = child(object, "spec");
    set_default(spec, "minReplicas", json!(1));
    if spec.get("metrics").is_none_or(Value::is_null) {
        spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}}]);
    }
    if let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) {
        let up = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        let down = json!({"selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        for (key, rules) in [("scaleUp", up), ("scaleDown", down)] {
            let target = child(behavior, key);
            if let Value::Object(defaults) = rules {
                for (field, value) in defaults {
                    set_default(target, &field, value);
                }
            }
        }
    }
    set_default(child(object, "status"), "desiredReplicas", json!(0));
}

/// The canonical form the API server stores a resource quantity in (`1000m` → `1`,
/// `1024Mi` → `1Gi`, `0.5` → `500m`), after rounding up to milli-units as `SetDefaults_ResourceList`
/// does; `None` when `text` is not a quantity (validation reports it).
pub fn canonical_quantity(text: &str) -> Option<String> {
    let parsed = parse_quantity(text.trim())?;
    Some(format_quantity(parsed))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum QuantityFormat {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// value = mantissa × 10^scale.
struct Quantity {
    mantissa: i128,
    scale: i32,
    format: QuantityFormat,
}

fn parse_quantity(text: &str) -> Option<Quantity> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = digits.parse().ok()?;
    let mut scale = -(frac_part.len() as i32);
    let binary = |power: u32| 1024i128.checked_pow(power);
    let format = match suffix {
        "" => QuantityFormat::DecimalSi,
        "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => {
            scale += match suffix {
                "n" => -9,
                "u" => -6,
                "m" => -3,
                "k" => 3,
                "M" => 6,
                "G" => 9,
                "T" => 12,
                "P" => 15,
                _ => 18,
            };
            QuantityFormat::DecimalSi
        }
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = match suffix {
                "Ki" => 1,
                "Mi" => 2,
                "Gi" => 3,
                "Ti" => 4,
                "Pi" => 5,
                _ => 6,
            };
            mantissa = mantissa.checked_mul(binary(power)?)?;
            QuantityFormat::BinarySi
        }
        exp if exp.starts_with(['e', 'E']) => {
            scale += exp[1..].parse::<i32>().ok()?;
            QuantityFormat::DecimalExponent
        }
        _ => return None,
    };
    if negative {
        mantissa = -mantissa;
    }
    // Round up (away from zero) to milli-units.
    if scale < -3 {
        let divisor = 10i128.checked_pow((-3 - scale) as u32)?;
        let rounded = mantissa / divisor
            + if mantissa % divisor != 0 {
                mantissa.signum()
            } else {
                0
            };
        mantissa = rounded;
        scale = -3;
    }
    Some(Quantity {
        mantissa,
        scale,
        format,
    })
}

fn format_quantity(q: Quantity) -> String {
    if q.mantissa == 0 {
        return "0".into();
    }
    let mut format = q.format;
    if format == QuantityFormat::BinarySi {
        let integer = if q.scale >= 0 {
            10i128
                .checked_pow(q.scale as u32)
                .and_then(|f| q.mantissa.checked_mul(f))
        } else {
            let divisor = 10i128.pow((-q.scale) as u32);
            (q.mantissa % divisor == 0).then(|| q.mantissa / divisor)
        };
        match integer {
            Some(bytes) if bytes.abs() >= 1024 => {
                let (mut amount, mut power) = (bytes, 0);
                while amount % 1024 == 0 && power < 6 {
                    amount /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
                return format!("{amount}{suffix}");
            }
            _ => format = QuantityFormat::DecimalSi,
        }
    }
    let (mut amount, mut exponent) = (q.mantissa, q.scale);
    while amount % 10 == 0 {
        amount /= 10;
        exponent += 1;
    }
    let rem = exponent.rem_euclid(3);
    amount *= 10i128.pow(rem as u32);
    exponent -= rem;
    let suffix = match (format, exponent) {
        (_, 0) => String::new(),
        (QuantityFormat::DecimalSi, -9) => "n".into(),
        (QuantityFormat::DecimalSi, -6) => "u".into(),
        (QuantityFormat::DecimalSi, -3) => "m".into(),
        (QuantityFormat::DecimalSi, 3) => "k".into(),
        (QuantityFormat::DecimalSi, 6) => "M".into(),
        (QuantityFormat::DecimalSi, 9) => "G".into(),
        (QuantityFormat::DecimalSi, 12) => "T".into(),
        (QuantityFormat::DecimalSi, 15) => "P".into(),
        (QuantityFormat::DecimalSi, 18) => "E".into(),
        (_, e) => format!("e{e}"),
    };
    format!("{amount}{suffix}")
}

/// Canonicalises every quantity in a resource map (`limits`, `requests`, `hard`, ...); numbers
/// become strings, as the server serialises them.
fn canonicalise_resource_list(list: Option<&mut Value>) {
    let Some(Value::Object(map)) = list else {
        return;
    };
    for value in map.values_mut() {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Some(canonical) = canonical_quantity(&text) {
            *value = Value::String(canonical);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gvk(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    fn defaulted(gvk: &Gvk, mut object: Value) -> Value {
        apply_defaults(gvk, &mut object);
        let mut again = object.clone();
        apply_defaults(gvk, &mut again);
        assert_eq!(again, object, "defaulting is idempotent");
        object
    }

    #[test]
    fn quantities_are_canonicalised_like_the_server() {
        // Examples from the Quantity documentation and apimachinery's canonical forms.
        for (input, canonical) in [
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("1", "1"),
            ("100m", "100m"),
            ("2000", "2k"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("128Mi", "128Mi"),
            ("0.5Ki", "512"),
            ("1e3", "1e3"),
            ("0.0001", "1m"),
            ("0", "0"),
            ("1G", "1G"),
            ("10", "10"),
        ] {
            assert_eq!(
                canonical_quantity(input).as_deref(),
                Some(canonical),
                "{input}"
            );
        }
        assert_eq!(canonical_quantity("lots"), None);
        assert_eq!(canonical_quantity("1Qi"), None);
        let out = defaulted(
            &gvk("apps", "v1", "Deployment"),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:1",
                "resources": {"limits": {"cpu": 1, "memory": "1024Mi"}, "requests": {"cpu": 0.5}}}]}}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}})
        );
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/app"), "Always");
        assert_eq!(default_pull_policy("localhost:5000/app:v1"), "IfNotPresent");
        assert_eq!(default_pull_policy("nginx@sha256:abcd"), "IfNotPresent");
    }

    #[test]
    fn deployment_gets_the_documented_defaults() {
        let out = defaulted(
            &gvk("apps", "v1", "Deployment"),
            json!({"metadata": {"name": "web"}, "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                     "readinessProbe": {"httpGet": {"port": 80}}}],
                    "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]}}}}),
        );
        let spec = &out["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["securityContext"], json!({}));
        assert!(pod.get("enableServiceLinks").is_none(), "Pods only");
        let container = &pod["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(container["terminationMessagePolicy"], "File");
        assert_eq!(container["resources"], json!({}));
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        assert_eq!(
            container["readinessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(pod["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(pod["volumes"][1]["configMap"]["defaultMode"], 420);
        assert_eq!(
            spec["template"]["metadata"]["creationTimestamp"],
            Value::Null
        );
        assert_eq!(out["status"], json!({}));
    }

    #[test]
    fn explicit_values_are_kept() {
        let out = defaulted(
            &gvk("apps", "v1", "Deployment"),
            json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"},
                "template": {"spec": {"containers": [{"name": "a", "image": "a", "imagePullPolicy": "Never"}]}}}}),
        );
        assert_eq!(out["spec"]["replicas"], 0);
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Never"
        );
    }

    #[test]
    fn stateful_set_and_daemon_set_defaults() {
        let sts = defaulted(&gvk("apps", "v1", "StatefulSet"), json!({"spec": {}}));
        assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            sts["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            sts["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(sts["spec"]["replicas"], 1);
        let ondelete = defaulted(
            &gvk("apps", "v1", "StatefulSet"),
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            ondelete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
        let ds = defaulted(&gvk("apps", "v1", "DaemonSet"), json!({"spec": {}}));
        assert_eq!(
            ds["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
        );
        assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
    }

    #[test]
    fn service_defaults() {
        let out = defaulted(
            &gvk("", "v1", "Service"),
            json!({"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}),
        );
        let spec = &out["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert!(spec.get("externalTrafficPolicy").is_none());
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(spec["ports"][1]["targetPort"], "https");
        assert_eq!(out["status"], json!({"loadBalancer": {}}));
        let lb = defaulted(
            &gvk("", "v1", "Service"),
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}),
        );
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(service_cluster_ip(0), "10.96.0.2");
        assert_eq!(service_cluster_ip(254), "10.96.1.0");
    }

    #[test]
    fn job_and_cron_job_defaults() {
        let job = defaulted(
            &gvk("batch", "v1", "Job"),
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": {
                "metadata": {"labels": {"app": "pi"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}}),
        );
        let spec = &job["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(job["metadata"]["labels"]["app"], "pi");
        assert_eq!(job["metadata"]["labels"]["job-name"], "pi");
        assert_eq!(
            spec["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
        );
        assert_eq!(spec["template"]["metadata"]["labels"]["job-name"], "pi");
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        let cron = defaulted(
            &gvk("batch", "v1", "CronJob"),
            json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"parallelism": 2,
                "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        );
        let spec = &cron["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Allow");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["successfulJobsHistoryLimit"], 3);
        assert_eq!(spec["failedJobsHistoryLimit"], 1);
        assert!(spec["jobTemplate"]["spec"].get("completions").is_none());
        assert_eq!(spec["jobTemplate"]["spec"]["backoffLimit"], 6);
        assert_eq!(
            spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Always"
        );
    }

    #[test]
    fn small_kinds() {
        let secret = defaulted(&gvk("", "v1", "Secret"), json!({"data": {}}));
        assert_eq!(secret["type"], "Opaque");
        let ns = defaulted(
            &gvk("", "v1", "Namespace"),
            json!({"metadata": {"name": "team"}}),
        );
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team"
        );
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        let pvc = defaulted(&gvk("", "v1", "PersistentVolumeClaim"), json!({"spec": {}}));
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["status"]["phase"], "Pending");
        let cm = defaulted(&gvk("", "v1", "ConfigMap"), json!({"data": {"a": "1"}}));
        assert_eq!(cm, json!({"data": {"a": "1"}}));
        let pod = defaulted(
            &gvk("", "v1", "Pod"),
            json!({"spec": {"containers": [{"name": "a", "image": "a:1",
                "resources": {"limits": {"cpu": "1"}}}]}}),
        );
        assert_eq!(pod["spec"]["enableServiceLinks"], true);
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"],
            json!({"cpu": "1"})
        );
        assert_eq!(pod["spec"]["tolerations"].as_array().map(Vec::len), Some(2));
    }
}
