//! Helm's TOML functions: `toToml` and `mustToToml` (BurntSushi/toml's encoder with its default
//! two-space indent) and `fromToml` (a map; a parse error goes under the `Error` key).
//!
//! The encoder writes a table's plain keys first and then its sub-tables and arrays of tables,
//! each group in byte order; `nil` map values are left out, `nil` in an array is an error; floats
//! print as Go's `%g` with `.0` added when there is neither a point nor an exponent; times print
//! as RFC 3339 with nanoseconds (local dates and times in their own forms). `toToml` returns the
//! error text where the encoder fails, `mustToToml` fails.

use super::cast::str_param;
use super::dates::{as_time, GoTime};
use super::{arity, FuncError, Registry};
use gotmpl::encode::MAX_DEPTH;
use gotmpl::fmt::format_float_g;
use gotmpl::value::Value;

/// The zone names BurntSushi/toml gives times without an offset.
const LOCAL_DATETIME: &str = "datetime-local";
const LOCAL_DATE: &str = "date-local";
const LOCAL_TIME: &str = "time-local";

/// How the encoder classifies a value (BurntSushi's `tomlTypeOfGo`).
#[derive(PartialEq)]
enum Kind {
    Nil,
    Table,
    ArrayOfTables,
    Plain,
}

/// An encoder failure: a message BurntSushi returns as an error, or a Go panic that Helm's
/// template engine reports as the function's error even in `toToml`.
enum Failure {
    Encode(String),
    Panic(String),
}

const NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";

/// A map, or the plain data of a struct-like object other than a time.
fn table_entries(v: &Value) -> Option<Vec<(String, Value)>> {
    match v {
        Value::Map(m) => Some(m.entries()),
        Value::Object(o) if as_time(v).is_none() => match o.to_data() {
            Value::Map(m) => Some(m.entries()),
            _ => None,
        },
        _ => None,
    }
}

fn elements(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.as_ref().clone()),
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        _ => None,
    }
}

fn kind(v: &Value) -> Result<Kind, Failure> {
    if v.is_nil() {
        return Ok(Kind::Nil);
    }
    if table_entries(v).is_some() {
        return Ok(Kind::Table);
    }
    let Some(items) = elements(v) else {
        return Ok(Kind::Plain);
    };
    if items.is_empty() {
        return Ok(Kind::Plain);
    }
    let mut all_tables = true;
    for item in &items {
        match kind(item)? {
            Kind::Nil => return Err(Failure::Encode(NIL_ELEMENT.into())),
            Kind::Table => {}
            _ => all_tables = false,
        }
    }
    Ok(if all_tables {
        Kind::ArrayOfTables
    } else {
        Kind::Plain
    })
}

fn is_bare(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_part(key: &str) -> String {
    if is_bare(key) {
        key.to_string()
    } else {
        quote(key)
    }
}

struct Encoder {
    out: String,
    /// Lists and maps entered so far: past `encode::MAX_DEPTH` (a map that contains itself)
    /// the encoding fails instead of recursing until the stack overflows.
    depth: usize,
}

impl Encoder {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// A line break, but never as the first thing written.
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(key: &[String]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn dotted(key: &[String]) -> String {
        key.iter()
            .map(|k| key_part(k))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn enter(&mut self) -> Result<(), Failure> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Failure::Panic(format!(
                "toml: lists and maps nested more than {MAX_DEPTH} levels deep (does a value contain itself?)"
            )));
        }
        Ok(())
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        self.enter()?;
        let result = self.encode_entered(key, v);
        self.depth -= 1;
        result
    }

    fn encode_entered(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        match kind(v)? {
            Kind::Nil if key.is_empty() => Err(Failure::Panic(
                "reflect: call of reflect.Value.Type on zero Value".into(),
            )),
            Kind::Nil => Ok(()),
            Kind::Table => self.table(key, v),
            Kind::ArrayOfTables => self.array_of_tables(key, v),
            Kind::Plain => self.key_value(key, v),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        if let Some(last) = key.last() {
            let line = format!("{}{} = ", Self::indent(key), key_part(last));
            self.write(&line);
            self.element(v)?;
            self.newline();
        } else {
            self.element(v)?;
        }
        Ok(())
    }

    fn table(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        if key.len() == 1 {
            // BurntSushi separates top-level tables with an empty line.
            self.newline();
        }
        if !key.is_empty() {
            let header = format!("{}[{}]", Self::indent(key), Self::dotted(key));
            self.write(&header);
            self.newline();
        }
        self.map_body(key, v)
    }

    fn array_of_tables(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        if key.is_empty() {
            return Err(Failure::Encode(NO_KEY.into()));
        }
        for item in elements(v).unwrap_or_default() {
            self.newline();
            let header = format!("{}[[{}]]", Self::indent(key), Self::dotted(key));
            self.write(&header);
            self.newline();
            self.map_body(key, &item)?;
        }
        Ok(())
    }

    /// A table's entries: plain keys first, then sub-tables, each group in byte order.
    fn map_body(&mut self, key: &[String], v: &Value) -> Result<(), Failure> {
        let (direct, sub) = split_entries(v)?;
        for (k, item) in direct.iter().chain(sub.iter()) {
            if item.is_nil() {
                continue;
            }
            let mut path = key.to_vec();
            path.push(k.clone());
            self.encode(&path, item)?;
        }
        Ok(())
    }

    /// A value in a key/value pair or an array.
    fn element(&mut self, v: &Value) -> Result<(), Failure> {
        self.enter()?;
        let result = self.element_entered(v);
        self.depth -= 1;
        result
    }

    fn element_entered(&mut self, v: &Value) -> Result<(), Failure> {
        if let Some(t) = as_time(v) {
            let layout = match t.zone_name() {
                LOCAL_DATETIME => "2006-01-02T15:04:05.999999999",
                LOCAL_DATE => "2006-01-02",
                LOCAL_TIME => "15:04:05.999999999",
                _ => "2006-01-02T15:04:05.999999999Z07:00",
            };
            self.write(&t.format(layout));
            return Ok(());
        }
        match v {
            Value::String(s) => self.write(&quote(s)),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.write(&i.to_string()),
            Value::Float(f) => self.write(&format_float(*f)),
            Value::List(_) | Value::Bytes(_) => {
                let items = elements(v).unwrap_or_default();
                self.write("[");
                for (i, item) in items.iter().enumerate() {
                    self.element(item)?;
                    if i + 1 != items.len() {
                        self.write(", ");
                    }
                }
                self.write("]");
            }
            Value::Map(_) | Value::Object(_) => self.inline_table(v)?,
            Value::Nil => {
                return Err(Failure::Panic(
                    "reflect: call of reflect.Value.Interface on zero Value".into(),
                ))
            }
        }
        Ok(())
    }

    fn inline_table(&mut self, v: &Value) -> Result<(), Failure> {
        let (direct, sub) = split_entries(v)?;
        self.write("{");
        // BurntSushi writes the separator by index, so a skipped nil can leave a trailing ", ".
        for (group, trailing) in [(&direct, !sub.is_empty()), (&sub, false)] {
            for (i, (k, item)) in group.iter().enumerate() {
                if item.is_nil() {
                    continue;
                }
                self.write(&key_part(k));
                self.write(" = ");
                self.element(item)?;
                if trailing || i + 1 != group.len() {
                    self.write(", ");
                }
            }
        }
        self.write("}");
        Ok(())
    }
}

type Entries = Vec<(String, Value)>;

/// A table's entries split into plain values and sub-tables (maps and arrays of tables).
fn split_entries(v: &Value) -> Result<(Entries, Entries), Failure> {
    let mut direct = Vec::new();
    let mut sub = Vec::new();
    for (k, item) in table_entries(v).unwrap_or_default() {
        match kind(&item)? {
            Kind::Table | Kind::ArrayOfTables => sub.push((k, item)),
            _ => direct.push((k, item)),
        }
    }
    Ok((direct, sub))
}

/// Go's `%g` with `.0` appended when it has neither a point nor an exponent; `nan`, `inf`.
fn format_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    let s = format_float_g(f, None);
    if s.contains(['.', 'e']) {
        s
    } else {
        s + ".0"
    }
}

fn encode_toml(v: &Value) -> Result<String, Failure> {
    let mut e = Encoder {
        out: String::new(),
        depth: 0,
    };
    e.encode(&[], v)?;
    Ok(e.out)
}

fn to_toml(args: &[Value]) -> Result<Value, FuncError> {
    arity("toToml", args, 1)?;
    match encode_toml(&args[0]) {
        Ok(text) => Ok(Value::from(text)),
        Err(Failure::Encode(msg)) => Ok(Value::from(msg)),
        Err(Failure::Panic(msg)) => Err(FuncError::new(msg)),
    }
}

fn must_to_toml(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustToToml", args, 1)?;
    match encode_toml(&args[0]) {
        Ok(text) => Ok(Value::from(text)),
        Err(Failure::Encode(msg) | Failure::Panic(msg)) => Err(FuncError::new(msg)),
    }
}

/// A TOML datetime as the `time.Time` BurntSushi decodes it to.
fn decode_datetime(d: &toml::value::Datetime) -> Value {
    use toml::value::Offset;
    let date = d
        .date
        .map(|x| (i32::from(x.year), u32::from(x.month), u32::from(x.day)))
        .unwrap_or((0, 1, 1));
    let (hour, minute, second, nanos) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            u32::from(t.hour),
            u32::from(t.minute),
            u32::from(t.second.unwrap_or(0)),
            t.nanosecond.unwrap_or(0),
        )
    });
    let civil = chrono::NaiveDate::from_ymd_opt(date.0, date.1, date.2)
        .and_then(|day| day.and_hms_opt(hour, minute, second))
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0);
    let (offset, zone) = match (d.date, d.time, d.offset) {
        (_, _, Some(Offset::Z)) => (0, "UTC"),
        (_, _, Some(Offset::Custom { minutes })) => (i32::from(minutes) * 60, ""),
        (Some(_), Some(_), None) => (0, LOCAL_DATETIME),
        (Some(_), None, None) => (0, LOCAL_DATE),
        _ => (0, LOCAL_TIME),
    };
    let secs = civil - i64::from(offset);
    Value::Object(std::rc::Rc::new(GoTime::fixed(secs, nanos, offset, zone)))
}

fn decode(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int64(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => decode_datetime(d),
        toml::Value::Array(a) => Value::list(a.iter().map(decode).collect()),
        toml::Value::Table(t) => decode_table(t),
    }
}

fn decode_table(t: &toml::Table) -> Value {
    Value::map(t.iter().map(|(k, v)| (k.clone(), decode(v))).collect())
}

/// Helm's `fromToml`: the document as a map, or `{"Error": message}` when it does not parse.
fn from_toml(args: &[Value]) -> Result<Value, FuncError> {
    arity("fromToml", args, 1)?;
    let text = str_param(&args[0]);
    Ok(match text.parse::<toml::Table>() {
        Ok(table) => decode_table(&table),
        Err(e) => {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            let v = Value::empty_map();
            if let Some(d) = v.as_dict() {
                d.insert(
                    "Error",
                    Value::from(format!("toml: line {line}: {}", e.message().trim_end())),
                );
            }
            v
        }
    })
}

pub(super) fn register(r: &mut Registry) {
    r.add("toToml", to_toml);
    r.add("mustToToml", must_to_toml);
    r.add("fromToml", from_toml);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4.2.3's output for the same calls (rendered with helm_python).
    use super::super::testing::{call, f, i, l, s, show};
    use super::*;
    use std::collections::BTreeMap;

    fn m(entries: &[(&str, Value)]) -> Value {
        Value::map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn to_toml_writes_plain_keys_then_tables() {
        let v = m(&[
            ("top", f(1.0)),
            ("str", s("hello")),
            ("empty", Value::empty_map()),
            (
                "list",
                l(&[
                    m(&[("name", s("a")), ("v", f(1.0))]),
                    m(&[("name", s("b"))]),
                ]),
            ),
            (
                "table",
                m(&[
                    ("key", s("v")),
                    ("arr", l(&[f(1.0), f(2.0)])),
                    ("sub", m(&[("deep", Value::Bool(true))])),
                ]),
            ),
        ]);
        assert_eq!(
            show("toToml", &[v]),
            "str = \"hello\"\ntop = 1.0\n\n[empty]\n\n[[list]]\n  name = \"a\"\n  v = 1.0\n\n\
             [[list]]\n  name = \"b\"\n\n[table]\n  arr = [1.0, 2.0]\n  key = \"v\"\n  \
             [table.sub]\n    deep = true\n"
        );
        let nested = m(&[(
            "a",
            m(&[
                ("b", m(&[("c", i(1)), ("d", l(&[m(&[("e", i(1))])]))])),
                ("z", i(2)),
            ]),
        )]);
        assert_eq!(
            show("toToml", &[nested]),
            "[a]\n  z = 2\n  [a.b]\n    c = 1\n\n    [[a.b.d]]\n      e = 1\n"
        );
    }

    #[test]
    fn to_toml_scalars_keys_and_errors() {
        let v = m(&[
            ("", i(3)),
            ("with space", i(1)),
            ("ü", i(2)),
            ("d", f(1e6)),
            ("g", s("x\"y\n\tzé\u{1}\u{7f}")),
            ("j", l(&[])),
            ("n", Value::Nil),
            ("o", l(&[l(&[i(1), i(2)]), l(&[s("a")])])),
            ("mixed", l(&[i(1), m(&[("x", i(1))])])),
            ("z", f(0.0)),
        ]);
        assert_eq!(
            show("toToml", &[v]),
            "\"\" = 3\nd = 1e+06\ng = \"x\\\"y\\n\\tzé\\u0001\\u007f\"\nj = []\n\
             mixed = [1, {x = 1}]\no = [[1, 2], [\"a\"]]\n\"with space\" = 1\nz = 0.0\n\"ü\" = 2\n"
        );
        assert_eq!(show("toToml", &[s("str")]), "\"str\"");
        assert_eq!(show("toToml", &[l(&[i(1), i(2)])]), "[1, 2]");
        assert_eq!(
            show("toToml", &[m(&[("l", l(&[Value::Nil]))])]),
            "toml: cannot encode array with nil element"
        );
        assert!(show("mustToToml", &[m(&[("l", l(&[Value::Nil]))])]).starts_with("error: "));
        assert_eq!(
            show("toToml", &[Value::Nil]),
            "error: reflect: call of reflect.Value.Type on zero Value"
        );
    }

    #[test]
    fn from_toml_reads_go_types() {
        let doc = "a = 1\nb = 1.5\nc = \"x\"\nd = 2024-01-02T03:04:05Z\ne = 2024-01-02\n\
                   f = [1, 2]\n[g]\nh = true\n[[i]]\nj = 1\n";
        let v = call("fromToml", &[s(doc)]).unwrap();
        let d = v.as_dict().unwrap();
        assert_eq!(d.get("a"), Some(Value::Int64(1)));
        assert_eq!(d.get("b"), Some(f(1.5)));
        assert_eq!(
            d.get("d").unwrap().to_go_string(),
            "2024-01-02 03:04:05 +0000 UTC"
        );
        assert_eq!(
            d.get("e").unwrap().to_go_string(),
            "2024-01-02 00:00:00 +0000 date-local"
        );
        assert_eq!(
            show("toToml", std::slice::from_ref(&v)).lines().nth(4),
            Some("e = 2024-01-02")
        );
        assert_eq!(d.get("g").unwrap().to_go_string(), "map[h:true]");
        assert_eq!(d.get("i").unwrap().to_go_string(), "[map[j:1]]");
        let bad = call("fromToml", &[s("a = 1\na = 2")]).unwrap();
        let err = bad.as_dict().unwrap().get("Error").unwrap().to_go_string();
        assert!(err.starts_with("toml: line 2"), "{err}");
    }
}
