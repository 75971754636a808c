//! The fast YAML reader: JSON values built straight from granit-parser's events.
//!
//! serde-saphyr reads the same events but routes every node through comment bookkeeping, event
//! recording and serde's visitor plumbing, which costs as much as parsing itself on big,
//! comment-heavy chart values files. This reader resolves scalars by serde-saphyr's rules (with
//! the options `super` passes it) and hands a document back ([`Unsupported`]) whenever it meets
//! anything it does not reproduce exactly — tags, merge keys, aliases as keys, non-finite floats,
//! budget-sized inputs and every syntax error — so that serde-saphyr decides those, errors
//! included.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, StrInput};
use serde_json::{Map, Number, Value};

/// The document needs serde-saphyr: it holds something this reader does not reproduce.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unsupported;

/// How a plain (unquoted) mapping key becomes a JSON object key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// Like Go's sigs.k8s.io/yaml: the key is resolved like a value first, so `yes` becomes
    /// `"true"`, `0x10` becomes `"16"` and `1.50` becomes `"1.5"`.
    Go,
    /// The key's text as written (as serde-saphyr reads it into `serde_json::Value`).
    Text,
}

// The budget serde-saphyr enforces with an error (`super::read_options`, its defaults
// otherwise): inputs near it go to serde-saphyr so that it reports the breach. Deep documents go
// there too, where they are read on a thread with a stack for them: this reader recurses, and may
// run on a thread with a small stack.
const MAX_DEPTH: usize = super::SHALLOW_DEPTH;
const MAX_NODES: usize = super::MAX_NODES - 1_000;
const MAX_DOCUMENTS: usize = 1_000;
const MAX_ALIASES: usize = 99;
const MAX_ALIAS_NODES: usize = 100_000;
const MAX_SCALAR_BYTES: usize = 32 * 1024 * 1024;

/// Reads the one document of a stream (`null` when it holds none, such as only comments); a
/// stream of several is [`Unsupported`] (serde-saphyr says what it makes of that).
pub(super) fn read_one(text: &str, keys: Keys) -> Result<Value, Unsupported> {
    let mut reader = Reader::new(text, keys);
    reader.expect(|e| matches!(e, Event::StreamStart))?;
    let Some(value) = reader.document()? else {
        return Ok(Value::Null);
    };
    reader.expect(|e| matches!(e, Event::StreamEnd))?;
    Ok(value)
}

/// Reads every document of a stream, skipping those whose root is a plain null.
pub(super) fn read_all(text: &str, keys: Keys) -> Result<Vec<Value>, Unsupported> {
    let mut reader = Reader::new(text, keys);
    reader.expect(|e| matches!(e, Event::StreamStart))?;
    let mut values = Vec::new();
    let mut documents = 0;
    while let Some(value) = reader.document()? {
        documents += 1;
        if documents > MAX_DOCUMENTS {
            return Err(Unsupported);
        }
        if !value.is_null() {
            values.push(value);
        }
    }
    Ok(values)
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    keys: Keys,
    /// Finished anchored nodes by the parser's anchor id.
    anchors: HashMap<usize, Value>,
    nodes: usize,
    aliases: usize,
    alias_nodes: usize,
    scalar_bytes: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, keys: Keys) -> Self {
        // serde-saphyr's parser options (its default budget's) minus comment events.
        let mut options = granit_parser::Options::default();
        options.set_emit_comments(false);
        options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
        Reader {
            parser: Parser::with_options(StrInput::new(text), options),
            keys,
            anchors: HashMap::new(),
            nodes: 0,
            aliases: 0,
            alias_nodes: 0,
            scalar_bytes: 0,
        }
    }

    fn next(&mut self) -> Result<Event<'a>, Unsupported> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            _ => Err(Unsupported),
        }
    }

    fn expect(&mut self, want: impl Fn(&Event<'a>) -> bool) -> Result<(), Unsupported> {
        let event = self.next()?;
        if want(&event) {
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// The next document's root, or `None` at the end of the stream.
    fn document(&mut self) -> Result<Option<Value>, Unsupported> {
        match self.next()? {
            Event::DocumentStart(..) => {}
            Event::StreamEnd => return Ok(None),
            _ => return Err(Unsupported),
        }
        let first = self.next()?;
        let root = self.node(first, 0)?;
        self.expect(|e| matches!(e, Event::DocumentEnd))?;
        Ok(Some(root))
    }

    fn count_node(&mut self) -> Result<(), Unsupported> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, depth: usize) -> Result<Value, Unsupported> {
        self.count_node()?;
        match event {
            Event::Scalar(text, style, anchor, None) => {
                self.scalar_bytes += text.len();
                if self.scalar_bytes > MAX_SCALAR_BYTES {
                    return Err(Unsupported);
                }
                let value = resolve(&text, style)?;
                self.anchor(anchor, &value);
                Ok(value)
            }
            Event::SequenceStart(_, anchor, None) => {
                if depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => items.push(self.node(event, depth + 1)?),
                    }
                }
                let value = Value::Array(items);
                self.anchor(anchor, &value);
                Ok(value)
            }
            Event::MappingStart(_, anchor, None) => {
                if depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                let mut map = Map::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => break,
                        Event::Scalar(text, style, 0, None) => {
                            self.count_node()?;
                            self.key(&text, style)?
                        }
                        _ => return Err(Unsupported),
                    };
                    let event = self.next()?;
                    let value = self.node(event, depth + 1)?;
                    // Later duplicates win, as with serde-saphyr's LastWins and Go.
                    map.insert(key, value);
                }
                let value = Value::Object(map);
                self.anchor(anchor, &value);
                Ok(value)
            }
            Event::Alias(id) => {
                self.aliases += 1;
                if self.aliases > MAX_ALIASES {
                    return Err(Unsupported);
                }
                // An alias to a node still open (a recursive one) is not in the table yet.
                let value = self.anchors.get(&id).ok_or(Unsupported)?.clone();
                self.alias_nodes += size(&value);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(Unsupported);
                }
                Ok(value)
            }
            _ => Err(Unsupported),
        }
    }

    fn anchor(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn key(&mut self, text: &str, style: ScalarStyle) -> Result<String, Unsupported> {
        if style != ScalarStyle::Plain {
            return Ok(text.to_string());
        }
        // A merge key; a null key is an error for serde-saphyr and for Go.
        if text == "<<" || is_null(text) {
            return Err(Unsupported);
        }
        match self.keys {
            Keys::Text => Ok(text.to_string()),
            Keys::Go => Ok(match resolve_plain(text) {
                Plain::Bool(b) => b.to_string(),
                Plain::Number(n) => go_key_number(&n),
                Plain::NonFinite(f) => go_float32_key(f),
                Plain::Null | Plain::Text => text.to_string(),
            }),
        }
    }
}

/// Nodes in a value, to bound what aliases copy.
fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(|v| 1 + size(v)).sum::<usize>(),
        _ => 1,
    }
}

/// An untagged value scalar as serde-saphyr reads it into `serde_json::Value`.
fn resolve(text: &str, style: ScalarStyle) -> Result<Value, Unsupported> {
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(match resolve_plain(text) {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Number(n) => Value::Number(n),
        // serde-saphyr refuses these (NonFiniteFloatPolicy::Reject) with its own message.
        Plain::NonFinite(_) => return Err(Unsupported),
        Plain::Text => Value::String(text.to_string()),
    })
}

/// What a plain scalar means.
#[derive(Debug, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Number(Number),
    NonFinite(f64),
    Text,
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Resolves a plain scalar by serde-saphyr's untyped rules with YAML 1.1 booleans and legacy
/// octal: null, then booleans, then integers (unsigned unless negative), then floats, else text.
fn resolve_plain(text: &str) -> Plain {
    if is_null(text) {
        return Plain::Null;
    }
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    // Only a letter, digit, sign or dot can start anything but text: skip the checks for the
    // common case of words.
    let Some(&first) = t.as_bytes().first() else {
        return Plain::Text;
    };
    if let Some(b) = yaml11_bool(t) {
        return Plain::Bool(b);
    }
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Plain::Text;
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    // Upper-case radix prefixes and signed NaNs stay text.
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..])
        || matches!(unsigned, ".nan" | ".NaN" | ".NAN") && unsigned.len() < t.len()
    {
        return Plain::Text;
    }
    if let Some(rest) = t.strip_prefix('-') {
        if let Some(n) = integer(rest).and_then(|m| 0i128.checked_sub(m)) {
            if let Ok(n) = i64::try_from(n) {
                return Plain::Number(n.into());
            }
        }
    } else if let Some(n) = integer(t.strip_prefix('+').unwrap_or(t)) {
        if let Ok(n) = u64::try_from(n) {
            return Plain::Number(n.into());
        }
    }
    match float(t) {
        Some(f) if f.is_finite() => Number::from_f64(f).map_or(Plain::Text, Plain::Number),
        Some(f) => Plain::NonFinite(f),
        None => Plain::Text,
    }
}

fn yaml11_bool(t: &str) -> Option<bool> {
    if t.len() > 5 {
        return None;
    }
    let is = |word: &str| t.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || is("y") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("n") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// The magnitude of an unsigned integer spelling: `0x`/`0o`/`0b` radix prefixes, a leading `0`
/// for legacy octal, and `_` between digits. The magnitude fits `i128` so that it can be negated.
fn integer(s: &str) -> Option<i128> {
    let (radix, digits) = if let Some(rest) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        (16, rest.strip_prefix('_').unwrap_or(rest))
    } else if let Some(rest) = s.strip_prefix("0o").or(s.strip_prefix("0O")) {
        (8, rest.strip_prefix('_').unwrap_or(rest))
    } else if let Some(rest) = s.strip_prefix("0b").or(s.strip_prefix("0B")) {
        (2, rest.strip_prefix('_').unwrap_or(rest))
    } else if s == "0" {
        (8, s)
    } else if let Some(rest) = s.strip_prefix('0') {
        (8, rest.strip_prefix('_').unwrap_or(rest))
    } else {
        (10, s)
    };
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut any = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            // An underscore only between two digits.
            let between =
                i > 0 && bytes[i - 1] != b'_' && bytes.get(i + 1).is_some_and(|&n| n != b'_');
            if !between {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))?;
        any = true;
    }
    if !any {
        return None;
    }
    // Magnitudes past i128 only happen far beyond u64/i64 range: the caller rejects those anyway,
    // except `-0x8000…` (i128::MIN), which no JSON number holds either.
    i128::try_from(value).ok()
}

/// A float spelling: YAML's `.inf`/`.nan` forms or a numeral Rust's parser takes (overflowing
/// ones as infinite); alphabetic spellings such as `inf` or `nan` are not floats.
fn float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    let f = t.parse::<f64>().ok()?;
    if f.is_finite() || unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Some(f)
    } else {
        None
    }
}

/// A numeric key as sigs.k8s.io/yaml writes it: integers in decimal, floats by
/// `strconv.FormatFloat(f, 'g', -1, 32)`.
fn go_key_number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() => go_float32_key(f),
        _ => n.to_string(),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`, with Go YAML's names for the non-finite values.
fn go_float32_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-.inf" } else { ".inf" }.to_string();
    }
    let single = f as f32;
    if single.is_infinite() {
        return if single < 0.0 { "-.inf" } else { ".inf" }.to_string();
    }
    if single == 0.0 {
        return if single.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32, as Go's does.
    let scientific = format!("{single:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Go's shortest 'g' format switches to an exponent below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exponent) {
        let (head, tail) = digits.split_at(1);
        let point = if tail.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{head}{point}{tail}e{exponent_sign}{:02}",
            exponent.abs()
        );
    }
    plain_decimal(sign, &digits, exponent)
}

fn plain_decimal(sign: &str, digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = exponent as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(text: &str) -> Value {
        resolve(text, ScalarStyle::Plain).unwrap()
    }

    #[test]
    fn nulls_are_exact_spellings() {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(text), Value::Null, "{text:?}");
        }
        assert_eq!(plain("nULL"), json!("nULL"));
        assert_eq!(
            resolve("null", ScalarStyle::DoubleQuoted),
            Ok(json!("null"))
        );
    }

    #[test]
    fn booleans_are_yaml_1_1_in_any_case() {
        for text in [
            "true", "True", "TRUE", "yes", "Yes", "y", "Y", "on", "ON", "oN",
        ] {
            assert_eq!(plain(text), json!(true), "{text:?}");
        }
        for text in ["false", "no", "NO", "n", "N", "off", "Off"] {
            assert_eq!(plain(text), json!(false), "{text:?}");
        }
        assert_eq!(plain("yess"), json!("yess"));
        assert_eq!(resolve("yes", ScalarStyle::SingleQuoted), Ok(json!("yes")));
    }

    #[test]
    fn integers_take_radix_prefixes_legacy_octal_and_underscores() {
        let cases = [
            ("0", json!(0)),
            ("-0", json!(0)),
            ("+12", json!(12)),
            ("0777", json!(511)),
            ("-0777", json!(-511)),
            ("0o17", json!(15)),
            ("0x1F", json!(31)),
            ("0xff", json!(255)),
            ("0b101", json!(5)),
            ("1_000", json!(1000)),
            ("0x_1F", json!(31)),
            ("0_7", json!(7)),
            ("18446744073709551615", json!(u64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
        ];
        for (text, want) in cases {
            assert_eq!(plain(text), want, "{text:?}");
        }
    }

    #[test]
    fn malformed_integers_become_floats_or_text() {
        // Not octal: a float, as serde-saphyr reads it.
        assert_eq!(plain("09"), json!(9.0));
        assert_eq!(plain("18446744073709551616"), json!(18446744073709551616.0));
        for text in [
            "0X1F", "-0B1", "0O7", "1__0", "_1", "1_", "0x", "0b2", "-+5", "1_0.5",
        ] {
            assert_eq!(plain(text), json!(text), "{text:?}");
        }
    }

    #[test]
    fn floats_and_non_finite_spellings() {
        assert_eq!(plain("1.5"), json!(1.5));
        assert_eq!(plain("-.5"), json!(-0.5));
        assert_eq!(plain("1e3"), json!(1000.0));
        assert_eq!(plain("1."), json!(1.0));
        // Rust's alphabetic spellings and signed NaNs stay text.
        for text in [
            "inf",
            "-infinity",
            "nan",
            "NaN",
            "+.nan",
            "-.NaN",
            ".",
            "e5",
        ] {
            assert_eq!(plain(text), json!(text), "{text:?}");
        }
        // serde-saphyr rejects these; the fast reader leaves that to it.
        for text in [".inf", "-.Inf", ".NAN", "1e999"] {
            assert_eq!(
                resolve(text, ScalarStyle::Plain),
                Err(Unsupported),
                "{text:?}"
            );
        }
    }

    #[test]
    fn go_keys_are_resolved_then_printed() {
        let text = "yes: a\nn: b\n0x10: c\n1.50: d\n0777: e\n1e3: f\n16777217.0: g\n0.1e-5: h\n\
                    .inf: i\n\"on\": j\n'1.0': k\n+1: l\n-0: m\n2001-12-14: p\n1e21: o\n";
        let want = json!({
            "true": "a", "false": "b", "16": "c", "1.5": "d", "511": "e", "1000": "f",
            "1.6777216e+07": "g", "1e-06": "h", ".inf": "i", "on": "j", "1.0": "k", "1": "l",
            "0": "m", "2001-12-14": "p", "1e+21": "o",
        });
        assert_eq!(read_one(text, Keys::Go), Ok(want));
        let text_keys = read_one("yes: a\n0x10: b\n", Keys::Text);
        assert_eq!(text_keys, Ok(json!({"yes": "a", "0x10": "b"})));
    }

    #[test]
    fn go_float_keys_use_single_precision_shortest_form() {
        let cases = [
            (0.30000000000000004, "0.3"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (-0.0, "-0"),
            (1e39, ".inf"),
        ];
        for (f, want) in cases {
            assert_eq!(go_float32_key(f), want, "{f}");
        }
    }

    #[test]
    fn later_duplicates_win_and_aliases_copy() {
        let text = "a: 1\na: 2\nb: &x {c: [1, two]}\nd: *x\n";
        let want = json!({"a": 2, "b": {"c": [1, "two"]}, "d": {"c": [1, "two"]}});
        assert_eq!(read_one(text, Keys::Go), Ok(want));
    }

    #[test]
    fn hands_back_what_it_does_not_reproduce() {
        for text in [
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "&k a: 1\nb: *k\n",
            "? [a]\n: 1\n",
            "~: 1\n",
            "a: .inf\n",
            "a: [1\n",
            "a: 1\n---\nb: 2\n",
            "a: &x [*x]\n",
        ] {
            assert_eq!(read_one(text, Keys::Go), Err(Unsupported), "{text:?}");
        }
    }

    #[test]
    fn streams_skip_null_documents() {
        let text = "a: 1\n---\n---\n~\n--- ''\n---\n- b\n";
        assert_eq!(
            read_all(text, Keys::Go),
            Ok(vec![json!({"a": 1}), json!(""), json!(["b"])])
        );
        assert_eq!(read_all("# only a comment\n", Keys::Go), Ok(vec![]));
        assert_eq!(read_one("# only a comment\n", Keys::Go), Ok(Value::Null));
    }

    #[test]
    fn deep_documents_go_to_serde_saphyr() {
        let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(read_one(&deep, Keys::Go), Err(Unsupported));
        let fine = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(read_one(&fine, Keys::Go).is_ok());
    }
}
