//! Packaging a chart directory into `NAME-VERSION.tgz`, and unpacking a chart archive.
//!
//! The archive is laid out as Helm lays it out (one top folder named after the chart) and is
//! reproducible: the same chart gives the same bytes. Entries are sorted, every file is mode 0644
//! and owned by 0:0 with the same mtime (`SOURCE_DATE_EPOCH` when set, else the Unix epoch), and
//! the gzip header carries no timestamp or file name. `.helmignore` is honoured.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::config::write_atomically;
use super::RepoError;
use crate::chart::ignore::IgnoreRules;

/// How to package a chart.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// Replace Chart.yaml's `version` (must be SemVer).
    pub version: Option<String>,
    /// Replace Chart.yaml's `appVersion`.
    pub app_version: Option<String>,
    /// Folder the archive is written to (created if missing).
    pub destination: PathBuf,
}

/// Packages the chart in `dir`; returns the written archive's path.
pub fn package_chart(dir: &Path, opts: &PackageOptions) -> Result<PathBuf, RepoError> {
    let (name, version, bytes) = build_package(dir, opts)?;
    let out = opts.destination.join(format!("{name}-{version}.tgz"));
    write_atomically(&out, &bytes, 0o644)?;
    Ok(out)
}

/// Builds the archive of the chart in `dir` in memory: `(name, version, tgz bytes)`.
pub fn build_package(
    dir: &Path,
    opts: &PackageOptions,
) -> Result<(String, String, Vec<u8>), RepoError> {
    let invalid = |reason: String| RepoError::InvalidChart {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(invalid(
            "not a chart directory (package takes the folder holding Chart.yaml)".into(),
        ));
    }
    let chart = crate::chart::load(dir)?;
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .map(|d| d.name.as_str())
        .filter(|name| !chart.dependencies.iter().any(|sub| sub.name() == *name))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "found in Chart.yaml, but missing in charts/: {} (run `rudder dependency update`)",
            missing.join(", ")
        )));
    }
    let name = chart.metadata.name.clone();
    let mut version = chart.metadata.version.clone();
    if let Some(v) = &opts.version {
        if super::version::parse_version(v).is_none() {
            return Err(invalid(format!("--version {v:?} is not a SemVer version")));
        }
        version = v.clone();
    }
    let mut files = collect_files(dir)?;
    if opts.version.is_some() || opts.app_version.is_some() {
        rewrite_chart_yaml(dir, &mut files, opts)?;
    }
    let bytes = write_tgz(&name, &files, source_date_epoch())
        .map_err(|e| RepoError::io("cannot build the archive of", dir, e))?;
    Ok((name, version, bytes))
}

fn rewrite_chart_yaml(
    dir: &Path,
    files: &mut [(String, Vec<u8>)],
    opts: &PackageOptions,
) -> Result<(), RepoError> {
    let Some((_, data)) = files.iter_mut().find(|(p, _)| p == "Chart.yaml") else {
        return Err(RepoError::InvalidChart {
            path: dir.to_path_buf(),
            reason: "Chart.yaml is ignored by .helmignore".into(),
        });
    };
    let text = String::from_utf8_lossy(data).into_owned();
    let path = dir.join("Chart.yaml");
    let mut value = crate::yaml::from_str(&text).map_err(|e| RepoError::Parse {
        path: format!("{}:{}:{}", path.display(), e.line, e.column),
        message: e.message,
    })?;
    let Some(map) = value.as_object_mut() else {
        return Err(RepoError::Parse {
            path: path.display().to_string(),
            message: "Chart.yaml is not a mapping".into(),
        });
    };
    if let Some(v) = &opts.version {
        map.insert("version".into(), serde_json::Value::String(v.clone()));
    }
    if let Some(v) = &opts.app_version {
        map.insert("appVersion".into(), serde_json::Value::String(v.clone()));
    }
    *data = crate::yaml::to_string(&value).into_bytes();
    Ok(())
}

/// Every file of the chart in `dir` that `.helmignore` keeps, as `(relative path, bytes)` sorted
/// by path. Symbolic links are followed, as Helm follows them.
pub fn collect_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, RepoError> {
    let ignore_path = dir.join(".helmignore");
    let rules = match RepoError::read_input(&ignore_path) {
        Ok(bytes) => {
            IgnoreRules::parse(&crate::chart::text_of(&bytes)).map_err(|e| RepoError::Parse {
                path: format!("{}:{}", ignore_path.display(), e.line),
                message: e.message,
            })?
        }
        Err(RepoError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
            IgnoreRules::defaults()
        }
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    walk(dir, "", &rules, &mut files, 0)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn walk(
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    out: &mut Vec<(String, Vec<u8>)>,
    depth: usize,
) -> Result<(), RepoError> {
    // Followed directory links could loop; no real chart is nested this deep.
    if depth > 64 {
        return Err(RepoError::InvalidChart {
            path: dir.to_path_buf(),
            reason: "folders nested more than 64 deep (a symbolic link loop?)".into(),
        });
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| RepoError::io("cannot read directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RepoError::io("cannot read directory", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let meta = std::fs::metadata(&path).map_err(|e| RepoError::io("cannot read", &path, e))?;
        if meta.is_dir() {
            if !rules.is_ignored(&rel, true) {
                walk(&path, &format!("{rel}/"), rules, out, depth + 1)?;
            }
        } else if meta.is_file() && !rules.is_ignored(&rel, false) {
            let data = RepoError::read_input(&path)?;
            out.push((rel, data));
        }
    }
    Ok(())
}

fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes `files` (sorted by path) under the folder `top` as a deterministic `.tgz`.
pub fn write_tgz(top: &str, files: &[(String, Vec<u8>)], mtime: u64) -> std::io::Result<Vec<u8>> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (rel, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        tar.append_data(&mut header, format!("{top}/{rel}"), data.as_slice())?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// Checks a downloaded chart archive before it is stored anywhere: it must be a safe `.tgz`
/// (no `..`, absolute paths, links or devices; bounded size and entry count) holding one folder.
pub fn check_archive(source: &str, data: &[u8]) -> Result<(), RepoError> {
    let archive = crate::chart::archive::read_tgz(data).map_err(|e| RepoError::InvalidChart {
        path: PathBuf::from(source),
        reason: e.to_string(),
    })?;
    top_folder(source, &archive).map(|_| ())
}

fn top_folder(source: &str, archive: &crate::chart::archive::Archive) -> Result<String, RepoError> {
    let mut top: Option<&str> = None;
    for entry in &archive.entries {
        let first = entry.path.split('/').next().unwrap_or_default();
        match top {
            None => top = Some(first),
            Some(t) if t == first => {}
            Some(_) => {
                return Err(RepoError::InvalidChart {
                    path: PathBuf::from(source),
                    reason: "a chart archive holds exactly one top-level folder".into(),
                })
            }
        }
    }
    top.filter(|t| !t.is_empty())
        .map(String::from)
        .ok_or_else(|| RepoError::InvalidChart {
            path: PathBuf::from(source),
            reason: "the archive is empty".into(),
        })
}

/// Unpacks a chart archive into `target/<chart folder>` after checking every entry; refuses to
/// overwrite an existing folder. Returns the chart folder.
pub fn unpack_archive(archive_path: &Path, target: &Path) -> Result<PathBuf, RepoError> {
    let data =
        std::fs::read(archive_path).map_err(|e| RepoError::io("cannot read", archive_path, e))?;
    let shown = archive_path.display().to_string();
    let archive = crate::chart::archive::read_tgz(&data).map_err(|e| RepoError::InvalidChart {
        path: archive_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let top = top_folder(&shown, &archive)?;
    let dest = target.join(&top);
    if dest.exists() {
        return Err(RepoError::InvalidChart {
            path: dest,
            reason: "a file or folder of that name already exists; not overwriting it".into(),
        });
    }
    archive
        .unpack_to(target)
        .map_err(|e| RepoError::InvalidChart {
            path: archive_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Chart.yaml"),
            "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.0\"\n",
        )
        .unwrap();
        std::fs::write(root.join("values.yaml"), "replicas: 1\n").unwrap();
        std::fs::write(root.join(".helmignore"), "*.bak\nsecret/\n").unwrap();
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::write(root.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
        std::fs::write(root.join("templates/old.bak"), "x").unwrap();
        std::fs::create_dir_all(root.join("secret")).unwrap();
        std::fs::write(root.join("secret/key"), "k").unwrap();
        dir
    }

    #[test]
    fn packages_reproducibly_and_honours_helmignore() {
        let dir = chart_dir();
        let opts = PackageOptions::default();
        let (name, version, first) = build_package(dir.path(), &opts).unwrap();
        assert_eq!((name.as_str(), version.as_str()), ("demo", "0.1.0"));
        // Touching files changes mtimes on disk but not the archive.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(dir.path().join("values.yaml"), "replicas: 1\n").unwrap();
        let (_, _, second) = build_package(dir.path(), &opts).unwrap();
        assert_eq!(first, second);
        let archive = crate::chart::archive::read_tgz(&first).unwrap();
        let paths: Vec<_> = archive.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "demo/.helmignore",
                "demo/Chart.yaml",
                "demo/templates/cm.yaml",
                "demo/values.yaml"
            ]
        );
        assert_eq!(&first[4..8], &[0, 0, 0, 0], "gzip mtime must be zero");
    }

    #[test]
    fn overrides_version_and_app_version() {
        let dir = chart_dir();
        let opts = PackageOptions {
            version: Some("2.0.0+build.1".into()),
            app_version: Some("9.9".into()),
            destination: dir.path().join("out"),
        };
        let path = package_chart(dir.path(), &opts).unwrap();
        assert!(path.ends_with("out/demo-2.0.0+build.1.tgz"));
        let chart = crate::chart::load(&path).unwrap();
        assert_eq!(chart.metadata.version, "2.0.0+build.1");
        assert_eq!(chart.metadata.app_version, "9.9");
        let bad = PackageOptions {
            version: Some("latest".into()),
            ..opts
        };
        assert!(package_chart(dir.path(), &bad).is_err());
    }
}
