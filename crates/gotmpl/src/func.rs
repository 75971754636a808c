//! The functions a template can call: the host registers them by name.
//!
//! A plain function takes the evaluated arguments in Go's parameter order (in a pipeline
//! `x | f a` the piped value is the LAST argument) and returns a value or a [`FuncError`], which
//! the executor prints after `error calling NAME: `, as Go does. Functions that need the executor
//! itself are registered by name only ([`Registry::add_host`]) and called through
//! [`crate::exec::Host`].

use std::collections::{HashMap, HashSet};

use crate::value::Value;

/// An error from a template function, printed after `error calling NAME: `.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        FuncError(msg.into())
    }
}

/// A template function: evaluated arguments in Go's parameter order → result.
pub type Func = fn(&[Value]) -> Result<Value, FuncError>;

/// Name → function: Go's `FuncMap`. The parser resolves names against it once, so execution
/// skips the lookup, and rejects unknown names as Go does.
#[derive(Default, Clone)]
pub struct Registry {
    funcs: HashMap<&'static str, Func>,
    host: HashSet<&'static str>,
}

impl Registry {
    /// Registers (or replaces) a function.
    pub fn add(&mut self, name: &'static str, f: Func) {
        self.host.remove(name);
        self.funcs.insert(name, f);
    }

    /// Registers a function the host implements with the executor at hand (see
    /// [`crate::exec::Host`]).
    pub fn add_host(&mut self, name: &'static str) {
        self.funcs.remove(name);
        self.host.insert(name);
    }

    /// The function called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Func> {
        self.funcs.get(name).copied()
    }

    /// The function called `name` with its registered (static) name, if any.
    pub fn entry(&self, name: &str) -> Option<(&'static str, Func)> {
        self.funcs.get_key_value(name).map(|(k, f)| (*k, *f))
    }

    /// The registered (static) name of the host function `name`, if it is one.
    pub fn host_name(&self, name: &str) -> Option<&'static str> {
        self.host.get(name).copied()
    }

    /// Whether a function called `name` exists (the parser rejects unknown functions, as Go does).
    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name) || self.host.contains(name)
    }
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
