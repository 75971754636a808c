//! Broken charts: Chart.yaml, requirements and dependencies, Go templates and Tera templates.

use super::fixtures::{default_values, go_chart, tera_chart, SECRET};
use super::harness::Probe;

/// Chart.yaml texts that are wrong in one way each.
fn chart_yamls() -> Vec<(String, Vec<u8>)> {
    let long = "n".repeat(300);
    let mut all: Vec<(String, Vec<u8>)> = [
        ("empty", String::new()),
        ("not-a-map", "- a\n- b\n".to_string()),
        ("scalar", "chart\n".to_string()),
        ("bad-yaml", "apiVersion: v2\nname: [c\n".to_string()),
        ("no-name", "apiVersion: v2\nversion: 0.1.0\n".to_string()),
        ("no-version", "apiVersion: v2\nname: c\n".to_string()),
        ("no-api-version", "name: c\nversion: 0.1.0\n".to_string()),
        ("api-v3", "apiVersion: v3\nname: c\nversion: 0.1.0\n".to_string()),
        ("bad-semver", "apiVersion: v2\nname: c\nversion: abc\n".to_string()),
        ("int-version", "apiVersion: v2\nname: c\nversion: 1\n".to_string()),
        ("huge-version", "apiVersion: v2\nname: c\nversion: 99999999999999999999999.0.0\n".to_string()),
        ("name-slash", "apiVersion: v2\nname: a/b\nversion: 0.1.0\n".to_string()),
        ("name-dotdot", "apiVersion: v2\nname: ..\nversion: 0.1.0\n".to_string()),
        ("name-abs", "apiVersion: v2\nname: /etc\nversion: 0.1.0\n".to_string()),
        ("name-empty", "apiVersion: v2\nname: ''\nversion: 0.1.0\n".to_string()),
        ("name-long", format!("apiVersion: v2\nname: {long}\nversion: 0.1.0\n")),
        ("name-unicode", "apiVersion: v2\nname: чарт\nversion: 0.1.0\n".to_string()),
        ("name-map", "apiVersion: v2\nname: {a: 1}\nversion: 0.1.0\n".to_string()),
        ("type-library", "apiVersion: v2\nname: c\nversion: 0.1.0\ntype: library\n".to_string()),
        ("type-bogus", "apiVersion: v2\nname: c\nversion: 0.1.0\ntype: bogus\n".to_string()),
        ("engine-bogus", "apiVersion: v2\nname: c\nversion: 0.1.0\nengine: bogus\n".to_string()),
        ("engine-tera-on-go", "apiVersion: v2\nname: c\nversion: 0.1.0\nengine: tera\n".to_string()),
        ("kube-version-bad", "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '>>1'\n".to_string()),
        ("kube-version-unmet", "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '<1.0.0'\n".to_string()),
        ("deps-not-list", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies: 5\n".to_string()),
        ("dep-no-name", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- version: 1.0.0\n".to_string()),
        ("dep-missing", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  repository: https://127.0.0.1:1/x\n".to_string()),
        ("dep-file-escape", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  repository: file://../../../..\n".to_string()),
        ("dep-alias-slash", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  alias: ../../x\n  version: 0.1.0\n  repository: file://../sub\n".to_string()),
        ("dep-name-dotdot", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: ../../x\n  version: 0.1.0\n  repository: file://../sub\n".to_string()),
        ("dep-bad-constraint", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: '>>>1'\n  repository: file://../sub\n".to_string()),
        ("dep-condition-map", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\n  condition: {a: 1}\n".to_string()),
        ("dep-self", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: c\n  version: 0.1.0\n  repository: file://.\n".to_string()),
        ("dep-import-values-bad", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\n  import-values: [{child: 5}]\n".to_string()),
        ("dup-key", "apiVersion: v2\nname: c\nname: d\nversion: 0.1.0\n".to_string()),
        ("deep", format!("apiVersion: v2\nname: c\nversion: 0.1.0\nannotations: {}1{}\n", "[".repeat(50_000), "]".repeat(50_000))),
        ("huge", format!("apiVersion: v2\nname: c\nversion: 0.1.0\ndescription: \"{}\"\n", "d".repeat(6 * 1024 * 1024))),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.into_bytes()))
    .collect();
    all.push((
        "invalid-utf8".to_string(),
        b"apiVersion: v2\nname: c\xff\nversion: 0.1.0\n".to_vec(),
    ));
    all
}

fn sub_chart() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "sub/Chart.yaml".to_string(),
            b"apiVersion: v2\nname: sub\nversion: 0.1.0\n".to_vec(),
        ),
        ("sub/values.yaml".to_string(), b"s: 1\n".to_vec()),
    ]
}

/// Chart metadata probes over template, lint, show, package and dependency commands.
pub fn chart_probes() -> Vec<Probe> {
    let mut probes = Vec::new();
    for (name, chart_yaml) in chart_yamls() {
        let mut files = go_chart(&default_values(), &[]);
        files.retain(|(p, _)| p != "c/Chart.yaml");
        files.extend(sub_chart());
        files.push(("c/Chart.yaml".to_string(), chart_yaml));
        for (verb, args) in [
            ("template", vec!["template", "r", "c"]),
            ("lint", vec!["lint", "c"]),
            ("show", vec!["show", "chart", "c"]),
            ("package", vec!["package", "c", "-d", "out"]),
            ("dep-update", vec!["dependency", "update", "c"]),
            ("dep-build", vec!["dependency", "build", "c"]),
        ] {
            let mut probe = Probe::new(format!("chart/{name}/{verb}"), &args)
                .files(&files)
                .stderr_secret(SECRET);
            if verb.starts_with("dep") {
                probe = probe
                    .writes_to("c/charts")
                    .writes_to("c/Chart.lock")
                    .writes_to("c/tmpcharts");
            }
            if verb == "lint" {
                probe = probe.reports_on_stdout();
            }
            probes.push(probe);
        }
    }
    // Helm v1 charts keep dependencies in requirements.yaml; break it and Chart.lock.
    for (name, file, text) in [
        ("requirements-bad-yaml", "c/requirements.yaml", "dependencies: [\n"),
        ("requirements-not-list", "c/requirements.yaml", "dependencies: x\n"),
        ("requirements-escape", "c/requirements.yaml", "dependencies:\n- name: ../../x\n  version: 0.1.0\n  repository: file://../sub\n"),
        ("lock-bad-yaml", "c/Chart.lock", "dependencies: [\n"),
        ("lock-wrong-digest", "c/Chart.lock", "dependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://../sub\ndigest: sha256:00\ngenerated: x\n"),
        ("subchart-dir-broken", "c/charts/s2/Chart.yaml", "name: [\n"),
        ("subchart-tgz-garbage", "c/charts/s3-0.1.0.tgz", "not gzip at all"),
        ("schema-bad-json", "c/values.schema.json", "{\"type\": \n"),
        ("schema-bad-type", "c/values.schema.json", "{\"type\": \"nonsense\"}"),
        ("schema-bad-ref", "c/values.schema.json", "{\"$ref\": \"http://127.0.0.1:1/x.json\"}"),
        ("schema-self-ref", "c/values.schema.json", "{\"$ref\": \"#\"}"),
        ("schema-bad-regex", "c/values.schema.json", "{\"properties\": {\"a\": {\"pattern\": \"(\"}}}"),
        ("helmignore-weird", "c/.helmignore", "[\n**/***\n!\n\\\n"),
    ] {
        let mut chart = go_chart(&default_values(), &[]);
        chart.extend(sub_chart());
        let old = "apiVersion: v1\nname: c\nversion: 0.1.0\n";
        if name.starts_with("requirements") {
            chart.retain(|(p, _)| p != "c/Chart.yaml");
            chart.push(("c/Chart.yaml".to_string(), old.as_bytes().to_vec()));
        }
        for (verb, args) in [
            ("template", vec!["template", "r", "c"]),
            ("lint", vec!["lint", "c"]),
            ("package", vec!["package", "c", "-d", "out"]),
            ("dep-build", vec!["dependency", "build", "c"]),
        ] {
            let mut probe = Probe::new(format!("chart/{name}/{verb}"), &args)
                .files(&chart)
                .file(file, text)
                .stderr_secret(SECRET);
            if verb == "dep-build" {
                probe = probe
                    .writes_to("c/charts")
                    .writes_to("c/Chart.lock")
                    .writes_to("c/requirements.lock");
            }
            if verb == "lint" {
                probe = probe.reports_on_stdout();
            }
            probes.push(probe);
        }
    }
    // `create NAME` writes where NAME points: that folder is its target, and only that.
    let long = "x".repeat(300);
    for name in [
        "",
        ".",
        "..",
        "../escape",
        "{root}/abs-chart",
        "UPPER",
        &long,
        "a\nb",
        "-dash",
        "out/..",
    ] {
        let shown: String = name.chars().take(20).collect();
        probes.push(Probe::new(format!("create/{shown:?}"), &["create", name]).writes_to(name));
    }
    probes
}

/// Go template failures; each must be an error naming the template (or render fine).
fn go_templates() -> Vec<(&'static str, String, bool)> {
    let t = |s: &str| s.to_string();
    vec![
        ("unclosed-action", t("a: {{ .Values.a\n"), true),
        ("empty-action", t("a: {{ }}\n"), true),
        ("stray-end", t("{{ end }}\n"), true),
        ("if-no-arg", t("{{ if }}x{{ end }}\n"), true),
        ("unclosed-if", t("{{ if .Values.a }}x\n"), true),
        ("else-alone", t("{{ else }}\n"), true),
        ("nil-deref", t("a: {{ .Values.missing.deeper.deepest }}\n"), true),
        ("field-on-int", t("a: {{ .Values.a.b }}\n"), true),
        ("undefined-func", t("a: {{ nosuchfunc }}\n"), true),
        ("undefined-func-pipe", t("a: {{ .Values.a | nosuchfunc }}\n"), true),
        ("empty-pipe", t("a: {{ 1 | }}\n"), true),
        ("fail", t("{{ fail \"probe says no\" }}\n"), true),
        ("required", t("a: {{ required \"x is required\" .Values.x }}\n"), true),
        ("div-zero", t("a: {{ div 1 0 }}\n"), true),
        ("mod-zero", t("a: {{ mod 1 0 }}\n"), true),
        ("divf-zero", t("a: {{ divf 1 0 }}\n"), false),
        ("index-out-of-range", t("a: {{ index .Values.list 99 }}\n"), true),
        ("index-negative", t("a: {{ index .Values.list -1 }}\n"), true),
        ("index-on-int", t("a: {{ index .Values.a \"x\" }}\n"), true),
        ("slice-reversed", t("a: {{ slice .Values.list 2 1 }}\n"), true),
        ("template-missing", t("{{ template \"nope\" . }}\n"), true),
        ("include-missing", t("{{ include \"nope\" . }}\n"), true),
        ("include-self", t("{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ include \"loop\" . }}\n"), true),
        ("template-self", t("{{ define \"loop\" }}{{ template \"loop\" . }}{{ end }}{{ template \"loop\" . }}\n"), true),
        ("tpl-self", t("{{ tpl \"{{ tpl .Values.t . }}\" (dict \"Values\" (dict \"t\" \"{{ tpl .Values.t . }}\")) }}\n"), true),
        ("from-yaml-bad", t("a: {{ fromYaml \"a: [\" | toJson }}\n"), false),
        ("from-json-bad", t("a: {{ fromJson \"{\" | toJson }}\n"), false),
        ("until-huge", t("{{ range until 100000000 }}x{{ end }}\n"), true),
        ("repeat-huge", t("a: {{ repeat 2000000000 \"x\" }}\n"), true),
        ("nested-range-huge", t("{{ range until 100000 }}{{ range until 100000 }}xx{{ end }}{{ end }}\n"), true),
        ("printf-bad-verb", t("a: {{ printf \"%!\" }}\n"), false),
        ("b64dec-bad", t("a: {{ b64dec \"!!!\" }}\n"), false),
        ("semver-bad", t("a: {{ semverCompare \">>1\" \"1.0.0\" }}\n"), true),
        ("regex-bad", t("a: {{ regexMatch \"(\" \"x\" }}\n"), true),
        ("indent-negative", t("a: {{ \"x\" | indent -5 }}\n"), false),
        ("trunc-negative", t("a: {{ trunc -1 \"abc\" }}\n"), false),
        ("substr-reversed", t("a: {{ substr 5 1 \"abc\" }}\n"), false),
        ("atoi-bad", t("a: {{ atoi \"x\" }}\n"), false),
        ("int-overflow", t("a: {{ int \"99999999999999999999999\" }}\n"), false),
        ("files-escape", t("a: {{ .Files.Get \"../../../../etc/passwd\" | quote }}\n"), false),
        ("files-glob-all", t("a: {{ .Files.Glob \"**\" | len }}\n"), false),
        ("lookup-offline", t("a: {{ lookup \"v1\" \"Secret\" \"\" \"\" | len }}\n"), false),
        ("gen-key-bogus", t("a: {{ genPrivateKey \"bogus\" | quote }}\n"), false),
        ("var-no-value", t("{{ $x := }}\n"), true),
        ("var-undefined", t("a: {{ $undefined }}\n"), true),
        ("break-outside", t("{{ break }}\n"), true),
        ("comment-unclosed", t("{{/* never closed\n"), true),
        ("invalid-utf8", String::from_utf8_lossy(b"a: \xff").into_owned(), false),
        ("output-bad-yaml", t("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"), true),
        ("output-dup-key", t("apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: x\n"), false),
        ("output-no-kind", t("apiVersion: v1\nmetadata:\n  name: x\n"), true),
        ("output-list", t("- a\n- b\n"), true),
        ("to-yaml-values-deep", t("a: {{ toYaml .Values | quote }}\n"), false),
        ("dict-odd-args", t("a: {{ dict \"a\" | toJson }}\n"), true),
        ("call-non-func", t("a: {{ call .Values.a }}\n"), true),
        ("and-empty", t("a: {{ and }}\n"), true),
        ("len-int", t("a: {{ len 5 }}\n"), true),
        ("range-int", t("{{ range $i := 3 }}{{ $i }}{{ end }}\n"), false),
        ("password-in-error", t("a: {{ .Values.password.nope }}\n"), true),
        ("password-required", t("a: {{ required \"pw too short\" (eq (len .Values.password) 99 | ternary .Values.password \"\") }}\n"), true),
    ]
}

/// Tera template failures.
fn tera_templates() -> Vec<(&'static str, String, bool)> {
    let t = |s: &str| s.to_string();
    vec![
        ("unclosed-expr", t("a: {{ Values.a\n"), true),
        ("unclosed-if", t("{% if Values.a %}x\n"), true),
        ("if-no-cond", t("{% if %}x{% endif %}\n"), true),
        ("stray-endfor", t("{% endfor %}\n"), true),
        ("div-zero", t("a: \"{{ 1 / 0 }}\"\n"), true),
        ("mod-zero", t("a: \"{{ 1 % 0 }}\"\n"), true),
        ("undefined-var", t("a: \"{{ nope }}\"\n"), true),
        ("undefined-filter", t("a: \"{{ Values.a | nosuchfilter }}\"\n"), true),
        ("undefined-function", t("a: \"{{ nosuchfn() }}\"\n"), true),
        ("nil-deref", t("a: \"{{ Values.missing.deeper }}\"\n"), true),
        ("index-out-of-range", t("a: \"{{ Values.list[99] }}\"\n"), true),
        ("throw", t("{{ throw(message=\"probe says no\") }}\n"), true),
        ("required", t("a: \"{{ Values.x | required(message=\"x is required\") }}\"\n"), true),
        ("import-missing", t("{% import \"nope.tera\" as m %}\n"), true),
        ("include-missing", t("{% include \"nope.tera\" %}\n"), true),
        ("extends-missing", t("{% extends \"nope.tera\" %}\n"), true),
        ("include-self", t("{% include \"loop.yaml\" %}\n"), true),
        ("macro-self", t("{% macro m() %}{{ self::m() }}{% endmacro m %}{{ self::m() }}\n"), true),
        ("range-huge", t("{% for i in range(end=100000000) %}xx{% endfor %}\n"), true),
        ("nested-range-huge", t("{% for i in range(end=100000) %}{% for j in range(end=100000) %}xx{% endfor %}{% endfor %}\n"), true),
        ("for-over-int", t("{% for x in Values.a %}{{ x }}{% endfor %}\n"), true),
        ("set-no-value", t("{% set x = %}\n"), true),
        ("bad-string", t("a: \"{{ \"unterminated }}\"\n"), true),
        ("to-yaml-values", t("a: {{ Values | to_json }}\n"), false),
        ("password-in-error", t("a: \"{{ Values.password.nope }}\"\n"), true),
        ("password-math", t("a: \"{{ Values.password + 1 }}\"\n"), true),
        ("output-no-kind", t("apiVersion: v1\nmetadata:\n  name: x\n"), true),
    ]
}

/// Template probes, for both engines, over template (and lint).
pub fn template_probes() -> Vec<Probe> {
    let mut probes = Vec::new();
    for (name, text, must_fail) in go_templates() {
        let files = go_chart(&default_values(), &[("loop.yaml", &text)]);
        for verb in ["template", "lint"] {
            let mut args: Vec<&str> = if verb == "template" {
                vec!["template", "r", "c"]
            } else {
                vec!["lint", "c"]
            };
            // A debug build renders a bomb up to the default 100 MiB budget in tens of seconds
            // on a busy machine, close to the hang bound; a smaller budget ends the same way
            // (tests/input_limits.rs covers the default one).
            if name.ends_with("-huge") {
                args.extend(["--max-render-size", "8MiB"]);
            }
            let mut probe = Probe::new(format!("go/{name}/{verb}"), &args)
                .files(&files)
                .stderr_secret(SECRET);
            if must_fail {
                probe = probe.fails();
                if verb == "template" {
                    // Go names the template being executed: the file, or the `define`d name.
                    probe = probe.mentions(if name == "template-self" {
                        "loop"
                    } else {
                        "loop.yaml"
                    });
                }
            }
            if verb == "lint" {
                probe = probe.reports_on_stdout();
            }
            probes.push(probe);
        }
    }
    for (name, text, must_fail) in tera_templates() {
        let files = tera_chart(&default_values(), &[("loop.yaml", &text)]);
        for verb in ["template", "lint"] {
            let mut args: Vec<&str> = if verb == "template" {
                vec!["template", "r", "t"]
            } else {
                vec!["lint", "t"]
            };
            // As for Go: a smaller budget ends a bomb the same way, sooner.
            if name.ends_with("-huge") {
                args.extend(["--max-render-size", "8MiB"]);
            }
            let mut probe = Probe::new(format!("tera/{name}/{verb}"), &args)
                .files(&files)
                .stderr_secret(SECRET);
            if must_fail {
                probe = probe.fails();
                if verb == "template" {
                    probe = probe.mentions("loop.yaml");
                }
            }
            if verb == "lint" {
                probe = probe.reports_on_stdout();
            }
            probes.push(probe);
        }
    }
    probes
}

/// `template --output-dir`: must write only into the folder.
pub fn output_dir_probes() -> Vec<Probe> {
    let mut probes = Vec::new();
    for (name, extra) in [
        ("plain", vec![]),
        ("source-comment", vec![("x.yaml", "# Source: ../../../escaped.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")]),
        ("dotdot-template-name", vec![("..yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n")]),
    ] {
        probes.push(
            Probe::new(format!("output-dir/{name}"), &["template", "r", "c", "--output-dir", "out"])
                .files(&go_chart(&default_values(), &extra)),
        );
    }
    probes.push(
        Probe::new(
            "output-dir/is-a-file",
            &["template", "r", "c", "--output-dir", "out"],
        )
        .files(&go_chart(&default_values(), &[]))
        .file("out", "a file"),
    );
    probes.push(
        Probe::new(
            "output-dir/symlink-planted",
            &["template", "r", "c", "--output-dir", "out"],
        )
        .files(&go_chart(&default_values(), &[]))
        .setup(|dir| {
            std::fs::create_dir_all(dir.join("out")).unwrap();
            std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
            std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("out/c")).unwrap();
        }),
    );
    probes
}
