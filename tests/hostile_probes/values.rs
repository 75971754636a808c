//! Values from every door: `-f FILE` (bad YAML at several positions, odd types, bombs, encodings),
//! stdin, the chart's own `values.yaml`, and the `--set` family.

use super::fixtures::{default_values, go_chart, tera_chart, SECRET};
use super::harness::Probe;

/// YAML documents that are not valid values, each must be refused.
fn broken_yaml() -> Vec<(&'static str, Vec<u8>)> {
    let text: &[(&str, &str)] = &[
        ("unclosed-flow-seq", "a: [1, 2\n"),
        ("unclosed-flow-map", "a: {b: 1\n"),
        ("tab-indent", "a:\n\tb: 1\n"),
        ("bad-indent", "a:\n    b: 1\n  c: 2\n"),
        ("mapping-in-scalar", "a: b: c\n"),
        ("seq-then-map", "- 1\nb: 2\n"),
        ("unterminated-double", "a: \"abc\n"),
        ("unterminated-single", "a: 'abc\n"),
        ("bad-escape", "a: \"\\q\"\n"),
        ("undefined-alias", "a: *nope\n"),
        ("anchor-only", "a: &\n"),
        ("bad-tag-int", "a: !!int abc\n"),
        ("bad-tag-binary", "a: !!binary '***'\n"),
        ("bad-directive", "%YAML 9.9\n---\na: 1\n"),
        ("top-list", "- 1\n- 2\n"),
        ("top-scalar", "42\n"),
        ("top-string", "just words\n"),
        ("complex-key", "? [1, 2]\n: x\n"),
        ("flow-map-key", "{a: 1}: x\n"),
        ("merge-non-map", "<<: 1\na: 2\n"),
        ("merge-undefined", "<<: *base\na: 2\n"),
        ("nul-byte", "a: \"x\0y\"\nb: 1\0\n"),
        ("control-char", "a: \u{1}\u{2}\n"),
        ("lone-surrogate-escape", "a: \"\\ud800\"\n"),
        ("colon-key", ": 1\n"),
        ("reserved-indicator", "a: @x\n"),
        ("backtick", "a: `x`\n"),
    ];
    let mut all: Vec<(&str, Vec<u8>)> = text
        .iter()
        .map(|(n, t)| (*n, t.as_bytes().to_vec()))
        .collect();
    all.push(("invalid-utf8-value", b"a: \xff\xfe\n".to_vec()));
    all.push(("invalid-utf8-key", b"\xc3\x28: 1\n".to_vec()));
    all.push(("invalid-utf8-comment", b"a: 1 # \xe2\x28\xa1\n".to_vec()));
    all.push(("truncated-utf8", b"a: caf\xc3".to_vec()));
    all.push(("utf16-bom", b"\xff\xfea\x00:\x00 \x001\x00\n\x00".to_vec()));
    all
}

/// Odd but valid YAML: each may load or be refused, never crash.
fn odd_yaml() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = [
        ("empty", ""),
        // Valid YAML Helm reads too: `1]` is a plain scalar, the last duplicate key wins, a
        // second document is ignored.
        ("plain-scalar-bracket", "a: 1]\n"),
        ("dup-top-key", "a: 1\na: 2\n"),
        ("dup-nested-key", "m:\n  k: 1\n  k: 2\n"),
        ("two-docs", "a: 1\n---\nb: 2\n"),
        ("comment-only", "# nothing\n"),
        ("null-doc", "~\n"),
        ("doc-end", "a: 1\n...\n"),
        ("crlf", "a: 1\r\nlist:\r\n  - 1\r\n"),
        ("cr-only", "a: 1\rlist: [1]\r"),
        ("bom", "\u{feff}a: 1\n"),
        ("null-key", "~: 1\na: 1\n"),
        ("bool-key", "true: 1\na: 1\n"),
        ("int-key", "1: x\na: 1\n"),
        ("huge-int", "a: 99999999999999999999999999999\n"),
        ("huge-float", "a: 1e999999\n"),
        ("inf-nan", "a: .inf\nb: -.nan\n"),
        ("octal", "a: 0o8\nb: 0777\n"),
        ("timestamp", "a: 2001-12-14t21:59:43.10-05:00\n"),
        ("binary", "a: !!binary aGVsbG8=\n"),
        ("custom-tag", "a: !mytag x\n"),
        ("set", "a: !!set {x, y}\n"),
        ("omap", "a: !!omap [x: 1]\n"),
        ("merge-ok", "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\na: 1\n"),
        ("wrong-type-a-map", "a: {b: {c: 1}}\n"),
        ("wrong-type-a-list", "a: [1, [2, [3]]]\n"),
        ("wrong-type-list-map", "list: {x: 1}\n"),
        ("null-everything", "a: null\nlist: null\nm: null\n"),
        ("long-key", &format!("{}: 1\n", "k".repeat(70_000))),
        ("long-line", &format!("a: \"{}\"\n", "x".repeat(1_000_000))),
        (
            "many-keys",
            &(0..100_000)
                .map(|i| format!("k{i}: {i}\n"))
                .collect::<String>(),
        ),
        ("quoted-null-char", "a: \"\\0\\x00\\u0000\"\n"),
        (
            "unicode-keys",
            "ключ: значение\n\u{1F600}: x\na: \u{202e}rtl\n",
        ),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
    .collect();
    for depth in [10usize, 64, 65, 100, 500, 1000, 1001, 5000, 100_000] {
        all.push((
            format!("flow-depth-{depth}"),
            format!("a: {}1{}\n", "[".repeat(depth), "]".repeat(depth)).into_bytes(),
        ));
        if depth <= 5000 {
            let mut block = String::new();
            for i in 0..depth {
                block.push_str(&" ".repeat(i));
                block.push_str("k:\n");
            }
            block.push_str(&" ".repeat(depth));
            block.push_str("v: 1\n");
            all.push((format!("block-depth-{depth}"), block.into_bytes()));
        }
    }
    // Billion laughs: each level refers to the one below ten times.
    for levels in [4usize, 9] {
        let mut bomb = String::from("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for i in 1..levels {
            let refs = vec![format!("*l{}", i - 1); 10].join(",");
            bomb.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        all.push((format!("alias-bomb-{levels}"), bomb.into_bytes()));
    }
    // Many aliases to one big anchor.
    let big = format!("big: &big \"{}\"\n", "x".repeat(100_000));
    let refs: String = (0..20_000).map(|i| format!("r{i}: *big\n")).collect();
    all.push((
        "alias-fanout".to_string(),
        format!("{big}{refs}").into_bytes(),
    ));
    all.push((
        "scalar-4mib".to_string(),
        format!("a: \"{}\"\n", "y".repeat(4 * 1024 * 1024)).into_bytes(),
    ));
    all.push((
        "scalar-6mib".to_string(),
        format!("a: \"{}\"\n", "y".repeat(6 * 1024 * 1024)).into_bytes(),
    ));
    all
}

/// The values-file probes.
pub fn file_probes() -> Vec<Probe> {
    let mut probes = Vec::new();
    let good_prefix = |lines: usize| -> String {
        let mut s = format!("password: {SECRET}\n");
        s.push_str(
            &(0..lines)
                .map(|i| format!("k{i}: v{i}\n"))
                .collect::<String>(),
        );
        s
    };
    for (name, bad) in broken_yaml() {
        for (pos, lines) in [("start", None), ("line-2", Some(0)), ("line-60", Some(58))] {
            let mut data = lines.map(good_prefix).unwrap_or_default().into_bytes();
            data.extend_from_slice(&bad);
            for (engine, chart) in [("go", "c"), ("tera", "t")] {
                let files = if engine == "go" {
                    go_chart(&default_values(), &[])
                } else {
                    tera_chart(&default_values(), &[])
                };
                probes.push(
                    Probe::new(
                        format!("values-f/{name}/{pos}/{engine}"),
                        &["template", "r", chart, "-f", "bad.yaml"],
                    )
                    .files(&files)
                    .file("bad.yaml", data.clone())
                    .fails()
                    .mentions("bad.yaml")
                    .stderr_secret(SECRET),
                );
            }
            if pos == "line-60" {
                // The same breakage in the chart's own values.yaml.
                let mut files = go_chart("", &[]);
                files.retain(|(p, _)| p != "c/values.yaml");
                probes.push(
                    Probe::new(format!("values-chart/{name}"), &["template", "r", "c"])
                        .files(&files)
                        .file("c/values.yaml", data.clone())
                        .fails()
                        .mentions("values.yaml")
                        .stderr_secret(SECRET),
                );
                probes.push(
                    Probe::new(
                        format!("values-stdin/{name}"),
                        &["template", "r", "c", "-f", "-"],
                    )
                    .files(&go_chart(&default_values(), &[]))
                    .stdin(data.clone())
                    .fails()
                    .stderr_secret(SECRET),
                );
            }
        }
    }
    for (name, odd) in odd_yaml() {
        probes.push(
            Probe::new(
                format!("values-odd/{name}/go"),
                &["template", "r", "c", "-f", "odd.yaml"],
            )
            .files(&go_chart(&default_values(), &[]))
            .file("odd.yaml", odd.clone())
            .stderr_secret(SECRET),
        );
        // Values are read before the engine matters: the slow, big inputs run once.
        if odd.len() < 64 * 1024 && !name.contains("bomb") {
            probes.push(
                Probe::new(
                    format!("values-odd/{name}/tera"),
                    &["template", "r", "t", "-f", "odd.yaml"],
                )
                .files(&tera_chart(&default_values(), &[]))
                .file("odd.yaml", odd),
            );
        }
    }
    // Legitimate YAML Helm loads: rudder must load it too.
    probes.push(
        Probe::new(
            "values-depth-65-loads",
            &["template", "r", "c", "-f", "deep.yaml"],
        )
        .files(&go_chart(&default_values(), &[]))
        .file(
            "deep.yaml",
            format!("deep: {}1{}\n", "[".repeat(65), "]".repeat(65)),
        )
        .succeeds(),
    );
    for (name, path) in [
        ("dev-zero", "/dev/zero"),
        ("dev-urandom", "/dev/urandom"),
        ("dev-null", "/dev/null"),
        ("missing", "missing.yaml"),
        ("directory", "c"),
        ("proc-self-mem", "/proc/self/mem"),
        ("empty-path", ""),
    ] {
        probes.push(
            Probe::new(
                format!("values-f-path/{name}"),
                &["template", "r", "c", "-f", path],
            )
            .files(&go_chart(&default_values(), &[])),
        );
    }
    probes.push(
        Probe::new("values-stdin-endless", &["template", "r", "c", "-f", "-"])
            .files(&go_chart(&default_values(), &[]))
            .stdin(b"y\n".repeat(8 * 1024 * 1024))
            .fails(),
    );
    probes.push(
        Probe::new(
            "values-stdin-twice",
            &["template", "r", "c", "-f", "-", "-f", "-"],
        )
        .files(&go_chart(&default_values(), &[]))
        .stdin(b"a: 2\n".to_vec()),
    );
    probes
}

/// `--set`, `--set-string`, `--set-literal`, `--set-json` and `--set-file` oddities.
pub fn set_probes() -> Vec<Probe> {
    let mut probes = Vec::new();
    let deep_dots = format!("{}=1", vec!["k"; 10_000].join("."));
    let deep_index = format!("a{}=1", "[0]".repeat(10_000));
    let exprs: Vec<String> = [
        "",
        "a",
        "=",
        "=1",
        "a=",
        "a==",
        "a.=1",
        ".a=1",
        "a..b=1",
        "a[=1",
        "a[]=1",
        "a[x]=1",
        "a[-1]=1",
        "a[65537]=1",
        "a[99999999]=1",
        "a[99999999999999999999]=1",
        "a[1]]=1",
        "a[0]x=1",
        "a\\=b",
        "a=\\",
        "a={1,2",
        "a={",
        "a=}",
        "a=[",
        "a,b",
        ",",
        "a=1,,b=2",
        "a=1,",
        ",a=1",
        "a.b=1,a=2",
        "a=2,a.b=1",
        "list[0].x=1",
        "list.x=1",
        "m[0]=1",
        "password=x,password.y=1",
        "a b=1",
        "ключ=1",
        "a=\u{202e}",
        "a=null",
        "a=~",
        "a=1e999",
        "a=0x",
        "a=-0",
        "a=true,a=false",
        "{a}=1",
        "a=$(rm -rf /)",
        "a={{ .Values.password }}",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        deep_dots,
        deep_index,
        format!("{}=1", "k".repeat(100_000)),
        format!("a{}=1", "[0]".repeat(999)),
        format!("a{}=1", "[0]".repeat(1000)),
    ])
    .collect();
    for (i, expr) in exprs.iter().enumerate() {
        for flag in ["--set", "--set-string", "--set-literal"] {
            probes.push(
                Probe::new(
                    format!("{}/{i}", flag.trim_start_matches('-')),
                    &["template", "r", "c", flag, expr],
                )
                .files(&go_chart(&default_values(), &[]))
                .stderr_secret(SECRET),
            );
        }
    }
    for flag in ["--set", "--set-string"] {
        probes.push(
            Probe::new(
                format!("{}/invalid-utf8", flag.trim_start_matches('-')),
                &["template", "r", "c", flag],
            )
            .raw_arg(b"a=\xff\xfe".to_vec())
            .files(&go_chart(&default_values(), &[])),
        );
        probes.push(
            Probe::new(
                format!("{}/invalid-utf8-key", flag.trim_start_matches('-')),
                &["template", "r", "c", flag],
            )
            .raw_arg(b"\xc3\x28=1".to_vec())
            .files(&go_chart(&default_values(), &[])),
        );
    }
    let json_exprs: Vec<String> = [
        "a={",
        "a=[1,",
        "a=nan",
        "a=NaN",
        "a=1e999",
        "a={\"b\":",
        "{\"a\":1}",
        "a=",
        "=1",
        "a=\"\\ud800\"",
        "a='x'",
        "a={\"b\":1}x",
        "a=[1,2]]",
        "a.b[0]={\"c\":true}",
        "a=99999999999999999999999",
        "a=-",
        "a=\"\\u0000\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("a={}1{}", "[".repeat(200), "]".repeat(200)),
        format!("a={}1{}", "[".repeat(60_000), "]".repeat(60_000)),
        format!("a={}", "{\"k\":".repeat(1000)),
    ])
    .collect();
    for (i, expr) in json_exprs.iter().enumerate() {
        probes.push(
            Probe::new(
                format!("set-json/{i}"),
                &["template", "r", "c", "--set-json", expr],
            )
            .files(&go_chart(&default_values(), &[]))
            .stderr_secret(SECRET),
        );
    }
    for (name, expr) in [
        ("missing", "a=missing.txt"),
        ("dev-zero", "a=/dev/zero"),
        ("dev-urandom", "a=/dev/urandom"),
        ("directory", "a=c"),
        ("empty-path", "a="),
        ("no-key", "=big.txt"),
        ("no-equals", "big.txt"),
        ("big", "a=big.txt"),
        ("invalid-utf8", "a=bin.txt"),
        ("proc", "a=/proc/self/environ"),
    ] {
        probes.push(
            Probe::new(
                format!("set-file/{name}"),
                &["template", "r", "c", "--set-file", expr],
            )
            .files(&go_chart(&default_values(), &[]))
            .file("big.txt", vec![b'z'; 6 * 1024 * 1024])
            .file("bin.txt", b"\xff\xfe\x00binary".to_vec()),
        );
    }
    for (engine, chart) in [("go", "c"), ("tera", "t")] {
        let files = if engine == "go" {
            go_chart(&default_values(), &[])
        } else {
            tera_chart(&default_values(), &[])
        };
        probes.push(
            Probe::new(format!("set-many/{engine}"), &["template", "r", chart])
                .files(&files)
                .arg("--set")
                .arg(
                    (0..10_000)
                        .map(|i| format!("k{i}=v"))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
        );
    }
    probes
}
