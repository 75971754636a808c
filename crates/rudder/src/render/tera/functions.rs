//! Filters and functions of rudder's Tera templates (documented in docs/templates.md).
//!
//! Tera 1 passes arguments by keyword only; each filter names its argument the way the docs show.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tera::{Error, Result, Tera};

use super::MISSING;
use crate::chart::Chart;
use crate::render::RenderOptions;

type Args = HashMap<String, Value>;

/// Registers every filter and function on a chart's Tera instance.
pub(super) fn register(tera: &mut Tera, chart: &Chart, options: &RenderOptions) {
    tera.register_filter("to_yaml", to_yaml);
    tera.register_filter("to_json", to_json);
    tera.register_filter("from_yaml", from_yaml);
    tera.register_filter("from_json", from_json);
    tera.register_filter("indent", indent);
    tera.register_filter("nindent", nindent);
    tera.register_filter("quote", quote);
    tera.register_filter("squote", squote);
    tera.register_filter("b64enc", b64enc);
    tera.register_filter("b64dec", b64dec);
    tera.register_filter("sha256sum", sha256sum);
    tera.register_filter("trunc", trunc);
    tera.register_filter("trim_suffix", trim_suffix);
    tera.register_filter("required", required);
    tera.register_function("fail", fail);
    // Like Helm (which drops Sprig's `env`), keep the rendering machine out of manifests.
    tera.register_function("get_env", |_: &Args| {
        Err(Error::msg(
            "get_env is disabled: manifests must not depend on the machine that renders them; pass the value with --set",
        ))
    });

    let lookup = options.lookup.clone();
    tera.register_function("lookup", move |args: &Args| {
        let api_version = string_arg(args, "api_version", "lookup")?;
        let kind = string_arg(args, "kind", "lookup")?;
        let namespace = optional_string_arg(args, "namespace");
        let name = optional_string_arg(args, "name");
        match &lookup {
            // Offline rendering sees an empty cluster, as `helm template` does.
            None => Ok(Value::Object(Map::new())),
            Some(live) => live
                .lookup(&api_version, &kind, &namespace, &name)
                .map_err(|e| {
                    Error::msg(format!(
                        "lookup {api_version} {kind} {namespace}/{name}: {e}"
                    ))
                }),
        }
    });

    // Files are shared by reference: cloning every file per render would cost more than rendering.
    let files: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        chart
            .files
            .iter()
            .map(|f| (f.name.clone(), f.data.clone()))
            .collect(),
    );
    let chart_name = chart.name().to_string();
    let for_file = Arc::clone(&files);
    let name_for_file = chart_name.clone();
    tera.register_function("file", move |args: &Args| {
        let path = string_arg(args, "path", "file")?;
        let path = path.trim_start_matches("./");
        match for_file.iter().find(|(name, _)| name == path) {
            Some((name, data)) => text_of(name, data).map(Value::String),
            None => Err(Error::msg(format!(
                "file(path=\"{path}\"): chart {name_for_file} has no such file (paths are relative to the chart root; templates/ is not readable)"
            ))),
        }
    });
    tera.register_function("files_glob", move |args: &Args| {
        let pattern = string_arg(args, "pattern", "files_glob")?;
        let glob = globset::Glob::new(&pattern)
            .map_err(|e| Error::msg(format!("files_glob(pattern=\"{pattern}\"): {e}")))?
            .compile_matcher();
        let mut out = Map::new();
        for (name, data) in files.iter().filter(|(name, _)| glob.is_match(name)) {
            out.insert(name.clone(), Value::String(text_of(name, data)?));
        }
        Ok(Value::Object(out))
    });
}

fn text_of(name: &str, data: &[u8]) -> Result<String> {
    String::from_utf8(data.to_vec()).map_err(|_| {
        Error::msg(format!(
            "file {name} is not UTF-8 text; encode it with b64enc after reading it elsewhere"
        ))
    })
}

fn string_arg(args: &Args, key: &str, func: &str) -> Result<String> {
    match args.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(display(other)),
        None => Err(Error::msg(format!("{func} needs the argument `{key}`"))),
    }
}

fn optional_string_arg(args: &Args, key: &str) -> String {
    args.get(key).map(display).unwrap_or_default()
}

fn int_arg(args: &Args, key: &str, func: &str) -> Result<i64> {
    match args.get(key) {
        Some(v) => v
            .as_i64()
            .ok_or_else(|| Error::msg(format!("{func}: `{key}` must be an integer, got {v}"))),
        None => Err(Error::msg(format!("{func} needs the argument `{key}`"))),
    }
}

/// How a value prints inside `{{ }}`: strings bare, null empty, collections as JSON.
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn to_yaml(value: &Value, _: &Args) -> Result<Value> {
    let text = crate::yaml::to_string(value);
    Ok(Value::String(text.trim_end_matches('\n').to_string()))
}

fn to_json(value: &Value, _: &Args) -> Result<Value> {
    serde_json::to_string(value)
        .map(Value::String)
        .map_err(|e| Error::msg(format!("to_json: {e}")))
}

fn from_yaml(value: &Value, _: &Args) -> Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| Error::msg("from_yaml expects a string"))?;
    crate::yaml::from_str(text).map_err(|e| Error::msg(format!("from_yaml: {e}")))
}

fn from_json(value: &Value, _: &Args) -> Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| Error::msg("from_json expects a string"))?;
    serde_json::from_str(text).map_err(|e| {
        Error::msg(format!(
            "from_json: line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// Sprig's `indent`: every line, the first included, gets `width` spaces.
fn indent_text(value: &Value, args: &Args, func: &str) -> Result<String> {
    let width = int_arg(args, "width", func)?;
    let pad = " ".repeat(usize::try_from(width).unwrap_or(0));
    let text = display(value);
    Ok(format!("{pad}{}", text.replace('\n', &format!("\n{pad}"))))
}

fn indent(value: &Value, args: &Args) -> Result<Value> {
    indent_text(value, args, "indent").map(Value::String)
}

fn nindent(value: &Value, args: &Args) -> Result<Value> {
    indent_text(value, args, "nindent").map(|t| Value::String(format!("\n{t}")))
}

fn quote(value: &Value, _: &Args) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::String(String::new()));
    }
    // A JSON string literal is a valid double-quoted YAML scalar with the same escapes.
    let text = display(value);
    serde_json::to_string(&text)
        .map(Value::String)
        .map_err(|e| Error::msg(format!("quote: {e}")))
}

fn squote(value: &Value, _: &Args) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::String(String::new()));
    }
    // YAML single-quoted scalars escape a quote by doubling it.
    Ok(Value::String(format!(
        "'{}'",
        display(value).replace('\'', "''")
    )))
}

fn b64enc(value: &Value, _: &Args) -> Result<Value> {
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(display(value)),
    ))
}

fn b64dec(value: &Value, _: &Args) -> Result<Value> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(display(value).trim())
        .map_err(|e| Error::msg(format!("b64dec: not base64: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| Error::msg("b64dec: the decoded bytes are not UTF-8 text"))
}

fn sha256sum(value: &Value, _: &Args) -> Result<Value> {
    Ok(Value::String(hex::encode(Sha256::digest(
        display(value).as_bytes(),
    ))))
}

/// Sprig's `trunc`: a negative length keeps the end of the string.
fn trunc(value: &Value, args: &Args) -> Result<Value> {
    let length = int_arg(args, "length", "trunc")?;
    let chars: Vec<char> = display(value).chars().collect();
    let n = chars.len();
    let kept: String = if length >= 0 {
        chars[..n.min(length as usize)].iter().collect()
    } else {
        let keep = n.min(length.unsigned_abs() as usize);
        chars[n - keep..].iter().collect()
    };
    Ok(Value::String(kept))
}

fn trim_suffix(value: &Value, args: &Args) -> Result<Value> {
    let suffix = string_arg(args, "suffix", "trim_suffix")?;
    let text = display(value);
    Ok(Value::String(
        text.strip_suffix(suffix.as_str())
            .unwrap_or(&text)
            .to_string(),
    ))
}

/// Fails when the value is missing, null or the empty string (Helm's `required`).
fn required(value: &Value, args: &Args) -> Result<Value> {
    let missing = match value {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == MISSING,
        _ => false,
    };
    if missing {
        let message = optional_string_arg(args, "message");
        let message = if message.is_empty() {
            "a required value is missing".to_string()
        } else {
            message
        };
        return Err(Error::msg(format!("required: {message}")));
    }
    Ok(value.clone())
}

fn fail(args: &Args) -> Result<Value> {
    let message = optional_string_arg(args, "message");
    Err(Error::msg(format!("fail: {message}")))
}
