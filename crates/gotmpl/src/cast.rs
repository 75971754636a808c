//! Conversions as Sprig performs them: `strval` for strings and `spf13/cast` for numbers.

use crate::value::Value;

/// Sprig's `strval`: strings as is, `[]byte` as text, objects via `String()`, everything else
/// as `fmt.Sprintf("%v")` (so nil is `<nil>`).
pub fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_go_string(),
    }
}

/// A string parameter of a Go function (`func f(s string)`): Go's template engine only accepts a
/// string; we accept any value and print it, and read nil as "".
pub fn str_param(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        other => to_string(other),
    }
}

/// Drops a trailing `.000` from a decimal string, as `spf13/cast`'s `trimZeroDecimal` does.
fn trim_zero_decimal(s: &str) -> &str {
    if let Some((int, frac)) = s.split_once('.') {
        if !frac.is_empty() && frac.bytes().all(|b| b == b'0') {
            return int;
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: decimal, `0x`/`0o`/`0b` prefixes, a leading `0` for octal and
/// `_` separators after a prefix.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower.clone())
    };
    let digits = if radix != 10 {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() {
        return None;
    }
    let magnitude = i128::from_str_radix(&digits, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// `cast.ToInt64` (and `cast.ToInt`, the same on 64-bit): numbers truncate, strings parse with
/// base prefixes (`"0x1F"`, a trailing `.0` allowed), bools are 1/0, anything else is 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => go_float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite" value `math.MinInt64`
/// for NaN and anything out of range.
pub fn go_float_to_int(f: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        return i64::MIN;
    }
    f as i64
}

/// `cast.ToFloat64`: numbers convert, strings parse as floats, bools are 1/0, anything else 0.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `strconv.ParseFloat(s, 64)` for the forms charts use: decimal and exponent notation, an
/// optional sign, `inf`/`infinity`/`nan` in any case. Surrounding spaces are an error, as in Go.
pub fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    if s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// The elements of a Go slice or array value (`[]interface{}`, `[]byte` as numbers, list-like
/// objects); `None` for other kinds.
pub fn to_list(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.as_ref().clone()),
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        Value::Object(o) => match o.elements() {
            Some(Value::List(l)) => Some(l.as_ref().clone()),
            _ => None,
        },
        _ => None,
    }
}

/// An `int` parameter of a Go function. Go's template engine passes integers through and
/// rejects other kinds; we are lenient and convert as `cast.ToInt` would.
pub fn int_param(v: &Value) -> i64 {
    to_int64(v)
}

/// Sprig's `strslice` (`toStrings`): a list's non-nil elements through `strval`, nil as no
/// elements, any other value as a one-element list.
pub fn to_strings(v: &Value) -> Vec<String> {
    match to_list(v) {
        Some(items) => items
            .iter()
            .filter(|item| !item.is_nil())
            .map(to_string)
            .collect(),
        None if v.is_nil() => Vec::new(),
        None => vec![to_string(v)],
    }
}

/// A list of Go strings (`[]string`) as a template value.
pub fn string_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::list(items.into_iter().map(Value::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strval_prints_like_sprig() {
        assert_eq!(to_string(&Value::Nil), "<nil>");
        assert_eq!(to_string(&Value::Float(8080.0)), "8080");
        assert_eq!(to_string(&Value::Bytes(b"hi"[..].into())), "hi");
    }

    #[test]
    fn cast_to_int64_follows_spf13_cast() {
        assert_eq!(to_int64(&Value::str("42")), 42);
        assert_eq!(to_int64(&Value::str("0x1F")), 31);
        assert_eq!(to_int64(&Value::str("010")), 8);
        assert_eq!(to_int64(&Value::str("12.0")), 12);
        assert_eq!(to_int64(&Value::str("12.5")), 0);
        assert_eq!(to_int64(&Value::Float(3.9)), 3);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
    }
}
