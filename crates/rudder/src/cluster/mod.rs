//! The cluster: a thin, typed layer over `kube` (kubeconfig, discovery, server-side apply, get,
//! delete, watch-based readiness).
//!
//! Objects travel as JSON (`serde_json::Value`) because rendered manifests are arbitrary kinds;
//! [`Cluster::resolve`] maps `apiVersion`/`kind` to the server's resource through one discovery
//! pass per command. Every call names the object in its error and carries the server's message.
//! Transient failures (429, 500, 502, 503, 504, connection resets) are retried with backoff here,
//! so callers see only permanent errors.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, PropagationPolicy,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::Client;
use serde_json::Value;

pub mod readiness;
mod wait;

pub use readiness::{readiness, Readiness};
pub use wait::{UnreadyObject, WaitError, WaitEvent};

/// Field manager rudder applies with.
pub const FIELD_MANAGER: &str = "rudder";

/// How to reach the cluster: Helm's global flags.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig` (else `KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// `--kube-context`.
    pub context: Option<String>,
    /// `-n/--namespace`; `None` uses the context's namespace or `default`.
    pub namespace: Option<String>,
}

/// Something the cluster refused or could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or has no usable context.
    #[error("cannot use the kubeconfig{}: {message}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Config {
        path: Option<PathBuf>,
        message: String,
    },
    /// Discovery failed.
    #[error("cannot discover the cluster's API resources: {message}")]
    Discovery { message: String },
    /// The server does not serve this kind.
    #[error(
        "the cluster does not serve kind {kind} in {api_version} (is its CustomResourceDefinition installed?)"
    )]
    UnknownKind { api_version: String, kind: String },
    /// A request about one object failed.
    #[error("cannot {verb} {object}: {message}")]
    Api {
        verb: &'static str,
        object: String,
        /// HTTP status code (0 for transport failures).
        code: u16,
        /// Kubernetes' machine-readable reason (`Conflict`, `AlreadyExists`, `Invalid`...).
        reason: String,
        message: String,
        /// Field manager conflicts (`409` of an apply): (field, manager).
        conflicts: Vec<(String, String)>,
    },
    /// The server's TLS certificate could not be verified (wrong CA, wrong name, expired).
    #[error("cannot verify the TLS certificate of {server}: {message}")]
    Tls { server: String, message: String },
    /// The operation's `--timeout` passed while a request was unanswered or being retried.
    #[error("timed out after {after} waiting for {what}")]
    Timeout {
        /// The operation's whole budget (`10s`).
        after: String,
        /// The request (`PATCH deployments/app`).
        what: String,
    },
    /// An object is not valid JSON/Kubernetes shape.
    #[error("{object} is not a valid Kubernetes object: {message}")]
    Invalid { object: String, message: String },
}

impl ClusterError {
    /// The HTTP status code of an API error, if any.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } if *code != 0 => Some(*code),
            _ => None,
        }
    }

    /// Whether the server answered 404.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    /// Whether the server answered 409 Conflict (a stale resourceVersion).
    pub fn is_conflict(&self) -> bool {
        matches!(self, ClusterError::Api { reason, .. } if reason == "Conflict")
    }

    /// Whether the server answered 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, ClusterError::Api { reason, .. } if reason == "AlreadyExists")
    }
}

/// Identifies one object in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// Reads the reference from an object's `apiVersion`, `kind` and metadata.
    pub fn of(obj: &Value) -> ObjectRef {
        ObjectRef {
            api_version: obj["apiVersion"].as_str().unwrap_or_default().to_string(),
            kind: obj["kind"].as_str().unwrap_or_default().to_string(),
            namespace: obj["metadata"]["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            name: obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A kind resolved through discovery.
#[derive(Debug, Clone)]
pub struct Resource {
    pub api: ApiResource,
    pub namespaced: bool,
}

/// Options of one server-side apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Take over fields owned by other managers (`force=true`).
    pub force: bool,
    /// Server-side dry run (`dryRun=All`): nothing is persisted.
    pub dry_run: bool,
}

/// How deleting an owner treats its dependents (`--cascade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cascade {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// A connected cluster with its discovered resources.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    /// The API server's URL, for errors that are about the server itself.
    server: String,
    namespace: String,
    resources: Arc<RwLock<Option<Arc<Discovery>>>>,
    /// How long requests may take, and who hears about retries.
    budget: Budget,
    warnings: Vec<String>,
}

/// A sink for retry lines.
type RetryReport = Arc<dyn Fn(&str) + Send + Sync>;

/// What bounds the requests of one operation.
#[derive(Clone, Default)]
struct Budget {
    /// When the operation must end (`--timeout`).
    deadline: Option<Deadline>,
    /// Told about each retry (the CLI prints it on stderr).
    on_retry: Option<RetryReport>,
}

/// The end of an operation's time budget.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: tokio::time::Instant,
    /// The whole budget, for messages (`timed out after 10s`).
    budget: Duration,
}

/// The longest one request may take without an answer when no deadline is nearer: a request
/// that never answers is given up and retried (connect timeouts included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Budget {
    /// `timeout` shortened to what is left before the deadline.
    fn bounded(&self, timeout: Duration) -> Duration {
        match self.deadline {
            Some(d) => timeout.min(d.at.saturating_duration_since(tokio::time::Instant::now())),
            None => timeout,
        }
    }

    fn timed_out(&self, what: &str) -> CallError {
        CallError::Deadline {
            budget: self.deadline.map_or(REQUEST_TIMEOUT, |d| d.budget),
            what: what.to_string(),
        }
    }

    /// Runs one request, again on transient errors (429, 500, 502, 503, 504, broken or
    /// unanswered connections) up to [`ATTEMPTS`] attempts in all, honouring the server's
    /// Retry-After; each attempt is bounded by [`REQUEST_TIMEOUT`] and by the deadline.
    /// `what` names the request in retry lines and errors (`PATCH deployments/app`).
    async fn retrying<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut attempt = 0;
        loop {
            let left = self.bounded(REQUEST_TIMEOUT);
            if left.is_zero() {
                return Err(self.timed_out(what));
            }
            let (delay, reason) = match tokio::time::timeout(left, call()).await {
                Ok(Ok(found)) => return Ok(found),
                Ok(Err(err)) if attempt + 1 < ATTEMPTS && is_transient(&err) => {
                    (retry_delay(&err, attempt), transient_reason(&err))
                }
                Ok(Err(err)) => return Err(CallError::Kube(err)),
                Err(_) if self.bounded(REQUEST_TIMEOUT).is_zero() => {
                    return Err(self.timed_out(what))
                }
                Err(_) if attempt + 1 < ATTEMPTS => (
                    Duration::ZERO,
                    format!("no answer within {}s", left.as_secs()),
                ),
                Err(_) => return Err(CallError::NoAnswer { after: left }),
            };
            if self.bounded(delay) < delay {
                // The server asks for more time than the operation has left.
                return Err(self.timed_out(what));
            }
            attempt += 1;
            let line = format!(
                "retrying {what}: {reason} (attempt {}/{ATTEMPTS})",
                attempt + 1
            );
            tracing::debug!("{line}");
            if let Some(report) = &self.on_retry {
                report(&line);
            }
            tokio::time::sleep(delay).await;
        }
    }
}

impl Cluster {
    /// Connects using the kubeconfig, context and namespace the user chose. No request is sent.
    pub async fn connect(options: &ConnectOptions) -> Result<Cluster, ClusterError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            cluster: None,
            user: None,
        };
        let config_error = |message: String| ClusterError::Config {
            path: options.kubeconfig.clone(),
            message,
        };
        let mut config = match &options.kubeconfig {
            Some(path) => {
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|e| config_error(e.to_string()))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                    .await
                    .map_err(|e| config_error(e.to_string()))?
            }
            None => kube::Config::from_kubeconfig(&kube_options)
                .await
                .map_err(|e| config_error(e.to_string()))?,
        };
        if let Some(ns) = &options.namespace {
            config.default_namespace = ns.clone();
        }
        // kube's retry layer retries 429/503/504 without a bound; `Budget::retrying` retries
        // them with 500s, 502s and broken connections within one budget and the deadline.
        config.default_retry = false;
        config.connect_timeout = Some(REQUEST_TIMEOUT);
        let namespace = config.default_namespace.clone();
        let server = config.cluster_url.to_string();
        let mut warnings = Vec::new();
        if config.cluster_url.scheme_str() == Some("http") && carries_credentials(&config.auth_info)
        {
            // As kubectl: tokens, passwords and client keys travel only over TLS.
            config.auth_info = kube::config::AuthInfo::default();
            warnings.push(format!(
                "the kubeconfig's credentials were not sent to {}: the connection is not encrypted (use an https:// server)",
                server.trim_end_matches('/')
            ));
        }
        let client = Client::try_from(config).map_err(|e| config_error(e.to_string()))?;
        Ok(Cluster {
            client,
            server: server.trim_end_matches('/').to_string(),
            namespace,
            resources: Arc::new(RwLock::new(None)),
            budget: Budget::default(),
            warnings,
        })
    }

    /// Warnings about how the cluster is reached (credentials withheld from a plain-HTTP
    /// server), for the CLI to print once.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The same cluster for an operation that must end within `budget` from now: every request
    /// and wait is bounded by what is left, and one still unanswered at the end fails with
    /// [`ClusterError::Timeout`].
    pub fn with_budget(&self, budget: Duration) -> Cluster {
        let mut bounded = self.clone();
        bounded.budget.deadline = Some(Deadline {
            at: tokio::time::Instant::now() + budget,
            budget,
        });
        bounded
    }

    /// Reports every retry to `report` (one line each, e.g.
    /// `retrying PATCH deployments/app: 503 ServiceUnavailable (attempt 2/5)`).
    pub fn report_retries(&mut self, report: impl Fn(&str) + Send + Sync + 'static) {
        self.budget.on_retry = Some(Arc::new(report));
    }

    /// `timeout` shortened to what is left of the operation's budget.
    pub fn bounded(&self, timeout: Duration) -> Duration {
        self.budget.bounded(timeout)
    }

    async fn retrying<T, F, Fut>(&self, what: &str, call: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        self.budget.retrying(what, call).await
    }

    /// The namespace commands act in: `-n`, else the context's, else `default`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The underlying kube client, for callers that need a typed API.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The server's version as `(major, minor, gitVersion)`.
    pub async fn server_version(&self) -> Result<(String, String, String), ClusterError> {
        let info = self
            .retrying("GET /version", || self.client.apiserver_version())
            .await
            .map_err(|e| self.api_error("read the version of", "the API server".into(), e))?;
        Ok((info.major, info.minor, info.git_version))
    }

    /// Runs discovery (once per command; again after [`Cluster::forget_discovery`]).
    async fn discovery(&self) -> Result<Arc<Discovery>, ClusterError> {
        if let Some(found) = self.resources.read().ok().and_then(|g| g.clone()) {
            return Ok(found);
        }
        // Discovery is several requests; all of them together get one request's bound.
        let left = self.bounded(REQUEST_TIMEOUT);
        let timed_out = || match self.budget.deadline {
            Some(d) if self.bounded(REQUEST_TIMEOUT).is_zero() => ClusterError::Timeout {
                after: wait::format_duration(d.budget),
                what: "GET /apis (discovery)".into(),
            },
            _ => ClusterError::Discovery {
                message: format!("the server did not answer within {}s", left.as_secs()),
            },
        };
        let aggregated = Discovery::new(self.client.clone()).run_aggregated();
        let discovery = match tokio::time::timeout(left, aggregated).await {
            Err(_) => return Err(timed_out()),
            Ok(Ok(d)) => d,
            Ok(Err(_)) => {
                let left = self.bounded(REQUEST_TIMEOUT);
                let each = Discovery::new(self.client.clone()).run();
                tokio::time::timeout(left, each)
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|e| match tls_failure(&e) {
                        Some(message) => ClusterError::Tls {
                            server: self.server.clone(),
                            message,
                        },
                        None => ClusterError::Discovery {
                            message: error_chain(&e),
                        },
                    })?
            }
        };
        let discovery = Arc::new(discovery);
        if let Ok(mut guard) = self.resources.write() {
            *guard = Some(discovery.clone());
        }
        Ok(discovery)
    }

    /// Drops the cached discovery (after CRDs were installed, so their kinds resolve).
    pub fn forget_discovery(&self) {
        if let Ok(mut guard) = self.resources.write() {
            *guard = None;
        }
    }

    /// Every `group/version` and `group/version/Kind` the server serves (`.Capabilities.APIVersions`).
    pub async fn api_versions(&self) -> Result<Vec<String>, ClusterError> {
        let discovery = self.discovery().await?;
        let mut out = Vec::new();
        for group in discovery.groups() {
            for version in group.versions() {
                let gv = if group.name().is_empty() {
                    version.to_string()
                } else {
                    format!("{}/{}", group.name(), version)
                };
                for (ar, _) in group.versioned_resources(version) {
                    out.push(format!("{gv}/{}", ar.kind));
                }
                out.push(gv);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Resolves `apiVersion`/`kind` to the server's resource.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resource, ClusterError> {
        let discovery = self.discovery().await?;
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let (api, caps): (ApiResource, ApiCapabilities) =
            discovery
                .resolve_gvk(&gvk)
                .ok_or_else(|| ClusterError::UnknownKind {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                })?;
        Ok(Resource {
            api,
            namespaced: caps.scope == Scope::Namespaced,
        })
    }

    fn dynamic_api(&self, resource: &Resource, namespace: Option<&str>) -> Api<DynamicObject> {
        match (resource.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resource.api),
            (true, None) => {
                Api::namespaced_with(self.client.clone(), &self.namespace, &resource.api)
            }
            (false, _) => Api::all_with(self.client.clone(), &resource.api),
        }
    }

    /// Fills in the namespace of a namespaced object that has none (with `default_ns`) and drops
    /// it from a cluster-scoped one, as Helm does. Returns the object's reference.
    pub async fn place(
        &self,
        obj: &mut Value,
        default_ns: &str,
    ) -> Result<ObjectRef, ClusterError> {
        let reference = ObjectRef::of(obj);
        let resource = self
            .resolve(&reference.api_version, &reference.kind)
            .await?;
        let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(ClusterError::Invalid {
                object: format!("{} {}", reference.kind, reference.name),
                message: "it has no metadata".into(),
            });
        };
        if resource.namespaced {
            if reference.namespace.is_none() {
                meta.insert("namespace".into(), Value::String(default_ns.to_string()));
            }
        } else {
            meta.remove("namespace");
        }
        Ok(ObjectRef::of(obj))
    }

    /// Server-side applies `obj` with field manager `rudder`; returns the object as stored.
    pub async fn apply(&self, obj: &Value, options: ApplyOptions) -> Result<Value, ClusterError> {
        self.apply_as(obj, options, FIELD_MANAGER).await
    }

    /// `apply` under another field manager: the one that applied a release before rudder took
    /// it over (see `release::apply`), so ownership is not split between two managers.
    pub async fn apply_as(
        &self,
        obj: &Value,
        options: ApplyOptions,
        manager: &str,
    ) -> Result<Value, ClusterError> {
        let reference = ObjectRef::of(obj);
        let resource = self
            .resolve(&reference.api_version, &reference.kind)
            .await?;
        let api = self.dynamic_api(&resource, reference.namespace.as_deref());
        let mut params = PatchParams::apply(manager);
        params.force = options.force;
        params.dry_run = options.dry_run;
        let what = format!("PATCH {}/{}", resource.api.plural, reference.name);
        let result = self
            .retrying(&what, || {
                let patch = Patch::Apply(obj);
                let api = api.clone();
                let params = params.clone();
                let name = reference.name.clone();
                async move { api.patch(&name, &params, &patch).await }
            })
            .await;
        let stored = result.map_err(|e| self.api_error("apply", reference.to_string(), e))?;
        to_json(&reference, stored)
    }

    /// Reads an object; `None` when it does not exist.
    pub async fn get(&self, reference: &ObjectRef) -> Result<Option<Value>, ClusterError> {
        let resource = self
            .resolve(&reference.api_version, &reference.kind)
            .await?;
        let api = self.dynamic_api(&resource, reference.namespace.as_deref());
        let what = format!("GET {}/{}", resource.api.plural, reference.name);
        let found = self
            .retrying(&what, || api.get_opt(&reference.name))
            .await
            .map_err(|e| self.api_error("read", reference.to_string(), e))?;
        found.map(|o| to_json(reference, o)).transpose()
    }

    /// Lists the objects of a kind in a namespace (all namespaces for `None` on a namespaced kind),
    /// optionally filtered by a label selector.
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        labels: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        let resource = self.resolve(api_version, kind).await?;
        let api: Api<DynamicObject> = match (resource.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resource.api),
            _ => Api::all_with(self.client.clone(), &resource.api),
        };
        let mut params = ListParams::default();
        if let Some(selector) = labels {
            params = params.labels(selector);
        }
        let what = match namespace {
            Some(ns) => format!("{kind} objects in namespace {ns}"),
            None => format!("{kind} objects"),
        };
        let request = format!("GET {}", resource.api.plural);
        let list = self
            .retrying(&request, || api.list(&params))
            .await
            .map_err(|e| self.api_error("list", what.clone(), e))?;
        let mut out = Vec::with_capacity(list.items.len());
        for item in list.items {
            let mut value = serde_json::to_value(item).map_err(|e| ClusterError::Invalid {
                object: what.clone(),
                message: e.to_string(),
            })?;
            // Lists omit each item's apiVersion/kind; readiness and references need them.
            value["apiVersion"] = Value::String(api_version.to_string());
            value["kind"] = Value::String(kind.to_string());
            out.push(value);
        }
        Ok(out)
    }

    /// Deletes an object; `false` when it was already gone.
    pub async fn delete(
        &self,
        reference: &ObjectRef,
        cascade: Cascade,
    ) -> Result<bool, ClusterError> {
        let resource = self
            .resolve(&reference.api_version, &reference.kind)
            .await?;
        let api = self.dynamic_api(&resource, reference.namespace.as_deref());
        let params = DeleteParams {
            propagation_policy: Some(match cascade {
                Cascade::Background => PropagationPolicy::Background,
                Cascade::Foreground => PropagationPolicy::Foreground,
                Cascade::Orphan => PropagationPolicy::Orphan,
            }),
            ..Default::default()
        };
        let what = format!("DELETE {}/{}", resource.api.plural, reference.name);
        match self
            .retrying(&what, || api.delete(&reference.name, &params))
            .await
        {
            Ok(_) => Ok(true),
            Err(CallError::Kube(kube::Error::Api(status))) if status.code == 404 => Ok(false),
            Err(e) => Err(self.api_error("delete", reference.to_string(), e)),
        }
    }

    fn secrets(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Creates a Secret; fails with `AlreadyExists` if one of that name exists (the release lock).
    pub async fn create_secret(&self, secret: &Secret) -> Result<Secret, ClusterError> {
        let ns = secret
            .metadata
            .namespace
            .as_deref()
            .unwrap_or(&self.namespace);
        let name = secret.metadata.name.clone().unwrap_or_default();
        let api = self.secrets(ns);
        self.retrying(&format!("POST secrets/{name}"), || async {
            api.create(&PostParams::default(), secret).await
        })
        .await
        .map_err(|e| self.api_error("create", format!("Secret {ns}/{name}"), e))
    }

    /// Replaces a Secret: unconditionally as Helm's driver does, or, when the Secret carries a
    /// resourceVersion, only if nobody wrote it since (409 Conflict otherwise).
    pub async fn replace_secret(&self, secret: &Secret) -> Result<Secret, ClusterError> {
        let ns = secret
            .metadata
            .namespace
            .as_deref()
            .unwrap_or(&self.namespace);
        let name = secret.metadata.name.clone().unwrap_or_default();
        let api = self.secrets(ns);
        self.retrying(&format!("PUT secrets/{name}"), || async {
            api.replace(&name, &PostParams::default(), secret).await
        })
        .await
        .map_err(|e| self.api_error("update", format!("Secret {ns}/{name}"), e))
    }

    /// Reads a Secret; `None` when it does not exist.
    pub async fn get_secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Secret>, ClusterError> {
        let api = self.secrets(namespace);
        self.retrying(&format!("GET secrets/{name}"), || api.get_opt(name))
            .await
            .map_err(|e| self.api_error("read", format!("Secret {namespace}/{name}"), e))
    }

    /// Lists Secrets by label selector in one namespace, or all namespaces for `None`.
    pub async fn list_secrets(
        &self,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Secret>, ClusterError> {
        let api: Api<Secret> = match namespace {
            Some(ns) => self.secrets(ns),
            None => Api::all(self.client.clone()),
        };
        let params = ListParams::default().labels(selector);
        let what = match namespace {
            Some(ns) => format!("Secrets in namespace {ns}"),
            None => "Secrets in all namespaces".to_string(),
        };
        let list = self
            .retrying("GET secrets", || api.list(&params))
            .await
            .map_err(|e| self.api_error("list", what.clone(), e))?;
        Ok(list.items)
    }

    /// Deletes a Secret; `false` when it was already gone.
    pub async fn delete_secret(&self, namespace: &str, name: &str) -> Result<bool, ClusterError> {
        let api = self.secrets(namespace);
        let what = format!("DELETE secrets/{name}");
        match self
            .retrying(&what, || async {
                api.delete(name, &DeleteParams::default()).await
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(CallError::Kube(kube::Error::Api(status))) if status.code == 404 => Ok(false),
            Err(e) => Err(self.api_error("delete", format!("Secret {namespace}/{name}"), e)),
        }
    }

    /// Watches the given objects until each is ready, one watch per kind and namespace (no
    /// polling). Reports every change of an object's readiness to `progress`. On timeout or when
    /// an object fails, returns each unready object with the cluster's reason (for workloads,
    /// including their pods' waiting reasons such as `ImagePullBackOff`).
    pub async fn wait_ready(
        &self,
        objects: &[ObjectRef],
        timeout: Duration,
        progress: &(dyn Fn(WaitEvent) + Send + Sync),
    ) -> Result<(), WaitError> {
        let result = wait::wait_ready(self, objects, self.bounded(timeout), progress).await;
        in_full(result, timeout)
    }

    /// An error about `object` from `err`; TLS failures name the server instead.
    fn api_error(&self, verb: &'static str, object: String, err: CallError) -> ClusterError {
        let err = match err {
            CallError::Kube(err) => err,
            CallError::Deadline { budget, what } => {
                return ClusterError::Timeout {
                    after: wait::format_duration(budget),
                    what,
                }
            }
            CallError::NoAnswer { after } => {
                return ClusterError::Api {
                    verb,
                    object,
                    code: 0,
                    reason: String::new(),
                    message: format!(
                    "the server did not answer within {}s (still silent after {ATTEMPTS} attempts)",
                    after.as_secs()
                ),
                    conflicts: Vec::new(),
                }
            }
        };
        match tls_failure(&err) {
            Some(message) => ClusterError::Tls {
                server: self.server.clone(),
                message,
            },
            None => api_error(verb, object, err),
        }
    }

    /// Waits until the objects no longer exist (after a delete), by watching.
    pub async fn wait_deleted(
        &self,
        objects: &[ObjectRef],
        timeout: Duration,
    ) -> Result<(), WaitError> {
        let result = wait::wait_deleted(self, objects, self.bounded(timeout)).await;
        in_full(result, timeout)
    }
}

/// Whether a kubeconfig user has anything that authenticates: a token, a password, a client
/// certificate or key, an exec plugin or an auth provider.
fn carries_credentials(user: &kube::config::AuthInfo) -> bool {
    user.token.is_some()
        || user.token_file.is_some()
        || user.username.is_some()
        || user.password.is_some()
        || user.client_certificate.is_some()
        || user.client_certificate_data.is_some()
        || user.client_key.is_some()
        || user.client_key_data.is_some()
        || user.exec.is_some()
        || user.auth_provider.is_some()
}

/// A wait's timeout error names the timeout the user gave, also when the deadline cut it short.
fn in_full(result: Result<(), WaitError>, timeout: Duration) -> Result<(), WaitError> {
    match result {
        Err(WaitError::Timeout { unready, .. }) => Err(WaitError::Timeout { timeout, unready }),
        other => other,
    }
}

fn to_json(reference: &ObjectRef, obj: DynamicObject) -> Result<Value, ClusterError> {
    serde_json::to_value(obj).map_err(|e| ClusterError::Invalid {
        object: reference.to_string(),
        message: e.to_string(),
    })
}

/// Turns a kube error into one naming the object and carrying the server's message.
fn api_error(verb: &'static str, object: String, err: kube::Error) -> ClusterError {
    // Errors that `retrying` retried say so: the user sees the server was given its chances.
    let retried = if is_transient(&err) {
        format!(" (still failing after {ATTEMPTS} attempts)")
    } else {
        String::new()
    };
    match err {
        kube::Error::Api(status) => {
            let conflicts = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .filter(|c| c.reason == "FieldManagerConflict")
                        .map(|c| (c.field.clone(), conflict_manager(&c.message)))
                        .collect()
                })
                .unwrap_or_default();
            let answer = match status.reason.as_str() {
                "" => format!("the server answered {}", status.code),
                reason => format!("the server answered {} {reason}", status.code),
            };
            ClusterError::Api {
                verb,
                object,
                code: status.code,
                reason: status.reason.clone(),
                message: if status.message.is_empty() {
                    format!("{answer}{retried}")
                } else if status.code >= 500 || status.code == 429 {
                    format!("{answer}: {}{retried}", status.message)
                } else {
                    status.message.clone()
                },
                conflicts,
            }
        }
        other => ClusterError::Api {
            verb,
            object,
            code: 0,
            reason: String::new(),
            message: format!("the connection failed: {}{retried}", error_chain(&other)),
            conflicts: Vec::new(),
        },
    }
}

/// An error and its sources on one line, each said once (hyper's errors repeat their causes).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// What went wrong verifying the server's certificate, if that is why a request failed.
fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(tls) = rustls_error(e) {
            return Some(describe_tls(tls));
        }
        current = e.source();
    }
    None
}

/// The rustls error in `err`, looking through `io::Error` wrappers (which hide it from
/// `source()`: tokio-rustls wraps it in one, hyper-rustls in another).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

fn describe_tls(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => format!(
            "{err}: the server's certificate is not signed by the certificate authority the \
             kubeconfig trusts (its certificate-authority-data)"
        ),
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => {
            format!("{err}: the certificate does not name the address in the kubeconfig's server")
        }
        other => other.to_string(),
    }
}

/// The manager named in a conflict cause (`conflict with "kubectl" using apps/v1`).
fn conflict_manager(message: &str) -> String {
    message.split('"').nth(1).unwrap_or(message).to_string()
}

/// How a request failed, before it becomes a [`ClusterError`] naming the object.
enum CallError {
    Kube(kube::Error),
    /// The operation's deadline passed.
    Deadline {
        budget: Duration,
        what: String,
    },
    /// No answer within the per-request timeout, on every attempt.
    NoAnswer {
        after: Duration,
    },
}

/// Whether an error is worth retrying: server-side hiccups, throttling and broken connections.
fn is_transient(err: &kube::Error) -> bool {
    if tls_failure(err).is_some() {
        return false;
    }
    match err {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// A transient error in a retry line: `503 ServiceUnavailable`, or the connection failure.
fn transient_reason(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if status.reason.is_empty() => status.code.to_string(),
        kube::Error::Api(status) => format!("{} {}", status.code, status.reason),
        other => format!("the connection failed: {}", error_chain(other)),
    }
}

/// Delay before retry number `attempt` (0-based): the server's Retry-After (the API server puts
/// it in the Status details as well as the header) up to 30 s, else exponential backoff from
/// 200 ms.
fn retry_delay(err: &kube::Error, attempt: u32) -> Duration {
    if let kube::Error::Api(status) = err {
        if let Some(seconds) = status.details.as_ref().map(|d| d.retry_after_seconds) {
            if seconds > 0 {
                return Duration::from_secs(u64::from(seconds).min(30));
            }
        }
    }
    Duration::from_millis(200u64 << attempt.min(5))
}

/// Attempts of one request in all (the first and four retries).
pub const ATTEMPTS: u32 = 5;

/// Groups references by (apiVersion, kind, namespace), keeping their order inside a group.
pub fn group_by_kind(
    objects: &[ObjectRef],
) -> BTreeMap<(String, String, Option<String>), Vec<String>> {
    let mut groups: BTreeMap<_, Vec<String>> = BTreeMap::new();
    for o in objects {
        groups
            .entry((o.api_version.clone(), o.kind.clone(), o.namespace.clone()))
            .or_default()
            .push(o.name.clone());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_ref_reads_namespace_and_group() {
        let r = ObjectRef::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"}}));
        assert_eq!(r.group(), "apps");
        assert_eq!(r.to_string(), "Deployment prod/web");
        let c = ObjectRef::of(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "x"}}));
        assert_eq!(c.group(), "");
        assert_eq!(c.to_string(), "Namespace x");
    }

    #[test]
    fn conflict_manager_is_the_quoted_name() {
        assert_eq!(
            conflict_manager("conflict with \"kubectl-edit\" using apps/v1"),
            "kubectl-edit"
        );
    }

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            ..Default::default()
        }))
    }

    #[test]
    fn transient_errors_are_server_failures() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_transient(&status(code)), "{code}");
        }
        for code in [400, 403, 404, 409, 422] {
            assert!(!is_transient(&status(code)), "{code}");
        }
    }

    #[tokio::test]
    async fn retrying_gives_up_at_once_on_permanent_errors() {
        let mut calls = 0;
        let result: Result<(), _> = Budget::default()
            .retrying("GET x", || {
                calls += 1;
                async { Err(status(422)) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn retrying_retries_transient_errors_then_succeeds() {
        let mut calls = 0;
        let result = Budget::default()
            .retrying("GET x", || {
                calls += 1;
                let fail = calls < 3;
                async move {
                    if fail {
                        Err(status(500))
                    } else {
                        Ok(7)
                    }
                }
            })
            .await;
        assert_eq!(result.ok(), Some(7));
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn retrying_stops_after_five_attempts_and_reports_each_retry() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let budget = Budget {
            on_retry: Some(Arc::new(move |l: &str| {
                sink.lock().unwrap().push(l.to_string())
            })),
            ..Budget::default()
        };
        let mut calls = 0;
        let result: Result<(), _> = budget
            .retrying("PATCH deployments/app", || {
                calls += 1;
                async {
                    Err(kube::Error::Api(Box::new(kube::core::Status {
                        code: 503,
                        reason: "ServiceUnavailable".into(),
                        ..Default::default()
                    })))
                }
            })
            .await;
        assert!(matches!(result, Err(CallError::Kube(_))));
        assert_eq!(calls, ATTEMPTS);
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "retrying PATCH deployments/app: 503 ServiceUnavailable (attempt 2/5)"
        );
    }

    #[tokio::test]
    async fn a_request_that_never_answers_ends_at_the_deadline() {
        let budget = Budget {
            deadline: Some(Deadline {
                at: tokio::time::Instant::now() + Duration::from_millis(300),
                budget: Duration::from_millis(300),
            }),
            ..Budget::default()
        };
        let result: Result<(), _> = budget
            .retrying("PATCH deployments/app", std::future::pending)
            .await;
        match result {
            Err(CallError::Deadline { budget, what }) => {
                assert_eq!(budget, Duration::from_millis(300));
                assert_eq!(what, "PATCH deployments/app");
            }
            _ => panic!("expected the deadline"),
        }
    }
}
