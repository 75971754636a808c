//! Sprig's default functions: `default`, `empty`, `coalesce`, `ternary`, `all`, `any`.

use super::{arity, arity_min, cast, FuncError, Registry};
use gotmpl::encode;
use gotmpl::value::Value;

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

/// Re-indents compact JSON as Go's `json.MarshalIndent(v, "", "  ")` lays it out.
fn indent_json(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            other => out.push(other),
        }
    }
    out
}

/// Undoes encoding/json's HTML escaping (`\u003c`, `\u003e`, `\u0026`) for `SetEscapeHTML(false)`.
fn unescape_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let replacement = [("\\u003c", '<'), ("\\u003e", '>'), ("\\u0026", '&')]
            .iter()
            .find(|(esc, _)| tail.starts_with(esc));
        match replacement {
            Some((esc, c)) => {
                out.push(*c);
                rest = &tail[esc.len()..];
            }
            None => {
                // Any other escape (including `\\`) is copied whole.
                let n = tail.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
                out.push_str(&tail[..n]);
                rest = &tail[n..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn json_or_error(name: &str, args: &[Value]) -> Result<String, FuncError> {
    arity(name, args, 1)?;
    encode::to_json(&args[0]).ok_or_else(|| FuncError::new(encode::json_failure(&args[0])))
}

/// `toPrettyJson V`: indented JSON, "" when V cannot be encoded.
fn to_pretty_json(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(
        json_or_error("toPrettyJson", args)
            .map(|j| indent_json(&j))
            .unwrap_or_default(),
    ))
}

fn must_to_pretty_json(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(indent_json(&json_or_error(
        "mustToPrettyJson",
        args,
    )?)))
}

/// `toRawJson V`: JSON without HTML escaping (Sprig panics on unencodable values).
fn to_raw_json(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(unescape_html(&json_or_error(
        "toRawJson",
        args,
    )?)))
}

fn must_to_raw_json(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(unescape_html(&json_or_error(
        "mustToRawJson",
        args,
    )?)))
}

/// JSON decoded as Go decodes into `interface{}`: numbers are float64.
fn from_json_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        J::Array(a) => Value::list(a.iter().map(from_json_value).collect()),
        J::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (k.clone(), from_json_value(v)))
                .collect(),
        ),
        other => Value::from(other),
    }
}

/// `mustFromJson S`: any JSON value, or the decoding error.
fn must_from_json(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustFromJson", args, 1)?;
    let text = cast::str_param(&args[0]);
    serde_json::from_str::<serde_json::Value>(&text)
        .map(|v| from_json_value(&v))
        .map_err(|e| FuncError::new(e.to_string()))
}

pub(super) fn register(r: &mut Registry) {
    r.add("default", default);
    r.add("empty", empty);
    r.add("coalesce", coalesce);
    r.add("ternary", ternary);
    r.add("all", all);
    r.add("any", any);
    r.add("toPrettyJson", to_pretty_json);
    r.add("mustToPrettyJson", must_to_pretty_json);
    r.add("toRawJson", to_raw_json);
    r.add("mustToRawJson", must_to_raw_json);
    r.add("mustFromJson", must_from_json);
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

    #[test]
    fn json_variants_match_sprig() {
        use super::super::testing::{call, f, i, l, s, show};
        let d = Value::empty_map();
        let dict = d.as_dict().unwrap();
        dict.insert("a", l(&[i(1), i(2)]));
        dict.insert("b", Value::empty_map());
        dict.insert("c", s("<x>"));
        dict.insert("d", l(&[]));
        assert_eq!(
            show("toPrettyJson", &[d]),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": \"\\u003cx\\u003e\",\n  \"d\": []\n}"
        );
        let d = Value::empty_map();
        let dict = d.as_dict().unwrap();
        dict.insert("h", s("<a href=\"x\">&amp;</a>"));
        dict.insert("n", f(1.5));
        assert_eq!(
            show("toRawJson", &[d]),
            r#"{"h":"<a href=\"x\">&amp;</a>","n":1.5}"#
        );
        assert_eq!(show("mustToRawJson", &[s("\\u003c")]), r#""\\u003c""#);
        assert_eq!(show("toPrettyJson", &[i(3)]), "3");
        assert_eq!(
            show("mustFromJson", &[s(r#"[1, "a", {"b": null}]"#)]),
            "[1 a map[b:<nil>]]"
        );
        assert_eq!(
            call("mustFromJson", &[s("2")]).unwrap().type_name(),
            "float64"
        );
        assert!(call("mustFromJson", &[s("{bad")]).is_err());
    }
}
