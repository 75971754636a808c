//! Fetching over HTTP(S): TLS settings, Basic and bearer auth, size limits, digests.
//!
//! Plain `http://` is refused unless the caller opted in (`--plain-http`). Credentials are sent
//! only to the host they were configured for, unless `pass_credentials` says otherwise (a chart URL
//! in an index may point at another host).

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::RepoError;

/// The largest index or chart archive rudder downloads.
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// How to talk to one repository or registry. `Debug` never shows a password or token.
#[derive(Clone, Default)]
pub struct HttpOptions {
    pub username: Option<String>,
    pub password: Option<String>,
    /// A bearer token, sent instead of Basic credentials.
    pub token: Option<String>,
    /// Extra CA certificates (PEM) trusted besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with `key_file`.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate. Only ever set from an explicit flag.
    pub insecure_skip_tls_verify: bool,
    /// Allow `http://` URLs.
    pub plain_http: bool,
    /// Send credentials to every host, not only the repository's own.
    pub pass_credentials: bool,
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("plain_http", &self.plain_http)
            .field("pass_credentials", &self.pass_credentials)
            .finish()
    }
}

/// Builds a reqwest client with rudder's TLS settings (ring only, extra CAs, client identity).
pub fn build_client(opts: &HttpOptions) -> Result<reqwest::Client, RepoError> {
    // reqwest is built without a default crypto provider; ring is the only one compiled in.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("rudder/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(std::time::Duration::from_secs(300));
    if let Some(ca) = &opts.ca_file {
        let pem = read_file(ca)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RepoError::Tls {
            message: format!("--ca-file {}: {e}", ca.display()),
        })?;
        if certs.is_empty() {
            return Err(RepoError::Tls {
                message: format!("--ca-file {}: no PEM certificate found", ca.display()),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    match (&opts.cert_file, &opts.key_file) {
        (Some(cert), Some(key)) => {
            let mut pem = read_file(cert)?;
            pem.push(b'\n');
            pem.extend(read_file(key)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| RepoError::Tls {
                message: format!("--cert-file/--key-file {}: {e}", cert.display()),
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(RepoError::Tls {
                message: "--cert-file and --key-file must be given together".into(),
            })
        }
    }
    if opts.insecure_skip_tls_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| RepoError::Tls {
        message: error_chain(&e),
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, RepoError> {
    std::fs::read(path).map_err(|e| RepoError::io("cannot read", path, e))
}

/// Parses `url`, refusing plain HTTP unless allowed.
pub fn parse_url(url: &str, plain_http: bool) -> Result<reqwest::Url, RepoError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| RepoError::InvalidReference {
        reference: url.to_string(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if plain_http => Ok(parsed),
        "http" => Err(RepoError::PlainHttpRequired {
            url: url.to_string(),
        }),
        other => Err(RepoError::InvalidReference {
            reference: url.to_string(),
            reason: format!("unsupported scheme {other:?} (use https://, http:// or oci://)"),
        }),
    }
}

/// An HTTP client bound to one repository's settings.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    opts: HttpOptions,
    /// Host (and port) the credentials belong to.
    auth_origin: Option<String>,
}

impl HttpFetcher {
    /// A fetcher for the repository at `base_url` (credentials are bound to its host).
    pub fn new(base_url: &str, opts: HttpOptions) -> Result<Self, RepoError> {
        let client = build_client(&opts)?;
        let auth_origin = reqwest::Url::parse(base_url).ok().map(|u| origin_of(&u));
        Ok(HttpFetcher {
            client,
            opts,
            auth_origin,
        })
    }

    /// GETs `url` into memory (at most [`MAX_DOWNLOAD_BYTES`]); any status but 2xx is an error.
    pub async fn get(&self, url: &str) -> Result<Fetched, RepoError> {
        let parsed = parse_url(url, self.opts.plain_http)?;
        let mut request = self.client.get(parsed.clone());
        if self.opts.pass_credentials || self.auth_origin.as_deref() == Some(&origin_of(&parsed)) {
            request = apply_auth(request, &self.opts);
        }
        let response = request.send().await.map_err(|e| RepoError::Transport {
            url: url.to_string(),
            message: error_chain(&e),
        })?;
        let status = response.status();
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 | 403 => " (check --username/--password or the stored credentials)",
                404 => " (not found)",
                _ => "",
            };
            return Err(RepoError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                hint: hint.to_string(),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = read_body(response, url).await?;
        Ok(Fetched { body, content_type })
    }
}

/// A downloaded body with its declared content type.
#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub content_type: String,
}

/// Adds the configured credentials to a request: a bearer token wins over Basic.
pub fn apply_auth(request: reqwest::RequestBuilder, opts: &HttpOptions) -> reqwest::RequestBuilder {
    if let Some(token) = &opts.token {
        request.bearer_auth(token)
    } else if let Some(user) = &opts.username {
        request.basic_auth(user, opts.password.as_ref())
    } else {
        request
    }
}

/// Reads a response body, refusing anything larger than [`MAX_DOWNLOAD_BYTES`].
pub async fn read_body(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, RepoError> {
    let too_large = || RepoError::TooLarge {
        url: url.to_string(),
        limit: MAX_DOWNLOAD_BYTES,
    };
    if response.content_length().unwrap_or(0) > MAX_DOWNLOAD_BYTES {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|e| RepoError::Transport {
            url: url.to_string(),
            message: error_chain(&e),
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() as u64 + chunk.len() as u64 > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `scheme://host:port` of a URL, to decide where credentials may go.
pub fn origin_of(url: &reqwest::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Checks `data` against an expected digest (`hex` or `sha256:hex`); the error names both.
pub fn verify_digest(what: &str, data: &[u8], expected: &str) -> Result<(), RepoError> {
    let expected_hex = expected
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    let actual = sha256_hex(data);
    if expected_hex == actual {
        Ok(())
    } else {
        Err(RepoError::DigestMismatch {
            what: what.to_string(),
            expected: format!("sha256:{expected_hex}"),
            actual: format!("sha256:{actual}"),
        })
    }
}

/// A reqwest error with its causes, on one line (reqwest's own message hides the TLS reason),
/// plus a hint for the common mistakes.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let text = raw_error_chain(err);
    if text.contains("InvalidContentType") || text.contains("corrupt message") {
        format!("{text} (the server does not speak TLS: use http:// with --plain-http)")
    } else if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        format!("{text} (pass the server's CA with --ca-file)")
    } else {
        text
    }
}

fn raw_error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_needs_opt_in() {
        assert!(matches!(
            parse_url("http://127.0.0.1:1/", false),
            Err(RepoError::PlainHttpRequired { .. })
        ));
        assert!(parse_url("http://127.0.0.1:1/", true).is_ok());
        assert!(parse_url("ftp://x/", true).is_err());
    }

    #[test]
    fn digest_mismatch_names_both() {
        let err = verify_digest("x.tgz", b"abc", "sha256:00")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sha256:00"), "{err}");
        assert!(err.contains(&sha256_hex(b"abc")), "{err}");
        verify_digest("x", b"abc", &sha256_hex(b"abc")).unwrap();
    }

    #[test]
    fn debug_redacts_secrets() {
        let opts = HttpOptions {
            password: Some("hunter2".into()),
            token: Some("tok".into()),
            ..Default::default()
        };
        let text = format!("{opts:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("tok\""),
            "{text}"
        );
    }
}
