//! Sprig v3's template functions (`TxtFuncMap` minus `env`/`expandenv`) for [`gotmpl`], each
//! family in its own file, plus Helm's `toToml`/`fromToml`, which need nothing of Helm's.
//!
//! # Adding a function
//! 1. Pick the family file (`strings.rs`, `lists.rs`, `dicts.rs`, ...) matching Sprig's docs.
//! 2. Write a plain function `fn name(args: &[Value]) -> Result<Value, FuncError>`. `args` are the
//!    evaluated arguments in call order; in a pipeline (`x | f a`) the piped value is the LAST
//!    argument, exactly as Go passes it, so write the function with Go's parameter order.
//! 3. Check arity with [`arity`] (or [`arity_range`]/[`arity_min`]) and read arguments with the
//!    `cast` helpers, which follow `spf13/cast` and Sprig's `strval` (see [`cast`]).
//! 4. Register it in the family's `register` function: `r.add("name", name);`.
//! 5. Add a unit test in the family file whose expected value comes from Sprig's documentation or
//!    from Go (`.venv/bin/python` has Helm 4's Go SDK: render a one-line chart to check).
//!
//! ```ignore
//! fn upper(args: &[Value]) -> Result<Value, FuncError> {
//!     arity("upper", args, 1)?;
//!     Ok(Value::from(cast::to_string(&args[0]).to_uppercase()))
//! }
//! pub(super) fn register(r: &mut Registry) {
//!     r.add("upper", upper);
//! }
//! ```
//!
//! Functions that need the engine are not here: Go's builtins (`and`/`or`, `printf`, ...) are the
//! executor's, and Helm's (`include`, `tpl`, `required`, `lookup`, `toYaml`...) are the Helm
//! layer's, which adds them on top of this registry.
//! Errors: return `FuncError::new(msg)`; the executor wraps it as Go does
//! (`error calling NAME: msg`). A Go function that panics (Sprig's `must*` variants) is an error.

use std::sync::OnceLock;

pub use gotmpl::cast;
pub use gotmpl::func::{arity, arity_min, arity_range, Func, FuncError, Registry};
use gotmpl::limits::{within_budget, LIST_ELEMENT_BYTES};

pub mod constraint;
mod crypto;
pub use crypto::{keys_generated_by, prefetch_rsa_keys, KeyPrefetch};
mod dates;
mod defaults;
mod dicts;
mod encoding;
mod lists;
mod math;
pub mod network;
mod paths;
mod random;
mod reflection;
mod regex;
mod semver;
mod strings;
mod toml;
mod urls;

/// The registry of every Sprig function, built once (hosts clone it and add their own).
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::default();
        crypto::register(&mut r);
        dates::register(&mut r);
        defaults::register(&mut r);
        dicts::register(&mut r);
        encoding::register(&mut r);
        lists::register(&mut r);
        math::register(&mut r);
        paths::register(&mut r);
        random::register(&mut r);
        reflection::register(&mut r);
        regex::register(&mut r);
        semver::register(&mut r);
        strings::register(&mut r);
        toml::register(&mut r);
        urls::register(&mut r);
        r
    })
}

/// Shorthands for the family files' unit tests: call a registered function by name.
#[cfg(test)]
pub(crate) mod testing {
    use super::{registry, FuncError};
    use gotmpl::Value;

    /// Calls the registered function `name` with `args`.
    pub fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let f = registry()
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not registered"));
        f(args)
    }

    /// The result as Go's `%v` prints it (what `{{ name args }}` renders), or the error text.
    pub fn show(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Ok(v) => v.to_go_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// A string value.
    pub fn s(v: &str) -> Value {
        Value::str(v)
    }

    /// An int value.
    pub fn i(v: i64) -> Value {
        Value::Int(v)
    }

    /// A float64 value.
    pub fn f(v: f64) -> Value {
        Value::Float(v)
    }

    /// A list value.
    pub fn l(items: &[Value]) -> Value {
        Value::list(items.to_vec())
    }
}
