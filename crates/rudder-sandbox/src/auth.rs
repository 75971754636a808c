//! `--token` and `--read-only-token`: bearer-token authentication and a two-role authorizer, so
//! that clients meet the 401 and 403 answers of a real API server (anonymous access disabled,
//! RBAC denying writes).

use http::Response;

use super::http::{error_response, ApiRequest, Body, RequestHook};
use super::status::ApiError;
use super::trouble::Target;

/// The user a `--token` request runs as (it may do anything).
pub const ADMIN_USER: &str = "rudder-sandbox-admin";
/// The user a `--read-only-token` request runs as (get, list and watch only).
pub const VIEWER_USER: &str = "rudder-sandbox-viewer";

/// Checks `Authorization: Bearer ...` on every Kubernetes request (the `/sandbox/` control API
/// is left open for tests).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// May do anything.
    pub token: Option<String>,
    /// May only read.
    pub read_only_token: Option<String>,
}

/// Who a request is, once authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Admin,
    Viewer,
}

impl TokenAuth {
    fn authenticate(&self, request: &ApiRequest) -> Option<User> {
        let header = request.header("authorization");
        let (scheme, token) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        if self.token.as_deref() == Some(token) {
            Some(User::Admin)
        } else if self.read_only_token.as_deref() == Some(token) {
            Some(User::Viewer)
        } else {
            None
        }
    }
}

impl RequestHook for TokenAuth {
    fn before(&self, request: &ApiRequest) -> Option<Response<Body>> {
        if request.path.starts_with("/sandbox/") {
            return None;
        }
        match self.authenticate(request) {
            None => Some(error_response(request, &ApiError::unauthorized())),
            Some(User::Admin) => None,
            Some(User::Viewer) => {
                let target = Target::of(request);
                if matches!(target.verb.as_str(), "get" | "list" | "watch") {
                    None
                } else {
                    Some(error_response(request, &forbidden(request, &target)))
                }
            }
        }
    }
}

/// The 403 RBAC gives: `secrets "x" is forbidden: User "u" cannot delete resource "secrets" in
/// API group "" in the namespace "default"`.
fn forbidden(request: &ApiRequest, target: &Target) -> ApiError {
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, rest): (&str, &[&str]) = match segments.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (group, rest),
        _ => {
            return ApiError::forbidden(format!(
                "forbidden: User \"{VIEWER_USER}\" cannot {} path \"{}\"",
                target.verb.to_lowercase(),
                request.path
            ))
        }
    };
    let rest = match rest {
        ["namespaces", _ns, tail @ ..] if !tail.is_empty() => tail,
        _ => rest,
    };
    let resource = target.resource.clone().unwrap_or_default();
    let resource = match rest.get(2) {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource,
    };
    let subject = match &target.name {
        Some(name) => format!("{} \"{name}\"", target.resource.as_deref().unwrap_or("")),
        None => target.resource.clone().unwrap_or_default(),
    };
    let scope = match &target.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let mut error = ApiError::forbidden(format!(
        "{subject} is forbidden: User \"{VIEWER_USER}\" cannot {} resource \"{resource}\" in API group \"{group}\" {scope}",
        target.verb
    ));
    let mut details = serde_json::json!({"kind": target.resource});
    if let Some(name) = &target.name {
        details["name"] = serde_json::json!(name);
    }
    if !group.is_empty() {
        details["group"] = serde_json::json!(group);
    }
    error.details = Some(details);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, Method};

    fn request(method: Method, path: &str, token: Option<&str>) -> ApiRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(t) = token {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        ApiRequest {
            method,
            path: path.to_string(),
            query: Default::default(),
            headers,
            body: Default::default(),
        }
    }

    fn auth() -> TokenAuth {
        TokenAuth {
            token: Some("admin".into()),
            read_only_token: Some("viewer".into()),
        }
    }

    #[test]
    fn missing_or_wrong_tokens_are_unauthorized() {
        for token in [None, Some("nope"), Some("")] {
            let answer = auth().before(&request(Method::GET, "/api/v1/namespaces", token));
            assert_eq!(answer.map(|r| r.status().as_u16()), Some(401), "{token:?}");
        }
        let open = auth().before(&request(Method::GET, "/sandbox/requests", None));
        assert!(open.is_none());
    }

    #[test]
    fn the_viewer_reads_and_is_forbidden_to_write() {
        let get = request(
            Method::GET,
            "/api/v1/namespaces/default/secrets",
            Some("viewer"),
        );
        assert!(auth().before(&get).is_none());
        let admin = request(
            Method::DELETE,
            "/api/v1/namespaces/default/secrets/x",
            Some("admin"),
        );
        assert!(auth().before(&admin).is_none());
        let patch = request(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/web/status",
            Some("viewer"),
        );
        let error = forbidden(&patch, &Target::of(&patch));
        assert_eq!(error.code, 403);
        assert_eq!(
            error.message,
            "deployments \"web\" is forbidden: User \"rudder-sandbox-viewer\" cannot patch resource \"deployments/status\" in API group \"apps\" in the namespace \"shop\""
        );
        let create = request(Method::POST, "/api/v1/namespaces", Some("viewer"));
        assert_eq!(
            forbidden(&create, &Target::of(&create)).message,
            "namespaces is forbidden: User \"rudder-sandbox-viewer\" cannot create resource \"namespaces\" in API group \"\" at the cluster scope"
        );
    }
}
