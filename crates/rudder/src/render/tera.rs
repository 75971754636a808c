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

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tera::{Context, Template, Tera};

use super::{RenderError, RenderOptions, Rendered};
use crate::chart::{Chart, ChartFile};

mod functions;
mod guard;
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
    let mut tera = build_tera(chart, options, &sources)?;
    let may_recurse = guard::may_recurse(&tera);
    if may_recurse {
        guard::guard_calls(&mut tera);
    }
    let mut context = Context::new();
    context.insert("Values", values);
    context.insert("Release", &release_object(options));
    context.insert("Chart", &chart_object(chart, is_root));
    context.insert("Capabilities", &capabilities_object(options));
    context.insert("Env", options.env.as_deref().unwrap_or(""));
    let base_path = format!("{prefix}/templates");
    let render_all = |context: &mut Context| -> Result<Vec<(String, String)>, RenderError> {
        let mut rendered = Vec::new();
        for source in &sources {
            if source.helper {
                continue;
            }
            context.insert(
                "Template",
                &json!({ "Name": source.path, "BasePath": base_path }),
            );
            let text = render_guarded(&tera, &source.name, &source.path, context)
                .map_err(|err| locate::render_error(&err, source, &sources))?;
            rendered.push((source.path.clone(), text));
        }
        Ok(rendered)
    };
    // Tera recurses on the stack for each nested template and macro call. Templates that can
    // call themselves render on a thread with a stack for `guard::MAX_CALL_DEPTH` calls; the
    // rest (nearly every chart) on this one, sparing a thread start (~90 µs) per render.
    let rendered = if may_recurse {
        let mut theirs = context.clone();
        std::thread::scope(|scope| {
            match std::thread::Builder::new()
                .name("tera-render".to_string())
                .stack_size(guard::RENDER_STACK_BYTES)
                .spawn_scoped(scope, move || render_all(&mut theirs))
            {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No thread to be had: render here, with the stack there is.
                Err(_) => render_all(&mut context),
            }
        })
    } else {
        render_all(&mut context)
    }?;
    out.extend(rendered);
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

/// Renders one template within the render budget.
fn render_guarded(tera: &Tera, name: &str, path: &str, context: &Context) -> tera::Result<String> {
    guard::start_render();
    let mut output = guard::CappedOutput::new(path);
    tera.render_to(name, context, &mut output)?;
    String::from_utf8(output.data).map_err(|_| tera::Error::msg("the output is not valid UTF-8"))
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
    guard::register(&mut tera);
    tera.register_function("range", guard::range);
    add_templates(&mut tera, sources).map_err(|err| locate::parse_error(&err, sources))?;
    Ok(tera)
}

/// Below this many bytes of templates a second thread costs more than it saves.
const PARALLEL_PARSE_BYTES: usize = 2048;

/// What `Tera::add_raw_templates` does, with the parsing (most of a render's time: Tera's pest
/// parser spends ~2000 instructions per byte) split over two threads. Errors are the same as
/// `add_raw_templates` gives: the first template in `sources` order that fails to parse.
fn add_templates(tera: &mut Tera, sources: &[Source<'_>]) -> tera::Result<()> {
    let parsed = parse_templates(sources);
    for (source, template) in sources.iter().zip(parsed) {
        let mut template = template
            .map_err(|e| tera::Error::chain(format!("Failed to parse '{}'", source.name), e))?;
        guard::instrument(&mut template);
        tera.templates.insert(source.name.clone(), template);
    }
    tera.build_inheritance_chains()?;
    tera.check_macro_files()
}

/// Parses every source (after [`guard_required`]); the results are in `sources` order.
fn parse_templates(sources: &[Source<'_>]) -> Vec<tera::Result<Template>> {
    let parse = |s: &Source<'_>| Template::new(&s.name, None, &guard_required(s.text));
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    if sources.len() < 2 || total < PARALLEL_PARSE_BYTES {
        return sources.iter().map(parse).collect();
    }
    let mine = split_by_size(sources);
    let (theirs, ours): (Vec<_>, Vec<_>) = (0..sources.len()).partition(|i| !mine[*i]);
    let (mut theirs, mut ours) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            theirs
                .iter()
                .map(|&i| (i, parse(&sources[i])))
                .collect::<Vec<_>>()
        });
        let ours: Vec<_> = ours.iter().map(|&i| (i, parse(&sources[i]))).collect();
        match worker.join() {
            Ok(theirs) => (theirs, ours),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let mut all: Vec<(usize, tera::Result<Template>)> = Vec::with_capacity(sources.len());
    all.append(&mut theirs);
    all.append(&mut ours);
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, parsed)| parsed).collect()
}

/// Splits the sources in two halves of about equal bytes (largest first, each to the lighter
/// half): `true` marks the half the calling thread parses.
fn split_by_size(sources: &[Source<'_>]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sources[i].text.len()));
    let mut mine = vec![false; sources.len()];
    let (mut mine_bytes, mut theirs_bytes) = (0, 0);
    for i in order {
        if mine_bytes <= theirs_bytes {
            mine[i] = true;
            mine_bytes += sources[i].text.len();
        } else {
            theirs_bytes += sources[i].text.len();
        }
    }
    mine
}

/// Tera fails on an undefined variable before any filter runs, except `default` when it comes
/// first. So `X | required(...)` becomes `X | default(value="MISSING") | required(...)`, letting
/// `required` report the chart author's message instead of a bare "not found".
///
/// `X` is a context path: an identifier, then `.word` and `[...]` parts. A hand-written scanner
/// rather than a regex: compiling the regex cost more than parsing a small template.
pub(crate) fn guard_required(text: &str) -> Cow<'_, str> {
    if !text.contains("required") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        // A path starts at the first non-digit of a run of word characters; a start later in the
        // run would end where this one ends, so one try per run finds the leftmost call.
        let run_end = i + bytes[i..].iter().take_while(|b| is_word(**b)).count();
        let Some(start) = (i..run_end).find(|&p| !bytes[p].is_ascii_digit()) else {
            i = run_end;
            continue;
        };
        let Some((head_end, call_end)) = required_call_at(text, start) else {
            i = run_end;
            continue;
        };
        // Only the first filter of an expression may be `default`; leave chained filters alone.
        let before = text[..start].trim_end();
        if !(before.ends_with('|') || before.ends_with('.')) {
            out.push_str(&text[last..head_end]);
            out.push_str(&format!(" | default(value=\"{MISSING}\") "));
            out.push_str(text[head_end..call_end].trim_start());
            last = call_end;
        }
        i = call_end;
    }
    if last == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// When a path starting at `start` is followed by `| required(`: where the path ends and where
/// the `(` ends.
fn required_call_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let word_end = |from: usize| from + bytes[from..].iter().take_while(|b| is_word(**b)).count();
    let mut end = word_end(start);
    loop {
        match bytes.get(end) {
            Some(b'.') if bytes.get(end + 1).copied().is_some_and(is_word) => {
                end = word_end(end + 1);
            }
            Some(b'[') => match text[end + 1..].find([']', '\n']) {
                Some(k) if bytes[end + 1 + k] == b']' => end += k + 2,
                _ => break,
            },
            _ => break,
        }
    }
    let rest = text[end..]
        .trim_start()
        .strip_prefix('|')?
        .trim_start()
        .strip_prefix("required")?
        .trim_start()
        .strip_prefix('(')?;
    Some((end, text.len() - rest.len()))
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
