//! Sprig's string functions. Go strings are byte strings: where Sprig slices by byte offset
//! (`trunc`, `substr`, `abbrev`, `wrap`) we do too, and repair a cut UTF-8 sequence the way Go's
//! output would show it (as U+FFFD when printed).

use super::cast::{self, int_param, str_param, string_list};
use super::{arity, FuncError, Registry};
use gotmpl::fmt::go_quote;
use gotmpl::value::{Dict, Value};

/// Bytes of a Go string that may have been cut mid-character.
fn from_bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `unicode.ToUpper` on one rune: the simple mapping, never expanding to several runes.
fn upper_rune(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower_rune(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn go_upper(s: &str) -> String {
    s.chars().map(upper_rune).collect()
}

fn go_lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

fn one_str(name: &str, args: &[Value]) -> Result<String, FuncError> {
    arity(name, args, 1)?;
    Ok(str_param(&args[0]))
}

fn trim(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(one_str("trim", args)?.trim_matches(is_space)))
}

/// `trimAll CUTSET S`: Go's `strings.Trim(S, CUTSET)`.
fn trim_all(args: &[Value]) -> Result<Value, FuncError> {
    arity("trimAll", args, 2)?;
    let cutset: Vec<char> = str_param(&args[0]).chars().collect();
    let s = str_param(&args[1]);
    Ok(Value::from(s.trim_matches(|c| cutset.contains(&c))))
}

fn trim_prefix(args: &[Value]) -> Result<Value, FuncError> {
    arity("trimPrefix", args, 2)?;
    let (prefix, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(Value::from(s.strip_prefix(prefix.as_str()).unwrap_or(&s)))
}

fn trim_suffix(args: &[Value]) -> Result<Value, FuncError> {
    arity("trimSuffix", args, 2)?;
    let (suffix, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(Value::from(s.strip_suffix(suffix.as_str()).unwrap_or(&s)))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(go_upper(&one_str("upper", args)?)))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(go_lower(&one_str("lower", args)?)))
}

/// Go's `strings.Title` word boundary: ASCII other than letters, digits and `_`, and Unicode
/// spaces.
fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    is_space(c)
}

fn title(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("title", args)?;
    let mut prev = ' ';
    let out: String = s
        .chars()
        .map(|c| {
            let mapped = if is_title_separator(prev) {
                upper_rune(c)
            } else {
                c
            };
            prev = c;
            mapped
        })
        .collect();
    Ok(Value::from(out))
}

/// goutils' `Uncapitalize`: lower-cases the first letter of each whitespace-separated word.
fn untitle(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("untitle", args)?;
    let mut next = true;
    let out: String = s
        .chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                lower_rune(c)
            } else {
                c
            }
        })
        .collect();
    Ok(Value::from(out))
}

/// `repeat COUNT S`.
fn repeat(args: &[Value]) -> Result<Value, FuncError> {
    arity("repeat", args, 2)?;
    let count = int_param(&args[0]);
    let s = str_param(&args[1]);
    let count =
        usize::try_from(count).map_err(|_| FuncError::new("strings: negative Repeat count"))?;
    let Some(length) = count.checked_mul(s.len()) else {
        return Err(FuncError::new("strings: Repeat output length overflow"));
    };
    super::within_budget("repeat", length)?;
    Ok(Value::from(s.repeat(count)))
}

/// `substr START END S`: byte offsets; a negative START means from 0, a negative or too large
/// END means to the end. Out-of-range offsets fail as Go's slice expressions panic.
fn substr(args: &[Value]) -> Result<Value, FuncError> {
    arity("substr", args, 3)?;
    let (start, end) = (int_param(&args[0]), int_param(&args[1]));
    let s = str_param(&args[2]);
    let b = s.as_bytes();
    let len = b.len() as i64;
    let out_of_range = |lo: i64, hi: i64| FuncError::new(slice_bounds_message(lo, hi, len));
    if start < 0 {
        if end < 0 || end > len {
            return Err(out_of_range(0, end));
        }
        return Ok(Value::from(from_bytes(&b[..end as usize])));
    }
    if end < 0 || end > len {
        if start > len {
            return Err(out_of_range(start, len));
        }
        return Ok(Value::from(from_bytes(&b[start as usize..])));
    }
    if start > end {
        return Err(out_of_range(start, end));
    }
    Ok(Value::from(from_bytes(&b[start as usize..end as usize])))
}

/// Go's runtime panic text for a bad `s[lo:hi]`.
fn slice_bounds_message(lo: i64, hi: i64, len: i64) -> String {
    if hi < 0 || hi > len {
        format!("runtime error: slice bounds out of range [:{hi}] with length {len}")
    } else {
        format!("runtime error: slice bounds out of range [{lo}:{hi}]")
    }
}

fn nospace(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("nospace", args)?;
    // goutils walks bytes and treats each as a rune, so a multi-byte character survives only
    // when no byte of it reads as a space (0x85 and 0xA0 do).
    if !s.bytes().any(|b| is_space(char::from(b))) {
        return Ok(Value::from(s));
    }
    let out: String = s
        .bytes()
        .map(char::from)
        .filter(|c| !is_space(*c))
        .collect();
    Ok(Value::from(out))
}

/// `trunc N S`: the first N bytes, or with a negative N the last |N|.
fn trunc(args: &[Value]) -> Result<Value, FuncError> {
    arity("trunc", args, 2)?;
    let c = int_param(&args[0]);
    let s = str_param(&args[1]);
    let b = s.as_bytes();
    let len = b.len() as i64;
    if c < 0 && len + c > 0 {
        return Ok(Value::from(from_bytes(&b[(len + c) as usize..])));
    }
    if c >= 0 && len > c {
        return Ok(Value::from(from_bytes(&b[..c as usize])));
    }
    Ok(Value::from(s))
}

/// goutils' `AbbreviateFull` (byte offsets); `None` where it reports an error.
fn abbreviate_full(s: &[u8], offset: i64, max_width: i64) -> Option<Vec<u8>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    if max_width < 4 {
        return None;
    }
    let len = s.len() as i64;
    if len <= max_width {
        return Some(s.to_vec());
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    let marker = b"...";
    if offset <= 4 {
        let mut out = s[..(max_width - 3) as usize].to_vec();
        out.extend_from_slice(marker);
        return Some(out);
    }
    if max_width < 7 {
        return None;
    }
    let mut out = marker.to_vec();
    if offset + max_width - 3 < len {
        out.extend(abbreviate_full(&s[offset as usize..], 0, max_width - 3)?);
    } else {
        out.extend_from_slice(&s[(len - (max_width - 3)) as usize..]);
    }
    Some(out)
}

/// `abbrev WIDTH S`: S cut to WIDTH bytes ending in `...`; WIDTH below 4 leaves S alone.
fn abbrev(args: &[Value]) -> Result<Value, FuncError> {
    arity("abbrev", args, 2)?;
    let width = int_param(&args[0]);
    let s = str_param(&args[1]);
    if width < 4 {
        return Ok(Value::from(s));
    }
    let out = abbreviate_full(s.as_bytes(), 0, width).unwrap_or_default();
    Ok(Value::from(from_bytes(&out)))
}

/// `abbrevboth LEFT RIGHT S`.
fn abbrevboth(args: &[Value]) -> Result<Value, FuncError> {
    arity("abbrevboth", args, 3)?;
    let (left, right) = (int_param(&args[0]), int_param(&args[1]));
    let s = str_param(&args[2]);
    if right < 4 || left > 0 && right < 7 {
        return Ok(Value::from(s));
    }
    let out = abbreviate_full(s.as_bytes(), left, right).unwrap_or_default();
    Ok(Value::from(from_bytes(&out)))
}

/// goutils' `Initials`: the first byte of each whitespace-separated word (bytes read as runes).
fn initials(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("initials", args)?;
    let mut gap = true;
    let mut out = String::new();
    for c in s.bytes().map(char::from) {
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    Ok(Value::from(out))
}

/// goutils' `WrapCustom` over bytes.
fn wrap_custom(s: &str, width: i64, newline: &str, wrap_long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0;
    let mut out: Vec<u8> = Vec::with_capacity(len);
    while len - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        if let Some(rel) = space {
            let at = offset + rel;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(newline.as_bytes());
            offset = at + 1;
        } else if wrap_long_words {
            out.extend_from_slice(&b[offset..offset + width]);
            out.extend_from_slice(newline.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(rel) => {
                    let at = end + rel;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    from_bytes(&out)
}

fn wrap(args: &[Value]) -> Result<Value, FuncError> {
    arity("wrap", args, 2)?;
    let width = int_param(&args[0]);
    Ok(Value::from(wrap_custom(
        &str_param(&args[1]),
        width,
        "",
        false,
    )))
}

fn wrap_with(args: &[Value]) -> Result<Value, FuncError> {
    arity("wrapWith", args, 3)?;
    let width = int_param(&args[0]);
    let sep = str_param(&args[1]);
    Ok(Value::from(wrap_custom(
        &str_param(&args[2]),
        width,
        &sep,
        true,
    )))
}

fn contains(args: &[Value]) -> Result<Value, FuncError> {
    arity("contains", args, 2)?;
    let (sub, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(Value::Bool(s.contains(sub.as_str())))
}

fn has_prefix(args: &[Value]) -> Result<Value, FuncError> {
    arity("hasPrefix", args, 2)?;
    let (prefix, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(Value::Bool(s.starts_with(prefix.as_str())))
}

fn has_suffix(args: &[Value]) -> Result<Value, FuncError> {
    arity("hasSuffix", args, 2)?;
    let (suffix, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(Value::Bool(s.ends_with(suffix.as_str())))
}

/// `quote A B ...`: each non-nil argument through `strval` and Go's `%q`, joined by spaces.
fn quote(args: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| go_quote(&cast::to_string(v)))
        .collect();
    Ok(Value::from(parts.join(" ")))
}

/// `squote A B ...`: each non-nil argument as `'%v'`, joined by spaces.
fn squote(args: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| format!("'{}'", v.to_go_string()))
        .collect();
    Ok(Value::from(parts.join(" ")))
}

/// `cat A B ...`: the non-nil arguments' `%v` forms joined by spaces.
fn cat(args: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !v.is_nil())
        .map(Value::to_go_string)
        .collect();
    Ok(Value::from(parts.join(" ")))
}

fn indent_text(spaces: i64, s: &str) -> Result<String, FuncError> {
    let spaces = usize::try_from(spaces).unwrap_or(0);
    let lines = 1 + s.bytes().filter(|b| *b == b'\n').count();
    super::within_budget(
        "indent",
        spaces.saturating_mul(lines).saturating_add(s.len()),
    )?;
    let pad = " ".repeat(spaces);
    let mut out = String::with_capacity(s.len() + pad.len());
    out.push_str(&pad);
    out.push_str(&s.replace('\n', &format!("\n{pad}")));
    Ok(out)
}

/// `indent N S`: every line of S prefixed with N spaces.
fn indent(args: &[Value]) -> Result<Value, FuncError> {
    arity("indent", args, 2)?;
    let spaces = int_param(&args[0]);
    if spaces < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    Ok(Value::from(indent_text(spaces, &str_param(&args[1]))?))
}

/// `nindent N S`: a newline, then `indent N S`.
fn nindent(args: &[Value]) -> Result<Value, FuncError> {
    arity("nindent", args, 2)?;
    let spaces = int_param(&args[0]);
    if spaces < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    Ok(Value::from(format!(
        "\n{}",
        indent_text(spaces, &str_param(&args[1]))?
    )))
}

/// `replace OLD NEW S`: every OLD in S replaced (an empty OLD matches around each character).
fn replace(args: &[Value]) -> Result<Value, FuncError> {
    arity("replace", args, 3)?;
    let (old, new, s) = (
        str_param(&args[0]),
        str_param(&args[1]),
        str_param(&args[2]),
    );
    Ok(Value::from(s.replace(old.as_str(), &new)))
}

/// `plural ONE MANY COUNT`.
fn plural(args: &[Value]) -> Result<Value, FuncError> {
    arity("plural", args, 3)?;
    let count = int_param(&args[2]);
    Ok(if count == 1 {
        Value::from(str_param(&args[0]))
    } else {
        Value::from(str_param(&args[1]))
    })
}

/// xstrings' word classes for case conversion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

fn is_punct(c: char) -> bool {
    // Go's unicode.IsPunct (category P); ASCII symbols like `$+<=>^`|~` are S, not P.
    c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c)
        || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
}

fn is_alphabet(c: char) -> bool {
    c.is_alphabetic()
}

/// xstrings' `nextWord`: the class and byte length of the word at the start of `s`.
fn next_word(s: &str) -> (Word, usize) {
    let mut chars = s.char_indices().peekable();
    let Some((_, first)) = chars.next() else {
        return (Word::Invalid, 0);
    };
    let mut end = first.len_utf8();
    let extend = |end: &mut usize, pred: &dyn Fn(char) -> bool| {
        for (i, c) in s[*end..].char_indices() {
            if !pred(c) {
                *end += i;
                return;
            }
        }
        *end = s.len();
    };
    let kind = if is_connector(first) {
        extend(&mut end, &is_connector);
        Word::Connector
    } else if is_punct(first) {
        extend(&mut end, &is_punct);
        Word::Punct
    } else if first.is_uppercase() {
        let rest = &s[end..];
        match rest.chars().next() {
            Some(c) if c.is_uppercase() => {
                // A run of capitals; the last one starts the next word if a letter follows.
                let mut last_start = end;
                let mut e = end;
                let mut followed_by_letter = false;
                for (i, c) in rest.char_indices() {
                    if !c.is_uppercase() {
                        followed_by_letter = is_alphabet(c);
                        break;
                    }
                    last_start = end + i;
                    e = end + i + c.len_utf8();
                }
                end = if followed_by_letter { last_start } else { e };
            }
            Some(c) if is_alphabet(c) => {
                extend(&mut end, &|c: char| is_alphabet(c) && !c.is_uppercase());
            }
            _ => {}
        }
        Word::Upper
    } else if is_alphabet(first) {
        extend(&mut end, &|c: char| is_alphabet(c) && !c.is_uppercase());
        Word::Alphabet
    } else if first.is_numeric() {
        extend(&mut end, &|c: char| c.is_numeric());
        Word::Number
    } else {
        extend(&mut end, &|c: char| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (kind, end)
}

fn push_lower(out: &mut String, kind: Word, word: &str, connector: char) {
    if kind != Word::Upper && kind != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(lower_rune(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (behind `snakecase` and `kebabcase`).
fn to_lower_words(s: &str, connector: char) -> String {
    let mut out = String::new();
    if s.is_empty() {
        return out;
    }
    let mut rest = s;
    let take = |rest: &mut &str| -> (Word, String) {
        let (kind, n) = next_word(rest);
        let word = rest[..n].to_string();
        *rest = &rest[n..];
        (kind, word)
    };
    let (mut wt, mut word) = take(&mut rest);
    while !rest.is_empty() {
        if wt != Word::Connector {
            push_lower(&mut out, wt, &word, connector);
        }
        let prev = wt;
        let last = word.clone();
        (wt, word) = take(&mut rest);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    push_lower(&mut out, wt, &word, connector);
                    (wt, word) = take(&mut rest);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(connector);
                }
            }
            Word::Connector => push_lower(&mut out, prev, &last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let last = word.clone();
                (wt, word) = take(&mut rest);
                if wt != Word::Alphabet {
                    push_lower(&mut out, Word::Number, &last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                push_lower(&mut out, Word::Number, &last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    push_lower(&mut out, wt, &word, connector);
                    (wt, word) = take(&mut rest);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(connector);
                }
            }
        }
    }
    push_lower(&mut out, wt, &word, connector);
    out
}

fn snakecase(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(to_lower_words(
        &one_str("snakecase", args)?,
        '_',
    )))
}

fn kebabcase(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(to_lower_words(
        &one_str("kebabcase", args)?,
        '-',
    )))
}

/// xstrings' `ToPascalCase`: connectors (`-`, `_`, spaces) dropped between words, each word's
/// first letter upper-cased, and a word's leading capitals after its first lower-cased
/// (`HTTP_SERVER` → `HttpServer`). Leading and trailing connectors stay, as in xstrings.
fn pascal_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut cur = None;
    let mut leading_upper = false;
    for c in chars.by_ref() {
        if !is_connector(c) {
            leading_upper = c.is_uppercase();
            cur = Some(upper_rune(c));
            break;
        }
        out.push(c);
    }
    let rest: Vec<char> = chars.collect();
    let Some(mut r0) = cur.or_else(|| out.chars().last()) else {
        return out;
    };
    if rest.is_empty() {
        // xstrings writes the last rune it read once more, even when it was a connector.
        out.push(r0);
        return out;
    }
    for c in rest {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            leading_upper = r0.is_uppercase();
            r0 = upper_rune(r0);
        } else {
            out.push(r1);
            if !is_connector(r0) && leading_upper {
                if r0.is_uppercase() {
                    r0 = lower_rune(r0);
                } else {
                    leading_upper = false;
                }
            }
        }
    }
    out.push(r0);
    out
}

fn camelcase(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(pascal_case(&one_str("camelcase", args)?)))
}

/// goutils' `SwapCase`: upper to lower, lower to upper, except a lower-case letter starting a
/// word becomes title case.
fn swapcase(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("swapcase", args)?;
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_uppercase() {
                lower_rune(c)
            } else if c.is_lowercase() {
                upper_rune(c)
            } else {
                c
            }
        })
        .collect();
    Ok(Value::from(out))
}

fn shuffle(args: &[Value]) -> Result<Value, FuncError> {
    use rand::seq::SliceRandom;
    let s = one_str("shuffle", args)?;
    let mut chars: Vec<char> = s.chars().collect();
    chars.shuffle(&mut rand::rng());
    Ok(Value::from(chars.into_iter().collect::<String>()))
}

/// `toString V`: Sprig's `strval`.
fn to_string(args: &[Value]) -> Result<Value, FuncError> {
    arity("toString", args, 1)?;
    Ok(Value::from(cast::to_string(&args[0])))
}

/// `toStrings LIST`: `[]string` of the non-nil elements.
fn to_strings(args: &[Value]) -> Result<Value, FuncError> {
    arity("toStrings", args, 1)?;
    Ok(string_list(cast::to_strings(&args[0])))
}

/// `join SEP LIST`.
fn join(args: &[Value]) -> Result<Value, FuncError> {
    arity("join", args, 2)?;
    let sep = str_param(&args[0]);
    Ok(Value::from(cast::to_strings(&args[1]).join(&sep)))
}

/// Go's `strings.SplitN`: an empty separator splits into characters; `n < 0` means all.
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && (n as usize) < chars.len() {
            let n = n as usize;
            let head: usize = chars[..n - 1].iter().map(String::len).sum();
            let mut out = chars[..n - 1].to_vec();
            out.push(s[head..].to_string());
            return out;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(String::from).collect()
    } else {
        s.splitn(n as usize, sep).map(String::from).collect()
    }
}

fn indexed_parts(parts: Vec<String>) -> Value {
    let d = Dict::new();
    for (i, part) in parts.into_iter().enumerate() {
        d.insert(format!("_{i}"), Value::from(part));
    }
    Value::Map(d)
}

/// `split SEP S`: a dict `{_0: ..., _1: ...}`.
fn split(args: &[Value]) -> Result<Value, FuncError> {
    arity("split", args, 2)?;
    let (sep, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(indexed_parts(go_split(&s, &sep, -1)))
}

/// `splitn SEP N S`.
fn splitn(args: &[Value]) -> Result<Value, FuncError> {
    arity("splitn", args, 3)?;
    let sep = str_param(&args[0]);
    let n = int_param(&args[1]);
    Ok(indexed_parts(go_split(&str_param(&args[2]), &sep, n)))
}

/// `splitList SEP S`: a `[]string`.
fn split_list(args: &[Value]) -> Result<Value, FuncError> {
    arity("splitList", args, 2)?;
    let (sep, s) = (str_param(&args[0]), str_param(&args[1]));
    Ok(string_list(go_split(&s, &sep, -1)))
}

/// `sortAlpha LIST`: the elements as strings, sorted bytewise; a non-list is one string.
fn sort_alpha(args: &[Value]) -> Result<Value, FuncError> {
    arity("sortAlpha", args, 1)?;
    let mut items = match cast::to_list(&args[0]) {
        Some(_) => cast::to_strings(&args[0]),
        None => vec![cast::to_string(&args[0])],
    };
    items.sort();
    Ok(string_list(items))
}

/// Sprig's `untilStep` on Go ints, refused (as `name`) before it is built when the list would
/// pass the render budget.
pub(super) fn until_step(
    name: &str,
    start: i64,
    stop: i64,
    step: i64,
) -> Result<Vec<i64>, FuncError> {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let count = match (stop < start, step) {
        (true, step) if step < 0 => (start - stop + (-step) - 1) / -step,
        (false, step) if step > 0 => (stop - start + step - 1) / step,
        _ => 0,
    };
    let elements = usize::try_from(count).unwrap_or(usize::MAX);
    super::within_budget(name, elements.saturating_mul(super::LIST_ELEMENT_BYTES))?;
    // Every element lies between start and stop, so each fits in an i64.
    Ok((0..count).map(|k| (start + k * step) as i64).collect())
}

/// `seq [START [STEP]] END`: like GNU seq, the numbers joined by spaces.
fn seq(args: &[Value]) -> Result<Value, FuncError> {
    let p: Vec<i64> = args.iter().map(int_param).collect();
    let join = |v: Vec<i64>| v.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
    let out = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            join(until_step("seq", 1, end.saturating_add(inc), inc)?)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            join(until_step("seq", *start, end.saturating_add(step), step)?)
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::from(""));
                }
            }
            join(until_step("seq", *start, end.saturating_add(inc), *step)?)
        }
        _ => String::new(),
    };
    Ok(Value::from(out))
}

/// `randAlphaNum N` and friends draw from goutils' character classes with a CSPRNG.
fn random_string(n: i64, pool: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n.max(0))
        .map(|_| char::from(pool[rng.random_range(0..pool.len())]))
        .collect()
}

const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUMERIC: &[u8] = b"0123456789";

fn rand_count(name: &str, args: &[Value]) -> Result<i64, FuncError> {
    arity(name, args, 1)?;
    let count = int_param(&args[0]);
    super::within_budget(name, usize::try_from(count).unwrap_or(0))?;
    Ok(count)
}

fn rand_alpha_num(args: &[Value]) -> Result<Value, FuncError> {
    let n = rand_count("randAlphaNum", args)?;
    Ok(Value::from(random_string(n, ALPHANUM)))
}

fn rand_alpha(args: &[Value]) -> Result<Value, FuncError> {
    let n = rand_count("randAlpha", args)?;
    Ok(Value::from(random_string(n, ALPHA)))
}

fn rand_numeric(args: &[Value]) -> Result<Value, FuncError> {
    let n = rand_count("randNumeric", args)?;
    Ok(Value::from(random_string(n, NUMERIC)))
}

/// `randAscii N`: printable ASCII, space through `~`.
fn rand_ascii(args: &[Value]) -> Result<Value, FuncError> {
    let n = rand_count("randAscii", args)?;
    let pool: Vec<u8> = (32u8..127).collect();
    Ok(Value::from(random_string(n, &pool)))
}

/// `hello`: Sprig's greeting, kept because templates may call it.
fn hello(args: &[Value]) -> Result<Value, FuncError> {
    arity("hello", args, 0)?;
    Ok(Value::from("Hello!"))
}

pub(super) fn register(r: &mut Registry) {
    r.add("hello", hello);
    r.add("trim", trim);
    r.add("trimAll", trim_all);
    r.add("trimall", trim_all);
    r.add("trimPrefix", trim_prefix);
    r.add("trimSuffix", trim_suffix);
    r.add("upper", upper);
    r.add("lower", lower);
    r.add("title", title);
    r.add("untitle", untitle);
    r.add("repeat", repeat);
    r.add("substr", substr);
    r.add("nospace", nospace);
    r.add("trunc", trunc);
    r.add("abbrev", abbrev);
    r.add("abbrevboth", abbrevboth);
    r.add("initials", initials);
    r.add("randAlphaNum", rand_alpha_num);
    r.add("randAlpha", rand_alpha);
    r.add("randNumeric", rand_numeric);
    r.add("randAscii", rand_ascii);
    r.add("wrap", wrap);
    r.add("wrapWith", wrap_with);
    r.add("contains", contains);
    r.add("hasPrefix", has_prefix);
    r.add("hasSuffix", has_suffix);
    r.add("quote", quote);
    r.add("squote", squote);
    r.add("cat", cat);
    r.add("indent", indent);
    r.add("nindent", nindent);
    r.add("replace", replace);
    r.add("plural", plural);
    r.add("snakecase", snakecase);
    r.add("camelcase", camelcase);
    r.add("kebabcase", kebabcase);
    r.add("swapcase", swapcase);
    r.add("shuffle", shuffle);
    r.add("toString", to_string);
    r.add("toStrings", to_strings);
    r.add("join", join);
    r.add("split", split);
    r.add("splitList", split_list);
    r.add("splitn", splitn);
    r.add("sortAlpha", sort_alpha);
    r.add("seq", seq);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{i, l, s, show};
    use gotmpl::value::Value;

    #[test]
    fn trims() {
        assert_eq!(show("trim", &[s("  hi \n")]), "hi");
        assert_eq!(show("trimAll", &[s("$"), s("$$5.00$")]), "5.00");
        assert_eq!(show("trimPrefix", &[s("-"), s("--a")]), "-a");
        assert_eq!(show("trimSuffix", &[s("-"), s("a--")]), "a-");
    }

    #[test]
    fn case_changes() {
        assert_eq!(show("upper", &[s("héllo ß")]), "HÉLLO ß");
        assert_eq!(show("lower", &[s("HÉLLO")]), "héllo");
        assert_eq!(
            show("title", &[s("hello wORLD foo_bar x-y 3d")]),
            "Hello WORLD Foo_bar X-Y 3d"
        );
        assert_eq!(show("untitle", &[s("Hello World FOO")]), "hello world fOO");
        assert_eq!(show("swapcase", &[s("This Is A.Test")]), "tHIS iS a.tEST");
    }

    #[test]
    fn repeat_substr_trunc() {
        assert_eq!(show("repeat", &[i(3), s("ab")]), "ababab");
        assert_eq!(
            show("repeat", &[i(-1), s("x")]),
            "error: strings: negative Repeat count"
        );
        assert_eq!(show("substr", &[i(1), i(3), s("hello")]), "el");
        assert_eq!(show("substr", &[i(-1), i(3), s("hello")]), "hel");
        assert_eq!(show("substr", &[i(2), i(-1), s("hello")]), "llo");
        assert_eq!(show("substr", &[i(2), i(99), s("hello")]), "llo");
        assert_eq!(
            show("substr", &[i(4), i(2), s("hello")]),
            "error: runtime error: slice bounds out of range [4:2]"
        );
        assert_eq!(
            show("substr", &[i(-1), i(9), s("hello")]),
            "error: runtime error: slice bounds out of range [:9] with length 5"
        );
        assert_eq!(show("trunc", &[i(5), s("hello world")]), "hello");
        assert_eq!(show("trunc", &[i(-5), s("hello world")]), "world");
        assert_eq!(show("trunc", &[i(-50), s("hi")]), "hi");
        assert_eq!(show("trunc", &[i(0), s("hi")]), "");
        assert_eq!(show("nospace", &[s("a b\tc\nd")]), "abcd");
    }

    #[test]
    fn abbreviations_and_wrapping() {
        assert_eq!(show("abbrev", &[i(5), s("hello world")]), "he...");
        assert_eq!(show("abbrev", &[i(3), s("hello world")]), "hello world");
        assert_eq!(
            show("abbrevboth", &[i(5), i(10), s("1234 5678 9123")]),
            "...5678..."
        );
        assert_eq!(
            show("abbrevboth", &[i(0), i(10), s("1234 5678 9123")]),
            "1234 56..."
        );
        assert_eq!(
            show("abbrevboth", &[i(10), i(10), s(&"a".repeat(35))]),
            "...aaaa..."
        );
        assert_eq!(show("initials", &[s("First Try  ok")]), "FTo");
        assert_eq!(show("wrap", &[i(5), s("Hello World")]), "Hello\nWorld");
        assert_eq!(
            show("wrapWith", &[i(5), s("\t"), s("Hello World")]),
            "Hello\tWorld"
        );
        assert_eq!(show("wrap", &[i(3), s("abcdefgh ij")]), "abcdefgh\nij");
        assert_eq!(
            show("wrapWith", &[i(3), s("|"), s("abcdefgh ij")]),
            "abc|def|gh|ij"
        );
    }

    #[test]
    fn predicates() {
        assert_eq!(show("contains", &[s("cat"), s("catch")]), "true");
        assert_eq!(show("hasPrefix", &[s("cat"), s("catch")]), "true");
        assert_eq!(show("hasSuffix", &[s("ch"), s("catch")]), "true");
        assert_eq!(show("hasSuffix", &[s("x"), s("catch")]), "false");
    }

    #[test]
    fn quoting_and_joining() {
        let args = [s("a\"b"), i(1), Value::Nil, Value::Float(2.5)];
        assert_eq!(show("quote", &args), r#""a\"b" "1" "2.5""#);
        assert_eq!(show("squote", &[s("a"), i(1), Value::Nil]), "'a' '1'");
        assert_eq!(show("quote", &[Value::Nil]), "");
        assert_eq!(show("quote", &[l(&[i(1), s("a")])]), r#""[1 a]""#);
        let words = [s("hello"), s("beautiful"), Value::Nil, s("world"), i(3)];
        assert_eq!(show("cat", &words), "hello beautiful world 3");
        assert_eq!(show("indent", &[i(2), s("a\nb")]), "  a\n  b");
        assert_eq!(show("nindent", &[i(2), s("a\nb")]), "\n  a\n  b");
        assert_eq!(
            show("replace", &[s(" "), s("-"), s("I Am Henry VIII")]),
            "I-Am-Henry-VIII"
        );
        assert_eq!(show("replace", &[s(""), s("-"), s("abc")]), "-a-b-c-");
        assert_eq!(show("plural", &[s("one"), s("many"), i(1)]), "one");
        assert_eq!(show("plural", &[s("one"), s("many"), i(2)]), "many");
    }

    #[test]
    fn word_case_conversions_match_xstrings() {
        let cases = [
            ("snakecase", "FirstName", "first_name"),
            ("snakecase", "HTTPServer", "http_server"),
            ("snakecase", "already_snake", "already_snake"),
            ("snakecase", "some-kebab Thing", "some_kebab_thing"),
            ("snakecase", "v1Beta2Api", "v1_beta2_api"),
            ("snakecase", "ABC123def", "abc_123def"),
            ("snakecase", "a1b2", "a_1b2"),
            ("snakecase", "Foo.Bar", "foo.bar"),
            ("kebabcase", "FirstName", "first-name"),
            ("kebabcase", "someHTTPThing2", "some-http-thing2"),
            ("camelcase", "http_server", "HttpServer"),
            ("camelcase", "_my_field__name_", "_MyField_Name_"),
            ("camelcase", "some-kebab thing", "SomeKebabThing"),
            ("camelcase", "alreadyCamel", "AlreadyCamel"),
            ("camelcase", "HTTP_SERVER", "HttpServer"),
            ("camelcase", "HTTPServer", "Httpserver"),
            ("camelcase", "aBC", "ABC"),
            ("camelcase", "ABcD", "AbcD"),
            ("camelcase", "fooBAR_bazQUX", "FooBARBazQUX"),
            ("camelcase", "_", "__"),
            ("camelcase", "__a", "__A"),
            ("camelcase", "a__", "A__"),
            ("camelcase", "Ab_cD", "AbCD"),
            ("camelcase", "ABC DEF-GHI", "AbcDefGhi"),
            ("camelcase", "AB1CD", "Ab1CD"),
            ("camelcase", "a_B_C", "ABC"),
            ("camelcase", "X_", "X_"),
            ("camelcase", "", ""),
        ];
        for (f, input, want) in cases {
            assert_eq!(show(f, &[s(input)]), want, "{f} {input:?}");
        }
    }

    #[test]
    fn conversions_and_splitting() {
        assert_eq!(show("toString", &[Value::Float(1.5)]), "1.5");
        assert_eq!(show("toString", &[Value::Nil]), "<nil>");
        let mixed = l(&[i(1), s("a"), Value::Nil, Value::Float(2.0)]);
        assert_eq!(show("toStrings", &[mixed]), "[1 a 2]");
        let mixed = l(&[i(1), s("a"), Value::Nil, Value::Float(2.5)]);
        assert_eq!(show("join", &[s(","), mixed]), "1,a,2.5");
        assert_eq!(show("join", &[s(","), s("abc")]), "abc");
        assert_eq!(show("join", &[s(","), Value::Nil]), "");
        assert_eq!(
            show("split", &[s("$"), s("foo$bar$baz")]),
            "map[_0:foo _1:bar _2:baz]"
        );
        assert_eq!(
            show("splitn", &[s("$"), i(2), s("foo$bar$baz")]),
            "map[_0:foo _1:bar$baz]"
        );
        assert_eq!(show("splitList", &[s(","), s("a,b,,c")]), "[a b  c]");
        assert_eq!(show("splitList", &[s(""), s("abc")]), "[a b c]");
        assert_eq!(show("splitn", &[s(""), i(2), s("abc")]), "map[_0:a _1:bc]");
        assert_eq!(show("splitn", &[s(","), i(0), s("a,b")]), "map[]");
        let unsorted = l(&[s("b"), s("a"), s("C"), i(10), i(2)]);
        assert_eq!(show("sortAlpha", &[unsorted]), "[10 2 C a b]");
        assert_eq!(show("sortAlpha", &[s("x")]), "[x]");
        assert_eq!(show("sortAlpha", &[Value::Nil]), "[<nil>]");
    }

    #[test]
    fn seq_counts_like_gnu_seq() {
        assert_eq!(show("seq", &[i(5)]), "1 2 3 4 5");
        assert_eq!(show("seq", &[i(-3)]), "1 0 -1 -2 -3");
        assert_eq!(show("seq", &[i(0)]), "1 0");
        assert_eq!(show("seq", &[i(1)]), "1");
        assert_eq!(show("seq", &[i(2), i(5)]), "2 3 4 5");
        assert_eq!(show("seq", &[i(5), i(2)]), "5 4 3 2");
        assert_eq!(show("seq", &[i(0), i(2), i(10)]), "0 2 4 6 8 10");
        assert_eq!(show("seq", &[i(10), i(-2), i(0)]), "10 8 6 4 2 0");
        assert_eq!(show("seq", &[i(10), i(2), i(0)]), "");
    }

    #[test]
    fn random_strings_have_the_requested_length_and_alphabet() {
        assert_eq!(show("randAlphaNum", &[i(0)]), "");
        let v = show("randAlphaNum", &[i(16)]);
        assert_eq!(v.len(), 16);
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric()));
        let v = show("randAlpha", &[i(8)]);
        assert!(v.len() == 8 && v.chars().all(|c| c.is_ascii_alphabetic()));
        let v = show("randNumeric", &[i(8)]);
        assert!(v.len() == 8 && v.chars().all(|c| c.is_ascii_digit()));
        let v = show("randAscii", &[i(7)]);
        assert!(v.len() == 7 && v.bytes().all(|b| (32..127).contains(&b)));
        let shuffled = show("shuffle", &[s("aabbc")]);
        let mut sorted: Vec<char> = shuffled.chars().collect();
        sorted.sort();
        assert_eq!(sorted.into_iter().collect::<String>(), "aabbc");
    }

    #[test]
    fn byte_offsets_cut_inside_characters() {
        // Go prints the cut byte as \xc3 under %q; we hold text, so it becomes U+FFFD.
        assert_eq!(show("trunc", &[i(2), s("héllo")]), "h\u{fffd}");
    }
}
