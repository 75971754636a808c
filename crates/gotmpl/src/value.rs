//! The values a Go template works with, modelled on the dynamic types Helm's templates see.
//!
//! Helm hands its templates `map[string]interface{}` trees decoded from YAML/JSON, so the kinds
//! that matter are Go's `nil`, `bool`, `int`/`int64`, `float64`, `string`, `[]interface{}`,
//! `map[string]interface{}` and `[]byte`, plus a few method-bearing objects (`.Files`,
//! `.Capabilities.APIVersions`, times, semver versions) modelled by the [`Object`] trait.
//!
//! Maps are shared and mutable, like Go maps: Sprig's `set`, `unset` and `merge` change a dict in
//! place and every holder of it sees the change (charts rely on that, e.g. `$_ := set $ctx "k" v`).
//! Lists are immutable: Sprig's list functions always return a new slice.

use std::any::Any;
use std::cell::{Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A Go template value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's untyped `nil` (a missing map key, a YAML `null`, an invalid `reflect.Value`).
    #[default]
    Nil,
    Bool(bool),
    /// Go's `int`: template literals, `len`, `range` indexes, Sprig's `int` and `atoi`.
    Int(i64),
    /// Go's `int64`: Helm's `--set` integers, Kubernetes objects from `lookup`, and the results
    /// of Sprig's integer math (`add`, `sub`, `max`, `int64`, ...). It prints like `int` but
    /// `%T`, `typeOf`, `kindOf` and `deepEqual` tell the two apart.
    Int64(i64),
    /// `float64`: every number read from a YAML or JSON file in Helm is one.
    Float(f64),
    String(Rc<str>),
    /// `[]byte`, e.g. from `.Files.GetBytes`.
    Bytes(Rc<[u8]>),
    /// `[]interface{}`.
    List(Rc<Vec<Value>>),
    /// `map[string]interface{}`, shared and mutable.
    Map(Dict),
    /// A method-bearing Go value (`.Files`, `.Capabilities`, a `time.Time`, ...).
    Object(Rc<dyn Object>),
}

/// A Go `map[string]interface{}`: a reference to a mutable map with keys in Go's sorted order.
#[derive(Clone, Default)]
pub struct Dict(Rc<RefCell<BTreeMap<String, Value>>>);

impl Dict {
    /// A new empty map.
    pub fn new() -> Self {
        Dict::default()
    }

    /// Wraps an owned map.
    pub fn from_map(map: BTreeMap<String, Value>) -> Self {
        Dict(Rc::new(RefCell::new(map)))
    }

    /// Borrows the entries. Do not hold the borrow across a call that may mutate the map.
    pub fn borrow(&self) -> Ref<'_, BTreeMap<String, Value>> {
        self.0.borrow()
    }

    /// Borrows the entries mutably (Go's in-place map mutation).
    pub fn borrow_mut(&self) -> RefMut<'_, BTreeMap<String, Value>> {
        self.0.borrow_mut()
    }

    /// The value at `key` (`None` when absent, `Some(Nil)` when present and nil).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0.borrow().get(key).cloned()
    }

    /// Sets `key` in place.
    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.0.borrow_mut().insert(key.into(), value);
    }

    /// Removes `key` in place.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.0.borrow_mut().remove(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.borrow().contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// Keys in sorted order.
    pub fn keys(&self) -> Vec<String> {
        self.0.borrow().keys().cloned().collect()
    }

    /// A snapshot of the entries in sorted key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.0
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether both handles refer to the same Go map.
    pub fn ptr_eq(&self, other: &Dict) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// A shallow copy (a new map holding the same values).
    pub fn shallow_copy(&self) -> Dict {
        Dict::from_map(self.0.borrow().clone())
    }
}

/// A Go value with fields and methods, e.g. Helm's `files` type or `chartutil.VersionSet`.
///
/// Templates reach members with `.Name` (no arguments) or `.Name arg...`; both go through
/// [`Object::member`].
pub trait Object: fmt::Debug {
    /// Go's type name as `%T` prints it (`engine.files`, `time.Time`).
    fn type_name(&self) -> &str;

    /// Go's `reflect.Kind` name as Sprig's `kindOf` prints it (`struct`, `map`, `slice`).
    fn kind_name(&self) -> &str {
        "struct"
    }

    /// The field or method `name` applied to `args`; `None` if the type has no such member.
    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;

    /// The value as Go's `fmt` prints it with `%v` (or its `String()` method).
    fn format(&self) -> String;

    /// Elements for `range`, `len` and `index`, if the Go type is a slice or map.
    fn elements(&self) -> Option<Value> {
        None
    }

    /// The value as a plain [`Value`] tree for `toYaml`/`toJson` (Go's encoders see the struct).
    fn to_data(&self) -> Value {
        Value::from(self.format())
    }

    /// For downcasting in functions that accept a specific object type (e.g. `date` and times).
    fn as_any(&self) -> &dyn Any;
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A map value from owned entries.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Dict::from_map(entries))
    }

    /// An empty map.
    pub fn empty_map() -> Value {
        Value::Map(Dict::new())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string inside, if this is a Go string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Map(d) => Some(d),
            _ => None,
        }
    }

    /// The number inside, if this is any Go integer kind.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Go template truthiness (`if`, `with`, `and`, `or`, `not`): false, 0, nil, and empty
    /// strings, slices and maps are false; everything else (structs included) is true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => match o.elements() {
                Some(v) => v.truthy(),
                None => true,
            },
        }
    }

    /// Sprig's `empty`: the same as "not truthy" for every kind templates see.
    pub fn is_empty(&self) -> bool {
        !self.truthy()
    }

    /// Go's `%T` name of the dynamic type.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's `reflect.Kind` name (Sprig's `kindOf`); `invalid` for nil.
    pub fn kind_name(&self) -> &str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind_name(),
        }
    }

    /// The value as `fmt.Sprint` (`%v`) prints it: `map[a:1 b:2]`, `[a b]`, `1e+06`, `<nil>`.
    pub fn to_go_string(&self) -> String {
        crate::fmt::format_v(self)
    }

    /// Deep copy (Sprig's `deepCopy`): maps become new maps.
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect()),
            Value::Map(m) => Value::map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Converts to plain JSON data (objects via [`Object::to_data`]); non-finite floats become null.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) | Value::Int64(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::String(s) => J::String(s.to_string()),
            // encoding/json writes []byte as base64.
            Value::Bytes(b) => {
                use base64::Engine as _;
                J::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Object(o) => o.to_data().to_json(),
        }
    }
}

impl From<&serde_json::Value> for Value {
    /// JSON numbers that serde_json holds as floats become `float64` (Helm's values from YAML
    /// files); integers become `int64` (Helm's `--set` integers, and the integers of the
    /// unstructured Kubernetes objects `lookup` returns).
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                if n.is_f64() {
                    Value::Float(n.as_f64().unwrap_or(0.0))
                } else if let Some(i) = n.as_i64() {
                    Value::Int64(i)
                } else {
                    Value::Float(n.as_f64().unwrap_or(0.0))
                }
            }
            J::String(s) => Value::str(s),
            J::Array(a) => Value::list(a.iter().map(Value::from).collect()),
            J::Object(o) => Value::map(o.iter().map(|(k, v)| (k.clone(), v.into())).collect()),
        }
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Rc::from(s))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Object(o) => write!(f, "{o:?}"),
            other => f.write_str(&other.to_go_string()),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality as Sprig's `deepEqual` (`reflect.DeepEqual`) sees it: kinds must match.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) | (Value::Int64(a), Value::Int64(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a.ptr_eq(b) || *a.borrow() == *b.borrow(),
            (Value::Object(a), Value::Object(b)) => {
                Rc::ptr_eq(a, b) || (a.type_name() == b.type_name() && a.format() == b.format())
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_floats_stay_float64_and_integers_int() {
        let v = Value::from(&json!({"a": 1.0, "b": 2, "c": [null, "x"]}));
        let d = v.as_dict().unwrap();
        assert!(matches!(d.get("a"), Some(Value::Float(f)) if f == 1.0));
        assert!(matches!(d.get("b"), Some(Value::Int64(2))));
        assert_eq!(v.type_name(), "map[string]interface {}");
    }

    #[test]
    fn truthiness_follows_go() {
        assert!(!Value::Nil.truthy());
        assert!(!Value::Int(0).truthy());
        assert!(!Value::Float(0.0).truthy());
        assert!(!Value::str("").truthy());
        assert!(!Value::list(vec![]).truthy());
        assert!(!Value::empty_map().truthy());
        assert!(Value::str("0").truthy());
        assert!(Value::list(vec![Value::Nil]).truthy());
    }

    #[test]
    fn maps_are_shared_like_go_maps() {
        let d = Dict::new();
        let v = Value::Map(d.clone());
        d.insert("k", Value::Int(1));
        assert_eq!(v.as_dict().unwrap().get("k"), Some(Value::Int(1)));
        let copy = v.deep_copy();
        d.insert("k", Value::Int(2));
        assert_eq!(copy.as_dict().unwrap().get("k"), Some(Value::Int(1)));
    }
}
