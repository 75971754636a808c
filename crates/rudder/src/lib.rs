//! rudder: a Helm-like Kubernetes package manager.
//!
//! Data flows one way through the modules, each one concept:
//! `chart` (model + loader) → `values` (layering, `--set`, schema) → `render` (Tera and Go
//! templates) → `manifest` (split, parse, order, hooks) → `cluster` (kube client) / `release`
//! (verbs + Helm-format storage) → `diff`. `repo` moves charts around (package, HTTP and OCI
//! repositories). The sandbox, a standalone Kubernetes API server that shares no code path with
//! the client side, is the `rudder-sandbox` crate; only `cli::sandbox` starts it (feature
//! `sandbox`, on by default). `cli` holds one thin file per command.

pub mod chart;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod input;
pub mod lint;
pub mod manifest;
pub mod release;
pub mod render;
pub mod repo;
pub mod values;
/// YAML the way Kubernetes and Helm read it: the `rudder-yaml` crate, shared with the sandbox.
pub use rudder_yaml as yaml;
