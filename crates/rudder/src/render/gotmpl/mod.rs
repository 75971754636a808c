//! Helm's template engine: Go `text/template` with Sprig v3 and Helm's own functions, rendering
//! Helm charts exactly as Helm 4 does.
//!
//! Layout: `lex` → `parse` (Go's parse tree) → `exec` (Go's evaluation rules) over
//! [`value::Value`] (Go's dynamic kinds), with `fmt` (Go's `fmt` verbs) and `funcs` (the
//! function registry, one file per Sprig family; see [`funcs`] for how to add one).

pub mod encode;
pub mod exec;
pub mod fmt;
pub mod funcs;
pub mod helm;
pub mod lex;
pub mod parse;
pub mod value;

pub use helm::{leave_teardown_to_exit, render, render_each, teardown_left_to_exit};
pub use value::{Dict, Object, Value};
