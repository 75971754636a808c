//! Helm's dependency processing (`ProcessDependencies`): which subcharts are enabled
//! (`condition`, `tags`), aliases, and `import-values`.
//!
//! Precedence as Helm applies it: every listed dependency starts enabled; `tags` (read from the
//! top-level `tags:` map) disable a dependency only when none of its tags is true and at least
//! one is false; then the first `condition` path (comma-separated, resolved in the coalesced
//! values, relative to the chart's position) that holds a boolean decides, overriding tags.
//! Disabled subcharts are removed before their own dependencies are processed.

use serde_json::{Map, Value};

use super::coalesce::{self, CoalesceError};
use crate::chart::constraint::is_compatible_range;
use crate::chart::Chart;

/// Names listed in Chart.yaml `dependencies` that have no chart in `charts/` (Helm's
/// `CheckDependencies`, which runs before install and template).
pub fn missing_dependencies(chart: &Chart) -> Vec<String> {
    chart
        .metadata
        .dependencies
        .iter()
        .filter(|req| !chart.dependencies.iter().any(|d| d.name() == req.name))
        .map(|req| req.name.clone())
        .collect()
}

/// Removes disabled subcharts, applies aliases and imports values, in place, given the
/// user-supplied values.
pub fn process_dependencies(
    chart: &mut Chart,
    user: &Map<String, Value>,
) -> Result<(), CoalesceError> {
    process_enabled(chart, user, "")?;
    process_import_values(chart)
}

fn process_enabled(
    chart: &mut Chart,
    values: &Map<String, Value>,
    path: &str,
) -> Result<(), CoalesceError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    // Each requirement's subchart, by position: a subchart listed twice (two aliases) appears
    // twice, and only then is copied; the others move, as copying a chart's files is costly.
    let matches: Vec<Option<usize>> = chart
        .metadata
        .dependencies
        .iter()
        .map(|req| {
            chart.dependencies.iter().position(|sub| {
                sub.name() == req.name && is_compatible_range(&req.version, &sub.metadata.version)
            })
        })
        .collect();
    let mut uses = vec![0usize; chart.dependencies.len()];
    for &at in matches.iter().flatten() {
        uses[at] += 1;
    }
    // A subchart any requirement matches is listed, even when an earlier match took its place.
    let listed: Vec<bool> = chart
        .dependencies
        .iter()
        .map(|sub| {
            chart.metadata.dependencies.iter().any(|req| {
                sub.name() == req.name && is_compatible_range(&req.version, &sub.metadata.version)
            })
        })
        .collect();
    let mut subcharts: Vec<Option<Chart>> = std::mem::take(&mut chart.dependencies)
        .into_iter()
        .map(Some)
        .collect();
    // Subcharts Chart.yaml does not list (or lists with a version that does not match) stay.
    let mut kept: Vec<Chart> = listed
        .iter()
        .zip(subcharts.iter_mut())
        .filter(|(listed, _)| !**listed)
        .filter_map(|(_, sub)| sub.take())
        .collect();
    for (req, at) in chart.metadata.dependencies.iter_mut().zip(matches) {
        if let Some(at) = at {
            uses[at] -= 1;
            let copy = if uses[at] == 0 {
                subcharts[at].take()
            } else {
                subcharts[at].clone()
            };
            if let Some(mut copy) = copy {
                if !req.alias.is_empty() {
                    copy.metadata.name = req.alias.clone();
                }
                kept.push(copy);
            }
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = kept;
    for req in chart.metadata.dependencies.iter_mut() {
        req.enabled = Some(true);
    }
    let coalesced = coalesce::coalesce_values(chart, values)?;
    apply_tags(chart, &coalesced);
    apply_conditions(chart, &coalesced, path);

    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| r.enabled == Some(false))
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|d| !disabled.contains(&d.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in chart.dependencies.iter_mut() {
        let sub_path = format!("{path}{}.", sub.metadata.name);
        process_enabled(sub, &coalesced, &sub_path)?;
    }
    Ok(())
}

fn apply_tags(chart: &mut Chart, values: &Map<String, Value>) {
    let Some(Value::Object(tags)) = values.get("tags") else {
        return;
    };
    for req in chart.metadata.dependencies.iter_mut() {
        let (mut any_true, mut any_false) = (false, false);
        for tag in &req.tags {
            match tags.get(tag) {
                Some(Value::Bool(true)) => any_true = true,
                Some(Value::Bool(false)) => any_false = true,
                Some(_) => tracing::warn!("tag {tag} of dependency {} is not a boolean", req.name),
                None => {}
            }
        }
        req.enabled = Some(any_true || !any_false);
    }
}

fn apply_conditions(chart: &mut Chart, values: &Map<String, Value>, path: &str) {
    for req in chart.metadata.dependencies.iter_mut() {
        // Helm trims the whole condition but not the parts between commas.
        for condition in req.condition.trim().split(',') {
            if condition.is_empty() {
                continue;
            }
            match path_value(values, &format!("{path}{condition}")) {
                Some(Value::Bool(b)) => {
                    req.enabled = Some(*b);
                    break;
                }
                Some(_) => {
                    tracing::warn!(
                        "condition {condition} of dependency {} is not a boolean",
                        req.name
                    )
                }
                None => {}
            }
        }
    }
}

/// Helm's `Values.Table`: the map at a dotted path.
fn table<'a>(values: &'a Map<String, Value>, path: &str) -> Option<&'a Map<String, Value>> {
    let mut current = values;
    for part in path.split('.') {
        match current.get(part) {
            Some(Value::Object(next)) => current = next,
            _ => return None,
        }
    }
    Some(current)
}

/// Helm's `Values.PathValue`: a non-map value at a dotted path.
fn path_value<'a>(values: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(values, parent)?, key),
        None => (values, path),
    };
    parent.get(key).filter(|v| !v.is_object())
}

/// Helm's `processDependencyImportValues` (merge mode, as Helm 4 runs it): children first,
/// then each chart's values become its defaults merged with its subcharts' defaults and the
/// imported values (imports below the parent's own values).
///
/// Helm inserts imported tables into the result by reference, so a later import that merges
/// into the same parent key also changes every other place that table was imported to (and the
/// child's own copy). Charts depend on that (Helm's own test charts do), so the merging here
/// runs on [`shared::Table`]s that alias the same way.
fn process_import_values(chart: &mut Chart) -> Result<(), CoalesceError> {
    for sub in chart.dependencies.iter_mut() {
        process_import_values(sub)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let merged = coalesce::merge_values(chart, &Map::new())?;
    if chart
        .metadata
        .dependencies
        .iter()
        .all(|req| req.import_values.is_empty())
    {
        // Nothing to import: Helm's MergeTables with an empty import table leaves the merged
        // values as they are, so the shared-table round trip below would only copy them.
        chart.values = Value::Object(merged);
        return Ok(());
    }
    let merged = shared::Table::from_map(merged);
    let imported = shared::Table::new();
    for req in chart.metadata.dependencies.iter_mut() {
        let mut normalised = Vec::new();
        for import in &req.import_values {
            let (child, parent) = match import {
                Value::Object(spec) => {
                    (go_string(spec.get("child")), go_string(spec.get("parent")))
                }
                Value::String(export) => (format!("exports.{export}"), ".".to_string()),
                _ => continue,
            };
            normalised.push(serde_json::json!({"child": child, "parent": parent}));
            let Some(found) = merged.table_at(&format!("{}.{child}", req.name)) else {
                tracing::warn!("import-values: chart {} has no table {child}", req.name);
                continue;
            };
            let found = if found.is_empty() {
                shared::Table::new()
            } else {
                found
            };
            let source = if matches!(import, Value::String(_)) {
                found
            } else {
                shared::Table::nest(&parent, found)
            };
            imported.merge_from(&source);
        }
        req.import_values = normalised;
    }
    let values = shared::Table::from_map(merged.to_map());
    values.merge_from(&imported);
    chart.values = Value::Object(values.to_map());
    Ok(())
}

/// Maps with Go's reference semantics, for the one place where Helm's result depends on them.
mod shared {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use serde_json::{Map, Value};

    #[derive(Clone)]
    enum Node {
        Table(Table),
        Other(Value),
    }

    impl Node {
        fn from_value(v: Value) -> Node {
            match v {
                Value::Object(map) => Node::Table(Table::from_map(map)),
                other => Node::Other(other),
            }
        }

        fn to_value(&self) -> Value {
            match self {
                Node::Table(t) => Value::Object(t.to_map()),
                Node::Other(v) => v.clone(),
            }
        }

        fn is_null(&self) -> bool {
            matches!(self, Node::Other(Value::Null))
        }
    }

    /// A map shared by reference, like a Go `map[string]any`.
    #[derive(Clone)]
    pub(super) struct Table(Rc<RefCell<BTreeMap<String, Node>>>);

    impl Table {
        pub(super) fn new() -> Table {
            Table(Rc::new(RefCell::new(BTreeMap::new())))
        }

        pub(super) fn from_map(map: Map<String, Value>) -> Table {
            let entries = map
                .into_iter()
                .map(|(k, v)| (k, Node::from_value(v)))
                .collect();
            Table(Rc::new(RefCell::new(entries)))
        }

        pub(super) fn to_map(&self) -> Map<String, Value> {
            self.0
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect()
        }

        pub(super) fn is_empty(&self) -> bool {
            self.0.borrow().is_empty()
        }

        fn get(&self, key: &str) -> Option<Node> {
            self.0.borrow().get(key).cloned()
        }

        /// Helm's `Values.Table`: the table at a dotted path, by reference.
        pub(super) fn table_at(&self, path: &str) -> Option<Table> {
            let mut current = self.clone();
            for part in path.split('.') {
                match current.get(part) {
                    Some(Node::Table(next)) => current = next,
                    _ => return None,
                }
            }
            Some(current)
        }

        /// Helm's `pathToMap`: `table` below a dotted path (`.` is the table itself).
        pub(super) fn nest(path: &str, table: Table) -> Table {
            if path == "." {
                return table;
            }
            let mut current = table;
            for part in path.split('.').rev() {
                let outer = Table::new();
                outer
                    .0
                    .borrow_mut()
                    .insert(part.to_string(), Node::Table(current));
                current = outer;
            }
            current
        }

        /// Helm's `MergeTables(self, src)`: `self` is authoritative; tables of `src` are inserted
        /// by reference; like Helm, `src` gains a `null` for every `null` key of `self`.
        pub(super) fn merge_from(&self, src: &Table) {
            if Rc::ptr_eq(&self.0, &src.0) {
                return;
            }
            let null_keys: Vec<String> = self
                .0
                .borrow()
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(k, _)| k.clone())
                .collect();
            for key in null_keys {
                src.0.borrow_mut().insert(key, Node::Other(Value::Null));
            }
            let entries: Vec<(String, Node)> = src
                .0
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (key, value) in entries {
                let existing = self.get(&key);
                match (existing, value) {
                    (None, value) => {
                        self.0.borrow_mut().insert(key, value);
                    }
                    (Some(Node::Table(dst)), Node::Table(src)) => dst.merge_from(&src),
                    _ => {}
                }
            }
        }
    }
}

/// Go's `fmt.Sprintf("%v", x)` for the scalar shapes an import-values entry uses.
fn go_string(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{ChartMetadata, Dependency};
    use serde_json::json;

    fn chart(name: &str, values: Value, reqs: Vec<Dependency>, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: ChartMetadata {
                name: name.into(),
                version: "1.0.0".into(),
                api_version: "v2".into(),
                dependencies: reqs,
                ..Default::default()
            },
            values,
            dependencies: deps,
            ..Default::default()
        }
    }

    fn req(name: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: "1.x".into(),
            ..Default::default()
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn names(c: &Chart) -> Vec<&str> {
        c.dependencies.iter().map(|d| d.name()).collect()
    }

    #[test]
    fn conditions_override_tags() {
        let mut a = req("a");
        a.condition = "a.enabled".into();
        a.tags = vec!["front".into()];
        let mut b = req("b");
        b.tags = vec!["back".into()];
        let subs = vec![
            chart("a", json!({}), vec![], vec![]),
            chart("b", json!({}), vec![], vec![]),
        ];
        let base = chart(
            "top",
            json!({"tags": {"front": false, "back": false}}),
            vec![a, b],
            subs,
        );

        let mut c = base.clone();
        process_dependencies(&mut c, &Map::new()).unwrap();
        assert!(names(&c).is_empty());

        let mut c = base.clone();
        process_dependencies(&mut c, &obj(json!({"a": {"enabled": true}}))).unwrap();
        assert_eq!(names(&c), ["a"]);

        let mut c = base;
        process_dependencies(&mut c, &obj(json!({"tags": {"back": true}}))).unwrap();
        assert_eq!(names(&c), ["b"]);
    }

    #[test]
    fn aliases_copy_the_subchart_under_new_names() {
        let mut one = req("db");
        one.alias = "primary".into();
        let mut two = req("db");
        two.alias = "replica".into();
        two.condition = "replica.enabled".into();
        let subs = vec![chart(
            "db",
            json!({"port": 1, "enabled": false}),
            vec![],
            vec![],
        )];
        let mut c = chart("top", json!({}), vec![one, two], subs);
        process_dependencies(&mut c, &Map::new()).unwrap();
        assert_eq!(names(&c), ["primary"]);
        let values = coalesce::coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(values["primary"]["port"], 1);
        assert!(values.get("replica").is_none());
    }

    #[test]
    fn a_subchart_listed_twice_is_copied_and_unlisted_ones_stay_first() {
        let mut one = req("db");
        one.alias = "primary".into();
        let mut two = req("db");
        two.alias = "replica".into();
        let subs = vec![
            chart("db", json!({"port": 1}), vec![], vec![]),
            chart("extra", json!({}), vec![], vec![]),
        ];
        let mut c = chart("top", json!({}), vec![one, two], subs);
        process_dependencies(&mut c, &Map::new()).unwrap();
        let order: Vec<&str> = c.dependencies.iter().map(|d| d.name()).collect();
        assert_eq!(order, ["extra", "primary", "replica"]);
        let values = coalesce::coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(values["primary"]["port"], 1);
        assert_eq!(values["replica"]["port"], 1);
    }

    #[test]
    fn of_two_subcharts_one_requirement_matches_only_the_first_stays() {
        let mut first = chart("db", json!({"v": 1}), vec![], vec![]);
        first.metadata.version = "1.0.0".into();
        let mut second = chart("db", json!({"v": 2}), vec![], vec![]);
        second.metadata.version = "1.1.0".into();
        let mut c = chart("top", json!({}), vec![req("db")], vec![first, second]);
        process_dependencies(&mut c, &Map::new()).unwrap();
        let kept: Vec<&str> = c
            .dependencies
            .iter()
            .map(|d| d.metadata.version.as_str())
            .collect();
        assert_eq!(kept, ["1.0.0"]);
    }

    #[test]
    fn import_values_both_forms() {
        let mut r = req("sub");
        r.import_values = vec![
            json!("data"),
            json!({"child": "deep.inner", "parent": "imported.here"}),
        ];
        let sub = chart(
            "sub",
            json!({"exports": {"data": {"fromExport": 1, "own": "child"}}, "deep": {"inner": {"x": 2}}}),
            vec![],
            vec![],
        );
        let mut c = chart("top", json!({"own": "parent"}), vec![r], vec![sub]);
        process_dependencies(&mut c, &Map::new()).unwrap();
        let values = coalesce::coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(values["fromExport"], 1);
        // The parent's own values win over imported ones.
        assert_eq!(values["own"], "parent");
        assert_eq!(values["imported"]["here"]["x"], 2);
        assert_eq!(
            c.metadata.dependencies[0].import_values[0],
            json!({"child": "exports.data", "parent": "."})
        );
    }

    #[test]
    fn imported_tables_alias_like_helm() {
        // Helm inserts the child's table by reference: the second import into
        // `both` merges into the very table the first import placed at `first`.
        let mut a = req("a");
        a.import_values = vec![
            json!({"child": "data", "parent": "first"}),
            json!({"child": "data", "parent": "both"}),
        ];
        let mut b = req("b");
        b.import_values = vec![json!({"child": "data", "parent": "both"})];
        let subs = vec![
            chart("a", json!({"data": {"fromA": 1}}), vec![], vec![]),
            chart("b", json!({"data": {"fromB": 2}}), vec![], vec![]),
        ];
        let mut c = chart("top", json!({}), vec![a, b], subs);
        process_dependencies(&mut c, &Map::new()).unwrap();
        assert_eq!(c.values["first"], json!({"fromA": 1, "fromB": 2}));
        assert_eq!(c.values["both"], json!({"fromA": 1, "fromB": 2}));
        assert_eq!(c.values["a"]["data"], json!({"fromA": 1, "fromB": 2}));
    }

    #[test]
    fn reports_missing_dependencies() {
        let c = chart(
            "top",
            json!({}),
            vec![req("a"), req("b")],
            vec![chart("a", json!({}), vec![], vec![])],
        );
        assert_eq!(missing_dependencies(&c), ["b"]);
    }
}
