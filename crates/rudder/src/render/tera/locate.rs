//! Turning Tera's errors into `file:line:column: message`.
//!
//! Tera 1 reports parse errors with a position but render errors (undefined variables, failing
//! filters) only with the template name, so the failing expression is searched for in the source.

use std::error::Error as _;

use super::Source;
use crate::render::RenderError;

/// Every message of a Tera error chain, outermost first.
fn chain(err: &tera::Error) -> Vec<String> {
    let mut messages = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(c) = cause {
        messages.push(c.to_string());
        cause = c.source();
    }
    messages
}

/// The text between the first pair of `open`/`close` after `marker`.
fn quoted_after<'a>(text: &'a str, marker: &str, open: char, close: char) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let start = rest.find(open)? + open.len_utf8();
    let end = start + rest[start..].find(close)?;
    Some(&rest[start..end])
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = 1 + before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, 1 + before[line_start..].chars().count())
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `offset` lies inside a `{{ }}` or `{% %}` tag.
fn inside_tag(text: &str, offset: usize) -> bool {
    let before = &text[..offset];
    let open = before.rfind("{{").max(before.rfind("{%"));
    let close = before.rfind("}}").max(before.rfind("%}"));
    match (open, close) {
        (Some(o), Some(c)) => o > c,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Offset of the first whole-word occurrence of `needle` inside a tag (or anywhere, failing that).
fn find_expression(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let mut fallback = None;
    for (pos, _) in text.match_indices(needle) {
        let before_ok = text[..pos]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != '.');
        let after_ok = text[pos + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        if !(before_ok && after_ok) {
            continue;
        }
        if inside_tag(text, pos) {
            return Some(pos);
        }
        fallback.get_or_insert(pos);
    }
    fallback
}

/// Finds `needle` in the failing template first, then in the helpers it may have called. The
/// first needle may be a message argument: the position then moves back to the call naming it
/// (`anchor`) on the same line.
fn locate(
    needles: &[&str],
    anchor: Option<&str>,
    current: &Source<'_>,
    all: &[Source<'_>],
) -> Option<(String, usize, usize)> {
    let candidates = std::iter::once(current).chain(all.iter().filter(|s| s.name != current.name));
    for source in candidates {
        for needle in needles {
            if let Some(mut pos) = find_expression(source.text, needle) {
                if let Some(anchor) = anchor {
                    let line_start = source.text[..pos].rfind('\n').map_or(0, |i| i + 1);
                    if let Some(a) = source.text[line_start..pos].rfind(anchor) {
                        pos = line_start + a;
                    }
                }
                let (line, column) = line_col(source.text, pos);
                return Some((source.path.clone(), line, column));
            }
        }
    }
    None
}

fn located(
    needles: &[&str],
    anchor: Option<&str>,
    current: &Source<'_>,
    all: &[Source<'_>],
    message: String,
) -> RenderError {
    match locate(needles, anchor, current, all) {
        Some((template, line, column)) => RenderError::Template {
            template,
            line,
            column,
            message,
        },
        None => RenderError::Other(format!("{}: {message}", current.path)),
    }
}

/// Explains a failed render of `current`.
pub(super) fn render_error(
    err: &tera::Error,
    current: &Source<'_>,
    all: &[Source<'_>],
) -> RenderError {
    let messages = chain(err);
    let innermost = messages.last().cloned().unwrap_or_default();

    if let Some(var) = messages
        .iter()
        .find_map(|m| quoted_after(m, "Variable ", '`', '`'))
    {
        let last = var.rsplit('.').next().unwrap_or(var);
        let message = format!(
            "undefined value `{var}`: it is not in the context (define it in values.yaml or give a fallback with `| default(value=...)`)"
        );
        let needles = [var, last];
        return located(&needles, None, current, all, message);
    }
    if let Some(filter) = messages
        .iter()
        .find_map(|m| quoted_after(m, "Filter call ", '\'', '\''))
    {
        let message = innermost
            .strip_prefix(&format!("{filter}: "))
            .unwrap_or(&innermost)
            .to_string();
        let message = if filter == "required" {
            message
        } else {
            format!("filter `{filter}` failed: {message}")
        };
        // The author's message locates the right `required` when there are several.
        let needles = [message.as_str(), filter];
        return located(&needles, Some(filter), current, all, message.clone());
    }
    if let Some(limit) = messages.iter().find(|m| {
        m.contains(crate::render::OUTPUT_RAISE_HINT) || m.starts_with(super::guard::TOO_DEEP)
    }) {
        let message = limit
            .strip_prefix(&format!("{}: ", super::guard::ENTER))
            .unwrap_or(limit);
        return RenderError::Other(format!("{}: {message}", current.path));
    }
    if let Some(function) = messages
        .iter()
        .find_map(|m| quoted_after(m, "Function call ", '\'', '\''))
    {
        if function == super::guard::DIVIDE {
            let message = innermost
                .strip_prefix(&format!("{function}: "))
                .unwrap_or(&innermost)
                .to_string();
            let source = quoted_after(&message, "", '`', '`').unwrap_or_default();
            let tight = source.replace(' ', "");
            let needles = [source, tight.as_str()];
            return located(&needles, None, current, all, message.clone());
        }
        let message = innermost
            .strip_prefix(&format!("{function}: "))
            .unwrap_or(&innermost)
            .to_string();
        let shown = if function == "fail" {
            message.clone()
        } else {
            format!("{function}() failed: {message}")
        };
        let needles = [message.as_str(), function];
        return located(&needles, Some(function), current, all, shown);
    }
    // Anything else (type errors, bad arithmetic): Tera's own words, with the file at least.
    let detail: Vec<&str> = messages.iter().skip(1).map(String::as_str).collect();
    let text = if detail.is_empty() {
        innermost
    } else {
        detail.join(": ")
    };
    RenderError::Other(format!("{}: {text}", current.path))
}

/// Explains a template that does not parse.
pub(super) fn parse_error(err: &tera::Error, all: &[Source<'_>]) -> RenderError {
    let messages = chain(err);
    let joined = messages.join("\n");
    let source = messages
        .iter()
        .find_map(|m| quoted_after(m, "Failed to parse", '\'', '\''))
        .and_then(|name| all.iter().find(|s| s.name == name));
    let position = messages.iter().find_map(|m| {
        let rest = &m[m.find("--> ")? + 4..];
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ':'))?;
        let (l, c) = rest[..end].split_once(':')?;
        Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?))
    });
    match (source, position) {
        (Some(source), Some((line, column))) => {
            let expected = messages
                .last()
                .and_then(|m| m.lines().find_map(|l| l.trim().strip_prefix("= ")))
                .unwrap_or("syntax error");
            RenderError::Template {
                template: source.path.clone(),
                line,
                column,
                message: format!("template syntax error: {expected}"),
            }
        }
        _ => {
            // Errors found after parsing (a missing import, a cyclic `extends`) name the
            // template and the file it wanted.
            let missing = messages
                .iter()
                .find_map(|m| quoted_after(m, "loads macros from", '`', '`'));
            let owner = messages
                .iter()
                .find_map(|m| quoted_after(m, "Template", '`', '`'))
                .and_then(|name| all.iter().find(|s| s.name == name));
            if let (Some(missing), Some(owner)) = (missing, owner) {
                if let Some(pos) = owner.text.find(missing) {
                    let (line, column) = line_col(owner.text, pos);
                    return RenderError::Template {
                        template: owner.path.clone(),
                        line,
                        column,
                        message: format!(
                            "imports macros from \"{missing}\", which is not a file of templates/ (library chart helpers are \"LIB/_file\")"
                        ),
                    };
                }
            }
            RenderError::Other(format!("template error: {}", joined.replace('\n', " ")))
        }
    }
}
