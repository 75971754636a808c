//! Helm's rendering of a chart (`pkg/engine/engine.go`): the objects templates see (`.Values`,
//! `.Release`, `.Chart`, `.Capabilities`, `.Files`, `.Template`, `.Subcharts`), one template
//! set for the chart and all its subcharts, Helm's parse and execution order, `<no value>`
//! removal and Helm's error messages.

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::encode;
use super::engine_funcs::{helm_registry, HelmFuncs};
use super::exec::{dict_of, parse_source, Exec, ExecError, ParseFailure, ParsedFile, TemplateSet};
use super::funcs;
use super::value::{Dict, Object, Value};
use crate::chart::{Chart, ChartFile, ChartMetadata};
use crate::render::{Capabilities, RenderError, RenderOptions, Rendered};

/// Helm's `files` type: the chart's non-template files with `Get`, `GetBytes`, `Glob`, `Lines`,
/// `AsConfig` and `AsSecrets`.
#[derive(Debug)]
pub struct Files {
    files: BTreeMap<String, Rc<[u8]>>,
}

impl Files {
    fn new(files: &[ChartFile]) -> Self {
        Files {
            files: files
                .iter()
                .map(|f| (f.name.clone(), Rc::from(f.data.as_slice())))
                .collect(),
        }
    }

    fn glob(&self, pattern: &str) -> Files {
        let matcher = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .or_else(|_| globset::Glob::new("**"))
            .map(|g| g.compile_matcher());
        let files = match matcher {
            Ok(m) => self
                .files
                .iter()
                .filter(|(name, _)| m.is_match(name.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        Files { files }
    }

    fn as_map(&self, encode_value: impl Fn(&[u8]) -> String) -> String {
        let map: BTreeMap<String, Value> = self
            .files
            .iter()
            .map(|(k, v)| {
                let base = k.rsplit('/').next().unwrap_or(k).to_string();
                (base, Value::from(encode_value(v)))
            })
            .collect();
        let text = encode::to_yaml(&Value::map(map)).unwrap_or_default();
        text.strip_suffix('\n').unwrap_or(&text).to_string()
    }
}

fn str_arg(name: &str, args: &[Value]) -> Result<String, String> {
    match args {
        [v] => Ok(super::funcs::cast::str_param(v)),
        _ => Err(format!(
            "wrong number of args for {name}: want 1 got {}",
            args.len()
        )),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }

    fn kind_name(&self) -> &str {
        "map"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            "Get" => str_arg(name, args).map(|p| {
                Value::from(
                    self.files
                        .get(&p)
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default(),
                )
            }),
            "GetBytes" => str_arg(name, args).map(|p| {
                Value::Bytes(
                    self.files
                        .get(&p)
                        .cloned()
                        .unwrap_or_else(|| Rc::from(&[][..])),
                )
            }),
            "Glob" => str_arg(name, args).map(|p| Value::Object(Rc::new(self.glob(&p)))),
            "Lines" => str_arg(name, args).map(|p| match self.files.get(&p) {
                Some(b) if !b.is_empty() => {
                    let s = String::from_utf8_lossy(b);
                    let s = s.strip_suffix('\n').unwrap_or(&s);
                    Value::list(s.split('\n').map(Value::str).collect())
                }
                _ => Value::list(vec![]),
            }),
            "AsConfig" => Ok(Value::from(
                self.as_map(|b| String::from_utf8_lossy(b).into_owned()),
            )),
            "AsSecrets" => Ok(Value::from(self.as_map(|b| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(b)
            }))),
            _ => return None,
        })
    }

    fn format(&self) -> String {
        format!(
            "map[{}]",
            self.files
                .iter()
                .map(|(k, v)| format!("{k}:{}", format_bytes(v)))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }

    fn elements(&self) -> Option<Value> {
        Some(Value::map(
            self.files
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(v.clone())))
                .collect(),
        ))
    }

    fn to_data(&self) -> Value {
        self.elements().unwrap_or_default()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn format_bytes(b: &[u8]) -> String {
    super::fmt::format_v(&Value::Bytes(Rc::from(b)))
}

/// `.Capabilities.APIVersions` (Helm's `VersionSet`, a `[]string` with `Has`).
#[derive(Debug)]
struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }

    fn kind_name(&self) -> &str {
        "slice"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Has" => Some(str_arg(name, args).map(|v| Value::Bool(self.0.contains(&v)))),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }

    fn elements(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|s| Value::str(s)).collect()))
    }

    fn to_data(&self) -> Value {
        self.elements().unwrap_or_default()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `.Capabilities.KubeVersion`.
#[derive(Debug)]
struct KubeVersionObj {
    version: String,
    major: String,
    minor: String,
}

impl Object for KubeVersionObj {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = match name {
            "Version" | "GitVersion" | "String" => &self.version,
            "Major" => &self.major,
            "Minor" => &self.minor,
            _ => return None,
        };
        if !args.is_empty() {
            return Some(Err(format!("{name} is not a method but has arguments")));
        }
        Some(Ok(Value::str(v)))
    }

    fn format(&self) -> String {
        self.version.clone()
    }

    fn to_data(&self) -> Value {
        Value::from(&serde_json::json!({
            "Version": self.version, "Major": self.major, "Minor": self.minor
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `.Capabilities.HelmVersion` (Helm's `BuildInfo` for v4.2.3).
#[derive(Debug)]
struct HelmVersion;

const HELM_VERSION: &str = "v4.2";
const HELM_GO_VERSION: &str = "go1.26.6";
const HELM_KUBE_CLIENT_VERSION: &str = "v1.36";

impl Object for HelmVersion {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }

    fn member(&self, name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(Value::str(match name {
            "Version" => HELM_VERSION,
            "GitCommit" | "GitTreeState" => "",
            "GoVersion" => HELM_GO_VERSION,
            "KubeClientVersion" => HELM_KUBE_CLIENT_VERSION,
            _ => return None,
        })))
    }

    fn format(&self) -> String {
        format!("{{{HELM_VERSION}   {HELM_GO_VERSION} {HELM_KUBE_CLIENT_VERSION}}}")
    }

    fn to_data(&self) -> Value {
        Value::from(&serde_json::json!({
            "version": HELM_VERSION, "go_version": HELM_GO_VERSION,
            "kube_client_version": HELM_KUBE_CLIENT_VERSION
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `.Capabilities`.
#[derive(Debug)]
struct CapabilitiesObj {
    kube: Rc<KubeVersionObj>,
    apis: Rc<VersionSet>,
}

impl Object for CapabilitiesObj {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }

    fn member(&self, name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(match name {
            "KubeVersion" => Value::Object(self.kube.clone()),
            "APIVersions" => Value::Object(self.apis.clone()),
            "HelmVersion" => Value::Object(Rc::new(HelmVersion)),
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        format!(
            "&{{{} {} {}}}",
            self.kube.format(),
            self.apis.format(),
            HelmVersion.format()
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn capabilities_value(c: &Capabilities) -> Value {
    Value::Object(Rc::new(CapabilitiesObj {
        kube: Rc::new(KubeVersionObj {
            version: c.kube_version.version.clone(),
            major: c.kube_version.major.clone(),
            minor: c.kube_version.minor.clone(),
        }),
        apis: Rc::new(VersionSet(c.api_versions.clone())),
    }))
}

fn strings(v: &[String]) -> Value {
    Value::list(v.iter().map(|s| Value::str(s)).collect())
}

/// `.Chart`: Chart.yaml with Go's field names (Helm's `structToMap` of `chart.Metadata`).
fn chart_value(m: &ChartMetadata, is_root: bool) -> Value {
    let maintainers = m
        .maintainers
        .iter()
        .map(|x| {
            Value::Map(dict_of(vec![
                ("Name", Value::str(&x.name)),
                ("Email", Value::from(x.email.clone().unwrap_or_default())),
                ("URL", Value::from(x.url.clone().unwrap_or_default())),
            ]))
        })
        .collect();
    let deps = m
        .dependencies
        .iter()
        .map(|d| {
            Value::Map(dict_of(vec![
                ("Name", Value::str(&d.name)),
                ("Version", Value::str(&d.version)),
                ("Repository", Value::str(&d.repository)),
                ("Condition", Value::str(&d.condition)),
                ("Tags", strings(&d.tags)),
                ("Enabled", Value::Bool(d.enabled.unwrap_or(false))),
                (
                    "ImportValues",
                    Value::list(d.import_values.iter().map(Value::from).collect()),
                ),
                ("Alias", Value::str(&d.alias)),
            ]))
        })
        .collect();
    let annotations = if m.annotations.is_empty() {
        Value::Nil
    } else {
        Value::map(
            m.annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect(),
        )
    };
    Value::Map(dict_of(vec![
        ("Name", Value::str(&m.name)),
        ("Home", Value::str(&m.home)),
        ("Sources", strings(&m.sources)),
        ("Version", Value::str(&m.version)),
        ("Description", Value::str(&m.description)),
        ("Keywords", strings(&m.keywords)),
        ("Maintainers", Value::list(maintainers)),
        ("Icon", Value::str(&m.icon)),
        ("APIVersion", Value::str(&m.api_version)),
        ("Condition", Value::str(&m.condition)),
        ("Tags", Value::str(&m.tags)),
        ("AppVersion", Value::str(&m.app_version)),
        ("Deprecated", Value::Bool(m.deprecated)),
        ("Annotations", annotations),
        ("KubeVersion", Value::str(&m.kube_version)),
        ("Dependencies", Value::list(deps)),
        ("Type", Value::str(&m.chart_type)),
        ("IsRoot", Value::Bool(is_root)),
    ]))
}

/// A template file to render, with the scope (`.`) Helm gives it.
struct Renderable {
    src: Rc<str>,
    scope: Dict,
    base_path: String,
}

/// Helm's `recAllTpls`: builds each chart's scope and collects its templates by full path.
fn collect(
    chart: &Chart,
    parent_path: Option<&str>,
    parent_scope: Option<&Dict>,
    root_values: &Value,
    release: &Value,
    caps: &Value,
    out: &mut BTreeMap<String, Renderable>,
) -> Dict {
    let is_root = parent_scope.is_none();
    let values = match parent_scope {
        None => root_values.clone(),
        // A subchart sees its parent's `.Values.<name>` table (shared, like Helm's map).
        Some(p) => match p.get("Values") {
            Some(Value::Map(pv)) => match pv.get(chart.name()) {
                Some(Value::Map(sub)) => Value::Map(sub),
                _ => Value::empty_map(),
            },
            _ => Value::empty_map(),
        },
    };
    let subcharts = Dict::new();
    let scope = dict_of(vec![
        ("Chart", chart_value(&chart.metadata, is_root)),
        ("Files", Value::Object(Rc::new(Files::new(&chart.files)))),
        ("Release", release.clone()),
        ("Capabilities", caps.clone()),
        ("Values", values),
        ("Subcharts", Value::Map(subcharts.clone())),
    ]);
    let full_path = match parent_path {
        None => chart.name().to_string(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    for dep in &chart.dependencies {
        let sub = collect(
            dep,
            Some(&full_path),
            Some(&scope),
            root_values,
            release,
            caps,
            out,
        );
        subcharts.insert(dep.name(), Value::Map(sub));
    }
    let library = chart.metadata.is_library();
    for t in &chart.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                src: Rc::from(crate::chart::text_of(&t.data).as_ref()),
                scope: scope.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    scope
}

/// Helm's `sortTemplates`: deepest paths first, then reverse lexical order. Templates are parsed
/// and executed in this order, so a parent chart's `define`s replace its subcharts'.
fn helm_order(names: Vec<String>) -> Vec<String> {
    // Depth counted once per name, not in every comparison.
    let mut keyed: Vec<(usize, String)> = names
        .into_iter()
        .map(|n| (n.bytes().filter(|&b| b == b'/').count(), n))
        .collect();
    keyed.sort_unstable_by(|(da, a), (db, b)| db.cmp(da).then_with(|| b.cmp(a)));
    keyed.into_iter().map(|(_, n)| n).collect()
}

/// Set once by a one-shot command: see [`leave_teardown_to_exit`].
static LEAVE_TEARDOWN_TO_EXIT: AtomicBool = AtomicBool::new(false);

/// Lets [`render`] leave its parse trees, template scopes and values to the operating system
/// instead of freeing them node by node. For a process that exits right after rendering
/// (`rudder template`) that teardown is pure cost, about a tenth of a large chart's render.
/// Never call it in a process that renders repeatedly: each render would keep its memory.
pub fn leave_teardown_to_exit() {
    LEAVE_TEARDOWN_TO_EXIT.store(true, Ordering::Relaxed);
}

/// Whether [`leave_teardown_to_exit`] was called: other one-shot work can leave its memory too.
pub fn teardown_left_to_exit() -> bool {
    LEAVE_TEARDOWN_TO_EXIT.load(Ordering::Relaxed)
}

/// Stack for the render thread: templates recurse through `include` (Helm allows 1000 nested
/// calls of one name), far deeper than a main thread's stack would take.
const RENDER_STACK_BYTES: usize = 1 << 30;

/// Renders a Helm chart exactly as Helm 4's engine does.
pub fn render(
    chart: &Chart,
    values: &serde_json::Value,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    render_each(chart, values, options, &mut |_, _| {})
}

/// [`render`], handing each template's path and output to `each` on the calling thread as soon
/// as it is rendered. The render runs on a thread of its own anyway (see
/// [`RENDER_STACK_BYTES`]), so a caller's per-template work overlaps the templates still to come.
/// Outputs not yet handed over when the render ends are not handed over: they are in the
/// result, for the caller to work through with more threads than one.
pub fn render_each(
    chart: &Chart,
    values: &serde_json::Value,
    options: &RenderOptions,
    each: &mut dyn FnMut(&str, &str),
) -> Result<Rendered, RenderError> {
    let (done, outputs) = std::sync::mpsc::channel();
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("gotmpl-render".into())
            .stack_size(RENDER_STACK_BYTES)
            .spawn_scoped(scope, || {
                render_here(chart, values, options, Some((done, &finished)))
            });
        match handle {
            Ok(h) => {
                // Ends when the render thread drops its sender: finished, failed or panicked.
                for (name, text) in outputs {
                    // Outputs still queued when the render is over are left to the caller,
                    // which can read them on two threads instead of one after the other here.
                    if finished.load(Ordering::Acquire) {
                        break;
                    }
                    each(&name, &text);
                }
                h.join().unwrap_or_else(|_| {
                    Err(RenderError::Other(
                        "rendering template failed: the template engine panicked".into(),
                    ))
                })
            }
            // No thread available: render on this one.
            Err(_) => {
                let rendered = render_here(chart, values, options, None)?;
                for (name, text) in &rendered.files {
                    each(name, text);
                }
                Ok(rendered)
            }
        }
    })
}

fn render_here(
    chart: &Chart,
    values: &serde_json::Value,
    options: &RenderOptions,
    done: Option<(std::sync::mpsc::Sender<(String, String)>, &AtomicBool)>,
) -> Result<Rendered, RenderError> {
    // Budget errors raised inside gotmpl and Sprig name rudder's flag.
    gotmpl::limits::set_raise_hint(crate::render::OUTPUT_RAISE_HINT);
    let release = Value::Map(dict_of(vec![
        ("Name", Value::str(&options.release.name)),
        ("Namespace", Value::str(&options.release.namespace)),
        ("IsUpgrade", Value::Bool(options.release.is_upgrade)),
        ("IsInstall", Value::Bool(options.release.is_install)),
        ("Revision", Value::Int(options.release.revision as i64)),
        ("Service", Value::str("Helm")),
    ]));
    let caps = capabilities_value(&options.capabilities);
    let root_values = match Value::from(values) {
        Value::Nil => Value::empty_map(),
        v => v,
    };
    let mut tpls = BTreeMap::new();
    collect(chart, None, None, &root_values, &release, &caps, &mut tpls);
    // Key generation dwarfs a render: announce the calls that may come, so that the first one
    // searches on two cores and the later ones find primes made meanwhile.
    let keys = tpls
        .values()
        .map(|t| funcs::keys_generated_by(&t.src))
        .sum();
    let _key_prefetch = funcs::prefetch_rsa_keys(keys);
    let order = helm_order(tpls.keys().cloned().collect());

    let sources: Vec<(&str, &str)> = order
        .iter()
        .map(|name| (name.as_str(), &*tpls[name].src))
        .collect();
    let mut set = TemplateSet::default();
    for (name, parsed) in order.iter().zip(parse_files(&sources)) {
        let parsed = parsed.map_err(|e| {
            RenderError::Other(format!(
                "parse error at ({}:{}): {}",
                e.file, e.line, e.message
            ))
        })?;
        set.add_parsed(name, tpls[name].src.clone(), parsed);
    }

    let helm_funcs = HelmFuncs::new(options.lookup.as_deref());
    let mut exec = Exec::new(&set, helm_registry(), Some(&helm_funcs));
    let mut files = BTreeMap::new();
    for name in &order {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') {
            continue;
        }
        let r = &tpls[name];
        r.scope.insert(
            "Template",
            Value::Map(dict_of(vec![
                ("Name", Value::str(name)),
                ("BasePath", Value::str(&r.base_path)),
            ])),
        );
        let out = exec
            .execute(name, Value::Map(r.scope.clone()))
            .map_err(exec_error)?;
        let out = without_no_value(out);
        if let Some((done, _)) = &done {
            // The receiver only goes away with the caller's scope, after this thread ends.
            let _ = done.send((name.clone(), out.clone()));
        }
        files.insert(name.clone(), out);
    }
    if let Some((_, finished)) = &done {
        finished.store(true, Ordering::Release);
    }
    if LEAVE_TEARDOWN_TO_EXIT.load(Ordering::Relaxed) {
        // See `leave_teardown_to_exit`: the process ends soon and frees all of it at once.
        std::mem::forget(exec);
        std::mem::forget(set);
        std::mem::forget(tpls);
    }
    Ok(Rendered { files })
}

/// A template's output with every `<no value>` removed, as Helm's engine does after rendering.
/// Most outputs have none and are returned as they are, found so by a vectorised search.
fn without_no_value(out: String) -> String {
    const MISSING: &str = "<no value>";
    let finder = memchr::memmem::Finder::new(MISSING);
    if finder.find(out.as_bytes()).is_none() {
        return out;
    }
    let mut kept = String::with_capacity(out.len());
    let mut from = 0;
    for at in finder.find_iter(out.as_bytes()) {
        kept.push_str(&out[from..at]);
        from = at + MISSING.len();
    }
    kept.push_str(&out[from..]);
    kept
}

/// Below this much template text a second parse thread costs more than it saves.
const PARALLEL_PARSE_BYTES: usize = 64 * 1024;

/// Parses `(name, source)` files, results in the same order. With enough text the files are
/// split in two runs of about equal size, one parsed on a second thread: parse trees are plain
/// data, and adding them to the set afterwards in order keeps Go's "later definition wins" rule
/// and reports the same first error as parsing one by one.
fn parse_files(files: &[(&str, &str)]) -> Vec<Result<ParsedFile, ParseFailure>> {
    let parse_run = |run: &[(&str, &str)]| -> Vec<Result<ParsedFile, ParseFailure>> {
        run.iter()
            .map(|(name, src)| parse_source(helm_registry(), name, src))
            .collect()
    };
    let total: usize = files.iter().map(|(_, src)| src.len()).sum();
    if total < PARALLEL_PARSE_BYTES || files.len() < 2 {
        return parse_run(files);
    }
    let mut split = 0;
    let mut seen = 0;
    while split < files.len() - 1 && seen < total / 2 {
        seen += files[split].1.len();
        split += 1;
    }
    let (first, second) = files.split_at(split);
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("gotmpl-parse".into())
            .stack_size(RENDER_STACK_BYTES)
            .spawn_scoped(scope, || parse_run(second));
        let mut results = parse_run(first);
        match handle.map(|h| h.join()) {
            Ok(Ok(rest)) => results.extend(rest),
            // No thread (or it died): parse the rest here, which reports what went wrong.
            _ => results.extend(parse_run(second)),
        }
        results
    })
}

/// Helm's `reformatExecErrorMsg`: `fail`/`required` messages as
/// `execution error at (FILE:L:C): MSG`, executor errors as Helm's indented trace, function
/// errors as Go prints them.
fn exec_error(e: ExecError) -> RenderError {
    if let Some(msg) = e.own_message {
        return RenderError::Other(format!("execution error at ({}): {msg}", e.location));
    }
    match e.trace {
        Some(trace) => {
            let mut out = String::new();
            let mut last: Option<&[String; 3]> = None;
            for t in &trace {
                if last == Some(t) {
                    continue;
                }
                out.push_str(&format!("{}\n  {}\n    {}\n", t[0], t[1], t[2]));
                last = Some(t);
            }
            RenderError::Other(out.trim().to_string())
        }
        None => RenderError::Other(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartFile;
    use crate::render::ReleaseInfo;

    #[test]
    fn no_value_is_removed_everywhere_and_other_text_kept() {
        let cases = [
            ("a: 1\n", "a: 1\n"),
            ("<no value>", ""),
            ("x: <no value>\ny: <no value><no value>z", "x: \ny: z"),
            ("<no valu> <no value", "<no valu> <no value"),
        ];
        for (out, want) in cases {
            assert_eq!(without_no_value(out.to_string()), want, "{out:?}");
            assert_eq!(
                without_no_value(out.to_string()),
                out.replace("<no value>", "")
            );
        }
    }

    fn chart_with(template: &str) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = "j".into();
        c.metadata.version = "0.1.0".into();
        c.metadata.api_version = "v2".into();
        c.templates.push(ChartFile {
            name: "templates/t.yaml".into(),
            data: template.as_bytes().to_vec(),
        });
        c
    }

    fn render_one(template: &str) -> Result<String, String> {
        let options = RenderOptions {
            release: ReleaseInfo {
                name: "rel".into(),
                namespace: "ns".into(),
                revision: 1,
                is_install: true,
                is_upgrade: false,
            },
            capabilities: Capabilities::default(),
            env: None,
            lookup: None,
        };
        render(&chart_with(template), &serde_json::json!({}), &options)
            .map(|r| r.files["j/templates/t.yaml"].clone())
            .map_err(|e| e.to_string())
    }

    // Expected texts below are Helm 4.2.3's (rendered with helm_python).
    #[test]
    fn errors_read_like_helms() {
        let err = render_one(
            "{{ define \"x\" }}\n  {{ .Values.nope.deeper }}{{ end }}a: {{ include \"x\" . }}",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "j/templates/t.yaml:2:42\n  executing \"j/templates/t.yaml\" at <include \"x\" .>:\n    error calling include:\nj/templates/t.yaml:2:12\n  executing \"x\" at <.Values.nope.deeper>:\n    nil pointer evaluating interface {}.deeper"
        );
        let err =
            render_one("{{ template \"y\" . }}{{ define \"y\" }}{{ .a.b }}{{ end }}").unwrap_err();
        assert_eq!(
            err,
            "j/templates/t.yaml:1:41\n  executing \"y\" at <.a.b>:\n    nil pointer evaluating interface {}.b"
        );
        assert_eq!(
            render_one("{{ if }}").unwrap_err(),
            "parse error at (j/templates/t.yaml:1): missing value for if"
        );
        assert_eq!(
            render_one("x\n {{ fail \"boom\" }}").unwrap_err(),
            "execution error at (j/templates/t.yaml:2:4): boom"
        );
    }

    #[test]
    fn endless_include_recursion_is_an_error_not_a_crash() {
        let err =
            render_one("{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}")
                .unwrap_err();
        assert!(
            err.contains(
                "rendering template has a nested reference name: r: unable to execute template"
            ),
            "{}",
            &err[..200]
        );
    }

    #[test]
    fn endless_tpl_recursion_is_an_error_not_a_crash() {
        let err = render_one(
            "{{ tpl \"{{ tpl .Values.t . }}\" (dict \"Values\" (dict \"t\" \"{{ tpl .Values.t . }}\")) }}",
        )
        .unwrap_err();
        assert!(
            err.contains("error calling tpl: tpl calls nested more than 1000 deep"),
            "{}",
            &err[..err.len().min(300)]
        );
    }

    #[test]
    fn helm_objects_print_like_helm() {
        let out = render_one(
            "{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.HelmVersion }} {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Release.Name }} {{ .Release.Revision }} {{ .Chart.IsRoot }} {{ .Template.BasePath }} [{{ .Values.nope }}]",
        )
        .unwrap();
        assert_eq!(
            out,
            "v1.36.0 1 {v4.2   go1.26.6 v1.36} true rel 1 true j/templates []"
        );
    }

    /// Files big enough to parse on two threads: each defines "d" (so the last file's wins),
    /// an empty "e" (which never replaces a definition) and its own "f{i}".
    fn many_files(broken: &[usize]) -> Vec<(String, String)> {
        let pad = "text\n".repeat(PARALLEL_PARSE_BYTES / 5 / 4);
        (0..8)
            .map(|i| {
                let bad = if broken.contains(&i) { "{{ if }}" } else { "" };
                let e = if i == 0 { "first" } else { " " };
                (
                    format!("c/templates/f{i}.yaml"),
                    format!(
                        "{pad}{{{{ define \"d\" }}}}{i}{{{{ end }}}}{{{{ define \"e\" }}}}{e}{{{{ end }}}}\n{bad}{{{{ define \"f{i}\" }}}}{{{{ .x }}}}{{{{ end }}}}"
                    ),
                )
            })
            .collect()
    }

    fn as_refs(files: &[(String, String)]) -> Vec<(&str, &str)> {
        files
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str()))
            .collect()
    }

    #[test]
    fn parallel_parse_gives_the_sequential_trees_and_definitions() {
        let files = many_files(&[]);
        let refs = as_refs(&files);
        assert!(refs.iter().map(|(_, s)| s.len()).sum::<usize>() >= PARALLEL_PARSE_BYTES);
        let parallel = parse_files(&refs);
        let sequential: Vec<_> = refs
            .iter()
            .map(|(n, s)| parse_source(helm_registry(), n, s))
            .collect();
        assert_eq!(format!("{parallel:?}"), format!("{sequential:?}"));

        let mut set = TemplateSet::default();
        for ((name, src), parsed) in refs.iter().zip(parallel) {
            set.add_parsed(name, Rc::from(*src), parsed.unwrap());
        }
        let helm_funcs = HelmFuncs::new(None);
        let mut exec = Exec::new(&set, helm_registry(), Some(&helm_funcs));
        assert_eq!(exec.execute("d", Value::Nil).unwrap(), "7");
        assert_eq!(exec.execute("e", Value::Nil).unwrap(), "first");
        let f5 = set.get("f5").unwrap();
        assert_eq!(&*f5.file, "c/templates/f5.yaml");
    }

    #[test]
    fn parallel_parse_reports_the_first_error_in_order() {
        // One broken file in each half: the earlier one is the error, as when parsing in order.
        let files = many_files(&[1, 6]);
        let refs = as_refs(&files);
        let parallel = parse_files(&refs);
        let sequential: Vec<_> = refs
            .iter()
            .map(|(n, s)| parse_source(helm_registry(), n, s))
            .collect();
        assert_eq!(format!("{parallel:?}"), format!("{sequential:?}"));
        let first = parallel.into_iter().find_map(Result::err).unwrap();
        assert_eq!(
            first.to_string(),
            format!(
                "template: c/templates/f1.yaml:{}: missing value for if",
                PARALLEL_PARSE_BYTES / 5 / 4 + 2
            )
        );
    }

    #[test]
    fn helm_order_puts_subcharts_first_and_reverses_names() {
        let names = vec![
            "a/templates/b.yaml".to_string(),
            "a/templates/a.yaml".to_string(),
            "a/charts/s/templates/x.yaml".to_string(),
        ];
        assert_eq!(
            helm_order(names),
            vec![
                "a/charts/s/templates/x.yaml",
                "a/templates/b.yaml",
                "a/templates/a.yaml"
            ]
        );
    }
}
