//! A chart repository's `index.yaml`: reading what a server sent, generating one for a folder of
//! packaged charts (`rudder repo index`), and picking a chart version from it.
//!
//! The written form is what Helm writes and accepts (Helm reads indexes strictly, so only fields
//! Helm knows are emitted): `apiVersion: v1`, `entries` (each version's Chart.yaml fields plus
//! `urls`, `created`, `digest` as bare hex), `generated`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::version::{parse_version, Constraint};
use super::RepoError;
use crate::chart::ChartMetadata;

/// One version of one chart in an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartVersion {
    /// The chart's Chart.yaml fields.
    #[serde(flatten)]
    pub metadata: ChartMetadata,
    /// Where the archive can be downloaded, absolute or relative to the repository URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// When the version was added (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    /// SHA-256 of the archive, hex (Helm writes it without the `sha256:` prefix).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// A repository index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexFile {
    pub api_version: String,
    pub generated: String,
    /// Chart name → versions, newest first.
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    /// Entries that were skipped while reading, with the reason (shown as warnings).
    pub skipped: Vec<String>,
    /// Entries refused as a whole (entry name → reason): a version that calls its chart by
    /// another name than the entry's key, or a name that is not one path component. Asking for
    /// such a chart is an error naming the entry, never a silent pick of another version.
    pub refused: BTreeMap<String, String>,
}

impl IndexFile {
    /// An empty index stamped now.
    pub fn new() -> Self {
        IndexFile {
            api_version: "v1".into(),
            generated: super::config::now_rfc3339(),
            entries: BTreeMap::new(),
            skipped: Vec::new(),
            refused: BTreeMap::new(),
        }
    }

    /// Parses an index sent by `source` (a URL or path, for messages). Rejects HTML pages, empty
    /// bodies, YAML that does not parse (a truncated download) and documents without `apiVersion`.
    pub fn parse(data: &[u8], source: &str) -> Result<Self, RepoError> {
        let not_index = |reason: String| RepoError::NotAnIndex {
            url: source.to_string(),
            reason,
        };
        let text = std::str::from_utf8(data)
            .map_err(|e| not_index(format!("the body is not UTF-8 text ({e})")))?;
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(not_index("the body is empty".into()));
        }
        let head = trimmed
            .get(..trimmed.len().min(256))
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        if head.starts_with("<!doctype") || head.starts_with("<html") || head.starts_with('<') {
            return Err(not_index(
                "the server sent an HTML page (is the URL the repository root?)".into(),
            ));
        }
        let value: Value = if trimmed.starts_with('{') {
            serde_json::from_str(text).map_err(|e| {
                not_index(format!(
                    "invalid JSON at line {}, column {}: {e} (truncated download?)",
                    e.line(),
                    e.column()
                ))
            })?
        } else {
            crate::yaml::from_str(text).map_err(|e| {
                not_index(format!(
                    "invalid YAML at line {}, column {}: {} (truncated download?)",
                    e.line, e.column, e.message
                ))
            })?
        };
        let Value::Object(map) = value else {
            return Err(not_index("the document is not a mapping".into()));
        };
        let api_version = match map.get("apiVersion") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(not_index(
                    "no apiVersion field (truncated download?)".into(),
                ))
            }
        };
        let generated = match map.get("generated") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let mut index = IndexFile {
            api_version,
            generated,
            entries: BTreeMap::new(),
            skipped: Vec::new(),
            refused: BTreeMap::new(),
        };
        match map.get("entries") {
            Some(Value::Object(entries)) => {
                for (name, versions) in entries {
                    let Value::Array(versions) = versions else {
                        index
                            .skipped
                            .push(format!("{name}: the entry is not a list of versions"));
                        continue;
                    };
                    let mut parsed = Vec::new();
                    for v in versions {
                        match parse_entry(v) {
                            Ok(cv) => parsed.push(cv),
                            Err(reason) => index.skipped.push(format!("{name}: {reason}")),
                        }
                    }
                    if let Some(reason) = refuse_entry(name, &parsed) {
                        index.skipped.push(format!("{name}: {reason}"));
                        index.refused.insert(name.clone(), reason);
                        continue;
                    }
                    index.entries.insert(name.clone(), parsed);
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => return Err(not_index("`entries` is not a mapping".into())),
        }
        index.sort_entries();
        Ok(index)
    }

    /// Reads an index file from disk.
    pub fn load(path: &Path) -> Result<Self, RepoError> {
        let data = std::fs::read(path).map_err(|e| RepoError::io("cannot read", path, e))?;
        Self::parse(&data, &path.display().to_string())
    }

    /// Sorts every chart's versions newest first (versions that are not SemVer go last).
    pub fn sort_entries(&mut self) {
        for versions in self.entries.values_mut() {
            versions.sort_by(|a, b| {
                match (
                    parse_version(&a.metadata.version),
                    parse_version(&b.metadata.version),
                ) {
                    (Some(x), Some(y)) => y.cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => a.metadata.version.cmp(&b.metadata.version),
                }
            });
        }
    }

    /// Whether the index has `name` at exactly `version`.
    pub fn has(&self, name: &str, version: &str) -> bool {
        self.entries
            .get(name)
            .is_some_and(|vs| vs.iter().any(|v| v.metadata.version == version))
    }

    /// Adds (or replaces) a version.
    pub fn add(&mut self, version: ChartVersion) {
        let list = self
            .entries
            .entry(version.metadata.name.clone())
            .or_default();
        list.retain(|v| v.metadata.version != version.metadata.version);
        list.push(version);
    }

    /// Keeps every version of `other` this index does not have (Helm's `--merge`).
    pub fn merge(&mut self, other: &IndexFile) {
        for versions in other.entries.values() {
            for v in versions {
                if !self.has(&v.metadata.name, &v.metadata.version) {
                    self.add(v.clone());
                }
            }
        }
        self.sort_entries();
    }

    /// The newest version of `chart` satisfying `constraint` (empty: newest stable version).
    pub fn find(
        &self,
        chart: &str,
        constraint: &str,
        repository: &str,
    ) -> Result<&ChartVersion, RepoError> {
        if let Some(reason) = self.refused.get(chart) {
            return Err(RepoError::InvalidIndexEntry {
                repository: repository.to_string(),
                entry: chart.to_string(),
                reason: reason.clone(),
            });
        }
        let versions = self
            .entries
            .get(chart)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| RepoError::ChartNotFound {
                chart: chart.to_string(),
                repository: repository.to_string(),
            })?;
        let parsed = Constraint::parse(constraint)?;
        let usable = versions.iter().filter(|v| !v.urls.is_empty() && !v.removed);
        let picked =
            super::version::pick_newest(usable.map(|v| v.metadata.version.as_str()), &parsed);
        picked
            .and_then(|p| versions.iter().find(|v| v.metadata.version == p))
            .ok_or_else(|| RepoError::NoMatchingVersion {
                chart: chart.to_string(),
                repository: repository.to_string(),
                constraint: constraint.to_string(),
                available: versions
                    .iter()
                    .take(10)
                    .map(|v| v.metadata.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The index as Helm writes it (sorted keys, block YAML).
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_string(&self.to_value())
    }

    /// The index as JSON (for `--json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }

    fn to_value(&self) -> Value {
        let entries: serde_json::Map<String, Value> = self
            .entries
            .iter()
            .map(|(name, versions)| {
                let list = versions
                    .iter()
                    .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
                    .collect();
                (name.clone(), Value::Array(list))
            })
            .collect();
        serde_json::json!({
            "apiVersion": self.api_version,
            "entries": entries,
            "generated": self.generated,
        })
    }
}

/// Why an index entry cannot be used at all: the archive of a version is saved as
/// `NAME-VERSION.tgz`, so every version must carry the entry's own name, and that name must be
/// one path component.
fn refuse_entry(name: &str, versions: &[ChartVersion]) -> Option<String> {
    if let Err(e) = crate::chart::check_path_component(name) {
        return Some(format!("the entry name {e}"));
    }
    versions.iter().find_map(|v| {
        (v.metadata.name != name).then(|| {
            format!(
                "version {} calls the chart {:?}, not {name:?} (an entry's versions must carry its name)",
                v.metadata.version, v.metadata.name
            )
        })
    })
}

fn parse_entry(value: &Value) -> Result<ChartVersion, String> {
    let Value::Object(map) = value else {
        return Err("an entry is not a mapping".into());
    };
    let mut map = map.clone();
    // Old indexes omit apiVersion; Helm reads those entries as v1 charts.
    if !matches!(map.get("apiVersion"), Some(Value::String(s)) if !s.is_empty()) {
        map.insert("apiVersion".into(), Value::String("v1".into()));
    }
    let cv: ChartVersion = serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
    if cv.metadata.name.is_empty() {
        return Err("an entry has no name".into());
    }
    if parse_version(&cv.metadata.version).is_none() {
        return Err(format!(
            "version {:?} of {} is not SemVer",
            cv.metadata.version, cv.metadata.name
        ));
    }
    Ok(cv)
}

/// Joins a possibly relative chart URL from an index onto the repository URL.
pub fn resolve_chart_url(repo_url: &str, chart_url: &str) -> Result<String, RepoError> {
    if chart_url.contains("://") {
        return Ok(chart_url.to_string());
    }
    let mut base = reqwest::Url::parse(repo_url).map_err(|e| RepoError::InvalidReference {
        reference: repo_url.to_string(),
        reason: e.to_string(),
    })?;
    // The repository URL names a folder: without the slash, `join` would replace its last part.
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(chart_url)
        .map(|u| u.to_string())
        .map_err(|e| RepoError::InvalidReference {
            reference: chart_url.to_string(),
            reason: e.to_string(),
        })
}

/// Builds the index of every `*.tgz` in `dir` and its immediate subfolders (as `helm repo index`
/// does), with URLs under `base_url` when given (relative otherwise). Archives that are not
/// charts are reported in `skipped`.
pub fn index_directory(dir: &Path, base_url: Option<&str>) -> Result<IndexFile, RepoError> {
    let mut archives = list_archives(dir)?;
    for sub in read_dir_sorted(dir)? {
        if sub.is_dir() {
            archives.extend(list_archives(&sub)?);
        }
    }
    let mut index = IndexFile::new();
    let now = index.generated.clone();
    for archive in archives {
        let rel = archive
            .strip_prefix(dir)
            .unwrap_or(&archive)
            .to_string_lossy()
            .replace('\\', "/");
        let data =
            std::fs::read(&archive).map_err(|e| RepoError::io("cannot read", &archive, e))?;
        let chart = match crate::chart::load(&archive) {
            Ok(c) => c,
            Err(e) => {
                index.skipped.push(format!("{rel}: {e}"));
                continue;
            }
        };
        let mut metadata = chart.metadata;
        if metadata.api_version.is_empty() {
            metadata.api_version = "v1".into();
        }
        let url = match base_url {
            Some(base) if !base.is_empty() => format!("{}/{rel}", base.trim_end_matches('/')),
            _ => rel.clone(),
        };
        index.add(ChartVersion {
            metadata,
            urls: vec![url],
            created: now.clone(),
            removed: false,
            digest: super::http::sha256_hex(&data),
        });
    }
    index.sort_entries();
    Ok(index)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, RepoError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| RepoError::io("cannot read directory", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn list_archives(dir: &Path) -> Result<Vec<PathBuf>, RepoError> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tgz"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"apiVersion: v1
entries:
  web:
  - apiVersion: v2
    name: web
    version: 1.2.0
    urls: [web-1.2.0.tgz]
    digest: abc
  - name: web
    version: 1.10.0
    urls: [https://cdn.example/web-1.10.0.tgz]
  - name: web
    version: 2.0.0-rc.1
    urls: [web-2.0.0-rc.1.tgz]
generated: "2024-01-01T00:00:00Z"
"#;

    #[test]
    fn parses_and_sorts_newest_first() {
        let index = IndexFile::parse(INDEX.as_bytes(), "test").unwrap();
        let versions: Vec<_> = index.entries["web"]
            .iter()
            .map(|v| v.metadata.version.as_str())
            .collect();
        assert_eq!(versions, ["2.0.0-rc.1", "1.10.0", "1.2.0"]);
        assert_eq!(index.entries["web"][1].metadata.api_version, "v1");
    }

    #[test]
    fn finds_newest_stable_matching() {
        let index = IndexFile::parse(INDEX.as_bytes(), "test").unwrap();
        assert_eq!(
            index.find("web", "", "r").unwrap().metadata.version,
            "1.10.0"
        );
        assert_eq!(
            index.find("web", "~1.2", "r").unwrap().metadata.version,
            "1.2.0"
        );
        let err = index.find("web", ">=3", "r").unwrap_err().to_string();
        assert!(err.contains(">=3") && err.contains("1.10.0"), "{err}");
        assert!(matches!(
            index.find("db", "", "r"),
            Err(RepoError::ChartNotFound { .. })
        ));
    }

    #[test]
    fn rejects_html_truncated_and_empty() {
        let html = IndexFile::parse(b"<!DOCTYPE html><html></html>", "u").unwrap_err();
        assert!(html.to_string().contains("HTML"), "{html}");
        let cut = &INDEX[..INDEX.find("urls: [web-1.2").unwrap() + 9];
        assert!(IndexFile::parse(cut.as_bytes(), "u").is_err());
        assert!(IndexFile::parse(b"  \n", "u").is_err());
        assert!(IndexFile::parse(b"entries: {}\n", "u").is_err());
    }

    #[test]
    fn round_trips_through_yaml() {
        let index = IndexFile::parse(INDEX.as_bytes(), "test").unwrap();
        let again = IndexFile::parse(index.to_yaml().as_bytes(), "again").unwrap();
        assert_eq!(index.entries, again.entries);
    }

    #[test]
    fn resolves_relative_chart_urls() {
        assert_eq!(
            resolve_chart_url("https://h/charts", "web-1.0.0.tgz").unwrap(),
            "https://h/charts/web-1.0.0.tgz"
        );
        assert_eq!(
            resolve_chart_url("https://h/charts/", "https://o/x.tgz").unwrap(),
            "https://o/x.tgz"
        );
    }
}
