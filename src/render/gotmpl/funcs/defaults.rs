//! Sprig's default functions: `default`, `empty`, `coalesce`, `ternary`, `all`, `any`.

use super::super::value::Value;
use super::{arity, arity_min, FuncError, Registry};

/// `default DEFAULT GIVEN`: GIVEN unless it is empty (Sprig's emptiness: nil, false, 0, "",
/// empty list or map), else DEFAULT. In a pipeline GIVEN is the piped value.
fn default(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("default", args, 1)?;
    match args.get(1) {
        Some(given) if !given.is_empty() => Ok(given.clone()),
        _ => Ok(args[0].clone()),
    }
}

fn empty(args: &[Value]) -> Result<Value, FuncError> {
    arity("empty", args, 1)?;
    Ok(Value::Bool(args[0].is_empty()))
}

/// The first non-empty argument, or nil.
fn coalesce(args: &[Value]) -> Result<Value, FuncError> {
    Ok(args
        .iter()
        .find(|v| !v.is_empty())
        .cloned()
        .unwrap_or(Value::Nil))
}

/// `ternary TRUE FALSE COND`.
fn ternary(args: &[Value]) -> Result<Value, FuncError> {
    arity("ternary", args, 3)?;
    Ok(if args[2].truthy() {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

fn all(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(args.iter().all(|v| !v.is_empty())))
}

fn any(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(args.iter().any(|v| !v.is_empty())))
}

pub(super) fn register(r: &mut Registry) {
    r.add("default", default);
    r.add("empty", empty);
    r.add("coalesce", coalesce);
    r.add("ternary", ternary);
    r.add("all", all);
    r.add("any", any);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_uses_given_unless_empty() {
        let d = Value::str("d");
        assert_eq!(
            default(&[d.clone(), Value::str("x")]).unwrap(),
            Value::str("x")
        );
        assert_eq!(default(&[d.clone(), Value::Int(0)]).unwrap(), d);
        assert_eq!(default(&[d.clone(), Value::Nil]).unwrap(), d);
        assert_eq!(default(std::slice::from_ref(&d)).unwrap(), d);
        assert_eq!(default(&[d.clone(), Value::Bool(false)]).unwrap(), d);
    }

    #[test]
    fn coalesce_and_ternary() {
        let args = [Value::Nil, Value::str(""), Value::Int(3)];
        assert_eq!(coalesce(&args).unwrap(), Value::Int(3));
        let t = [Value::str("a"), Value::str("b"), Value::Bool(false)];
        assert_eq!(ternary(&t).unwrap(), Value::str("b"));
    }
}
