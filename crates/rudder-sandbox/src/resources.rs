//! The catalog of served resource types: the built-in kinds and those added by CRDs.
//!
//! Discovery, routing and the store all read this one table, so a kind is either served
//! everywhere or nowhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::Gvk;

/// Every verb of a fully served resource, in the order a real server lists them.
const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// When `metadata.generation` is bumped for a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationRule {
    /// The kind carries no generation (ConfigMap, Secret, Service, ...).
    None,
    /// Bumped when anything outside `metadata` and `status` changes (workloads, CRs).
    Spec,
}

/// One served resource type (a REST collection such as `apps/v1 deployments`).
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub gvk: Gvk,
    /// Plural, lower-case REST name: `deployments`.
    pub plural: String,
    /// Singular lower-case name: `deployment`.
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    /// Served subresources, e.g. `status`, `scale`.
    pub subresources: Vec<String>,
    pub generation: GenerationRule,
    /// Built into the server (strategic-merge patch works); false for CRD-defined kinds.
    pub builtin: bool,
}

impl ResourceType {
    /// `group/version` (or `v1` for core).
    pub fn api_version(&self) -> String {
        self.gvk.api_version()
    }

    /// `deployments.apps` / `configmaps`: how errors name the resource.
    pub fn qualified_plural(&self) -> String {
        if self.gvk.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.gvk.group)
        }
    }

    /// Whether `sub` is a served subresource.
    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// The store key prefix of this type: (group, plural).
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.gvk.group.clone(),
            plural: self.plural.clone(),
        }
    }
}

/// Identifies a collection independent of version: objects are stored once per group/plural.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub group: String,
    pub plural: String,
}

/// Every served resource type, looked up by path or by kind.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    types: Vec<Arc<ResourceType>>,
}

impl Catalog {
    /// The built-in kinds of a Kubernetes 1.32 server that charts use.
    pub fn builtin() -> Self {
        let mut c = Catalog::default();
        let ns = true;
        let cl = false;
        use GenerationRule::{None as NoGen, Spec};
        // (group, version, kind, plural, namespaced, short names, categories, subresources, generation)
        type Row = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            bool,
            &'static [&'static str],
            &'static [&'static str],
            &'static [&'static str],
            GenerationRule,
        );
        #[rustfmt::skip]
        let rows: &[Row] = &[
            ("", "v1", "Namespace", "namespaces", cl, &["ns"], &[], &["status", "finalize"], NoGen),
            ("", "v1", "ConfigMap", "configmaps", ns, &["cm"], &[], &[], NoGen),
            ("", "v1", "Secret", "secrets", ns, &[], &[], &[], NoGen),
            ("", "v1", "Service", "services", ns, &["svc"], &["all"], &["status"], NoGen),
            ("", "v1", "ServiceAccount", "serviceaccounts", ns, &["sa"], &[], &[], NoGen),
            ("", "v1", "Pod", "pods", ns, &["po"], &["all"], &["status"], NoGen),
            ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", ns, &["pvc"], &[], &["status"], NoGen),
            ("", "v1", "PersistentVolume", "persistentvolumes", cl, &["pv"], &[], &["status"], NoGen),
            ("", "v1", "Endpoints", "endpoints", ns, &["ep"], &[], &[], NoGen),
            ("", "v1", "Event", "events", ns, &["ev"], &[], &[], NoGen),
            ("", "v1", "LimitRange", "limitranges", ns, &["limits"], &[], &[], NoGen),
            ("", "v1", "ResourceQuota", "resourcequotas", ns, &["quota"], &[], &["status"], NoGen),
            ("apps", "v1", "Deployment", "deployments", ns, &["deploy"], &["all"], &["status", "scale"], Spec),
            ("apps", "v1", "StatefulSet", "statefulsets", ns, &["sts"], &["all"], &["status", "scale"], Spec),
            ("apps", "v1", "DaemonSet", "daemonsets", ns, &["ds"], &["all"], &["status"], Spec),
            ("apps", "v1", "ReplicaSet", "replicasets", ns, &["rs"], &["all"], &["status", "scale"], Spec),
            ("apps", "v1", "ControllerRevision", "controllerrevisions", ns, &[], &[], &[], NoGen),
            ("batch", "v1", "Job", "jobs", ns, &[], &["all"], &["status"], Spec),
            ("batch", "v1", "CronJob", "cronjobs", ns, &["cj"], &["all"], &["status"], Spec),
            ("networking.k8s.io", "v1", "Ingress", "ingresses", ns, &["ing"], &[], &["status"], Spec),
            ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", cl, &[], &[], &[], NoGen),
            ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", ns, &["netpol"], &[], &[], Spec),
            ("rbac.authorization.k8s.io", "v1", "Role", "roles", ns, &[], &[], &[], NoGen),
            ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", ns, &[], &[], &[], NoGen),
            ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", cl, &[], &[], &[], NoGen),
            ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", cl, &[], &[], &[], NoGen),
            ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", ns, &["pdb"], &[], &["status"], Spec),
            ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", ns, &["hpa"], &["all"], &["status"], Spec),
            ("storage.k8s.io", "v1", "StorageClass", "storageclasses", cl, &["sc"], &[], &[], NoGen),
            ("coordination.k8s.io", "v1", "Lease", "leases", ns, &[], &[], &[], NoGen),
            ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", cl, &["crd", "crds"], &["api-extensions"], &["status"], Spec),
        ];
        for (group, version, kind, plural, namespaced, short, cats, subs, generation) in rows {
            let verbs: Vec<String> = if *plural == "namespaces" {
                // A real server does not offer deletecollection on namespaces.
                ALL_VERBS
                    .iter()
                    .filter(|v| **v != "deletecollection")
                    .map(|v| v.to_string())
                    .collect()
            } else {
                ALL_VERBS.iter().map(|v| v.to_string()).collect()
            };
            c.types.push(Arc::new(ResourceType {
                gvk: Gvk {
                    group: group.to_string(),
                    version: version.to_string(),
                    kind: kind.to_string(),
                },
                plural: plural.to_string(),
                singular: kind.to_lowercase(),
                namespaced: *namespaced,
                short_names: short.iter().map(|s| s.to_string()).collect(),
                categories: cats.iter().map(|s| s.to_string()).collect(),
                verbs,
                subresources: subs.iter().map(|s| s.to_string()).collect(),
                generation: *generation,
                builtin: true,
            }));
        }
        c
    }

    /// All served types, in registration order.
    pub fn types(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    /// The type served at `group/version/plural`.
    pub fn by_path(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.gvk.group == group && t.gvk.version == version && t.plural == plural)
            .cloned()
    }

    /// The type of a kind.
    pub fn by_gvk(&self, gvk: &Gvk) -> Option<Arc<ResourceType>> {
        self.types.iter().find(|t| &t.gvk == gvk).cloned()
    }

    /// Any served version of a group/plural (for store keys).
    pub fn by_key(&self, key: &ResourceKey) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.gvk.group == key.group && t.plural == key.plural)
            .cloned()
    }

    /// Group → versions served, groups in registration order (core group is "").
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.gvk.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.gvk.version) {
                        versions.push(t.gvk.version.clone());
                    }
                }
                None => out.push((t.gvk.group.clone(), vec![t.gvk.version.clone()])),
            }
        }
        out
    }

    /// Types of one group/version.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.types
            .iter()
            .filter(|t| t.gvk.group == group && t.gvk.version == version)
            .cloned()
            .collect()
    }

    /// Replaces the types a CRD defines (keyed by the CRD's name) with `served`.
    pub fn set_custom(&mut self, crd_name: &str, served: Vec<ResourceType>) {
        self.remove_custom(crd_name);
        for t in served {
            self.types.push(Arc::new(t));
        }
    }

    /// Stops serving the kinds of the CRD `crd_name` (`plural.group`).
    pub fn remove_custom(&mut self, crd_name: &str) {
        self.types
            .retain(|t| t.builtin || format!("{}.{}", t.plural, t.gvk.group) != crd_name);
    }
}

/// The resource types a CRD object defines: one per served version.
pub fn custom_types(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_string();
    let names = &spec["names"];
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    let plural = names["plural"].as_str().unwrap_or_default().to_string();
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    let singular = names["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let mut out = Vec::new();
    for version in spec["versions"].as_array().into_iter().flatten() {
        if version["served"].as_bool() == Some(false) {
            continue;
        }
        let Some(name) = version["name"].as_str() else {
            continue;
        };
        let mut subresources = Vec::new();
        if version["subresources"]["status"].is_object() {
            subresources.push("status".to_string());
        }
        if version["subresources"]["scale"].is_object() {
            subresources.push("scale".to_string());
        }
        out.push(ResourceType {
            gvk: Gvk {
                group: group.clone(),
                version: name.to_string(),
                kind: kind.clone(),
            },
            plural: plural.clone(),
            singular: singular.clone(),
            namespaced,
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
            subresources,
            generation: GenerationRule::Spec,
            builtin: false,
        });
    }
    out
}

/// The `APIResource` entries of a legacy `APIResourceList` for `types`.
pub fn api_resource_list(group_version: &str, types: &[Arc<ResourceType>]) -> Value {
    let mut resources = Vec::new();
    for t in types {
        let mut r = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.gvk.kind,
            "verbs": t.verbs,
        });
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for sub in &t.subresources {
            let (kind, group, version) = subresource_kind(t, sub);
            let mut s = json!({
                "name": format!("{}/{}", t.plural, sub),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": kind,
                "verbs": subresource_verbs(sub),
            });
            if let Some(group) = group {
                s["group"] = json!(group);
                s["version"] = json!(version);
            }
            resources.push(s);
        }
    }
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}

/// Verbs a subresource serves.
pub fn subresource_verbs(sub: &str) -> Vec<&'static str> {
    match sub {
        "finalize" => vec!["update"],
        _ => vec!["get", "patch", "update"],
    }
}

/// The kind a subresource returns, with its group/version when it differs from the parent.
pub fn subresource_kind(t: &ResourceType, sub: &str) -> (String, Option<String>, String) {
    if sub == "scale" {
        return (
            "Scale".to_string(),
            Some("autoscaling".to_string()),
            "v1".to_string(),
        );
    }
    (t.gvk.kind.clone(), None, t.gvk.version.clone())
}

/// Group → sorted map of plural → type, for listing in discovery.
pub fn by_group(catalog: &Catalog) -> BTreeMap<String, Vec<Arc<ResourceType>>> {
    let mut out: BTreeMap<String, Vec<Arc<ResourceType>>> = BTreeMap::new();
    for t in catalog.types() {
        out.entry(t.gvk.group.clone()).or_default().push(t.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_finds_kinds_by_path_and_kind() {
        let c = Catalog::builtin();
        let d = c.by_path("apps", "v1", "deployments").expect("deployments");
        assert_eq!(d.gvk.kind, "Deployment");
        assert!(d.namespaced);
        assert_eq!(d.short_names, vec!["deploy"]);
        let ns = c
            .by_gvk(&Gvk {
                group: String::new(),
                version: "v1".into(),
                kind: "Namespace".into(),
            })
            .expect("namespace");
        assert!(!ns.namespaced);
        assert!(!ns.verbs.contains(&"deletecollection".to_string()));
    }

    #[test]
    fn crd_defines_one_type_per_served_version() {
        let crd = json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "subresources": {"status": {}}},
                         {"name": "v0", "served": false}]}});
        let types = custom_types(&crd);
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].singular, "widget");
        assert_eq!(types[0].subresources, vec!["status"]);
        assert!(!types[0].builtin);
    }
}
