//! Sprig's regex functions with Go's `regexp` (RE2) semantics on the `regex` crate: Perl
//! classes (`\d \w \s \b`) are ASCII-only as in Go, repeated matching skips an empty match
//! right after a previous match as Go does, and replacements expand `$1`, `${1}`, `$name`,
//! `${name}` and `$$` by Go's rules.

use regex::{Captures, Regex};

use super::cast::{int_param, str_param, string_list};
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

/// Rewrites Go's ASCII-only Perl classes into forms the `regex` crate reads the same way.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut class_depth = 0usize;
    // Just after `[` or `[^`, a `]` is a literal, not the end of the class.
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class_depth > 0;
                let replacement = match (next, inside) {
                    ('d', false) => Some("[0-9]"),
                    ('D', false) => Some("[^0-9]"),
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('W', false) => Some("[^0-9A-Za-z_]"),
                    ('s', false) => Some("[\\t\\n\\x0C\\r ]"),
                    ('S', false) => Some("[^\\t\\n\\x0C\\r ]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    ('d', true) => Some("0-9"),
                    ('D', true) => Some("[^0-9]"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('W', true) => Some("[^0-9A-Za-z_]"),
                    ('s', true) => Some("\\t\\n\\x0C\\r "),
                    ('S', true) => Some("[^\\t\\n\\x0C\\r ]"),
                    _ => None,
                };
                match replacement {
                    Some(r) => {
                        out.push_str(r);
                        // Go reads `-` after a class escape (`[\w-.]`) as a literal hyphen;
                        // `regex` would read a range.
                        if inside && chars.peek() == Some(&'-') {
                            chars.next();
                            out.push_str("\\-");
                        }
                    }
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                if class_depth > 0 {
                    if chars.peek() == Some(&':') {
                        // A POSIX class like [:alpha:] inside a bracket expression.
                        out.push('[');
                        for p in chars.by_ref() {
                            out.push(p);
                            if p == ']' {
                                break;
                            }
                        }
                    } else {
                        // Go reads `[` inside a class literally; `regex` would nest a class.
                        out.push_str("\\[");
                    }
                    class_start = false;
                    continue;
                }
                out.push('[');
                class_depth += 1;
                class_start = true;
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            ']' if class_depth > 0 && !class_start => {
                class_depth -= 1;
                out.push(']');
            }
            // Go reads a `{` that does not start a repetition count (`{2}`, `{2,}`, `{2,5}`)
            // as a literal; `regex` rejects it.
            '{' if class_depth == 0 && !starts_repetition(chars.clone()) => {
                out.push_str("\\{");
            }
            // Set operators in `regex` classes (`&&`, `~~`) are plain characters in Go.
            '&' | '~' if class_depth > 0 => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
        class_start = false;
    }
    out
}

/// Whether the text after a `{` is a repetition count: digits, optionally `,` and digits, `}`.
fn starts_repetition(mut rest: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut c = rest.next();
    while matches!(c, Some('0'..='9')) {
        digits += 1;
        c = rest.next();
    }
    if digits == 0 {
        return false;
    }
    if c == Some(',') {
        c = rest.next();
        while matches!(c, Some('0'..='9')) {
            c = rest.next();
        }
    }
    c == Some('}')
}

/// Compiles a Go regular expression, with Go's error prefix.
fn compile(pattern: &str) -> Result<Regex, FuncError> {
    // Charts call `regexReplaceAll` with the same few patterns in every helper (bitnami's
    // `common.names.*`), and compiling a regex costs far more than running it: keep each one.
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, Regex>> =
            std::cell::RefCell::default();
    }
    if let Some(re) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = compile_uncached(pattern)?;
    COMPILED.with(|c| c.borrow_mut().insert(pattern.to_string(), re.clone()));
    Ok(re)
}

fn compile_uncached(pattern: &str) -> Result<Regex, FuncError> {
    Regex::new(&translate(pattern)).map_err(|e| {
        let detail = e.to_string();
        let last = detail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid pattern")
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        FuncError::new(format!("error parsing regexp: {last}: `{pattern}`"))
    })
}

/// What Go's `regexp.MustCompile` panics with.
fn must_compile(pattern: &str) -> Result<Regex, FuncError> {
    compile(pattern).map_err(|e| FuncError::new(format!("regexp: Compile(`{pattern}`): {e}")))
}

/// Go's `allMatches`: successive matches, at most `n` (all when negative), skipping an empty
/// match that starts where the previous match ended.
fn all_matches<'h>(re: &Regex, s: &'h str, n: i64) -> Vec<Captures<'h>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut prev_end: Option<usize> = None;
    while (n < 0 || (out.len() as i64) < n) && pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else {
            break;
        };
        let (start, end) = match caps.get(0) {
            Some(m) => (m.start(), m.end()),
            None => break,
        };
        let mut accept = true;
        if end == pos {
            if Some(start) == prev_end {
                accept = false;
            }
            pos += s[pos..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = end;
        }
        prev_end = Some(end);
        if accept {
            out.push(caps);
        }
    }
    out
}

/// Go's `Regexp.Expand` of a replacement template for one match.
fn expand(template: &str, caps: &Captures, re: &Regex, out: &mut String) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let (name, after) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(end)
                    if end > 0
                        && braced[..end]
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    (&braced[..end], &braced[end + 1..])
                }
                _ => {
                    out.push('$');
                    continue;
                }
            }
        } else {
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if len == 0 {
                out.push('$');
                continue;
            }
            (&rest[..len], &rest[len..])
        };
        rest = after;
        let group = match name.parse::<usize>() {
            Ok(n) => caps.get(n),
            Err(_) => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
}

/// Go's `ReplaceAllString`/`ReplaceAllLiteralString`.
fn replace_all(re: &Regex, s: &str, repl: &str, literal: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_end = 0;
    let mut search = 0;
    while search <= s.len() {
        let Some(caps) = re.captures_at(s, search) else {
            break;
        };
        let Some(m) = caps.get(0) else {
            break;
        };
        out.push_str(&s[last_end..m.start()]);
        // No replacement for an empty match right after another match.
        if m.end() > last_end || m.start() == 0 {
            if literal {
                out.push_str(repl);
            } else {
                expand(repl, &caps, re, &mut out);
            }
        }
        last_end = m.end();
        let width = s[search..].chars().next().map_or(1, char::len_utf8);
        if search + width > m.end() {
            search += width;
        } else if search + 1 > m.end() {
            search += 1;
        } else {
            search = m.end();
        }
    }
    out.push_str(&s[last_end.min(s.len())..]);
    out
}

/// Go's `Regexp.Split`.
fn split(re: &Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for caps in all_matches(re, s, n) {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        let Some(m) = caps.get(0) else { continue };
        end = m.start();
        if m.end() != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}

type Compiler = fn(&str) -> Result<Regex, FuncError>;

fn match_with(name: &str, args: &[Value], lenient: bool) -> Result<Value, FuncError> {
    arity(name, args, 2)?;
    match compile(&str_param(&args[0])) {
        Ok(re) => Ok(Value::Bool(re.is_match(&str_param(&args[1])))),
        Err(_) if lenient => Ok(Value::Bool(false)),
        Err(e) => Err(e),
    }
}

/// `regexMatch REGEX S`: false for a bad pattern.
fn regex_match(args: &[Value]) -> Result<Value, FuncError> {
    match_with("regexMatch", args, true)
}

fn must_regex_match(args: &[Value]) -> Result<Value, FuncError> {
    match_with("mustRegexMatch", args, false)
}

fn find_all_with(name: &str, args: &[Value], compile: Compiler) -> Result<Value, FuncError> {
    arity(name, args, 3)?;
    let re = compile(&str_param(&args[0]))?;
    let s = str_param(&args[1]);
    let n = int_param(&args[2]);
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    let found = all_matches(&re, &s, n)
        .iter()
        .filter_map(|c| c.get(0).map(|m| m.as_str().to_string()))
        .collect::<Vec<_>>();
    Ok(string_list(found))
}

/// `regexFindAll REGEX S N`: up to N matches (all when N < 0).
fn regex_find_all(args: &[Value]) -> Result<Value, FuncError> {
    find_all_with("regexFindAll", args, must_compile)
}

fn must_regex_find_all(args: &[Value]) -> Result<Value, FuncError> {
    find_all_with("mustRegexFindAll", args, compile)
}

fn find_with(name: &str, args: &[Value], compile: Compiler) -> Result<Value, FuncError> {
    arity(name, args, 2)?;
    let re = compile(&str_param(&args[0]))?;
    let s = str_param(&args[1]);
    Ok(Value::from(re.find(&s).map_or("", |m| m.as_str())))
}

/// `regexFind REGEX S`: the first match or "".
fn regex_find(args: &[Value]) -> Result<Value, FuncError> {
    find_with("regexFind", args, must_compile)
}

fn must_regex_find(args: &[Value]) -> Result<Value, FuncError> {
    find_with("mustRegexFind", args, compile)
}

fn replace_with(
    name: &str,
    args: &[Value],
    compile: Compiler,
    literal: bool,
) -> Result<Value, FuncError> {
    arity(name, args, 3)?;
    let re = compile(&str_param(&args[0]))?;
    let (s, repl) = (str_param(&args[1]), str_param(&args[2]));
    Ok(Value::from(replace_all(&re, &s, &repl, literal)))
}

/// `regexReplaceAll REGEX S REPL`: REPL with `$1`/`${name}` expanded.
fn regex_replace_all(args: &[Value]) -> Result<Value, FuncError> {
    replace_with("regexReplaceAll", args, must_compile, false)
}

fn must_regex_replace_all(args: &[Value]) -> Result<Value, FuncError> {
    replace_with("mustRegexReplaceAll", args, compile, false)
}

/// `regexReplaceAllLiteral REGEX S REPL`: REPL inserted as is.
fn regex_replace_all_literal(args: &[Value]) -> Result<Value, FuncError> {
    replace_with("regexReplaceAllLiteral", args, must_compile, true)
}

fn must_regex_replace_all_literal(args: &[Value]) -> Result<Value, FuncError> {
    replace_with("mustRegexReplaceAllLiteral", args, compile, true)
}

fn split_with(name: &str, args: &[Value], compile: Compiler) -> Result<Value, FuncError> {
    arity(name, args, 3)?;
    let re = compile(&str_param(&args[0]))?;
    let s = str_param(&args[1]);
    Ok(string_list(split(&re, &s, int_param(&args[2]))))
}

/// `regexSplit REGEX S N`.
fn regex_split(args: &[Value]) -> Result<Value, FuncError> {
    split_with("regexSplit", args, must_compile)
}

fn must_regex_split(args: &[Value]) -> Result<Value, FuncError> {
    split_with("mustRegexSplit", args, compile)
}

/// `regexQuoteMeta S`: Go's `regexp.QuoteMeta`, escaping exactly `\.+*?()|[]{}^$`.
fn regex_quote_meta(args: &[Value]) -> Result<Value, FuncError> {
    arity("regexQuoteMeta", args, 1)?;
    let s = str_param(&args[0]);
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::from(out))
}

pub(super) fn register(r: &mut Registry) {
    r.add("regexMatch", regex_match);
    r.add("mustRegexMatch", must_regex_match);
    r.add("regexFindAll", regex_find_all);
    r.add("mustRegexFindAll", must_regex_find_all);
    r.add("regexFind", regex_find);
    r.add("mustRegexFind", must_regex_find);
    r.add("regexReplaceAll", regex_replace_all);
    r.add("mustRegexReplaceAll", must_regex_replace_all);
    r.add("regexReplaceAllLiteral", regex_replace_all_literal);
    r.add("mustRegexReplaceAllLiteral", must_regex_replace_all_literal);
    r.add("regexSplit", regex_split);
    r.add("mustRegexSplit", must_regex_split);
    r.add("regexQuoteMeta", regex_quote_meta);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{i, s, show};

    #[test]
    fn matching_uses_go_syntax_and_ascii_classes() {
        assert_eq!(show("regexMatch", &[s(r"^[a-z]+\d$"), s("abc1")]), "true");
        assert_eq!(show("regexMatch", &[s(r"\d"), s("٣")]), "false");
        assert_eq!(show("regexMatch", &[s("("), s("x")]), "false");
        assert_eq!(show("regexMatch", &[s(r"^\w+$"), s("héllo")]), "false");
        assert_eq!(show("regexMatch", &[s(r"\bfoo\b"), s("a foo b")]), "true");
        assert_eq!(show("regexMatch", &[s("[[:alpha:]]+"), s("ab")]), "true");
        assert_eq!(show("regexMatch", &[s("[[]"), s("[")]), "true");
        assert_eq!(show("regexMatch", &[s("[a&&b]"), s("&")]), "true");
        assert_eq!(show("regexMatch", &[s("(?i)ABC"), s("xabcx")]), "true");
        assert_eq!(
            show("regexMatch", &[s(r"^[\w-\.]+$"), s("my-master.1")]),
            "true"
        );
        assert_eq!(show("regexMatch", &[s(r"[\d-z]"), s("-")]), "true");
        assert_eq!(show("regexMatch", &[s(r"[^\s]"), s(" ")]), "false");
        assert_eq!(show("mustRegexFind", &[s("a{2"), s("xa{2")]), "a{2");
        assert!(
            show("mustRegexMatch", &[s("("), s("x")]).starts_with("error: error parsing regexp: ")
        );
        assert!(show("regexFind", &[s("("), s("x")])
            .starts_with("error: regexp: Compile(`(`): error parsing regexp: "));
    }

    #[test]
    fn finding() {
        let digits = s("123456789");
        assert_eq!(
            show("regexFindAll", &[s("[2,4,6,8]"), digits.clone(), i(-1)]),
            "[2 4 6 8]"
        );
        assert_eq!(
            show("regexFindAll", &[s("[2,4,6,8]"), digits, i(2)]),
            "[2 4]"
        );
        assert_eq!(
            show("regexFindAll", &[s("a*"), s("baaab"), i(-1)]),
            "[ aaa ]"
        );
        assert_eq!(show("regexFindAll", &[s("x"), s("abc"), i(-1)]), "[]");
        assert_eq!(show("regexFindAll", &[s("a"), s("aaa"), i(0)]), "[]");
        assert_eq!(
            show("regexFind", &[s("[a-zA-Z][1-9]"), s("abcd1234")]),
            "d1"
        );
        assert_eq!(show("regexFind", &[s("z"), s("abc")]), "");
    }

    #[test]
    fn replacing_expands_like_go() {
        let src = s("-ab-axxb-");
        let cases = [
            ("a(x*)b", "${1}W", "-W-xxW-"),
            ("a(x*)b", "$1W", "---"),
            ("a(?P<x>x*)b", "<$x>", "-<>-<xx>-"),
        ];
        for (re, repl, want) in cases {
            assert_eq!(
                show("regexReplaceAll", &[s(re), src.clone(), s(repl)]),
                want,
                "{re} {repl}"
            );
        }
        assert_eq!(
            show("regexReplaceAll", &[s("a*"), s("baaab"), s("-")]),
            "-b-b-"
        );
        assert_eq!(
            show("regexReplaceAll", &[s("b"), s("abc"), s("$$ $ ${ $2 ${x")]),
            "a$ $ ${  ${xc"
        );
        assert_eq!(
            show("regexReplaceAllLiteral", &[s("a(x*)b"), src, s("${1}")]),
            "-${1}-${1}-"
        );
        assert_eq!(
            show("regexReplaceAll", &[s(""), s("abc"), s("-")]),
            "-a-b-c-"
        );
        assert_eq!(
            show("regexReplaceAll", &[s("(?m)^"), s("a\nb"), s("> ")]),
            "> a\n> b"
        );
        assert_eq!(
            show("regexReplaceAll", &[s(r"\s+"), s("a \t\u{a0}b"), s("_")]),
            "a_\u{a0}b"
        );
    }

    #[test]
    fn splitting() {
        assert_eq!(show("regexSplit", &[s("z+"), s("pizza"), i(-1)]), "[pi a]");
        assert_eq!(show("regexSplit", &[s("z+"), s("pizza"), i(1)]), "[pizza]");
        assert_eq!(show("regexSplit", &[s(""), s("abc"), i(-1)]), "[a b c]");
        assert_eq!(show("regexSplit", &[s("x*"), s("axxb"), i(-1)]), "[a b]");
        assert_eq!(show("regexSplit", &[s(","), s("a,b,c"), i(2)]), "[a b,c]");
        assert_eq!(show("regexSplit", &[s(","), s("a,b,c"), i(0)]), "[]");
    }

    #[test]
    fn quote_meta_escapes_only_go_specials() {
        assert_eq!(
            show("regexQuoteMeta", &[s("1.2.3+[a]{b}#&-~")]),
            r"1\.2\.3\+\[a\]\{b\}#&-~"
        );
    }
}
