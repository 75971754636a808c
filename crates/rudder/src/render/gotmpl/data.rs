//! Helm's data functions (`pkg/engine/funcs.go`): `toYaml`, `fromYaml`, `toJson`, `fromJson` and
//! friends. `to*` swallow errors into "" as Helm does; `mustTo*` report them.

use gotmpl::cast;
use gotmpl::encode;
use gotmpl::func::{arity, FuncError, Registry};
use gotmpl::value::Value;

/// Helm's `toYaml`: `sigs.k8s.io/yaml` output without the final newline.
fn to_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity("toYaml", args, 1)?;
    let text = encode::to_yaml(&args[0]).unwrap_or_default();
    Ok(Value::from(
        text.strip_suffix('\n').unwrap_or(&text).to_string(),
    ))
}

/// Helm's `toYamlPretty`: go-yaml v3's encoder with indent 2, without the final newline.
fn to_yaml_pretty(args: &[Value]) -> Result<Value, FuncError> {
    arity("toYamlPretty", args, 1)?;
    let text = encode::to_yaml_pretty(&args[0]).unwrap_or_default();
    Ok(Value::from(
        text.strip_suffix('\n').unwrap_or(&text).to_string(),
    ))
}

fn must_to_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustToYaml", args, 1)?;
    let text = encode::to_yaml(&args[0]).ok_or_else(|| {
        FuncError::new(format!(
            "error marshaling into JSON: {}",
            encode::json_failure(&args[0])
        ))
    })?;
    Ok(Value::from(
        text.strip_suffix('\n').unwrap_or(&text).to_string(),
    ))
}

fn to_json(args: &[Value]) -> Result<Value, FuncError> {
    arity("toJson", args, 1)?;
    Ok(Value::from(encode::to_json(&args[0]).unwrap_or_default()))
}

fn must_to_json(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustToJson", args, 1)?;
    encode::to_json(&args[0])
        .map(Value::from)
        .ok_or_else(|| FuncError::new(encode::json_failure(&args[0])))
}

/// JSON data as Go decodes it into `interface{}`: every number is a float64.
fn from_decoded(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        J::Array(a) => Value::list(a.iter().map(from_decoded).collect()),
        J::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (k.clone(), from_decoded(v)))
                .collect(),
        ),
        other => Value::from(other),
    }
}

fn error_map(msg: String) -> Value {
    let v = Value::empty_map();
    if let Some(d) = v.as_dict() {
        d.insert("Error", Value::from(msg));
    }
    v
}

/// go-yaml's `Unmarshal`: only the first document of a stream counts.
fn first_document(text: &str) -> Result<serde_json::Value, crate::yaml::YamlError> {
    match crate::yaml::from_str(text) {
        Err(e) if e.message.contains("multiple YAML documents") => {
            crate::yaml::from_str_multi(text)
                .map(|docs| docs.into_iter().next().unwrap_or_default())
        }
        other => other,
    }
}

/// Helm's `fromYaml`: a map; a parse error is reported under the `Error` key.
fn from_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity("fromYaml", args, 1)?;
    let text = cast::str_param(&args[0]);
    Ok(match first_document(&text) {
        Ok(serde_json::Value::Object(o)) => from_decoded(&serde_json::Value::Object(o)),
        Ok(serde_json::Value::Null) => Value::empty_map(),
        Ok(other) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(format!("error converting YAML to JSON: yaml: {e}")),
    })
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Array(_) => "array",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "bool",
        _ => "object",
    }
}

/// Helm's `fromYamlArray`: a list; a parse error becomes a one-element list with the message.
fn from_yaml_array(args: &[Value]) -> Result<Value, FuncError> {
    arity("fromYamlArray", args, 1)?;
    let text = cast::str_param(&args[0]);
    Ok(match first_document(&text) {
        Ok(serde_json::Value::Array(a)) => from_decoded(&serde_json::Value::Array(a)),
        Ok(serde_json::Value::Null) => Value::list(vec![]),
        Ok(other) => Value::list(vec![Value::from(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::from(format!(
            "error converting YAML to JSON: yaml: {e}"
        ))]),
    })
}

fn from_json(args: &[Value]) -> Result<Value, FuncError> {
    arity("fromJson", args, 1)?;
    let text = cast::str_param(&args[0]);
    Ok(match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(o)) => from_decoded(&serde_json::Value::Object(o)),
        Ok(other) => error_map(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(e.to_string()),
    })
}

fn from_json_array(args: &[Value]) -> Result<Value, FuncError> {
    arity("fromJsonArray", args, 1)?;
    let text = cast::str_param(&args[0]);
    Ok(match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(a)) => from_decoded(&serde_json::Value::Array(a)),
        Ok(other) => Value::list(vec![Value::from(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::from(e.to_string())]),
    })
}

pub(super) fn register(r: &mut Registry) {
    r.add("toYaml", to_yaml);
    r.add("mustToYaml", must_to_yaml);
    r.add("toYamlPretty", to_yaml_pretty);
    r.add("toJson", to_json);
    r.add("mustToJson", must_to_json);
    r.add("fromYaml", from_yaml);
    r.add("fromYamlArray", from_yaml_array);
    r.add("fromJson", from_json);
    r.add("fromJsonArray", from_json_array);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_yaml_reads_numbers_as_float64() {
        let v = from_yaml(&[Value::str("a: 1\nb: [x]\n")]).unwrap();
        let d = v.as_dict().unwrap();
        assert!(matches!(d.get("a"), Some(Value::Float(f)) if f == 1.0));
        let two = from_yaml(&[Value::str("a: 1\n---\nb: 2\n")]).unwrap();
        assert_eq!(two.as_dict().unwrap().keys(), vec!["a".to_string()]);
        let bad = from_yaml(&[Value::str("- 1\n")]).unwrap();
        assert!(bad.as_dict().unwrap().contains_key("Error"));
    }

    #[test]
    fn to_yaml_trims_the_final_newline() {
        let v = to_yaml(&[Value::list(vec![Value::str("a")])]).unwrap();
        assert_eq!(v, Value::str("- a"));
    }
}
