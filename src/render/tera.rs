//! The Tera engine for rudder-native charts (`engine: tera`).
//!
//! One Tera instance is built per chart (and per enabled subchart) per render: it holds every file
//! of `templates/` under its path relative to `templates/`, so `{% import "_helpers.tera" as h %}`
//! reaches a chart's own helpers, and `{% import "LIB/_helpers.tera" as lib %}` the helpers of a
//! library subchart `LIB`. Macros see the template context (`Values`, `Release`, `Chart`, ...), so
//! helpers need no arguments, like Helm's `include "x" .`.
//!
//! Tera reports undefined variables without a position; [`locate`] finds the expression in the
//! source so the error names `file:line:column` and the missing path.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tera::{Context, Tera};

use super::{RenderError, RenderOptions, Rendered};
use crate::chart::{Chart, ChartFile};

mod functions;
mod locate;

/// What `required` sees when its input was undefined (Tera's `default` runs first, see
/// [`guard_required`]).
pub(crate) const MISSING: &str = "__rudder_missing_value__";

/// Renders a rudder-native chart and its enabled subcharts.
pub fn render(
    chart: &Chart,
    values: &Value,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let mut rendered = Rendered::default();
    render_chart(
        chart,
        values,
        options,
        chart.name(),
        true,
        &mut rendered.files,
    )?;
    Ok(rendered)
}

/// A template file of one chart as Tera sees it.
struct Source<'a> {
    /// Name inside the chart's Tera instance (relative to `templates/`, or `LIB/...`).
    name: String,
    /// Path shown to users (`CHART/templates/x.yaml`).
    path: String,
    /// Text as written (errors are located in it).
    text: &'a str,
    /// Partials (`_*`) and library chart files render nothing themselves.
    helper: bool,
}

fn render_chart(
    chart: &Chart,
    values: &Value,
    options: &RenderOptions,
    prefix: &str,
    is_root: bool,
    out: &mut BTreeMap<String, String>,
) -> Result<(), RenderError> {
    let sources = collect_sources(chart, prefix)?;
    let tera = build_tera(chart, options, &sources)?;
    let mut context = Context::new();
    context.insert("Values", values);
    context.insert("Release", &release_object(options));
    context.insert("Chart", &chart_object(chart, is_root));
    context.insert("Capabilities", &capabilities_object(options));
    context.insert("Env", options.env.as_deref().unwrap_or(""));
    let base_path = format!("{prefix}/templates");
    for source in &sources {
        if source.helper {
            continue;
        }
        context.insert(
            "Template",
            &json!({ "Name": source.path, "BasePath": base_path }),
        );
        let text = tera
            .render(&source.name, &context)
            .map_err(|err| locate::render_error(&err, source, &sources))?;
        out.insert(source.path.clone(), text);
    }
    for sub in &chart.dependencies {
        if sub.metadata.is_library() {
            continue;
        }
        let key = values_key(chart, sub);
        let sub_values = scoped_values(values, &key);
        let sub_prefix = format!("{prefix}/charts/{}", sub.name());
        render_chart(sub, &sub_values, options, &sub_prefix, false, out)?;
    }
    Ok(())
}

fn collect_sources<'a>(chart: &'a Chart, prefix: &str) -> Result<Vec<Source<'a>>, RenderError> {
    let mut sources = Vec::with_capacity(chart.templates.len());
    for file in &chart.templates {
        let name = file
            .name
            .strip_prefix("templates/")
            .unwrap_or(&file.name)
            .to_string();
        let path = format!("{prefix}/{}", file.name);
        sources.push(Source {
            text: utf8(file, &path)?,
            helper: name.rsplit('/').next().is_some_and(|b| b.starts_with('_')),
            name,
            path,
        });
    }
    for lib in chart
        .dependencies
        .iter()
        .filter(|d| d.metadata.is_library())
    {
        for file in &lib.templates {
            let rel = file.name.strip_prefix("templates/").unwrap_or(&file.name);
            let path = format!("{prefix}/charts/{}/{}", lib.name(), file.name);
            sources.push(Source {
                text: utf8(file, &path)?,
                name: format!("{}/{rel}", lib.name()),
                path,
                helper: true,
            });
        }
    }
    Ok(sources)
}

fn utf8<'a>(file: &'a ChartFile, path: &str) -> Result<&'a str, RenderError> {
    std::str::from_utf8(&file.data).map_err(|e| RenderError::Template {
        template: path.to_string(),
        line: 1 + file.data[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        column: 1,
        message: "template is not valid UTF-8".to_string(),
    })
}

fn build_tera(
    chart: &Chart,
    options: &RenderOptions,
    sources: &[Source<'_>],
) -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    // Manifests are YAML, not HTML: never escape.
    tera.autoescape_on(Vec::new());
    functions::register(&mut tera, chart, options);
    let guarded: Vec<(String, String)> = sources
        .iter()
        .map(|s| (s.name.clone(), guard_required(s.text)))
        .collect();
    tera.add_raw_templates(guarded)
        .map_err(|err| locate::parse_error(&err, sources))?;
    Ok(tera)
}

/// Tera fails on an undefined variable before any filter runs, except `default` when it comes
/// first. So `X | required(...)` becomes `X | default(value="MISSING") | required(...)`, letting
/// `required` report the chart author's message instead of a bare "not found".
pub(crate) fn guard_required(text: &str) -> String {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?P<head>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[[^\]\n]*\])*)(?P<ws>\s*)\|\s*required\s*\("#,
        )
        .expect("required guard regex is valid")
    });
    if !text.contains("required") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let (Some(whole), Some(head)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        // Only the first filter of an expression may be `default`; leave chained filters alone.
        let before = text[..head.start()].trim_end();
        if before.ends_with('|') || before.ends_with('.') {
            continue;
        }
        out.push_str(&text[last..head.end()]);
        out.push_str(&format!(" | default(value=\"{MISSING}\") "));
        out.push_str(text[head.end()..whole.end()].trim_start());
        last = whole.end();
    }
    out.push_str(&text[last..]);
    out
}

/// The key a subchart's values live under in its parent: its alias when the parent names one.
fn values_key(parent: &Chart, sub: &Chart) -> String {
    parent
        .metadata
        .dependencies
        .iter()
        .find(|d| d.name == sub.name() && !d.alias.is_empty())
        .map(|d| d.alias.clone())
        .unwrap_or_else(|| sub.name().to_string())
}

/// A subchart's values: its own key of the parent's values, with the parent's `global` merged
/// over the subchart's own (parent globals win, as in Helm).
fn scoped_values(parent: &Value, key: &str) -> Value {
    let mut scoped = match parent.get(key) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    if let Some(Value::Object(parent_global)) = parent.get("global") {
        let global = scoped
            .entry("global")
            .or_insert_with(|| Value::Object(Map::new()));
        if !global.is_object() {
            *global = Value::Object(Map::new());
        }
        if let Value::Object(global) = global {
            for (k, v) in parent_global {
                global.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(scoped)
}

fn release_object(options: &RenderOptions) -> Value {
    let r = &options.release;
    json!({
        "Name": r.name,
        "Namespace": r.namespace,
        "Revision": r.revision,
        "IsInstall": r.is_install,
        "IsUpgrade": r.is_upgrade,
        "Service": "rudder",
    })
}

fn capabilities_object(options: &RenderOptions) -> Value {
    let c = &options.capabilities;
    json!({
        "KubeVersion": {
            "Version": c.kube_version.version,
            "Major": c.kube_version.major,
            "Minor": c.kube_version.minor,
            "GitVersion": c.kube_version.version,
        },
        "APIVersions": c.api_versions,
    })
}

/// Chart.yaml with Helm's capitalised field names; absent fields are empty, never undefined.
fn chart_object(chart: &Chart, is_root: bool) -> Value {
    let m = &chart.metadata;
    json!({
        "Name": m.name,
        "Version": m.version,
        "AppVersion": m.app_version,
        "Description": m.description,
        "APIVersion": m.api_version,
        "Type": if m.chart_type.is_empty() { "application" } else { m.chart_type.as_str() },
        "KubeVersion": m.kube_version,
        "Keywords": m.keywords,
        "Home": m.home,
        "Sources": m.sources,
        "Icon": m.icon,
        "Deprecated": m.deprecated,
        "Annotations": m.annotations,
        "Maintainers": m.maintainers.iter().map(|x| json!({
            "Name": x.name,
            "Email": x.email.clone().unwrap_or_default(),
            "URL": x.url.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "Dependencies": m.dependencies.iter().map(|d| json!({
            "Name": d.name,
            "Version": d.version,
            "Repository": d.repository,
            "Condition": d.condition,
            "Tags": d.tags,
            "Alias": d.alias,
        })).collect::<Vec<_>>(),
        "IsRoot": is_root,
    })
}

#[cfg(test)]
mod tests;
