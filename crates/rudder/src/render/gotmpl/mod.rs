//! Helm's template engine: Go's `text/template` ([`gotmpl`]) with Sprig v3 ([`sprig`]) and Helm's
//! own functions, rendering Helm charts exactly as Helm 4 does.
//!
//! As Helm's `pkg/engine` adds its functions on top of `text/template`, this layer adds Helm's:
//! `include`, `tpl`, `required`, `fail` and `lookup` need the executor and come through
//! [`gotmpl::exec::Host`] (`engine_funcs`); `toYaml`/`fromYaml`/`toJson`/`fromJson` are plain
//! functions (`data`). `helm` builds the objects templates see and renders a chart.

mod data;
pub mod engine_funcs;
pub mod helm;

use gotmpl::{encode, exec, fmt, value};
/// The Sprig library, as the CLI reaches it (`--enable-dns`).
pub use sprig as funcs;

pub use helm::{leave_teardown_to_exit, render, render_each, teardown_left_to_exit};
pub use value::{Dict, Object, Value};
