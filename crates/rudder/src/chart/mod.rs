//! Charts: the `Chart.yaml` model and the loader (directory or `.tgz`).
//!
//! The in-memory model mirrors Helm's `chart.Chart` (metadata, lock, templates, values, schema,
//! files, dependencies) because the release storage format serialises it field for field.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One file of a chart, named by its path relative to the chart root (`templates/x.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    /// Path relative to the chart root, `/`-separated.
    pub name: String,
    /// Raw bytes as read from disk or the archive.
    pub data: Vec<u8>,
}

/// Which template language a chart's templates are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// rudder-native chart (`engine: tera` in Chart.yaml).
    Tera,
    /// Any other chart: Go `text/template` + Sprig, rendered as Helm renders it.
    GoTemplate,
}

/// A maintainer entry of Chart.yaml.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Maintainer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A dependency entry of Chart.yaml (or `requirements.yaml` for apiVersion v1 charts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Helm's `import-values`: strings or `{child, parent}` maps.
    #[serde(
        default,
        rename = "import-values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
}

/// Chart.yaml, with Helm's JSON field names (the release storage format uses them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMetadata {
    /// Required; `default` only so that a missing name is reported by the loader with its file.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Required SemVer (Helm's lenient form: `v` prefix and missing minor/patch allowed).
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// `v2` (or `v1` for Helm 2 charts; empty is read as `v1`, as Helm does).
    #[serde(default)]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
    /// rudder's addition: `tera` marks a rudder-native chart. Helm ignores the field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub engine: String,
}

impl ChartMetadata {
    /// The template engine this chart's templates are written for.
    pub fn engine(&self) -> Engine {
        if self.engine.eq_ignore_ascii_case("tera") {
            Engine::Tera
        } else {
            Engine::GoTemplate
        }
    }

    /// Whether this is a library chart (helpers only, renders no manifests).
    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }
}

/// A loaded chart with its subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Chart.yaml.
    pub metadata: ChartMetadata,
    /// Chart.lock (or requirements.lock), as parsed YAML, if present.
    pub lock: Option<Value>,
    /// Files under `templates/`, sorted by name.
    pub templates: Vec<ChartFile>,
    /// `values.yaml` parsed (an object; empty object when absent).
    pub values: Value,
    /// `values.yaml` as written, if present (for `rudder show values`).
    pub raw_values: Option<String>,
    /// `values.schema.json` parsed, if present.
    pub schema: Option<Value>,
    /// Every other file (README.md, values/<env>.yaml, crds/*, files read by templates), sorted by name.
    pub files: Vec<ChartFile>,
    /// Subcharts found in `charts/` (folders or `.tgz`), in name order.
    pub dependencies: Vec<Chart>,
    /// Where the chart was loaded from (directory or archive), for error messages.
    pub source: PathBuf,
}

impl Chart {
    /// The chart's name from Chart.yaml.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Files under `crds/`, in name order.
    pub fn crd_files(&self) -> impl Iterator<Item = &ChartFile> {
        self.files.iter().filter(|f| f.name.starts_with("crds/"))
    }
}

/// A chart file's text, invalid UTF-8 replaced as `String::from_utf8_lossy` (and Go's string
/// conversion) shows it. Checked with `from_utf8` first: its ASCII fast path is several times
/// quicker than the lossy scan, and chart files are nearly always valid UTF-8.
pub fn text_of(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(data),
    }
}

/// A values file's text, refusing invalid UTF-8 as Helm's YAML reader does (`invalid trailing
/// UTF-8 octet`) instead of replacing it: a value silently changed is worse than an error.
/// The error names `shown:LINE:COLUMN` of the first bad byte.
pub fn values_text<'a>(data: &'a [u8], shown: &str) -> Result<&'a str, ChartError> {
    std::str::from_utf8(data).map_err(|err| {
        let good = &data[..err.valid_up_to()];
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + good.iter().filter(|b| **b == b'\n').count();
        let column = 1 + String::from_utf8_lossy(&good[line_start..]).chars().count();
        ChartError::Invalid {
            file: shown.to_string(),
            line,
            column,
            message: format!(
                "invalid UTF-8 (byte 0x{:02X}); values files must be UTF-8 text, as Helm requires",
                data[err.valid_up_to()]
            ),
        }
    })
}

pub mod archive;
/// Masterminds semver constraints (`kubeVersion`, dependency ranges): Sprig's parser.
pub use sprig::constraint;
pub mod ignore;
mod load;
pub mod path_component;
pub mod starter;
pub use constraint::{check_kube_version, Constraint, ConstraintError};
pub use load::{
    load, load_archive_bytes, merge_maps as merge_values_maps, read_values as read_values_file,
    ChartError,
};
pub use path_component::{check_path_component, UnsafeComponent};

#[cfg(test)]
mod text_tests {
    use super::text_of;

    #[test]
    fn values_text_refuses_invalid_utf8_at_its_line_and_column() {
        assert_eq!(
            super::values_text(b"a: \xc3\xa9\n", "v.yaml").unwrap(),
            "a: \u{e9}\n"
        );
        let err = super::values_text(b"a: 1\nb: \xc3\xa9\xff\n", "v.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.yaml:2:5: invalid UTF-8 (byte 0xFF); values files must be UTF-8 text, as Helm requires"
        );
    }

    #[test]
    fn file_text_is_the_lossy_conversion() {
        for data in [&b"a: 1\n"[..], "é: ü\n".as_bytes(), b"bad: \xff\xfe x", b""] {
            assert_eq!(text_of(data), String::from_utf8_lossy(data));
        }
    }
}
