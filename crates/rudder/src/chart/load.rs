//! Loading a chart from a directory or a `.tgz` archive.
//!
//! Both sources become a flat list of `(relative path, bytes)` first, then one function builds
//! the [`Chart`] from it, as Helm's loader does. A directory honours `.helmignore` (Helm's rules,
//! see [`super::ignore`]); an archive does not, because `helm package` already applied it.
//! Subcharts in `charts/` (folders or `.tgz`) are built recursively from the same list.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::archive::{self, ArchiveError};
use super::constraint;
use super::ignore::IgnoreRules;
use super::text_of;
use super::{Chart, ChartFile, ChartMetadata, Dependency};
use crate::yaml::{self, YamlError};

/// Symlinked directories are followed as Helm follows them; this bounds a symlink loop.
const MAX_DEPTH: usize = 64;

/// A chart that could not be loaded. Every variant names the file (or archive entry) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart {path} not found: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: io::Error },
    #[error("{path}: {error}")]
    Archive { path: String, error: ArchiveError },
    #[error("{path}: {message}")]
    ArchiveLayout { path: String, message: String },
    #[error("{dir}: Chart.yaml is missing (is this a chart directory?)")]
    MissingChartYaml { dir: String },
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", location(file, *line, *column))]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: {message}")]
    Ignore {
        file: String,
        line: usize,
        message: String,
    },
    #[error("cannot load irregular file {path} (a device, socket or FIFO)")]
    IrregularFile { path: PathBuf },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

fn location(file: &str, line: usize, column: usize) -> String {
    match (line, column) {
        (0, _) => file.to_string(),
        (l, 0) => format!("{file}:{l}"),
        (l, c) => format!("{file}:{l}:{c}"),
    }
}

impl ChartError {
    fn yaml(file: &str, err: YamlError) -> Self {
        ChartError::Yaml {
            file: file.to_string(),
            line: err.line,
            column: err.column,
            message: err.message,
        }
    }
}

/// A file of a chart before it is sorted into the model, with the name to show in errors.
struct RawFile {
    name: String,
    data: Vec<u8>,
}

/// Loads a chart (and its subcharts) from a directory or a `.tgz` file.
pub fn load(path: &Path) -> Result<Chart, ChartError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(ChartError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(error) => {
            return Err(ChartError::Read {
                path: path.to_path_buf(),
                error,
            })
        }
    };
    let mut chart = if meta.is_dir() {
        let files = read_dir_files(path)?;
        let base = display_prefix(path);
        let mut parsed = Preparsed::new(&files, &base);
        let mut allowance = Allowance::from_env(&base)?;
        build_chart(files, &base, "", &mut parsed, &mut allowance)?
    } else {
        // A chart archive is capped by what it may inflate to (the chart budget); compressed it
        // can only be smaller.
        let shown = path.display().to_string();
        let limits = archive::Limits::from_env().map_err(|error| ChartError::Archive {
            path: shown.clone(),
            error,
        })?;
        let bytes =
            crate::input::read_file_within(path, limits.max_total_bytes).map_err(|error| {
                match error {
                    crate::input::InputError::TooLarge { limit, .. } => ChartError::ArchiveLayout {
                        path: shown.clone(),
                        message: format!(
                            "the archive is larger than the {} chart limit; raise it with {}=SIZE",
                            crate::input::show_size(limit),
                            archive::MAX_CHART_SIZE_ENV
                        ),
                    },
                    other => other.into(),
                }
            })?;
        load_archive_bytes(&bytes, &path.display().to_string())?
    };
    chart.source = path.to_path_buf();
    Ok(chart)
}

fn display_prefix(dir: &Path) -> String {
    let shown = dir.display().to_string();
    if shown.ends_with('/') {
        shown
    } else {
        format!("{shown}/")
    }
}

/// What the archives of one chart may still inflate to: one budget for the chart's archive and
/// every subchart archive in it (or, for a chart folder, every archive in its `charts/`).
struct Allowance {
    limits: archive::Limits,
    budget: archive::Budget,
}

impl Allowance {
    fn from_env(shown_as: &str) -> Result<Self, ChartError> {
        let limits = archive::Limits::from_env().map_err(|error| ChartError::Archive {
            path: shown_as.to_string(),
            error,
        })?;
        Ok(Allowance {
            limits,
            budget: archive::Budget::new(limits.max_total_bytes),
        })
    }
}

/// Loads a chart from `.tgz` bytes held in memory; `shown_as` names the archive in errors.
pub fn load_archive_bytes(bytes: &[u8], shown_as: &str) -> Result<Chart, ChartError> {
    let mut allowance = Allowance::from_env(shown_as)?;
    load_nested_archive(bytes, shown_as, &mut allowance)
}

fn load_nested_archive(
    bytes: &[u8],
    shown_as: &str,
    allowance: &mut Allowance,
) -> Result<Chart, ChartError> {
    let archive = archive::read_tgz_with_budget(bytes, allowance.limits, &mut allowance.budget)
        .map_err(|error| ChartError::Archive {
            path: shown_as.to_string(),
            error,
        })?;
    let mut top: Option<String> = None;
    let mut files = Vec::with_capacity(archive.entries.len());
    for entry in archive.entries {
        let Some((first, rest)) = entry.path.split_once('/') else {
            return Err(ChartError::ArchiveLayout {
                path: shown_as.to_string(),
                message: format!(
                    "{} is outside the chart's top-level folder (a chart archive holds one folder named after the chart)",
                    entry.path
                ),
            });
        };
        match &top {
            None => top = Some(first.to_string()),
            Some(t) if t == first => {}
            Some(t) => {
                return Err(ChartError::ArchiveLayout {
                    path: shown_as.to_string(),
                    message: format!(
                        "more than one top-level folder ({t}/ and {first}/); a chart archive holds one folder named after the chart"
                    ),
                })
            }
        }
        files.push(RawFile {
            name: rest.to_string(),
            data: strip_bom(entry.data),
        });
    }
    let top = top.unwrap_or_default();
    let base = format!("{shown_as}:{top}/");
    let mut parsed = Preparsed::new(&files, &base);
    let mut chart = build_chart(files, &base, "", &mut parsed, allowance)?;
    chart.source = PathBuf::from(shown_as);
    Ok(chart)
}

fn strip_bom(mut data: Vec<u8>) -> Vec<u8> {
    if data.starts_with(&[0xEF, 0xBB, 0xBF]) {
        data.drain(..3);
    }
    data
}

/// Reads every file of a chart directory that `.helmignore` keeps, in path order.
fn read_dir_files(dir: &Path) -> Result<Vec<RawFile>, ChartError> {
    let ignore_path = dir.join(".helmignore");
    let rules = match crate::input::read_file(&ignore_path) {
        Ok(bytes) => IgnoreRules::parse(&text_of(&bytes)).map_err(|e| ChartError::Ignore {
            file: ignore_path.display().to_string(),
            line: e.line,
            message: e.message,
        })?,
        Err(too_large @ crate::input::InputError::TooLarge { .. }) => return Err(too_large.into()),
        Err(crate::input::InputError::Read { .. }) => IgnoreRules::defaults(),
    };
    let mut files = Vec::new();
    walk(dir, "", &rules, &mut files, 0)?;
    Ok(files)
}

fn walk(
    dir: &Path,
    relative: &str,
    rules: &IgnoreRules,
    out: &mut Vec<RawFile>,
    depth: usize,
) -> Result<(), ChartError> {
    let read_err = |path: &Path, error| ChartError::Read {
        path: path.to_path_buf(),
        error,
    };
    if depth > MAX_DEPTH {
        return Err(read_err(
            dir,
            io::Error::other("directories nested too deeply (a symbolic link loop?)"),
        ));
    }
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| read_err(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_err(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        // Follow symbolic links, as Helm's loader does.
        let meta = fs::metadata(&path).map_err(|e| read_err(&path, e))?;
        if meta.is_dir() {
            if !rules.is_ignored(&rel, true) {
                walk(&path, &rel, rules, out, depth + 1)?;
            }
            continue;
        }
        if rules.is_ignored(&rel, false) {
            continue;
        }
        if !meta.is_file() {
            return Err(ChartError::IrregularFile { path });
        }
        let data = crate::input::read_file(&path)?;
        out.push(RawFile {
            name: rel,
            data: strip_bom(data),
        });
    }
    Ok(())
}

/// The subset of `requirements.yaml` (apiVersion v1 charts) that Helm reads.
#[derive(serde::Deserialize)]
struct Requirements {
    #[serde(default)]
    dependencies: Option<Vec<Dependency>>,
}

/// Below this much YAML and JSON in a chart tree a second parse thread costs more than it saves.
const PARALLEL_PARSE_BYTES: usize = 64 * 1024;

/// What a chart tree's `Chart.yaml`, `values.yaml` and `values.schema.json` files parse to,
/// keyed by their path from the top chart (`charts/sub/values.yaml`). A chart with subcharts
/// (kube-prometheus and its four) spends most of its load parsing these, and they are
/// independent, so with enough text they are parsed on two threads before the chart is built.
/// [`build_chart`] then takes each result where it would have parsed the file itself, so
/// errors surface in the same order as a plain serial load.
#[derive(Default)]
struct Preparsed {
    done: std::collections::HashMap<String, Parsed>,
}

enum Parsed {
    Metadata(Box<Result<ChartMetadata, ChartError>>),
    Values(Result<Value, ChartError>),
    Schema(Result<Value, ChartError>),
}

impl Preparsed {
    fn new(files: &[RawFile], base: &str) -> Preparsed {
        let mut jobs: Vec<&RawFile> = files.iter().filter(|f| preparse_target(&f.name)).collect();
        let total: usize = jobs.iter().map(|f| f.data.len()).sum();
        if total < PARALLEL_PARSE_BYTES || jobs.len() < 2 {
            return Preparsed::default();
        }
        // Largest first into the lighter of two runs keeps the threads about even.
        jobs.sort_by_key(|f| std::cmp::Reverse(parse_cost(f)));
        let (mut here, mut there) = (Vec::new(), Vec::new());
        let (mut here_cost, mut there_cost) = (0, 0);
        for job in jobs {
            if here_cost <= there_cost {
                here_cost += parse_cost(job);
                here.push(job);
            } else {
                there_cost += parse_cost(job);
                there.push(job);
            }
        }
        let parse_run = |run: &[&RawFile]| -> Vec<(String, Parsed)> {
            run.iter()
                .map(|f| (f.name.clone(), parse_one(f, &format!("{base}{}", f.name))))
                .collect()
        };
        let mut done = std::collections::HashMap::new();
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("chart-parse".into())
                .spawn_scoped(scope, || parse_run(&there));
            done.extend(parse_run(&here));
            // Without the second thread's results build_chart parses those files itself.
            if let Ok(Ok(rest)) = handle.map(|h| h.join()) {
                done.extend(rest);
            }
        });
        Preparsed { done }
    }

    fn take(&mut self, path: &str) -> Option<Parsed> {
        self.done.remove(path)
    }
}

/// About how long a file takes to parse: YAML costs some five times as much per byte as JSON.
fn parse_cost(file: &RawFile) -> usize {
    if file.name.ends_with(".json") {
        file.data.len()
    } else {
        file.data.len() * 5
    }
}

/// `Chart.yaml`, `values.yaml` or `values.schema.json` of the top chart or of a subchart folder
/// that build_chart will load (`charts/_x` and `charts/.x` are skipped, archives load apart).
fn preparse_target(path: &str) -> bool {
    let mut rest = path;
    loop {
        if matches!(rest, "Chart.yaml" | "values.yaml" | "values.schema.json") {
            return true;
        }
        let Some(inner) = rest.strip_prefix("charts/") else {
            return false;
        };
        match inner.split_once('/') {
            Some((sub, after)) if !sub.starts_with(['_', '.']) && !sub.ends_with(".tgz") => {
                rest = after
            }
            _ => return false,
        }
    }
}

fn parse_one(file: &RawFile, shown: &str) -> Parsed {
    let base_name = file.name.rsplit('/').next().unwrap_or(&file.name);
    match base_name {
        "Chart.yaml" => Parsed::Metadata(Box::new(parse_chart_yaml(&text_of(&file.data), shown))),
        "values.yaml" => Parsed::Values(
            super::values_text(&file.data, shown).and_then(|text| read_values(text, shown)),
        ),
        _ => Parsed::Schema(parse_schema(&file.data, shown)),
    }
}

fn parse_chart_yaml(text: &str, shown: &str) -> Result<ChartMetadata, ChartError> {
    if text.trim().is_empty() {
        return Ok(ChartMetadata::default());
    }
    // Reading the YAML as a value and then the fields costs a quarter of deserialising straight
    // from the text. Where the two could differ (a number in a string field, duplicate keys,
    // several documents, any error) the value route gives up and the direct one decides.
    if let Ok(mut docs) = yaml::from_str_multi(text) {
        if docs.len() == 1 {
            if let Ok(metadata) = serde_json::from_value(docs.remove(0)) {
                return Ok(metadata);
            }
        }
    }
    yaml::from_str_as(text).map_err(|e| ChartError::yaml(shown, e))
}

fn parse_schema(data: &[u8], shown: &str) -> Result<Value, ChartError> {
    serde_json::from_slice(data).map_err(|e| ChartError::Invalid {
        file: shown.to_string(),
        line: e.line(),
        column: e.column(),
        message: format!("invalid JSON: {e}"),
    })
}

/// Builds a chart from its files; `base` prefixes file names in errors (`charts/web/`), `rel`
/// is this chart's folder from the top chart, the key of its files in `parsed`.
fn build_chart(
    files: Vec<RawFile>,
    base: &str,
    rel: &str,
    parsed: &mut Preparsed,
    allowance: &mut Allowance,
) -> Result<Chart, ChartError> {
    let shown = |name: &str| format!("{base}{name}");
    let Some(chart_yaml) = files.iter().find(|f| f.name == "Chart.yaml") else {
        return Err(ChartError::MissingChartYaml {
            dir: base.trim_end_matches('/').to_string(),
        });
    };
    let chart_yaml_text = text_of(&chart_yaml.data).into_owned();
    let mut metadata = match parsed.take(&format!("{rel}Chart.yaml")) {
        Some(Parsed::Metadata(done)) => (*done)?,
        _ => parse_chart_yaml(&chart_yaml_text, &shown("Chart.yaml"))?,
    };
    if metadata.api_version.is_empty() {
        metadata.api_version = "v1".to_string();
    }

    let mut chart = Chart::default();
    let mut subcharts: BTreeMap<String, Vec<RawFile>> = BTreeMap::new();
    let mut requirements: Option<Vec<Dependency>> = None;
    for file in files {
        match file.name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" | "requirements.lock" => {
                let text = text_of(&file.data);
                let lock =
                    yaml::from_str(&text).map_err(|e| ChartError::yaml(&shown(&file.name), e))?;
                chart.lock = Some(lock);
                if file.name == "requirements.lock" && metadata.api_version == "v1" {
                    chart.files.push(to_chart_file(file));
                }
            }
            "values.yaml" => {
                let text = super::values_text(&file.data, &shown("values.yaml"))?.to_string();
                chart.values = match parsed.take(&format!("{rel}values.yaml")) {
                    Some(Parsed::Values(done)) => done?,
                    _ => read_values(&text, &shown("values.yaml"))?,
                };
                chart.raw_values = Some(text);
            }
            "values.schema.json" => {
                let schema = match parsed.take(&format!("{rel}values.schema.json")) {
                    Some(Parsed::Schema(done)) => done?,
                    _ => parse_schema(&file.data, &shown("values.schema.json"))?,
                };
                chart.schema = Some(schema);
            }
            "requirements.yaml" => {
                let text = text_of(&file.data);
                let reqs: Requirements = if text.trim().is_empty() {
                    Requirements { dependencies: None }
                } else {
                    yaml::from_str_as(&text)
                        .map_err(|e| ChartError::yaml(&shown("requirements.yaml"), e))?
                };
                requirements = reqs.dependencies;
                if metadata.api_version == "v1" {
                    chart.files.push(to_chart_file(file));
                }
            }
            name if name.starts_with("templates/") => chart.templates.push(to_chart_file(file)),
            name if name.starts_with("charts/") => {
                if name.ends_with(".prov") {
                    chart.files.push(to_chart_file(file));
                    continue;
                }
                let rest = &name["charts/".len()..];
                let (sub, inner) = match rest.split_once('/') {
                    Some((sub, inner)) => (sub.to_string(), inner.to_string()),
                    None => (rest.to_string(), String::new()),
                };
                subcharts.entry(sub).or_default().push(RawFile {
                    name: inner,
                    data: file.data,
                });
            }
            _ => chart.files.push(to_chart_file(file)),
        }
    }
    // Helm reads requirements.yaml into the metadata, so its dependencies win.
    if let Some(deps) = requirements {
        metadata.dependencies = deps;
    }
    if chart.values.is_null() {
        chart.values = Value::Object(Map::new());
    }
    validate_metadata(&metadata, &chart_yaml_text, &shown("Chart.yaml"))?;
    chart.metadata = metadata;

    for (name, files) in subcharts {
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let sub = if name.ends_with(".tgz") {
            match files.as_slice() {
                [only] if only.name.is_empty() => {
                    load_nested_archive(&only.data, &shown(&format!("charts/{name}")), allowance)?
                }
                _ => {
                    return Err(ChartError::ArchiveLayout {
                        path: shown(&format!("charts/{name}")),
                        message: "expected a chart archive file, found a directory".to_string(),
                    })
                }
            }
        } else {
            let files: Vec<RawFile> = files.into_iter().filter(|f| !f.name.is_empty()).collect();
            let mut sub = build_chart(
                files,
                &shown(&format!("charts/{name}/")),
                &format!("{rel}charts/{name}/"),
                parsed,
                allowance,
            )?;
            sub.source = PathBuf::from(shown(&format!("charts/{name}")));
            sub
        };
        chart.dependencies.push(sub);
    }
    chart.templates.sort_by(|a, b| a.name.cmp(&b.name));
    chart.files.sort_by(|a, b| a.name.cmp(&b.name));
    chart.dependencies.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(chart)
}

fn to_chart_file(file: RawFile) -> ChartFile {
    ChartFile {
        name: file.name,
        data: file.data,
    }
}

/// Reads a values file as Helm does: every YAML document must be a map (or empty), later
/// documents merge over earlier ones. `shown` names the file in errors.
pub fn read_values(text: &str, shown: &str) -> Result<Value, ChartError> {
    let docs = yaml::from_str_multi(text).map_err(|e| ChartError::yaml(shown, e))?;
    let mut merged = Map::new();
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Object(map) => merge_maps(&mut merged, map),
            other => {
                return Err(ChartError::Invalid {
                    file: shown.to_string(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "values must be a map of keys to values, found {}",
                        type_name(&other)
                    ),
                })
            }
        }
    }
    Ok(Value::Object(merged))
}

/// Helm's `loader.MergeMaps`: maps merge recursively, anything else in `over` replaces.
pub fn merge_maps(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_maps(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// 1-based line and column of a top-level `key:` in a YAML text, or (0, 0).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(key) {
            if rest.trim_start().starts_with(':') {
                return (i + 1, 1);
            }
        }
    }
    (0, 0)
}

fn validate_metadata(md: &ChartMetadata, text: &str, file: &str) -> Result<(), ChartError> {
    let invalid = |key: &str, message: String| {
        let (line, column) = key_position(text, key);
        ChartError::Invalid {
            file: file.to_string(),
            line,
            column,
            message,
        }
    };
    if md.api_version != "v1" && md.api_version != "v2" {
        return Err(invalid(
            "apiVersion",
            format!("apiVersion {:?} is not supported (use v2)", md.api_version),
        ));
    }
    if md.name.is_empty() {
        return Err(invalid("name", "`name` is required".to_string()));
    }
    // The name becomes a folder (`charts/NAME`, `--output-dir`) and a file (`NAME-VERSION.tgz`).
    if let Err(e) = super::check_path_component(&md.name) {
        return Err(invalid("name", format!("chart name {e}")));
    }
    if md.version.is_empty() {
        return Err(invalid(
            "version",
            "`version` is required (a SemVer 2 version such as 0.1.0)".to_string(),
        ));
    }
    if constraint::parse_version(&md.version).is_err() {
        return Err(invalid(
            "version",
            format!(
                "version {:?} is not a valid SemVer 2 version (e.g. 1.2.3)",
                md.version
            ),
        ));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return Err(invalid(
            "type",
            format!(
                "type {:?} is not allowed: use application or library",
                md.chart_type
            ),
        ));
    }
    if !md.kube_version.is_empty() && constraint::Constraint::parse(&md.kube_version).is_err() {
        return Err(invalid(
            "kubeVersion",
            format!(
                "kubeVersion {:?} is not a valid version constraint (e.g. \">=1.25.0-0\")",
                md.kube_version
            ),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for dep in &md.dependencies {
        if dep.name.is_empty() {
            return Err(invalid(
                "dependencies",
                "a dependency has no `name`".to_string(),
            ));
        }
        if !dep.alias.is_empty()
            && !dep
                .alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "dependencies",
                format!(
                    "dependency alias {:?} may only contain letters, digits, '-' and '_'",
                    dep.alias
                ),
            ));
        }
        let key = if dep.alias.is_empty() {
            &dep.name
        } else {
            &dep.alias
        };
        if !seen.insert(key.clone()) {
            return Err(invalid(
                "dependencies",
                format!("more than one dependency with name or alias {key:?}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::archive::tests::tgz;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\nengine: tera\n";

    #[test]
    fn loads_a_directory_chart_with_everything_sorted() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("Chart.yaml", CHART),
                ("values.yaml", "replicas: 1\nimage:\n  tag: v1\n"),
                ("values.schema.json", "{\"type\": \"object\"}"),
                ("templates/b.yaml", "b"),
                ("templates/a.yaml", "a"),
                ("templates/_helpers.tera", "h"),
                ("crds/crd.yaml", "kind: CustomResourceDefinition"),
                ("values/prod.yaml", "replicas: 3\n"),
                ("README.md", "# web"),
                ("Chart.lock", "dependencies: []\n"),
                (
                    "charts/db/Chart.yaml",
                    "apiVersion: v2\nname: db\nversion: 1.0.0\n",
                ),
                ("charts/db/values.yaml", "port: 5432\n"),
                ("charts/_skip/Chart.yaml", "broken: ["),
            ],
        );
        let chart = load(dir.path()).unwrap();
        assert_eq!(chart.name(), "web");
        assert_eq!(chart.metadata.engine(), crate::chart::Engine::Tera);
        let names: Vec<_> = chart.templates.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "templates/_helpers.tera",
                "templates/a.yaml",
                "templates/b.yaml"
            ]
        );
        assert_eq!(chart.values["image"]["tag"], "v1");
        assert!(chart.schema.is_some());
        assert!(chart.lock.is_some());
        let files: Vec<_> = chart.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(files, ["README.md", "crds/crd.yaml", "values/prod.yaml"]);
        assert_eq!(chart.crd_files().count(), 1);
        assert_eq!(chart.dependencies.len(), 1);
        assert_eq!(chart.dependencies[0].values["port"], 5432);
    }

    #[test]
    fn applies_helmignore_like_helm() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("Chart.yaml", CHART),
                (".helmignore", "*.swp\nsecret/\n"),
                ("templates/a.yaml", "a"),
                ("templates/.a.yaml.swp", "x"),
                ("templates/.hidden", "x"),
                ("secret/key", "x"),
                ("notes.swp", "x"),
            ],
        );
        let chart = load(dir.path()).unwrap();
        assert_eq!(chart.templates.len(), 1);
        let files: Vec<_> = chart.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(files, [".helmignore"]);
    }

    #[test]
    fn missing_chart_and_missing_chart_yaml_are_clear() {
        let err = load(Path::new("/nonexistent/chart")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/chart"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("Chart.yaml is missing"), "{err}");
    }

    #[test]
    fn chart_yaml_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[("Chart.yaml", "apiVersion: v2\nname: web\nversion: [\n")],
        );
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("Chart.yaml:"), "{err}");
        assert!(err.contains(":3:") || err.contains(":4:"), "{err}");

        write(dir.path(), &[("Chart.yaml", "apiVersion: v2\nname: web\n")]);
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("`version` is required"), "{err}");

        write(
            dir.path(),
            &[("Chart.yaml", "apiVersion: v2\nname: web\nversion: one\n")],
        );
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("Chart.yaml:3:1"), "{err}");
        assert!(err.contains("\"one\" is not a valid SemVer"), "{err}");

        write(
            dir.path(),
            &[("Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n")],
        );
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("`name` is required"), "{err}");

        write(
            dir.path(),
            &[(
                "Chart.yaml",
                "apiVersion: v2\nname: a\nversion: 1.0.0\ntype: app\n",
            )],
        );
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("Chart.yaml:4:1") && err.contains("application or library"),
            "{err}"
        );
    }

    #[test]
    fn values_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[("Chart.yaml", CHART), ("values.yaml", "a: 1\nb: [1,\n")],
        );
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("values.yaml:"), "{err}");
        write(dir.path(), &[("values.yaml", "- 1\n")]);
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("values must be a map"), "{err}");
    }

    #[test]
    fn merges_multi_document_values_like_helm() {
        let v = read_values("a: 1\nm: {x: 1}\n---\nb: 2\nm: {y: 2}\n", "v.yaml").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": 2, "m": {"x": 1, "y": 2}})
        );
    }

    #[test]
    fn v1_charts_read_dependencies_from_requirements() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("Chart.yaml", "apiVersion: v1\nname: old\nversion: 1.0.0\n"),
                (
                    "requirements.yaml",
                    "dependencies:\n- name: db\n  version: ~1.0\n  condition: db.enabled\n",
                ),
                ("requirements.lock", "dependencies: []\n"),
            ],
        );
        let chart = load(dir.path()).unwrap();
        assert_eq!(chart.metadata.dependencies.len(), 1);
        assert_eq!(chart.metadata.dependencies[0].condition, "db.enabled");
        assert!(chart.lock.is_some());
        assert!(chart.files.iter().any(|f| f.name == "requirements.yaml"));
    }

    #[test]
    fn loads_archives_and_archived_subcharts() {
        let sub = tgz(&[
            (
                "db/Chart.yaml",
                tar::EntryType::Regular,
                b"apiVersion: v2\nname: db\nversion: 1.0.0\n",
            ),
            ("db/values.yaml", tar::EntryType::Regular, b"port: 1\n"),
        ]);
        let top = tgz(&[
            ("web/Chart.yaml", tar::EntryType::Regular, CHART.as_bytes()),
            ("web/templates/a.yaml", tar::EntryType::Regular, b"a"),
            ("web/charts/db-1.0.0.tgz", tar::EntryType::Regular, &sub),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web-0.1.0.tgz");
        fs::write(&path, &top).unwrap();
        let chart = load(&path).unwrap();
        assert_eq!(chart.name(), "web");
        assert_eq!(chart.templates[0].name, "templates/a.yaml");
        assert_eq!(chart.dependencies[0].name(), "db");
        assert_eq!(chart.dependencies[0].values["port"], 1);
    }

    #[test]
    fn archive_errors_name_the_archive_and_entry() {
        let evil = tgz(&[
            ("web/Chart.yaml", tar::EntryType::Regular, CHART.as_bytes()),
            ("web/../../x", tar::EntryType::Regular, b"x"),
        ]);
        let err = load_archive_bytes(&evil, "web.tgz")
            .unwrap_err()
            .to_string();
        assert!(err.contains("web.tgz") && err.contains(".."), "{err}");
        let two = tgz(&[
            ("web/Chart.yaml", tar::EntryType::Regular, CHART.as_bytes()),
            ("other/x", tar::EntryType::Regular, b"x"),
        ]);
        let err = load_archive_bytes(&two, "web.tgz").unwrap_err().to_string();
        assert!(err.contains("more than one top-level folder"), "{err}");
        let bad = tgz(&[("web/Chart.yaml", tar::EntryType::Regular, b"name: [")]);
        let err = load_archive_bytes(&bad, "web.tgz").unwrap_err().to_string();
        assert!(err.starts_with("web.tgz:web/Chart.yaml:"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_irregular_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &[("Chart.yaml", CHART)]);
        std::os::unix::fs::symlink("/dev/null", dir.path().join("null")).unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("irregular file"), "{err}");
    }

    /// A values file past the parallel threshold, with a list, nesting and comments.
    fn big_values(tag: &str) -> String {
        let mut text = String::from("# defaults\n");
        for i in 0..900 {
            text.push_str(&format!(
                "key{i}:\n  name: {tag}-{i} # note\n  list: [a, {i}]\n  nested: {{on: true}}\n"
            ));
        }
        text
    }

    fn serial_load(dir: &Path) -> Result<Chart, ChartError> {
        let files = read_dir_files(dir)?;
        build_chart(
            files,
            &display_prefix(dir),
            "",
            &mut Preparsed::default(),
            &mut Allowance::from_env("test").unwrap(),
        )
    }

    #[test]
    fn parsing_ahead_on_two_threads_builds_the_same_chart_as_a_serial_load() {
        let dir = tempfile::tempdir().unwrap();
        let sub = "apiVersion: v2\nname: sub\nversion: 1.0.0\nappVersion: \"2.0\"\n";
        write(
            dir.path(),
            &[
                ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  import-values: [data]\n"),
                ("values.yaml", &big_values("top")),
                ("values.schema.json", "{\"type\": \"object\"}"),
                ("charts/sub/Chart.yaml", sub),
                ("charts/sub/values.yaml", &big_values("sub")),
                ("charts/sub/charts/deeper/Chart.yaml", "apiVersion: v2\nname: deeper\nversion: 1.0.0\n"),
                ("charts/sub/charts/deeper/values.yaml", &big_values("deeper")),
                // Skipped by the loader, so never parsed ahead either.
                ("charts/_skipped/Chart.yaml", "name: [\n"),
                ("charts/_skipped/values.yaml", "broken: [\n"),
            ],
        );
        let files = read_dir_files(dir.path()).unwrap();
        assert!(files.iter().filter(|f| preparse_target(&f.name)).count() >= 6);
        let ahead = format!("{:?}", load(dir.path()).unwrap());
        let serial = format!("{:?}", serial_load(dir.path()).unwrap());
        assert_eq!(
            ahead.replace(&dir.path().display().to_string(), ""),
            serial.replace(&dir.path().display().to_string(), "")
        );
        assert!(ahead.contains("deeper-899"));
    }

    #[test]
    fn parsing_ahead_reports_the_error_a_serial_load_reports_first() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("Chart.yaml", "apiVersion: v2\nname: top\nversion: 0.1.0\n"),
                ("values.yaml", &format!("{}bad: [\n", big_values("top"))),
                (
                    "charts/sub/Chart.yaml",
                    "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
                ),
                (
                    "charts/sub/values.yaml",
                    &format!("{}worse: {{\n", big_values("sub")),
                ),
            ],
        );
        let ahead = load(dir.path()).unwrap_err().to_string();
        let serial = serial_load(dir.path()).unwrap_err().to_string();
        assert_eq!(ahead, serial);
        assert!(ahead.contains("/values.yaml:"), "{ahead}");
        assert!(!ahead.contains("charts/sub"), "{ahead}");
    }

    #[test]
    fn only_files_the_loader_reads_are_parsed_ahead() {
        for yes in [
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
            "charts/a/values.yaml",
            "charts/a/charts/b/Chart.yaml",
        ] {
            assert!(preparse_target(yes), "{yes}");
        }
        for no in [
            "templates/values.yaml",
            "charts/_a/values.yaml",
            "charts/.a/Chart.yaml",
            "charts/a.tgz",
            "charts/a/files/values.yaml",
            "charts/values.yaml",
            "x/values.yaml",
        ] {
            assert!(!preparse_target(no), "{no}");
        }
    }

    /// The quick route for Chart.yaml must never disagree with deserialising straight from text.
    #[test]
    fn chart_yaml_read_as_a_value_agrees_with_the_direct_read() {
        let mut texts: Vec<(String, String)> = [
            "apiVersion: v2\nname: a\nversion: 1.0.0\nappVersion: 1.0\n",
            "apiVersion: v2\nname: a\nversion: 1.10\n",
            "apiVersion: v2\nname: a\nversion: 1.0.0\nannotations:\n  n: 1\n  b: true\n",
            "apiVersion: v2\nname: yes\nversion: 0.1.0\ndeprecated: true\nkeywords: [x, 'y', \"1\"]\n",
            "apiVersion: v2\nname: a\nname: b\nversion: 0.1.0\n",
            "apiVersion: v2\nname: a\nversion: 0.1.0\n---\nname: b\n",
            "apiVersion: v2\nname: &n a\nversion: 0.1.0\ndescription: *n\n",
            "apiVersion: v2\nname: a\nversion: 0.1.0\nappVersion: ~\nhome: null\n",
            "apiVersion: v2\nname: a\nversion: 0.1.0\ndependencies:\n- name: c\n  version: '>=1'\n  enabled: true\n  tags: [t]\n  import-values: [x, {child: a.b, parent: c}]\n",
        ]
        .iter()
        .map(|t| (t.to_string(), "inline".to_string()))
        .collect();
        // The repository's root, two levels above this crate.
        let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")];
        if let Ok(corpus) = std::env::var("RUDDER_CORPUS") {
            roots.push(PathBuf::from(corpus));
        }
        fn gather(dir: &Path, out: &mut Vec<(String, String)>) {
            let Ok(entries) = fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                if path.is_dir() && name != "target" && name != ".git" {
                    gather(&path, out);
                } else if name == "Chart.yaml" {
                    if let Ok(text) = fs::read_to_string(&path) {
                        out.push((text, path.display().to_string()));
                    }
                }
            }
        }
        for root in roots {
            gather(&root, &mut texts);
        }
        assert!(
            texts.len() > 12,
            "found only {} Chart.yaml files",
            texts.len()
        );
        for (text, from) in texts {
            let quick =
                parse_chart_yaml(&text, "Chart.yaml").map(|m| serde_json::to_value(m).unwrap());
            let direct: Result<ChartMetadata, _> = yaml::from_str_as(&text);
            match (quick, direct) {
                (Ok(q), Ok(d)) => assert_eq!(q, serde_json::to_value(d).unwrap(), "{from}"),
                (Err(_), Err(_)) => {}
                (q, d) => panic!("{from}: quick {q:?} but direct {:?}", d.map(|_| ())),
            }
        }
    }
}
