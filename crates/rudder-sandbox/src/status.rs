//! API errors, rendered as `Status` objects with the reason and code a real server uses.

use serde_json::{json, Value};

use super::resources::ResourceType;
use super::validate::{invalid_message, Cause};
use super::Gvk;

/// An error answer of the API server: becomes a `Status` body with `code` as the HTTP status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, ...
    pub reason: String,
    pub message: String,
    /// `details` of the Status, if any.
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with any code and reason.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for a missing object.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", rt.qualified_plural(), name),
        )
        .with_details(details(rt, name))
    }

    /// 404 for a missing namespace on create.
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("namespaces \"{namespace}\" not found"),
        )
        .with_details(json!({"name": namespace, "kind": "namespaces"}))
    }

    /// 404 for a path no resource is served at.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 409 on create of an existing object.
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", rt.qualified_plural(), name),
        )
        .with_details(details(rt, name))
    }

    /// 409 for a stale resourceVersion or failed precondition.
    pub fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                rt.qualified_plural(),
                name,
                why
            ),
        )
        .with_details(details(rt, name))
    }

    /// 409 for the standard stale-resourceVersion message.
    pub fn stale(rt: &ResourceType, name: &str) -> Self {
        Self::conflict(
            rt,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 from server-side apply: fields owned by other managers.
    pub fn apply_conflicts(
        rt: &ResourceType,
        name: &str,
        conflicts: &[(String, String)],
        api_versions: &dyn Fn(&str) -> String,
    ) -> Self {
        let message = if conflicts.len() == 1 {
            let (manager, field) = &conflicts[0];
            format!(
                "Apply failed with 1 conflict: conflict with \"{}\"{}: {}",
                manager,
                api_versions(manager),
                field
            )
        } else {
            let mut text = format!("Apply failed with {} conflicts: ", conflicts.len());
            let lines: Vec<String> = conflicts
                .iter()
                .map(|(m, f)| format!("conflicts with \"{}\"{}:\n- {}", m, api_versions(m), f))
                .collect();
            text.push_str(&lines.join("\n"));
            text
        };
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(m, f)| {
                json!({"reason": "FieldManagerConflict",
                       "message": format!("conflict with \"{}\"{}", m, api_versions(m)),
                       "field": f})
            })
            .collect();
        let mut d = details(rt, name);
        d["causes"] = json!(causes);
        Self::new(409, "Conflict", message).with_details(d)
    }

    /// 422 with field causes.
    pub fn invalid(rt: &ResourceType, name: &str, causes: &[Cause]) -> Self {
        Self::invalid_kind(&rt.gvk, name, causes)
    }

    /// 422 Invalid for an object of `gvk` (also kinds that are not stored, such as `Scale`).
    pub fn invalid_kind(gvk: &Gvk, name: &str, causes: &[Cause]) -> Self {
        let mut d = json!({"name": name, "kind": gvk.kind});
        if !gvk.group.is_empty() {
            d["group"] = json!(gvk.group);
        }
        d["causes"] = json!(causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect::<Vec<_>>());
        Self::new(422, "Invalid", invalid_message(gvk, name, causes)).with_details(d)
    }

    /// 422 for a bad request parameter or body that is not tied to one object field.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 405 for a verb the resource does not serve.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    /// 410 for an expired resourceVersion or continue token.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 406 for an Accept header the server cannot satisfy.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message)
    }

    /// 415 for a body content type the endpoint does not take.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"),
        )
    }

    /// 413 for a body over the 3 MiB limit.
    pub fn too_large() -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        )
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

fn details(rt: &ResourceType, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": rt.plural});
    if !rt.gvk.group.is_empty() {
        d["group"] = json!(rt.gvk.group);
    }
    d
}

/// The `Status` a successful DELETE of a built-in kind returns.
pub fn delete_success(rt: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = details(rt, name);
    d["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}
