//! Turning what a user typed as CHART into a local chart: a path on disk, `REPO/CHART` from a
//! configured repository, `oci://HOST/PATH/CHART`, or an `https://…/chart.tgz` URL.
//!
//! Downloads land in the content cache (`$XDG_CACHE_HOME/rudder/content/<sha256>.tgz`), verified;
//! the returned path is that archive, ready for `chart::load`.

use std::path::{Path, PathBuf};

use super::config::Dirs;
use super::http::HttpOptions;
use super::oci::{registry_client, tag_to_version, version_to_tag, OciReference, RegistryClient};
use super::repository::{
    cached_index, configured_repository, download_chart, download_url, fetch_index, store_content,
};
use super::version::{parse_version, pick_newest, Constraint};
use super::RepoError;

/// What a chart reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartRef {
    /// A chart directory or archive on disk.
    Local(PathBuf),
    /// `REPO/CHART` from a configured repository.
    Repository { repo: String, chart: String },
    /// A chart in an OCI registry.
    Oci(OciReference),
    /// A chart archive at an HTTP(S) URL.
    Url(String),
    /// CHART from the repository at a URL given with `--repo`.
    RepoUrl { url: String, chart: String },
}

impl ChartRef {
    /// Classifies a reference. An existing path always wins, as in Helm.
    pub fn parse(reference: &str, repo_url: Option<&str>) -> Result<Self, RepoError> {
        if reference.starts_with("oci://") {
            return Ok(ChartRef::Oci(OciReference::parse(reference)?));
        }
        if reference.starts_with("https://") || reference.starts_with("http://") {
            return Ok(ChartRef::Url(reference.to_string()));
        }
        if let Some(url) = repo_url.filter(|u| !u.is_empty()) {
            return Ok(ChartRef::RepoUrl {
                url: url.to_string(),
                chart: reference.to_string(),
            });
        }
        let path = Path::new(reference);
        if path.exists() {
            return Ok(ChartRef::Local(path.to_path_buf()));
        }
        match reference.split_once('/') {
            Some((repo, chart))
                if !repo.is_empty()
                    && !chart.is_empty()
                    && !chart.contains('/')
                    && !reference.starts_with('.') =>
            {
                Ok(ChartRef::Repository {
                    repo: repo.to_string(),
                    chart: chart.to_string(),
                })
            }
            _ => Err(RepoError::InvalidReference {
                reference: reference.to_string(),
                reason: "no such file or directory, and not REPO/CHART, oci://… or a URL".into(),
            }),
        }
    }
}

/// Everything fetching a chart may need besides the reference.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Version or constraint (`--version`); empty means the newest stable version.
    pub version: String,
    /// Transport settings from the command line (used for URLs, `--repo` and OCI; configured
    /// repositories use their own stored settings).
    pub http: HttpOptions,
    /// `--repo URL`.
    pub repo_url: Option<String>,
    /// Where the configuration and cache live.
    pub dirs: Dirs,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            version: String::new(),
            http: HttpOptions::default(),
            repo_url: None,
            dirs: Dirs::from_env(),
        }
    }
}

/// A chart fetched into the cache.
#[derive(Debug, Clone)]
pub struct FetchedChart {
    /// The archive (or, for a local reference, the path as given).
    pub path: PathBuf,
    /// Chart name, when known before loading.
    pub name: String,
    /// Chart version, when known before loading.
    pub version: String,
    /// Where it came from, for messages (`repo/chart`, URL, `oci://…@digest`).
    pub source: String,
}

/// Resolves a chart reference to a local chart path with default settings (environment
/// directories, no extra TLS options). See [`resolve_chart_ref_with`].
pub async fn resolve_chart_ref(reference: &str, version: &str) -> Result<PathBuf, RepoError> {
    let opts = FetchOptions {
        version: version.to_string(),
        ..FetchOptions::default()
    };
    Ok(fetch_chart(reference, &opts).await?.path)
}

/// Resolves a chart reference to a local chart path (see [`fetch_chart`]).
pub async fn resolve_chart_ref_with(
    reference: &str,
    opts: &FetchOptions,
) -> Result<PathBuf, RepoError> {
    Ok(fetch_chart(reference, opts).await?.path)
}

/// [`resolve_chart_ref_with`] for synchronous callers. Runs on its own thread and runtime, so it
/// is safe to call from inside another tokio runtime too.
pub fn resolve_chart_ref_blocking(
    reference: &str,
    opts: &FetchOptions,
) -> Result<PathBuf, RepoError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| RepoError::Transport {
                        url: reference.to_string(),
                        message: format!("cannot start the async runtime: {e}"),
                    })?;
                runtime.block_on(resolve_chart_ref_with(reference, opts))
            })
            .join()
            .unwrap_or_else(|_| {
                Err(RepoError::Transport {
                    url: reference.to_string(),
                    message: "the download thread panicked".into(),
                })
            })
    })
}

/// Fetches the chart a reference names into the content cache (local paths are returned as is).
pub async fn fetch_chart(reference: &str, opts: &FetchOptions) -> Result<FetchedChart, RepoError> {
    match ChartRef::parse(reference, opts.repo_url.as_deref())? {
        ChartRef::Local(path) => Ok(FetchedChart {
            path,
            name: String::new(),
            version: String::new(),
            source: reference.to_string(),
        }),
        ChartRef::Repository { repo, chart } => {
            let entry = configured_repository(&repo, &opts.dirs).map_err(|e| match e {
                // Most often a mistyped path: say both what was looked for on disk and online.
                RepoError::UnknownRepository { name } => RepoError::InvalidReference {
                    reference: reference.to_string(),
                    reason: format!(
                        "no such chart directory or archive, and no repository named {name:?} \
                         (add one with `rudder repo add {name} URL`)"
                    ),
                },
                other => other,
            })?;
            let index = cached_index(&entry, &opts.dirs).await?;
            let found = index.find(&chart, &opts.version, &format!("repository {repo:?}"))?;
            let path = download_chart(&entry.url, found, &entry.http_options(), &opts.dirs).await?;
            Ok(FetchedChart {
                path,
                name: chart,
                version: found.metadata.version.clone(),
                source: reference.to_string(),
            })
        }
        ChartRef::RepoUrl { url, chart } => {
            let (index, _) = fetch_index(&url, &opts.http).await?;
            let found = index.find(&chart, &opts.version, &url)?;
            let path = download_chart(&url, found, &opts.http, &opts.dirs).await?;
            Ok(FetchedChart {
                path,
                name: chart,
                version: found.metadata.version.clone(),
                source: format!("{url} {}", found.metadata.name),
            })
        }
        ChartRef::Url(url) => {
            let path = download_url(&url, &opts.http, &opts.dirs).await?;
            Ok(FetchedChart {
                path,
                name: String::new(),
                version: String::new(),
                source: url,
            })
        }
        ChartRef::Oci(reference) => fetch_oci(reference, opts).await,
    }
}

/// The tag to pull for an OCI chart: the reference's own, the exact `--version`, or the newest
/// tag satisfying the `--version` constraint.
pub async fn pick_oci_tag(
    client: &RegistryClient,
    reference: &OciReference,
    version: &str,
) -> Result<String, RepoError> {
    if let Some(tag) = &reference.tag {
        return Ok(tag.clone());
    }
    let exact = !version.is_empty()
        && parse_version(version).is_some()
        && !version.contains(['^', '~', '<', '>', '=', '*', ' ', '|', 'x', 'X']);
    if exact {
        return Ok(version_to_tag(version));
    }
    let constraint = Constraint::parse(version)?;
    let tags = client.list_tags(&reference.repository).await?;
    let versions: Vec<String> = tags.iter().map(|t| tag_to_version(t)).collect();
    let picked =
        pick_newest(versions.iter().map(String::as_str), &constraint).ok_or_else(|| {
            RepoError::NoMatchingVersion {
                chart: reference.chart_name().to_string(),
                repository: reference.to_string(),
                constraint: version.to_string(),
                available: tags.join(", "),
            }
        })?;
    Ok(version_to_tag(picked))
}

async fn fetch_oci(
    reference: OciReference,
    opts: &FetchOptions,
) -> Result<FetchedChart, RepoError> {
    let client = registry_client(&reference.registry, &opts.http, &opts.dirs)?;
    let mut reference = reference;
    if reference.digest.is_none() {
        reference.tag = Some(pick_oci_tag(&client, &reference, &opts.version).await?);
    }
    let pulled = client.pull_chart(&reference).await?;
    let path = store_content(&opts.dirs, &reference.to_string(), &pulled.archive)?;
    let field = |k: &str| {
        pulled
            .config
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    // Named as the user asked for it (Helm does the same): the config blob is the registry's
    // word, and `pull` turns these into a file name.
    let version = match &reference.tag {
        Some(tag) => super::oci::tag_to_version(tag),
        None => field("version"),
    };
    Ok(FetchedChart {
        path,
        name: reference.chart_name().to_string(),
        version,
        source: format!("{reference}@{}", pulled.manifest_digest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_references() {
        assert!(matches!(
            ChartRef::parse("oci://h/c/web", None).unwrap(),
            ChartRef::Oci(_)
        ));
        assert!(matches!(
            ChartRef::parse("https://h/web-1.0.0.tgz", None).unwrap(),
            ChartRef::Url(_)
        ));
        assert_eq!(
            ChartRef::parse("stable/web", None).unwrap(),
            ChartRef::Repository {
                repo: "stable".into(),
                chart: "web".into()
            }
        );
        assert!(matches!(
            ChartRef::parse("web", Some("https://h")).unwrap(),
            ChartRef::RepoUrl { .. }
        ));
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().to_str().unwrap();
        assert!(matches!(
            ChartRef::parse(local, None).unwrap(),
            ChartRef::Local(_)
        ));
        assert!(ChartRef::parse("./missing/chart", None).is_err());
        assert!(ChartRef::parse("nothing", None).is_err());
    }
}
