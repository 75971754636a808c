//! Moving charts around: package, HTTP chart repositories, dependencies, OCI registries.
//!
//! One file per concept: [`package`] (reproducible `.tgz`), [`index`] (`index.yaml`),
//! [`config`] (`repositories.yaml`, registry credentials, where the cache lives), [`http`]
//! (fetching with TLS and auth, verified and atomically cached), [`oci`] (the OCI distribution
//! protocol as Helm uses it), [`dependency`] (Chart.yaml dependencies, `Chart.lock`),
//! [`repository`] (HTTP chart repositories: add, update, download) and
//! [`resolve`] (turning `REPO/CHART`, `oci://…` or a URL into a local chart archive).

use std::path::PathBuf;

pub mod config;
pub mod dependency;
pub mod http;
pub mod index;
pub mod oci;
pub mod package;
pub mod repository;
pub mod resolve;
pub mod version;

pub use config::Dirs;
pub use http::HttpOptions;
pub use resolve::{
    resolve_chart_ref, resolve_chart_ref_blocking, resolve_chart_ref_with, ChartRef, FetchOptions,
};

/// Something went wrong while moving a chart around. Every variant names what it was working on.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RepoError {
    /// A local input file is larger than the input file cap.
    #[error(transparent)]
    Input(crate::input::InputError),
    /// A local file could not be read or written.
    #[error("{action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// A YAML or JSON file could not be parsed.
    #[error("cannot parse {path}: {message}")]
    Parse { path: String, message: String },
    /// A plain `http://` URL was used without `--plain-http`.
    #[error("refusing plain HTTP for {url}: pass --plain-http to allow an unencrypted connection")]
    PlainHttpRequired { url: String },
    /// A URL or reference could not be understood.
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    /// The HTTP client could not be set up (bad CA file, bad client certificate).
    #[error("cannot set up the HTTP client: {message}")]
    Tls { message: String },
    /// A request failed before an HTTP status arrived (connection refused, TLS failure).
    #[error("cannot fetch {url}: {message}")]
    Transport { url: String, message: String },
    /// The server answered with an error status.
    #[error("cannot fetch {url}: the server answered {status}{hint}")]
    Status {
        url: String,
        status: u16,
        hint: String,
    },
    /// A download was larger than rudder accepts.
    #[error("cannot fetch {url}: the response is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    /// What the repository served is not a chart repository index.
    #[error("{url} is not a chart repository index: {reason}")]
    NotAnIndex { url: String, reason: String },
    /// A downloaded file does not have the digest it was announced with.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    /// No repository of that name is configured.
    #[error("no repository named {name:?} (add it with `rudder repo add {name} URL`)")]
    UnknownRepository { name: String },
    /// A repository name is already taken.
    #[error(
        "repository {name:?} already exists with URL {url} (use --force-update to replace it)"
    )]
    RepositoryExists { name: String, url: String },
    /// An index entry is unusable as a whole (its versions name another chart, or a path).
    #[error("repository {repository}: index entry {entry:?} is refused: {reason}")]
    InvalidIndexEntry {
        repository: String,
        entry: String,
        reason: String,
    },
    /// The repository has no chart of that name.
    #[error("chart {chart:?} not found in {repository}")]
    ChartNotFound { chart: String, repository: String },
    /// The repository has the chart, but no version satisfies the constraint.
    #[error(
        "no version of {chart} in {repository} satisfies {constraint:?} (available: {available})"
    )]
    NoMatchingVersion {
        chart: String,
        repository: String,
        constraint: String,
        available: String,
    },
    /// A version or version constraint is not valid SemVer.
    #[error("invalid version constraint {constraint:?}: {reason}")]
    InvalidConstraint { constraint: String, reason: String },
    /// A chart could not be loaded.
    #[error(transparent)]
    Chart(#[from] crate::chart::ChartError),
    /// A chart is not valid for the requested operation.
    #[error("invalid chart {path}: {reason}")]
    InvalidChart { path: PathBuf, reason: String },
    /// The registry rejected a request or answered something unexpected.
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    /// A Chart.lock no longer matches the dependencies declared in Chart.yaml.
    #[error("{path} is out of sync with Chart.yaml (run `rudder dependency update`)")]
    LockOutOfSync { path: PathBuf },
    /// A dependency could not be resolved or fetched.
    #[error("dependency {name:?} ({repository}): {reason}")]
    Dependency {
        name: String,
        repository: String,
        reason: String,
    },
}

impl RepoError {
    /// A chart file read within the input file cap (see [`crate::input`]).
    pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>, Self> {
        crate::input::read_file(path).map_err(|error| match error {
            crate::input::InputError::Read { error, .. } => {
                RepoError::io("cannot read", path, error)
            }
            too_large => RepoError::Input(too_large),
        })
    }

    /// An [`RepoError::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        RepoError::Io {
            action,
            path: path.into(),
            error,
        }
    }
}
