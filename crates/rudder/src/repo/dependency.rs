//! A chart's dependencies: listing their state, resolving Chart.yaml's version ranges against
//! repositories (HTTP, `oci://`, `file://`), downloading them into `charts/`, and `Chart.lock`.
//!
//! `Chart.lock` is written as Helm writes it, including its digest (SHA-256 of the JSON of the
//! declared and the locked dependencies, with Go's field order and escaping), so Helm and rudder
//! each accept the other's lock. `build` reproduces `charts/` from the lock and refuses a lock
//! that no longer matches Chart.yaml.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::config::{write_atomically, Dirs, RepositoryEntry, RepositoryFile};
use super::http::{sha256_hex, HttpOptions};
use super::index::IndexFile;
use super::oci::{registry_client, version_to_tag, OciReference};
use super::package::{build_package, check_archive, PackageOptions};
use super::repository::{download_chart, fetch_index, update_index};
use super::resolve::pick_oci_tag;
use super::version::{parse_version, Constraint};
use super::RepoError;
use crate::chart::{ChartMetadata, Dependency};

/// Settings for resolving and downloading dependencies.
#[derive(Debug, Clone)]
pub struct DependencyOptions {
    /// Transport settings for repositories that are not configured (and for registries).
    pub http: HttpOptions,
    /// Use cached indexes of configured repositories without refreshing them.
    pub skip_refresh: bool,
    /// Where the configuration and cache live.
    pub dirs: Dirs,
}

/// One declared dependency and what `charts/` holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyStatus {
    pub name: String,
    pub version: String,
    pub repository: String,
    /// `ok`, `missing`, `unpacked`, `wrong version`, `invalid version`, `corrupt`, `misnamed`
    /// or `too many matches` — Helm's words.
    pub status: String,
}

/// A resolved dependency as written to Chart.lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedDependency {
    pub name: String,
    pub repository: String,
    pub version: String,
}

/// The chart's declared dependencies and where its lock lives (`Chart.lock`, or
/// `requirements.lock` for apiVersion v1 charts).
struct Declared {
    metadata: ChartMetadata,
    dependencies: Vec<Dependency>,
    lock_path: PathBuf,
}

fn read_declared(chart_dir: &Path) -> Result<Declared, RepoError> {
    let chart_yaml = chart_dir.join("Chart.yaml");
    let metadata: ChartMetadata = read_yaml(&chart_yaml)?;
    let requirements = chart_dir.join("requirements.yaml");
    if metadata.api_version == "v1" && requirements.is_file() {
        #[derive(serde::Deserialize, Default)]
        struct Requirements {
            #[serde(default)]
            dependencies: Vec<Dependency>,
        }
        let req: Requirements = read_yaml(&requirements)?;
        return Ok(Declared {
            metadata,
            dependencies: req.dependencies,
            lock_path: chart_dir.join("requirements.lock"),
        });
    }
    Ok(Declared {
        dependencies: metadata.dependencies.clone(),
        metadata,
        lock_path: chart_dir.join("Chart.lock"),
    })
}

fn read_yaml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T, RepoError> {
    let bytes = RepoError::read_input(path)?;
    let value =
        crate::yaml::from_str(&crate::chart::text_of(&bytes)).map_err(|e| RepoError::Parse {
            path: format!("{}:{}:{}", path.display(), e.line, e.column),
            message: e.message,
        })?;
    if value.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(value).map_err(|e| RepoError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Reads a lock file: the locked dependencies and the recorded digest.
pub fn read_lock(path: &Path) -> Result<(Vec<LockedDependency>, String), RepoError> {
    let value: Value = read_yaml(path)?;
    let digest = value
        .get("digest")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let deps = value
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|d| {
                    let field = |k: &str| {
                        d.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    LockedDependency {
                        name: field("name"),
                        repository: field("repository"),
                        version: field("version"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((deps, digest))
}

/// Helm's lock digest: `sha256:` + SHA-256 of `json.Marshal([2][]*Dependency{req, lock})`.
pub fn lock_digest(declared: &[Dependency], locked: &[LockedDependency]) -> String {
    let req: Vec<String> = declared.iter().map(go_dependency_json).collect();
    let lock: Vec<String> = locked
        .iter()
        .map(|l| {
            go_dependency_json(&Dependency {
                name: l.name.clone(),
                version: l.version.clone(),
                repository: l.repository.clone(),
                ..Default::default()
            })
        })
        .collect();
    let text = format!("[[{}],[{}]]", req.join(","), lock.join(","));
    format!("sha256:{}", sha256_hex(go_escape_html(&text).as_bytes()))
}

/// A dependency as Go's `encoding/json` writes Helm's `chart.Dependency`: fields in declaration
/// order, `repository` always present, the others omitted when empty. (serde_json maps sort
/// their keys, so the object is written by hand; nested maps are sorted, as Go sorts them.)
fn go_dependency_json(d: &Dependency) -> String {
    let mut fields: Vec<(&str, Value)> = vec![("name", json!(d.name))];
    if !d.version.is_empty() {
        fields.push(("version", json!(d.version)));
    }
    fields.push(("repository", json!(d.repository)));
    if !d.condition.is_empty() {
        fields.push(("condition", json!(d.condition)));
    }
    if !d.tags.is_empty() {
        fields.push(("tags", json!(d.tags)));
    }
    if d.enabled == Some(true) {
        fields.push(("enabled", json!(true)));
    }
    if !d.import_values.is_empty() {
        fields.push(("import-values", json!(d.import_values)));
    }
    if !d.alias.is_empty() {
        fields.push(("alias", json!(d.alias)));
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", body.join(","))
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 (they only occur in strings).
fn go_escape_html(text: &str) -> String {
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Lists the declared dependencies with the state of `charts/`, as `helm dependency list` does.
pub fn list_dependencies(chart_dir: &Path) -> Result<Vec<DependencyStatus>, RepoError> {
    let declared = read_declared(chart_dir)?;
    let charts = chart_dir.join("charts");
    let mut out = Vec::new();
    for dep in &declared.dependencies {
        out.push(DependencyStatus {
            name: dep.name.clone(),
            version: dep.version.clone(),
            repository: dep.repository.clone(),
            status: dependency_status(dep, &charts),
        });
    }
    Ok(out)
}

fn dependency_status(dep: &Dependency, charts: &Path) -> String {
    let constraint = match Constraint::parse(&dep.version) {
        Ok(c) => c,
        Err(_) => return "invalid version".into(),
    };
    let prefix = format!("{}-", dep.name);
    let archives: Vec<PathBuf> = std::fs::read_dir(charts)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|e| e == "tgz")
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    let check = |path: &Path, found: &str| -> String {
        match crate::chart::load(path) {
            Err(_) => "corrupt".into(),
            Ok(c) if c.metadata.name != dep.name => "misnamed".into(),
            Ok(c) => match parse_version(&c.metadata.version) {
                Some(v) if constraint.matches(&v) => found.into(),
                Some(_) => "wrong version".into(),
                None => "invalid version".into(),
            },
        }
    };
    match archives.len() {
        0 => {}
        1 => return check(&archives[0], "ok"),
        _ => return "too many matches".into(),
    }
    let unpacked = charts.join(&dep.name);
    if unpacked.is_dir() {
        return check(&unpacked, "unpacked");
    }
    "missing".into()
}

/// A fetched dependency waiting to be written to `charts/`.
struct Fetched {
    file_name: String,
    data: Vec<u8>,
}

/// Resolves every declared dependency to the newest matching version, downloads them into
/// `charts/` and writes the lock (unchanged locks are not rewritten). Returns the locked list.
pub async fn update_dependencies(
    chart_dir: &Path,
    opts: &DependencyOptions,
) -> Result<Vec<LockedDependency>, RepoError> {
    let mut declared = read_declared(chart_dir)?;
    if declared.dependencies.is_empty() {
        return Ok(Vec::new());
    }
    let repos = RepositoryFile::load(&opts.dirs.repositories_file())?;
    resolve_aliases(&mut declared.dependencies, &repos)?;
    let mut session = Session::new(opts, &repos);
    let mut locked = Vec::new();
    let mut fetched = Vec::new();
    for dep in &declared.dependencies {
        let (lock, file) = session.fetch(chart_dir, dep, &dep.version).await?;
        locked.push(lock);
        fetched.extend(file);
    }
    place_in_charts(chart_dir, &declared.dependencies, fetched)?;
    let digest = lock_digest(&declared.dependencies, &locked);
    let unchanged = declared.lock_path.is_file()
        && read_lock(&declared.lock_path).is_ok_and(|(_, old)| old == digest);
    if !unchanged {
        write_lock(&declared.lock_path, &locked, &digest)?;
    }
    let _ = &declared.metadata;
    Ok(locked)
}

/// Rebuilds `charts/` from the lock (or runs an update when there is no lock).
pub async fn build_dependencies(
    chart_dir: &Path,
    opts: &DependencyOptions,
) -> Result<Vec<LockedDependency>, RepoError> {
    let mut declared = read_declared(chart_dir)?;
    if !declared.lock_path.is_file() {
        return update_dependencies(chart_dir, opts).await;
    }
    let (locked, digest) = read_lock(&declared.lock_path)?;
    let repos = RepositoryFile::load(&opts.dirs.repositories_file())?;
    resolve_aliases(&mut declared.dependencies, &repos)?;
    if lock_digest(&declared.dependencies, &locked) != digest {
        return Err(RepoError::LockOutOfSync {
            path: declared.lock_path.clone(),
        });
    }
    let mut session = Session::new(opts, &repos);
    let mut fetched = Vec::new();
    for lock in &locked {
        let dep = declared
            .dependencies
            .iter()
            .find(|d| d.name == lock.name && d.repository == lock.repository)
            .cloned()
            .unwrap_or_else(|| Dependency {
                name: lock.name.clone(),
                version: lock.version.clone(),
                repository: lock.repository.clone(),
                ..Default::default()
            });
        let (_, file) = session.fetch(chart_dir, &dep, &lock.version).await?;
        fetched.extend(file);
    }
    place_in_charts(chart_dir, &declared.dependencies, fetched)?;
    Ok(locked)
}

/// Replaces `@name` and `alias:name` repositories by the configured repository's URL, as Helm
/// does before hashing.
fn resolve_aliases(deps: &mut [Dependency], repos: &RepositoryFile) -> Result<(), RepoError> {
    for dep in deps.iter_mut() {
        let alias = dep
            .repository
            .strip_prefix('@')
            .or_else(|| dep.repository.strip_prefix("alias:"));
        if let Some(name) = alias {
            let entry = repos
                .get(name)
                .ok_or_else(|| RepoError::UnknownRepository {
                    name: name.to_string(),
                })?;
            dep.repository = entry.url.clone();
        }
    }
    Ok(())
}

/// Caches indexes across the dependencies of one run.
struct Session<'a> {
    opts: &'a DependencyOptions,
    repos: &'a RepositoryFile,
    indexes: BTreeMap<String, IndexFile>,
}

impl<'a> Session<'a> {
    fn new(opts: &'a DependencyOptions, repos: &'a RepositoryFile) -> Self {
        Session {
            opts,
            repos,
            indexes: BTreeMap::new(),
        }
    }

    fn error(dep: &Dependency, reason: impl Into<String>) -> RepoError {
        RepoError::Dependency {
            name: dep.name.clone(),
            repository: if dep.repository.is_empty() {
                "charts/".into()
            } else {
                dep.repository.clone()
            },
            reason: reason.into(),
        }
    }

    /// Resolves `dep` against `constraint` and fetches its archive (none for an unpacked
    /// subchart already in `charts/`).
    async fn fetch(
        &mut self,
        chart_dir: &Path,
        dep: &Dependency,
        constraint: &str,
    ) -> Result<(LockedDependency, Option<Fetched>), RepoError> {
        let parsed = Constraint::parse(constraint)
            .map_err(|e| Self::error(dep, format!("invalid version constraint: {e}")))?;
        let repo = dep.repository.as_str();
        if repo.is_empty() {
            if !chart_dir.join("charts").join(&dep.name).exists() {
                return Err(Self::error(
                    dep,
                    format!("no repository, and charts/{} does not exist", dep.name),
                ));
            }
            let lock = LockedDependency {
                name: dep.name.clone(),
                repository: String::new(),
                version: dep.version.clone(),
            };
            return Ok((lock, None));
        }
        if let Some(rel) = repo.strip_prefix("file://") {
            let path = if Path::new(rel).is_absolute() {
                PathBuf::from(rel)
            } else {
                chart_dir.join(rel)
            };
            if !path.is_dir() {
                return Err(Self::error(
                    dep,
                    format!("{} is not a chart folder", path.display()),
                ));
            }
            let (name, version, data) = build_package(&path, &PackageOptions::default())
                .map_err(|e| Self::error(dep, e.to_string()))?;
            let ok = parse_version(&version).is_some_and(|v| parsed.matches(&v));
            if !ok {
                return Err(Self::error(
                    dep,
                    format!(
                        "{} has version {version}, which does not satisfy {constraint:?}",
                        path.display()
                    ),
                ));
            }
            let lock = LockedDependency {
                name: dep.name.clone(),
                repository: dep.repository.clone(),
                version: version.clone(),
            };
            let file_name = archive_file_name(dep, &name, &version)?;
            return Ok((lock, Some(Fetched { file_name, data })));
        }
        if repo.starts_with("oci://") {
            let base = OciReference::parse(repo)?;
            let reference = base.child(&dep.name);
            let client = registry_client(&reference.registry, &self.opts.http, &self.opts.dirs)?;
            let tag = pick_oci_tag(&client, &reference, constraint).await?;
            let mut tagged = reference.clone();
            tagged.tag = Some(tag.clone());
            let pulled = client.pull_chart(&tagged).await?;
            check_archive(&tagged.to_string(), &pulled.archive)?;
            let version = super::oci::tag_to_version(&tag);
            let lock = LockedDependency {
                name: dep.name.clone(),
                repository: dep.repository.clone(),
                version: version.clone(),
            };
            let file_name = archive_file_name(dep, &dep.name, &version)?;
            debug_assert_eq!(version_to_tag(&version), tag);
            return Ok((
                lock,
                Some(Fetched {
                    file_name,
                    data: pulled.archive,
                }),
            ));
        }
        // An HTTP repository: a configured one (its credentials and cache) or a bare URL.
        let entry = self.repos.find_by_url(repo).cloned();
        let index = self.index_for(repo, entry.as_ref()).await?;
        let found = index
            .find(&dep.name, constraint, repo)
            .map_err(|e| Self::error(dep, e.to_string()))?
            .clone();
        let http = entry
            .as_ref()
            .map(RepositoryEntry::http_options)
            .unwrap_or_else(|| self.opts.http.clone());
        let path = download_chart(repo, &found, &http, &self.opts.dirs).await?;
        let data = std::fs::read(&path).map_err(|e| RepoError::io("cannot read", &path, e))?;
        check_archive(&path.display().to_string(), &data)?;
        let lock = LockedDependency {
            name: dep.name.clone(),
            repository: dep.repository.clone(),
            version: found.metadata.version.clone(),
        };
        let file_name = archive_file_name(dep, &dep.name, &found.metadata.version)?;
        Ok((lock, Some(Fetched { file_name, data })))
    }

    async fn index_for(
        &mut self,
        url: &str,
        entry: Option<&RepositoryEntry>,
    ) -> Result<IndexFile, RepoError> {
        if let Some(index) = self.indexes.get(url) {
            return Ok(index.clone());
        }
        let index = match entry {
            Some(entry) => {
                let cache = self.opts.dirs.index_cache_file(&entry.name);
                if self.opts.skip_refresh && cache.is_file() {
                    IndexFile::load(&cache)?
                } else {
                    update_index(entry, &self.opts.dirs).await?
                }
            }
            None => fetch_index(url, &self.opts.http).await?.0,
        };
        self.indexes.insert(url.to_string(), index.clone());
        Ok(index)
    }
}

/// `NAME-VERSION.tgz`, the name a fetched dependency is saved under in `charts/`. The name is
/// the one the chart asked for (an index entry must carry its key as its name), and the whole
/// file name must be one path component, so nothing a repository says can point it elsewhere.
fn archive_file_name(dep: &Dependency, name: &str, version: &str) -> Result<String, RepoError> {
    let file_name = format!("{name}-{version}.tgz");
    crate::chart::check_path_component(&file_name)
        .map_err(|e| Session::error(dep, format!("cannot save the archive: {e}")))?;
    Ok(file_name)
}

/// Writes the fetched archives into `charts/` (each atomically) and removes other archives of
/// the same dependencies (older versions). Unpacked subchart folders are left alone.
fn place_in_charts(
    chart_dir: &Path,
    declared: &[Dependency],
    fetched: Vec<Fetched>,
) -> Result<(), RepoError> {
    let charts = chart_dir.join("charts");
    std::fs::create_dir_all(&charts)
        .map_err(|e| RepoError::io("cannot create directory", &charts, e))?;
    let keep: Vec<&str> = fetched.iter().map(|f| f.file_name.as_str()).collect();
    let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
    let stale: Vec<PathBuf> = std::fs::read_dir(&charts)
        .map_err(|e| RepoError::io("cannot read directory", &charts, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tgz"))
        .filter(|p| {
            let file = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !keep.contains(&file)
        })
        .filter(|p| crate::chart::load(p).is_ok_and(|c| names.contains(&c.metadata.name.as_str())))
        .collect();
    for f in &fetched {
        write_atomically(&charts.join(&f.file_name), &f.data, 0o644)?;
    }
    for path in stale {
        std::fs::remove_file(&path).map_err(|e| RepoError::io("cannot remove", &path, e))?;
    }
    Ok(())
}

fn write_lock(path: &Path, locked: &[LockedDependency], digest: &str) -> Result<(), RepoError> {
    let deps: Vec<Value> = locked
        .iter()
        .map(|l| json!({"name": l.name, "repository": l.repository, "version": l.version}))
        .collect();
    let value = json!({
        "dependencies": deps,
        "digest": digest,
        "generated": super::config::now_rfc3339(),
    });
    write_atomically(path, crate::yaml::to_string(&value).as_bytes(), 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_of_dependencies_keeps_field_order_and_escapes() {
        let dep = Dependency {
            name: "db".into(),
            version: ">=1.0 <2".into(),
            repository: "https://h/c?a&b".into(),
            condition: "db.enabled".into(),
            alias: "store".into(),
            ..Default::default()
        };
        let text = go_escape_html(&format!("[[{}]]", go_dependency_json(&dep)));
        assert_eq!(
            text,
            r#"[[{"name":"db","version":"\u003e=1.0 \u003c2","repository":"https://h/c?a\u0026b","condition":"db.enabled","alias":"store"}]]"#
        );
    }

    #[test]
    fn lock_digest_matches_helm_for_a_known_lock() {
        // Computed by Helm's resolver.HashReq for this Chart.yaml and lock.
        let req = vec![Dependency {
            name: "sub".into(),
            version: "^1.0.0".into(),
            repository: "file://../sub".into(),
            ..Default::default()
        }];
        let lock = vec![LockedDependency {
            name: "sub".into(),
            repository: "file://../sub".into(),
            version: "1.2.0".into(),
        }];
        let expected_json = r#"[[{"name":"sub","version":"^1.0.0","repository":"file://../sub"}],[{"name":"sub","version":"1.2.0","repository":"file://../sub"}]]"#;
        assert_eq!(
            lock_digest(&req, &lock),
            format!("sha256:{}", sha256_hex(expected_json.as_bytes()))
        );
    }
}
