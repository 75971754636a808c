use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::chart::{ChartFile, ChartMetadata};
use crate::render::{Capabilities, KubeVersion, ReleaseInfo};

fn chart(name: &str, templates: &[(&str, &str)]) -> Chart {
    Chart {
        metadata: ChartMetadata {
            name: name.to_string(),
            version: "1.2.3".to_string(),
            app_version: "4.5".to_string(),
            api_version: "v2".to_string(),
            engine: "tera".to_string(),
            ..Default::default()
        },
        templates: templates
            .iter()
            .map(|(n, t)| ChartFile {
                name: format!("templates/{n}"),
                data: t.as_bytes().to_vec(),
            })
            .collect(),
        values: json!({}),
        files: vec![
            ChartFile {
                name: "config/app.conf".to_string(),
                data: b"port=80\n".to_vec(),
            },
            ChartFile {
                name: "config/other.conf".to_string(),
                data: b"x=1\n".to_vec(),
            },
        ],
        ..Default::default()
    }
}

fn options() -> RenderOptions {
    RenderOptions {
        release: ReleaseInfo {
            name: "rel".to_string(),
            namespace: "ns".to_string(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities {
            kube_version: KubeVersion {
                version: "v1.36.0".to_string(),
                major: "1".to_string(),
                minor: "36".to_string(),
            },
            api_versions: vec!["v1".to_string(), "apps/v1".to_string()],
        },
        env: Some("prod".to_string()),
        lookup: None,
    }
}

fn render_one(template: &str, values: Value) -> Result<String, RenderError> {
    let c = chart("c", &[("x.yaml", template)]);
    let out = render(&c, &values, &options())?;
    Ok(out.files["c/templates/x.yaml"].clone())
}

#[test]
fn exposes_helm_named_objects() {
    let out = render_one(
        "{{ Release.Name }} {{ Release.Namespace }} {{ Release.Revision }} {{ Release.IsInstall }} {{ Release.Service }} \
         {{ Chart.Name }}-{{ Chart.Version }} {{ Chart.AppVersion }} {{ Capabilities.KubeVersion.Minor }} \
         {{ \"apps/v1\" in Capabilities.APIVersions }} {{ Template.Name }} {{ Template.BasePath }} {{ Env }} {{ Values.a }}",
        json!({"a": 3}),
    )
    .unwrap();
    assert_eq!(
        out,
        "rel ns 1 true rudder c-1.2.3 4.5 36 true c/templates/x.yaml c/templates prod 3"
    );
}

#[test]
fn filters_behave_like_sprig() {
    let out = render_one(
        "{{ Values.m | to_yaml | nindent(width=2) }}|{{ \"a\nb\" | indent(width=1) }}|{{ Values.s | quote }}|{{ Values.s | squote }}|\
         {{ \"hi\" | b64enc }}|{{ \"aGk=\" | b64dec }}|{{ \"abc\" | sha256sum | trunc(length=8) }}|{{ \"abcdef\" | trunc(length=-2) }}|\
         {{ \"name-\" | trim_suffix(suffix=\"-\") }}|{{ Values.m | to_json }}|{% set j = '{\"k\": 1}' | from_json %}{{ j.k }}|{% set y = \"k: v\" | from_yaml %}{{ y.k }}",
        json!({"m": {"b": [1, 2], "a": "yes"}, "s": "it's \"q\""}),
    )
    .unwrap();
    assert_eq!(
        out,
        "\n  a: \"yes\"\n  b:\n  - 1\n  - 2| a\n b|\"it's \\\"q\\\"\"|'it''s \"q\"'|aGk=|hi|ba7816bf|ef|name|{\"a\":\"yes\",\"b\":[1,2]}|1|v"
    );
}

#[test]
fn undefined_values_name_file_line_column_and_path() {
    let err = render_one("a: 1\nb: {{ Values.image.tagx }}\n", json!({"image": {}})).unwrap_err();
    assert_eq!(
        err.to_string().split(": undefined").next().unwrap(),
        "c/templates/x.yaml:2:7"
    );
    assert!(err.to_string().contains("`Values.image.tagx`"), "{err}");
}

#[test]
fn required_reports_the_authors_message_for_missing_and_empty_values() {
    for values in [json!({}), json!({"tag": ""}), json!({"tag": null})] {
        let err = render_one(
            "x: 1\ntag: {{ Values.tag | required(message=\"set image.tag\") }}\n",
            values,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "c/templates/x.yaml:2:22: set image.tag");
    }
    let ok = render_one(
        "{{ Values.tag | required(message=\"m\") }}",
        json!({"tag": "v1"}),
    )
    .unwrap();
    assert_eq!(ok, "v1");
}

#[test]
fn fail_stops_with_its_message() {
    let err = render_one(
        "{% if Values.replicas > 5 %}\n{{ fail(message=\"too many replicas\") }}{% endif %}",
        json!({"replicas": 9}),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "c/templates/x.yaml:2:4: too many replicas");
}

#[test]
fn syntax_errors_have_positions() {
    let err = render_one("a: 1\nb: {{ Values.a | }}\n", json!({})).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("c/templates/x.yaml:2:"), "{text}");
    assert!(text.contains("syntax error"), "{text}");
}

#[test]
fn lookup_is_empty_offline_and_files_are_readable() {
    let out = render_one(
        "{{ lookup(api_version=\"v1\", kind=\"Secret\", namespace=\"ns\", name=\"s\") | length }}|{{ file(path=\"config/app.conf\") }}|\
         {% for name, text in files_glob(pattern=\"config/*.conf\") %}{{ name }};{% endfor %}",
        json!({}),
    )
    .unwrap();
    assert_eq!(out, "0|port=80\n|config/app.conf;config/other.conf;");
    let err = render_one("{{ file(path=\"nope\") }}", json!({})).unwrap_err();
    assert!(err.to_string().contains("has no such file"), "{err}");
}

#[test]
fn helpers_are_macros_that_see_the_context_and_render_nothing() {
    let c = chart(
        "c",
        &[
            (
                "_helpers.tera",
                "{% macro fullname() %}{{ Release.Name }}-{{ Chart.Name }}{% endmacro fullname %}",
            ),
            (
                "NOTES.txt",
                "{% import \"_helpers.tera\" as h %}see {{ h::fullname() }}",
            ),
            (
                "x.yaml",
                "{% import \"_helpers.tera\" as h %}name: {{ h::fullname() | upper }}",
            ),
        ],
    );
    let out = render(&c, &json!({}), &options()).unwrap();
    let names: Vec<_> = out.files.keys().cloned().collect();
    assert_eq!(names, ["c/templates/NOTES.txt", "c/templates/x.yaml"]);
    assert_eq!(out.files["c/templates/x.yaml"], "name: REL-C");
    assert_eq!(out.files["c/templates/NOTES.txt"], "see rel-c");
}

#[test]
fn undefined_values_inside_helpers_point_at_the_helper() {
    let c = chart(
        "c",
        &[
            (
                "_helpers.tera",
                "{% macro image() %}\n{{ Values.image.repo }}{% endmacro image %}",
            ),
            (
                "x.yaml",
                "{% import \"_helpers.tera\" as h %}image: {{ h::image() }}",
            ),
        ],
    );
    let err = render(&c, &json!({"image": {}}), &options()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("c/templates/_helpers.tera:2:4: "),
        "{err}"
    );
}

#[test]
fn subcharts_render_with_scoped_values_and_globals() {
    let mut parent = chart("web", &[("a.yaml", "{{ Values.global.env }}")]);
    let mut sub = chart("redis", &[("b.yaml", "{{ Values.port }} {{ Values.global.env }} {{ Chart.Name }} {{ Chart.IsRoot }} {{ Template.Name }}")]);
    sub.metadata.version = "9.0.0".to_string();
    let lib = {
        let mut l = chart(
            "common",
            &[
                (
                    "_labels.tera",
                    "{% macro app() %}app={{ Chart.Name }}{% endmacro app %}",
                ),
                ("ignored.yaml", "x"),
            ],
        );
        l.metadata.chart_type = "library".to_string();
        l
    };
    parent.templates.push(ChartFile {
        name: "templates/c.yaml".to_string(),
        data: b"{% import \"common/_labels.tera\" as common %}{{ common::app() }}".to_vec(),
    });
    parent.dependencies = vec![lib, sub];
    let out = render(
        &parent,
        &json!({"global": {"env": "prod"}, "redis": {"port": 6379}}),
        &options(),
    )
    .unwrap();
    let expected: BTreeMap<String, String> = [
        ("web/templates/a.yaml", "prod"),
        ("web/templates/c.yaml", "app=web"),
        (
            "web/charts/redis/templates/b.yaml",
            "6379 prod redis false web/charts/redis/templates/b.yaml",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(out.files, expected);
}

#[test]
fn guard_only_touches_first_filter_required() {
    assert_eq!(
        guard_required("{{ Values.a | required(message=\"m\") }}"),
        format!("{{{{ Values.a | default(value=\"{MISSING}\") | required(message=\"m\") }}}}")
    );
    let chained = "{{ Values.a | lower | required(message=\"m\") }}";
    assert_eq!(guard_required(chained), chained);
}

#[test]
fn missing_values_are_falsy_in_conditions_and_defaults_apply() {
    let out = render_one(
        "{% if Values.a.b %}yes{% else %}no{% endif %}|{{ Values.missing | default(value=7) }}|{{ Values.nil | default(value=8) }}",
        json!({"nil": null}),
    )
    .unwrap();
    assert_eq!(out, "no|7|8");
}

#[test]
fn get_env_is_disabled() {
    let err = render_one("{{ get_env(name=\"HOME\") }}", json!({})).unwrap_err();
    assert!(err.to_string().contains("get_env is disabled"), "{err}");
}

struct FakeCluster;

impl crate::render::Lookup for FakeCluster {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        if (api_version, kind, namespace, name) == ("v1", "Secret", "ns", "db") {
            Ok(json!({"data": {"password": "c2VjcmV0"}}))
        } else {
            Err(format!("{kind} {name} is forbidden"))
        }
    }
}

#[test]
fn lookup_reads_the_live_cluster_when_there_is_one() {
    let c = chart(
        "c",
        &[(
            "x.yaml",
            "{% set s = lookup(api_version=\"v1\", kind=\"Secret\", namespace=Release.Namespace, name=\"db\") %}{{ s.data.password | b64dec }}",
        )],
    );
    let mut opts = options();
    opts.lookup = Some(std::sync::Arc::new(FakeCluster));
    let out = render(&c, &json!({}), &opts).unwrap();
    assert_eq!(out.files["c/templates/x.yaml"], "secret");

    let c = chart(
        "c",
        &[(
            "x.yaml",
            "{{ lookup(api_version=\"v1\", kind=\"Secret\", namespace=\"ns\", name=\"other\") }}",
        )],
    );
    let err = render(&c, &json!({}), &opts).unwrap_err();
    assert!(
        err.to_string().contains("Secret other is forbidden"),
        "{err}"
    );
}

/// Enough templates (and bytes) to be parsed on two threads, with syntax errors in `broken`.
fn many_templates(broken: &[usize]) -> Vec<(String, String)> {
    (0..12)
        .map(|i| {
            let body = if broken.contains(&i) {
                "a: 1\nb: {{ Values.a | }}\n".to_string()
            } else {
                format!("n{i}: {{{{ Values.a | default(value=1) }}}}\n").repeat(10 + i * 3)
            };
            (format!("t{i:02}.yaml"), body)
        })
        .collect()
}

fn sources_of(templates: &[(String, String)]) -> Vec<Source<'_>> {
    templates
        .iter()
        .map(|(name, text)| Source {
            name: name.clone(),
            path: format!("c/templates/{name}"),
            text,
            helper: false,
        })
        .collect()
}

#[test]
fn parallel_parse_reports_the_same_error_as_sequential() {
    // Each split puts some broken templates on the worker thread and some on the caller's.
    for broken in [
        vec![0],
        vec![11],
        vec![3, 4],
        vec![10, 2, 7],
        vec![5, 6, 8, 9],
    ] {
        let templates = many_templates(&broken);
        let sources = sources_of(&templates);
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        assert!(total >= PARALLEL_PARSE_BYTES, "{total} bytes");
        let mine = split_by_size(&sources);
        assert!(mine.contains(&true) && mine.contains(&false), "{mine:?}");

        let mut parallel = Tera::default();
        let parallel = add_templates(&mut parallel, &sources).unwrap_err();
        let sequential = Tera::default()
            .add_raw_templates(templates.iter().map(|(n, t)| (n, guard_required(t))))
            .unwrap_err();
        assert_eq!(
            locate::parse_error(&parallel, &sources).to_string(),
            locate::parse_error(&sequential, &sources).to_string()
        );
        let first = broken.iter().min().unwrap();
        assert_eq!(
            locate::parse_error(&parallel, &sources).to_string(),
            format!(
                "c/templates/t{first:02}.yaml:2:18: template syntax error: expected an identifier (must start with a-z)"
            )
        );
    }
}

#[test]
fn parallel_parse_keeps_every_template() {
    let templates = many_templates(&[]);
    let sources = sources_of(&templates);
    let mut tera = Tera::default();
    add_templates(&mut tera, &sources).unwrap();
    let mut names: Vec<&String> = tera.templates.keys().collect();
    names.sort();
    let expected: Vec<&String> = templates.iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
    let mut sequential = Tera::default();
    sequential
        .add_raw_templates(templates.iter().map(|(n, t)| (n, guard_required(t))))
        .unwrap();
    for template in sequential.templates.values_mut() {
        super::guard::instrument(template);
    }
    for (name, template) in &tera.templates {
        assert_eq!(template.ast, sequential.templates[name].ast, "{name}");
    }
}

/// The regex the guard scanner replaced: the scanner must rewrite exactly what it matched.
fn guard_required_by_regex(text: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?P<head>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[[^\]\n]*\])*)(?P<ws>\s*)\|\s*required\s*\("#,
        )
        .unwrap()
    });
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let (whole, head) = (caps.get(0).unwrap(), caps.get(1).unwrap());
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

#[test]
fn guard_scanner_rewrites_what_the_regex_did() {
    let pieces = [
        "a",
        "Values",
        "b1",
        "9",
        "_",
        ".",
        ".x",
        "[",
        "]",
        "[\"k\"]",
        "[0]",
        "\n",
        " ",
        "\t",
        "\u{a0}",
        "|",
        "| ",
        "required",
        "required(",
        "(",
        ")",
        "{{ ",
        " }}",
        "é",
        "|required(",
        " | required (",
        "lower",
        "-",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut rewritten = 0;
    for _ in 0..5_000 {
        let len = 1 + next(14);
        let text: String = (0..len).map(|_| pieces[next(pieces.len())]).collect();
        let expected = guard_required_by_regex(&text);
        rewritten += usize::from(expected != text);
        assert_eq!(guard_required(&text), expected, "{text:?}");
    }
    assert!(
        rewritten > 100,
        "only {rewritten} inputs exercised a rewrite"
    );
    for text in [
        "{{ Values.image[\"tag\"] | required(message=\"m\") }}",
        "{{ a.b[x | required(y)] | required(z) }}",
        "{{ 9ab|required(m) }} {{ x.y.z\u{2003}|\u{2003}required\u{2003}( }}",
        "{{ a[\n] | required(m) }}",
    ] {
        assert_eq!(
            guard_required(text),
            guard_required_by_regex(text),
            "{text:?}"
        );
    }
}
