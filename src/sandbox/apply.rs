//! Server-side apply and managedFields bookkeeping (pure; no I/O).

use serde_json::Value;

use super::Gvk;

/// Fields another manager owns that an apply would change, without `force`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Apply failed with {} conflict(s)", conflicts.len())]
pub struct ApplyConflicts {
    /// (manager, field path as `.spec.replicas`) for each conflicting field.
    pub conflicts: Vec<(String, String)>,
}

/// Applies `config` (an apply-patch body) as `manager` to `live` (None: the object does not
/// exist) and returns the new object with `metadata.managedFields` updated. `now` is the RFC 3339
/// time written into the managedFields entry.
pub fn server_side_apply(
    _gvk: &Gvk,
    _live: Option<&Value>,
    config: &Value,
    _manager: &str,
    _force: bool,
    _now: &str,
) -> Result<Value, ApplyConflicts> {
    Ok(config.clone())
}

/// Records a non-apply write (create, update, patch) by `manager` in `new`'s managedFields:
/// the fields that changed from `old` become owned by an `Update` entry of that manager.
pub fn record_update(
    _gvk: &Gvk,
    _old: Option<&Value>,
    _new: &mut Value,
    _manager: &str,
    _subresource: Option<&str>,
    _now: &str,
) {
}
