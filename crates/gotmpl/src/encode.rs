//! Go's encoders as Helm's data functions use them: `encoding/json` (`toJson`),
//! `sigs.k8s.io/yaml` (`toYaml`: JSON first, then go-yaml v2's emitter) and go-yaml v3's
//! encoder with indent 2 (`toYamlPretty`: no JSON round trip, sequences indented under their
//! key, no line folding).
//!
//! The YAML side reproduces go-yaml v2's observable output: keys in its "natural" order, plain
//! scalars unless the text would read back as another type (then double quotes) or starts or
//! contains YAML indicators (then single quotes), literal blocks (`|`, `|-`, `|+`) for multi-line
//! text, and plain/quoted scalars folded at spaces past column 80.

use std::cmp::Ordering;

use crate::fmt::format_float_g;
use crate::value::Value;

/// Data after a JSON round trip, as go-yaml sees it.
enum Node {
    Null,
    Bool(bool),
    /// An integer as JSON printed it (may exceed i64: then it is printed as a float).
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// How deep the encoders follow lists and maps. Go's `encoding/json` starts looking for cycles
/// (`encountered a cycle via map[string]interface {}`) at this depth; here a value nested deeper
/// is refused the same way, which also ends a dict that contains itself (`set $d "self" $d`)
/// instead of recursing until the stack overflows.
pub const MAX_DEPTH: usize = 1000;

/// Go's error for a value the JSON encoder refuses, for the `mustTo*` functions: a cycle (here:
/// nesting past [`MAX_DEPTH`]) or a NaN or infinite float.
pub fn json_failure(v: &Value) -> String {
    if nested_past(v, MAX_DEPTH) {
        format!(
            "json: unsupported value: encountered a cycle via map[string]interface {{}} (or lists and maps nested more than {MAX_DEPTH} levels deep)"
        )
    } else {
        "json: unsupported value: NaN or infinite float".to_string()
    }
}

/// Whether `v` nests lists and maps deeper than `levels`.
fn nested_past(v: &Value, levels: usize) -> bool {
    let children: Vec<Value> = match v {
        Value::List(l) => l.iter().cloned().collect(),
        Value::Map(m) => m.borrow().values().cloned().collect(),
        Value::Object(o) => return nested_past(&o.to_data(), levels),
        _ => return false,
    };
    levels == 0 || children.iter().any(|c| nested_past(c, levels - 1))
}

/// `json.Marshal(v)`; `None` where Go's encoder fails (NaN or infinite floats, a cycle).
pub fn to_json(v: &Value) -> Option<String> {
    let mut out = String::new();
    write_json(&mut out, v, 0)?;
    Some(out)
}

fn write_json(out: &mut String, v: &Value, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::String(s) => json_string(out, s),
        Value::Bytes(b) => {
            use base64::Engine as _;
            json_string(out, &base64::engine::general_purpose::STANDARD.encode(b));
        }
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k);
                out.push(':');
                write_json(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Object(o) => write_json(out, &o.to_data(), depth + 1)?,
    }
    Some(())
}

/// encoding/json's float format: `%f`-like shortest digits, exponent form below 1e-6 or from
/// 1e21 on, with `e-07` cleaned to `e-7`.
fn json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        let a = exp.unsigned_abs();
        let exp_s = if a < 10 && exp >= 0 {
            format!("0{a}")
        } else {
            a.to_string()
        };
        return Some(format!("{mant}e{sign}{exp_s}"));
    }
    // Shortest round-trip digits in plain decimal notation.
    let s = format!("{f}");
    Some(if s == "-0" { "-0".into() } else { s })
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Converts a value the way `json.Marshal` followed by go-yaml's `Unmarshal` would see it
/// (`json_round_trip`), or as go-yaml v3 sees the Go value itself (floats stay floats, NaN and
/// infinities are allowed).
fn to_node(v: &Value, json_round_trip: bool, depth: usize) -> Option<Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match v {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Node::Int(i128::from(*i)),
        Value::Float(f) if !json_round_trip => Node::Float(*f),
        Value::Float(f) => {
            let text = json_float(*f)?;
            if text.contains(['.', 'e']) {
                Node::Float(*f)
            } else {
                Node::Int(text.parse::<i128>().unwrap_or(0))
            }
        }
        Value::String(s) => Node::Str(s.to_string()),
        Value::Bytes(b) => {
            use base64::Engine as _;
            Node::Str(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(l) => Node::Seq(
            l.iter()
                .map(|item| to_node(item, json_round_trip, depth + 1))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Map(m) => {
            let mut entries = m
                .borrow()
                .iter()
                .map(|(k, v)| Some((k.clone(), to_node(v, json_round_trip, depth + 1)?)))
                .collect::<Option<Vec<_>>>()?;
            entries.sort_by(|a, b| natural_key_order(&a.0, &b.0));
            Node::Map(entries)
        }
        Value::Object(o) => to_node(&o.to_data(), json_round_trip, depth + 1)?,
    })
}

/// go-yaml v2's map key order: letters after other characters, digit runs compared as numbers.
pub fn natural_key_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// `sigs.k8s.io/yaml.Marshal(v)` output (with its trailing newline); `None` where Go fails.
pub fn to_yaml(v: &Value) -> Option<String> {
    let node = to_node(v, true, 0)?;
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        width: BEST_WIDTH,
        version3: false,
    };
    e.node(&node, Ctx::Root, 0);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Some(e.out)
}

/// go-yaml v3's `Encoder` with `SetIndent(2)` (Helm's `toYamlPretty`), with its trailing newline.
pub fn to_yaml_pretty(v: &Value) -> Option<String> {
    let node = to_node(v, false, 0)?;
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        width: usize::MAX,
        version3: true,
    };
    e.node(&node, Ctx::Root, 0);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Some(e.out)
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    /// A mapping value after `key:`.
    MapValue,
    /// A sequence item after `- `.
    SeqItem,
}

struct Emitter {
    out: String,
    /// Characters on the current line.
    column: usize,
    /// The column past which scalars are folded at a space.
    width: usize,
    /// go-yaml v3's rules: a sequence in a mapping is indented under its key, and `<<` is a
    /// plain string (v2 reads it as the merge key, so it quotes it).
    version3: bool,
}

const BEST_WIDTH: usize = 80;

impl Emitter {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
            self.out.push(c);
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        // A literal block ending in a line break already started the next line.
        if !(self.column == 0 && self.out.ends_with('\n')) {
            self.out.push('\n');
        }
        self.column = 0;
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    /// Emits `node`; `indent` is the column of the enclosing block (keys or dashes).
    fn node(&mut self, node: &Node, ctx: Ctx, indent: usize) {
        match node {
            Node::Map(entries) if !entries.is_empty() => {
                let inner = match ctx {
                    Ctx::Root => 0,
                    Ctx::MapValue => indent + 2,
                    Ctx::SeqItem => indent + 2,
                };
                for (i, (k, v)) in entries.iter().enumerate() {
                    match ctx {
                        Ctx::SeqItem if i == 0 => self.push(" "),
                        Ctx::Root if i == 0 => {}
                        _ => self.newline_indent(inner),
                    }
                    self.scalar(k, true, inner);
                    self.push(":");
                    self.node(v, Ctx::MapValue, inner);
                }
            }
            Node::Seq(items) if !items.is_empty() => {
                // go-yaml v2 does not indent sequences in a mapping ("indentless"); v3 does.
                let inner = match ctx {
                    Ctx::Root => 0,
                    Ctx::MapValue if self.version3 => indent + 2,
                    Ctx::MapValue => indent,
                    Ctx::SeqItem => indent + 2,
                };
                for (i, item) in items.iter().enumerate() {
                    match ctx {
                        Ctx::SeqItem if i == 0 => self.push(" "),
                        Ctx::Root if i == 0 => {}
                        _ => self.newline_indent(inner),
                    }
                    self.push("-");
                    self.node(item, Ctx::SeqItem, inner);
                }
            }
            other => {
                if ctx != Ctx::Root {
                    self.push(" ");
                }
                match other {
                    Node::Map(_) => self.push("{}"),
                    Node::Seq(_) => self.push("[]"),
                    Node::Null => self.push("null"),
                    Node::Bool(b) => self.push(if *b { "true" } else { "false" }),
                    Node::Int(i) => {
                        if i64::try_from(*i).is_ok() || u64::try_from(*i).is_ok() {
                            self.push(&i.to_string())
                        } else {
                            self.push(&format_float_g(*i as f64, None))
                        }
                    }
                    Node::Float(f) => {
                        let s = format_float_g(*f, None);
                        let s = match s.as_str() {
                            "+Inf" => ".inf".to_string(),
                            "-Inf" => "-.inf".to_string(),
                            "NaN" => ".nan".to_string(),
                            _ => s,
                        };
                        self.push(&s)
                    }
                    Node::Str(s) => {
                        let scalar_indent = if ctx == Ctx::Root { 2 } else { indent + 2 };
                        self.scalar(s, false, scalar_indent)
                    }
                }
            }
        }
    }

    /// Writes a string scalar in go-yaml's chosen style. `indent` is where continuation lines and
    /// literal block lines start.
    fn scalar(&mut self, s: &str, simple_key: bool, indent: usize) {
        let a = analyze(s);
        let can_plain = (resolves_to_str(s) || (self.version3 && s == "<<")) && !is_base60_float(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(s, allow_breaks, indent),
            Style::Single => self.write_single(s, allow_breaks, indent),
            Style::Double => self.write_double(s, allow_breaks, indent),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, s: &str, allow_breaks: bool, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > self.width && !next_space {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
    }

    fn push_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_single(&mut self, s: &str, allow_breaks: bool, indent: usize) {
        self.push("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let n = chars.len();
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > self.width
                    && i != 0
                    && i + 1 != n
                    && !next_space
                {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.push("''");
                } else {
                    self.push_char(c);
                }
                spaces = false;
            }
        }
        self.push("'");
    }

    fn write_double(&mut self, s: &str, allow_breaks: bool, indent: usize) {
        self.push("\"");
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let escape =
                !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\';
            if escape {
                let e = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".to_string(),
                    '\u{8}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{b}' => "\\v".to_string(),
                    '\u{c}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1b}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.push(&e);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.width && i != 0 && i + 1 != n {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.push("\\");
                    }
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
        self.push("\"");
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.push("|");
        let first = s.chars().next();
        if first == Some(' ') || first.is_some_and(is_break) {
            self.push("2");
        }
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        if n == 0 || !is_break(chars[n - 1]) {
            self.push("-");
        } else if n == 1 || is_break(chars[n - 2]) {
            self.push("+");
        }
        let mut at_line_start = true;
        self.out.push('\n');
        self.column = 0;
        for &c in &chars {
            if is_break(c) {
                self.out.push('\n');
                self.column = 0;
                at_line_start = true;
            } else {
                if at_line_start {
                    for _ in 0..indent {
                        self.out.push(' ');
                    }
                    self.column = indent;
                    at_line_start = false;
                }
                self.push_char(c);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || u == 0x85
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
        || (0x10000..=0x10ffff).contains(&u)
}

/// go-yaml's scalar analysis: which styles can represent `s` in block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut block_indicators = false;
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
    }
    let mut preceded_by_ws = true;
    for i in 0..n {
        let c = chars[i];
        let followed_by_ws =
            i + 1 >= n || matches!(chars[i + 1], ' ' | '\t') || is_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2 would read the plain scalar `s` back as a string (not null, bool, number
/// or timestamp).
fn resolves_to_str(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // "" is null
    };
    match first {
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' | '<' => !matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "on"
                | "On"
                | "ON"
                | "true"
                | "True"
                | "TRUE"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "off"
                | "Off"
                | "OFF"
                | "false"
                | "False"
                | "FALSE"
                | "null"
                | "Null"
                | "NULL"
                | "~"
                | "<<"
        ),
        '.' => {
            if matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") {
                return false;
            }
            !is_yaml_float(s)
        }
        '+' | '-' => {
            if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
                return false;
            }
            !is_yaml_number(s)
        }
        '0'..='9' => !is_yaml_number(s) && !is_timestamp(s),
        _ => true,
    }
}

fn is_yaml_number(s: &str) -> bool {
    let plain = s.replace('_', "");
    if crate::cast::parse_go_int(&plain).is_some() {
        return true;
    }
    // Unsigned values beyond i64 and binary literals.
    let unsigned = plain.strip_prefix('+').unwrap_or(&plain);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let body = plain.trim_start_matches(['+', '-']);
    if let Some(bin) = body.strip_prefix("0b") {
        if !bin.is_empty() && bin.bytes().all(|b| b == b'0' || b == b'1') {
            return true;
        }
    }
    is_yaml_float(&plain)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml v2's timestamp forms: `2006-1-2`, `2006-1-2 15:4:5.999999999`,
/// `2006-1-2T15:4:5.999999999Z07:00` (also with a lowercase `t`).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // Quick check as go-yaml does: 4 digits then '-'.
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 || p.len() == 4)
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let month: u32 = parts[1].parse().unwrap_or(0);
    let day: u32 = parts[2].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    match rest {
        None => true,
        Some(time) => {
            let time = time.trim_end_matches('Z');
            let hms: Vec<&str> = time
                .split(['+', '-'])
                .next()
                .unwrap_or("")
                .split(':')
                .collect();
            hms.len() == 3
                && hms[..2]
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|c| c.is_ascii_digit()))
        }
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        if i < b.len()
            && (b'0'..=b'5').contains(&b[i])
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn pretty_yaml_matches_go_yaml_v3() {
        // Expected values produced by Helm 4.2.3's toYamlPretty (plus the newline it trims).
        let long =
            "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp";
        let v = m(vec![
            (
                "list",
                Value::list(vec![
                    Value::Int(1),
                    Value::Float(1e6),
                    m(vec![
                        ("k", Value::str("v")),
                        ("j", Value::list(vec![Value::Float(1.0)])),
                    ]),
                    Value::list(vec![Value::str("a"), Value::str("<<")]),
                ]),
            ),
            ("long", Value::str(long)),
            ("ml", Value::str("  lead\nx")),
            ("yes", Value::str("yes")),
        ]);
        assert_eq!(
            to_yaml_pretty(&v).unwrap(),
            format!(
                "list:\n  - 1\n  - 1e+06\n  - j:\n      - 1\n    k: v\n  - - a\n    - <<\n\
                 long: {long}\nml: |2-\n    lead\n  x\n\"yes\": \"yes\"\n"
            )
        );
        assert_eq!(to_yaml_pretty(&Value::Float(1.0)).unwrap(), "1\n");
        assert_eq!(to_yaml_pretty(&Value::empty_map()).unwrap(), "{}\n");
        assert_eq!(to_yaml_pretty(&Value::Nil).unwrap(), "null\n");
    }

    #[test]
    fn yaml_matches_go_yaml_v2() {
        // Expected values produced by Helm 4.2.3's toYaml (plus the newline it trims).
        assert_eq!(to_yaml(&Value::str("foo")).unwrap(), "foo\n");
        assert_eq!(to_yaml(&Value::str("a\n\n")).unwrap(), "|+\n  a\n\n");
        let v = m(vec![("k", Value::str("a\n\n")), ("j", Value::str("x\ny"))]);
        assert_eq!(to_yaml(&v).unwrap(), "j: |-\n  x\n  y\nk: |+\n  a\n\n");
        let v = Value::list(vec![
            Value::str("a\nb"),
            Value::list(vec![Value::Int(1), Value::Int(2)]),
            m(vec![("x", Value::Float(1.5)), ("y", Value::Float(1e-7))]),
        ]);
        assert_eq!(
            to_yaml(&v).unwrap(),
            "- |-\n  a\n  b\n- - 1\n  - 2\n- x: 1.5\n  \"y\": 1e-07\n"
        );
        let long = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss";
        assert_eq!(
            to_yaml(&m(vec![("long", Value::str(long))])).unwrap(),
            "long: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq rrrr ssss\n"
        );
        assert_eq!(
            to_yaml(&m(vec![("k", m(vec![("n", Value::str(long))]))])).unwrap(),
            "k:\n  \"n\": aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo\n    pppp qqqq rrrr ssss\n"
        );
    }

    #[test]
    fn yaml_quotes_ambiguous_strings() {
        let v = m(vec![
            ("a", Value::str("yes")),
            ("b", Value::str("1")),
            ("c", Value::str("")),
            ("d", Value::str("*x")),
            ("e", Value::str("a: b")),
            ("f", Value::str("2024-01-02")),
            ("g", Value::str("1:20")),
            ("h", Value::str("tab\there")),
            ("i", Value::list(vec![])),
            ("j", Value::empty_map()),
            ("k", Value::Nil),
            ("l", Value::Float(3.0)),
        ]);
        assert_eq!(
            to_yaml(&v).unwrap(),
            "a: \"yes\"\nb: \"1\"\nc: \"\"\nd: '*x'\ne: 'a: b'\nf: \"2024-01-02\"\ng: \"1:20\"\nh: \"tab\\there\"\ni: []\nj: {}\nk: null\nl: 3\n"
        );
    }

    #[test]
    fn json_matches_encoding_json() {
        let v = m(vec![
            ("a", Value::str("<&>")),
            ("b", Value::Float(1.0)),
            ("c", Value::Float(1e21)),
            ("d", Value::Float(0.0000001)),
            ("e", Value::Nil),
        ]);
        assert_eq!(
            to_json(&v).unwrap(),
            r#"{"a":"\u003c\u0026\u003e","b":1,"c":1e+21,"d":1e-7,"e":null}"#
        );
    }

    #[test]
    fn natural_key_order_matches_go_yaml() {
        let mut keys = vec!["a10", "a9", "B", "_x", "a"];
        keys.sort_by(|a, b| natural_key_order(a, b));
        assert_eq!(keys, vec!["_x", "B", "a", "a9", "a10"]);
    }
}
