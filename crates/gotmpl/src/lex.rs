//! The lexer: template text into Go `text/template` tokens, with `{{-`/`-}}` trimming and
//! `{{/* comments */}}` handled here as Go's lexer does.

use std::borrow::Cow;

use crate::parse::ParseError;

/// A token kind. Names, text and literals borrow the template source: the parser reads tokens
/// in place and copies only what its tree keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok<'s> {
    /// Plain text between actions (already trimmed by neighbouring trim markers).
    Text(&'s str),
    LeftDelim,
    RightDelim,
    /// A bare word: a function name or a keyword (`if`, `range`, `end`, ...).
    Ident(&'s str),
    /// `.Name` (one segment; chains are consecutive Field tokens).
    Field(&'s str),
    /// `$` or `$name`.
    Variable(&'s str),
    /// A lone `.`.
    Dot,
    /// A quoted or raw string, already unescaped (borrowed when it has no escapes).
    Str(Cow<'s, str>),
    /// A character constant such as `'a'`, as its code point.
    Char(i64),
    /// A number literal as written.
    Number(&'s str),
    Bool(bool),
    Nil,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    /// Whitespace inside an action (separates arguments).
    Space,
    Eof,
}

/// A token with its byte offset in the template source.
#[derive(Debug, Clone)]
pub struct Item<'s> {
    pub tok: Tok<'s>,
    pub pos: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `src` into tokens. Errors carry the byte offset of the problem.
pub fn lex(src: &str) -> Result<Vec<Item<'_>>, ParseError> {
    let bytes = src.as_bytes();
    // Roughly one token per 6 bytes of template source; sizing once avoids regrowing.
    let mut items = Vec::with_capacity(src.len() / 6 + 4);
    let mut pos = 0;
    // Whether the previous action ended with `-}}`: the next text loses its leading spaces.
    let mut trim_next = false;
    while pos <= bytes.len() {
        let next = find_left_delim(src, pos);
        let text_end = next.unwrap_or(bytes.len());
        let mut text = &src[pos..text_end];
        let mut left_trim = false;
        if let Some(start) = next {
            if bytes.get(start + 2) == Some(&b'-')
                && bytes.get(start + 3).copied().is_some_and(is_space)
            {
                left_trim = true;
            }
        }
        if trim_next {
            text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
        }
        if left_trim {
            text = text.trim_end_matches(|c: char| c.is_ascii_whitespace());
        }
        if !text.is_empty() {
            items.push(Item {
                tok: Tok::Text(text),
                pos,
            });
        }
        let Some(start) = next else { break };
        let mut p = start + 2;
        if left_trim {
            p += 2;
        }
        // Comments: `{{/*` ... `*/}}`, optionally with trim markers around them.
        let after_space = skip_spaces(bytes, p);
        if src[if left_trim { after_space } else { p }..].starts_with("/*") {
            let cstart = if left_trim { after_space } else { p };
            let Some(end) = src[cstart + 2..].find("*/") else {
                return Err(ParseError::at(start, "unclosed comment"));
            };
            let mut q = cstart + 2 + end + 2;
            let mut right_trim = false;
            if src[q..].starts_with(" -}}")
                || (src[q..].starts_with(|c: char| c.is_ascii_whitespace())
                    && src[skip_spaces(bytes, q)..].starts_with("-}}"))
            {
                q = skip_spaces(bytes, q) + 3;
                right_trim = true;
            } else if src[q..].starts_with("}}") {
                q += 2;
            } else {
                return Err(ParseError::at(
                    start,
                    "comment ends before closing delimiter",
                ));
            }
            trim_next = right_trim;
            pos = q;
            continue;
        }
        items.push(Item {
            tok: Tok::LeftDelim,
            pos: start,
        });
        pos = lex_action(src, p, &mut items, &mut trim_next)?;
    }
    items.push(Item {
        tok: Tok::Eof,
        pos: src.len(),
    });
    Ok(items)
}

/// The offset of the next `{{` at or after `from` (a char boundary).
fn find_left_delim(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut p = from;
    // `str::find` with an ASCII char scans a word at a time; most of a template is text.
    while let Some(i) = src.get(p..)?.find('{') {
        let at = p + i;
        if bytes.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        p = at + 1;
    }
    None
}

fn skip_spaces(bytes: &[u8], mut p: usize) -> usize {
    while p < bytes.len() && is_space(bytes[p]) {
        p += 1;
    }
    p
}

/// Lexes the inside of one action starting at `p`; returns the offset after `}}`.
fn lex_action<'s>(
    src: &'s str,
    mut p: usize,
    items: &mut Vec<Item<'s>>,
    trim_next: &mut bool,
) -> Result<usize, ParseError> {
    let bytes = src.as_bytes();
    let mut paren_depth = 0usize;
    loop {
        if p >= bytes.len() {
            return Err(ParseError::at(p, "unclosed action"));
        }
        // Right delimiter, possibly with a trim marker.
        if is_space(bytes[p]) {
            let q = skip_spaces(bytes, p);
            if src[q..].starts_with("-}}") {
                items.push(Item {
                    tok: Tok::RightDelim,
                    pos: q,
                });
                *trim_next = true;
                return Ok(q + 3);
            }
            items.push(Item {
                tok: Tok::Space,
                pos: p,
            });
            p = q;
            continue;
        }
        if src[p..].starts_with("}}") {
            items.push(Item {
                tok: Tok::RightDelim,
                pos: p,
            });
            *trim_next = false;
            return Ok(p + 2);
        }
        let c = src[p..].chars().next().unwrap_or('\0');
        let start = p;
        match c {
            '|' => {
                items.push(Item {
                    tok: Tok::Pipe,
                    pos: p,
                });
                p += 1;
            }
            '(' => {
                paren_depth += 1;
                items.push(Item {
                    tok: Tok::LeftParen,
                    pos: p,
                });
                p += 1;
            }
            ')' => {
                if paren_depth == 0 {
                    return Err(ParseError::at(p, "unexpected right paren"));
                }
                paren_depth -= 1;
                items.push(Item {
                    tok: Tok::RightParen,
                    pos: p,
                });
                p += 1;
            }
            ',' => {
                items.push(Item {
                    tok: Tok::Comma,
                    pos: p,
                });
                p += 1;
            }
            ':' => {
                if bytes.get(p + 1) != Some(&b'=') {
                    return Err(ParseError::at(p, "expected :="));
                }
                items.push(Item {
                    tok: Tok::Declare,
                    pos: p,
                });
                p += 2;
            }
            '=' => {
                items.push(Item {
                    tok: Tok::Assign,
                    pos: p,
                });
                p += 1;
            }
            '"' => {
                let (s, end) = lex_quote(src, p)?;
                items.push(Item {
                    tok: Tok::Str(s),
                    pos: start,
                });
                p = end;
            }
            '`' => {
                let Some(end) = src[p + 1..].find('`') else {
                    return Err(ParseError::at(p, "unterminated raw quoted string"));
                };
                items.push(Item {
                    tok: Tok::Str(Cow::Borrowed(&src[p + 1..p + 1 + end])),
                    pos: start,
                });
                p = p + 1 + end + 1;
            }
            '\'' => {
                let (ch, end) = lex_char(src, p)?;
                items.push(Item {
                    tok: Tok::Char(ch),
                    pos: start,
                });
                p = end;
            }
            '$' => {
                let mut q = p + 1;
                while let Some(ch) = src[q..].chars().next().filter(|c| is_alnum(*c)) {
                    q += ch.len_utf8();
                }
                items.push(Item {
                    tok: Tok::Variable(&src[p..q]),
                    pos: start,
                });
                p = q;
            }
            '.' => {
                // A number like `.5`?
                if bytes.get(p + 1).is_some_and(|b| b.is_ascii_digit()) {
                    let end = lex_number_end(src, p);
                    items.push(Item {
                        tok: Tok::Number(&src[p..end]),
                        pos: start,
                    });
                    p = end;
                    continue;
                }
                let mut q = p + 1;
                while let Some(ch) = src[q..].chars().next().filter(|c| is_alnum(*c)) {
                    q += ch.len_utf8();
                }
                if q == p + 1 {
                    items.push(Item {
                        tok: Tok::Dot,
                        pos: p,
                    });
                } else {
                    items.push(Item {
                        tok: Tok::Field(&src[p + 1..q]),
                        pos: start,
                    });
                }
                p = q;
            }
            '0'..='9' | '+' | '-' => {
                let end = lex_number_end(src, p);
                if end == p || (end == p + 1 && (c == '+' || c == '-')) {
                    return Err(ParseError::at(p, format!("bad character {c:?}")));
                }
                items.push(Item {
                    tok: Tok::Number(&src[p..end]),
                    pos: start,
                });
                p = end;
            }
            c if is_alnum(c) => {
                let mut q = p;
                while let Some(ch) = src[q..].chars().next().filter(|c| is_alnum(*c)) {
                    q += ch.len_utf8();
                }
                let word = &src[p..q];
                let tok = match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(word),
                };
                items.push(Item { tok, pos: start });
                p = q;
            }
            other => {
                return Err(ParseError::at(
                    p,
                    format!("unexpected {other:?} in command"),
                ));
            }
        }
    }
}

fn lex_number_end(src: &str, p: usize) -> usize {
    let bytes = src.as_bytes();
    let mut q = p;
    if q < bytes.len() && (bytes[q] == b'+' || bytes[q] == b'-') {
        q += 1;
    }
    while q < bytes.len() {
        let b = bytes[q];
        let prev = if q > p { bytes[q - 1] } else { 0 };
        let ok = b.is_ascii_alphanumeric()
            || b == b'.'
            || b == b'_'
            || ((b == b'+' || b == b'-') && matches!(prev, b'e' | b'E' | b'p' | b'P'));
        if !ok {
            break;
        }
        q += 1;
    }
    q
}

/// Reads a Go double-quoted string starting at `p` (the quote); returns it unescaped and the
/// offset after the closing quote.
fn lex_quote(src: &str, p: usize) -> Result<(Cow<'_, str>, usize), ParseError> {
    // Most literals have no escapes: borrow those from the source.
    let body = &src[p + 1..];
    if let Some(end) = body.find(['"', '\\', '\n']) {
        if body.as_bytes()[end] == b'"' {
            return Ok((Cow::Borrowed(&body[..end]), p + 1 + end + 1));
        }
    }
    let mut out = String::new();
    let mut chars = src[p + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Cow::Owned(out), p + 1 + i + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String =
                            (0..n).filter_map(|_| chars.next().map(|x| x.1)).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| ParseError::at(p, "invalid escape in string"))?;
                        if e == 'x' {
                            // A byte escape; only ASCII bytes are representable in a Rust string.
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        } else {
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                    }
                    '0'..='7' => {
                        let mut oct = e.to_string();
                        for _ in 0..2 {
                            if let Some((_, d)) = chars.next() {
                                oct.push(d);
                            }
                        }
                        let code = u32::from_str_radix(&oct, 8)
                            .map_err(|_| ParseError::at(p, "invalid escape in string"))?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    _ => return Err(ParseError::at(p, "invalid escape in string")),
                }
            }
            c => out.push(c),
        }
    }
    Err(ParseError::at(p, "unterminated quoted string"))
}

fn lex_char(src: &str, p: usize) -> Result<(i64, usize), ParseError> {
    let rest = &src[p + 1..];
    let Some(end) = rest.find('\'') else {
        return Err(ParseError::at(p, "unterminated character constant"));
    };
    let body = &rest[..end];
    let ch = if let Some(esc) = body.strip_prefix('\\') {
        match esc {
            "n" => '\n',
            "t" => '\t',
            "r" => '\r',
            "\\" => '\\',
            "'" => '\'',
            "0" => '\0',
            _ => return Err(ParseError::at(p, "unsupported character escape")),
        }
    } else {
        let mut cs = body.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => c,
            _ => return Err(ParseError::at(p, "malformed character constant")),
        }
    };
    Ok((i64::from(ch as u32), p + 1 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        lex(src).unwrap().into_iter().map(|i| i.tok).collect()
    }

    #[test]
    fn trim_markers_eat_whitespace_on_their_side() {
        let t = toks("a  \n{{- 1 -}}\n  b");
        assert_eq!(t[0], Tok::Text("a"));
        assert_eq!(t.last(), Some(&Tok::Eof));
        assert!(t.contains(&Tok::Text("b")));
    }

    #[test]
    fn comments_vanish_and_may_trim() {
        let t = toks("a \n{{- /* note */ -}}\n b{{/* x */}}c");
        assert_eq!(
            t,
            vec![Tok::Text("a"), Tok::Text("b"), Tok::Text("c"), Tok::Eof]
        );
    }

    #[test]
    fn single_braces_stay_text() {
        assert_eq!(
            toks("a{b}{{ 1 }}{é{"),
            vec![
                Tok::Text("a{b}"),
                Tok::LeftDelim,
                Tok::Space,
                Tok::Number("1"),
                Tok::Space,
                Tok::RightDelim,
                Tok::Text("{é{"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn action_tokens() {
        let t = toks(r#"{{ $x := .Values.a | default "d\n" }}"#);
        assert!(t.contains(&Tok::Variable("$x")));
        assert!(t.contains(&Tok::Field("Values")));
        assert!(t.contains(&Tok::Str("d\n".into())));
        assert!(t.contains(&Tok::Declare));
    }
}
