//! Secret redaction, as helm-diff does it: a reviewer sees which keys changed and their sizes,
//! never the values.
//!
//! Unchanged keys show `REDACTED # (N bytes)` on both sides; the old side of a changed or removed
//! key `-------- # (N bytes)`; the new side of a changed or added key `++++++++ # (N bytes)`.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::SecretMode;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A Secret's values by key, decoded: `data` (base64) with `stringData` folded over it.
fn secret_values(secret: &Value) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Some(data) = secret["data"].as_object() {
        for (k, v) in data {
            let raw = v.as_str().unwrap_or_default();
            // Undecodable data is still secret: keep its bytes, never print them.
            let bytes = B64
                .decode(raw.trim())
                .unwrap_or_else(|_| raw.as_bytes().to_vec());
            out.insert(k.clone(), bytes);
        }
    }
    if let Some(data) = secret["stringData"].as_object() {
        for (k, v) in data {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(k.clone(), text.into_bytes());
        }
    }
    out
}

fn marker(kind: &str, len: usize) -> Value {
    Value::String(format!("{kind} # ({len} bytes)"))
}

fn write_values(secret: &mut Value, values: Map<String, Value>) {
    if let Some(map) = secret.as_object_mut() {
        map.remove("stringData");
        if values.is_empty() {
            map.remove("data");
        } else {
            map.insert("data".into(), Value::Object(values));
        }
    }
}

/// Rewrites the `data`/`stringData` of both sides of a Secret according to `mode`.
pub fn redact(before: Option<&mut Value>, after: Option<&mut Value>, mode: SecretMode) {
    match mode {
        SecretMode::Show => {}
        SecretMode::ShowDecoded => {
            for side in [before, after].into_iter().flatten() {
                let decoded = secret_values(side)
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(String::from_utf8_lossy(&v).into_owned())))
                    .collect();
                write_values(side, decoded);
            }
        }
        SecretMode::Redact => {
            let old = before
                .as_ref()
                .map(|s| secret_values(s))
                .unwrap_or_default();
            let new = after.as_ref().map(|s| secret_values(s)).unwrap_or_default();
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            let mut old_out = Map::new();
            let mut new_out = Map::new();
            for key in keys {
                match (old.get(key), new.get(key)) {
                    (Some(o), Some(n)) if o == n => {
                        old_out.insert(key.clone(), marker("REDACTED", o.len()));
                        new_out.insert(key.clone(), marker("REDACTED", n.len()));
                    }
                    (o, n) => {
                        if let Some(o) = o {
                            old_out.insert(key.clone(), marker("--------", o.len()));
                        }
                        if let Some(n) = n {
                            new_out.insert(key.clone(), marker("++++++++", n.len()));
                        }
                    }
                }
            }
            if let Some(b) = before {
                write_values(b, old_out);
            }
            if let Some(a) = after {
                write_values(a, new_out);
            }
        }
    }
}

/// YAML of an object for diffing, with redaction markers printed unquoted as helm-diff prints
/// them (`key: REDACTED # (5 bytes)`).
pub fn to_yaml(object: &Value) -> String {
    let text = crate::yaml::to_string(object);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&unquote_marker(line));
        out.push('\n');
    }
    out
}

fn unquote_marker(line: &str) -> String {
    for kind in ["REDACTED", "--------", "++++++++"] {
        for quote in ['"', '\''] {
            let needle = format!("{quote}{kind} # (");
            if let Some(start) = line.find(&needle) {
                let rest = &line[start + 1..];
                if let Some(stripped) = rest.strip_suffix(quote) {
                    if stripped.ends_with(" bytes)") {
                        return format!("{}{}", &line[..start], stripped);
                    }
                }
            }
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn marks_unchanged_changed_added_and_removed_keys() {
        // "c2FtZQ==" = "same", "b2xk" = "old", "bmV3LXZhbHVl" = "new-value"
        let mut before = secret(json!({"same": "c2FtZQ==", "changed": "b2xk", "gone": "b2xk"}));
        let mut after =
            secret(json!({"same": "c2FtZQ==", "changed": "bmV3LXZhbHVl", "fresh": "b2xk"}));
        redact(Some(&mut before), Some(&mut after), SecretMode::Redact);
        assert_eq!(
            before["data"],
            json!({"same": "REDACTED # (4 bytes)", "changed": "-------- # (3 bytes)", "gone": "-------- # (3 bytes)"})
        );
        assert_eq!(
            after["data"],
            json!({"same": "REDACTED # (4 bytes)", "changed": "++++++++ # (9 bytes)", "fresh": "++++++++ # (3 bytes)"})
        );
    }

    #[test]
    fn string_data_is_folded_and_never_shown() {
        let mut after = json!({"kind": "Secret", "stringData": {"password": "hunter2"}});
        redact(None, Some(&mut after), SecretMode::Redact);
        let text = to_yaml(&after);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("password: ++++++++ # (7 bytes)"), "{text}");
    }

    #[test]
    fn decoded_mode_shows_plain_values() {
        let mut after = secret(json!({"k": "aHVudGVyMg=="}));
        redact(None, Some(&mut after), SecretMode::ShowDecoded);
        assert_eq!(after["data"], json!({"k": "hunter2"}));
    }
}
