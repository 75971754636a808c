//! Go's `fmt` formatting of template values: `%v` (what `{{ . }}` and `print` show) and the
//! `printf` verbs charts use, with Go's error markers (`%!d(float64=1.5)`, `%!s(MISSING)`).

use crate::value::Value;

/// `fmt.Sprint(v)`: the `%v` form.
pub fn format_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v, false);
    out
}

fn write_v(out: &mut String, v: &Value, nested: bool) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float_g(*f, None)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&byte.to_string());
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item, true);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, item)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, item, true);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let _ = nested;
            out.push_str(&o.format())
        }
    }
}

/// Splits a finite, non-zero float into its shortest round-trip decimal digits and the decimal
/// exponent `e` such that the value is `0.d1d2d3... * 10^(e)` style: returns (digits, dp) where
/// the decimal point sits after `dp` digits (Go's `decimalSlice.dp`).
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-trip digits, like Go's strconv with precision -1.
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp + 1)
}

/// Digits of `f` rounded to `n` significant digits (n >= 1), as (digits, dp).
fn rounded_digits(f: f64, n: usize) -> (String, i32) {
    let s = format!("{:.*e}", n.saturating_sub(1), f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp + 1)
}

fn non_finite(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

fn exp_form(neg: bool, digits: &str, dp: i32, min_frac: usize, upper: bool) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let mut chars = digits.chars();
    s.push(chars.next().unwrap_or('0'));
    let rest: String = chars.collect();
    let mut frac = rest;
    while frac.len() < min_frac {
        frac.push('0');
    }
    if !frac.is_empty() {
        s.push('.');
        s.push_str(&frac);
    }
    let exp = if digits.trim_start_matches('0').is_empty() {
        0
    } else {
        dp - 1
    };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    s
}

fn fixed_form(neg: bool, digits: &str, dp: i32, frac_digits: Option<usize>) -> String {
    let mut int_part = String::new();
    let mut frac_part = String::new();
    if dp <= 0 {
        int_part.push('0');
        for _ in 0..(-dp) {
            frac_part.push('0');
        }
        frac_part.push_str(digits);
    } else {
        let dpu = dp as usize;
        if digits.len() <= dpu {
            int_part.push_str(digits);
            for _ in digits.len()..dpu {
                int_part.push('0');
            }
        } else {
            int_part.push_str(&digits[..dpu]);
            frac_part.push_str(&digits[dpu..]);
        }
    }
    if let Some(n) = frac_digits {
        while frac_part.len() < n {
            frac_part.push('0');
        }
        frac_part.truncate(n);
    } else {
        while frac_part.ends_with('0') {
            frac_part.pop();
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&int_part);
    if !frac_part.is_empty() {
        s.push('.');
        s.push_str(&frac_part);
    }
    s
}

/// Go's `%g` (and `%v` for floats) with an optional precision: shortest digits by default,
/// exponent form when the exponent is < -4 or >= the precision (6 for the shortest form).
pub fn format_float_g(f: f64, prec: Option<usize>) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    if f == 0.0 {
        return if neg { "-0".into() } else { "0".into() };
    }
    let (digits, dp, eprec) = match prec {
        None => {
            // strconv: "if precision was the shortest possible, use precision 6 for this decision".
            let (d, dp) = shortest_digits(f);
            (d, dp, 6)
        }
        Some(p) => {
            let p = p.max(1);
            let (d, dp) = rounded_digits(f, p);
            let d = d.trim_end_matches('0').to_string();
            let d = if d.is_empty() { "0".to_string() } else { d };
            (d, dp, p as i32)
        }
    };
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        exp_form(neg, &digits, dp, 0, false)
    } else {
        fixed_form(neg, &digits, dp, None)
    }
}

/// Go's `%e` with precision (default 6).
fn format_float_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    if f == 0.0 {
        return exp_form(neg, "0", 1, prec, upper);
    }
    let (digits, dp) = rounded_digits(f, prec + 1);
    exp_form(neg, &digits, dp, prec, upper)
}

/// Go's `%f` with precision (default 6).
fn format_float_f(f: f64, prec: usize) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let s = format!("{:.*}", prec, f);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        return s;
    }
    s
}

/// Go's `strconv.Quote`: double-quoted with Go escapes; printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One parsed `%` directive.
#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < chars.len() {
            match chars[i] {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            // Go's fmt refuses widths and precisions past a million (`tooLarge`).
            if let Some(Value::Int(w) | Value::Int64(w)) = args.get(argi).filter(|w| !too_large(w))
            {
                if *w < 0 {
                    spec.minus = true;
                }
                spec.width = Some(w.unsigned_abs() as usize);
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                w.push(chars[i]);
                i += 1;
            }
            if !w.is_empty() {
                spec.width = w.parse().ok().filter(|w| *w <= MAX_WIDTH);
            }
        }
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                if let Some(Value::Int(p) | Value::Int64(p)) =
                    args.get(argi).filter(|p| !too_large(p))
                {
                    spec.prec = Some((*p).max(0) as usize);
                } else {
                    out.push_str("%!(BADPREC)");
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while i < chars.len() && chars[i].is_ascii_digit() {
                    p.push(chars[i]);
                    i += 1;
                }
                spec.prec = Some(p.parse().unwrap_or(0).min(MAX_WIDTH));
            }
        }
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        out.push_str(&format_one(verb, &spec, arg));
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (n, a) in args[argi..].iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(&a.type_name());
            out.push('=');
            out.push_str(&format_v(a));
        }
        out.push(')');
    }
    out
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", arg.type_name(), format_v(arg)),
    }
}

fn pad(s: String, spec: &Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return s };
    let len = s.chars().count();
    if len >= width {
        return s;
    }
    let fill = width - len;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        // Zero padding goes after the sign.
        let (sign, rest) = match s.strip_prefix(['-', '+']) {
            Some(rest) => (&s[..1], rest),
            None => ("", s.as_str()),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else if spec.zero && !numeric {
        format!("{}{s}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

fn sign_prefix(spec: &Spec, s: String) -> String {
    if s.starts_with('-') {
        s
    } else if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

fn format_int(verb: char, spec: &Spec, i: i64) -> Option<String> {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let body = match verb {
        'd' | 'v' => a.to_string(),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        'o' => format!("{a:o}"),
        'O' => format!("0o{a:o}"),
        'b' => format!("{a:b}"),
        'c' => return char::from_u32(i as u32).map(|c| pad(c.to_string(), spec, false)),
        'q' => {
            return char::from_u32(i as u32)
                .map(|c| pad(format!("'{}'", c.escape_default()), spec, false))
        }
        'U' => format!("U+{a:04X}"),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => return None,
        _ => return None,
    };
    let mut body = body;
    if let Some(p) = spec.prec {
        while body.len() < p {
            body.insert(0, '0');
        }
    }
    if spec.sharp {
        match verb {
            'x' => body.insert_str(0, "0x"),
            'X' => body.insert_str(0, "0X"),
            'o' => body.insert(0, '0'),
            _ => {}
        }
    }
    let s = if neg { format!("-{body}") } else { body };
    Some(pad(sign_prefix(spec, s), spec, spec.prec.is_none()))
}

fn format_float(verb: char, spec: &Spec, f: f64) -> Option<String> {
    let s = match verb {
        'v' | 'g' => format_float_g(f, spec.prec),
        'G' => format_float_g(f, spec.prec).to_uppercase(),
        'e' => format_float_e(f, spec.prec.unwrap_or(6), false),
        'E' => format_float_e(f, spec.prec.unwrap_or(6), true),
        'f' | 'F' => format_float_f(f, spec.prec.unwrap_or(6)),
        _ => return None,
    };
    Some(pad(sign_prefix(spec, s), spec, f.is_finite()))
}

fn format_str(verb: char, spec: &Spec, s: &str) -> Option<String> {
    let body = match verb {
        'v' | 's' => match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        },
        'q' => {
            if spec.sharp && !s.contains('`') {
                format!("`{s}`")
            } else {
                go_quote(s)
            }
        }
        'x' => hex::encode(s.as_bytes()),
        'X' => hex::encode_upper(s.as_bytes()),
        _ => return None,
    };
    Some(pad(body, spec, false))
}

/// Formats one argument with one verb, the way `fmt` does for the dynamic type.
fn format_one(verb: char, spec: &Spec, arg: &Value) -> String {
    if verb == 'T' {
        return pad(arg.type_name(), spec, false);
    }
    let formatted = match arg {
        Value::Nil => match verb {
            'v' => Some(pad("<nil>".into(), spec, false)),
            _ => None,
        },
        Value::Bool(b) => match verb {
            'v' | 't' => Some(pad(b.to_string(), spec, false)),
            _ => None,
        },
        Value::Int(i) | Value::Int64(i) => format_int(verb, spec, *i),
        Value::Float(f) => format_float(verb, spec, *f),
        Value::String(s) => format_str(verb, spec, s),
        Value::Bytes(b) => match verb {
            's' => Some(pad(String::from_utf8_lossy(b).into_owned(), spec, false)),
            'q' => Some(pad(go_quote(&String::from_utf8_lossy(b)), spec, false)),
            'x' => Some(pad(hex::encode(&b[..]), spec, false)),
            'X' => Some(pad(hex::encode_upper(&b[..]), spec, false)),
            'v' | 'd' => Some(pad(format_v(arg), spec, false)),
            _ => None,
        },
        Value::List(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| format_one(verb, &Spec::default(), item))
                .collect();
            Some(pad(format!("[{}]", parts.join(" ")), spec, false))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .borrow()
                .iter()
                .map(|(k, item)| {
                    format!(
                        "{}:{}",
                        format_one(verb, &Spec::default(), &Value::str(k)),
                        format_one(verb, &Spec::default(), item)
                    )
                })
                .collect();
            Some(pad(format!("map[{}]", parts.join(" ")), spec, false))
        }
        Value::Object(o) => match verb {
            'v' | 's' => Some(pad(o.format(), spec, false)),
            'q' => Some(pad(go_quote(&o.format()), spec, false)),
            _ => None,
        },
    };
    formatted.unwrap_or_else(|| bad_verb(verb, arg))
}

/// Go's fmt bound on widths and precisions.
const MAX_WIDTH: usize = 1_000_000;

fn too_large(v: &Value) -> bool {
    matches!(v, Value::Int(n) | Value::Int64(n) if n.unsigned_abs() > MAX_WIDTH as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sp(f: &str, args: Vec<Value>) -> String {
        sprintf(f, &args)
    }

    #[test]
    fn floats_print_as_go_v() {
        assert_eq!(format_v(&Value::Float(1e6)), "1e+06");
        assert_eq!(format_v(&Value::Float(3.5)), "3.5");
        assert_eq!(format_v(&Value::Float(100000.0)), "100000");
        assert_eq!(format_v(&Value::Float(80.0)), "80");
        assert_eq!(format_v(&Value::Float(12345678901.0)), "1.2345678901e+10");
        assert_eq!(format_v(&Value::Float(0.0001)), "0.0001");
        assert_eq!(format_v(&Value::Float(0.00001)), "1e-05");
        assert_eq!(format_v(&Value::Float(-2.5)), "-2.5");
        assert_eq!(format_v(&Value::Float(1234567.0)), "1.234567e+06");
    }

    #[test]
    fn collections_print_as_go_v() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), Value::Int(2));
        m.insert(
            "a".to_string(),
            Value::list(vec![Value::str("x"), Value::Nil]),
        );
        assert_eq!(format_v(&Value::map(m)), "map[a:[x <nil>] b:2]");
    }

    #[test]
    fn printf_verbs() {
        assert_eq!(sp("%d", vec![Value::Int(42)]), "42");
        assert_eq!(sp("%05d", vec![Value::Int(42)]), "00042");
        assert_eq!(
            sp("%5s|%-5s|", vec!["ab".into(), "cd".into()]),
            "   ab|cd   |"
        );
        assert_eq!(sp("%q", vec!["a\"b".into()]), "\"a\\\"b\"");
        assert_eq!(sp("%x %X", vec![Value::Int(255), "hi".into()]), "ff 6869");
        assert_eq!(sp("%t", vec![Value::Bool(true)]), "true");
        assert_eq!(sp("%.2f", vec![Value::Float(1.23456)]), "1.23");
        assert_eq!(sp("%f", vec![Value::Float(1.5)]), "1.500000");
        assert_eq!(
            sp("%T %T", vec![Value::Float(1.0), Value::Nil]),
            "float64 <nil>"
        );
        assert_eq!(sp("%d", vec![Value::Float(1.5)]), "%!d(float64=1.5)");
        assert_eq!(sp("%s", vec![Value::Int(3)]), "%!s(int=3)");
        assert_eq!(sp("%s %s", vec!["a".into()]), "a %!s(MISSING)");
        assert_eq!(
            sp("%s", vec!["a".into(), Value::Int(1)]),
            "a%!(EXTRA int=1)"
        );
        assert_eq!(sp("%v", vec![Value::Nil]), "<nil>");
        assert_eq!(sp("%s", vec![Value::Nil]), "%!s(<nil>)");
        assert_eq!(sp("100%%", vec![]), "100%");
        assert_eq!(sp("%e", vec![Value::Float(123456.0)]), "1.234560e+05");
        assert_eq!(sp("%g", vec![Value::Float(0.5)]), "0.5");
    }
}
