use std::path::PathBuf;

use super::*;

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn splits_on_helm_separators_and_drops_blank_documents() {
    let docs = split_documents("\n---\na: 1\n---\n\n---   \nb: 2\n  \n---\n");
    let texts: Vec<_> = docs.iter().map(|(_, d)| d.as_str()).collect();
    // Go's Split takes non-overlapping matches: the second `---` lost its newline to the first
    // match's trailing `\s*`, so it stays in the document, exactly as in Helm.
    assert_eq!(texts, ["a: 1", "---   \nb: 2"]);
    let lines: Vec<_> = docs.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [3, 6]);
    let docs = split_documents("a: 1\n---\n# c\n---\n\nb: 2\n");
    let texts: Vec<_> = docs.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(texts, ["a: 1", "# c", "b: 2\n"]);
    let lines: Vec<_> = docs.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [1, 3, 6]);
}

#[test]
fn a_separator_must_start_a_line() {
    let docs = split_documents("a: x---y\nb: 2");
    assert_eq!(docs.len(), 1);
}

#[test]
fn orders_kinds_like_helm_install_with_unknown_kinds_last() {
    let rendered = files(&[
        (
            "c/templates/a.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: x/v1\nkind: Zed\nmetadata:\n  name: z\n",
        ),
        (
            "c/templates/b.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\napiVersion: x/v1\nkind: Alpha\nmetadata:\n  name: a\n",
        ),
        ("c/templates/c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"),
        ("c/templates/_helpers.tera", "ignored: true"),
        ("c/templates/NOTES.txt", "hello"),
    ]);
    let sorted = sort_manifests(&rendered, KindOrder::Install).unwrap();
    let kinds: Vec<_> = sorted.manifests.iter().map(Document::kind).collect();
    assert_eq!(
        kinds,
        ["Namespace", "Service", "Deployment", "Alpha", "Zed"]
    );
    let sorted = sort_manifests(&rendered, KindOrder::Uninstall).unwrap();
    let kinds: Vec<_> = sorted.manifests.iter().map(Document::kind).collect();
    assert_eq!(
        kinds,
        ["Service", "Deployment", "Namespace", "Alpha", "Zed"]
    );
}

#[test]
fn separates_hooks_with_weights_and_policies() {
    let rendered = files(&[(
        "c/templates/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install, Pre-Upgrade\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: hook-succeeded,before-hook-creation\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: odd\n  annotations:\n    helm.sh/hook: crd-install\n",
    )]);
    let sorted = sort_manifests(&rendered, KindOrder::Install).unwrap();
    assert!(sorted.manifests.is_empty());
    assert_eq!(
        sorted.hooks.len(),
        1,
        "unknown hook events are dropped like Helm does"
    );
    let hook = &sorted.hooks[0];
    assert_eq!(hook.events, [HookEvent::PreInstall, HookEvent::PreUpgrade]);
    assert_eq!(hook.weight, -5);
    assert_eq!(
        hook.delete_policies,
        ["hook-succeeded", "before-hook-creation"]
    );
}

#[test]
fn rejects_a_document_that_is_not_a_kubernetes_object() {
    let rendered = files(&[(
        "c/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nfoo: bar\n",
    )]);
    let err = sort_manifests(&rendered, KindOrder::Install).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("c/templates/cm.yaml:6:"), "{text}");
    assert!(
        text.contains("missing apiVersion, kind, metadata.name"),
        "{text}"
    );

    let rendered = files(&[("c/templates/x.yaml", "just text")]);
    let err = sort_manifests(&rendered, KindOrder::Install).unwrap_err();
    assert!(err.to_string().contains("got a plain string"), "{err}");

    let rendered = files(&[("c/templates/x.yaml", "a: [1,\n")]);
    let err = sort_manifests(&rendered, KindOrder::Install).unwrap_err();
    assert!(err.to_string().contains("not valid YAML"), "{err}");
}

#[test]
fn comment_only_documents_are_kept_like_helm() {
    let rendered = files(&[("c/templates/x.yaml", "# nothing here\n")]);
    let sorted = sort_manifests(&rendered, KindOrder::Install).unwrap();
    assert_eq!(sorted.manifests.len(), 1);
    assert_eq!(
        template_output(&sorted, true),
        "---\n# Source: c/templates/x.yaml\n# nothing here\n"
    );
}

#[test]
fn prints_like_helm_template() {
    let rendered = files(&[(
        "c/templates/a.yaml",
        "  \napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n\n\n",
    )]);
    let sorted = sort_manifests(&rendered, KindOrder::Install).unwrap();
    assert_eq!(
        template_output(&sorted, true),
        "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    );
}

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RUDDER_CORPUS") {
        return PathBuf::from(dir);
    }
    // The main checkout sits next to `shared/`; worktrees one level deeper. The repository's
    // root is two levels above this crate.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let near = root.join("../shared/corpus");
    if near.is_dir() {
        near
    } else {
        root.join("../../shared/corpus")
    }
}

/// Helm's own output for 30 real charts: feeding Helm's rendered templates through our sorter
/// must print exactly what `helm template` printed.
#[test]
fn matches_helm_template_output_on_the_corpus() {
    let cases = corpus_dir().join("cases");
    let Ok(charts) = std::fs::read_dir(&cases) else {
        eprintln!(
            "corpus not found at {}: set RUDDER_CORPUS to check Helm's output order",
            cases.display()
        );
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for chart in charts.flatten() {
        for case in std::fs::read_dir(chart.path()).unwrap().flatten() {
            let dir = case.path();
            let (Ok(json), Ok(expected)) = (
                std::fs::read_to_string(dir.join("expected.json")),
                std::fs::read_to_string(dir.join("expected.yaml")),
            ) else {
                continue;
            };
            let rendered: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
            let sorted = sort_manifests(&rendered, KindOrder::Install)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            if template_output(&sorted, true) != expected {
                failures.push(dir.display().to_string());
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "output differs from helm template for {failures:?}"
    );
    assert!(checked > 50, "only {checked} corpus cases found");
}

/// The hand-written splitter finds exactly the matches of Helm's separator regex.
#[test]
fn separators_match_helms_regex() {
    let re = regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").unwrap();
    let pieces = [
        "---", "\n", " ", "\t", "a", "-", "\r\n", "x: 1", "\x0C", "----",
    ];
    // Every string of up to four pieces.
    let mut texts = vec![String::new()];
    for _ in 0..4 {
        let mut longer = Vec::new();
        for t in &texts {
            for p in pieces {
                longer.push(format!("{t}{p}"));
            }
        }
        texts.extend(longer);
    }
    for text in &texts {
        let expected: Vec<(usize, usize)> =
            re.find_iter(text).map(|m| (m.start(), m.end())).collect();
        assert_eq!(super::separators(text), expected, "{text:?}");
    }
}

/// What the value-building reader makes of a document: the reference the fast head reader must
/// match, errors included.
fn head_by_value(content: &str) -> Result<Option<Head>, String> {
    parse_object("c/templates/x.yaml", 7, content)
        .map(|o| o.map(|(head, _)| head))
        .map_err(|e| e.to_string())
}

fn head_by_scan(content: &str) -> Result<Option<Head>, String> {
    parse_head("c/templates/x.yaml", 7, content).map_err(|e| e.to_string())
}

/// Both readers agree on `content`, and the fast one answered by itself (`fast`) or left the
/// document to the full read.
fn assert_same_head(content: &str, fast: bool) -> Result<Option<Head>, String> {
    let by_value = head_by_value(content);
    assert_eq!(head_by_scan(content), by_value, "{content:?}");
    assert_eq!(
        head::scan(content) != head::Scan::Unsure,
        fast,
        "fast path taken for {content:?}"
    );
    by_value
}

fn head(api_version: &str, kind: &str, name: &str) -> Head {
    Head {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        ..Head::default()
    }
}

#[test]
fn head_reader_reads_block_and_flow_heads() {
    let mut want = head("v1", "ConfigMap", "a");
    want.namespace = Some("ns".into());
    want.annotations.insert("x".into(), "1".into());
    want.annotations.insert("y/z".into(), "two words".into());
    for doc in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ns\n  annotations:\n    x: \"1\"\n    y/z: two words\ndata:\n  k: v\n",
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: ns, annotations: {x: '1', y/z: two words}}}",
        "\"apiVersion\": 'v1'\n'kind': \"ConfigMap\"\n\"metadata\":\n  { \"name\": a, namespace: \"ns\" ,\n    annotations: {\"x\": \"1\", 'y/z': \"two words\"} }\n",
        "# Source: c/templates/x.yaml\n# a comment\napiVersion: v1 # trailing\nkind: ConfigMap\nmetadata:\n  # inside\n  name: a\n  namespace: ns\n  annotations:\n    x: \"1\"\n    # between\n    y/z: two words\n",
        "kind: ConfigMap\nmetadata:\n  annotations:\n    y/z: >-\n      two\n      words\n    x: |-\n      1\n  namespace: ns\n  name: a\napiVersion: v1\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ns\n  annotations:\n    x: \"1\"\n    y/z: two\n      words\nspec: {a: [1, 2, {b: c}], d: [[e]]}\n",
        "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\n  namespace: ns\r\n  annotations:\r\n    x: \"1\"\r\n    y/z: two words\r\n",
    ] {
        assert_eq!(assert_same_head(doc, true), Ok(Some(want.clone())), "{doc}");
    }
}

#[test]
fn head_reader_treats_non_strings_as_missing_like_a_value_read() {
    // Plain scalars resolve as YAML 1.1 does: booleans and nulls are not strings.
    for doc in [
        "apiVersion: v1\nkind: true\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind: ~\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind:\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind: [Pod]\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind: {a: b}\nmetadata:\n  name: a\n",
        "apiVersion: v1\nkind: Yes\nmetadata:\n  name: a\n",
    ] {
        let err = assert_same_head(doc, true).unwrap_err();
        assert!(err.ends_with("missing kind"), "{err}");
    }
    // Numbers are left to the full read, which agrees: not a string.
    let err = assert_same_head("apiVersion: v1\nkind: Pod\nmetadata:\n  name: 123\n", false);
    assert!(err.unwrap_err().ends_with("missing metadata.name"));
    // Quoted, they are strings.
    let got = assert_same_head(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"123\"\n",
        true,
    );
    assert_eq!(got, Ok(Some(head("v1", "Pod", "123"))));
    // metadata that is not a mapping has no name; annotations that are not strings are skipped.
    let err = assert_same_head("apiVersion: v1\nkind: Pod\nmetadata: [a]\n", true);
    assert!(err.unwrap_err().ends_with("missing metadata.name"));
    let got = assert_same_head(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    a: on\n    b: [x]\n    c: {d: e}\n    e: ''\n    f:\n",
        true,
    );
    let mut want = head("v1", "Pod", "a");
    want.annotations.insert("e".into(), String::new());
    assert_eq!(got, Ok(Some(want)));
    // An empty namespace is none; generateName stands in for a missing or empty name.
    let got = assert_same_head(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ''\n  generateName: p-\n  namespace: ''\n",
        true,
    );
    assert_eq!(got, Ok(Some(head("v1", "Pod", "p-"))));
}

#[test]
fn head_reader_lets_the_last_duplicate_key_win() {
    let got = assert_same_head(
        "apiVersion: v1\nkind: A\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    x: one\n    y: two\n    x: 3\nmetadata:\n  name: b\n  annotations:\n    y: two\n    y: three\n",
        false,
    );
    let mut want = head("v1", "Pod", "b");
    want.annotations.insert("y".into(), "three".into());
    assert_eq!(got, Ok(Some(want)));
    let got = assert_same_head(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  annotations:\n    x: one\n    x: [1]\n  annotations: {y: two}\n",
        true,
    );
    let mut want = head("v1", "Pod", "b");
    want.annotations.insert("y".into(), "two".into());
    assert_eq!(got, Ok(Some(want)));
    let err = assert_same_head(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nmetadata: gone\n",
        true,
    );
    assert!(err.unwrap_err().ends_with("missing metadata.name"));
}

#[test]
fn head_reader_leaves_anchors_tags_and_merge_keys_to_the_full_read() {
    for doc in [
        "apiVersion: v1\nkind: &k Service\nmetadata:\n  name: *k\n",
        "apiVersion: v1\nkind: Service\nmetadata: &m\n  name: s\nspec:\n  selector: *m\n",
        "apiVersion: v1\nkind: !!str Service\nmetadata:\n  name: s\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  <<: {name: s}\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec: !!map {a: b}\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  x:\n    <<: {a: b}\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  - !custom a\n",
    ] {
        assert!(assert_same_head(doc, false).is_ok(), "{doc}");
    }
}

#[test]
fn head_reader_finds_every_error_a_value_read_finds() {
    for doc in [
        // Syntax errors anywhere, not only in the head.
        "apiVersion: v1\nkind: [\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  x: 'open\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n bad: indent\n",
        // What the value reader rejects after parsing.
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  x: .inf\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  - [1e999]\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  ~: null key\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  [a]: list key\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec: *nowhere\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n...\nsecond: document\n",
        // Not a mapping at all.
        "- a\n- b\n",
        "just text",
        "'quoted'",
        "12",
    ] {
        let err = assert_same_head(doc, false).unwrap_err();
        assert!(err.starts_with("c/templates/x.yaml:"), "{err}");
    }
    // The position names the template line: the document starts on line 7.
    let err = head_by_scan("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n").unwrap_err();
    assert!(err.starts_with("c/templates/x.yaml:1"), "{err}");
    assert_eq!(
        err,
        head_by_value("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n").unwrap_err()
    );
    // A long run of comments where the parser looks ahead stops the fast reader; the full read
    // decides, so both agree whatever it decides.
    let mut doc = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n");
    for i in 0..40 {
        doc.push_str(&format!("# comment {i}\n"));
    }
    doc.push_str("  name: a\n");
    assert_same_head(&doc, false).ok();
}

#[test]
fn head_reader_sees_nothing_in_comment_only_and_null_documents() {
    for doc in ["# only a comment\n", "# one\n\n# two", "~", "null\n# c\n"] {
        assert_eq!(assert_same_head(doc, true), Ok(None), "{doc:?}");
    }
}

#[test]
fn reads_large_outputs_in_parallel_in_order_with_the_first_error() {
    let doc = |i: usize| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  k: {}\n",
            "x".repeat(200)
        )
    };
    let mut rendered = BTreeMap::new();
    for f in 0..40 {
        let text: Vec<String> = (0..10).map(|d| doc(f * 10 + d)).collect();
        rendered.insert(format!("c/templates/f{f:02}.yaml"), text.join("---\n"));
    }
    assert!(rendered.values().map(String::len).sum::<usize>() > PARALLEL_TEXT_BYTES);
    let sorted = sort_manifests(&rendered, KindOrder::Install).unwrap();
    let names: Vec<_> = sorted
        .manifests
        .iter()
        .map(|d| d.head.as_ref().unwrap().name.clone())
        .collect();
    let want: Vec<_> = (0..400).map(|i| format!("cm-{i}")).collect();
    assert_eq!(names, want);
    // Errors in both halves: the earlier one is reported, every time.
    rendered.insert("c/templates/f05.yaml".into(), "kind: [\n".into());
    rendered.insert("c/templates/f35.yaml".into(), "a: b\n".into());
    for _ in 0..5 {
        let err = sort_manifests(&rendered, KindOrder::Install).unwrap_err();
        assert!(
            err.to_string().starts_with("c/templates/f05.yaml:"),
            "{err}"
        );
    }
}

/// Every document Helm rendered for the corpus reads the same through the fast head reader as
/// through a full value read.
#[test]
fn head_reader_agrees_with_a_value_read_on_the_corpus() {
    let cases = corpus_dir().join("cases");
    let Ok(charts) = std::fs::read_dir(&cases) else {
        eprintln!(
            "corpus not found at {}: set RUDDER_CORPUS to compare head readers on it",
            cases.display()
        );
        return;
    };
    let (mut documents, mut slow) = (0, 0);
    for chart in charts.flatten() {
        for case in std::fs::read_dir(chart.path()).unwrap().flatten() {
            let dir = case.path();
            let mut texts = Vec::new();
            if let Ok(expected) = std::fs::read_to_string(dir.join("expected.yaml")) {
                texts.push(expected);
            }
            if let Ok(json) = std::fs::read_to_string(dir.join("expected.json")) {
                let rendered: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
                texts.extend(rendered.into_values());
            }
            for text in &texts {
                for (_, content) in split_documents(text) {
                    let by_value = head_by_value(&content);
                    assert_eq!(
                        head_by_scan(&content),
                        by_value,
                        "{}: {content}",
                        dir.display()
                    );
                    documents += 1;
                    if head::scan(&content) == head::Scan::Unsure {
                        slow += 1;
                    }
                }
            }
        }
    }
    eprintln!("{documents} corpus documents, {slow} left to the full read");
    assert!(documents > 1000, "only {documents} corpus documents found");
}

/// Templates read ahead (as `render_each` hands them over) sort exactly as reading them all
/// at the end does, whichever subset was read ahead, and report the same first error.
#[test]
fn templates_read_ahead_sort_like_templates_read_at_the_end() {
    let good = files(&[
        ("c/templates/a.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\n# only a comment\n"),
        (
            "c/templates/b.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-2\"\n",
        ),
        ("c/templates/c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"),
        ("c/templates/_x.tpl", "not: [yaml"),
        ("c/templates/NOTES.txt", "notes: ["),
        ("c/templates/empty.yaml", "  \n"),
    ]);
    let bad = files(&[
        (
            "c/templates/a.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
        ),
        ("c/templates/b.yaml", "kind: Pod\n"),
        ("c/templates/c.yaml", "apiVersion: v1\nkind: [\n"),
    ]);
    for rendered in [good, bad] {
        let plain = format!("{:?}", sort_manifests(&rendered, KindOrder::Install));
        let paths: Vec<&String> = rendered.keys().collect();
        for mask in 0..(1u32 << paths.len()) {
            let read: HashMap<String, ReadTemplate> = paths
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, p)| (p.to_string(), read_template(p, &rendered[*p])))
                .collect();
            let ahead = format!(
                "{:?}",
                sort_read_manifests(&rendered, read, KindOrder::Install)
            );
            assert_eq!(ahead, plain, "templates read ahead: mask {mask:b}");
        }
    }
}
