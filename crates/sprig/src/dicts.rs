//! Sprig's dict functions over Go's `map[string]interface{}`. `set`, `unset` and the merges change
//! the given map in place, as in Go (charts rely on it: `$_ := set $ctx "key" $v`).
//!
//! Go map iteration order is random, so `keys` and `values` have no defined order in Helm;
//! we give sorted key order, which is what every chart that cares asks for with `sortAlpha`.

use super::cast::{self, str_param, string_list};
use super::{arity, arity_min, FuncError, Registry};
use gotmpl::value::{Dict, Value};

/// A `map[string]interface{}` parameter: a map, or `None` for Go's nil map.
fn dict_param(v: &Value) -> Result<Option<Dict>, FuncError> {
    match v {
        Value::Map(d) => Ok(Some(d.clone())),
        Value::Nil => Ok(None),
        Value::Object(o) => match o.elements() {
            Some(Value::Map(d)) => Ok(Some(d)),
            _ => Err(wrong_map_type(v)),
        },
        _ => Err(wrong_map_type(v)),
    }
}

fn wrong_map_type(v: &Value) -> FuncError {
    FuncError::new(format!(
        "wrong type for value; expected map[string]interface {{}}; got {}",
        v.type_name()
    ))
}

/// `dict K V ...`: keys through `strval`; a key without a value maps to "".
fn dict(args: &[Value]) -> Result<Value, FuncError> {
    let d = Dict::new();
    for pair in args.chunks(2) {
        let key = cast::to_string(&pair[0]);
        let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
        d.insert(key, value);
    }
    Ok(Value::Map(d))
}

/// `get DICT KEY`: the value, or "" when absent.
fn get(args: &[Value]) -> Result<Value, FuncError> {
    arity("get", args, 2)?;
    let key = str_param(&args[1]);
    Ok(dict_param(&args[0])?
        .and_then(|d| d.get(&key))
        .unwrap_or_else(|| Value::str("")))
}

/// `set DICT KEY VALUE`: sets in place and returns the dict.
fn set(args: &[Value]) -> Result<Value, FuncError> {
    arity("set", args, 3)?;
    let Some(d) = dict_param(&args[0])? else {
        return Err(FuncError::new("assignment to entry in nil map"));
    };
    d.insert(str_param(&args[1]), args[2].clone());
    Ok(Value::Map(d))
}

/// `unset DICT KEY`: removes in place and returns the dict.
fn unset(args: &[Value]) -> Result<Value, FuncError> {
    arity("unset", args, 2)?;
    match dict_param(&args[0])? {
        Some(d) => {
            d.remove(&str_param(&args[1]));
            Ok(Value::Map(d))
        }
        // Go's nil map prints as `map[]`.
        None => Ok(Value::empty_map()),
    }
}

fn has_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("hasKey", args, 2)?;
    let key = str_param(&args[1]);
    Ok(Value::Bool(
        dict_param(&args[0])?.is_some_and(|d| d.contains_key(&key)),
    ))
}

/// `pluck KEY DICT...`: the KEY values of the dicts that have it.
fn pluck(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("pluck", args, 1)?;
    let key = str_param(&args[0]);
    let mut out = Vec::new();
    for d in &args[1..] {
        if let Some(v) = dict_param(d)?.and_then(|d| d.get(&key)) {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

/// `keys DICT...`: a `[]string` of every dict's keys (each dict's in sorted order).
fn keys(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for d in args {
        if let Some(d) = dict_param(d)? {
            out.extend(d.keys());
        }
    }
    Ok(string_list(out))
}

/// `values DICT`: the values in sorted key order.
fn values(args: &[Value]) -> Result<Value, FuncError> {
    arity("values", args, 1)?;
    let out = match dict_param(&args[0])? {
        Some(d) => d.entries().into_iter().map(|(_, v)| v).collect(),
        None => Vec::new(),
    };
    Ok(Value::list(out))
}

/// `pick DICT KEY...`: a new dict with only those keys.
fn pick(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("pick", args, 1)?;
    let src = dict_param(&args[0])?;
    let out = Dict::new();
    if let Some(src) = src {
        for k in &args[1..] {
            let k = str_param(k);
            if let Some(v) = src.get(&k) {
                out.insert(k, v);
            }
        }
    }
    Ok(Value::Map(out))
}

/// `omit DICT KEY...`: a new dict without those keys.
fn omit(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("omit", args, 1)?;
    let src = dict_param(&args[0])?;
    let drop: Vec<String> = args[1..].iter().map(str_param).collect();
    let out = Dict::new();
    if let Some(src) = src {
        for (k, v) in src.entries() {
            if !drop.contains(&k) {
                out.insert(k, v);
            }
        }
    }
    Ok(Value::Map(out))
}

/// `dig KEY... DEFAULT DICT`: walks nested dicts; DEFAULT when a key is missing.
fn dig(args: &[Value]) -> Result<Value, FuncError> {
    if args.len() < 3 {
        return Err(FuncError::new("dig needs at least three arguments"));
    }
    let (path, rest) = args.split_at(args.len() - 2);
    let default = &rest[0];
    let mut current = as_go_map(&rest[1])?;
    for (n, key) in path.iter().enumerate() {
        let Value::String(key) = key else {
            return Err(FuncError::new(format!(
                "interface conversion: interface {{}} is {}, not string",
                key.type_name()
            )));
        };
        let Some(step) = current.get(key) else {
            return Ok(default.clone());
        };
        if n + 1 == path.len() {
            return Ok(step);
        }
        current = as_go_map(&step)?;
    }
    Ok(default.clone())
}

/// Go's `v.(map[string]interface{})` type assertion.
fn as_go_map(v: &Value) -> Result<Dict, FuncError> {
    match v {
        Value::Map(d) => Ok(d.clone()),
        _ => Err(FuncError::new(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            if v.is_nil() {
                "nil".to_string()
            } else {
                v.type_name()
            }
        ))),
    }
}

/// mergo's notion of an empty value (`isEmptyValue` with dereferencing).
fn is_empty_for_merge(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        other => other.is_empty(),
    }
}

/// Merges `src` into `dst` in place with mergo's map rules, which Sprig's merges use:
/// nested maps merge recursively; any other value (lists included) is taken from `src` when
/// `overwrite` is set or when `dst` lacks the key or holds an empty value (nil, false, 0, "",
/// empty list or map). A nil in `src` only ever clears a key when overwriting.
fn mergo(dst: &Dict, src: &Dict, overwrite: bool) {
    if dst.ptr_eq(src) {
        return;
    }
    for (key, sv) in src.entries() {
        let dv = dst.get(&key);
        match (&sv, &dv) {
            (Value::Nil, _) => {
                if overwrite {
                    dst.insert(key, Value::Nil);
                }
                continue;
            }
            (Value::Map(sm), Some(Value::Map(dm))) => {
                mergo(dm, sm, overwrite);
                if !is_empty_for_merge(&Value::Map(dm.clone())) {
                    continue;
                }
            }
            _ => {}
        }
        let dst_empty = dv.as_ref().is_none_or(is_empty_for_merge);
        if overwrite || dst_empty {
            dst.insert(key, sv);
        }
    }
}

fn merge_with(name: &str, args: &[Value], overwrite: bool) -> Result<Value, FuncError> {
    arity_min(name, args, 1)?;
    let dst = dict_param(&args[0])?.unwrap_or_default();
    for src in &args[1..] {
        if let Some(src) = dict_param(src)? {
            mergo(&dst, &src, overwrite);
        }
    }
    Ok(Value::Map(dst))
}

/// `merge DST SRC...`: DST's own values win; SRC fills the gaps (deeply), in place.
fn merge(args: &[Value]) -> Result<Value, FuncError> {
    merge_with("merge", args, false)
}

/// `mergeOverwrite DST SRC...`: SRC's values win, in place.
fn merge_overwrite(args: &[Value]) -> Result<Value, FuncError> {
    merge_with("mergeOverwrite", args, true)
}

fn deep_copy(args: &[Value]) -> Result<Value, FuncError> {
    arity("deepCopy", args, 1)?;
    if args[0].is_nil() {
        return Err(FuncError::new(
            "reflect: call of reflect.Value.Type on zero Value",
        ));
    }
    Ok(args[0].deep_copy())
}

pub(super) fn register(r: &mut Registry) {
    r.add("dict", dict);
    r.add("get", get);
    r.add("set", set);
    r.add("unset", unset);
    r.add("hasKey", has_key);
    r.add("pluck", pluck);
    r.add("dig", dig);
    r.add("keys", keys);
    r.add("values", values);
    r.add("pick", pick);
    r.add("omit", omit);
    r.add("merge", merge);
    r.add("mustMerge", merge);
    r.add("mergeOverwrite", merge_overwrite);
    r.add("mustMergeOverwrite", merge_overwrite);
    r.add("deepCopy", deep_copy);
    r.add("mustDeepCopy", deep_copy);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{call, i, l, s, show};
    use super::*;

    fn d(pairs: &[(&str, Value)]) -> Value {
        let out = Dict::new();
        for (k, v) in pairs {
            out.insert(*k, v.clone());
        }
        Value::Map(out)
    }

    #[test]
    fn dict_get_set_unset_has_key() {
        assert_eq!(show("dict", &[s("a"), i(1), s("b")]), "map[a:1 b:]");
        assert_eq!(show("dict", &[i(1), i(2)]), "map[1:2]");
        let m = d(&[("a", i(1))]);
        assert_eq!(show("get", &[m.clone(), s("a")]), "1");
        assert_eq!(call("get", &[m.clone(), s("z")]).unwrap(), s(""));
        assert_eq!(call("get", &[Value::Nil, s("z")]).unwrap(), s(""));
        call("set", &[m.clone(), s("b"), i(2)]).unwrap();
        assert_eq!(
            m.to_go_string(),
            "map[a:1 b:2]",
            "set changes the map in place"
        );
        assert_eq!(show("unset", &[m.clone(), s("a")]), "map[b:2]");
        assert_eq!(show("unset", &[Value::Nil, s("a")]), "map[]");
        assert_eq!(show("hasKey", &[d(&[("a", Value::Nil)]), s("a")]), "true");
        assert_eq!(show("hasKey", &[Value::Nil, s("a")]), "false");
        assert_eq!(
            show("set", &[Value::Nil, s("a"), i(1)]),
            "error: assignment to entry in nil map"
        );
    }

    #[test]
    fn pluck_keys_values_pick_omit() {
        let args = [
            s("a"),
            d(&[("a", i(1))]),
            d(&[("b", i(2))]),
            d(&[("a", i(3))]),
        ];
        assert_eq!(show("pluck", &args), "[1 3]");
        let two = [d(&[("b", i(1)), ("a", i(2))]), d(&[("c", i(3))])];
        assert_eq!(show("keys", &two), "[a b c]");
        assert_eq!(show("keys", &[Value::Nil]), "[]");
        assert_eq!(show("values", &[d(&[("a", i(1))])]), "[1]");
        let abc = d(&[("a", i(1)), ("b", i(2)), ("c", i(3))]);
        assert_eq!(
            show("pick", &[abc.clone(), s("a"), s("c"), s("z")]),
            "map[a:1 c:3]"
        );
        assert_eq!(show("omit", &[abc, s("a"), s("z")]), "map[b:2 c:3]");
        assert_eq!(show("pick", &[Value::Nil, s("a")]), "map[]");
    }

    #[test]
    fn dig_walks_nested_maps() {
        let m = d(&[("a", d(&[("b", i(1))]))]);
        assert_eq!(show("dig", &[s("a"), s("b"), s("def"), m.clone()]), "1");
        assert_eq!(show("dig", &[s("a"), s("x"), s("def"), m.clone()]), "def");
        assert_eq!(show("dig", &[s("z"), s("x"), s("def"), m.clone()]), "def");
        assert_eq!(
            show("dig", &[s("a"), i(1), s("def"), m.clone()]),
            "error: interface conversion: interface {} is int, not string"
        );
        assert_eq!(
            show("dig", &[s("a"), s("b"), s("c"), s("def"), m]),
            "error: interface conversion: interface {} is int, not map[string]interface {}"
        );
        assert_eq!(
            show("dig", &[s("a"), s("def")]),
            "error: dig needs at least three arguments"
        );
    }

    #[test]
    fn merge_fills_only_empty_values() {
        let dst = d(&[
            ("a", i(1)),
            ("b", s("")),
            ("c", Value::Bool(false)),
            ("d", l(&[])),
            ("e", d(&[("x", i(1))])),
            ("f", s("keep")),
            ("g", l(&[i(1)])),
            ("h", i(0)),
        ]);
        let src = d(&[
            ("a", i(2)),
            ("b", s("src")),
            ("c", Value::Bool(true)),
            ("d", l(&[i(9)])),
            ("e", d(&[("x", i(2)), ("y", i(3))])),
            ("f", d(&[("q", i(1))])),
            ("g", l(&[i(2)])),
            ("h", Value::Nil),
            ("i", Value::Nil),
            ("j", d(&[("k", i(1))])),
        ]);
        assert_eq!(
            show("merge", &[dst.clone(), src]),
            "map[a:1 b:src c:true d:[9] e:map[x:1 y:3] f:keep g:[1] h:0 j:map[k:1]]"
        );
        assert_eq!(
            dst.to_go_string(),
            "map[a:1 b:src c:true d:[9] e:map[x:1 y:3] f:keep g:[1] h:0 j:map[k:1]]",
            "merge changes its first argument"
        );
        assert_eq!(show("merge", &[Value::Nil, d(&[("a", i(1))])]), "map[a:1]");
    }

    #[test]
    fn merge_overwrite_takes_source_values() {
        let dst = d(&[
            ("a", i(1)),
            ("b", s("")),
            ("c", Value::Bool(true)),
            ("d", l(&[i(1)])),
            ("e", d(&[("x", i(1)), ("z", i(0))])),
            ("f", s("keep")),
            ("h", i(5)),
            ("m", d(&[("p", i(1))])),
        ]);
        let src = d(&[
            ("a", i(2)),
            ("b", s("src")),
            ("c", Value::Bool(false)),
            ("d", l(&[])),
            ("e", d(&[("x", i(2)), ("y", i(3))])),
            ("f", d(&[("q", i(1))])),
            ("h", Value::Nil),
            ("i", Value::Nil),
            ("m", s("str")),
        ]);
        assert_eq!(
            show("mergeOverwrite", &[dst, src]),
            "map[a:2 b:src c:false d:[] e:map[x:2 y:3 z:0] f:map[q:1] h:<nil> i:<nil> m:str]"
        );
    }

    #[test]
    fn merged_maps_are_shared_with_their_source() {
        // Go's mergo stores the source's nested map itself, so later writes show through.
        let a = d(&[("x", d(&[("p", i(1))]))]);
        let b = d(&[("y", d(&[("q", i(1))]))]);
        let m = call("merge", &[d(&[]), a.clone(), b]).unwrap();
        let x = m.as_dict().unwrap().get("x").unwrap();
        call("set", &[x, s("new"), i(1)]).unwrap();
        assert_eq!(a.to_go_string(), "map[x:map[new:1 p:1]]");
    }

    #[test]
    fn deep_copy_copies_maps() {
        let m = d(&[("a", l(&[i(1), d(&[("b", i(2))])]))]);
        let c = call("deepCopy", std::slice::from_ref(&m)).unwrap();
        assert_eq!(c.to_go_string(), "map[a:[1 map[b:2]]]");
        call("set", &[c, s("z"), i(1)]).unwrap();
        assert_eq!(m.to_go_string(), "map[a:[1 map[b:2]]]");
        assert_eq!(
            show("mustDeepCopy", &[Value::Nil]),
            "error: reflect: call of reflect.Value.Type on zero Value"
        );
    }
}
