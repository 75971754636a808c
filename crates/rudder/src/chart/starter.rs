//! The starter chart `rudder create` writes: a rudder-native (`engine: tera`) web application
//! with `values/{dev,staging,prod}.yaml`. Its templates are those of the example `charts/web`, so
//! the starter is always a chart that templates and lints clean.

use std::path::{Path, PathBuf};

/// A starter chart that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    #[error("chart name {name:?} is invalid: use lowercase letters, digits and '-', starting and ending with a letter or digit (at most 53 characters)")]
    InvalidName { name: String },
    #[error("{path} already exists and is not empty; choose another name or remove it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "templates/_helpers.tera",
        include_str!("../../../../charts/web/templates/_helpers.tera"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("../../../../charts/web/templates/NOTES.txt"),
    ),
    (
        "templates/configmap.yaml",
        include_str!("../../../../charts/web/templates/configmap.yaml"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("../../../../charts/web/templates/deployment.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("../../../../charts/web/templates/hpa.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("../../../../charts/web/templates/ingress.yaml"),
    ),
    (
        "templates/secret.yaml",
        include_str!("../../../../charts/web/templates/secret.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("../../../../charts/web/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("../../../../charts/web/templates/serviceaccount.yaml"),
    ),
    (
        "values.yaml",
        include_str!("../../../../charts/web/values.yaml"),
    ),
    (
        "values/dev.yaml",
        include_str!("../../../../charts/web/values/dev.yaml"),
    ),
    (
        "values/staging.yaml",
        include_str!("../../../../charts/web/values/staging.yaml"),
    ),
    (
        "values/prod.yaml",
        include_str!("../../../../charts/web/values/prod.yaml"),
    ),
    (
        ".helmignore",
        include_str!("../../../../charts/web/.helmignore"),
    ),
];

/// Whether `name` is usable as a chart name (a DNS label short enough for release names).
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 53
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// The starter chart's files for `name`: (path relative to the chart root, contents).
pub fn starter_files(name: &str) -> Vec<(String, String)> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\ndescription: A Helm-style chart for {name}, rendered by rudder's Tera engine.\ntype: application\n# The chart's version: bump it on every change to the chart.\nversion: 0.1.0\n# The version of the application deployed (the default image tag).\nappVersion: \"1.27.0\"\n# rudder-native chart: templates are Tera (see docs/templates.md).\nengine: tera\n"
    );
    let mut files = vec![("Chart.yaml".to_string(), chart_yaml)];
    for (path, text) in TEMPLATES {
        let text = if path.starts_with("values") {
            text.replace("host: web.", &format!("host: {name}."))
        } else {
            text.to_string()
        };
        files.push((path.to_string(), text));
    }
    files
}

/// Writes the starter chart into `dir` (created; must not exist or be empty). The chart is named
/// after the directory's last component. Returns the files written.
pub fn create(dir: &Path) -> Result<Vec<PathBuf>, StarterError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if !is_valid_name(&name) {
        return Err(StarterError::InvalidName { name });
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(StarterError::Exists {
            path: dir.to_path_buf(),
        });
    }
    let mut written = Vec::new();
    for (rel, text) in starter_files(&name) {
        let path = dir.join(&rel);
        let io = |source| StarterError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert!(is_valid_name("my-app2"));
        for bad in ["", "-a", "a-", "My", "a_b", "a.b", &"x".repeat(54)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn starter_is_a_tera_chart_with_three_environments() {
        let files = starter_files("shop");
        let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "Chart.yaml",
            "values/dev.yaml",
            "values/staging.yaml",
            "values/prod.yaml",
        ] {
            assert!(names.contains(&expected), "{expected}");
        }
        assert!(files[0].1.contains("engine: tera"));
        let prod = &files
            .iter()
            .find(|(n, _)| n == "values/prod.yaml")
            .unwrap()
            .1;
        assert!(prod.contains("host: shop.example.com"), "{prod}");
    }
}
