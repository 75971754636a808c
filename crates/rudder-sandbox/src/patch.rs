//! The three non-apply patch types (pure; no I/O).

use serde_json::{Map, Value};

use super::schema::SchemaNode;
use super::Gvk;

/// A patch that could not be applied: the server answers 422 or 400 with this message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// `application/merge-patch+json` (RFC 7386): objects merge recursively, `null` deletes, anything
/// else (lists included) replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    Ok(merge_value(Some(target), patch))
}

fn merge_value(target: Option<&Value>, patch: &Value) -> Value {
    let Value::Object(patch_map) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch_map {
        if value.is_null() {
            out.remove(key);
        } else {
            let merged = merge_value(out.get(key), value);
            out.insert(key.clone(), merged);
        }
    }
    Value::Object(out)
}

/// `application/json-patch+json` (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and
/// `test`, applied in order; any failing operation fails the whole patch.
pub fn json_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Array(ops) = patch else {
        return Err(PatchError(
            "the JSON patch must be a list of operations".into(),
        ));
    };
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_json_op(&mut doc, op).map_err(|e| PatchError(format!("{e} (operation {index})")))?;
    }
    Ok(doc)
}

fn op_str<'a>(op: &'a Value, field: &str) -> Result<&'a str, String> {
    match op.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{field} must be a string")),
        None => Err(format!("missing '{field}' in operation")),
    }
}

fn apply_json_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    if !op.is_object() {
        return Err("each JSON patch operation must be an object".into());
    }
    let kind = op_str(op, "op")?;
    let path = op_str(op, "path")?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| format!("missing 'value' in {kind} operation"))
    };
    match kind {
        "add" => add_at(doc, path, value()?),
        "remove" => remove_at(doc, path).map(|_| ()),
        "replace" => {
            let new = value()?;
            let slot = pointer_mut(doc, path)?;
            *slot = new;
            Ok(())
        }
        "move" => {
            let from = op_str(op, "from")?;
            if path.starts_with(&format!("{from}/")) {
                return Err(format!("cannot move {from} into its own child {path}"));
            }
            let moved = remove_at(doc, from)?;
            add_at(doc, path, moved)
        }
        "copy" => {
            let from = op_str(op, "from")?;
            let copied = pointer(doc, from)?.clone();
            add_at(doc, path, copied)
        }
        "test" => {
            let expected = value()?;
            let actual = pointer(doc, path)?;
            if *actual == expected {
                Ok(())
            } else {
                Err(format!("testing value {path} failed"))
            }
        }
        other => Err(format!("unexpected kind: {other}")),
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` → `/`, `~0` → `~`).
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer {path:?}: must start with /"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn array_index(token: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return Err(format!("invalid array index {token:?}"));
    }
    let index: usize = token
        .parse()
        .map_err(|_| format!("invalid array index {token:?}"))?;
    if index < len || (allow_end && index == len) {
        Ok(index)
    } else {
        Err(format!("array index {index} out of bounds (length {len})"))
    }
}

fn child<'a>(node: &'a Value, token: &str, path: &str) -> Result<&'a Value, String> {
    match node {
        Value::Object(map) => map
            .get(token)
            .ok_or_else(|| format!("doc is missing path: {path}")),
        Value::Array(items) => {
            let i = array_index(token, items.len(), false)?;
            Ok(&items[i])
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

fn child_mut<'a>(node: &'a mut Value, token: &str, path: &str) -> Result<&'a mut Value, String> {
    match node {
        Value::Object(map) => map
            .get_mut(token)
            .ok_or_else(|| format!("doc is missing path: {path}")),
        Value::Array(items) => {
            let i = array_index(token, items.len(), false)?;
            Ok(&mut items[i])
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

fn pointer<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, String> {
    tokens(path)?
        .iter()
        .try_fold(doc, |node, token| child(node, token, path))
}

fn pointer_mut<'a>(doc: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    let mut node = doc;
    for token in tokens(path)? {
        node = child_mut(node, &token, path)?;
    }
    Ok(node)
}

fn split_parent(path: &str) -> Result<(Vec<String>, String), String> {
    let mut parts = tokens(path)?;
    match parts.pop() {
        Some(last) => Ok((parts, last)),
        None => Err("the root cannot be the target of this operation".into()),
    }
}

fn parent_mut<'a>(
    doc: &'a mut Value,
    parents: &[String],
    path: &str,
) -> Result<&'a mut Value, String> {
    let mut node = doc;
    for token in parents {
        node = child_mut(node, token, path)?;
    }
    Ok(node)
}

fn add_at(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parents, last) = split_parent(path)?;
    match parent_mut(doc, &parents, path)? {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                array_index(&last, items.len(), true)?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parents, last) = split_parent(path)?;
    match parent_mut(doc, &parents, path)? {
        Value::Object(map) => map
            .remove(&last)
            .ok_or_else(|| format!("unable to remove nonexistent key: {last}: missing value")),
        Value::Array(items) => {
            let index = array_index(&last, items.len(), false)?;
            Ok(items.remove(index))
        }
        _ => Err(format!("doc is missing path: {path}")),
    }
}

/// `application/strategic-merge-patch+json`, with the merge keys of built-in kinds.
pub fn strategic_merge_patch(
    gvk: &Gvk,
    target: &Value,
    patch: &Value,
) -> Result<Value, PatchError> {
    let root = SchemaNode::for_kind(gvk);
    if !patch.is_object() {
        return Err(PatchError(
            "the strategic merge patch must be a JSON object".into(),
        ));
    }
    smp_value(Some(target), patch, root).map(|v| v.unwrap_or(Value::Null))
}

/// Merges `patch` into `target` (absent: merge into nothing, which strips directives). `None`
/// means "delete this value" (`$patch: delete`).
fn smp_value(
    target: Option<&Value>,
    patch: &Value,
    schema: SchemaNode,
) -> Result<Option<Value>, PatchError> {
    match patch {
        Value::Object(patch_map) => {
            let original = match target {
                Some(Value::Object(map)) if !schema.is_atomic_map() => map.clone(),
                _ => Map::new(),
            };
            smp_map(original, patch_map, schema)
        }
        Value::Array(items) => {
            let strategies = schema.patch_strategies();
            let original = match target {
                Some(Value::Array(original)) if strategies.contains(&"merge") => original.clone(),
                _ => Vec::new(),
            };
            smp_list(original, items, schema).map(|list| Some(Value::Array(list)))
        }
        other => Ok(Some(other.clone())),
    }
}

const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";

fn smp_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    schema: SchemaNode,
) -> Result<Option<Value>, PatchError> {
    match patch.get("$patch") {
        Some(Value::String(d)) if d == "delete" => return Ok(None),
        Some(Value::String(d)) if d == "replace" => {
            let mut out = patch.clone();
            out.remove("$patch");
            // The replacement itself is a plain object: strip any nested directives.
            return smp_map(Map::new(), &out, schema);
        }
        Some(Value::String(d)) if d == "merge" => {}
        Some(other) => {
            return Err(PatchError(format!(
                "Unknown patch type: {}, should be one of replace, merge, delete",
                other
            )))
        }
        None => {}
    }
    if let Some(retain) = patch.get("$retainKeys") {
        let Value::Array(keep) = retain else {
            return Err(PatchError(
                "$retainKeys must be a list of field names".into(),
            ));
        };
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        original.retain(|key, _| keep.contains(&key.as_str()));
    }
    let mut orders: Vec<(&str, &Value)> = Vec::new();
    for (key, value) in patch {
        if key == "$patch" || key == "$retainKeys" {
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
            let Value::Array(gone) = value else {
                return Err(PatchError(format!("{key} must be a list")));
            };
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|item| !gone.contains(item));
            }
            continue;
        }
        if let Some(field) = key.strip_prefix(SET_ORDER_PREFIX) {
            orders.push((field, value));
            continue;
        }
        if key.starts_with('$') {
            return Err(PatchError(format!("unknown patch directive {key}")));
        }
        if value.is_null() {
            original.remove(key);
            continue;
        }
        let field_schema = schema.field(key);
        match smp_value(original.get(key), value, field_schema)? {
            Some(merged) => {
                original.insert(key.clone(), merged);
            }
            None => {
                original.remove(key);
            }
        }
    }
    for (field, order) in orders {
        let field_schema = schema.field(field);
        if let (Some(Value::Array(items)), Value::Array(order)) = (original.get_mut(field), order) {
            apply_element_order(items, order, field_schema.patch_merge_key());
        }
    }
    Ok(Some(Value::Object(original)))
}

/// The merge key value of a list item (`name` of a container), or the item itself for scalars.
fn identity<'a>(item: &'a Value, merge_key: Option<&str>) -> Option<&'a Value> {
    match (item, merge_key) {
        (Value::Object(map), Some(key)) => map.get(key),
        (Value::Object(_), None) => None,
        (other, _) => Some(other),
    }
}

fn smp_list(
    mut original: Vec<Value>,
    patch: &[Value],
    schema: SchemaNode,
) -> Result<Vec<Value>, PatchError> {
    // A `{"$patch": "replace"}` element replaces the whole list with the other elements.
    let replace = patch
        .iter()
        .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"));
    if replace {
        original.clear();
    }
    let merge_key = schema.patch_merge_key();
    let item_schema = schema.items();
    let merging = schema.patch_strategies().contains(&"merge") && !replace;
    if !merging {
        let mut out = Vec::new();
        for item in patch {
            if item.get("$patch").is_some() && item.as_object().is_some_and(|m| m.len() == 1) {
                continue;
            }
            if let Some(v) = smp_value(None, item, item_schema)? {
                out.push(v);
            }
        }
        return Ok(out);
    }
    for item in patch {
        let directive = item.get("$patch").and_then(Value::as_str);
        let key_value = identity(item, merge_key).cloned();
        let position = key_value.as_ref().and_then(|kv| {
            original
                .iter()
                .position(|o| identity(o, merge_key) == Some(kv))
        });
        if directive == Some("delete") {
            match (&key_value, item) {
                (Some(kv), Value::Object(_)) => {
                    original.retain(|o| identity(o, merge_key) != Some(kv));
                }
                _ => {
                    return Err(PatchError(format!(
                        "delete patch directive needs the merge key {:?}",
                        merge_key.unwrap_or("")
                    )))
                }
            }
            continue;
        }
        match (position, item) {
            (Some(i), Value::Object(_)) => {
                if let Some(merged) = smp_value(Some(&original[i]), item, item_schema)? {
                    original[i] = merged;
                } else {
                    original.remove(i);
                }
            }
            (Some(_), _) => {} // a scalar already present in a merged primitive list
            (None, Value::Object(_)) if merge_key.is_some() && key_value.is_none() => {
                return Err(PatchError(format!(
                    "map: {item} does not contain declared merge key: {}",
                    merge_key.unwrap_or("")
                )));
            }
            (None, _) => {
                if let Some(v) = smp_value(None, item, item_schema)? {
                    original.push(v);
                }
            }
        }
    }
    Ok(original)
}

/// `$setElementOrder/<field>`: items named in the order come in that order; items the patch
/// does not name keep their place relative to each other after them.
fn apply_element_order(items: &mut Vec<Value>, order: &[Value], merge_key: Option<&str>) {
    let rank = |item: &Value| {
        let id = identity(item, merge_key);
        order
            .iter()
            .position(|o| Some(identity(o, merge_key).unwrap_or(o)) == id)
    };
    let mut ranked: Vec<(Option<usize>, usize, Value)> = items
        .drain(..)
        .enumerate()
        .map(|(i, item)| (rank(&item), i, item))
        .collect();
    ranked.sort_by_key(|(rank, i, _)| (rank.is_none(), rank.unwrap_or(0), *i));
    items.extend(ranked.into_iter().map(|(_, _, item)| item));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386_examples() {
        // The examples of RFC 7386 appendix A.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(
                merge_patch(&target, &patch),
                Ok(expected.clone()),
                "{patch}"
            );
        }
    }

    #[test]
    fn json_patch_follows_rfc6902_examples() {
        let doc = json!({"foo": ["bar", "baz"], "a": {"b": 1}});
        let patch = json!([
            {"op": "add", "path": "/foo/1", "value": "qux"},
            {"op": "add", "path": "/foo/-", "value": "end"},
            {"op": "remove", "path": "/foo/0"},
            {"op": "replace", "path": "/a/b", "value": 2},
            {"op": "copy", "from": "/a", "path": "/c"},
            {"op": "move", "from": "/c/b", "path": "/d"},
            {"op": "test", "path": "/d", "value": 2},
            {"op": "add", "path": "/e~1f", "value": true},
        ]);
        assert_eq!(
            json_patch(&doc, &patch),
            Ok(json!({"foo": ["qux", "baz", "end"], "a": {"b": 2}, "c": {}, "d": 2, "e/f": true}))
        );
    }

    #[test]
    fn json_patch_errors_name_the_failure() {
        let doc = json!({"metadata": {"resourceVersion": "5"}});
        let stale = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "4"}]);
        assert!(json_patch(&doc, &stale)
            .unwrap_err()
            .0
            .contains("testing value /metadata/resourceVersion failed"));
        let missing = json!([{"op": "replace", "path": "/spec/x", "value": 1}]);
        assert!(json_patch(&doc, &missing)
            .unwrap_err()
            .0
            .contains("missing path"));
        let out_of_range = json!([{"op": "add", "path": "/a", "value": [1]},
                                  {"op": "add", "path": "/a/3", "value": 1}]);
        assert!(json_patch(&doc, &out_of_range)
            .unwrap_err()
            .0
            .contains("out of bounds"));
        assert!(json_patch(&doc, &json!({"op": "add"})).is_err());
        assert!(json_patch(&doc, &json!([{"op": "frob", "path": "/a"}])).is_err());
        let remove_missing = json!([{"op": "remove", "path": "/nothing"}]);
        assert!(json_patch(&doc, &remove_missing).is_err());
        // A failing operation leaves the target untouched (the caller gets an error only).
        assert_eq!(doc, json!({"metadata": {"resourceVersion": "5"}}));
    }

    fn deployment() -> Gvk {
        Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        }
    }

    fn patch_demo() -> Value {
        // The Deployment of the Kubernetes task "Update API Objects in Place Using kubectl patch".
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "patch-demo"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "patch-demo-ctr", "image": "nginx"}],
                             "tolerations": [{"effect": "NoSchedule", "key": "dedicated",
                                              "value": "test-team"}]}}}})
    }

    #[test]
    fn strategic_patch_merges_containers_by_name_and_replaces_tolerations() {
        // From the docs: containers merge (strategy merge, key name); tolerations have no
        // patch strategy, so the patch replaces the list.
        let patch = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "patch-demo-ctr-2", "image": "redis"}],
            "tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch_demo(), &patch).expect("patch");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "patch-demo-ctr", "image": "nginx"},
                   {"name": "patch-demo-ctr-2", "image": "redis"}])
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["tolerations"],
            json!([{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}])
        );
        // The same patch as a JSON merge patch replaces the containers list.
        let merged = merge_patch(&patch_demo(), &patch).expect("merge");
        assert_eq!(
            merged["spec"]["template"]["spec"]["containers"],
            json!([{"name": "patch-demo-ctr-2", "image": "redis"}])
        );
    }

    #[test]
    fn strategic_patch_retain_keys_clears_other_strategy_fields() {
        // From the docs: `$retainKeys` on the strategy (patch strategy retainKeys).
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        let out = strategic_merge_patch(&deployment(), &patch_demo(), &patch).expect("patch");
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn strategic_patch_directives() {
        let gvk = deployment();
        let mut live = patch_demo();
        live["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
             "args": ["--one", "--two"]},
            {"name": "b", "image": "b:1"}]);
        live["metadata"]["finalizers"] = json!(["x", "y"]);
        let patch = json!({
            "metadata": {"finalizers": ["z"], "$deleteFromPrimitiveList/finalizers": ["x"]},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [
                    {"name": "a", "env": [{"name": "X", "$patch": "delete"}, {"name": "Z", "value": "3"}],
                     "args": ["--three"]},
                    {"name": "b", "image": null}]}}}});
        let out = strategic_merge_patch(&gvk, &live, &patch).expect("patch");
        assert_eq!(out["metadata"]["finalizers"], json!(["y", "z"]));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b"},
                   {"name": "a", "image": "a:1",
                    "env": [{"name": "Y", "value": "2"}, {"name": "Z", "value": "3"}],
                    "args": ["--three"]}])
        );
        let replace = json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "c", "image": "c"}]}}}});
        let out = strategic_merge_patch(&gvk, &live, &replace).expect("patch");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "c", "image": "c"}])
        );
        let replace_map =
            json!({"spec": {"selector": {"$patch": "replace", "matchLabels": {"x": "y"}}}});
        let out = strategic_merge_patch(&gvk, &live, &replace_map).expect("patch");
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"x": "y"}}));
        let delete_map = json!({"spec": {"strategy": {"$patch": "delete"}}});
        let out = strategic_merge_patch(&gvk, &live, &delete_map).expect("patch");
        assert!(out["spec"].get("strategy").is_none());
        let bad = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert!(strategic_merge_patch(&gvk, &live, &bad).is_err());
    }

    #[test]
    fn strategic_patch_on_a_configmap_merges_data_and_annotations() {
        // What `kubectl apply` sends for a changed ConfigMap (probe transcript).
        let gvk = Gvk {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
        };
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kc", "annotations": {"a": "1", "b": "2"}}, "data": {"a": "1", "b": "x"}});
        let patch = json!({"data": {"a": "2", "b": null}, "metadata": {"annotations": {"a": "9"}}});
        assert_eq!(
            strategic_merge_patch(&gvk, &live, &patch),
            Ok(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kc", "annotations": {"a": "9", "b": "2"}}, "data": {"a": "2"}}))
        );
    }
}
