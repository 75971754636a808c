//! The `--set` family grammar, behaving exactly like Helm 4's `pkg/strvals`, quirks included.
//!
//! `name.path[index]=value` pairs separated by `,`; `\` escapes the next character in keys and
//! values (`\.`, `\,`, `\=`); `{a,b}` is a list; `--set` infers types (`true`/`false`/`null` in
//! any case, decimal integers without a leading zero become i64, everything else stays a string:
//! `1.5`, `0080`, `1e5`); `--set-string` keeps strings; `--set-json` takes one JSON document per
//! key (or, in [`crate::values`], a bare JSON object); `--set-literal` takes the rest of the
//! argument verbatim; `--set-file` reads the named file.
//!
//! Quirks kept on purpose because Helm has them: an expression that ends early (`a.`, `a[0]`,
//! `a[1`) is not an error and sets what it has so far (`a[0]` makes `a` an empty list);
//! `a=` sets an empty string; `{}` is a one-element list holding `""`; `--set-json 'a=1 b=2'`
//! sets both keys; list indexes above 65536 and names nested deeper than 30 are refused.

use serde_json::{Map, Number, Value};

/// Helm's `MaxIndex`: the largest list index a `--set` expression may use.
pub const MAX_INDEX: usize = 65536;
/// Helm's `MaxNestedNameLevel`: the deepest `a.b.c...` nesting allowed.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How JSON numbers from `--set-json` are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonNumbers {
    /// As Go decodes them into `any`: every number is a float64 (Helm charts).
    Float64,
    /// As written: integers stay integers (Tera charts).
    Preserve,
}

/// What a value after `=` becomes.
pub enum ValueMode<'a> {
    /// `--set`: type inference.
    Typed,
    /// `--set-string`: always a string.
    String,
    /// `--set-json`: one JSON document.
    Json(JsonNumbers),
    /// `--set-file`: the value is a path; the reader returns the file's content (or an error
    /// message naming the path).
    File(&'a dyn Fn(&str) -> Result<Value, String>),
    /// `--set-literal`: the rest of the expression, verbatim, with its own simpler grammar.
    Literal,
}

/// A malformed expression: what is wrong and where (1-based character column), or a
/// `--set-file` file that could not be read (no column: the expression itself is fine).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", column.map(|c| format!(" (at column {c})")).unwrap_or_default())]
pub struct StrvalsError {
    pub message: String,
    pub column: Option<usize>,
}

/// Internal outcome: `End` is Helm's `io.EOF`, which ends parsing successfully.
enum Stop {
    End,
    Fail(String),
    /// The `--set-file` reader failed.
    Unreadable(String),
}

type Step<T> = Result<T, Stop>;

fn fail<T>(message: impl Into<String>) -> Step<T> {
    Err(Stop::Fail(message.into()))
}

/// Parses `expr` into `dest`, overwriting keys it names (Helm's `ParseInto` family).
pub fn parse_into(
    expr: &str,
    dest: &mut Map<String, Value>,
    mode: ValueMode<'_>,
) -> Result<(), StrvalsError> {
    let mut parser = Parser {
        input: expr.chars().collect(),
        pos: 0,
        mode,
        list_depth: 0,
    };
    loop {
        match parser.key(dest, 0) {
            Ok(()) => continue,
            Err(Stop::End) => return Ok(()),
            Err(Stop::Fail(message)) => {
                return Err(StrvalsError {
                    message,
                    column: Some(parser.pos.max(1)),
                })
            }
            Err(Stop::Unreadable(message)) => {
                return Err(StrvalsError {
                    message,
                    column: None,
                })
            }
        }
    }
}

/// `--set`: parses into a fresh map.
pub fn parse(expr: &str) -> Result<Map<String, Value>, StrvalsError> {
    let mut map = Map::new();
    parse_into(expr, &mut map, ValueMode::Typed)?;
    Ok(map)
}

/// `--set-string`: parses into a fresh map, every value a string.
pub fn parse_string(expr: &str) -> Result<Map<String, Value>, StrvalsError> {
    let mut map = Map::new();
    parse_into(expr, &mut map, ValueMode::String)?;
    Ok(map)
}

/// `--set-json` in `key=json` form: parses into a fresh map.
pub fn parse_json(expr: &str, numbers: JsonNumbers) -> Result<Map<String, Value>, StrvalsError> {
    let mut map = Map::new();
    parse_into(expr, &mut map, ValueMode::Json(numbers))?;
    Ok(map)
}

/// `--set-literal`: parses into a fresh map.
pub fn parse_literal(expr: &str) -> Result<Map<String, Value>, StrvalsError> {
    let mut map = Map::new();
    parse_into(expr, &mut map, ValueMode::Literal)?;
    Ok(map)
}

/// Helm's `typedVal`: the type inference of `--set`.
pub fn typed_value(text: &str) -> Value {
    if fold_eq(text, "true") {
        return Value::Bool(true);
    }
    if fold_eq(text, "false") {
        return Value::Bool(false);
    }
    if fold_eq(text, "null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::Number(0.into());
    }
    if !text.is_empty() && !text.starts_with('0') {
        if let Some(n) = parse_go_int(text) {
            return Value::Number(n.into());
        }
    }
    Value::String(text.to_string())
}

/// Go's `strings.EqualFold` against an ASCII lowercase word (`ſ` folds to `s`, as in Go).
fn fold_eq(text: &str, word: &str) -> bool {
    let mut chars = text.chars();
    for expected in word.chars() {
        match chars.next() {
            Some(c) if c.to_ascii_lowercase() == expected => {}
            Some('\u{17F}') if expected == 's' => {}
            _ => return false,
        }
    }
    chars.next().is_none()
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits, no overflow.
fn parse_go_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

/// Go's `strconv.Atoi` for list indexes, with Go's error text.
fn parse_index(text: &str) -> Step<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return fail(format!(
            "error parsing index: strconv.Atoi: parsing {text:?}: invalid syntax"
        ));
    }
    text.parse::<i64>().or_else(|_| {
        fail(format!(
            "error parsing index: strconv.Atoi: parsing {text:?}: value out of range"
        ))
    })
}

struct Parser<'a> {
    input: Vec<char>,
    pos: usize,
    mode: ValueMode<'a>,
    /// How many `[` deep the current list item is.
    list_depth: usize,
}

impl Parser<'_> {
    fn literal(&self) -> bool {
        matches!(self.mode, ValueMode::Literal)
    }

    fn next(&mut self) -> Option<char> {
        let c = self.input.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Reads until one of `stop` (consumed, returned) or the end (`None`). Backslash escapes
    /// the next character, except in literal mode.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let escapes = !self.literal();
        let mut out = String::new();
        while let Some(c) = self.next() {
            if stop.contains(&c) {
                return (out, Some(c));
            }
            if c == '\\' && escapes {
                match self.next() {
                    Some(n) => out.push(n),
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
        (out, None)
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Step<()> {
        let stops: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (key, last) = self.until(stops);
        match last {
            None => {
                if key.is_empty() {
                    Err(Stop::End)
                } else {
                    fail(format!("key {key:?} has no value"))
                }
            }
            Some('[') => {
                let index = self.index()?;
                let mut list = match data.get_mut(&key) {
                    None => Vec::new(),
                    Some(Value::Array(list)) => std::mem::take(list),
                    Some(other) => return fail(not_a(&key, other, "list")),
                };
                let result = self.list_item(&mut list, index, level);
                set(data, &key, Value::Array(list));
                result
            }
            Some('=') => {
                let value = match self.value_after_equals()? {
                    Parsed::Value(v) => v,
                    Parsed::EmptyAtEnd => {
                        set(data, &key, Value::String(String::new()));
                        return Err(Stop::End);
                    }
                };
                set(data, &key, value);
                Ok(())
            }
            Some(',') => {
                set(data, &key, Value::String(String::new()));
                fail(format!("key {key:?} has no value (cannot end with ,)"))
            }
            Some(_) => {
                // '.': a nested map.
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return fail(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    ));
                }
                match data.get_mut(&key) {
                    Some(Value::Object(inner)) => {
                        let result = self.key(inner, level);
                        if result.is_ok() && inner.is_empty() {
                            return fail(format!("key map {key:?} has no value"));
                        }
                        result
                    }
                    Some(other) => fail(not_a(&key, other, "map")),
                    None => {
                        let mut inner = Map::new();
                        let result = self.key(&mut inner, level);
                        if result.is_ok() && inner.is_empty() {
                            return fail(format!("key map {key:?} has no value"));
                        }
                        if !inner.is_empty() {
                            set(data, &key, Value::Object(inner));
                        }
                        result
                    }
                }
            }
        }
    }

    /// Reads `N]` after a `[`. The end of input here ends parsing quietly, as in Helm.
    fn index(&mut self) -> Step<i64> {
        let (text, last) = self.until(&[']']);
        if last.is_none() {
            return Err(Stop::End);
        }
        parse_index(&text)
    }

    fn list_item(&mut self, list: &mut Vec<Value>, index: i64, level: usize) -> Step<()> {
        if index < 0 {
            return fail(format!("negative {index} index not allowed"));
        }
        let (rest, last) = self.until(&['[', '.', '=']);
        if !rest.is_empty() {
            return fail(format!("unexpected data at end of array index: {rest:?}"));
        }
        match last {
            None => Err(Stop::End),
            Some('=') => {
                let value = match self.value_after_equals()? {
                    Parsed::Value(v) => v,
                    Parsed::EmptyAtEnd => Value::String(String::new()),
                };
                set_index(list, index, value)
            }
            Some('[') => {
                let next = self.index()?;
                // Each `[` recurses: without a bound, `a[0][0]…` ten thousand deep overflows
                // the stack (an abort, not an error). Values deeper than YAML allows are of no
                // use anyway.
                self.list_depth += 1;
                if self.list_depth > crate::yaml::MAX_DEPTH {
                    return fail(format!(
                        "lists nested more than {} levels deep (rudder's fixed limit for values nesting)",
                        crate::yaml::MAX_DEPTH
                    ));
                }
                let i = index as usize;
                let mut inner = match list.get_mut(i) {
                    Some(Value::Array(existing)) => std::mem::take(existing),
                    None | Some(Value::Null) => Vec::new(),
                    Some(other) => return fail(not_a(&format!("[{index}]"), other, "list")),
                };
                let result = self.list_item(&mut inner, next, level);
                self.list_depth -= 1;
                match result {
                    Ok(()) => set_index(list, index, Value::Array(inner)),
                    Err(stop) => {
                        // In Helm the nested list shares storage with the outer one, so what
                        // was changed in place before the stop stays.
                        if let Some(slot @ Value::Array(_)) = list.get_mut(i) {
                            *slot = Value::Array(inner);
                        }
                        Err(stop)
                    }
                }
            }
            Some(_) => {
                // '.': a map inside the list element.
                let i = index as usize;
                if i < list.len() {
                    if !list[i].is_object() {
                        // Helm: indexes given out of order reset the element to a map.
                        list[i] = Value::Object(Map::new());
                    }
                    let Value::Object(inner) = &mut list[i] else {
                        unreachable!("just made an object")
                    };
                    self.key(inner, level)?;
                    Ok(())
                } else {
                    let mut inner = Map::new();
                    self.key(&mut inner, level)?;
                    set_index(list, index, Value::Object(inner))
                }
            }
        }
    }

    /// The value after `=`, in the parser's mode.
    fn value_after_equals(&mut self) -> Step<Parsed> {
        match self.mode {
            ValueMode::Literal => {
                let rest: String = self.input[self.pos..].iter().collect();
                self.pos = self.input.len();
                Ok(Parsed::Value(Value::String(rest)))
            }
            ValueMode::Json(numbers) => {
                if self.skip_empty() {
                    return Ok(Parsed::Value(Value::Null));
                }
                let value = self.json_value(numbers)?;
                self.skip_empty();
                Ok(Parsed::Value(value))
            }
            _ => {
                match self.next() {
                    None => return Ok(Parsed::EmptyAtEnd),
                    Some('{') => return self.value_list().map(Parsed::Value),
                    Some(_) => self.pos -= 1,
                }
                let (text, _) = self.until(&[',']);
                self.convert(&text).map(Parsed::Value)
            }
        }
    }

    /// `{a,b}` after the `{`.
    fn value_list(&mut self) -> Step<Value> {
        let mut items = Vec::new();
        loop {
            let (text, last) = self.until(&[',', '}']);
            match last {
                None => return fail("list must terminate with '}'"),
                Some('}') => {
                    if let Some(',') = self.input.get(self.pos) {
                        self.pos += 1;
                    }
                    items.push(self.convert(&text)?);
                    return Ok(Value::Array(items));
                }
                Some(_) => items.push(self.convert(&text)?),
            }
        }
    }

    fn convert(&self, text: &str) -> Step<Value> {
        match &self.mode {
            ValueMode::String => Ok(Value::String(text.to_string())),
            ValueMode::File(read) => read(text).map_err(Stop::Unreadable),
            _ => Ok(typed_value(text)),
        }
    }

    /// Helm's `emptyVal`: skips spaces; true at the end or at a (consumed) comma.
    fn skip_empty(&mut self) -> bool {
        loop {
            match self.input.get(self.pos) {
                None => return true,
                Some(',') => {
                    self.pos += 1;
                    return true;
                }
                Some(c) if c.is_whitespace() => self.pos += 1,
                Some(_) => return false,
            }
        }
    }

    /// One JSON document from the current position, ending where Go's decoder would stop.
    fn json_value(&mut self, numbers: JsonNumbers) -> Step<Value> {
        let start = self.pos;
        let end = json_extent(&self.input, start).map_err(Stop::Fail)?;
        let text: String = self.input[start..end].iter().collect();
        let value: Value = serde_json::from_str(&text).or_else(|e| fail(e.to_string()))?;
        self.pos = end;
        Ok(match numbers {
            JsonNumbers::Preserve => value,
            JsonNumbers::Float64 => to_float64(value),
        })
    }
}

enum Parsed {
    Value(Value),
    /// `key=` at the very end: Helm sets `""` and stops.
    EmptyAtEnd,
}

fn set(data: &mut Map<String, Value>, key: &str, value: Value) {
    // Helm ignores an empty key silently.
    if !key.is_empty() {
        data.insert(key.to_string(), value);
    }
}

fn set_index(list: &mut Vec<Value>, index: i64, value: Value) -> Step<()> {
    if index < 0 {
        return fail(format!("negative {index} index not allowed"));
    }
    let i = index as usize;
    if i > MAX_INDEX {
        return fail(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = value;
    Ok(())
}

fn not_a(key: &str, found: &Value, wanted: &str) -> String {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    };
    format!("unable to parse key: {key:?} is {kind}, not a {wanted}")
}

/// Converts every number to a float64, as Go's `encoding/json` (and `sigs.k8s.io/yaml`) decode
/// numbers into `any`.
pub fn to_float64(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64().and_then(Number::from_f64) {
            Some(f) => Value::Number(f),
            None => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(to_float64).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, to_float64(v))).collect())
        }
        other => other,
    }
}

/// The end (exclusive) of the JSON value starting at `start` (after optional JSON whitespace),
/// following Go's scanner: a value ends as soon as it is complete, whatever follows.
fn json_extent(input: &[char], start: usize) -> Result<usize, String> {
    let mut i = start;
    while matches!(input.get(i), Some(' ' | '\t' | '\n' | '\r')) {
        i += 1;
    }
    let unexpected_end = || "unexpected EOF".to_string();
    let Some(&first) = input.get(i) else {
        return Err(unexpected_end());
    };
    match first {
        '{' | '[' => {
            let mut depth = 0usize;
            let mut in_string = false;
            while let Some(&c) = input.get(i) {
                i += 1;
                if in_string {
                    match c {
                        '\\' => i += 1,
                        '"' => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    '"' => in_string = true,
                    '{' | '[' => depth += 1,
                    '}' | ']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i);
                        }
                    }
                    _ => {}
                }
            }
            Err(unexpected_end())
        }
        '"' => {
            i += 1;
            while let Some(&c) = input.get(i) {
                i += 1;
                match c {
                    '\\' => i += 1,
                    '"' => return Ok(i),
                    _ => {}
                }
            }
            Err(unexpected_end())
        }
        't' | 'f' | 'n' => {
            let word = match first {
                't' => "true",
                'f' => "false",
                _ => "null",
            };
            for (offset, expected) in word.chars().enumerate() {
                match input.get(i + offset) {
                    None => return Err(unexpected_end()),
                    Some(&c) if c == expected => {}
                    Some(&c) => {
                        return Err(format!(
                            "invalid character {c:?} in literal {word} (expecting {expected:?})"
                        ))
                    }
                }
            }
            Ok(i + word.len())
        }
        '-' | '0'..='9' => {
            if first == '-' {
                i += 1;
            }
            let digit = |i: usize| input.get(i).is_some_and(|c| c.is_ascii_digit());
            match input.get(i) {
                Some('0') => i += 1,
                Some(c) if c.is_ascii_digit() => {
                    while digit(i) {
                        i += 1;
                    }
                }
                Some(&c) => return Err(format!("invalid character {c:?} in numeric literal")),
                None => return Err(unexpected_end()),
            }
            if input.get(i) == Some(&'.') {
                i += 1;
                if !digit(i) {
                    return match input.get(i) {
                        Some(&c) => Err(format!(
                            "invalid character {c:?} after decimal point in numeric literal"
                        )),
                        None => Err(unexpected_end()),
                    };
                }
                while digit(i) {
                    i += 1;
                }
            }
            if matches!(input.get(i), Some('e' | 'E')) {
                i += 1;
                if matches!(input.get(i), Some('+' | '-')) {
                    i += 1;
                }
                if !digit(i) {
                    return match input.get(i) {
                        Some(&c) => Err(format!(
                            "invalid character {c:?} in exponent of numeric literal"
                        )),
                        None => Err(unexpected_end()),
                    };
                }
                while digit(i) {
                    i += 1;
                }
            }
            Ok(i)
        }
        c => Err(format!(
            "invalid character {c:?} looking for beginning of value"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_(expr: &str) -> Value {
        Value::Object(parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")))
    }

    #[test]
    fn infers_types_like_helm() {
        assert_eq!(
            set_("a=3,b=true,c=1.5,d=0080,e=null,f=0,g=-7,h=TRUE,i=1e5,j=+5"),
            json!({"a": 3, "b": true, "c": "1.5", "d": "0080", "e": null, "f": 0, "g": -7,
                   "h": true, "i": "1e5", "j": 5})
        );
        // Beyond i64 stays a string.
        assert_eq!(
            set_("a=9223372036854775808"),
            json!({"a": "9223372036854775808"})
        );
        assert_eq!(set_("a=falſe"), json!({"a": false}));
        assert!(set_("a=3")["a"].is_i64());
    }

    #[test]
    fn escapes_lists_and_nesting() {
        assert_eq!(
            set_(r"a\.b=1,c=x\,y,list={1,two,},n.m.o=v"),
            json!({"a.b": 1, "c": "x,y", "list": [1, "two", ""], "n": {"m": {"o": "v"}}})
        );
        assert_eq!(set_("a={}"), json!({"a": [""]}));
        assert_eq!(set_("a[1].b=c"), json!({"a": [null, {"b": "c"}]}));
        assert_eq!(set_("a[0][1]=x"), json!({"a": [[null, "x"]]}));
        assert_eq!(set_("a[0]=1,a[2]=3"), json!({"a": [1, null, 3]}));
    }

    #[test]
    fn keeps_helms_early_end_quirks() {
        assert_eq!(set_("a="), json!({"a": ""}));
        assert_eq!(set_("a."), json!({}));
        assert_eq!(set_("a[0]"), json!({"a": []}));
        assert_eq!(set_("a[1"), json!({}));
        assert_eq!(set_("=1"), json!({}));
    }

    #[test]
    fn lists_nested_past_the_limit_are_refused_without_overflowing_the_stack() {
        let deep = format!("a{}=1", "[0]".repeat(10_000));
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("nested more than 1000"), "{err}");
        let fine = format!("a{}=1", "[0]".repeat(999));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn reports_malformed_expressions_with_position() {
        let err = parse("a=1,b").unwrap_err();
        assert_eq!(err.message, "key \"b\" has no value");
        assert_eq!(err.column, Some(5));
        let err = parse("a,b=1").unwrap_err();
        assert!(err.message.contains("cannot end with ,"), "{err}");
        assert_eq!(err.column, Some(2));
        assert!(parse("a={1,2").unwrap_err().message.contains("terminate"));
        assert!(parse("a[x]=1")
            .unwrap_err()
            .message
            .contains("invalid syntax"));
        assert!(parse("a[-1]=1").unwrap_err().message.contains("negative"));
        assert!(parse("a[65537]=1").unwrap_err().message.contains("maximum"));
        assert!(parse("a[0]x=1")
            .unwrap_err()
            .message
            .contains("unexpected data"));
        let deep = (0..32)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
            + "=1";
        assert!(parse(&deep).unwrap_err().message.contains("nested level"));
        let ok = (0..31)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
            + "=1";
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn type_conflicts_with_existing_values_fail() {
        let mut map = Map::new();
        parse_into("a=1", &mut map, ValueMode::Typed).unwrap();
        assert!(parse_into("a.b=1", &mut map, ValueMode::Typed).is_err());
        assert!(parse_into("a[0]=1", &mut map, ValueMode::Typed).is_err());
        parse_into("m.x=1", &mut map, ValueMode::Typed).unwrap();
        parse_into("m.y=2", &mut map, ValueMode::Typed).unwrap();
        assert_eq!(Value::Object(map), json!({"a": 1, "m": {"x": 1, "y": 2}}));
    }

    #[test]
    fn set_string_keeps_strings() {
        assert_eq!(
            Value::Object(parse_string("a=3,b=true,c={1,2}").unwrap()),
            json!({"a": "3", "b": "true", "c": ["1", "2"]})
        );
    }

    #[test]
    fn set_json_reads_one_document_per_key() {
        let p = |e: &str| Value::Object(parse_json(e, JsonNumbers::Preserve).unwrap());
        assert_eq!(
            p(r#"a={"b":[1,2]},c="x""#),
            json!({"a": {"b": [1, 2]}, "c": "x"})
        );
        assert_eq!(
            p("a=,b=  ,c=null"),
            json!({"a": null, "b": null, "c": null})
        );
        assert_eq!(p("a=1 b=2"), json!({"a": 1, "b": 2}));
        assert_eq!(p("a[1]=true"), json!({"a": [null, true]}));
        let f = Value::Object(parse_json("a=1,b=2.5", JsonNumbers::Float64).unwrap());
        assert!(f["a"].is_f64() && f["a"].as_f64() == Some(1.0));
        assert!(parse_json("a={", JsonNumbers::Preserve).is_err());
        assert!(parse_json("a=x", JsonNumbers::Preserve).is_err());
        assert!(parse_json("a=1.", JsonNumbers::Preserve).is_err());
    }

    #[test]
    fn set_literal_takes_the_rest_verbatim() {
        assert_eq!(
            Value::Object(parse_literal(r"a.b=x,y=\z{1}").unwrap()),
            json!({"a": {"b": r"x,y=\z{1}"}})
        );
        assert_eq!(
            Value::Object(parse_literal("l[1]=v,w").unwrap()),
            json!({"l": [null, "v,w"]})
        );
        assert!(parse_literal("a").is_err());
    }

    #[test]
    fn set_file_reads_through_the_reader() {
        let read = |path: &str| -> Result<Value, String> {
            if path == "ok.txt" {
                Ok(Value::String("content".into()))
            } else {
                Err(format!("open {path}: no such file or directory"))
            }
        };
        let mut map = Map::new();
        parse_into("a=ok.txt", &mut map, ValueMode::File(&read)).unwrap();
        assert_eq!(Value::Object(map.clone()), json!({"a": "content"}));
        let err = parse_into("b=missing.txt", &mut map, ValueMode::File(&read)).unwrap_err();
        assert!(err.message.contains("missing.txt"), "{err}");
        // The expression is fine; only the file is not, so no column is blamed.
        assert_eq!(err.column, None);
    }
}
