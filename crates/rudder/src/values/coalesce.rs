//! Helm's coalescing (`pkg/chart/common/util/coalesce.go`): how user values meet a chart's
//! defaults and its subcharts' defaults.
//!
//! Rules: higher-precedence maps merge into lower ones key by key, lists and scalars replace, a
//! user `null` deletes the chart default it overrides (coalescing) or is kept as `null`
//! (merging, used while processing dependencies), each subchart's defaults sit below its name
//! (or alias) key, and `global` flows from a parent into every subchart.

use serde_json::{Map, Value};

use crate::chart::Chart;

/// A subchart key whose user value is not a map (Helm's "type mismatch on NAME").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("type mismatch on {name}: the values for subchart {name} must be a map, found {found}")]
pub struct CoalesceError {
    pub name: String,
    pub found: String,
}

const GLOBAL: &str = "global";

/// Helm's `CoalesceValues`: `values` (higher precedence) over the chart's defaults, recursively
/// into subcharts; `null` deletes.
pub fn coalesce_values(
    chart: &Chart,
    values: &Map<String, Value>,
) -> Result<Map<String, Value>, CoalesceError> {
    let mut dest = values.clone();
    coalesce(chart, &mut dest, false)?;
    Ok(dest)
}

/// Helm's `MergeValues`: like [`coalesce_values`] but `null`s are kept.
pub fn merge_values(
    chart: &Chart,
    values: &Map<String, Value>,
) -> Result<Map<String, Value>, CoalesceError> {
    let mut dest = values.clone();
    coalesce(chart, &mut dest, true)?;
    Ok(dest)
}

fn coalesce(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    merge: bool,
) -> Result<(), CoalesceError> {
    coalesce_chart_values(chart, dest, merge);
    coalesce_dependencies(chart, dest, merge)
}

fn coalesce_dependencies(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    merge: bool,
) -> Result<(), CoalesceError> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut sub_values = match dest.remove(&name) {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                let found = describe(&other);
                dest.insert(name.clone(), other);
                return Err(CoalesceError { name, found });
            }
        };
        coalesce_globals(&mut sub_values, dest);
        coalesce(sub, &mut sub_values, merge)?;
        dest.insert(name, Value::Object(sub_values));
    }
    Ok(())
}

/// Copies the parent's `global` into a subchart's values. The parent's globals win over globals
/// given in the subchart's section (maps one level down are merged); the subchart's chart
/// defaults come in below both afterwards.
fn coalesce_globals(dest: &mut Map<String, Value>, parent: &Map<String, Value>) {
    let mut dest_globals = match dest.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            tracing::warn!("skipping globals because destination global is not a table");
            return;
        }
    };
    let parent_globals = match parent.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            tracing::warn!("skipping globals because source global is not a table");
            return;
        }
    };
    for (key, value) in parent_globals {
        match value {
            Value::Object(parent_table) => match dest_globals.get_mut(&key) {
                None => {
                    dest_globals.insert(key, Value::Object(parent_table));
                }
                Some(Value::Object(dest_table)) => {
                    let mut merged = parent_table;
                    coalesce_tables(&mut merged, dest_table.clone(), true);
                    *dest_table = merged;
                }
                Some(_) => {
                    tracing::warn!("cannot merge map onto non-map for global {key:?}; skipping");
                }
            },
            other => {
                if matches!(dest_globals.get(&key), Some(Value::Object(_))) {
                    tracing::warn!("global {key} is a table; skipping");
                } else {
                    dest_globals.insert(key, other);
                }
            }
        }
    }
    dest.insert(GLOBAL.to_string(), Value::Object(dest_globals));
}

/// Helm's `coalesceValues`: the chart's own defaults below `values`.
fn coalesce_chart_values(chart: &Chart, values: &mut Map<String, Value>, merge: bool) {
    let Value::Object(defaults) = &chart.values else {
        return;
    };
    for (key, default) in defaults.clone() {
        match values.get_mut(&key) {
            Some(Value::Null) if !merge => {
                values.remove(&key);
            }
            Some(Value::Object(user_table)) => match default {
                Value::Object(mut default_table) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    if !merge {
                        clean_nulls(&mut default_table);
                    }
                    coalesce_tables(user_table, default_table, merge);
                }
                Value::Null => {}
                _ => tracing::warn!("skipped value for {}.{key}: not a table", chart.name()),
            },
            Some(_) => {}
            None => {
                let mut default = default;
                if !merge {
                    if default.is_null() {
                        continue;
                    }
                    if let Value::Object(table) = &mut default {
                        clean_nulls(table);
                    }
                }
                values.insert(key, default);
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `src` below `dst` (dst is authoritative).
pub fn coalesce_tables(dst: &mut Map<String, Value>, mut src: Map<String, Value>, merge: bool) {
    let src_non_null: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, value) in dst.iter() {
        if value.is_null() {
            src.insert(key.clone(), Value::Null);
        }
    }
    for (key, value) in src {
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && src_non_null.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, value);
            }
            Some(existing) => match (existing, value) {
                (Value::Object(d), Value::Object(s)) => coalesce_tables(d, s, merge),
                (_, Value::Object(_)) => {
                    tracing::warn!("cannot overwrite table with non table for {key}")
                }
                (Value::Object(_), v) if !v.is_null() => {
                    tracing::warn!("destination for {key} is a table; ignoring non-table value")
                }
                _ => {}
            },
        }
    }
}

/// Removes `null` entries from maps, recursively (not inside lists).
fn clean_nulls(map: &mut Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
    for value in map.values_mut() {
        if let Value::Object(inner) = value {
            clean_nulls(inner);
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartMetadata;
    use serde_json::json;

    pub(crate) fn chart(name: &str, values: Value, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: ChartMetadata {
                name: name.into(),
                version: "1.0.0".into(),
                api_version: "v2".into(),
                ..Default::default()
            },
            values,
            dependencies: deps,
            ..Default::default()
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn user_values_win_maps_merge_lists_replace() {
        let c = chart(
            "web",
            json!({"a": 1, "m": {"x": 1, "y": 2}, "l": [1, 2], "keep": "k"}),
            vec![],
        );
        let out = coalesce_values(&c, &obj(json!({"a": 2, "m": {"y": 3}, "l": [9]}))).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"a": 2, "m": {"x": 1, "y": 3}, "l": [9], "keep": "k"})
        );
    }

    #[test]
    fn null_deletes_chart_defaults() {
        let c = chart(
            "web",
            json!({"a": 1, "m": {"x": 1, "y": 2}, "n": null}),
            vec![],
        );
        let out =
            coalesce_values(&c, &obj(json!({"a": null, "m": {"x": null}, "new": null}))).unwrap();
        // A null for a key the chart does not have is kept, as in Helm.
        assert_eq!(Value::Object(out), json!({"m": {"y": 2}, "new": null}));
    }

    #[test]
    fn subchart_defaults_and_globals() {
        let sub = chart(
            "db",
            json!({"port": 5432, "global": {"tier": "db"}}),
            vec![],
        );
        let c = chart(
            "web",
            json!({"global": {"env": "prod"}, "db": {"port": 1}}),
            vec![sub],
        );
        let out = coalesce_values(&c, &obj(json!({"global": {"region": "eu"}}))).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({
                "global": {"env": "prod", "region": "eu"},
                "db": {"port": 1, "global": {"env": "prod", "region": "eu", "tier": "db"}}
            })
        );
    }

    #[test]
    fn subchart_key_must_be_a_map() {
        let c = chart("web", json!({}), vec![chart("db", json!({}), vec![])]);
        let err = coalesce_values(&c, &obj(json!({"db": 3}))).unwrap_err();
        assert!(err.to_string().contains("type mismatch on db"), "{err}");
    }
}
