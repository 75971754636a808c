//! Go's `text/template` language: `lex` → `parse` (Go's parse tree) → `exec` (Go's evaluation
//! rules, Helm's `missingkey=zero`) over [`value::Value`] (Go's dynamic kinds), with `fmt` (Go's
//! `fmt` verbs), `cast` (spf13/cast's conversions) and `encode` (JSON and YAML as Go's encoders
//! write them).
//!
//! No Helm and no Kubernetes here. Functions are the host's: plain ones in a [`func::Registry`],
//! and those that need the executor (Helm's `include`, `tpl`, `required`, `lookup`) through
//! [`exec::Host`], as Helm's `engine.go` adds its functions on top of `text/template`. What one
//! template may print is bounded by [`limits`].

pub mod cast;
pub mod encode;
pub mod exec;
pub mod fmt;
pub mod func;
pub mod lex;
pub mod limits;
pub mod parse;
pub mod value;

pub use func::{Func, FuncError, Registry};
pub use value::{Dict, Object, Value};
