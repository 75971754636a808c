//! Sprig's date functions: `now`, `date`, `dateInZone`, `htmlDate`, `htmlDateInZone`,
//! `unixEpoch`, `toDate`, `mustToDate`, `dateModify`, `ago`, with Go's reference-time layouts.

use std::any::Any;
use std::rc::Rc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use super::super::value::{Object, Value};
use super::{arity, cast, FuncError, Registry};

/// A Go `time.Time` (always UTC here: rudder renders in UTC, like Helm in a UTC container).
#[derive(Debug)]
pub struct Time(pub DateTime<Utc>);

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let t = &self.0;
        Some(Ok(match name {
            "Unix" => Value::Int(t.timestamp()),
            "UnixNano" => Value::Int(t.timestamp_nanos_opt().unwrap_or(0)),
            "Year" => Value::Int(i64::from(t.year())),
            "Day" => Value::Int(i64::from(t.day())),
            "Hour" => Value::Int(i64::from(t.hour())),
            "Minute" => Value::Int(i64::from(t.minute())),
            "Second" => Value::Int(i64::from(t.second())),
            "UTC" | "Local" => Value::Object(Rc::new(Time(*t))),
            "Format" => match args {
                [layout] => Value::from(format_go(t, &cast::str_param(layout))),
                _ => return Some(Err("Format needs a layout".into())),
            },
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        format_go(&self.0, "2006-01-02 15:04:05.999999999 -0700 MST")
    }

    fn to_data(&self) -> Value {
        Value::from(format_go(&self.0, "2006-01-02T15:04:05.999999999Z07:00"))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Formats `t` with a Go reference-time layout (`2006-01-02T15:04:05Z07:00`).
pub fn format_go(t: &DateTime<Utc>, layout: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let month = MONTHS[t.month0() as usize];
    let day = DAYS[t.weekday().num_days_from_monday() as usize];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    // Longest tokens first, as Go's layout scanner prefers them.
    let tokens: Vec<(&str, String)> = vec![
        ("January", month.to_string()),
        ("Monday", day.to_string()),
        ("2006", format!("{:04}", t.year())),
        ("Z07:00", "Z".to_string()),
        ("-07:00", "+00:00".to_string()),
        ("-0700", "+0000".to_string()),
        ("Z0700", "Z".to_string()),
        ("-07", "+00".to_string()),
        ("Jan", month[..3].to_string()),
        ("Mon", day[..3].to_string()),
        ("MST", "UTC".to_string()),
        ("002", format!("{:03}", t.ordinal())),
        ("01", format!("{:02}", t.month())),
        ("02", format!("{:02}", t.day())),
        ("_2", format!("{:>2}", t.day())),
        ("15", format!("{:02}", t.hour())),
        ("03", format!("{:02}", hour12)),
        ("04", format!("{:02}", t.minute())),
        ("05", format!("{:02}", t.second())),
        ("06", format!("{:02}", t.year() % 100)),
        ("PM", if t.hour() >= 12 { "PM" } else { "AM" }.to_string()),
        ("pm", if t.hour() >= 12 { "pm" } else { "am" }.to_string()),
        ("1", t.month().to_string()),
        ("2", t.day().to_string()),
        ("3", hour12.to_string()),
        ("4", t.minute().to_string()),
        ("5", t.second().to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        // Fractional seconds: .000 (fixed) or .999 (trailing zeros trimmed).
        for sep in ['.', ','] {
            if let Some(after) = rest.strip_prefix(sep) {
                let n0 = after.bytes().take_while(|b| *b == b'0').count();
                let n9 = after.bytes().take_while(|b| *b == b'9').count();
                let n = n0.max(n9);
                let next_is_digit = after.as_bytes().get(n).is_some_and(u8::is_ascii_digit);
                if n > 0 && !next_is_digit {
                    let nanos = format!("{:09}", t.nanosecond());
                    let mut frac = nanos[..n.min(9)].to_string();
                    if n9 > 0 {
                        frac = frac.trim_end_matches('0').to_string();
                        if !frac.is_empty() {
                            out.push(sep);
                        }
                    } else {
                        out.push(sep);
                    }
                    out.push_str(&frac);
                    rest = &after[n..];
                    continue 'outer;
                }
            }
        }
        for (tok, val) in &tokens {
            if let Some(after) = rest.strip_prefix(tok) {
                out.push_str(val);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Reads Sprig's date argument: a time, or Unix seconds as an integer.
fn time_arg(v: &Value) -> DateTime<Utc> {
    match v {
        Value::Object(o) => match o.as_any().downcast_ref::<Time>() {
            Some(t) => t.0,
            None => Utc::now(),
        },
        Value::Int(i) => Utc.timestamp_opt(*i, 0).single().unwrap_or_else(Utc::now),
        _ => Utc::now(),
    }
}

fn now(args: &[Value]) -> Result<Value, FuncError> {
    arity("now", args, 0)?;
    Ok(Value::Object(Rc::new(Time(Utc::now()))))
}

/// `date FORMAT TIME`.
fn date(args: &[Value]) -> Result<Value, FuncError> {
    arity("date", args, 2)?;
    Ok(Value::from(format_go(
        &time_arg(&args[1]),
        &cast::str_param(&args[0]),
    )))
}

/// `dateInZone FORMAT TIME ZONE` (only UTC is known here; other zones print as UTC).
fn date_in_zone(args: &[Value]) -> Result<Value, FuncError> {
    arity("dateInZone", args, 3)?;
    Ok(Value::from(format_go(
        &time_arg(&args[1]),
        &cast::str_param(&args[0]),
    )))
}

fn html_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("htmlDate", args, 1)?;
    Ok(Value::from(format_go(&time_arg(&args[0]), "2006-01-02")))
}

fn html_date_in_zone(args: &[Value]) -> Result<Value, FuncError> {
    arity("htmlDateInZone", args, 2)?;
    Ok(Value::from(format_go(&time_arg(&args[0]), "2006-01-02")))
}

fn unix_epoch(args: &[Value]) -> Result<Value, FuncError> {
    arity("unixEpoch", args, 1)?;
    Ok(Value::from(time_arg(&args[0]).timestamp().to_string()))
}

/// Parses `value` with the Go layout `layout` (the common numeric layouts).
fn parse_go(layout: &str, value: &str) -> Option<DateTime<Utc>> {
    let fmt = layout
        .replace("2006", "%Y")
        .replace("01", "%m")
        .replace("02", "%d")
        .replace("15", "%H")
        .replace("04", "%M")
        .replace("05", "%S")
        .replace("Z07:00", "%:z")
        .replace("-07:00", "%:z")
        .replace("-0700", "%z");
    if let Ok(t) = DateTime::parse_from_str(value, &fmt) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(value, &fmt) {
        return Some(Utc.from_utc_datetime(&t));
    }
    NaiveDate::parse_from_str(value, &fmt)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

fn to_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("toDate", args, 2)?;
    let t = parse_go(&cast::str_param(&args[0]), &cast::str_param(&args[1]))
        .unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_else(Utc::now));
    Ok(Value::Object(Rc::new(Time(t))))
}

fn must_to_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustToDate", args, 2)?;
    let text = cast::str_param(&args[1]);
    let t = parse_go(&cast::str_param(&args[0]), &text)
        .ok_or_else(|| FuncError::new(format!("parsing time {text:?}: cannot parse")))?;
    Ok(Value::Object(Rc::new(Time(t))))
}

pub(super) fn register(r: &mut Registry) {
    r.add("now", now);
    r.add("date", date);
    r.add("dateInZone", date_in_zone);
    r.add("date_in_zone", date_in_zone);
    r.add("htmlDate", html_date);
    r.add("htmlDateInZone", html_date_in_zone);
    r.add("unixEpoch", unix_epoch);
    r.add("toDate", to_date);
    r.add("mustToDate", must_to_date);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts_format_like_go() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 15, 4, 5).unwrap();
        assert_eq!(format_go(&t, "20060102150405"), "20260102150405");
        assert_eq!(
            format_go(&t, "2006-01-02T15:04:05Z07:00"),
            "2026-01-02T15:04:05Z"
        );
        assert_eq!(format_go(&t, "Mon Jan _2 3:04PM"), "Fri Jan  2 3:04PM");
    }

    #[test]
    fn to_date_reads_go_layouts() {
        let v = to_date(&[Value::str("2006-01-02"), Value::str("2024-03-05")]).unwrap();
        let out = date(&[Value::str("2006/01/02"), v]).unwrap();
        assert_eq!(out, Value::str("2024/03/05"));
    }
}
