//! Helm's install and uninstall orders of kinds.

use std::collections::HashMap;

/// Kinds in the order Helm 4 installs them (`kind_sorter.go` `InstallOrder`).
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Kinds in the order Helm 4 deletes them: webhooks first (so they cannot block removal), then
/// the reverse of the install order.
pub const UNINSTALL_ORDER: &[&str] = &[
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "Ingress",
    "IngressClass",
    "Service",
    "CronJob",
    "Job",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "DaemonSet",
    "RoleBindingList",
    "RoleBinding",
    "RoleList",
    "Role",
    "ClusterRoleBindingList",
    "ClusterRoleBinding",
    "ClusterRoleList",
    "ClusterRole",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "ConfigMap",
    "SecretList",
    "Secret",
    "ServiceAccount",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "LimitRange",
    "ResourceQuota",
    "NetworkPolicy",
    "Namespace",
    "PriorityClass",
];

/// Which order to sort kinds in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindOrder {
    Install,
    Uninstall,
}

impl KindOrder {
    /// The kinds of this order, first to last.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            KindOrder::Install => INSTALL_ORDER,
            KindOrder::Uninstall => UNINSTALL_ORDER,
        }
    }
}

/// Stable-sorts items by the position of their kind in `order`. Unknown kinds (custom resources)
/// come after every known kind, alphabetically by kind; equal kinds keep their input order.
pub fn sort_by_kind<T>(items: &mut [T], order: KindOrder, kind_of: impl Fn(&T) -> &str) {
    let rank: HashMap<&str, usize> = order
        .kinds()
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i))
        .collect();
    items.sort_by(|a, b| {
        let (ka, kb) = (kind_of(a), kind_of(b));
        match (rank.get(ka), rank.get(kb)) {
            (Some(ra), Some(rb)) => ra.cmp(rb),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => ka.cmp(kb),
        }
    });
}
