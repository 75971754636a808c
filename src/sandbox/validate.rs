//! Validation of built-in kinds (pure; no I/O): what a real server rejects with 422 Invalid.

use serde_json::Value;

use super::Gvk;

/// One reason an object is invalid (a `Status` cause).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, ...
    pub reason: String,
    /// Field path, e.g. `spec.template.metadata.labels`.
    pub field: String,
    pub message: String,
}

/// Validates `new` (and, on update, the change from `old`, e.g. immutable fields).
pub fn validate(_gvk: &Gvk, _new: &Value, _old: Option<&Value>) -> Vec<Cause> {
    Vec::new()
}

/// Paths of fields the kind's schema does not know (for `fieldValidation=Strict|Warn`).
pub fn unknown_fields(_gvk: &Gvk, _object: &Value) -> Vec<String> {
    Vec::new()
}
