//! Conformance of rudder's `--set` family and value composition with Helm 4's own code.
//!
//! The judge is Helm's Go SDK through Python (`helm_python`, Helm v4.2.3): its `strvals`
//! parsers, its `-f` reader and its `Chart.merge_values` (dependency processing + coalescing).
//! Every expression and combination below goes through both, in ONE Python process, and the
//! resulting JSON must be identical, numbers included: Helm's raw JSON is compared, so a
//! float64 that Go prints differently from an int64 (`9007199254740993` vs
//! `9007199254740992`, `1e+21`) counts as a difference.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rudder::values::strvals::{self, JsonNumbers, ValueMode};
use rudder::values::{compose, ValuesInputs};
use serde_json::{json, Map, Value};

/// Parse-only cases: (flag, expression). Helm charts' `--set-json` numbers are float64.
const PARSE_CASES: &[(&str, &str)] = &[
    // --set type inference
    ("set", "a=3"),
    ("set", "a=true,b=false,c=TRUE,d=False"),
    ("set", "a=1.5"),
    ("set", "a=0080"),
    ("set", "a=null,b=NULL,c=Null"),
    ("set", "a=-7,b=+7,c=-0,d=0,e=00"),
    ("set", "a=1e5,b=0x1F,c=1_000"),
    ("set", "a=9223372036854775807,b=9223372036854775808,c=-9223372036854775808"),
    ("set", "a=falſe"),
    ("set", "a= 5,b=5 ,c= true"),
    ("set", "image.tag=20261126153000"),
    // keys, escapes, nesting
    ("set", "a.b.c=d,a.b.e=f,a.x=y"),
    (r"set", r"a\.b=c,d=e\,f,g=h\\i"),
    ("set", r"nodeSelector.kubernetes\.io/role=master"),
    ("set", "name=x=y,other=a=b=c"),
    ("set", "é.ü=ß,emoji=😀"),
    ("set", "a.b=1,a=2"),
    ("set", "=x,.a=1"),
    // lists
    ("set", "a={1,2,three,true,null}"),
    ("set", "a={},b={,}"),
    ("set", "a={a,b},c=d"),
    ("set", r"list={a\,b,c\}d}"),
    ("set", "a={1,2}x"),
    ("set", "a={1,2"),
    ("set", "a[0]=x,a[2]=z"),
    ("set", "a[1].b=c,a[0].d=e"),
    ("set", "a[0].b=1,a[0].c=2"),
    ("set", "a[0][1]=q,a[0][0]=p"),
    ("set", "a[2].b[1].c=deep"),
    ("set", "a[1]=1,a[0].b=2"),
    ("set", "a[+1]=x"),
    // early ends and malformed input
    ("set", "a[0]"),
    ("set", "a."),
    ("set", "a[1"),
    ("set", "a="),
    ("set", "a=,b="),
    ("set", "a"),
    ("set", "a,b=1"),
    ("set", "a=1,b"),
    ("set", "a[x]=1"),
    ("set", "a[-1]=1"),
    ("set", "a[70000]=1"),
    ("set", "a[0]b=1"),
    ("set", "a.b=1,a.b.c=2"),
    ("set", "a=1,a.b=2"),
    ("set", "a[0]=1,a.b=2"),
    ("set", "a.b=1,a[0]=2"),
    (
        "set",
        "k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23.k24.k25.k26.k27.k28.k29.k30=1",
    ),
    (
        "set",
        "k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23.k24.k25.k26.k27.k28.k29.k30.k31=1",
    ),
    // --set-string
    ("set-string", "a=3,b=true,c=null,d=1.5"),
    ("set-string", "a={1,2},b[1]=007"),
    ("set-string", r"a.b=,c\.d=e\,f"),
    ("set-string", "a,b"),
    // --set-json
    ("set-json", r#"a={"b":[1,2,{"c":null}]}"#),
    ("set-json", "a=1,b=1.0,c=-2.5"),
    ("set-json", "a=9007199254740993"),
    ("set-json", "a=1e21,b=1e-7,c=0.000001,d=123456789012345678"),
    ("set-json", r#"a="s",b=[true,null],c=false"#),
    ("set-json", "a=,b=  ,c=null"),
    ("set-json", "a=1 b=2"),
    ("set-json", r#"a= "spaced" ,b=2"#),
    ("set-json", "a=01"),
    ("set-json", "a=1x"),
    ("set-json", "a=tru"),
    ("set-json", "a={"),
    ("set-json", "a=1."),
    ("set-json", r#"a[1]={"x":1},a[0]=true"#),
    ("set-json", r#"a.b.c="x\"y\u00e9""#),
    ("set-json", "a=[1,[2,[3]]]"),
    ("set-json", "a"),
    // --set-literal
    ("set-literal", "a=b,c=d"),
    ("set-literal", r"a\.b=c"),
    ("set-literal", "a.b=x=y,{1,2}"),
    ("set-literal", "a[1]=v"),
    ("set-literal", "a[0].b[1]=w"),
    ("set-literal", "a"),
    ("set-literal", "a[x]=1"),
    ("set-literal", "a.=1"),
    ("set-literal", "a="),
];

/// The Python side: Helm's parsers, `-f` reader, MergeValues order and `merge_values`.
const JUDGE: &str = r#"
import json, sys
from helm_python import _native, Chart

FN = {"set": "helm_strvals_parse", "set-string": "helm_strvals_parse_string",
      "set-json": "helm_strvals_parse_json", "set-literal": "helm_strvals_parse_literal",
      "set-file": "helm_strvals_parse_file"}
# Helm 4 pkg/cli/values/options.go MergeValues: files, then --set-json, --set, --set-string,
# --set-file, --set-literal. rudder's env overlay sits below the files.
ORDER = ["env", "file", "set-json", "set", "set-string", "set-file", "set-literal"]

def call(fn, *args):
    try:
        return {"ok": _native.call_string(fn, *args)}
    except Exception as e:
        return {"err": str(e)}

def merge_maps(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_maps(out[k], v)
        else:
            out[k] = v
    return out

def user_values(layers):
    base = {}
    for kind in ORDER:
        for layer in layers:
            if layer["kind"] != kind:
                continue
            if kind in ("env", "file"):
                r = call("helm_values_from_yaml", open(layer["path"]).read())
            elif kind == "set-json" and layer["expr"].strip().startswith("{"):
                r = call("helm_values_from_yaml", layer["expr"].strip())
            else:
                r = call(FN[kind], layer["expr"])
            if "err" in r:
                return None, r["err"]
            base = merge_maps(base, json.loads(r["ok"]))
    return base, None

req = json.load(sys.stdin)
out = {"parse": [call(FN[c["kind"]], c["expr"]) for c in req["parse"]], "merge": []}
charts = {}
for m in req["merge"]:
    user, err = user_values(m["layers"])
    if err is not None:
        out["merge"].append({"err": err})
        continue
    chart = Chart.load(m["chart"])
    try:
        # What templates see as .Values after Helm's dependency processing and coalescing,
        # dumped by the template the test adds to every chart.
        rendered = chart.render(user, name="rel", namespace="default", is_install=True)
        dumps = [v for k, v in rendered.items()
                 if k.endswith("/9/values-dump.json") and "/charts/" not in k]
        out["merge"].append({"ok": dumps[0]} if len(dumps) == 1 else {"err": "no values dump"})
    except Exception as e:
        out["merge"].append({"err": str(e)})
    chart.close()
print(json.dumps(out))
"#;

#[derive(Clone)]
struct Layer {
    kind: &'static str,
    /// Expression, or file path for `env`/`file`.
    text: String,
}

struct MergeCase {
    name: String,
    chart: PathBuf,
    layers: Vec<Layer>,
}

/// Helm's result per case: its JSON value, or its error message.
type Verdicts = Vec<Result<Value, String>>;

/// Runs every case through Helm in one Python process.
fn judge(parse: &[(&str, &str)], merge: &[MergeCase]) -> (Verdicts, Verdicts) {
    let request = json!({
        "parse": parse.iter().map(|(k, e)| json!({"kind": k, "expr": e})).collect::<Vec<_>>(),
        "merge": merge.iter().map(|m| json!({
            "chart": m.chart,
            "layers": m.layers.iter().map(|l| match l.kind {
                "env" | "file" => json!({"kind": l.kind, "path": l.text}),
                _ => json!({"kind": l.kind, "expr": l.text}),
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(common::python())
        .args(["-c", JUDGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python judge (run `make test-deps`)");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the request to the judge");
    let out = child.wait_with_output().expect("wait for the judge");
    assert!(
        out.status.success(),
        "the Helm judge failed (run `make test-deps` if helm_python is missing):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).expect("judge output is JSON");
    let decode = |items: &Value| -> Verdicts {
        items
            .as_array()
            .expect("a list of results")
            .iter()
            .map(|r| match (r.get("ok"), r.get("err")) {
                (Some(Value::String(raw)), _) => {
                    Ok(serde_json::from_str(raw).expect("Helm's JSON output parses"))
                }
                (_, Some(err)) => Err(err.as_str().unwrap_or_default().to_string()),
                _ => panic!("unexpected judge result {r}"),
            })
            .collect()
    };
    (decode(&response["parse"]), decode(&response["merge"]))
}

/// A value as Go's `encoding/json` would print it, read back: float64s print without `.0` and
/// switch to exponent form outside [1e-6, 1e21), so the comparison sees what Helm would emit.
fn as_go_json(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            let abs = f.abs();
            let text = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
                format!("{f:e}")
            } else {
                format!("{f}")
            };
            serde_json::from_str(&text).expect("a formatted float parses")
        }
        Value::Array(items) => Value::Array(items.iter().map(as_go_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), as_go_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn rudder_parse(kind: &str, expr: &str) -> Result<Value, String> {
    let mut map = Map::new();
    let mode = match kind {
        "set" => ValueMode::Typed,
        "set-string" => ValueMode::String,
        "set-json" => ValueMode::Json(JsonNumbers::Float64),
        "set-literal" => ValueMode::Literal,
        other => panic!("unknown flag {other}"),
    };
    strvals::parse_into(expr, &mut map, mode)
        .map(|()| Value::Object(map))
        .map_err(|e| e.to_string())
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write a fixture file");
    }
}

/// The template added to every judged chart: Helm renders the final `.Values` as JSON.
/// It sits deeper than any other template so that Helm renders it first, before templates that
/// write into `.Values` (Bitnami's password helpers do) have run.
const DUMP_TEMPLATE: (&str, &str) = (
    "templates/0/1/2/3/4/5/6/7/8/9/values-dump.json",
    "{{ toJson .Values }}",
);

/// Copies a chart directory (following symbolic links, as the loader does) and adds the
/// values dump template.
fn copy_chart_with_dump(from: &Path, to: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read a corpus chart") {
            let entry = entry.expect("a directory entry");
            let target = to.join(entry.file_name());
            if std::fs::metadata(entry.path()).expect("stat").is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy a chart file");
            }
        }
    }
    copy(from, to);
    write(to, &[DUMP_TEMPLATE]);
}

/// A Helm chart (Go templates, so Helm's number types) with subcharts, tags, conditions,
/// aliases, import-values, globals and nulls.
fn fixture_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("shop");
    write(
        &chart,
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: shop\nversion: 1.2.3\ndependencies:\n\
                 - name: db\n  version: 1.x\n  condition: db.enabled\n  tags: [backend]\n  \
                 import-values:\n  - dbinfo\n  - child: conf\n    parent: imported.dbconf\n\
                 - name: cache\n  version: \">=0.1.0\"\n  alias: redis\n  condition: redis.enabled,redis.on\n  tags: [backend]\n\
                 - name: cache\n  version: ~0.1\n  alias: memcached\n  tags: [frontend]\n",
            ),
            (
                "values.yaml",
                "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"1.25\"\n  pullPolicy: IfNotPresent\n\
                 resources:\n  limits: {cpu: 100m, memory: 128Mi}\nlist: [1, 2, 3]\nnullable: ~\nkeepme: k\n\
                 ratio: 0.5\nbig: 123456789\nglobal:\n  region: eu\n  labels: {team: a}\n\
                 tags:\n  backend: true\ndb:\n  port: 5432\n  enabled: true\nimported:\n  dbconf:\n    mine: 1\n",
            ),
            ("templates/cm.yaml", "kind: ConfigMap\n"),
            (DUMP_TEMPLATE.0, DUMP_TEMPLATE.1),
            ("values/prod.yaml", "replicaCount: 3\nimage:\n  tag: prod\nglobal:\n  region: us\n"),
            ("charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.4.0\n"),
            (
                "charts/db/values.yaml",
                "port: 1\nuser: admin\nglobal:\n  labels: {tier: db}\nexports:\n  dbinfo:\n    dbHost: db.local\n    dbPort: 5432\n\
                 conf:\n  maxConn: 100\n  mine: 2\nnested:\n  drop: ~\n  keep: 1\n",
            ),
            ("charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 0.1.5\n"),
            (
                "charts/cache/values.yaml",
                "enabled: false\nsize: 64\nglobal:\n  region: cache-default\n",
            ),
        ],
    );
    chart
}

fn merge_cases(dir: &Path) -> Vec<MergeCase> {
    let chart = fixture_chart(dir);
    write(
        dir,
        &[
            (
                "a.yaml",
                "image:\n  tag: \"2.0\"\nlist: [9]\nreplicaCount: 3\nfrom: a\n",
            ),
            ("b.yaml", "from: b\nimage:\n  pullPolicy: Always\n"),
            (
                "nulls.yaml",
                "keepme: null\nimage:\n  pullPolicy: null\nnewnull: null\ndb:\n  user: null\n",
            ),
            (
                "sub.yaml",
                "db:\n  nested:\n    keep: null\n  global:\n    labels: {tier: user}\n",
            ),
            ("cert.pem", "-----BEGIN CERT-----\nabc\n"),
        ],
    );
    let f = |name: &str| dir.join(name).display().to_string();
    let layer = |kind: &'static str, text: &str| Layer {
        kind,
        text: text.to_string(),
    };
    let env = Layer {
        kind: "env",
        text: chart.join("values/prod.yaml").display().to_string(),
    };
    let combos: Vec<(&str, Vec<Layer>)> = vec![
        ("defaults", vec![]),
        ("one file", vec![layer("file", &f("a.yaml"))]),
        (
            "files in order",
            vec![layer("file", &f("a.yaml")), layer("file", &f("b.yaml"))],
        ),
        (
            "files reversed",
            vec![layer("file", &f("b.yaml")), layer("file", &f("a.yaml"))],
        ),
        (
            "nulls delete defaults",
            vec![layer("file", &f("nulls.yaml"))],
        ),
        (
            "subchart nulls and globals",
            vec![layer("file", &f("sub.yaml"))],
        ),
        (
            "set null deletes",
            vec![layer("set", "image.tag=null,resources=null")],
        ),
        (
            "disable by condition",
            vec![layer("set", "db.enabled=false")],
        ),
        (
            "tags lose to conditions",
            vec![layer("set", "tags.backend=false")],
        ),
        (
            "enable alias by second condition",
            vec![layer("set", "redis.on=true,tags.frontend=false")],
        ),
        (
            "condition not boolean",
            vec![layer("set", "db.enabled=yes")],
        ),
        (
            "globals from set-json and set",
            vec![
                layer("set-json", r#"global={"labels":{"team":"b"}}"#),
                layer("set", "global.extra=1"),
            ],
        ),
        (
            "set-string beats set",
            vec![
                layer("set-string", "replicaCount=5"),
                layer("set", "replicaCount=4"),
            ],
        ),
        (
            "literal beats set",
            vec![
                layer("set-literal", "image.tag=a,b"),
                layer("set", "image.tag=x"),
            ],
        ),
        (
            "set beats set-json",
            vec![layer("set", "big=7"), layer("set-json", "big=8.5")],
        ),
        (
            "json object form",
            vec![
                layer("set-json", r#"{"db": {"port": 1234}, "ratio": 2}"#),
                layer("set", "db.user=root"),
            ],
        ),
        (
            "set over files",
            vec![
                layer("file", &f("a.yaml")),
                layer("set", "list={7,8},image.repository=custom"),
            ],
        ),
        ("list index replaces list", vec![layer("set", "list[1]=x")]),
        (
            "subchart values and exports",
            vec![layer("set", "db.port=6000,dbHost=override")],
        ),
        ("type mismatch on subchart", vec![layer("set", "db=3")]),
        (
            "set-file",
            vec![
                layer("set-file", &format!("cert={}", f("cert.pem"))),
                layer("set", "cert=x"),
            ],
        ),
        (
            "env overlay under files and sets",
            vec![
                env.clone(),
                layer("file", &f("b.yaml")),
                layer("set", "image.tag=cli"),
            ],
        ),
        ("env overlay alone", vec![env]),
        (
            "global region override",
            vec![layer("set", "global.region=ap,redis.enabled=true")],
        ),
        (
            "numbers",
            vec![
                layer("set", "ratio=3,big=20261126153000"),
                layer("set-json", "nums=[1,2.5,1e3]"),
            ],
        ),
        ("malformed set", vec![layer("set", "a=1,b")]),
    ];
    let mut cases: Vec<MergeCase> = combos
        .into_iter()
        .map(|(name, layers)| MergeCase {
            name: name.to_string(),
            chart: chart.clone(),
            layers,
        })
        .collect();
    // Every case of the shared corpus of real charts: the chart's defaults under its values file.
    let corpus = Path::new("/work/shared/corpus");
    let corpus = std::env::var_os("RUDDER_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus.to_path_buf());
    if let Ok(entries) = std::fs::read_dir(corpus.join("cases")) {
        let mut charts: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        charts.sort();
        for chart_cases in charts {
            let name = chart_cases
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let mut each: Vec<_> = std::fs::read_dir(&chart_cases)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            each.sort();
            for case in each {
                let values = case.join("values.yaml");
                if !values.exists() {
                    continue;
                }
                let copy = dir.join("corpus").join(&name);
                if !copy.exists() {
                    copy_chart_with_dump(&corpus.join("charts").join(&name), &copy);
                }
                cases.push(MergeCase {
                    name: format!(
                        "corpus {name}/{}",
                        case.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    chart: copy,
                    layers: vec![Layer {
                        kind: "file",
                        text: values.display().to_string(),
                    }],
                });
            }
        }
    }
    cases
}

/// Where two values differ, as `.path: rudder X, helm Y` lines (at most 20).
fn diff_paths(ours: &Value, helm: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= 20 || ours == helm {
        return;
    }
    match (ours, helm) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff_paths(x, y, &child, out),
                    (x, y) => out.push(format!("{child}: rudder {x:?}, helm {y:?}")),
                }
            }
        }
        _ => out.push(format!("{path}: rudder {ours}, helm {helm}")),
    }
}

fn rudder_compose(case: &MergeCase) -> Result<Value, String> {
    let chart = rudder::chart::load(&case.chart).map_err(|e| e.to_string())?;
    let mut inputs = ValuesInputs::default();
    for layer in &case.layers {
        match layer.kind {
            "env" => inputs.env = Some("prod".to_string()),
            "file" => inputs.files.push(PathBuf::from(&layer.text)),
            "set" => inputs.set.push(layer.text.clone()),
            "set-string" => inputs.set_string.push(layer.text.clone()),
            "set-json" => inputs.set_json.push(layer.text.clone()),
            "set-file" => inputs.set_file.push(layer.text.clone()),
            "set-literal" => inputs.set_literal.push(layer.text.clone()),
            other => panic!("unknown layer {other}"),
        }
    }
    compose(&chart, &inputs)
        .map(|c| c.values)
        .map_err(|e| e.to_string())
}

#[test]
fn set_family_and_composition_match_helm() {
    assert!(PARSE_CASES.len() >= 50);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let merges = merge_cases(dir.path());
    let (helm_parse, helm_merge) = judge(PARSE_CASES, &merges);

    let mut failures = Vec::new();
    for ((kind, expr), helm) in PARSE_CASES.iter().zip(&helm_parse) {
        let ours = rudder_parse(kind, expr).map(|v| as_go_json(&v));
        match (&ours, helm) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(_), Err(_)) => {}
            _ => failures.push(format!(
                "--{kind} {expr:?}\n  rudder: {ours:?}\n  helm:   {helm:?}"
            )),
        }
    }
    let mut corpus_cases = 0;
    let mut unjudged = Vec::new();
    for (case, helm) in merges.iter().zip(&helm_merge) {
        corpus_cases += usize::from(case.name.starts_with("corpus "));
        let ours = rudder_compose(case).map(|v| as_go_json(&v));
        match (&ours, helm) {
            (Ok(a), Ok(b)) if a == b => {}
            // A template of the chart itself failed (e.g. `required`): Helm rendered nothing, so
            // there are no values to compare. Counted and bounded below.
            (Ok(_), Err(e)) if e.contains("execution error at (") => {
                unjudged.push(case.name.clone())
            }
            (Err(_), Err(_)) => {}
            (Ok(a), Ok(b)) => {
                let mut diffs = Vec::new();
                diff_paths(a, b, "", &mut diffs);
                failures.push(format!(
                    "merge {:?}: values differ at\n    {}",
                    case.name,
                    diffs.join("\n    ")
                ))
            }
            _ => failures.push(format!(
                "merge {:?}\n  rudder: {ours:?}\n  helm:   {helm:?}",
                case.name
            )),
        }
    }
    assert!(
        unjudged.len() <= 2,
        "too many cases Helm could not render: {unjudged:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Helm ({} corpus cases):\n{}",
        failures.len(),
        PARSE_CASES.len() + merges.len(),
        corpus_cases,
        failures.join("\n")
    );
}

#[test]
fn malformed_expressions_fail_in_both_with_position_in_ours() {
    // Our errors must also say where; Helm's say what. Both must refuse.
    let cases = [
        ("set", "a=1,b"),
        ("set", "a[x]=1"),
        ("set-json", "a={"),
        ("set-literal", "a"),
    ];
    let (helm, _) = judge(&cases, &[]);
    for ((kind, expr), helm) in cases.iter().zip(helm) {
        let ours = rudder_parse(kind, expr);
        let (Err(ours), Err(_)) = (&ours, &helm) else {
            panic!("--{kind} {expr:?}: rudder {ours:?}, helm {helm:?}");
        };
        assert!(ours.contains("(at column "), "{ours}");
    }
}
