//! rudder's core library: everything a Helm-like Kubernetes package manager does, without its
//! command line (the `rudder` binary, the root package, parses arguments and prints).
//!
//! Data flows one way through the modules, each one concept:
//! `chart` (model + loader) → `values` (layering, `--set`, schema) → `render` (Tera and Go
//! templates) → `manifest` (split, parse, order, hooks) → `cluster` (kube client) / `release`
//! (verbs + Helm-format storage) → `diff`. `repo` moves charts around (package, HTTP and OCI
//! repositories). The sandbox, a standalone Kubernetes API server that shares no code path with
//! the client side, is the `rudder-sandbox` crate; only the binary's `rudder sandbox` starts it.

pub mod chart;
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
