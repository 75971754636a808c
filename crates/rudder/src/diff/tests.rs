use serde_json::json;

use super::*;

fn deployment(image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
    })
}

fn pair(before: Option<Value>, after: Option<Value>) -> Pair {
    let key = ObjectKey::of(before.as_ref().or(after.as_ref()).unwrap());
    Pair {
        key,
        before,
        after,
        kept: false,
        hook: false,
    }
}

#[test]
fn header_uses_helm_diff_words() {
    let key = ObjectKey::of(&deployment("a", 1));
    assert_eq!(key.title(), "shop, web, Deployment (apps)");
    let cm =
        ObjectKey::of(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}));
    assert_eq!(cm.title(), ", c, ConfigMap (v1)");
}

#[test]
fn identical_objects_are_unchanged_despite_server_fields() {
    let mut live = deployment("nginx:1", 2);
    live["metadata"]["uid"] = json!("abc");
    live["status"] = json!({"replicas": 2});
    let report = compare(
        vec![pair(Some(live), Some(deployment("nginx:1", 2)))],
        &DiffOptions::default(),
    );
    assert!(!report.has_changes());
    assert_eq!(report.summary().unchanged, 1);
    assert_eq!(render::diff(&report, false), "");
}

#[test]
fn changed_image_shows_one_line_each_side() {
    let report = compare(
        vec![pair(
            Some(deployment("nginx:1", 2)),
            Some(deployment("nginx:2", 2)),
        )],
        &DiffOptions::default(),
    );
    let text = render::diff(&report, false);
    assert!(
        text.starts_with("shop, web, Deployment (apps) has changed:\n"),
        "{text}"
    );
    assert!(text.contains("-       - image: nginx:1\n"), "{text}");
    assert!(text.contains("+       - image: nginx:2\n"), "{text}");
    assert!(
        text.ends_with("1 changed, 0 added, 0 removed, 0 unchanged\n"),
        "{text}"
    );
    assert_eq!(report.objects[0].added_lines, 1);
    assert_eq!(report.objects[0].removed_lines, 1);
}

#[test]
fn context_collapses_far_lines() {
    let report = compare(
        vec![pair(
            Some(deployment("nginx:1", 2)),
            Some(deployment("nginx:1", 3)),
        )],
        &DiffOptions {
            context: 0,
            ..Default::default()
        },
    );
    let text = report.objects[0].unified();
    assert_eq!(text, "...\n-   replicas: 2\n+   replicas: 3\n...\n");
}

#[test]
fn suppressed_lines_do_not_count() {
    let report = compare(
        vec![pair(
            Some(deployment("nginx:1", 2)),
            Some(deployment("nginx:2", 2)),
        )],
        &DiffOptions {
            suppress_lines: vec![Regex::new("image:").unwrap()],
            ..Default::default()
        },
    );
    assert!(!report.has_changes());
    assert!(report.objects[0].suppressed);
    assert!(render::diff(&report, false).contains("diff is empty after suppression"));
}

#[test]
fn suppressed_kinds_do_not_count() {
    let report = compare(
        vec![pair(None, Some(deployment("nginx:1", 2)))],
        &DiffOptions {
            suppress_kinds: vec!["deployment".into()],
            ..Default::default()
        },
    );
    assert!(!report.has_changes());
    assert_eq!(report.summary().suppressed, 1);
}

#[test]
fn immutable_selector_change_is_flagged() {
    let mut after = deployment("nginx:1", 2);
    after["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
    let report = compare(
        vec![pair(Some(deployment("nginx:1", 2)), Some(after))],
        &DiffOptions::default(),
    );
    assert_eq!(
        report.objects[0].immutable,
        vec!["spec.selector".to_string()]
    );
    assert!(render::diff(&report, false).contains("! immutable field spec.selector"));
}

#[test]
fn order_is_changed_removed_kept_added() {
    let cm = |n: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}, "data": {"a": n}});
    let mut kept = pair(Some(cm("k")), None);
    kept.kept = true;
    let report = compare(
        vec![
            pair(None, Some(cm("new"))),
            kept,
            pair(Some(cm("old")), None),
            pair(Some(cm("x")), Some(cm("y"))),
        ],
        &DiffOptions::default(),
    );
    let actions: Vec<Action> = report.objects.iter().map(|o| o.action).collect();
    assert_eq!(
        actions,
        vec![
            Action::Changed,
            Action::Removed,
            Action::Kept,
            Action::Added
        ]
    );
    let simple = render::simple(&report, false);
    assert!(simple.contains("+ , new, ConfigMap (v1)\n"), "{simple}");
    assert!(simple.contains("- , old, ConfigMap (v1)\n"), "{simple}");
}

#[test]
fn secret_values_never_reach_any_format() {
    let secret = |v: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"stringData\":{{\"p\":\"{v}\"}}}}")}},
        "stringData": {"p": v}})
    };
    let report = compare(
        vec![pair(
            Some(secret("hunter2-old")),
            Some(secret("hunter2-new")),
        )],
        &DiffOptions::default(),
    );
    for text in [
        render::diff(&report, true),
        render::diff(&report, false),
        render::simple(&report, false),
        render::json(&report),
        render::markdown(&report),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    let text = render::diff(&report, false);
    assert!(text.contains("-   p: -------- # (11 bytes)"), "{text}");
    assert!(text.contains("+   p: ++++++++ # (11 bytes)"), "{text}");
}

#[test]
fn markdown_is_capped_with_a_note() {
    let big = |i: usize, v: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")},
        "data": {"blob": v.repeat(3000)}})
    };
    let pairs = (0..40)
        .map(|i| pair(Some(big(i, "a")), Some(big(i, "b"))))
        .collect();
    let report = compare(pairs, &DiffOptions::default());
    let text = render::markdown(&report);
    assert!(text.len() <= render::MARKDOWN_LIMIT, "{}", text.len());
    assert!(text.contains("**Output cut:**"));
    assert!(
        text.contains("| `, c0, ConfigMap (v1)` | changed | +1 −1 |"),
        "{}",
        &text[..600]
    );
}

#[test]
fn json_lists_changes_with_a_stable_shape() {
    let report = compare(
        vec![pair(None, Some(deployment("nginx:1", 1)))],
        &DiffOptions::default(),
    );
    let doc: Value = serde_json::from_str(&render::json(&report)).unwrap();
    assert_eq!(doc["changes"], json!(true));
    assert_eq!(doc["summary"]["added"], json!(1));
    assert_eq!(doc["objects"][0]["action"], json!("added"));
    assert_eq!(doc["objects"][0]["kind"], json!("Deployment"));
    assert!(doc["objects"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("+ kind: Deployment"));
}
