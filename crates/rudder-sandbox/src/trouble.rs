//! Trouble on demand: request accounting, fault injection and latency, driven through the
//! sandbox's own control API under `/sandbox/` (never part of the Kubernetes API, never counted
//! or faulted itself).

use std::sync::Mutex;
use std::time::Duration;

use http::{HeaderValue, Method};
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::ApiRequest;
use super::status::ApiError;

/// One answered request, as `GET /sandbox/requests` reports it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub verb: String,
    pub path: String,
    pub content_type: String,
    /// The HTTP status; 0 when the connection was dropped by a `reset` fault.
    pub status: u16,
    pub duration_ms: f64,
}

/// Where a request points: its Kubernetes verb, resource, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub verb: String,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Target {
    /// Classifies a request the way the API server's authorizer does.
    pub fn of(request: &ApiRequest) -> Self {
        let segments: Vec<&str> = request
            .path
            .trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let rest: &[&str] = match segments.as_slice() {
            ["api", _version, rest @ ..] => rest,
            ["apis", _group, _version, rest @ ..] => rest,
            _ => &[],
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
            _ => (None, rest),
        };
        let resource = rest.first().map(|s| s.to_string());
        let name = rest.get(1).map(|s| s.to_string());
        let watching = request
            .query("watch")
            .is_some_and(|w| w == "true" || w == "1");
        let verb = match request.method {
            Method::GET if watching => "watch",
            Method::GET if resource.is_some() && name.is_none() => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if resource.is_some() && name.is_none() => "deletecollection",
            Method::DELETE => "delete",
            _ => "unknown",
        };
        Target {
            verb: verb.to_string(),
            resource,
            namespace,
            name,
        }
    }
}

/// Which requests a fault applies to; an absent field matches anything.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Match {
    pub verb: Option<String>,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl Match {
    fn matches(&self, target: &Target) -> bool {
        fn field(want: &Option<String>, have: &Option<String>) -> bool {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        }
        self.verb.as_ref().is_none_or(|v| *v == target.verb)
            && field(&self.resource, &target.resource)
            && field(&self.namespace, &target.namespace)
            && field(&self.name, &target.name)
    }
}

/// What a matching request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A `Status` answer with this code (429 carries `Retry-After: 1`, in the header and the
    /// Status details).
    Status(u16),
    /// The connection is dropped without an answer.
    Reset,
    /// No answer ever.
    Hang,
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Match,
    failure: Failure,
    /// Failures left; `None` is unlimited.
    remaining: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(rename = "match", default)]
    matcher: Match,
    error: Value,
    times: Option<u64>,
}

/// The shared state behind the control API, consulted on every Kubernetes request.
#[derive(Debug, Default)]
pub struct Trouble {
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<Vec<Rule>>,
    latency: Duration,
    jitter: Duration,
}

impl Trouble {
    /// Trouble with a fixed delay plus up to `jitter` more before every request.
    pub fn new(latency: Duration, jitter: Duration) -> Self {
        Trouble {
            latency,
            jitter,
            ..Default::default()
        }
    }

    /// The delay to apply to one request.
    pub fn delay(&self) -> Duration {
        if self.jitter.is_zero() {
            return self.latency;
        }
        let extra = rand::random_range(0..=self.jitter.as_millis() as u64);
        self.latency + Duration::from_millis(extra)
    }

    /// The failure the first matching rule with failures left prescribes, consuming one.
    pub fn fault_for(&self, request: &ApiRequest) -> Option<Failure> {
        let mut faults = lock(&self.faults);
        if faults.is_empty() {
            return None;
        }
        let target = Target::of(request);
        let rule = faults
            .iter_mut()
            .find(|r| r.remaining != Some(0) && r.matcher.matches(&target))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(rule.failure)
    }

    /// Records one finished request.
    pub fn record(&self, request: &ApiRequest, status: u16, elapsed: Duration) {
        let entry = Recorded {
            verb: Target::of(request).verb,
            path: request.path.clone(),
            content_type: request.header("content-type").to_string(),
            status,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
        };
        lock(&self.requests).push(entry);
    }

    /// Answers a request to the control API (`segments` after `sandbox`).
    pub fn control(&self, request: &ApiRequest, segments: &[&str]) -> Result<Value, ApiError> {
        match (segments, &request.method) {
            (["requests"], &Method::GET) => {
                let requests = lock(&self.requests);
                let list: Vec<Value> = requests
                    .iter()
                    .map(|r| {
                        json!({
                            "verb": r.verb,
                            "path": r.path,
                            "contentType": r.content_type,
                            "status": r.status,
                            "durationMs": r.duration_ms,
                        })
                    })
                    .collect();
                Ok(json!({"count": list.len(), "requests": list}))
            }
            (["requests"], &Method::DELETE) => {
                lock(&self.requests).clear();
                Ok(json!({"count": 0, "requests": []}))
            }
            (["faults"], &Method::GET) => Ok(self.faults_json()),
            (["faults"], &Method::POST) => {
                let rule = parse_rule(&request.body)?;
                lock(&self.faults).push(rule);
                Ok(self.faults_json())
            }
            (["faults"], &Method::DELETE) => {
                lock(&self.faults).clear();
                Ok(self.faults_json())
            }
            (["requests"] | ["faults"], method) => {
                Err(ApiError::method_not_allowed(method.as_str()))
            }
            _ => Err(ApiError::no_route()),
        }
    }

    fn faults_json(&self) -> Value {
        let faults = lock(&self.faults);
        let list: Vec<Value> = faults
            .iter()
            .map(|r| {
                let error = match r.failure {
                    Failure::Status(code) => json!(code),
                    Failure::Reset => json!("reset"),
                    Failure::Hang => json!("hang"),
                };
                json!({
                    "match": {
                        "verb": r.matcher.verb,
                        "resource": r.matcher.resource,
                        "namespace": r.matcher.namespace,
                        "name": r.matcher.name,
                    },
                    "error": error,
                    "remaining": r.remaining,
                })
            })
            .collect();
        json!({"faults": list})
    }
}

/// The Status answer a `Failure::Status` fault gives.
pub fn fault_error(code: u16) -> ApiError {
    let (reason, message) = match code {
        429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
        500 => ("InternalError", "an error on the server (injected by rudder sandbox) has prevented the request from succeeding"),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
        _ => ("InternalError", "injected failure"),
    };
    let mut error = ApiError::new(code, reason, message);
    if code == 429 {
        // As the API server does, the Retry-After header is in the Status details too.
        error.details = Some(json!({"retryAfterSeconds": 1}));
    }
    error
}

/// The `Retry-After` value sent with an injected 429.
pub fn retry_after() -> HeaderValue {
    HeaderValue::from_static("1")
}

fn parse_rule(body: &[u8]) -> Result<Rule, ApiError> {
    let spec: RuleSpec = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("fault rule: {e}")))?;
    let failure = match &spec.error {
        Value::Number(n) => match n.as_u64() {
            Some(code @ (500 | 503 | 429)) => Failure::Status(code as u16),
            _ => return Err(bad_error(&spec.error)),
        },
        Value::String(s) if s == "reset" => Failure::Reset,
        Value::String(s) if s == "hang" => Failure::Hang,
        other => return Err(bad_error(other)),
    };
    const VERBS: [&str; 8] = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    if let Some(verb) = &spec.matcher.verb {
        if !VERBS.contains(&verb.as_str()) {
            return Err(ApiError::bad_request(format!(
                "fault rule: match.verb {verb:?} is not one of {}",
                VERBS.join(", ")
            )));
        }
    }
    Ok(Rule {
        matcher: spec.matcher,
        failure,
        remaining: spec.times,
    })
}

fn bad_error(value: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "fault rule: error {value} is not one of 500, 503, 429, \"reset\", \"hang\""
    ))
}

/// Locks a mutex, recovering from poisoning (a panicking request must not stop accounting).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str) -> ApiRequest {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        ApiRequest {
            method,
            path: path.to_string(),
            query: crate::http::parse_query(query),
            headers: Default::default(),
            body: Default::default(),
        }
    }

    #[test]
    fn requests_are_classified_like_the_authorizer() {
        let t = Target::of(&request(
            Method::PATCH,
            "/apis/apps/v1/namespaces/default/deployments/web",
        ));
        assert_eq!(t.verb, "patch");
        assert_eq!(t.resource.as_deref(), Some("deployments"));
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        let t = Target::of(&request(Method::GET, "/api/v1/namespaces"));
        assert_eq!(
            (t.verb.as_str(), t.resource.as_deref()),
            ("list", Some("namespaces"))
        );
        let t = Target::of(&request(Method::GET, "/api/v1/namespaces/default"));
        assert_eq!(
            (t.verb.as_str(), t.name.as_deref()),
            ("get", Some("default"))
        );
        let t = Target::of(&request(Method::GET, "/api/v1/pods?watch=true"));
        assert_eq!(t.verb, "watch");
    }

    #[test]
    fn a_rule_fails_exactly_its_times_then_lets_requests_through() {
        let trouble = Trouble::default();
        let rule = br#"{"match": {"verb": "patch", "name": "web"}, "error": 503, "times": 2}"#;
        trouble
            .control(
                &ApiRequest {
                    body: rule.to_vec().into(),
                    ..request(Method::POST, "/sandbox/faults")
                },
                &["faults"],
            )
            .unwrap();
        let patch = request(
            Method::PATCH,
            "/apis/apps/v1/namespaces/default/deployments/web",
        );
        let other = request(
            Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/web",
        );
        assert_eq!(trouble.fault_for(&other), None);
        assert_eq!(trouble.fault_for(&patch), Some(Failure::Status(503)));
        assert_eq!(trouble.fault_for(&patch), Some(Failure::Status(503)));
        assert_eq!(trouble.fault_for(&patch), None);
    }

    #[test]
    fn bad_rules_are_refused_with_the_field_named() {
        let err = parse_rule(br#"{"error": 404}"#).unwrap_err();
        assert!(err.to_status()["message"].as_str().unwrap().contains("404"));
        let err = parse_rule(br#"{"match": {"verb": "PATCH"}, "error": 500}"#).unwrap_err();
        assert!(err.to_status()["message"]
            .as_str()
            .unwrap()
            .contains("match.verb"));
    }
}
