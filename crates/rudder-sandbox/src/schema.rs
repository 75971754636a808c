//! The built-in kinds' OpenAPI schemas, generated from `kubernetes_validate` by
//! `scripts/gen-sandbox-schemas.py` and embedded at build time.
//!
//! Patches, server-side apply, validation and the OpenAPI documents all read the same table, so a
//! list that kubectl merges by `name` is also keyed by `name` in managedFields.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Gvk;

const TABLE_JSON: &str = include_str!("schemas/k8s-v1.32.json");
const REF_PREFIX: &str = "#/components/schemas/";

/// One served built-in kind and where its schema is.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Resource name in URLs, e.g. `deployments`.
    pub plural: String,
    pub namespaced: bool,
    /// e.g. `["status", "scale"]`.
    pub subresources: Vec<String>,
    /// Definition name, e.g. `io.k8s.api.apps.v1.Deployment`.
    pub schema: String,
    pub list_schema: String,
}

impl KindInfo {
    /// The kind's group, version and kind.
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// The embedded schema table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaTable {
    /// e.g. `v1.32.0`.
    pub kubernetes_version: String,
    pub kinds: Vec<KindInfo>,
    /// Definition name → OpenAPI v3 schema (refs as `#/components/schemas/NAME`).
    pub definitions: Map<String, Value>,
}

/// The table, parsed on first use.
pub fn table() -> &'static SchemaTable {
    static TABLE: OnceLock<SchemaTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(TABLE_JSON)
            .expect("the embedded schema table is generated JSON and parses")
    })
}

/// The built-in kinds the sandbox serves, in a stable order.
pub fn kinds() -> &'static [KindInfo] {
    &table().kinds
}

/// The kind's entry, or `None` for kinds without a built-in schema (custom resources).
pub fn kind_info(gvk: &Gvk) -> Option<&'static KindInfo> {
    kinds()
        .iter()
        .find(|k| k.kind == gvk.kind && k.group == gvk.group && k.version == gvk.version)
}

/// The root schema of a built-in kind.
pub fn kind_schema(gvk: &Gvk) -> Option<&'static Value> {
    let info = kind_info(gvk)?;
    table().definitions.get(&info.schema)
}

/// Name of the definition a `$ref` points to.
pub fn ref_name(node: &Value) -> Option<&str> {
    node.get("$ref")?.as_str()?.strip_prefix(REF_PREFIX)
}

/// Follows `$ref`s until a schema with content.
pub fn resolve(node: &'static Value) -> &'static Value {
    let mut node = node;
    // Definitions never chain more than a couple of refs; the bound only guards a bad table.
    for _ in 0..8 {
        match ref_name(node).and_then(|name| table().definitions.get(name)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// A position in a kind's schema while walking an object. `None` inside a [`SchemaNode`] means
/// "no schema here" (custom resources, `x-kubernetes-preserve-unknown-fields`, unknown fields):
/// maps are then granular and lists atomic, like structured-merge-diff's deduced schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaNode {
    /// The node as it appears at the field (extensions such as list types live here).
    field: Option<&'static Value>,
    /// The node after following `$ref`.
    resolved: Option<&'static Value>,
}

/// How a list merges, from `x-kubernetes-list-type` and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items are scalars, unique, merged by value.
    Set,
    /// Items are objects keyed by these fields.
    Map(Vec<String>),
}

impl SchemaNode {
    /// The root of a kind (no schema for kinds without one).
    pub fn for_kind(gvk: &Gvk) -> SchemaNode {
        SchemaNode::from_value(kind_schema(gvk))
    }

    /// A node that knows nothing: everything is deduced.
    pub fn unknown() -> SchemaNode {
        SchemaNode {
            field: None,
            resolved: None,
        }
    }

    fn from_value(value: Option<&'static Value>) -> SchemaNode {
        SchemaNode {
            field: value,
            resolved: value.map(resolve),
        }
    }

    /// Whether there is a schema at this position.
    pub fn is_known(&self) -> bool {
        self.resolved.is_some()
    }

    /// The resolved schema, when known.
    pub fn schema(&self) -> Option<&'static Value> {
        self.resolved
    }

    fn extension(&self, name: &str) -> Option<&'static Value> {
        self.field
            .and_then(|f| f.get(name))
            .or_else(|| self.resolved.and_then(|r| r.get(name)))
    }

    /// The schema of field `name` of this object (a property, or a map's value schema).
    pub fn field(&self, name: &str) -> SchemaNode {
        let Some(resolved) = self.resolved else {
            return SchemaNode::unknown();
        };
        if let Some(prop) = resolved.get("properties").and_then(|p| p.get(name)) {
            return SchemaNode::from_value(Some(prop));
        }
        match resolved.get("additionalProperties") {
            Some(value @ Value::Object(_)) => SchemaNode::from_value(Some(value)),
            _ => SchemaNode::unknown(),
        }
    }

    /// The schema of this list's items.
    pub fn items(&self) -> SchemaNode {
        SchemaNode::from_value(self.resolved.and_then(|r| r.get("items")))
    }

    /// Whether this object is a struct with named properties (as opposed to a map).
    pub fn is_struct(&self) -> bool {
        self.resolved
            .is_some_and(|r| r.get("properties").is_some_and(Value::is_object))
    }

    /// Whether fields not in the schema are rejected here (`fieldValidation=Strict`).
    pub fn is_closed(&self) -> bool {
        self.resolved.is_some_and(|r| {
            r.get("additionalProperties") == Some(&Value::Bool(false))
                && r.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
        })
    }

    /// Whether this map or struct is replaced as a whole (`x-kubernetes-map-type: atomic`).
    pub fn is_atomic_map(&self) -> bool {
        self.extension("x-kubernetes-map-type")
            .and_then(Value::as_str)
            == Some("atomic")
    }

    /// The list type for server-side apply; lists without a schema are atomic.
    pub fn list_type(&self) -> ListType {
        match self
            .extension("x-kubernetes-list-type")
            .and_then(Value::as_str)
        {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                self.extension("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        }
    }

    /// `x-kubernetes-patch-strategy` split on commas (`merge`, `retainKeys`, `replace`).
    pub fn patch_strategies(&self) -> Vec<&'static str> {
        self.extension("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .map(|s| s.split(',').map(str::trim).collect())
            .unwrap_or_default()
    }

    /// `x-kubernetes-patch-merge-key`.
    pub fn patch_merge_key(&self) -> Option<&'static str> {
        self.extension("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
    }

    /// The declared `type`, when there is one.
    pub fn type_name(&self) -> Option<&'static str> {
        self.resolved
            .and_then(|r| r.get("type"))
            .and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gvk(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn every_issue_kind_has_a_schema() {
        assert_eq!(kinds().len(), 31);
        for info in kinds() {
            assert!(kind_schema(&info.gvk()).is_some(), "{}", info.kind);
        }
        assert_eq!(table().kubernetes_version, "v1.32.0");
    }

    #[test]
    fn pod_spec_lists_carry_merge_metadata() {
        let deploy = SchemaNode::for_kind(&gvk("apps", "v1", "Deployment"));
        let pod_spec = deploy.field("spec").field("template").field("spec");
        let containers = pod_spec.field("containers");
        assert_eq!(containers.list_type(), ListType::Map(vec!["name".into()]));
        assert_eq!(containers.patch_merge_key(), Some("name"));
        assert_eq!(containers.patch_strategies(), vec!["merge"]);
        let ports = containers.items().field("ports");
        assert_eq!(
            ports.list_type(),
            ListType::Map(vec!["containerPort".into(), "protocol".into()])
        );
        assert_eq!(
            containers.items().field("args").list_type(),
            ListType::Atomic
        );
        assert_eq!(
            pod_spec.field("volumes").patch_strategies(),
            vec!["merge", "retainKeys"]
        );
        assert!(deploy.field("spec").field("selector").is_atomic_map());
        assert_eq!(
            deploy.field("spec").field("strategy").patch_strategies(),
            vec!["retainKeys"]
        );
        let finalizers = deploy.field("metadata").field("finalizers");
        assert_eq!(finalizers.list_type(), ListType::Set);
    }

    #[test]
    fn maps_and_structs_are_told_apart() {
        let cm = SchemaNode::for_kind(&gvk("", "v1", "ConfigMap"));
        assert!(cm.is_struct());
        assert!(cm.is_closed());
        let data = cm.field("data");
        assert!(!data.is_struct());
        assert_eq!(data.field("anything").type_name(), Some("string"));
        assert!(!cm.field("nonsense").is_known());
    }
}
