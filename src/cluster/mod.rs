//! The cluster: a thin, typed layer over `kube` (kubeconfig, discovery, server-side apply, get,
//! delete, watch-based readiness).
