//! Where rudder keeps repository configuration, registry credentials and its download cache.
//!
//! `repositories.yaml` uses Helm's field names so a file can be shared with Helm; it is written
//! with mode 0600 whenever it holds a password or token. Registry credentials are kept in
//! Docker's `config.json` format (`{"auths": {"host": {"auth": base64(user:pass)}}}`), always 0600.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::http::HttpOptions;
use super::RepoError;

/// The directories rudder reads and writes outside a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// `$XDG_CONFIG_HOME/rudder` (default `~/.config/rudder`).
    pub config: PathBuf,
    /// `$XDG_CACHE_HOME/rudder` (default `~/.cache/rudder`).
    pub cache: PathBuf,
}

impl Dirs {
    /// The directories from the environment (`XDG_CONFIG_HOME`, `XDG_CACHE_HOME`, `HOME`).
    pub fn from_env() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let pick = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(fallback))
                .join("rudder")
        };
        Dirs {
            config: pick("XDG_CONFIG_HOME", ".config"),
            cache: pick("XDG_CACHE_HOME", ".cache"),
        }
    }

    /// `repositories.yaml`.
    pub fn repositories_file(&self) -> PathBuf {
        self.config.join("repositories.yaml")
    }

    /// Registry credentials (Docker `config.json` format).
    pub fn registry_config_file(&self) -> PathBuf {
        self.config.join("registry").join("config.json")
    }

    /// The cached index of repository `name`.
    pub fn index_cache_file(&self, name: &str) -> PathBuf {
        self.cache
            .join("repository")
            .join(format!("{name}-index.yaml"))
    }

    /// Where verified chart archives are kept, named by their SHA-256.
    pub fn content_dir(&self) -> PathBuf {
        self.cache.join("content")
    }
}

/// One configured chart repository (an entry of `repositories.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepositoryEntry {
    pub name: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// rudder's addition: a bearer token sent instead of Basic credentials.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    #[serde(default, rename = "certFile", skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    #[serde(default, rename = "keyFile", skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    #[serde(default, rename = "caFile", skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pass_credentials_all: bool,
    /// rudder's addition: the repository is served over plain `http://` on purpose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plain_http: bool,
}

impl RepositoryEntry {
    /// The transport settings for talking to this repository.
    pub fn http_options(&self) -> HttpOptions {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        HttpOptions {
            username: non_empty(&self.username),
            password: non_empty(&self.password),
            token: non_empty(&self.token),
            ca_file: non_empty(&self.ca_file).map(PathBuf::from),
            cert_file: non_empty(&self.cert_file).map(PathBuf::from),
            key_file: non_empty(&self.key_file).map(PathBuf::from),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            plain_http: self.plain_http,
            pass_credentials: self.pass_credentials_all,
        }
    }

    fn holds_secrets(&self) -> bool {
        !self.password.is_empty() || !self.token.is_empty()
    }
}

/// `repositories.yaml`: the configured chart repositories, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepositoryFile {
    #[serde(default, rename = "apiVersion")]
    pub api_version: String,
    #[serde(default)]
    pub generated: String,
    #[serde(default)]
    pub repositories: Vec<RepositoryEntry>,
}

impl RepositoryFile {
    /// Reads `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Self, RepoError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(RepoError::io("cannot read", path, e)),
        };
        let value = crate::yaml::from_str(&text).map_err(|e| RepoError::Parse {
            path: format!("{}:{}:{}", path.display(), e.line, e.column),
            message: e.message,
        })?;
        if value.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(value).map_err(|e| RepoError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically, 0600 when any entry holds a password or token (0644 otherwise).
    pub fn save(&self, path: &Path) -> Result<(), RepoError> {
        let mut file = self.clone();
        file.api_version = String::new();
        file.generated = now_rfc3339();
        let value = serde_json::to_value(&file).map_err(|e| RepoError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let secret = self.repositories.iter().any(RepositoryEntry::holds_secrets);
        let mode = if secret { 0o600 } else { 0o644 };
        write_atomically(path, crate::yaml::to_string(&value).as_bytes(), mode)
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&RepositoryEntry> {
        self.repositories.iter().find(|r| r.name == name)
    }

    /// The entry whose URL is `url` (ignoring a trailing slash).
    pub fn find_by_url(&self, url: &str) -> Option<&RepositoryEntry> {
        let url = url.trim_end_matches('/');
        self.repositories
            .iter()
            .find(|r| r.url.trim_end_matches('/') == url)
    }

    /// Adds or replaces (by name) an entry.
    pub fn upsert(&mut self, entry: RepositoryEntry) {
        match self.repositories.iter_mut().find(|r| r.name == entry.name) {
            Some(existing) => *existing = entry,
            None => self.repositories.push(entry),
        }
    }

    /// Removes the entry named `name`; false when there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.repositories.len();
        self.repositories.retain(|r| r.name != name);
        before != self.repositories.len()
    }
}

/// Registry credentials in Docker's `config.json` layout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryConfig {
    #[serde(default)]
    pub auths: BTreeMap<String, RegistryAuthEntry>,
    /// Anything else Docker or other tools keep in the file, preserved as is.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// One `auths` entry: `auth` is base64 of `user:password`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryAuthEntry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A username and password for a registry or repository. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl RegistryConfig {
    /// Reads `path`; a missing file holds no credentials.
    pub fn load(path: &Path) -> Result<Self, RepoError> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(RepoError::io("cannot read", path, e)),
        };
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(&data).map_err(|e| RepoError::Parse {
            path: format!("{}:{}:{}", path.display(), e.line(), e.column()),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), RepoError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| RepoError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        text.push('\n');
        write_atomically(path, text.as_bytes(), 0o600)
    }

    /// The credentials stored for `host` (`host:port`), if any.
    pub fn credentials(&self, host: &str) -> Option<Credentials> {
        let candidates = [
            host.to_string(),
            format!("https://{host}"),
            format!("http://{host}"),
        ];
        let entry = candidates.iter().find_map(|k| self.auths.get(k))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(entry.auth.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (username, password) = decoded.split_once(':')?;
        Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        })
    }

    /// Stores credentials for `host`.
    pub fn set_credentials(&mut self, host: &str, creds: &Credentials) {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", creds.username, creds.password));
        self.auths.insert(
            host.to_string(),
            RegistryAuthEntry {
                auth,
                other: BTreeMap::new(),
            },
        );
    }

    /// Forgets the credentials for `host`; false when there were none.
    pub fn remove_credentials(&mut self, host: &str) -> bool {
        let keys = [
            host.to_string(),
            format!("https://{host}"),
            format!("http://{host}"),
        ];
        let mut removed = false;
        for k in keys {
            removed |= self.auths.remove(&k).is_some();
        }
        removed
    }
}

/// Credentials for a registry host: rudder's own file first, then Docker's `config.json`.
pub fn registry_credentials(dirs: &Dirs, host: &str) -> Result<Option<Credentials>, RepoError> {
    if let Some(c) = RegistryConfig::load(&dirs.registry_config_file())?.credentials(host) {
        return Ok(Some(c));
    }
    let docker = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    match docker {
        // Docker's file is read-only for rudder: a broken one is not our error to report.
        Some(dir) => Ok(RegistryConfig::load(&dir.join("config.json"))
            .ok()
            .and_then(|c| c.credentials(host))),
        None => Ok(None),
    }
}

/// Writes `data` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file and a failure leaves the old file in place.
pub fn write_atomically(path: &Path, data: &[u8], mode: u32) -> Result<(), RepoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| RepoError::io("cannot create directory", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".rudder-")
        .tempfile_in(dir)
        .map_err(|e| RepoError::io("cannot create a temporary file in", dir, e))?;
    set_mode(tmp.path(), mode)?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| RepoError::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| RepoError::io("cannot replace", path, e.error))?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), RepoError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| RepoError::io("cannot set permissions on", path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), RepoError> {
    Ok(())
}

/// The current time as Go's `time.Time` marshals it (RFC 3339 with nanoseconds, trimmed).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_file_round_trips_with_helm_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repositories.yaml");
        let mut file = RepositoryFile::default();
        file.upsert(RepositoryEntry {
            name: "a".into(),
            url: "https://charts.example".into(),
            ca_file: "/ca.pem".into(),
            ..Default::default()
        });
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("caFile: /ca.pem"), "{text}");
        assert_eq!(
            RepositoryFile::load(&path).unwrap().repositories,
            file.repositories
        );
    }

    #[cfg(unix)]
    #[test]
    fn secrets_make_the_file_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repositories.yaml");
        let mut file = RepositoryFile::default();
        file.upsert(RepositoryEntry {
            name: "a".into(),
            url: "https://x".into(),
            ..Default::default()
        });
        file.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        file.repositories[0].password = "s3cret".into();
        file.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn registry_credentials_round_trip() {
        let mut cfg = RegistryConfig::default();
        let creds = Credentials {
            username: "u".into(),
            password: "p:w".into(),
        };
        cfg.set_credentials("localhost:5000", &creds);
        assert_eq!(cfg.credentials("localhost:5000"), Some(creds));
        assert!(format!("{:?}", cfg.credentials("localhost:5000")).contains("redacted"));
        assert!(cfg.remove_credentials("localhost:5000"));
        assert_eq!(cfg.credentials("localhost:5000"), None);
    }
}
