//! The template function registry: Sprig v3's `TxtFuncMap` (minus `env`/`expandenv`) and Helm's
//! data functions, each family in its own file.
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
//! Functions that need the engine (`include`, `tpl`, `lookup`, `and`/`or`, `printf`'s builtins)
//! are not here: the executor implements them.
//! Errors: return `FuncError::new(msg)`; the executor wraps it as Go does
//! (`error calling NAME: msg`). A Go function that panics (Sprig's `must*` variants) is an error.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::value::Value;

pub mod cast;

mod crypto;
pub use crypto::{keys_generated_by, prefetch_rsa_keys, KeyPrefetch};
mod data;
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

/// An error from a template function, printed after `error calling NAME: `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    pub fn new(msg: impl Into<String>) -> Self {
        FuncError(msg.into())
    }
}

/// What one list element costs against the render budget: the size of a value.
pub(crate) const LIST_ELEMENT_BYTES: usize = std::mem::size_of::<Value>();

/// Refuses a string or list of `bytes` that function `name` is about to build when it would pass
/// the render budget, before any of it is allocated.
pub(crate) fn within_budget(name: &str, bytes: usize) -> Result<(), FuncError> {
    if bytes > crate::render::max_output_bytes() {
        return Err(FuncError::new(crate::render::output_limit_message(
            &format!(
                "the result of {name} ({})",
                crate::input::show_size(bytes as u64)
            ),
        )));
    }
    Ok(())
}

/// A template function: evaluated arguments in Go's parameter order → result.
pub type Func = fn(&[Value]) -> Result<Value, FuncError>;

/// Name → function.
#[derive(Default)]
pub struct Registry {
    funcs: HashMap<&'static str, Func>,
}

impl Registry {
    /// Registers (or replaces) a function.
    pub fn add(&mut self, name: &'static str, f: Func) {
        self.funcs.insert(name, f);
    }

    /// The function called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Func> {
        self.funcs.get(name).copied()
    }

    /// The function called `name` with its registered (static) name, if any.
    pub fn entry(&self, name: &str) -> Option<(&'static str, Func)> {
        self.funcs.get_key_value(name).map(|(k, f)| (*k, *f))
    }

    /// Whether a function called `name` exists (the parser rejects unknown functions, as Go does).
    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }
}

/// The registry of every plain (engine-independent) function, built once.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::default();
        crypto::register(&mut r);
        data::register(&mut r);
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

/// Checks that `args` has exactly `n` elements, with Go's message.
pub fn arity(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() != n {
        return Err(FuncError(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Checks that `args` has at least `n` elements (variadic Go functions).
pub fn arity_min(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() < n {
        return Err(FuncError(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Checks that `args` has between `min` and `max` elements.
pub fn arity_range(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), FuncError> {
    if args.len() < min || args.len() > max {
        return Err(FuncError(format!(
            "wrong number of args for {name}: want {min}-{max} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Shorthands for the family files' unit tests: call a registered function by name.
#[cfg(test)]
pub(crate) mod testing {
    use super::super::value::Value;
    use super::{registry, FuncError};

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
