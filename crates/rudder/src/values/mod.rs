//! Values: layering (chart → `values/<env>.yaml` → `-f` → `--set*`), Helm's `strvals` parser,
//! coalescing, and `values.schema.json` checks.
//!
//! Precedence, lowest to highest, exactly as Helm 4 composes a release's values plus rudder's
//! environment overlay:
//! 1. the chart's `values.yaml` (each subchart's defaults below its name or alias key);
//! 2. `values/<env>.yaml` from the chart (`--env`);
//! 3. each `-f/--values` file in order (`-` reads stdin);
//! 4. `--set-json`, then `--set`, then `--set-string`, then `--set-file`, then `--set-literal`
//!    (Helm 4's `MergeValues` order), each flag in command-line order.
//!
//! Layers 2–4 are the user-supplied values (Helm's release `config`); they are merged with
//! Helm's `MergeMaps` (maps deep, the rest replaced), then coalesced over the chart's defaults
//! with Helm's rules (see [`coalesce`]) after disabled subcharts are dropped (see [`subcharts`]).
//!
//! # Number types
//! Helm reads YAML and JSON through Go's `encoding/json`, so every number from a values file,
//! from `values.yaml` and from `--set-json` is a float64, while `--set` integers are int64. That
//! difference is visible in Go templates (`{{ .Values.n }}` of a float64 `20261126153000` prints
//! `2.0261126153e+13`). So for Helm charts ([`Engine::GoTemplate`]) those numbers are stored as
//! serde_json f64 numbers (`Number::from_f64`) and `--set` integers as i64; for Tera charts
//! integers stay integers wherever they come from.

pub mod coalesce;
pub mod schema;
pub mod strvals;
pub mod subcharts;

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::chart::{Chart, ChartError, Engine};
use strvals::{JsonNumbers, StrvalsError, ValueMode};

/// The user's values inputs, as given on the command line (already split per flag).
#[derive(Debug, Clone, Default)]
pub struct ValuesInputs {
    /// `--env NAME`: the chart's `values/NAME.yaml` overlay.
    pub env: Option<String>,
    /// `-f/--values FILE` in order; `-` is stdin.
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
}

/// The result of composing values for a chart.
#[derive(Debug, Clone)]
pub struct Composed {
    /// The final values templates see: chart defaults (subcharts' under their key) coalesced with
    /// the env overlay, files and `--set*` flags.
    pub values: Value,
    /// Only what the user supplied (env overlay, files, flags): Helm's release `config`.
    pub user_supplied: Value,
    /// The chart with disabled subcharts (condition/tags) removed, aliases applied and
    /// `import-values` processed, as Helm's dependency processing leaves it. For Helm charts its
    /// values' numbers are float64 (see the module docs).
    pub chart: Chart,
    /// Warnings for stderr (e.g. a numeric `--set` for an image tag).
    pub warnings: Vec<String>,
}

/// Values that could not be composed. Each names the file, flag or chart at fault.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error(
        "unknown environment {env:?} for chart {chart}: {}",
        available_text(available)
    )]
    UnknownEnv {
        env: String,
        chart: String,
        available: Vec<String>,
    },
    #[error("cannot read values file {path}: {error}")]
    ReadFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] ChartError),
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("{flag} {}: {error}", excerpt(expression))]
    Set {
        flag: &'static str,
        expression: String,
        error: StrvalsError,
    },
    #[error("--set-json {}: invalid JSON object: {message}", excerpt(expression))]
    SetJsonObject { expression: String, message: String },
    #[error("{chart}: found in Chart.yaml, but missing in charts/ directory: {}", missing.join(", "))]
    MissingDependencies { chart: String, missing: Vec<String> },
    #[error(transparent)]
    Coalesce(#[from] coalesce::CoalesceError),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
}

/// An expression quoted for an error: at most 200 characters of it, so a hostile
/// 100,000-character argument does not become a 100 KB message (the column still points in).
fn excerpt(expression: &str) -> String {
    const SHOWN: usize = 200;
    let total = expression.chars().count();
    if total <= SHOWN {
        return format!("{expression:?}");
    }
    let head: String = expression.chars().take(SHOWN).collect();
    format!("{head:?}… ({total} characters)")
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "the chart has no values/<env>.yaml files".to_string()
    } else {
        format!("available: {}", available.join(", "))
    }
}

/// The environments a chart offers: the names of its `values/*.yaml` files, sorted.
pub fn available_envs(chart: &Chart) -> Vec<String> {
    let mut envs: Vec<String> = chart
        .files
        .iter()
        .filter_map(|f| f.name.strip_prefix("values/")?.strip_suffix(".yaml"))
        .filter(|name| !name.contains('/'))
        .map(str::to_string)
        .collect();
    envs.sort();
    envs
}

/// Composes the values for `chart` from the user's inputs, in Helm's precedence, and checks
/// them against `values.schema.json`.
pub fn compose(chart: &Chart, inputs: &ValuesInputs) -> Result<Composed, ValuesError> {
    compose_and(chart, inputs, |_| Ok::<(), ValuesError>(())).map(|(composed, ())| composed)
}

/// [`compose`], then `next` on the composed values, with the schemas compiled on a second
/// thread all along: compiling costs about as much as composing, and needs only the chart. The
/// values are checked on that side too, while `next` runs, and a violation is reported instead
/// of whatever `next` returned, exactly as if they had been checked before `next` ran. So
/// `next` must have no effect beyond its result (rendering has none: `lookup` only reads).
pub fn compose_and<T, E: From<ValuesError>>(
    chart: &Chart,
    inputs: &ValuesInputs,
    next: impl FnOnce(&Composed) -> Result<T, E>,
) -> Result<(Composed, T), E> {
    if !schema::has_schema(chart) {
        let composed = compose_unchecked(chart, inputs)?;
        let after = next(&composed)?;
        return Ok((composed, after));
    }
    let schema_thread = || {
        std::thread::Builder::new()
            .name("values-schema".into())
            .stack_size(SCHEMA_STACK_BYTES)
    };
    std::thread::scope(|outer| {
        let compiling = schema_thread().spawn_scoped(outer, || schema::compile_all(chart));
        let composed = compose_unchecked(chart, inputs)?;
        let (checked, after) = std::thread::scope(|inner| {
            let composed = &composed;
            // The validators are dropped on this thread too, which takes a while for big ones.
            let checking = schema_thread().spawn_scoped(inner, move || {
                let compiled = compiling.ok().and_then(|h| h.join().ok());
                schema::validate_value(&composed.chart, &composed.values, compiled.as_ref())
            });
            let after = next(composed);
            let unchecked = || schema::validate_value(&composed.chart, &composed.values, None);
            // No thread, or it panicked: check here, compiling the schemas again.
            let checked = match checking {
                Ok(h) => h.join().unwrap_or_else(|_| unchecked()),
                Err(_) => unchecked(),
            };
            (checked, after)
        });
        checked.map_err(ValuesError::from)?;
        Ok((composed, after?))
    })
}

/// The schema thread's stack: a main thread's, as compiling recurses through nested schemas.
const SCHEMA_STACK_BYTES: usize = 8 << 20;

/// The values, before any schema has seen them.
fn compose_unchecked(chart: &Chart, inputs: &ValuesInputs) -> Result<Composed, ValuesError> {
    let engine = chart.metadata.engine();
    let go_numbers = engine == Engine::GoTemplate;
    let file_numbers = |v: Value| {
        if go_numbers {
            strvals::to_float64(v)
        } else {
            v
        }
    };

    let mut chart = chart.clone();
    if go_numbers {
        floatify_chart_values(&mut chart);
    }

    let mut user = Map::new();
    if let Some(env) = &inputs.env {
        let overlay = read_env_overlay(&chart, env)?;
        merge_layer(&mut user, file_numbers(overlay));
    }
    let mut stdin_used = false;
    for path in &inputs.files {
        let (text, shown) = read_input_file(path, &mut stdin_used)?;
        let layer = crate::chart::read_values_file(&text, &shown)?;
        merge_layer(&mut user, file_numbers(layer));
    }
    let json_numbers = if go_numbers {
        JsonNumbers::Float64
    } else {
        JsonNumbers::Preserve
    };
    for expression in &inputs.set_json {
        let trimmed = expression.trim();
        if trimmed.starts_with('{') {
            let object: Map<String, Value> =
                serde_json::from_str(trimmed).map_err(|e| ValuesError::SetJsonObject {
                    expression: expression.clone(),
                    message: e.to_string(),
                })?;
            let object = match json_numbers {
                JsonNumbers::Float64 => strvals::to_float64(Value::Object(object)),
                JsonNumbers::Preserve => Value::Object(object),
            };
            merge_layer(&mut user, object);
        } else {
            apply_set(
                "--set-json",
                expression,
                &mut user,
                ValueMode::Json(json_numbers),
            )?;
        }
    }
    let mut warnings = Vec::new();
    for expression in &inputs.set {
        apply_set("--set", expression, &mut user, ValueMode::Typed)?;
        warnings.extend(numeric_tag_warnings(expression));
    }
    for expression in &inputs.set_string {
        apply_set("--set-string", expression, &mut user, ValueMode::String)?;
    }
    // Helm keeps a --set-file's bytes as they are; invalid UTF-8 shows as U+FFFD, as Go prints it.
    let read_set_file = |path: &str| -> Result<Value, String> {
        let result = if path.trim() == "-" {
            crate::input::read_stdin("<stdin>")
        } else {
            crate::input::read_file(std::path::Path::new(path))
        };
        result
            .map(|bytes| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            .map_err(|e| e.to_string())
    };
    for expression in &inputs.set_file {
        apply_set(
            "--set-file",
            expression,
            &mut user,
            ValueMode::File(&read_set_file),
        )?;
    }
    for expression in &inputs.set_literal {
        apply_set("--set-literal", expression, &mut user, ValueMode::Literal)?;
    }

    let missing = subcharts::missing_dependencies(&chart);
    if !missing.is_empty() {
        return Err(ValuesError::MissingDependencies {
            chart: chart.name().to_string(),
            missing,
        });
    }
    subcharts::process_dependencies(&mut chart, &user)?;
    let values = Value::Object(coalesce::coalesce_values(&chart, &user)?);
    Ok(Composed {
        values,
        user_supplied: Value::Object(user),
        chart,
        warnings,
    })
}

/// Helm's `loader.MergeMaps` of one more layer over the user values so far.
fn merge_layer(user: &mut Map<String, Value>, layer: Value) {
    if let Value::Object(map) = layer {
        crate::chart::merge_values_maps(user, map);
    }
}

fn apply_set(
    flag: &'static str,
    expression: &str,
    user: &mut Map<String, Value>,
    mode: ValueMode<'_>,
) -> Result<(), ValuesError> {
    strvals::parse_into(expression, user, mode).map_err(|error| ValuesError::Set {
        flag,
        expression: expression.to_string(),
        error,
    })
}

fn floatify_chart_values(chart: &mut Chart) {
    chart.values = strvals::to_float64(std::mem::take(&mut chart.values));
    for sub in chart.dependencies.iter_mut() {
        floatify_chart_values(sub);
    }
}

fn read_env_overlay(chart: &Chart, env: &str) -> Result<Value, ValuesError> {
    let wanted = format!("values/{env}.yaml");
    let file = chart
        .files
        .iter()
        .find(|f| f.name == wanted && !env.contains('/') && !env.is_empty());
    let Some(file) = file else {
        return Err(ValuesError::UnknownEnv {
            env: env.to_string(),
            chart: chart.name().to_string(),
            available: available_envs(chart),
        });
    };
    let shown = format!("{}/{wanted}", chart.source.display());
    let text = crate::chart::values_text(&file.data, &shown)?;
    Ok(crate::chart::read_values_file(text, &shown)?)
}

fn read_input_file(
    path: &std::path::Path,
    stdin_used: &mut bool,
) -> Result<(String, String), ValuesError> {
    let (bytes, shown) = if path.as_os_str() == "-" {
        if *stdin_used {
            return Ok((String::new(), "<stdin>".to_string()));
        }
        *stdin_used = true;
        (crate::input::read_stdin("<stdin>")?, "<stdin>".to_string())
    } else {
        let shown = path.display().to_string();
        let bytes = crate::input::read_file(path).map_err(|e| match e {
            crate::input::InputError::Read { error, .. } => ValuesError::ReadFile {
                path: path.to_path_buf(),
                error,
            },
            other => other.into(),
        })?;
        (bytes, shown)
    };
    let text = crate::chart::values_text(&bytes, &shown)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
    Ok((text, shown))
}

/// Warnings for `--set` values that became numbers under keys that usually hold strings
/// (`tag`, `*Tag`, `*version`, `*Version`): Helm keeps them numbers, which surprises CI
/// pipelines passing timestamps or versions.
fn numeric_tag_warnings(expression: &str) -> Vec<String> {
    let Ok(parsed) = strvals::parse(expression) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    collect_numeric_tags(&Value::Object(parsed), "", None, &mut found);
    found
        .into_iter()
        .map(|(path, number)| {
            format!(
                "--set {path}={number}: {path} is now the number {number} (as in Helm), which templates may print differently (e.g. in scientific notation); use --set-string {path}={number} to keep it a string"
            )
        })
        .collect()
}

fn is_tag_like_key(k: &str) -> bool {
    k == "tag" || k.ends_with("Tag") || k.ends_with("version") || k.ends_with("Version")
}

fn collect_numeric_tags(
    value: &Value,
    path: &str,
    key: Option<&str>,
    out: &mut Vec<(String, String)>,
) {
    match value {
        Value::Number(n) if key.is_some_and(is_tag_like_key) => {
            out.push((path.to_string(), n.to_string()));
        }
        Value::Object(map) => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                collect_numeric_tags(v, &child, Some(k), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_numeric_tags(v, &format!("{path}[{i}]"), key, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{ChartFile, ChartMetadata};
    use serde_json::json;

    fn chart(engine: &str, values: Value) -> Chart {
        Chart {
            metadata: ChartMetadata {
                name: "web".into(),
                version: "0.1.0".into(),
                api_version: "v2".into(),
                engine: engine.into(),
                ..Default::default()
            },
            values,
            files: vec![
                ChartFile {
                    name: "values/dev.yaml".into(),
                    data: b"replicas: 1\nenv: dev\n".to_vec(),
                },
                ChartFile {
                    name: "values/prod.yaml".into(),
                    data: b"replicas: 3\nenv: prod\nimage:\n  tag: stable\n".to_vec(),
                },
            ],
            source: PathBuf::from("charts/web"),
            ..Default::default()
        }
    }

    #[test]
    fn layers_in_helm_order_with_env_overlay() {
        let dir = tempfile::tempdir().unwrap();
        let f1 = dir.path().join("a.yaml");
        let f2 = dir.path().join("b.yaml");
        std::fs::write(&f1, "replicas: 5\nfrom: a\nimage: {pullPolicy: Always}\n").unwrap();
        std::fs::write(&f2, "from: b\n").unwrap();
        let inputs = ValuesInputs {
            env: Some("prod".into()),
            files: vec![f1, f2],
            set_json: vec![r#"image={"tag":"json","digest":"d"}"#.into()],
            set: vec!["image.tag=set,extra=1".into()],
            set_string: vec!["extra=2".into()],
            set_literal: vec!["lit=a,b".into()],
            ..Default::default()
        };
        let c = chart(
            "tera",
            json!({"replicas": 1, "image": {"repository": "nginx", "tag": "latest"}}),
        );
        let composed = compose(&c, &inputs).unwrap();
        assert_eq!(
            composed.values,
            json!({
                "replicas": 5, "env": "prod", "from": "b", "extra": "2", "lit": "a,b",
                // --set-json replaced the whole image map the file had set.
                "image": {"repository": "nginx", "tag": "set", "digest": "d"}
            })
        );
        assert!(composed
            .user_supplied
            .get("image")
            .unwrap()
            .get("repository")
            .is_none());
        assert_eq!(composed.user_supplied["env"], "prod");
    }

    #[test]
    fn unknown_env_lists_available_ones() {
        let c = chart("tera", json!({}));
        let inputs = ValuesInputs {
            env: Some("qa".into()),
            ..Default::default()
        };
        let err = compose(&c, &inputs).unwrap_err().to_string();
        assert!(
            err.contains("\"qa\"") && err.contains("available: dev, prod"),
            "{err}"
        );
        let inputs = ValuesInputs {
            env: Some("../prod".into()),
            ..Default::default()
        };
        assert!(compose(&c, &inputs).is_err());
    }

    #[test]
    fn numbers_follow_helm_for_go_charts_and_stay_integers_for_tera() {
        let inputs = ValuesInputs {
            set: vec!["n=3".into()],
            set_json: vec!["j=4".into()],
            ..Default::default()
        };
        let go = compose(&chart("", json!({"d": 2})), &inputs)
            .unwrap()
            .values;
        assert!(
            go["d"].is_f64() && go["j"].is_f64() && go["n"].is_i64(),
            "{go}"
        );
        let tera = compose(&chart("tera", json!({"d": 2})), &inputs)
            .unwrap()
            .values;
        assert!(
            tera["d"].is_u64() && tera["j"].is_u64() && tera["n"].is_i64(),
            "{tera}"
        );
    }

    #[test]
    fn bad_set_names_flag_expression_and_column() {
        let inputs = ValuesInputs {
            set_string: vec!["a=1,b".into()],
            ..Default::default()
        };
        let err = compose(&chart("tera", json!({})), &inputs)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--set-string \"a=1,b\": key \"b\" has no value (at column 5)"
        );
    }

    #[test]
    fn unreadable_set_file_names_flag_and_path() {
        let inputs = ValuesInputs {
            set_file: vec!["cert=/no/such/file.pem".into()],
            ..Default::default()
        };
        let err = compose(&chart("tera", json!({})), &inputs)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--set-file") && err.contains("/no/such/file.pem"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_file_names_file_line_column() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.yaml");
        std::fs::write(&f, "a: 1\nb: {\n").unwrap();
        let inputs = ValuesInputs {
            files: vec![f.clone()],
            ..Default::default()
        };
        let err = compose(&chart("tera", json!({})), &inputs)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("{}:", f.display())), "{err}");
        let inputs = ValuesInputs {
            files: vec![dir.path().join("missing.yaml")],
            ..Default::default()
        };
        let err = compose(&chart("tera", json!({})), &inputs)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.yaml"), "{err}");
    }

    #[test]
    fn warns_about_numeric_tags() {
        let inputs = ValuesInputs {
            set: vec!["image.tag=20261126153000,appVersion=2,imageTag=3,name=4".into()],
            ..Default::default()
        };
        let composed = compose(&chart("tera", json!({})), &inputs).unwrap();
        assert_eq!(composed.warnings.len(), 3, "{:?}", composed.warnings);
        assert!(composed.warnings[0].contains("--set-string"));
        let quiet = ValuesInputs {
            set_string: vec!["image.tag=20261126153000".into()],
            set: vec!["image.tag=v1".into()],
            ..Default::default()
        };
        assert!(compose(&chart("tera", json!({})), &quiet)
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn schema_violations_fail_composition() {
        let mut c = chart("tera", json!({"image": {"tag": "v1"}}));
        c.schema =
            Some(json!({"properties": {"image": {"properties": {"tag": {"type": "string"}}}}}));
        let inputs = ValuesInputs {
            set: vec!["image.tag=5".into()],
            ..Default::default()
        };
        let err = compose(&c, &inputs).unwrap_err().to_string();
        assert!(
            err.contains(".image.tag: expected string, got integer"),
            "{err}"
        );
    }

    #[test]
    fn a_schema_violation_wins_over_what_runs_after_composing() {
        let mut c = chart("tera", json!({"image": {"tag": "v1"}}));
        c.schema =
            Some(json!({"properties": {"image": {"properties": {"tag": {"type": "string"}}}}}));
        let bad = ValuesInputs {
            set: vec!["image.tag=5".into()],
            ..Default::default()
        };
        // Whether the next step fails or succeeds, the violation is what the caller sees.
        let failed = compose_and(&c, &bad, |_| {
            Err::<(), _>(ValuesError::Schema(schema::SchemaError::Violations {
                violations: vec!["from the next step".into()],
            }))
        });
        let err = failed.unwrap_err().to_string();
        assert!(err.contains(".image.tag: expected string"), "{err}");
        let succeeded = compose_and(&c, &bad, |_| Ok::<_, ValuesError>(1));
        assert!(succeeded.is_err());

        // Valid values: the next step's own result comes through, seeing the composed values.
        let good = ValuesInputs {
            set: vec!["image.tag=v2".into()],
            ..Default::default()
        };
        let (composed, tag) = compose_and(&c, &good, |composed| {
            Ok::<_, ValuesError>(composed.values["image"]["tag"].clone())
        })
        .unwrap();
        assert_eq!(tag, json!("v2"));
        assert_eq!(composed.values["image"]["tag"], json!("v2"));
        let err = compose_and(&c, &good, |_| {
            Err::<(), _>(ValuesError::Schema(schema::SchemaError::Violations {
                violations: vec!["from the next step".into()],
            }))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("from the next step"), "{err}");
    }

    #[test]
    fn set_json_object_form_merges() {
        let inputs = ValuesInputs {
            set_json: vec![r#" {"a": {"b": 1}} "#.into(), "a.c=2".into()],
            ..Default::default()
        };
        let v = compose(&chart("tera", json!({})), &inputs).unwrap().values;
        assert_eq!(v, json!({"a": {"b": 1, "c": 2}}));
        let bad = ValuesInputs {
            set_json: vec!["{nope".into()],
            ..Default::default()
        };
        assert!(compose(&chart("tera", json!({})), &bad).is_err());
    }
}
