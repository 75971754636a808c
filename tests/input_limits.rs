//! Oversized and endless inputs end in a clear error within bounded memory: the real binary run
//! under an address-space limit (`prlimit --as`), so that a bomb that would grow to gigabytes
//! fails the test with an abort (exit 134) instead of passing slowly.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Address space for one run: enough for rudder's 1 GiB render-thread stack reservation and a
/// normal render, far below the 5–8 GB the bombs used to reach.
const ADDRESS_SPACE: &str = "--as=2500000000";

fn rudder_limited(args: &[&str], endless_stdin: bool) -> Output {
    let mut cmd = Command::new("prlimit");
    cmd.arg(ADDRESS_SPACE)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .env_remove("RUDDER_MAX_FILE_SIZE")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !endless_stdin {
        cmd.stdin(Stdio::null());
        return cmd.output().expect("run rudder under prlimit");
    }
    // `yes | rudder ...`: the writer stops when rudder closes the pipe.
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("run rudder under prlimit");
    let mut pipe = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || {
        let lines = b"y\n".repeat(4096);
        while pipe.write_all(&lines).is_ok() {}
    });
    let out = child.wait_with_output().expect("wait for rudder");
    let _ = writer.join();
    out
}

/// Runs rudder under the memory limit and expects exit 1 (not an abort) with every needle on
/// stderr; returns stderr.
#[track_caller]
fn refused(args: &[&str], needles: &[&str]) -> String {
    refused_with(args, false, needles)
}

#[track_caller]
fn refused_with(args: &[&str], endless_stdin: bool, needles: &[&str]) -> String {
    let out = rudder_limited(args, endless_stdin);
    let err = common::stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "rudder {args:?} should fail with exit 1, got {:?}\nstderr (first 2000 bytes):\n{}",
        out.status,
        err.chars().take(2000).collect::<String>()
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr of rudder {args:?} lacks {needle:?}:\n{}",
            err.chars().take(2000).collect::<String>()
        );
    }
    assert!(
        err.len() < 20_000,
        "the error should be short, not {} bytes",
        err.len()
    );
    err
}

fn go_chart(dir: &Path, template: &str) -> PathBuf {
    let chart = dir.join("go");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: go\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), template).unwrap();
    chart
}

fn tera_chart(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join("tera");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: tera\nversion: 0.1.0\nengine: tera\n",
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(chart.join(name), text).unwrap();
    }
    chart
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

#[test]
fn a_values_file_without_end_is_refused_with_its_path_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    refused(
        &["template", path(&chart), "-f", "/dev/zero"],
        &[
            "/dev/zero is larger than the 5 MiB limit",
            "RUDDER_MAX_FILE_SIZE",
        ],
    );
    refused(
        &["template", path(&chart), "--set-file", "k=/dev/zero"],
        &["--set-file", "/dev/zero is larger than the 5 MiB limit"],
    );
}

#[test]
fn endless_stdin_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    refused_with(
        &["template", path(&chart), "-f", "-"],
        true,
        &["<stdin> is larger than the 5 MiB limit"],
    );
}

#[test]
fn the_file_limit_can_be_raised_and_lowered() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    let values = dir.path().join("big.yaml");
    std::fs::write(&values, format!("a: {}\n", "x".repeat(6 << 20))).unwrap();
    refused(
        &["template", path(&chart), "-f", path(&values)],
        &["big.yaml is larger than the 5 MiB limit"],
    );
    let out = rudder_limited(
        &[
            "template",
            path(&chart),
            "-f",
            path(&values),
            "--max-file-size",
            "7MiB",
        ],
        false,
    );
    common::ok(&out);
    refused(
        &["template", path(&chart), "--max-file-size", "10"],
        &["Chart.yaml is larger than the 10 bytes limit"],
    );
}

#[test]
fn a_values_file_nested_65_levels_loads_and_a_deeper_one_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  depth: \"{{ .Values.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.leaf }}\"\n");
    let nested = |levels: usize| {
        let mut text = String::new();
        for level in 0..levels {
            text.push_str(&"  ".repeat(level));
            text.push_str("k:\n");
        }
        text.push_str(&"  ".repeat(levels));
        text.push_str("leaf: 1\n");
        text
    };
    let values = dir.path().join("deep.yaml");
    std::fs::write(&values, nested(64)).unwrap();
    let out = common::ok(&rudder_limited(
        &["template", path(&chart), "-f", path(&values)],
        false,
    ));
    assert!(out.contains("depth: \"1\""), "{out}");

    let chart = go_chart(dir.path(), "");

    // `- - - x` nests a list per two bytes, so a deep document fits in the file size cap.
    for (levels, loads) in [(999, true), (1001, false), (100_000, false)] {
        let values = dir.path().join(format!("deep-{levels}.yaml"));
        std::fs::write(&values, format!("a:\n  {}x\n", "- ".repeat(levels))).unwrap();
        let args = ["template", path(&chart), "-f", path(&values)];
        if loads {
            common::ok(&rudder_limited(&args, false));
        } else {
            refused(
                &args,
                &[
                    &format!("deep-{levels}.yaml:"),
                    "nested more than 1000 levels deep",
                ],
            );
        }
    }
}

#[test]
fn a_values_file_with_a_million_nodes_names_the_limit_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    let values = dir.path().join("wide.yaml");
    std::fs::write(&values, format!("a: [{}]\n", "1,".repeat(300_000))).unwrap();
    let out = rudder_limited(&["template", path(&chart), "-f", path(&values)], false);
    let err = common::stderr(&out);
    assert!(!err.contains("budget breached"), "{err}");
    assert!(!err.contains("Nodes {"), "{err}");
    common::ok(&out);
}

#[test]
fn go_template_output_is_limited_while_it_renders() {
    let dir = tempfile::tempdir().unwrap();
    for template in [
        "x: {{ until 100000000 | len }}\n",
        "{{ range until 100000000 }}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{{ end }}\n",
        "{{ range $i := 100000000 }}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{{ end }}\n",
        "x: {{ repeat 2000000000 \"a\" | len }}\n",
        "x: {{ untilStep 0 1000000000 1 | len }}\n",
        "x: {{ seq 1000000000 | len }}\n",
    ] {
        let chart = go_chart(dir.path(), template);
        refused(
            &["template", path(&chart)],
            &["go/templates/cm.yaml", "limit", "--max-render-size"],
        );
    }
}

#[test]
fn recursive_go_templates_end_in_go_s_depth_error() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(
        dir.path(),
        "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}x: {{ template \"r\" . }}\n",
    );
    refused(
        &["template", path(&chart)],
        &["exceeded maximum template depth (100000)"],
    );
}

#[test]
fn a_dict_that_contains_itself_is_encoded_as_helm_does_never_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let template = |function: &str| {
        format!(
            "{{{{ $d := dict }}}}{{{{ $_ := set $d \"self\" $d }}}}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cycle\ndata:\n  v: {{{{ {function} $d | quote }}}}\n"
        )
    };
    // Helm's toYaml and toJson (and Sprig's toPrettyJson) swallow Go's cycle error into "".
    for function in ["toYaml", "toJson", "toPrettyJson"] {
        let chart = go_chart(dir.path(), &template(function));
        let out = common::ok(&rudder_limited(&["template", path(&chart)], false));
        assert!(out.contains("v: \"\""), "{function}: {out}");
    }
    // The mustTo* forms report it, naming the template; Helm's toToml would crash, here it fails.
    for (function, needle) in [
        ("mustToYaml", "encountered a cycle"),
        ("mustToJson", "encountered a cycle"),
        ("toRawJson", "encountered a cycle"),
        ("toToml", "nested more than 1000 levels deep"),
    ] {
        let chart = go_chart(dir.path(), &template(function));
        refused(
            &["template", path(&chart)],
            &["go/templates/cm.yaml:6:", function, needle],
        );
    }
}

#[test]
fn a_tera_macro_that_calls_itself_is_an_error_naming_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let chart = tera_chart(
        dir.path(),
        &[
            (
                "templates/_m.tera",
                "{% macro r() %}{{ self::r() }}{% endmacro r %}",
            ),
            (
                "templates/cm.yaml",
                "{% import \"_m.tera\" as m %}x: {{ m::r() }}\n",
            ),
        ],
    );
    refused(
        &["template", path(&chart)],
        &[
            "tera/templates/cm.yaml",
            "nested more than 1000 deep",
            "cm.yaml -> macro r (_m.tera) -> macro r (_m.tera)",
        ],
    );
}

#[test]
fn a_tera_template_that_includes_itself_is_an_error_naming_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let chart = tera_chart(
        dir.path(),
        &[("templates/cm.yaml", "x: 1\n{% include \"cm.yaml\" %}\n")],
    );
    refused(
        &["template", path(&chart)],
        &[
            "tera/templates/cm.yaml",
            "does a template include itself?",
            "cm.yaml -> cm.yaml",
        ],
    );
}

#[test]
fn tera_output_is_limited_while_it_renders() {
    let dir = tempfile::tempdir().unwrap();
    let chart = tera_chart(
        dir.path(),
        &[(
            "templates/cm.yaml",
            "{% for i in range(end=100000000) %}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{% endfor %}\n",
        )],
    );
    refused(
        &["template", path(&chart)],
        &["tera/templates/cm.yaml", "limit", "--max-render-size"],
    );
}

#[test]
fn invalid_utf8_in_a_values_file_is_refused_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    let values = dir.path().join("latin1.yaml");
    std::fs::write(&values, b"a: 1\nname: caf\xe9\n").unwrap();
    refused(
        &["template", path(&chart), "-f", path(&values)],
        &["latin1.yaml:2:10: invalid UTF-8 (byte 0xE9)"],
    );
    std::fs::write(chart.join("values.yaml"), b"name: caf\xe9\n").unwrap();
    refused(
        &["template", path(&chart)],
        &["values.yaml:1:10: invalid UTF-8 (byte 0xE9)"],
    );
}

#[test]
fn a_tera_macro_may_recurse_deeply_with_an_end() {
    let dir = tempfile::tempdir().unwrap();
    let chart = tera_chart(
        dir.path(),
        &[
            (
                "templates/_m.tera",
                "{% macro down(n) %}{% if n > 0 %}{{ self::down(n=n - 1) }}{% else %}bottom{% endif %}{% endmacro down %}",
            ),
            (
                "templates/cm.yaml",
                "{% import \"_m.tera\" as m %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  v: {{ m::down(n=990) }}\n",
            ),
        ],
    );
    let out = common::ok(&rudder_limited(&["template", path(&chart)], false));
    assert!(out.contains("v: bottom"), "{out}");
}

#[test]
fn tera_division_by_zero_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    for (expression, shown) in [
        ("1 / 0", "`1 / 0` (1 / 0)"),
        ("Values.n % 0", "`Values.n % 0` (5 % 0)"),
        ("7 / Values.zero", "`7 / Values.zero` (7 / 0)"),
    ] {
        let chart = tera_chart(
            dir.path(),
            &[
                ("values.yaml", "n: 5\nzero: 0\n"),
                (
                    "templates/cm.yaml",
                    &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: \"{{{{ {expression} }}}}\"\n"),
                ),
            ],
        );
        refused(
            &["template", path(&chart)],
            &[
                "tera/templates/cm.yaml:6:",
                &format!("division by zero in {shown}"),
            ],
        );
    }
    let chart = tera_chart(
        dir.path(),
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: \"{{ 7 / 2 }} {{ 6 / 3 }} {{ 7 % 3 }} {{ 7.5 % 2 }}\"\n",
        )],
    );
    let out = common::ok(&rudder_limited(&["template", path(&chart)], false));
    assert!(out.contains("v: \"3.5 2 1 1.5\""), "{out}");
}

#[test]
fn schema_errors_name_the_rule_and_never_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "additionalProperties": false,
            "properties": {"b": {"type": "string", "maxLength": 3},
                           "pin": {"type": "string", "pattern": "^[0-9]{4}$"}}}"#,
    )
    .unwrap();
    let out = rudder_limited(
        &[
            "template",
            path(&chart),
            "--set",
            "b=SECRET-B",
            "--set",
            "pin=SECRET-PIN",
            "--set",
            "extra=SECRET-EXTRA",
        ],
        false,
    );
    let (stdout, stderr) = (common::stdout(&out), common::stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(".b: maxLength: got 8, want 3"), "{stderr}");
    assert!(stderr.contains(".pin: pattern: does not match"), "{stderr}");
    assert!(
        stderr.contains(".: additionalProperties: \"extra\" not allowed"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("SECRET") && !stderr.contains("SECRET"),
        "{stderr}"
    );
}

#[test]
fn namespaces_and_release_names_are_checked_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let chart = go_chart(dir.path(), "");
    let chart = path(&chart);
    let kubeconfig = dir.path().join("missing-kubeconfig");
    let kubeconfig = path(&kubeconfig);
    for (args, needle) in [
        (
            vec!["-n", "", "list"],
            "-n/--namespace \"\" (or RUDDER_NAMESPACE) is not a valid namespace: it is empty",
        ),
        (vec!["-n", "..", "status", "web"], "-n/--namespace \"..\""),
        (vec!["-n", "a/b", "list"], "-n/--namespace \"a/b\""),
        (vec!["status", ".."], "invalid release name \"..\": "),
        (vec!["history", "a/b"], "invalid release name \"a/b\": "),
        (
            vec!["uninstall", "ok", "../x"],
            "invalid release name \"../x\": ",
        ),
        (
            vec!["get", "values", "Web"],
            "invalid release name \"Web\": ",
        ),
        (
            vec!["install", "..", chart],
            "invalid release name \"..\": ",
        ),
        (
            vec!["upgrade", "a%2Fb", chart],
            "invalid release name \"a%2Fb\": ",
        ),
        (
            vec!["diff", "upgrade", "..", chart],
            "invalid release name \"..\": ",
        ),
        (
            vec!["template", "web_1", chart],
            "invalid release name \"web_1\": ",
        ),
    ] {
        let mut all = vec!["--kubeconfig", kubeconfig];
        all.extend(args);
        let err = refused(&all, &[needle]);
        assert!(
            !err.contains("cannot use the kubeconfig"),
            "checked after reading the kubeconfig: {err}"
        );
    }
    // Helm's rule allows dot-separated labels.
    common::ok(&rudder_limited(&["template", "web.prod", chart], false));
}

#[test]
fn a_chart_archive_without_end_is_refused_with_the_chart_limit() {
    refused(
        &["template", "/dev/zero"],
        &[
            "/dev/zero: the archive is larger than the 100 MiB chart limit",
            "RUDDER_MAX_CHART_SIZE",
        ],
    );
}

/// install, upgrade and diff render through the same guarded engines as template: a bomb or an
/// endless recursion in a chart ends in exit 1 there too, and leaves no release behind.
#[test]
fn install_upgrade_and_diff_end_bombs_and_recursion_in_an_error() {
    let sandbox = common::Sandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let good = go_chart(dir.path(), "");
    let tera = tera_chart(
        dir.path(),
        &[
            (
                "templates/_m.tera",
                "{% macro r() %}{{ self::r() }}{% endmacro r %}",
            ),
            (
                "templates/cm.yaml",
                "{% import \"_m.tera\" as m %}x: {{ m::r() }}\n",
            ),
        ],
    );
    let bomb = dir.path().join("bomb");
    std::fs::create_dir_all(bomb.join("templates")).unwrap();
    std::fs::write(
        bomb.join("Chart.yaml"),
        "apiVersion: v2\nname: bomb\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        bomb.join("templates/cm.yaml"),
        "{{ range $i := 100000000 }}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{{ end }}\n",
    )
    .unwrap();
    let kubeconfig = path(&sandbox.kubeconfig).to_string();
    let run = |args: &[&str], needles: &[&str]| {
        let mut all = vec!["--kubeconfig", kubeconfig.as_str()];
        all.extend_from_slice(args);
        refused(&all, needles)
    };
    let (tera, bomb, good) = (path(&tera), path(&bomb), path(&good));
    run(&["install", "rec", tera], &["nested more than 1000 deep"]);
    run(&["install", "bomb", bomb], &["render limit"]);
    common::ok(
        &sandbox
            .rudder()
            .args(["install", "web", good])
            .output()
            .unwrap(),
    );
    run(&["upgrade", "web", tera], &["nested more than 1000 deep"]);
    run(&["upgrade", "web", bomb], &["render limit"]);
    run(
        &["diff", "upgrade", "web", tera],
        &["nested more than 1000 deep"],
    );
    run(&["diff", "upgrade", "web", bomb], &["render limit"]);
    let list = common::ok(&sandbox.rudder().args(["list", "-q"]).output().unwrap());
    assert_eq!(list.trim(), "web", "no release left by the failed installs");
}

#[test]
fn an_endless_password_on_stdin_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    refused_with(
        &[
            "pull",
            "http://127.0.0.1:9/charts/web-0.1.0.tgz",
            "--username",
            "u",
            "--password-stdin",
            "--destination",
            home,
        ],
        true,
        &["the password on stdin (--password-stdin) is larger than the 5 MiB limit"],
    );
}
