//! Printing a [`DiffReport`]: `diff` (helm-diff's headers, colored on a terminal, changed words
//! highlighted), `simple`, `json` and `markdown`.

use anstyle::{AnsiColor, Effects, Style};

use super::{Action, DiffReport, Line, ObjectDiff};

/// The output formats of `rudder diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Unified diff per object with helm-diff's headers.
    #[default]
    Diff,
    /// One line per object: `+` added, `-` removed, `~` changed.
    Simple,
    /// A stable JSON document for bots (see docs/diff.md).
    Json,
    /// A pull-request comment: summary table and collapsible diffs.
    Markdown,
}

/// Markdown output is capped so that it fits a pull-request comment.
pub const MARKDOWN_LIMIT: usize = 60_000;

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

fn header(entry: &ObjectDiff) -> (&'static str, Style) {
    match (entry.action, entry.suppressed) {
        (Action::Changed, true) if entry.lines.is_empty() => (
            "has changed, but diff is empty after suppression.",
            fg(AnsiColor::Blue),
        ),
        (_, true) => ("has changed (suppressed).", fg(AnsiColor::Blue)),
        (Action::Changed, _) => ("has changed:", fg(AnsiColor::Yellow)),
        (Action::Added, _) => ("has been added:", fg(AnsiColor::Green)),
        (Action::Removed, _) => ("has been removed:", fg(AnsiColor::Red)),
        (Action::Kept, _) => (
            "will be kept (helm.sh/resource-policy: keep).",
            fg(AnsiColor::Cyan),
        ),
        (Action::Unchanged, _) => ("is unchanged.", Style::new()),
    }
}

/// The default format. Prints nothing when nothing changed.
pub fn diff(report: &DiffReport, color: bool) -> String {
    let mut out = String::new();
    for entry in report
        .objects
        .iter()
        .filter(|o| o.action != Action::Unchanged)
    {
        let (words, style) = header(entry);
        out.push_str(&paint(
            color,
            style,
            &format!("{} {words}", entry.key.title()),
        ));
        out.push('\n');
        for field in &entry.immutable {
            let note = format!(
                "! immutable field {field} changes: the upgrade fails unless --force-replace"
            );
            out.push_str(&paint(
                color,
                fg(AnsiColor::Red).effects(Effects::BOLD),
                &note,
            ));
            out.push('\n');
        }
        push_lines(&mut out, &entry.lines, color);
    }
    if report.has_changes() || report.summary().kept > 0 {
        out.push_str(&format!("{}\n", report.summary()));
    }
    out
}

/// Writes diff lines; a run of removed lines followed by added lines is paired line by line and
/// the changed words are emphasised.
fn push_lines(out: &mut String, lines: &[Line], color: bool) {
    let red = fg(AnsiColor::Red);
    let green = fg(AnsiColor::Green);
    let mut i = 0;
    while i < lines.len() {
        match &lines[i] {
            Line::Context(l) => out.push_str(&format!("  {l}\n")),
            Line::Skipped => out.push_str("...\n"),
            Line::Added(l) => {
                out.push_str(&format!("{}\n", paint(color, green, &format!("+ {l}"))))
            }
            Line::Removed(_) => {
                let removed: Vec<&str> = lines[i..]
                    .iter()
                    .map_while(|l| match l {
                        Line::Removed(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                let added: Vec<&str> = lines[i + removed.len()..]
                    .iter()
                    .map_while(|l| match l {
                        Line::Added(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                for (n, old) in removed.iter().enumerate() {
                    let text = match added.get(n) {
                        Some(new) if color => emphasise(old, new, true),
                        _ => paint(color, red, &format!("- {old}")),
                    };
                    out.push_str(&text);
                    out.push('\n');
                }
                for (n, new) in added.iter().enumerate() {
                    let text = match removed.get(n) {
                        Some(old) if color => emphasise(old, new, false),
                        _ => paint(color, green, &format!("+ {new}")),
                    };
                    out.push_str(&text);
                    out.push('\n');
                }
                i += removed.len() + added.len();
                continue;
            }
        }
        i += 1;
    }
}

/// One side of a changed line with the words that differ in reverse video.
fn emphasise(old: &str, new: &str, old_side: bool) -> String {
    use similar::{ChangeTag, TextDiff};
    let (base, prefix) = if old_side {
        (fg(AnsiColor::Red), "- ")
    } else {
        (fg(AnsiColor::Green), "+ ")
    };
    let strong = base.effects(Effects::INVERT);
    // Runs of equal and of changed words, each painted once.
    let mut runs: Vec<(bool, String)> = Vec::new();
    let diff = TextDiff::from_words(old, new);
    for change in diff.iter_all_changes() {
        let changed = match (change.tag(), old_side) {
            (ChangeTag::Equal, _) => false,
            (ChangeTag::Delete, true) | (ChangeTag::Insert, false) => true,
            _ => continue,
        };
        match runs.last_mut() {
            Some((last, text)) if *last == changed => text.push_str(change.value()),
            _ => runs.push((changed, change.value().to_string())),
        }
    }
    let mut out = paint(true, base, prefix);
    for (changed, text) in runs {
        out.push_str(&paint(true, if changed { strong } else { base }, &text));
    }
    out
}

/// `+`/`-`/`~` per object and the summary.
pub fn simple(report: &DiffReport, color: bool) -> String {
    let mut out = String::new();
    for entry in report
        .objects
        .iter()
        .filter(|o| o.action != Action::Unchanged)
    {
        let (sign, style) = match entry.action {
            Action::Added => ("+", fg(AnsiColor::Green)),
            Action::Removed => ("-", fg(AnsiColor::Red)),
            Action::Kept => ("=", fg(AnsiColor::Cyan)),
            _ => ("~", fg(AnsiColor::Yellow)),
        };
        let mut line = format!("{sign} {}", entry.key.title());
        if entry.hook {
            line.push_str(" (hook)");
        }
        if entry.suppressed {
            line.push_str(" (suppressed)");
        }
        if entry.action == Action::Kept {
            line.push_str(" (kept: helm.sh/resource-policy)");
        }
        for field in &entry.immutable {
            line.push_str(&format!(" (immutable {field})"));
        }
        out.push_str(&paint(color, style, &line));
        out.push('\n');
    }
    if report.has_changes() || report.summary().kept > 0 {
        out.push_str(&format!("{}\n", report.summary()));
    }
    out
}

/// The JSON document (schema in docs/diff.md): `{summary, objects: [...]}`, unchanged objects
/// left out of `objects`.
pub fn json(report: &DiffReport) -> String {
    let objects: Vec<serde_json::Value> = report
        .objects
        .iter()
        .filter(|o| o.action != Action::Unchanged)
        .map(|o| {
            serde_json::json!({
                "apiVersion": o.key.api_version,
                "kind": o.key.kind,
                "namespace": o.key.namespace,
                "name": o.key.name,
                "action": o.action,
                "hook": o.hook,
                "suppressed": o.suppressed,
                "immutableFields": o.immutable,
                "linesAdded": o.added_lines,
                "linesRemoved": o.removed_lines,
                "diff": o.unified(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "summary": report.summary(),
        "changes": report.has_changes(),
        "objects": objects,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// A pull-request comment: summary, a table of objects, then a collapsible diff per object,
/// capped at [`MARKDOWN_LIMIT`] characters with a note saying what was cut.
pub fn markdown(report: &DiffReport) -> String {
    let summary = report.summary();
    let entries: Vec<&ObjectDiff> = report
        .objects
        .iter()
        .filter(|o| o.action != Action::Unchanged)
        .collect();
    let mut out = String::from("### rudder diff\n\n");
    if entries.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    out.push_str(&format!("**{summary}**\n\n"));
    out.push_str("| Object | Action | Lines |\n|---|---|---|\n");
    for o in &entries {
        let mut action = format!("{:?}", o.action).to_lowercase();
        if o.hook {
            action.push_str(" (hook)");
        }
        if o.suppressed {
            action.push_str(" (suppressed)");
        }
        if !o.immutable.is_empty() {
            action.push_str(&format!(" ⚠️ immutable: {}", o.immutable.join(", ")));
        }
        out.push_str(&format!(
            "| `{}` | {} | +{} −{} |\n",
            o.key.title().replace('|', "\\|"),
            action,
            o.added_lines,
            o.removed_lines
        ));
    }
    out.push('\n');
    for (shown, o) in entries.iter().filter(|o| !o.lines.is_empty()).enumerate() {
        let body = o.unified();
        let fence = fence_for(&body);
        let block = format!(
            "<details><summary><code>{}</code> {}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\n",
            html_escape(&o.key.title()),
            format!("{:?}", o.action).to_lowercase(),
        );
        if out.len() + block.len() > MARKDOWN_LIMIT - 300 {
            let total = entries.iter().filter(|o| !o.lines.is_empty()).count();
            out.push_str(&format!(
                "> **Output cut:** {} of {total} object diffs not shown to stay under {MARKDOWN_LIMIT} characters; run `rudder diff` with `--output diff` for all of them.\n",
                total - shown
            ));
            return out;
        }
        out.push_str(&block);
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
