//! Diff: compare what a verb would apply with what the cluster (or a stored revision, or another
//! render) holds, redact Secrets, and render the result as a colored diff, simple lines, JSON or
//! Markdown.
//!
//! The pure part lives here: [`compare`] takes pairs of (before, after) objects and returns a
//! [`DiffReport`]; [`render`] prints it. Reading the cluster for live mode is in [`live`].
//!
//! Contract: no Secret `data`/`stringData` value ever reaches a report unless the caller asked
//! for [`SecretMode::Show`] or [`SecretMode::ShowDecoded`]; the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation (which copies Secret data) is
//! always dropped.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

pub mod live;
mod normalize;
mod redact;
pub mod render;

pub use normalize::IgnorePath;

/// Identifies an object in a diff: helm-diff's `namespace, name, Kind (group)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    /// Reads the key of an object.
    pub fn of(object: &Value) -> ObjectKey {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        ObjectKey {
            api_version: text(&object["apiVersion"]),
            kind: text(&object["kind"]),
            namespace: text(&object["metadata"]["namespace"]),
            name: text(&object["metadata"]["name"]),
        }
    }

    /// The API group as helm-diff prints it: `apps` for `apps/v1`, `v1` for the core group.
    pub fn group(&self) -> &str {
        match self.api_version.rsplit_once('/') {
            Some((group, _)) => group,
            None => &self.api_version,
        }
    }

    /// helm-diff's header key: `namespace, name, Kind (group)`.
    pub fn title(&self) -> String {
        format!(
            "{}, {}, {} ({})",
            self.namespace,
            self.name,
            self.kind,
            self.group()
        )
    }
}

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The object changes.
    Changed,
    /// The object is new.
    Added,
    /// The object is deleted.
    Removed,
    /// The object leaves the chart but stays in the cluster (`helm.sh/resource-policy: keep`).
    Kept,
    /// Nothing changes.
    Unchanged,
}

/// How Secret values appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretMode {
    /// Values replaced by markers with their sizes (the default).
    #[default]
    Redact,
    /// `--show-secrets`: values as stored (base64).
    Show,
    /// `--show-secrets-decoded`: values decoded.
    ShowDecoded,
}

/// Knobs of a comparison.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Unchanged lines shown around each change.
    pub context: usize,
    /// Kinds whose changes are hidden and not counted (`--suppress`).
    pub suppress_kinds: Vec<String>,
    /// Diff lines dropped when they match (`--suppress-output-line-regex`).
    pub suppress_lines: Vec<Regex>,
    /// Fields dropped from both sides (`--ignore-path`).
    pub ignore_paths: Vec<IgnorePath>,
    pub secrets: SecretMode,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            context: 3,
            suppress_kinds: Vec::new(),
            suppress_lines: Vec::new(),
            ignore_paths: Vec::new(),
            secrets: SecretMode::Redact,
        }
    }
}

/// One object to compare: its state before and after the operation.
#[derive(Debug, Clone)]
pub struct Pair {
    pub key: ObjectKey,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Leaves the chart but is kept (`helm.sh/resource-policy: keep`).
    pub kept: bool,
    /// A Helm hook (compared as rendered and stored: hooks are recreated when they run).
    pub hook: bool,
}

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Context(String),
    Removed(String),
    Added(String),
    /// A run of unchanged lines left out (`...`).
    Skipped,
}

/// The comparison of one object.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    pub key: ObjectKey,
    pub action: Action,
    /// The diff lines (empty for unchanged or suppressed objects).
    pub lines: Vec<Line>,
    pub added_lines: usize,
    pub removed_lines: usize,
    /// The kind is suppressed, or every changed line matched a suppression regex: the change is
    /// shown as such but not counted.
    pub suppressed: bool,
    /// Immutable fields this change touches (the apply would fail without `--force-replace`).
    pub immutable: Vec<String>,
    /// A Helm hook.
    pub hook: bool,
}

impl ObjectDiff {
    /// Whether this entry counts as a change (for `--detailed-exitcode` and the summary).
    pub fn counts(&self) -> bool {
        self.action != Action::Unchanged && !self.suppressed
    }

    /// The unified diff as plain text (`+ `, `- `, `  ` prefixes; `...` for skipped runs).
    pub fn unified(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Context(l) => out.push_str(&format!("  {l}\n")),
                Line::Removed(l) => out.push_str(&format!("- {l}\n")),
                Line::Added(l) => out.push_str(&format!("+ {l}\n")),
                Line::Skipped => out.push_str("...\n"),
            }
        }
        out
    }
}

/// Counts of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    pub kept: usize,
    pub unchanged: usize,
    pub suppressed: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} changed, {} added, {} removed, {} unchanged",
            self.changed, self.added, self.removed, self.unchanged
        )?;
        if self.kept > 0 {
            write!(f, ", {} kept", self.kept)?;
        }
        if self.suppressed > 0 {
            write!(f, ", {} suppressed", self.suppressed)?;
        }
        Ok(())
    }
}

/// The result of a comparison: one entry per object, in a stable order (changed, removed, kept,
/// added; by key within each).
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    pub objects: Vec<ObjectDiff>,
}

impl DiffReport {
    /// Whether anything counted changes (what `--detailed-exitcode` reports as 2).
    pub fn has_changes(&self) -> bool {
        self.objects.iter().any(ObjectDiff::counts)
    }

    /// Counts per action; suppressed changes are counted apart.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for o in &self.objects {
            if o.suppressed && o.action != Action::Unchanged {
                s.suppressed += 1;
                continue;
            }
            match o.action {
                Action::Changed => s.changed += 1,
                Action::Added => s.added += 1,
                Action::Removed => s.removed += 1,
                Action::Kept => s.kept += 1,
                Action::Unchanged => s.unchanged += 1,
            }
        }
        s
    }
}

/// Compares each pair and returns the report. Both sides are normalised (server bookkeeping
/// and ignored paths dropped) and Secrets redacted before any text is produced.
pub fn compare(pairs: Vec<Pair>, options: &DiffOptions) -> DiffReport {
    let mut objects: Vec<ObjectDiff> = pairs.into_iter().map(|p| compare_one(p, options)).collect();
    let rank = |a: Action| match a {
        Action::Changed => 0,
        Action::Removed => 1,
        Action::Kept => 2,
        Action::Added => 3,
        Action::Unchanged => 4,
    };
    objects.sort_by(|a, b| (rank(a.action), &a.key).cmp(&(rank(b.action), &b.key)));
    DiffReport { objects }
}

fn compare_one(pair: Pair, options: &DiffOptions) -> ObjectDiff {
    let Pair {
        key,
        before,
        after,
        kept,
        hook,
    } = pair;
    let mut before = before.map(|v| normalize::normalize(v, &options.ignore_paths));
    let mut after = after.map(|v| normalize::normalize(v, &options.ignore_paths));
    // Hooks are deleted and recreated when they run, so their immutable fields never block.
    let immutable = match (&before, &after) {
        (Some(b), Some(a)) if !hook => crate::release::apply::immutable_changes(&key.kind, b, a),
        _ => Vec::new(),
    };
    if key.kind == "Secret" {
        redact::redact(before.as_mut(), after.as_mut(), options.secrets);
    }
    let before_text = before.as_ref().map(redact::to_yaml).unwrap_or_default();
    let after_text = after.as_ref().map(redact::to_yaml).unwrap_or_default();
    let action = match (&before, &after) {
        (Some(_), None) if kept => Action::Kept,
        (Some(_), None) => Action::Removed,
        (None, Some(_)) => Action::Added,
        (Some(_), Some(_)) if before_text != after_text => Action::Changed,
        _ => Action::Unchanged,
    };
    let kind_suppressed = options
        .suppress_kinds
        .iter()
        .any(|k| k.eq_ignore_ascii_case(&key.kind));
    let mut entry = ObjectDiff {
        key,
        action,
        lines: Vec::new(),
        added_lines: 0,
        removed_lines: 0,
        suppressed: kind_suppressed && action != Action::Unchanged,
        immutable,
        hook,
    };
    if matches!(action, Action::Unchanged | Action::Kept) || entry.suppressed {
        return entry;
    }
    let lines = unified_lines(
        &before_text,
        &after_text,
        options.context,
        &options.suppress_lines,
    );
    entry.added_lines = lines.iter().filter(|l| matches!(l, Line::Added(_))).count();
    entry.removed_lines = lines
        .iter()
        .filter(|l| matches!(l, Line::Removed(_)))
        .count();
    if entry.added_lines + entry.removed_lines == 0 {
        // Every changed line matched --suppress-output-line-regex.
        entry.suppressed = true;
        return entry;
    }
    entry.lines = lines;
    entry
}

/// Line diff of two YAML texts with `context` lines around changes; lines matching a
/// suppression regex are dropped from the changes.
fn unified_lines(before: &str, after: &str, context: usize, suppress: &[Regex]) -> Vec<Line> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(before, after);
    let mut all: Vec<Line> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value().trim_end_matches('\n').to_string();
        let suppressed =
            change.tag() != ChangeTag::Equal && suppress.iter().any(|r| r.is_match(&text));
        if suppressed {
            continue;
        }
        all.push(match change.tag() {
            ChangeTag::Equal => Line::Context(text),
            ChangeTag::Delete => Line::Removed(text),
            ChangeTag::Insert => Line::Added(text),
        });
    }
    // Keep context lines within `context` of a change; collapse the rest into `...`.
    let changed: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, Line::Context(_)))
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let near = |i: usize| {
        changed
            .binary_search_by(|c| {
                if c + context < i {
                    std::cmp::Ordering::Less
                } else if *c > i + context {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    };
    let mut out = Vec::new();
    let mut skipping = false;
    for (i, line) in all.into_iter().enumerate() {
        if matches!(line, Line::Context(_)) && !near(i) {
            if !skipping {
                out.push(Line::Skipped);
                skipping = true;
            }
            continue;
        }
        skipping = false;
        out.push(line);
    }
    out
}

/// Pairs objects of two renders (or manifests) by key: everything in `before` only is removed,
/// in `after` only is added.
pub fn pair_by_key(before: Vec<Value>, after: Vec<Value>) -> Vec<Pair> {
    let mut map: BTreeMap<ObjectKey, (Option<Value>, Option<Value>)> = BTreeMap::new();
    for object in before {
        let key = ObjectKey::of(&object);
        map.entry(key).or_default().0 = Some(object);
    }
    for object in after {
        let key = ObjectKey::of(&object);
        map.entry(key).or_default().1 = Some(object);
    }
    map.into_iter()
        .map(|(key, (before, after))| Pair {
            key,
            before,
            after,
            kept: false,
            hook: false,
        })
        .collect()
}

/// Marks pairs as hooks.
pub fn as_hooks(mut pairs: Vec<Pair>) -> Vec<Pair> {
    for pair in &mut pairs {
        pair.hook = true;
    }
    pairs
}

#[cfg(test)]
mod tests;
