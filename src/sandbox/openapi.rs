//! The OpenAPI documents served at `/openapi/v2` and `/openapi/v3`, and the per-kind schema
//! metadata (merge keys, list types) that patches and server-side apply need.

use serde_json::Value;

/// `/openapi/v3`: the index of group-version documents.
pub fn v3_index() -> Value {
    serde_json::json!({"paths": {}})
}

/// `/openapi/v3/apis/GROUP/VERSION` or `/openapi/v3/api/v1`; `None` when not served.
pub fn v3_document(_path: &str) -> Option<Value> {
    None
}

/// `/openapi/v2` as JSON.
pub fn v2_document() -> Value {
    serde_json::json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": {}, "definitions": {}})
}
