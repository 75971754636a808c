//! Sprig's reflection functions: Go type names as `%T` prints them and `reflect.Kind` names.
//!
//! Integers keep Go's `int`/`int64` distinction (see [`Value::Int64`]); unsigned and typed
//! slices are not modelled, so `[]string` results report `[]interface {}` and semver's
//! `uint64` fields report `int`.

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

fn type_of(args: &[Value]) -> Result<Value, FuncError> {
    arity("typeOf", args, 1)?;
    Ok(Value::from(args[0].type_name()))
}

fn type_is(args: &[Value]) -> Result<Value, FuncError> {
    arity("typeIs", args, 2)?;
    Ok(Value::Bool(str_param(&args[0]) == args[1].type_name()))
}

/// `typeIsLike T V`: the type is T or a pointer to T.
fn type_is_like(args: &[Value]) -> Result<Value, FuncError> {
    arity("typeIsLike", args, 2)?;
    let target = str_param(&args[0]);
    let t = args[1].type_name();
    Ok(Value::Bool(target == t || format!("*{target}") == t))
}

fn kind_of(args: &[Value]) -> Result<Value, FuncError> {
    arity("kindOf", args, 1)?;
    Ok(Value::from(args[0].kind_name()))
}

fn kind_is(args: &[Value]) -> Result<Value, FuncError> {
    arity("kindIs", args, 2)?;
    Ok(Value::Bool(str_param(&args[0]) == args[1].kind_name()))
}

/// `deepEqual A B`: `reflect.DeepEqual`, so kinds must match (`1` is not `1.0`).
fn deep_equal(args: &[Value]) -> Result<Value, FuncError> {
    arity("deepEqual", args, 2)?;
    Ok(Value::Bool(args[0] == args[1]))
}

pub(super) fn register(r: &mut Registry) {
    r.add("typeOf", type_of);
    r.add("typeIs", type_is);
    r.add("typeIsLike", type_is_like);
    r.add("kindOf", kind_of);
    r.add("kindIs", kind_is);
    r.add("deepEqual", deep_equal);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{f, i, l, s, show};
    use super::*;

    #[test]
    fn types_and_kinds() {
        assert_eq!(show("typeOf", &[s("a")]), "string");
        assert_eq!(show("typeOf", &[f(1.5)]), "float64");
        assert_eq!(show("typeOf", &[i(1)]), "int");
        assert_eq!(show("typeOf", &[Value::Nil]), "<nil>");
        assert_eq!(show("typeOf", &[l(&[])]), "[]interface {}");
        assert_eq!(
            show("typeOf", &[Value::empty_map()]),
            "map[string]interface {}"
        );
        assert_eq!(show("kindOf", &[l(&[])]), "slice");
        assert_eq!(show("kindOf", &[Value::empty_map()]), "map");
        assert_eq!(show("kindOf", &[Value::Nil]), "invalid");
        assert_eq!(show("kindOf", &[f(1.0)]), "float64");
        assert_eq!(show("kindIs", &[s("map"), Value::empty_map()]), "true");
        assert_eq!(show("kindIs", &[s("string"), i(1)]), "false");
        assert_eq!(show("typeIs", &[s("float64"), f(2.0)]), "true");
        assert_eq!(show("typeIsLike", &[s("string"), s("x")]), "true");
    }

    #[test]
    fn integer_kinds_follow_sprig_signatures() {
        // Helm 4: `typeOf (add 1 2)` is int64, `typeOf (int 3)` and `typeOf (atoi "3")` int,
        // `typeOf 3` int, `typeOf (toDecimal "10")` int64, `typeOf (round 1.5 0)` float64.
        let of = |name: &str, args: &[Value]| {
            let v = super::super::testing::call(name, args).unwrap();
            (
                show("typeOf", std::slice::from_ref(&v)),
                show("kindOf", &[v]),
            )
        };
        let int64 = ("int64".to_string(), "int64".to_string());
        let int = ("int".to_string(), "int".to_string());
        for name in ["add", "add1", "max", "min", "biggest", "int64", "toDecimal"] {
            assert_eq!(of(name, &[i(3)]), int64, "{name}");
        }
        for name in ["sub", "div", "mod", "mul"] {
            assert_eq!(of(name, &[i(3), i(2)]), int64, "{name}");
        }
        assert_eq!(of("int", &[f(3.5)]), int);
        assert_eq!(of("atoi", &[s("3")]), int);
        assert_eq!(of("randInt", &[i(1), i(3)]), int);
        assert_eq!(of("round", &[f(1.5), i(0)]).0, "float64");
        assert_eq!(of("float64", &[i(1)]).0, "float64");
        assert_eq!(show("typeIs", &[s("int64"), Value::Int64(1)]), "true");
        assert_eq!(show("kindIs", &[s("int"), Value::Int64(1)]), "false");
        assert_eq!(show("deepEqual", &[i(1), Value::Int64(1)]), "false");
    }

    #[test]
    fn deep_equal_needs_matching_kinds() {
        assert_eq!(show("deepEqual", &[i(1), f(1.0)]), "false");
        assert_eq!(show("deepEqual", &[l(&[i(1)]), l(&[i(1)])]), "true");
        assert_eq!(show("deepEqual", &[Value::Nil, Value::Nil]), "true");
        assert_eq!(show("deepEqual", &[s("a"), s("b")]), "false");
    }
}
