//! Charts in OCI registries, as Helm stores them: an OCI image manifest whose config blob is the
//! chart's metadata as JSON (`application/vnd.cncf.helm.config.v1+json`) and whose one layer is
//! the chart archive (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`). Tags are chart
//! versions with `+` written as `_` (OCI tags cannot hold `+`).
//!
//! Authentication follows the distribution spec: a request answered 401 is retried once with
//! what `WWW-Authenticate` asks for — Basic credentials, or a bearer token fetched from the realm
//! (with the credentials, for the scope the request needs).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{json, Value};

use super::config::{registry_credentials, Credentials, Dirs};
use super::http::{build_client, error_chain, read_body, sha256_hex, HttpOptions};
use super::RepoError;

/// Media type of the config blob (Chart.yaml as JSON).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of the chart archive layer.
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of a provenance layer (accepted, not used).
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The chart layer media type of charts pushed by Helm before 3.7.
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";
/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The auth cache key of Basic credentials, which hold for every scope.
const BASIC_KEY: &str = "*basic*";

/// A parsed `oci://host[:port]/path/name[:tag|@sha256:…]` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    /// `host[:port]`.
    pub registry: String,
    /// Repository path inside the registry (`charts/web`).
    pub repository: String,
    /// Tag (a chart version with `+` as `_`), if any.
    pub tag: Option<String>,
    /// Manifest digest (`sha256:…`), if pinned.
    pub digest: Option<String>,
}

impl OciReference {
    /// Parses a reference with or without the `oci://` scheme.
    pub fn parse(reference: &str) -> Result<Self, RepoError> {
        let invalid = |reason: &str| RepoError::InvalidReference {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        let rest = reference.strip_prefix("oci://").unwrap_or(reference);
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => {
                if !d.starts_with("sha256:") || d.len() != 71 {
                    return Err(invalid("the digest must be sha256:<64 hex digits>"));
                }
                (r, Some(d.to_string()))
            }
            None => (rest, None),
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid("expected oci://HOST/PATH"))?;
        if registry.is_empty() || path.is_empty() {
            return Err(invalid("expected oci://HOST/PATH"));
        }
        let last_slash = path.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match path[last_slash..].split_once(':') {
            Some((name, tag)) => (
                format!("{}{name}", &path[..last_slash]),
                Some(tag.to_string()),
            ),
            None => (path.to_string(), None),
        };
        let repository = repository.trim_end_matches('/').to_string();
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if repository.is_empty() || !repository.chars().all(valid) {
            return Err(invalid(
                "repository paths are lowercase letters, digits, '.', '_', '-' and '/'",
            ));
        }
        if let Some(t) = &tag {
            let valid_tag = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
            if t.is_empty() || t.len() > 128 || !t.chars().all(valid_tag) {
                return Err(invalid("invalid tag"));
            }
        }
        Ok(OciReference {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The chart name: the last part of the repository path.
    pub fn chart_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// This reference with another last path part (`oci://host/charts` + `web`).
    pub fn child(&self, name: &str) -> OciReference {
        OciReference {
            registry: self.registry.clone(),
            repository: format!("{}/{name}", self.repository),
            tag: None,
            digest: None,
        }
    }
}

impl std::fmt::Display for OciReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A chart version as an OCI tag (`1.0.0+build` → `1.0.0_build`).
pub fn version_to_tag(version: &str) -> String {
    version.replace('+', "_")
}

/// An OCI tag as a chart version (`1.0.0_build` → `1.0.0+build`).
pub fn tag_to_version(tag: &str) -> String {
    tag.replace('_', "+")
}

/// What a pull brought back.
#[derive(Debug, Clone)]
pub struct PulledChart {
    /// The chart archive bytes (digest already verified).
    pub archive: Vec<u8>,
    /// The config blob parsed (Chart.yaml as JSON).
    pub config: Value,
    /// The manifest's digest (`sha256:…`).
    pub manifest_digest: String,
    /// The tag pulled, if pulled by tag.
    pub tag: Option<String>,
}

/// What a push stored.
#[derive(Debug, Clone)]
pub struct PushedChart {
    /// The reference including the tag.
    pub reference: OciReference,
    /// The manifest's digest (`sha256:…`).
    pub manifest_digest: String,
}

/// A client for one registry host.
pub struct RegistryClient {
    client: reqwest::Client,
    scheme: &'static str,
    registry: String,
    credentials: Option<Credentials>,
    /// Authorization header values by scope, learnt from 401 challenges.
    auth_cache: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.registry)
            .field("scheme", &self.scheme)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl RegistryClient {
    /// A client for `registry` (`host[:port]`). `opts.plain_http` selects `http://`; TLS settings
    /// come from `opts`; `credentials` are used when the registry asks for them.
    pub fn new(
        registry: &str,
        opts: &HttpOptions,
        credentials: Option<Credentials>,
    ) -> Result<Self, RepoError> {
        Ok(RegistryClient {
            client: build_client(opts)?,
            scheme: if opts.plain_http { "http" } else { "https" },
            registry: registry.to_string(),
            credentials,
            auth_cache: Mutex::new(HashMap::new()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.registry)
    }

    fn error(&self, message: impl Into<String>) -> RepoError {
        RepoError::Registry {
            registry: self.registry.clone(),
            message: message.into(),
        }
    }

    /// Sends a request built by `build`, answering one authentication challenge if needed.
    async fn send(
        &self,
        scope: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RepoError> {
        let cached = self.cached_auth(scope);
        let mut request = build(&self.client);
        if let Some(header) = &cached {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let header = self.answer_challenge(&challenge, scope).await?;
        if let Ok(mut cache) = self.auth_cache.lock() {
            // Basic credentials are good for every scope; tokens only for the one asked.
            let key = if header.starts_with("Basic ") {
                BASIC_KEY
            } else {
                scope
            };
            cache.insert(key.to_string(), header.clone());
        }
        let response = build(&self.client)
            .header(reqwest::header::AUTHORIZATION, header)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            let hint = if self.credentials.is_some() {
                "the credentials were rejected"
            } else {
                "authentication required (run `rudder registry login`)"
            };
            return Err(self.error(format!("401 Unauthorized: {hint}")));
        }
        Ok(response)
    }

    fn cached_auth(&self, scope: &str) -> Option<String> {
        let cache = self.auth_cache.lock().ok()?;
        cache.get(scope).or_else(|| cache.get(BASIC_KEY)).cloned()
    }

    fn transport(&self, e: reqwest::Error) -> RepoError {
        RepoError::Transport {
            url: e
                .url()
                .map(|u| u.to_string())
                .unwrap_or_else(|| self.url("/")),
            message: error_chain(&e),
        }
    }

    async fn answer_challenge(&self, challenge: &str, scope: &str) -> Result<String, RepoError> {
        let (kind, params) = parse_challenge(challenge);
        match kind.to_ascii_lowercase().as_str() {
            "basic" => {
                let creds = self.credentials.as_ref().ok_or_else(|| {
                    self.error("authentication required (run `rudder registry login`)")
                })?;
                Ok(basic_header(creds))
            }
            "bearer" => {
                let realm = params
                    .get("realm")
                    .ok_or_else(|| self.error("bearer challenge without a realm"))?;
                let mut url = reqwest::Url::parse(realm)
                    .map_err(|e| self.error(format!("invalid token realm {realm:?}: {e}")))?;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(service) = params.get("service") {
                        q.append_pair("service", service);
                    }
                    let wanted = params.get("scope").map(String::as_str).unwrap_or(scope);
                    if !wanted.is_empty() {
                        q.append_pair("scope", wanted);
                    }
                }
                let mut request = self.client.get(url.clone());
                if let Some(c) = &self.credentials {
                    request = request.basic_auth(&c.username, Some(&c.password));
                }
                let response = request.send().await.map_err(|e| self.transport(e))?;
                if !response.status().is_success() {
                    return Err(self.error(format!(
                        "the token service {} answered {}{}",
                        url.origin().ascii_serialization(),
                        response.status(),
                        if self.credentials.is_none() {
                            " (run `rudder registry login`)"
                        } else {
                            ""
                        }
                    )));
                }
                let body: Value = response
                    .json()
                    .await
                    .map_err(|e| self.error(format!("invalid token response: {e}")))?;
                let token = body
                    .get("token")
                    .or_else(|| body.get("access_token"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.error("the token response holds no token"))?;
                Ok(format!("Bearer {token}"))
            }
            _ => Err(self.error(format!(
                "401 Unauthorized with an unsupported challenge {challenge:?}"
            ))),
        }
    }

    /// Checks that the registry accepts the client's credentials (`GET /v2/`).
    pub async fn check_login(&self) -> Result<(), RepoError> {
        let url = self.url("/v2/");
        let response = self.send("", |c| c.get(&url)).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.error(format!("GET /v2/ answered {}", response.status())))
        }
    }

    /// The tags of a repository (all pages).
    pub async fn list_tags(&self, repository: &str) -> Result<Vec<String>, RepoError> {
        let scope = format!("repository:{repository}:pull");
        let mut next = Some(format!("/v2/{repository}/tags/list"));
        let mut tags = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > 100 {
                break;
            }
            let url = self.url(&path);
            let response = self.send(&scope, |c| c.get(&url)).await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Err(self.error(format!("repository {repository} not found")));
            }
            if !response.status().is_success() {
                return Err(self.error(format!(
                    "listing tags of {repository} answered {}",
                    response.status()
                )));
            }
            next = response
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let body: Value = response
                .json()
                .await
                .map_err(|e| self.error(format!("invalid tag list: {e}")))?;
            if let Some(list) = body.get("tags").and_then(Value::as_array) {
                tags.extend(list.iter().filter_map(Value::as_str).map(String::from));
            }
        }
        Ok(tags)
    }

    /// Pulls a chart by tag or digest, verifying every blob's digest.
    pub async fn pull_chart(&self, reference: &OciReference) -> Result<PulledChart, RepoError> {
        let scope = format!("repository:{}:pull", reference.repository);
        let target = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .ok_or_else(|| RepoError::InvalidReference {
                reference: reference.to_string(),
                reason: "a tag (--version) or a digest is needed".into(),
            })?;
        let url = self.url(&format!("/v2/{}/manifests/{target}", reference.repository));
        let accept =
            format!("{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json");
        let response = self
            .send(&scope, |c| {
                c.get(&url).header(reqwest::header::ACCEPT, accept.as_str())
            })
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(self.error(format!("{reference} not found")));
        }
        if !response.status().is_success() {
            return Err(self.error(format!(
                "fetching the manifest of {reference} answered {}",
                response.status()
            )));
        }
        let manifest_bytes = read_body(response, &url).await?;
        let manifest_digest = format!("sha256:{}", sha256_hex(&manifest_bytes));
        if let Some(pinned) = &reference.digest {
            if *pinned != manifest_digest {
                return Err(RepoError::DigestMismatch {
                    what: format!("the manifest of {reference}"),
                    expected: pinned.clone(),
                    actual: manifest_digest,
                });
            }
        }
        let manifest: Value = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| self.error(format!("invalid manifest for {reference}: {e}")))?;
        let config_desc = manifest
            .get("config")
            .ok_or_else(|| self.error(format!("the manifest of {reference} has no config")))?;
        let config_type = config_desc
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if config_type != CONFIG_MEDIA_TYPE {
            return Err(self.error(format!(
                "{reference} is not a Helm chart (config media type {config_type:?}, expected {CONFIG_MEDIA_TYPE})"
            )));
        }
        let layers = manifest
            .get("layers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let layer = layers
            .iter()
            .find(|l| l.get("mediaType").and_then(Value::as_str) == Some(CHART_LAYER_MEDIA_TYPE))
            .or_else(|| {
                layers.iter().find(|l| {
                    l.get("mediaType").and_then(Value::as_str)
                        == Some(LEGACY_CHART_LAYER_MEDIA_TYPE)
                })
            })
            .ok_or_else(|| {
                self.error(format!(
                    "the manifest of {reference} has no {CHART_LAYER_MEDIA_TYPE} layer"
                ))
            })?;
        let config_bytes = self.pull_blob(&reference.repository, config_desc).await?;
        let config: Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| self.error(format!("invalid chart config of {reference}: {e}")))?;
        let archive = self.pull_blob(&reference.repository, layer).await?;
        Ok(PulledChart {
            archive,
            config,
            manifest_digest,
            tag: reference.tag.clone(),
        })
    }

    async fn pull_blob(&self, repository: &str, descriptor: &Value) -> Result<Vec<u8>, RepoError> {
        let digest = descriptor
            .get("digest")
            .and_then(Value::as_str)
            .filter(|d| d.starts_with("sha256:"))
            .ok_or_else(|| self.error("a descriptor has no sha256 digest"))?;
        let scope = format!("repository:{repository}:pull");
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"));
        let response = self.send(&scope, |c| c.get(&url)).await?;
        if !response.status().is_success() {
            return Err(self.error(format!(
                "fetching blob {digest} answered {}",
                response.status()
            )));
        }
        let data = read_body(response, &url).await?;
        super::http::verify_digest(&format!("blob of {repository}"), &data, digest)?;
        Ok(data)
    }

    /// Pushes a chart archive as `repository:tag` with Helm's media types.
    pub async fn push_chart(
        &self,
        repository: &str,
        tag: &str,
        archive: &[u8],
        config_json: &[u8],
        annotations: &serde_json::Map<String, Value>,
    ) -> Result<PushedChart, RepoError> {
        let config_digest = self.push_blob(repository, config_json).await?;
        let layer_digest = self.push_blob(repository, archive).await?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": config_digest,
                "size": config_json.len(),
            },
            "layers": [{
                "mediaType": CHART_LAYER_MEDIA_TYPE,
                "digest": layer_digest,
                "size": archive.len(),
            }],
            "annotations": annotations,
        });
        let body = serde_json::to_vec(&manifest).unwrap_or_default();
        let manifest_digest = format!("sha256:{}", sha256_hex(&body));
        let scope = format!("repository:{repository}:pull,push");
        let url = self.url(&format!("/v2/{repository}/manifests/{tag}"));
        let response = self
            .send(&scope, |c| {
                c.put(&url)
                    .header(reqwest::header::CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
                    .body(body.clone())
            })
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            return Err(self.error(format!(
                "storing the manifest of {repository}:{tag} answered {status}: {}",
                text.trim()
            )));
        }
        Ok(PushedChart {
            reference: OciReference {
                registry: self.registry.clone(),
                repository: repository.to_string(),
                tag: Some(tag.to_string()),
                digest: None,
            },
            manifest_digest,
        })
    }

    /// Uploads a blob unless the registry has it; returns its digest.
    async fn push_blob(&self, repository: &str, data: &[u8]) -> Result<String, RepoError> {
        let digest = format!("sha256:{}", sha256_hex(data));
        let scope = format!("repository:{repository}:pull,push");
        let head_url = self.url(&format!("/v2/{repository}/blobs/{digest}"));
        let head = self.send(&scope, |c| c.head(&head_url)).await?;
        if head.status().is_success() {
            return Ok(digest);
        }
        let start_url = self.url(&format!("/v2/{repository}/blobs/uploads/"));
        let started = self.send(&scope, |c| c.post(&start_url)).await?;
        if started.status() != reqwest::StatusCode::ACCEPTED {
            return Err(self.error(format!(
                "starting an upload to {repository} answered {}",
                started.status()
            )));
        }
        let location = started
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.error("the upload answer has no Location"))?;
        let mut upload = reqwest::Url::parse(&self.url("/"))
            .and_then(|base| base.join(location))
            .map_err(|e| self.error(format!("invalid upload location {location:?}: {e}")))?;
        upload.query_pairs_mut().append_pair("digest", &digest);
        let body = data.to_vec();
        let done = self
            .send(&scope, |c| {
                c.put(upload.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        if done.status() != reqwest::StatusCode::CREATED {
            let status = done.status();
            let text = done.text().await.unwrap_or_default();
            return Err(self.error(format!(
                "uploading blob {digest} answered {status}: {}",
                text.trim()
            )));
        }
        Ok(digest)
    }
}

/// A registry client for `registry`: credentials from the command line, else the stored ones.
pub fn registry_client(
    registry: &str,
    http: &HttpOptions,
    dirs: &Dirs,
) -> Result<RegistryClient, RepoError> {
    let creds = match (&http.username, &http.password) {
        (Some(u), Some(p)) => Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => registry_credentials(dirs, registry)?,
    };
    RegistryClient::new(registry, http, creds)
}

/// Pushes a packaged chart to `remote` (`oci://HOST/PATH`) as `PATH/NAME:VERSION`, the way
/// `helm push` does: Chart.yaml as the config blob, the archive as the one layer, OCI annotations
/// from the chart's metadata.
pub async fn push_archive(
    archive: &std::path::Path,
    remote: &str,
    http: &HttpOptions,
    dirs: &Dirs,
) -> Result<PushedChart, RepoError> {
    if !remote.starts_with("oci://") {
        return Err(RepoError::InvalidReference {
            reference: remote.to_string(),
            reason: "the remote must start with oci://".into(),
        });
    }
    let base = OciReference::parse(remote)?;
    if base.tag.is_some() || base.digest.is_some() {
        return Err(RepoError::InvalidReference {
            reference: remote.to_string(),
            reason: "give the repository only: the tag is the chart version".into(),
        });
    }
    if !archive.is_file() {
        return Err(RepoError::InvalidChart {
            path: archive.to_path_buf(),
            reason: "push takes a packaged chart (.tgz); run `rudder package` first".into(),
        });
    }
    let data = std::fs::read(archive).map_err(|e| RepoError::io("cannot read", archive, e))?;
    let chart = crate::chart::load(archive)?;
    let meta = &chart.metadata;
    let config = serde_json::to_vec(meta).map_err(|e| RepoError::InvalidChart {
        path: archive.to_path_buf(),
        reason: e.to_string(),
    })?;
    let target = base.child(&meta.name);
    let client = registry_client(&target.registry, http, dirs)?;
    client
        .push_chart(
            &target.repository,
            &version_to_tag(&meta.version),
            &data,
            &config,
            &chart_annotations(meta),
        )
        .await
}

/// The OCI annotations Helm derives from Chart.yaml.
fn chart_annotations(meta: &crate::chart::ChartMetadata) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (k, v) in &meta.annotations {
        out.insert(k.clone(), Value::String(v.clone()));
    }
    let mut set = |k: &str, v: &str| {
        if !v.is_empty() {
            out.insert(
                format!("org.opencontainers.image.{k}"),
                Value::String(v.to_string()),
            );
        }
    };
    set("title", &meta.name);
    set("version", &meta.version);
    set("description", &meta.description);
    set("url", &meta.home);
    set(
        "source",
        meta.sources.first().map(String::as_str).unwrap_or_default(),
    );
    let authors: Vec<String> = meta
        .maintainers
        .iter()
        .map(|m| match &m.email {
            Some(e) if !e.is_empty() => format!("{} ({e})", m.name),
            _ => m.name.clone(),
        })
        .collect();
    set("authors", &authors.join(", "));
    out
}

fn basic_header(creds: &Credentials) -> String {
    let raw = format!("{}:{}", creds.username, creds.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Splits `Bearer realm="…",service="…",scope="…"` into the scheme and its parameters.
fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let header = header.trim();
    let (kind, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    (kind.to_string(), params)
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = OciReference::parse("oci://localhost:5000/charts/web:1.2.3_build").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "charts/web");
        assert_eq!(r.tag.as_deref(), Some("1.2.3_build"));
        assert_eq!(r.chart_name(), "web");
        let r = OciReference::parse("oci://localhost:5000/web").unwrap();
        assert_eq!((r.repository.as_str(), r.tag), ("web", None));
        let d = format!("oci://h/web@sha256:{}", "a".repeat(64));
        assert!(OciReference::parse(&d).unwrap().digest.is_some());
        assert!(OciReference::parse("oci://h").is_err());
        assert!(OciReference::parse("oci://h/Web").is_err());
        assert!(OciReference::parse("oci://h/web@md5:1").is_err());
    }

    #[test]
    fn maps_plus_to_underscore() {
        assert_eq!(version_to_tag("1.0.0+abc"), "1.0.0_abc");
        assert_eq!(tag_to_version("1.0.0_abc"), "1.0.0+abc");
    }

    #[test]
    fn parses_bearer_challenges() {
        let (kind, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(kind, "Bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let (kind, p) = parse_challenge(r#"Basic realm="basic-realm""#);
        assert_eq!(
            (kind.as_str(), p["realm"].as_str()),
            ("Basic", "basic-realm")
        );
    }

    #[test]
    fn finds_next_link() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }
}
