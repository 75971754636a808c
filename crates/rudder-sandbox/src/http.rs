//! The HTTP side: accepting connections (HTTP/1.1 and h2c), reading requests within the body
//! limit, routing non-resource paths, and encoding answers (JSON, protobuf, Status errors).
//!
//! Every request passes the server's [`RequestHook`]s first: the seam for request accounting,
//! latency and fault injection, and authentication.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::discovery::{self, Format};
use super::protobuf;
use super::rest;
use super::status::ApiError;
use super::store::Store;
use super::trouble::{fault_error, retry_after, Failure, Trouble};

/// Request bodies above this size are refused with 413, like a real API server.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// A response body: a full buffer or a stream (watches).
pub type Body = BoxBody<Bytes, Infallible>;

/// A request with its body read.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    /// A header as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The User-Agent's product name (before the first `/`): the default field manager.
    pub fn user_agent_product(&self) -> String {
        let ua = self.header("user-agent");
        let product = ua.split('/').next().unwrap_or("").trim();
        if product.is_empty() {
            "unknown".to_string()
        } else {
            product.chars().take(128).collect()
        }
    }
}

/// A hook every request passes through (accounting, latency, faults, authentication).
pub trait RequestHook: Send + Sync {
    /// Called before routing; an answer returned here is sent instead of routing the request.
    fn before(&self, _request: &ApiRequest) -> Option<Response<Body>> {
        None
    }
    /// Called with the response status once the answer is ready.
    fn after(&self, _request: &ApiRequest, _status: StatusCode) {}
}

/// A hook that prints one line per request on stderr: method, path, query, status, user agent.
#[derive(Debug, Default)]
pub struct RequestLog;

impl RequestHook for RequestLog {
    fn after(&self, request: &ApiRequest, status: StatusCode) {
        let mut query: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        query.sort();
        eprintln!(
            "{} {}{}{} -> {} ({}, {})",
            request.method,
            request.path,
            if query.is_empty() { "" } else { "?" },
            query.join("&"),
            status.as_u16(),
            request.header("content-type"),
            request.header("user-agent"),
        );
    }
}

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The version `/version` reports, e.g. `v1.32.4` (kubectl's dispatcher picks its minor).
    pub kube_version: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            kube_version: DEFAULT_KUBE_VERSION.to_string(),
        }
    }
}

/// The Kubernetes version reported unless `--kube-version` says otherwise.
pub const DEFAULT_KUBE_VERSION: &str = "v1.32.4";

/// Serves HTTP/1.1 and HTTP/2 on one connection (plain or TLS) until it closes.
async fn serve_connection<I>(server: Arc<Server>, io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let server = server.clone();
        async move {
            server
                .handle(req)
                .await
                .ok_or_else(|| std::io::Error::other("connection reset by a fault"))
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(e) = builder.serve_connection(io, service).await {
        tracing::debug!("connection ended: {e}");
    }
}

/// The API server: a store plus settings and hooks.
pub struct Server {
    pub store: Arc<Store>,
    pub config: Config,
    hooks: Vec<Arc<dyn RequestHook>>,
    /// Request accounting, faults and latency (the `/sandbox/` control API).
    pub trouble: Arc<Trouble>,
    address: std::sync::OnceLock<String>,
    /// The clock the controllers' timers run on (`/sandbox/clock`).
    pub clock: Arc<super::clock::Clock>,
    /// Set with `--tls`: every connection starts with a TLS handshake.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Server {
    /// A server over `store`.
    pub fn new(store: Arc<Store>, config: Config) -> Self {
        Server {
            store,
            config,
            hooks: Vec::new(),
            trouble: Arc::new(Trouble::default()),
            address: std::sync::OnceLock::new(),
            clock: Arc::new(super::clock::Clock::default()),
            tls: None,
        }
    }

    /// Adds a hook; hooks run in the order added.
    pub fn with_hook(mut self, hook: Arc<dyn RequestHook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Shares `clock` with the controllers, for `/sandbox/clock`.
    pub fn with_clock(mut self, clock: Arc<super::clock::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Serves HTTPS through `acceptor` instead of plain HTTP.
    pub fn with_tls(mut self, acceptor: tokio_rustls::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Replaces the trouble settings (latency, jitter).
    pub fn with_trouble(mut self, trouble: Trouble) -> Self {
        self.trouble = Arc::new(trouble);
        self
    }

    /// Serves connections from `listener` until `shutdown` completes.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        if let Ok(addr) = listener.local_addr() {
            let _ = self.address.set(addr.to_string());
        }
        tokio::pin!(shutdown);
        loop {
            let (stream, _peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                },
                _ = &mut shutdown => return Ok(()),
            };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(stream) => serve_connection(server, TokioIo::new(stream)).await,
                        Err(e) => tracing::debug!("TLS handshake failed: {e}"),
                    },
                    None => serve_connection(server, TokioIo::new(stream)).await,
                }
            });
        }
    }

    /// Answers one HTTP request; `None` drops the connection (an injected `reset`).
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Option<Response<Body>> {
        let started = std::time::Instant::now();
        let (parts, body) = req.into_parts();
        let query = parse_query(parts.uri.query().unwrap_or(""));
        let mut request = ApiRequest {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query,
            headers: parts.headers,
            body: Bytes::new(),
        };
        let declared = request
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let response = if declared.is_some_and(|n| n > MAX_BODY) {
            error_response(&request, &ApiError::too_large())
        } else {
            match Limited::new(body, MAX_BODY).collect().await {
                Ok(collected) => {
                    request.body = collected.to_bytes();
                    let control = request.path.starts_with("/sandbox/");
                    if !control {
                        let delay = self.trouble.delay();
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        match self.trouble.fault_for(&request) {
                            None => {}
                            Some(Failure::Hang) => std::future::pending::<()>().await,
                            Some(Failure::Reset) => {
                                self.trouble.record(&request, 0, started.elapsed());
                                return None;
                            }
                            Some(Failure::Status(code)) => {
                                let mut response = error_response(&request, &fault_error(code));
                                if code == 429 {
                                    response
                                        .headers_mut()
                                        .insert(header::RETRY_AFTER, retry_after());
                                }
                                self.trouble.record(&request, code, started.elapsed());
                                return Some(response);
                            }
                        }
                    }
                    // A bug must cost one request a 500, never the connection or the server.
                    match std::panic::AssertUnwindSafe(self.dispatch(&request))
                        .catch_unwind()
                        .await
                    {
                        Ok(response) => response,
                        Err(_) => error_response(
                            &request,
                            &ApiError::internal("the sandbox failed while handling this request"),
                        ),
                    }
                }
                Err(e) => {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        error_response(&request, &ApiError::too_large())
                    } else {
                        error_response(
                            &request,
                            &ApiError::bad_request(format!("reading the request body: {e}")),
                        )
                    }
                }
            }
        };
        for hook in &self.hooks {
            hook.after(&request, response.status());
        }
        if !request.path.starts_with("/sandbox/") {
            self.trouble
                .record(&request, response.status().as_u16(), started.elapsed());
        }
        Some(response)
    }

    async fn dispatch(self: &Arc<Self>, req: &ApiRequest) -> Response<Body> {
        for hook in &self.hooks {
            if let Some(answer) = hook.before(req) {
                return answer;
            }
        }
        let path = req.path.trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let result = match segments.as_slice() {
            ["sandbox", "clock"] => self.clock.control(req).map(|body| Outcome::json(200, body)),
            ["sandbox", rest @ ..] => self
                .trouble
                .control(req, rest)
                .map(|body| Outcome::json(200, body)),
            ["version"] => Ok(Outcome::json(200, self.version())),
            ["healthz"] | ["readyz"] | ["livez"] => Ok(Outcome::Raw(text_response(200, "ok"))),
            [probe, _check] if matches!(*probe, "healthz" | "readyz" | "livez") => {
                Ok(Outcome::Raw(text_response(200, "ok")))
            }
            ["openapi", "v2"] if req.header("accept").contains(super::openapi::V2_PROTOBUF) => {
                Ok(Outcome::Raw(bytes_response(
                    200,
                    super::openapi::V2_PROTOBUF_RETURNED,
                    super::openapi::v2_protobuf(&self.config.kube_version),
                )))
            }
            ["openapi", "v2"] if accepts_json(req) => {
                Ok(Outcome::json(200, super::openapi::v2_document()))
            }
            // Like a real server asked for a format it does not have.
            ["openapi", "v2"] => Err(ApiError::not_acceptable(format!(
                "only application/json and {} are served at /openapi/v2, not {}",
                super::openapi::V2_PROTOBUF,
                req.header("accept")
            ))),
            ["openapi", "v3"] => Ok(Outcome::json(200, self.openapi_index())),
            ["openapi", "v3", rest @ ..] => self
                .openapi_document(&rest.join("/"))
                .map(|doc| Outcome::json(200, doc))
                .ok_or_else(ApiError::no_route),
            ["api"] => {
                let format = Format::negotiate(req.header("accept"));
                let address = self.address.get().cloned().unwrap_or_default();
                let doc = self
                    .store
                    .read(|st| discovery::core_root(st.catalog(), format, &address));
                Ok(Outcome::discovery(format, doc))
            }
            ["apis"] => {
                let format = Format::negotiate(req.header("accept"));
                let doc = self
                    .store
                    .read(|st| discovery::groups_root(st.catalog(), format));
                Ok(Outcome::discovery(format, doc))
            }
            ["api", "v1"] => self
                .store
                .read(|st| discovery::resource_list(st.catalog(), "", "v1"))
                .map(|d| Outcome::json(200, d))
                .ok_or_else(ApiError::no_route),
            ["apis", group] => self
                .store
                .read(|st| discovery::group(st.catalog(), group))
                .map(|d| Outcome::json(200, d))
                .ok_or_else(ApiError::no_route),
            ["apis", group, version] => self
                .store
                .read(|st| discovery::resource_list(st.catalog(), group, version))
                .map(|d| Outcome::json(200, d))
                .ok_or_else(ApiError::no_route),
            ["api", "v1", rest @ ..] => rest::handle(self, req, "", "v1", rest).await,
            ["apis", group, version, rest @ ..] => {
                rest::handle(self, req, group, version, rest).await
            }
            [] => Ok(Outcome::json(
                200,
                json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"]}),
            )),
            _ => Err(ApiError::no_route()),
        };
        match result {
            Ok(outcome) => outcome.into_response(req),
            Err(e) => error_response(req, &e),
        }
    }

    /// The v3 index: the built-in documents plus one per served custom group-version.
    fn openapi_index(&self) -> Value {
        let mut index = super::openapi::v3_index();
        let custom = self.store.read(|st| {
            let types: Vec<&super::resources::ResourceType> = st
                .catalog()
                .types()
                .iter()
                .filter(|t| !t.builtin)
                .map(|t| t.as_ref())
                .collect();
            super::custom::index_entries(&types, &crd_objects(st))
        });
        if let Some(paths) = index["paths"].as_object_mut() {
            paths.extend(custom);
        }
        index
    }

    fn openapi_document(&self, path: &str) -> Option<Value> {
        if let Some(doc) = super::openapi::v3_document(path) {
            return Some(doc);
        }
        let (group, version) = path.strip_prefix("apis/")?.split_once('/')?;
        self.store.read(|st| {
            let types: Vec<&super::resources::ResourceType> = st
                .catalog()
                .types()
                .iter()
                .filter(|t| !t.builtin && t.gvk.group == group && t.gvk.version == version)
                .map(|t| t.as_ref())
                .collect();
            if types.is_empty() {
                return None;
            }
            Some(super::custom::document(
                &types,
                &crd_objects(st),
                group,
                version,
            ))
        })
    }

    fn version(&self) -> Value {
        let v = self.config.kube_version.trim_start_matches('v');
        let mut parts = v.split('.');
        let major = parts.next().unwrap_or("1").to_string();
        let minor = parts.next().unwrap_or("32").to_string();
        json!({
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "gitVersion": format!("v{v}"),
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2025-04-22T16:00:00Z",
            "goVersion": "go1.23.6",
            "compiler": "gc",
            "platform": "linux/amd64",
        })
    }
}

fn crd_objects(st: &super::store::State) -> Vec<Value> {
    let key = super::resources::ResourceKey {
        group: "apiextensions.k8s.io".into(),
        plural: "customresourcedefinitions".into(),
    };
    st.list(&key, None).map(|(_, v)| (**v).clone()).collect()
}

/// Whether the Accept header allows JSON (or anything).
fn accepts_json(req: &ApiRequest) -> bool {
    let accept = req.header("accept");
    accept.is_empty() || accept.contains("json") || accept.contains("*/*")
}

/// What a handler produced.
pub enum Outcome {
    /// An API object (or Status) answered with `code`, plus `Warning` headers.
    Object {
        code: u16,
        body: Value,
        warnings: Vec<String>,
        content_type: Option<&'static str>,
    },
    /// A stored object answered as it is (no copy), plus `Warning` headers.
    Stored {
        code: u16,
        body: Arc<Value>,
        warnings: Vec<String>,
    },
    /// A ready response (watch streams, plain text).
    Raw(Response<Body>),
}

impl Outcome {
    /// A JSON answer.
    pub fn json(code: u16, body: Value) -> Self {
        Outcome::Object {
            code,
            body,
            warnings: Vec::new(),
            content_type: None,
        }
    }

    /// An object answer with warnings.
    pub fn object(code: u16, body: Value, warnings: Vec<String>) -> Self {
        Outcome::Object {
            code,
            body,
            warnings,
            content_type: None,
        }
    }

    /// A JSON answer with a specific Content-Type (Tables, discovery documents).
    pub fn typed(code: u16, body: Value, content_type: &'static str) -> Self {
        Outcome::Object {
            code,
            body,
            warnings: Vec::new(),
            content_type: Some(content_type),
        }
    }

    fn discovery(format: Format, body: Value) -> Self {
        Outcome::Object {
            code: 200,
            body,
            warnings: Vec::new(),
            content_type: Some(format.content_type()),
        }
    }

    /// A stored object (shared, never copied) with warnings.
    pub fn stored(code: u16, body: Arc<Value>, warnings: Vec<String>) -> Self {
        Outcome::Stored {
            code,
            body,
            warnings,
        }
    }

    fn into_response(self, req: &ApiRequest) -> Response<Body> {
        match self {
            Outcome::Raw(r) => r,
            Outcome::Stored {
                code,
                body,
                warnings,
            } => with_warnings(encode_object(req, code, &body), warnings),
            Outcome::Object {
                code,
                body,
                warnings,
                content_type,
            } => {
                let response = match content_type {
                    Some(ct) => {
                        bytes_response(code, ct, serde_json::to_vec(&body).unwrap_or_default())
                    }
                    None => encode_object(req, code, &body),
                };
                with_warnings(response, warnings)
            }
        }
    }
}

/// Adds one `Warning: 299 - "..."` header per warning, as kubectl prints them.
fn with_warnings(mut response: Response<Body>, warnings: Vec<String>) -> Response<Body> {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// Whether the client prefers Kubernetes protobuf (its first Accept entry).
pub fn prefers_protobuf(req: &ApiRequest) -> bool {
    req.header("accept")
        .split(',')
        .next()
        .is_some_and(|first| first.trim().starts_with(protobuf::MEDIA_TYPE))
}

/// Encodes an object as the client prefers: protobuf for the kinds that have an encoding here
/// when asked first, JSON otherwise.
pub fn encode_object(req: &ApiRequest, code: u16, body: &Value) -> Response<Body> {
    if prefers_protobuf(req) {
        if let Some(bytes) = protobuf::encode(body) {
            return bytes_response(code, protobuf::MEDIA_TYPE, bytes);
        }
    }
    bytes_response(
        code,
        "application/json",
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

/// The Status answer for an error.
pub fn error_response(req: &ApiRequest, error: &ApiError) -> Response<Body> {
    encode_object(req, error.code, &error.to_status())
}

/// A buffered response.
pub fn bytes_response(code: u16, content_type: &str, bytes: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(bytes)).boxed());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    r
}

fn text_response(code: u16, text: &str) -> Response<Body> {
    bytes_response(code, "text/plain; charset=utf-8", text.as_bytes().to_vec())
}

/// Parses a query string (percent-decoding keys and values).
pub fn parse_query(query: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k), percent_decode(v));
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_percent_decoded() {
        let q = parse_query("labelSelector=name%3Ddemo%2Cowner%3Dhelm&watch=true&x=%zz&y=%4");
        assert_eq!(q["labelSelector"], "name=demo,owner=helm");
        assert_eq!(q["watch"], "true");
        assert_eq!(q["x"], "%zz");
        assert_eq!(q["y"], "%4");
    }
}
