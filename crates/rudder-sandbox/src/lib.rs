//! `rudder sandbox`: a Kubernetes API server on loopback for tests and demos.
//!
//! Standalone by design: nothing here imports rudder's client side (chart, values, render,
//! manifest, cluster, release, diff), so the client cannot "cheat". Real clients (kubectl, Helm's
//! Go SDK, kube-rs) are the judges of its fidelity.
//!
//! The object semantics (schemas, OpenAPI documents, patches, server-side apply, defaulting,
//! validation) live in pure modules with no I/O; the HTTP server, store and watch machinery call
//! into them.

pub mod apply;
pub mod auth;
pub mod clock;
pub mod controllers;
pub mod custom;
pub mod defaults;
pub mod discovery;
pub mod gc;
pub mod http;
pub mod kubeconfig;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod rest;
pub mod schema;
pub mod selector;
pub mod serve;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod trouble;
pub mod validate;
pub mod watch;

/// Identifies a kind: `group` is empty for the core group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// `apps/v1` or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// The kind of an object from its `apiVersion` and `kind`.
pub fn gvk_of(object: &serde_json::Value) -> Option<Gvk> {
    let api_version = object["apiVersion"].as_str()?;
    let kind = object["kind"].as_str()?;
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    Some(Gvk {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
    })
}
