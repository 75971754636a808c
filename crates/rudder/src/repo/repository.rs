//! HTTP chart repositories: adding one, refreshing its cached index, downloading a chart from it.
//!
//! Every download is verified before it touches the cache, and the cache is only ever replaced
//! by an atomic rename: an HTML page, a truncated index, a 404 or a wrong digest leaves the cache
//! exactly as it was.

use std::path::{Path, PathBuf};

use super::config::{write_atomically, Dirs, RepositoryEntry, RepositoryFile};
use super::http::{sha256_hex, verify_digest, HttpFetcher, HttpOptions};
use super::index::{resolve_chart_url, ChartVersion, IndexFile};
use super::package::check_archive;
use super::RepoError;

/// Downloads and parses `<url>/index.yaml` without caching it.
pub async fn fetch_index(url: &str, opts: &HttpOptions) -> Result<(IndexFile, Vec<u8>), RepoError> {
    let index_url = format!("{}/index.yaml", url.trim_end_matches('/'));
    let fetcher = HttpFetcher::new(url, opts.clone())?;
    let fetched = fetcher.get(&index_url).await?;
    let index = IndexFile::parse(&fetched.body, &index_url)?;
    Ok((index, fetched.body))
}

/// Refreshes the cached index of a configured repository. On error the old cache stays.
pub async fn update_index(entry: &RepositoryEntry, dirs: &Dirs) -> Result<IndexFile, RepoError> {
    let (index, raw) = fetch_index(&entry.url, &entry.http_options()).await?;
    write_atomically(&dirs.index_cache_file(&entry.name), &raw, 0o644)?;
    Ok(index)
}

/// The cached index of a configured repository, downloading it when there is none yet.
pub async fn cached_index(entry: &RepositoryEntry, dirs: &Dirs) -> Result<IndexFile, RepoError> {
    let path = dirs.index_cache_file(&entry.name);
    if path.is_file() {
        if let Ok(index) = IndexFile::load(&path) {
            return Ok(index);
        }
    }
    update_index(entry, dirs).await
}

/// Adds a repository after checking that its index can be fetched; the index is cached.
pub async fn add_repository(
    entry: RepositoryEntry,
    dirs: &Dirs,
    force_update: bool,
) -> Result<(), RepoError> {
    let path = dirs.repositories_file();
    let mut file = RepositoryFile::load(&path)?;
    if let Some(existing) = file.get(&entry.name) {
        if *existing == entry {
            return Ok(());
        }
        if !force_update {
            return Err(RepoError::RepositoryExists {
                name: entry.name.clone(),
                url: existing.url.clone(),
            });
        }
    }
    super::http::parse_url(&entry.url, entry.plain_http)?;
    update_index(&entry, dirs).await?;
    file.upsert(entry);
    file.save(&path)
}

/// Removes a repository and its cached index.
pub fn remove_repository(name: &str, dirs: &Dirs) -> Result<(), RepoError> {
    let path = dirs.repositories_file();
    let mut file = RepositoryFile::load(&path)?;
    if !file.remove(name) {
        return Err(RepoError::UnknownRepository {
            name: name.to_string(),
        });
    }
    file.save(&path)?;
    let cache = dirs.index_cache_file(name);
    match std::fs::remove_file(&cache) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RepoError::io("cannot remove", cache, e)),
    }
}

/// The configured repository named `name`.
pub fn configured_repository(name: &str, dirs: &Dirs) -> Result<RepositoryEntry, RepoError> {
    RepositoryFile::load(&dirs.repositories_file())?
        .get(name)
        .cloned()
        .ok_or_else(|| RepoError::UnknownRepository {
            name: name.to_string(),
        })
}

/// Downloads the archive of `version` (from the repository at `repo_url`), verifies its digest
/// and stores it in the content cache. A verified cached copy is reused.
pub async fn download_chart(
    repo_url: &str,
    version: &ChartVersion,
    opts: &HttpOptions,
    dirs: &Dirs,
) -> Result<PathBuf, RepoError> {
    let name = format!("{}-{}", version.metadata.name, version.metadata.version);
    let url = version
        .urls
        .first()
        .ok_or_else(|| RepoError::ChartNotFound {
            chart: name.clone(),
            repository: repo_url.to_string(),
        })?;
    let url = resolve_chart_url(repo_url, url)?;
    if !version.digest.is_empty() {
        let cached = content_path(dirs, &version.digest);
        if let Ok(data) = std::fs::read(&cached) {
            if verify_digest(&url, &data, &version.digest).is_ok() {
                return Ok(cached);
            }
        }
    }
    let fetched = HttpFetcher::new(repo_url, opts.clone())?.get(&url).await?;
    if !version.digest.is_empty() {
        verify_digest(&url, &fetched.body, &version.digest)?;
    }
    store_content(dirs, &url, &fetched.body)
}

/// Downloads a chart archive from a plain URL into the content cache.
pub async fn download_url(
    url: &str,
    opts: &HttpOptions,
    dirs: &Dirs,
) -> Result<PathBuf, RepoError> {
    let fetched = HttpFetcher::new(url, opts.clone())?.get(url).await?;
    store_content(dirs, url, &fetched.body)
}

/// Checks a downloaded chart archive (see [`check_archive`]) and stores it in the content cache
/// under its SHA-256. Nothing is written for an archive that fails the check.
pub fn store_content(dirs: &Dirs, source: &str, data: &[u8]) -> Result<PathBuf, RepoError> {
    check_gzip(source, data)?;
    check_archive(source, data)?;
    let path = content_path(dirs, &sha256_hex(data));
    if !path.is_file() {
        write_atomically(&path, data, 0o644)?;
    }
    Ok(path)
}

fn content_path(dirs: &Dirs, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:").to_ascii_lowercase();
    dirs.content_dir().join(format!("{hex}.tgz"))
}

/// Rejects a body that is not gzip data (an HTML error page served with 200, say).
pub fn check_gzip(source: &str, data: &[u8]) -> Result<(), RepoError> {
    if data.starts_with(&[0x1f, 0x8b]) {
        Ok(())
    } else {
        Err(RepoError::InvalidChart {
            path: Path::new(source).to_path_buf(),
            reason: "the download is not a gzip-compressed chart archive".into(),
        })
    }
}
