//! `rudder sandbox`: a Kubernetes API server on loopback for tests and demos.
//!
//! Standalone by design: nothing here imports rudder's client side (chart, values, render,
//! manifest, cluster, release, diff), so the client cannot "cheat". Real clients (kubectl, Helm's
//! Go SDK, kube-rs) are the judges of its fidelity.
