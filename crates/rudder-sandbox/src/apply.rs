//! Server-side apply and managedFields bookkeeping (pure; no I/O).
//!
//! Field ownership follows structured-merge-diff as the API server wraps it: every write records
//! which manager set which fields in `metadata.managedFields` (the `FieldsV1` trie: `f:<field>`,
//! `k:{<list-map key>}`, `v:<set value>`, `.` for an item itself). An apply merges the applied
//! configuration into the live object by the schema's list types, fails on fields another manager
//! owns with a different value (unless forced), and removes fields the applier owned before and
//! no longer applies when nobody else owns them. Other writes never conflict: the writer takes
//! over every field it changed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::schema::{self, ListType, SchemaNode};
use super::Gvk;

/// Fields another manager owns that an apply would change, without `force`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApplyConflicts {
    /// (manager, field path as `.spec.replicas`) for each conflicting field.
    pub conflicts: Vec<(String, String)>,
    /// The real server's message, e.g. `Apply failed with 1 conflict: conflict with
    /// "kubectl-client-side-apply" using apps/v1: .spec.replicas`.
    pub message: String,
    /// `Status` causes as (message, field): (`conflict with "mgr" using v1`, `.data.a`), with
    /// reason `FieldManagerConflict`.
    pub causes: Vec<(String, String)>,
}

/// A path in the `FieldsV1` trie: `["f:spec", "f:template", "k:{\"name\":\"app\"}"]`.
type Path = Vec<String>;

/// Fields of an object: each path maps to its leaf value, or `None` for list items (owned as
/// items, their fields listed separately).
type Leaves = BTreeMap<Path, Option<Value>>;

/// One managedFields entry, as the API server identifies managers.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    subresource: String,
    time: Option<String>,
    fields: BTreeSet<Path>,
}

impl Entry {
    /// Apply entries are one per manager (and subresource); Update entries also per apiVersion.
    fn same_identity(&self, manager: &str, operation: &str, api_version: &str, sub: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == sub
            && (operation == "Apply" || self.api_version == api_version)
    }

    /// How the server names this manager in conflicts.
    fn describe(&self) -> String {
        let mut out = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == "Update" {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    fn to_json(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields(&self.fields),
        });
        if let Some(time) = &self.time {
            entry["time"] = Value::String(time.clone());
        }
        if !self.subresource.is_empty() {
            entry["subresource"] = Value::String(self.subresource.clone());
        }
        entry
    }
}

/// Applies `config` (an apply-patch body) as `manager` to `live` (None: the object does not
/// exist) and returns the new object with `metadata.managedFields` updated. `now` is the RFC 3339
/// time written into the managedFields entry.
///
/// Defaulting is the caller's next step: fields the applier dropped are removed here and then
/// defaulted again, and defaulted fields are not owned by the applier.
pub fn server_side_apply(
    gvk: &Gvk,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyConflicts> {
    server_side_apply_to(gvk, live, config, manager, None, force, now)
}

/// [`server_side_apply`] on a subresource (`Some("status")`): only that part of the object is
/// applied and tracked.
pub fn server_side_apply_to(
    gvk: &Gvk,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: &str,
) -> Result<Value, ApplyConflicts> {
    let root = SchemaNode::for_kind(gvk);
    let api_version = gvk.api_version();
    let sub = subresource.unwrap_or("");
    let mut live_obj = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    default_list_keys(&mut live_obj, root);
    let live_obj = &live_obj;
    let mut entries = decode_entries(live_obj);

    let mut applied = applied_part(gvk, config, subresource);
    default_list_keys(&mut applied, root);
    let config_set: BTreeSet<Path> = leaves(&tracked_view(gvk, &applied, subresource), root)
        .into_keys()
        .collect();

    let mut merged = merge(Some(live_obj), &applied, root);
    strip_managed_fields(&mut merged);

    let position = entries
        .iter()
        .position(|e| e.same_identity(manager, "Apply", &api_version, sub));
    let last_set = position
        .map(|i| entries[i].fields.clone())
        .unwrap_or_default();

    // Prune what this manager applied before and dropped now, unless someone else owns it.
    let others: BTreeSet<&Path> = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != position)
        .flat_map(|(_, e)| e.fields.iter())
        .collect();
    for path in last_set.difference(&config_set) {
        let owned_elsewhere = others.iter().any(|o| o.starts_with(path))
            || config_set.iter().any(|c| c.starts_with(path));
        if !owned_elsewhere {
            remove_path(&mut merged, path, root);
        }
    }

    let before = leaves(&tracked_view(gvk, live_obj, subresource), root);
    let after = leaves(&tracked_view(gvk, &merged, subresource), root);
    let (changed, removed) = compare(&before, &after);

    let mut conflicts = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if Some(i) == position {
            continue;
        }
        for path in entry.fields.intersection(&changed) {
            conflicts.push((i, path.clone()));
        }
    }
    if !conflicts.is_empty() && !force && manager == KUBECTL {
        // Upgrading from client-side apply: fields the last-applied annotation still describes
        // (unchanged since) may be taken over without --force-conflicts.
        let allowed = allowed_by_last_applied(gvk, live_obj, subresource, root);
        conflicts.retain(|(_, path)| !allowed.contains(path));
        if conflicts.is_empty() {
            for (i, entry) in entries.iter_mut().enumerate() {
                if Some(i) != position {
                    entry
                        .fields
                        .retain(|p| !(changed.contains(p) && allowed.contains(p)));
                }
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&entries, &conflicts));
    }
    for (i, path) in &conflicts {
        entries[*i].fields.remove(path);
    }
    for (i, entry) in entries.iter_mut().enumerate() {
        if Some(i) != position {
            entry.fields.retain(|p| !removed.contains(p));
        }
    }

    match position {
        Some(i) => {
            // The server refreshes the applier's time whenever the apply changed the object.
            if entries[i].fields != config_set || !changed.is_empty() || !removed.is_empty() {
                entries[i].time = Some(now.to_string());
            }
            entries[i].fields = config_set;
            entries[i].api_version = api_version;
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version,
            subresource: sub.to_string(),
            time: Some(now.to_string()),
            fields: config_set,
        }),
    }
    if manager == KUBECTL {
        sync_last_applied(&mut merged, config);
    }
    write_entries(&mut merged, entries);
    Ok(merged)
}

/// The only manager whose applies interoperate with `kubectl.kubernetes.io/last-applied-configuration`.
const KUBECTL: &str = "kubectl";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Fields in the live object's last-applied annotation whose live value still matches it.
fn allowed_by_last_applied(
    gvk: &Gvk,
    live: &Value,
    subresource: Option<&str>,
    root: SchemaNode,
) -> BTreeSet<Path> {
    let Some(text) = live
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
    else {
        return BTreeSet::new();
    };
    let Ok(mut last) = serde_json::from_str::<Value>(text) else {
        return BTreeSet::new();
    };
    default_list_keys(&mut last, root);
    let last = leaves(&tracked_view(gvk, &last, subresource), root);
    let live = leaves(&tracked_view(gvk, live, subresource), root);
    last.into_iter()
        .filter(|(path, value)| live.get(path) == Some(value))
        .map(|(path, _)| path)
        .collect()
}

/// kubectl's server-side apply keeps an existing last-applied annotation in step with what it
/// applies, so a later client-side apply computes its patch from the right base.
fn sync_last_applied(merged: &mut Value, config: &Value) {
    let has = merged
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .is_some();
    if !has {
        return;
    }
    let mut applied = config.clone();
    if let Some(annotations) = applied
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
    }
    strip_managed_fields(&mut applied);
    let text = serde_json::to_string(&applied).unwrap_or_default();
    if let Some(annotations) = merged
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(LAST_APPLIED.into(), Value::String(text));
    }
}

/// Records a non-apply write (create, update, patch) by `manager` in `new`'s managedFields:
/// the fields that changed from `old` become owned by an `Update` entry of that manager.
///
/// `new.metadata.managedFields` as the client sent it wins when it is a non-empty list (kubectl
/// rewrites it when it migrates client-side apply to server-side apply); an absent or empty list
/// keeps the live entries, and `[{}]` clears them.
pub fn record_update(
    gvk: &Gvk,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    let root = SchemaNode::for_kind(gvk);
    let api_version = gvk.api_version();
    let sub = subresource.unwrap_or("");
    let empty = Value::Object(Map::new());
    let old_obj = old.unwrap_or(&empty);

    let supplied = new
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
        .filter(|list| !list.is_empty());
    let mut entries = match supplied {
        Some(_) if subresource.is_none() => decode_entries(new),
        _ => decode_entries(old_obj),
    };
    strip_managed_fields(new);

    let mut new_defaulted = new.clone();
    default_list_keys(&mut new_defaulted, root);
    let mut old_defaulted = old_obj.clone();
    default_list_keys(&mut old_defaulted, root);
    let before = leaves(&tracked_view(gvk, &old_defaulted, subresource), root);
    let after = leaves(&tracked_view(gvk, &new_defaulted, subresource), root);
    let (changed, removed) = compare(&before, &after);

    let position = entries
        .iter()
        .position(|e| e.same_identity(manager, "Update", &api_version, sub));
    for (i, entry) in entries.iter_mut().enumerate() {
        if Some(i) != position {
            entry
                .fields
                .retain(|p| !changed.contains(p) && !removed.contains(p));
        }
    }
    if !changed.is_empty() || !removed.is_empty() {
        let index = match position {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    manager: manager.to_string(),
                    operation: "Update".into(),
                    api_version: api_version.clone(),
                    subresource: sub.to_string(),
                    time: None,
                    fields: BTreeSet::new(),
                });
                entries.len() - 1
            }
        };
        let entry = &mut entries[index];
        entry.fields.extend(changed.iter().cloned());
        entry.fields.retain(|p| !removed.contains(p));
        entry.time = Some(now.to_string());
    }
    write_entries(new, entries);
}

fn strip_managed_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

/// Entries without fields are dropped, as the server does; the rest are sorted like the server
/// sorts them (Apply before Update, then by time and manager).
fn write_entries(object: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(root) = object.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::to_json).collect()),
        );
    }
}

fn decode_entries(object: &Value) -> Vec<Entry> {
    let Some(list) = object
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut fields = BTreeSet::new();
            decode_fields(e.get("fieldsV1")?, &mut Vec::new(), &mut fields);
            Some(Entry {
                manager: text("manager"),
                operation: text("operation"),
                api_version: text("apiVersion"),
                subresource: text("subresource"),
                time: e.get("time").and_then(Value::as_str).map(str::to_string),
                fields,
            })
        })
        .collect()
}

fn decode_fields(node: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    let Some(map) = node.as_object() else {
        return;
    };
    for (key, child) in map {
        if key == "." {
            out.insert(prefix.clone());
            continue;
        }
        prefix.push(key.clone());
        if child.as_object().is_some_and(Map::is_empty) {
            out.insert(prefix.clone());
        } else {
            decode_fields(child, prefix, out);
        }
        prefix.pop();
    }
}

/// The `FieldsV1` trie of a set of paths: members with children get a `"."` entry.
fn encode_fields(paths: &BTreeSet<Path>) -> Value {
    #[derive(Default)]
    struct Node {
        member: bool,
        children: BTreeMap<String, Node>,
    }
    fn to_json(node: &Node) -> Value {
        let mut map = Map::new();
        if node.member && !node.children.is_empty() {
            map.insert(".".into(), json!({}));
        }
        for (key, child) in &node.children {
            map.insert(key.clone(), to_json(child));
        }
        Value::Object(map)
    }
    let mut root = Node::default();
    for path in paths {
        let mut node = &mut root;
        for element in path {
            node = node.children.entry(element.clone()).or_default();
        }
        node.member = true;
    }
    to_json(&root)
}

/// What an apply may write: never managedFields, and only the subresource's part (status) or
/// everything but it.
fn applied_part(gvk: &Gvk, config: &Value, subresource: Option<&str>) -> Value {
    let mut applied = config.clone();
    strip_managed_fields(&mut applied);
    let has_status =
        schema::kind_info(gvk).is_some_and(|k| k.subresources.iter().any(|s| s == "status"));
    if let Some(root) = applied.as_object_mut() {
        match subresource {
            Some("status") => root.retain(|k, _| k == "status"),
            None if has_status => {
                root.remove("status");
            }
            _ => {}
        }
    }
    applied
}

/// The part of an object whose fields are tracked: identity and bookkeeping fields are stripped,
/// and a status subresource's fields belong to status writes only.
fn tracked_view(gvk: &Gvk, object: &Value, subresource: Option<&str>) -> Value {
    let mut view = object.clone();
    let Some(root) = view.as_object_mut() else {
        return Value::Object(Map::new());
    };
    root.remove("apiVersion");
    root.remove("kind");
    let has_status =
        schema::kind_info(gvk).is_some_and(|k| k.subresources.iter().any(|s| s == "status"));
    match subresource {
        Some("status") => root.retain(|k, _| k == "status"),
        Some(_) => {}
        None if has_status => {
            root.remove("status");
        }
        None => {}
    }
    if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "selfLink",
            "managedFields",
            "clusterName",
        ] {
            meta.remove(key);
        }
        if meta.is_empty() {
            root.remove("metadata");
        }
    }
    view
}

/// List-map key fields that the server defaults before keying (a port's `protocol`), filled in
/// so that `{containerPort: 80}` and the live `{containerPort: 80, protocol: TCP}` are one item.
fn default_list_keys(value: &mut Value, schema: SchemaNode) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                default_list_keys(child, schema.field(key));
            }
        }
        Value::Array(items) => {
            let item_schema = schema.items();
            let keys = match schema.list_type() {
                ListType::Map(keys) => keys,
                _ => Vec::new(),
            };
            for item in items.iter_mut() {
                if let Value::Object(fields) = item {
                    if keys.iter().any(|k| k == "protocol") && !fields.contains_key("protocol") {
                        fields.insert("protocol".into(), Value::String("TCP".into()));
                    }
                }
                default_list_keys(item, item_schema);
            }
        }
        _ => {}
    }
}

/// The `k:` element of a list-map item: its key fields as compact JSON, sorted by name.
fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let fields = item.as_object()?;
    let mut key = Map::new();
    for name in keys {
        if let Some(v) = fields.get(name) {
            key.insert(name.clone(), v.clone());
        }
    }
    if key.is_empty() {
        return None;
    }
    Some(format!("k:{}", Value::Object(key)))
}

fn leaves(value: &Value, schema: SchemaNode) -> Leaves {
    let mut out = Leaves::new();
    collect_leaves(value, schema, &mut Vec::new(), &mut out);
    out
}

fn collect_leaves(value: &Value, schema: SchemaNode, prefix: &mut Path, out: &mut Leaves) {
    match value {
        Value::Object(map) if !map.is_empty() && !schema.is_atomic_map() => {
            for (key, child) in map {
                prefix.push(format!("f:{key}"));
                collect_leaves(child, schema.field(key), prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match schema.list_type() {
            ListType::Map(keys) => {
                let item_schema = schema.items();
                for item in items {
                    let Some(element) = key_element(item, &keys) else {
                        out.insert(prefix.clone(), Some(value.clone()));
                        return;
                    };
                    prefix.push(element);
                    out.insert(prefix.clone(), None);
                    if let Value::Object(map) = item {
                        for (key, child) in map {
                            prefix.push(format!("f:{key}"));
                            collect_leaves(child, item_schema.field(key), prefix, out);
                            prefix.pop();
                        }
                    }
                    prefix.pop();
                }
            }
            ListType::Set => {
                for item in items {
                    prefix.push(format!("v:{item}"));
                    out.insert(prefix.clone(), Some(item.clone()));
                    prefix.pop();
                }
            }
            ListType::Atomic => {
                out.insert(prefix.clone(), Some(value.clone()));
            }
        },
        // Nulls are absent for ownership (a template's `creationTimestamp: null`).
        Value::Null => {}
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone(), Some(value.clone()));
            }
        }
    }
}

/// A configured list taken as it is, but with each item merged over nothing (nulls dropped).
fn fresh_list(items: &[Value], schema: SchemaNode) -> Value {
    let item_schema = schema.items();
    Value::Array(items.iter().map(|i| merge(None, i, item_schema)).collect())
}

/// (modified ∪ added, removed) between two objects' fields.
fn compare(before: &Leaves, after: &Leaves) -> (BTreeSet<Path>, BTreeSet<Path>) {
    let mut changed = BTreeSet::new();
    for (path, value) in after {
        match before.get(path) {
            Some(old) if old == value => {}
            _ => {
                changed.insert(path.clone());
            }
        }
    }
    let removed = before
        .keys()
        .filter(|p| !after.contains_key(*p))
        .cloned()
        .collect();
    (changed, removed)
}

/// live ⊕ config: structs and maps merge field by field, list-maps by key, sets by value,
/// everything else (atomic lists and maps, scalars) is replaced by the config.
fn merge(live: Option<&Value>, config: &Value, schema: SchemaNode) -> Value {
    match (live, config) {
        (Some(Value::Object(live_map)), Value::Object(config_map)) if !schema.is_atomic_map() => {
            let mut out = live_map.clone();
            for (key, value) in config_map {
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                let merged = merge(live_map.get(key), value, schema.field(key));
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Some(Value::Array(live_items)), Value::Array(config_items)) => match schema.list_type() {
            ListType::Map(keys) => {
                let item_schema = schema.items();
                let mut out = live_items.clone();
                for item in config_items {
                    let id = key_element(item, &keys);
                    let found = id.as_ref().and_then(|id| {
                        out.iter()
                            .position(|o| key_element(o, &keys).as_ref() == Some(id))
                    });
                    match found {
                        Some(i) => out[i] = merge(Some(&out[i]), item, item_schema),
                        None => out.push(merge(None, item, item_schema)),
                    }
                }
                Value::Array(out)
            }
            ListType::Set => {
                let mut out = live_items.clone();
                for item in config_items {
                    if !out.contains(item) {
                        out.push(item.clone());
                    }
                }
                Value::Array(out)
            }
            ListType::Atomic => fresh_list(config_items, schema),
        },
        // A list with nothing live to merge into: its items still lose their null fields, as a
        // typed decode drops them (a chart's `nodePort: null` in a Service port).
        (_, Value::Array(config_items)) => fresh_list(config_items, schema),
        (_, Value::Object(config_map)) if !schema.is_atomic_map() => {
            let mut out = Map::new();
            for (key, value) in config_map {
                if !value.is_null() {
                    out.insert(key.clone(), merge(None, value, schema.field(key)));
                }
            }
            Value::Object(out)
        }
        _ => config.clone(),
    }
}

/// Removes the field or item at `path`; maps and lists it leaves empty go too (the server omits
/// empty maps and lists).
fn remove_path(object: &mut Value, path: &[String], schema: SchemaNode) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let removed = match object {
        Value::Object(map) => {
            let Some(name) = first.strip_prefix("f:") else {
                return false;
            };
            if rest.is_empty() {
                map.remove(name).is_some()
            } else {
                let child_schema = schema.field(name);
                let Some(child) = map.get_mut(name) else {
                    return false;
                };
                let removed = remove_path(child, rest, child_schema);
                let now_empty = match child {
                    Value::Object(m) => m.is_empty() && !child_schema.is_struct(),
                    Value::Array(items) => items.is_empty(),
                    _ => false,
                };
                if removed && now_empty {
                    map.remove(name);
                }
                removed
            }
        }
        Value::Array(items) => {
            let item_schema = schema.items();
            let position = if let Some(_key) = first.strip_prefix("k:") {
                let keys = match schema.list_type() {
                    ListType::Map(keys) => keys,
                    _ => return false,
                };
                items
                    .iter()
                    .position(|item| key_element(item, &keys).as_deref() == Some(first.as_str()))
            } else if let Some(raw) = first.strip_prefix("v:") {
                let wanted: Option<Value> = serde_json::from_str(raw).ok();
                items.iter().position(|item| Some(item) == wanted.as_ref())
            } else {
                None
            };
            let Some(i) = position else {
                return false;
            };
            if rest.is_empty() {
                items.remove(i);
                true
            } else {
                remove_path(&mut items[i], rest, item_schema)
            }
        }
        _ => false,
    };
    removed
}

/// `.spec.template.spec.containers[name="app"].image`, as the server prints field paths.
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(name) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(raw) = element.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(raw)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(raw) = element.strip_prefix("v:") {
            out.push_str(&format!("[={raw}]"));
        } else if let Some(index) = element.strip_prefix("i:") {
            out.push_str(&format!("[{index}]"));
        }
    }
    out
}

fn conflict_error(entries: &[Entry], conflicts: &[(usize, Path)]) -> ApplyConflicts {
    let listed: Vec<(String, String, String)> = conflicts
        .iter()
        .map(|(i, path)| {
            let entry = &entries[*i];
            (entry.manager.clone(), entry.describe(), display_path(path))
        })
        .collect();
    let message = if let [(_, described, path)] = listed.as_slice() {
        format!("Apply failed with 1 conflict: conflict with {described}: {path}")
    } else {
        let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (_, described, path) in &listed {
            by_manager.entry(described).or_default().push(path);
        }
        let mut lines = Vec::new();
        for (described, paths) in by_manager {
            lines.push(format!("conflicts with {described}:"));
            lines.extend(paths.iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            listed.len(),
            lines.join("\n")
        )
    };
    ApplyConflicts {
        conflicts: listed
            .iter()
            .map(|(manager, _, path)| (manager.clone(), path.clone()))
            .collect(),
        causes: listed
            .iter()
            .map(|(_, described, path)| (format!("conflict with {described}"), path.clone()))
            .collect(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-01-01T00:00:00Z";
    const T1: &str = "2026-01-01T00:01:00Z";

    fn gvk(group: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
        }
    }

    fn managed(object: &Value) -> &Vec<Value> {
        object["metadata"]["managedFields"]
            .as_array()
            .expect("managedFields")
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image,
                                             "ports": [{"containerPort": 80}]}]}}}})
    }

    #[test]
    fn apply_records_the_ssa_docs_configmap_entry() {
        // The ConfigMap of the "Server-Side Apply" documentation, applied by kubectl.
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
            "data": {"key": "some value"}});
        let out = server_side_apply(&gvk("", "ConfigMap"), None, &config, "kubectl", false, T0)
            .expect("apply");
        assert_eq!(
            managed(&out),
            &vec![
                json!({"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                "time": T0, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:key": {}},
                             "f:metadata": {"f:labels": {"f:test-label": {}}}}})
            ]
        );
        assert_eq!(out["data"], json!({"key": "some value"}));
        assert_eq!(out["metadata"]["name"], "test-cm");
    }

    #[test]
    fn apply_keys_containers_and_ports_like_the_server() {
        let apps = Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        };
        let out = server_side_apply(&apps, None, &deployment(3, "nginx:1"), "kubectl", false, T0)
            .expect("apply");
        let fields = &managed(&out)[0]["fieldsV1"];
        let container =
            &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(
            container,
            &json!({".": {}, "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":
                    {".": {}, "f:containerPort": {}, "f:protocol": {}}}})
        );
        // The selector is an atomic map: owned as a whole.
        assert_eq!(fields["f:spec"]["f:selector"], json!({}));
        assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
        // Re-applying the same config changes nothing, not even the time.
        let again = server_side_apply(
            &apps,
            Some(&out),
            &deployment(3, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .expect("apply");
        assert_eq!(again, out);
    }

    #[test]
    fn conflicts_name_the_other_manager_and_force_moves_ownership() {
        let apps = Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        };
        let mut live = deployment(2, "nginx:1");
        record_update(
            &apps,
            None,
            &mut live,
            "kubectl-client-side-apply",
            None,
            T0,
        );
        assert_eq!(managed(&live)[0]["operation"], "Update");
        assert_eq!(
            managed(&live)[0]["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );

        // Same values: shared ownership, no conflict.
        let shared = server_side_apply(
            &apps,
            Some(&live),
            &deployment(2, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .expect("no conflict when values are equal");
        assert_eq!(managed(&shared).len(), 2);
        assert_eq!(managed(&shared)[0]["manager"], "kubectl");
        assert_eq!(
            managed(&shared)[1]["fieldsV1"]["f:spec"]["f:replicas"],
            json!({})
        );

        let err = server_side_apply(
            &apps,
            Some(&live),
            &deployment(3, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .expect_err("replicas is owned by another manager");
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            err.conflicts,
            vec![(
                "kubectl-client-side-apply".to_string(),
                ".spec.replicas".to_string()
            )]
        );
        assert_eq!(
            err.causes,
            vec![(
                "conflict with \"kubectl-client-side-apply\" using apps/v1".to_string(),
                ".spec.replicas".to_string()
            )]
        );

        let err = server_side_apply(
            &apps,
            Some(&live),
            &deployment(3, "nginx:2"),
            "kubectl",
            false,
            T1,
        )
        .expect_err("two conflicts");
        assert_eq!(
            err.message,
            "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
        );

        let forced = server_side_apply(
            &apps,
            Some(&live),
            &deployment(3, "nginx:1"),
            "kubectl",
            true,
            T1,
        )
        .expect("force");
        assert_eq!(forced["spec"]["replicas"], 3);
        let update = managed(&forced)
            .iter()
            .find(|e| e["operation"] == "Update")
            .expect("update entry");
        assert!(update["fieldsV1"]["f:spec"].get("f:replicas").is_none());
        assert!(update["fieldsV1"]["f:spec"].get("f:selector").is_some());
    }

    #[test]
    fn null_fields_in_list_items_are_dropped_on_create() {
        // Helm charts write `nodePort: null` in ClusterIP Service ports; the API server's typed
        // decode drops it, so neither the stored object nor a later dry run shows it.
        let svc = gvk("", "Service");
        let config = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"name": "tcp", "port": 6379, "nodePort": null}]}});
        let created = server_side_apply(&svc, None, &config, "rudder", false, T0).expect("apply");
        let port = &created["spec"]["ports"][0];
        assert_eq!(port["port"], 6379);
        assert!(port.get("nodePort").is_none(), "{port}");
    }

    #[test]
    fn fields_dropped_from_the_config_are_removed_unless_owned_elsewhere() {
        let cm = gvk("", "ConfigMap");
        let config = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
        let first = server_side_apply(
            &cm,
            None,
            &config(json!({"a": "1", "b": "2", "c": "3"})),
            "one",
            false,
            T0,
        )
        .expect("apply");
        let shared = server_side_apply(
            &cm,
            Some(&first),
            &config(json!({"c": "3"})),
            "two",
            false,
            T0,
        )
        .expect("shared");
        let pruned = server_side_apply(
            &cm,
            Some(&shared),
            &config(json!({"a": "1"})),
            "one",
            false,
            T1,
        )
        .expect("apply");
        // b was only owned by "one": removed; c is still owned by "two": kept.
        assert_eq!(pruned["data"], json!({"a": "1", "c": "3"}));
        // Apply entries are sorted by time, as the server sorts them.
        let entries = managed(&pruned);
        assert_eq!(entries[0]["manager"], "two");
        assert_eq!(entries[0]["time"], T0);
        assert_eq!(entries[1]["manager"], "one");
        assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
        assert_eq!(entries[1]["time"], T1);

        // Dropping every label removes the emptied labels map too.
        let labelled = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"x": "y"}}, "data": {"a": "1"}});
        let with_label =
            server_side_apply(&cm, Some(&pruned), &labelled, "one", false, T1).expect("apply");
        let without = server_side_apply(
            &cm,
            Some(&with_label),
            &config(json!({"a": "1"})),
            "one",
            false,
            T1,
        )
        .expect("apply");
        assert!(without["metadata"].get("labels").is_none());
    }

    #[test]
    fn dropped_list_items_are_pruned_by_key() {
        let apps = Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        };
        let mut two = deployment(1, "nginx:1");
        two["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .expect("containers")
            .push(json!({"name": "sidecar", "image": "busybox"}));
        let first = server_side_apply(&apps, None, &two, "kubectl", false, T0).expect("apply");
        let second = server_side_apply(
            &apps,
            Some(&first),
            &deployment(1, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .expect("apply");
        let containers = second["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers");
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "web");
    }

    #[test]
    fn updates_take_over_changed_fields_and_keep_the_rest() {
        let cm = gvk("", "ConfigMap");
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                            "data": {"a": "1", "b": "2"}});
        let applied = server_side_apply(&cm, None, &config, "kubectl", false, T0).expect("apply");
        let mut edited = applied.clone();
        edited["data"]["a"] = json!("9");
        record_update(&cm, Some(&applied), &mut edited, "kubectl-edit", None, T1);
        let entries = managed(&edited);
        assert_eq!(entries[0]["manager"], "kubectl");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
        assert_eq!(
            entries[1],
            json!({"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
                   "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}})
        );
        // An empty managedFields list in the body keeps the live entries...
        let mut put = edited.clone();
        put["metadata"]["managedFields"] = json!([]);
        record_update(&cm, Some(&edited), &mut put, "kubectl", None, T1);
        assert_eq!(managed(&put), managed(&edited));
        // ...and `[{}]` clears them.
        let mut cleared = edited.clone();
        cleared["metadata"]["managedFields"] = json!([{}]);
        record_update(&cm, Some(&edited), &mut cleared, "kubectl", None, T1);
        assert!(cleared["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn status_writes_are_tracked_apart() {
        let apps = Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        };
        let live = server_side_apply(&apps, None, &deployment(1, "nginx:1"), "kubectl", false, T0)
            .expect("apply");
        let mut with_status = live.clone();
        with_status["status"] = json!({"replicas": 1});
        record_update(
            &apps,
            Some(&live),
            &mut with_status,
            "controller",
            Some("status"),
            T1,
        );
        let entry = managed(&with_status)
            .iter()
            .find(|e| e["manager"] == "controller")
            .expect("status entry");
        assert_eq!(entry["subresource"], "status");
        assert_eq!(entry["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
        // A main-resource apply carrying status ignores it.
        let mut config = deployment(1, "nginx:1");
        config["status"] = json!({"replicas": 5});
        let out = server_side_apply(&apps, Some(&with_status), &config, "kubectl", false, T1)
            .expect("apply");
        assert_eq!(out["status"], json!({"replicas": 1}));
    }

    #[test]
    fn kubectl_takes_over_fields_its_last_applied_annotation_describes() {
        let cm = gvk("", "ConfigMap");
        let last = r#"{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c"}}"#;
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {LAST_APPLIED: last}},
            "data": {"a": "1", "b": "2"}});
        record_update(&cm, None, &mut live, "kubectl-client-side-apply", None, T0);
        let config = |data: Value| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c"}, "data": data})
        };
        // data.a is described by the annotation: no conflict for manager "kubectl"...
        let out = server_side_apply(
            &cm,
            Some(&live),
            &config(json!({"a": "9"})),
            "kubectl",
            false,
            T1,
        )
        .expect("last-applied fields are taken over");
        assert_eq!(out["data"]["a"], "9");
        assert_eq!(
            out["metadata"]["annotations"][LAST_APPLIED],
            r#"{"apiVersion":"v1","data":{"a":"9"},"kind":"ConfigMap","metadata":{"name":"c"}}"#
        );
        let csa = managed(&out)
            .iter()
            .find(|e| e["manager"] == "kubectl-client-side-apply")
            .expect("csa entry");
        assert!(csa["fieldsV1"]["f:data"].get("f:a").is_none(), "{csa}");
        // ...but data.b (not in the annotation) still conflicts, and other managers get no pass.
        let err = server_side_apply(
            &cm,
            Some(&live),
            &config(json!({"b": "9"})),
            "kubectl",
            false,
            T1,
        )
        .expect_err("b is not in last-applied");
        assert_eq!(
            err.conflicts,
            vec![("kubectl-client-side-apply".into(), ".data.b".into())]
        );
        assert!(server_side_apply(
            &cm,
            Some(&live),
            &config(json!({"a": "9"})),
            "helm",
            false,
            T1
        )
        .is_err());
    }

    #[test]
    fn display_paths_match_the_server() {
        let path: Path = vec![
            "f:spec".into(),
            "f:ports".into(),
            "k:{\"port\":80,\"protocol\":\"TCP\"}".into(),
            "f:targetPort".into(),
        ];
        assert_eq!(
            display_path(&path),
            ".spec.ports[port=80,protocol=\"TCP\"].targetPort"
        );
        assert_eq!(
            display_path(&["f:metadata".into(), "f:finalizers".into(), "v:\"x\"".into()]),
            ".metadata.finalizers[=\"x\"]"
        );
    }
}
