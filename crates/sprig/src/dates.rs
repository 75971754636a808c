//! Sprig's date functions over a model of Go's `time.Time`: Go's reference-time layouts
//! (`2006-01-02 15:04:05`, `Jan _2`, `Z07:00`, `.000`) for formatting and parsing, Go's
//! `Duration` text, and time zones from the system's zoneinfo files as Go's
//! `time.LoadLocation` reads them (an unknown zone falls back to UTC, as Sprig does).

use std::any::Any;
use std::rc::Rc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::{Object, Value};

/// A Go `time.Time`: an instant plus the zone it is shown in.
#[derive(Clone, Debug, PartialEq)]
pub struct GoTime {
    /// Seconds since the Unix epoch.
    secs: i64,
    nanos: u32,
    /// Offset east of UTC in seconds, and the zone abbreviation (empty when unknown).
    offset: i32,
    abbr: String,
}

/// A Go `*time.Location`.
#[derive(Clone, Debug)]
enum Location {
    Utc,
    Zone(Rc<TzData>),
}

/// The parts of a TZif file Go uses to find a zone's offset at an instant.
#[derive(Debug)]
struct TzData {
    transitions: Vec<(i64, usize)>,
    types: Vec<(i32, String)>,
}

impl TzData {
    /// Parses a TZif file (the 64-bit block of version 2+ files, else version 1).
    fn parse(data: &[u8]) -> Option<TzData> {
        if data.len() < 44 || &data[..4] != b"TZif" {
            return None;
        }
        let version = data[4];
        let counts = |at: usize| -> Option<[usize; 6]> {
            let mut c = [0usize; 6];
            for (k, slot) in c.iter_mut().enumerate() {
                let b = data.get(at + 20 + 4 * k..at + 24 + 4 * k)?;
                *slot = u32::from_be_bytes(b.try_into().ok()?) as usize;
            }
            Some(c)
        };
        // Header counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
        let c1 = counts(0)?;
        let v1_len = c1[3] * 5 + c1[4] * 6 + c1[5] + c1[2] * 8 + c1[1] + c1[0];
        let (start, c, time_size) = if version >= b'2' {
            let at = 44 + v1_len;
            (at + 44, counts(at)?, 8)
        } else {
            (44, c1, 4)
        };
        let [_, _, _, timecnt, typecnt, charcnt] = c;
        let mut p = start;
        let mut times = Vec::with_capacity(timecnt);
        for _ in 0..timecnt {
            let b = data.get(p..p + time_size)?;
            times.push(if time_size == 8 {
                i64::from_be_bytes(b.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(b.try_into().ok()?))
            });
            p += time_size;
        }
        let idx = data.get(p..p + timecnt)?.to_vec();
        p += timecnt;
        let mut raw_types = Vec::with_capacity(typecnt);
        for _ in 0..typecnt {
            let b = data.get(p..p + 6)?;
            let off = i32::from_be_bytes(b[..4].try_into().ok()?);
            raw_types.push((off, usize::from(b[5])));
            p += 6;
        }
        let chars = data.get(p..p + charcnt)?;
        let types = raw_types
            .into_iter()
            .map(|(off, ai)| {
                let name = chars
                    .get(ai..)
                    .map(|s| s.split(|&b| b == 0).next().unwrap_or(&[]))
                    .unwrap_or(&[]);
                (off, String::from_utf8_lossy(name).into_owned())
            })
            .collect::<Vec<_>>();
        if types.is_empty() {
            return None;
        }
        let transitions = times
            .into_iter()
            .zip(idx.into_iter().map(usize::from))
            .filter(|(_, i)| *i < types.len())
            .collect();
        Some(TzData { transitions, types })
    }

    fn lookup(&self, secs: i64) -> (i32, String) {
        let i = self.transitions.partition_point(|(t, _)| *t <= secs);
        let ty = if i == 0 { 0 } else { self.transitions[i - 1].1 };
        self.types[ty].clone()
    }
}

impl Location {
    /// Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the machine's zone, anything
    /// else is read from the zoneinfo database.
    fn load(name: &str) -> Option<Location> {
        match name {
            "" | "UTC" => return Some(Location::Utc),
            "Local" => return Some(local()),
            _ => {}
        }
        if name.starts_with('/') || name.split('/').any(|p| p == ".." || p.is_empty()) {
            return None;
        }
        let dirs = std::env::var("ZONEINFO").ok().into_iter().chain([
            "/usr/share/zoneinfo".to_string(),
            "/usr/share/lib/zoneinfo".into(),
        ]);
        for dir in dirs {
            if let Ok(data) = std::fs::read(std::path::Path::new(&dir).join(name)) {
                return TzData::parse(&data).map(|tz| Location::Zone(Rc::new(tz)));
            }
        }
        None
    }

    fn lookup(&self, secs: i64) -> (i32, String) {
        match self {
            Location::Utc => (0, "UTC".into()),
            Location::Zone(tz) => tz.lookup(secs),
        }
    }
}

/// Go's `time.Local`: `$TZ` if set (empty means UTC), else `/etc/localtime`.
fn local() -> Location {
    let from_file = |path: &str| {
        std::fs::read(path)
            .ok()
            .and_then(|d| TzData::parse(&d))
            .map(|tz| Location::Zone(Rc::new(tz)))
    };
    match std::env::var("TZ") {
        Ok(tz) if tz.is_empty() || tz == "UTC" => Location::Utc,
        Ok(tz) => {
            let name = tz.strip_prefix(':').unwrap_or(&tz);
            if name.starts_with('/') {
                from_file(name).unwrap_or(Location::Utc)
            } else {
                Location::load(name).unwrap_or(Location::Utc)
            }
        }
        Err(_) => from_file("/etc/localtime").unwrap_or(Location::Utc),
    }
}

impl GoTime {
    /// The instant `secs`/`nanos` shown at a fixed `offset` named `zone` (Go's
    /// `time.FixedZone`; an empty name prints as the numeric offset).
    pub(super) fn fixed(secs: i64, nanos: u32, offset: i32, zone: &str) -> GoTime {
        GoTime {
            secs,
            nanos,
            offset,
            abbr: zone.to_string(),
        }
    }

    /// The zone abbreviation or fixed zone name this time is shown in.
    pub(super) fn zone_name(&self) -> &str {
        &self.abbr
    }

    fn at(secs: i64, nanos: u32, loc: &Location) -> GoTime {
        let (offset, abbr) = loc.lookup(secs);
        GoTime {
            secs,
            nanos,
            offset,
            abbr,
        }
    }

    fn now() -> GoTime {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        GoTime::at(d.as_secs() as i64, d.subsec_nanos(), &local())
    }

    /// Go's zero `time.Time`: 0001-01-01 00:00:00 UTC.
    fn zero() -> GoTime {
        GoTime {
            secs: -62_135_596_800,
            nanos: 0,
            offset: 0,
            abbr: "UTC".into(),
        }
    }

    fn in_location(&self, loc: &Location) -> GoTime {
        GoTime::at(self.secs, self.nanos, loc)
    }

    /// The wall clock in this time's zone.
    fn civil(&self) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(self.secs + i64::from(self.offset), self.nanos)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }

    fn add_nanos(&self, d: i64) -> GoTime {
        let total = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) + i128::from(d);
        GoTime {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
            offset: self.offset,
            abbr: self.abbr.clone(),
        }
    }

    fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Go's `Time.Format`.
    pub fn format(&self, layout: &str) -> String {
        let c = self.civil();
        let mut out = String::with_capacity(layout.len() + 10);
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, chunk, after) = next_chunk(rest);
            out.push_str(prefix);
            rest = after;
            let Some(chunk) = chunk else { break };
            self.format_chunk(&mut out, chunk, &c);
        }
        out
    }

    fn format_chunk(&self, out: &mut String, chunk: Chunk, c: &NaiveDateTime) {
        use Chunk::*;
        let hour12 = |h: u32| if h % 12 == 0 { 12 } else { h % 12 };
        match chunk {
            LongYear => {
                let y = c.year();
                if y < 0 {
                    out.push_str(&format!("-{:04}", -y));
                } else {
                    out.push_str(&format!("{y:04}"));
                }
            }
            Year => out.push_str(&format!("{:02}", c.year().rem_euclid(100))),
            LongMonth => out.push_str(MONTHS[c.month0() as usize]),
            Month => out.push_str(&MONTHS[c.month0() as usize][..3]),
            NumMonth => out.push_str(&c.month().to_string()),
            ZeroMonth => out.push_str(&format!("{:02}", c.month())),
            LongWeekDay => out.push_str(DAYS[c.weekday().num_days_from_sunday() as usize]),
            WeekDay => out.push_str(&DAYS[c.weekday().num_days_from_sunday() as usize][..3]),
            Day => out.push_str(&c.day().to_string()),
            UnderDay => out.push_str(&format!("{:>2}", c.day())),
            ZeroDay => out.push_str(&format!("{:02}", c.day())),
            UnderYearDay => out.push_str(&format!("{:>3}", c.ordinal())),
            ZeroYearDay => out.push_str(&format!("{:03}", c.ordinal())),
            Hour => out.push_str(&format!("{:02}", c.hour())),
            Hour12 => out.push_str(&hour12(c.hour()).to_string()),
            ZeroHour12 => out.push_str(&format!("{:02}", hour12(c.hour()))),
            Minute => out.push_str(&c.minute().to_string()),
            ZeroMinute => out.push_str(&format!("{:02}", c.minute())),
            Second => out.push_str(&c.second().to_string()),
            ZeroSecond => out.push_str(&format!("{:02}", c.second())),
            Pm(upper) => {
                let pm = c.hour() >= 12;
                out.push_str(match (pm, upper) {
                    (true, true) => "PM",
                    (false, true) => "AM",
                    (true, false) => "pm",
                    (false, false) => "am",
                });
            }
            Tz => {
                if self.abbr.is_empty() {
                    push_offset(out, self.offset, false, false, true, false);
                } else {
                    out.push_str(&self.abbr);
                }
            }
            Offset {
                z,
                colon,
                minutes,
                seconds,
            } => {
                if z && self.offset == 0 {
                    out.push('Z');
                } else {
                    push_offset(out, self.offset, colon, seconds, minutes, true);
                }
            }
            Frac { sep, digits, trim } => {
                let all = format!("{:09}", self.nanos);
                let mut d = &all[..digits.min(9)];
                if trim {
                    d = d.trim_end_matches('0');
                    if d.is_empty() {
                        return;
                    }
                }
                out.push(sep);
                out.push_str(d);
            }
        }
    }
}

/// Writes a numeric zone offset: `-07`, `-0700`, `-07:00`, `-07:00:00`.
fn push_offset(
    out: &mut String,
    offset: i32,
    colon: bool,
    seconds: bool,
    minutes: bool,
    _iso: bool,
) {
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    out.push(sign);
    out.push_str(&format!("{:02}", abs / 3600));
    if minutes || seconds {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", (abs / 60) % 60));
    }
    if seconds {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", abs % 60));
    }
}

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
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One element of Go's reference-time layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Chunk {
    LongYear,
    Year,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    Pm(bool),
    Tz,
    Offset {
        z: bool,
        colon: bool,
        minutes: bool,
        seconds: bool,
    },
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// Go's `nextStdChunk`: the literal text before the next layout element, the element, and
/// the layout after it.
fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    use Chunk::*;
    let b = layout.as_bytes();
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..b.len() {
        let found: Option<(Chunk, usize)> = match b[i] {
            b'J' if starts(i, "January") => Some((LongMonth, 7)),
            b'J' if starts(i, "Jan") => Some((Month, 3)),
            b'M' if starts(i, "Monday") => Some((LongWeekDay, 6)),
            b'M' if starts(i, "Mon") => Some((WeekDay, 3)),
            b'M' if starts(i, "MST") => Some((Tz, 3)),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => Some((
                [ZeroMonth, ZeroDay, ZeroHour12, ZeroMinute, ZeroSecond, Year]
                    [usize::from(b[i + 1] - b'1')],
                2,
            )),
            b'0' if starts(i, "002") => Some((ZeroYearDay, 3)),
            b'1' if starts(i, "15") => Some((Hour, 2)),
            b'1' => Some((NumMonth, 1)),
            b'2' if starts(i, "2006") => Some((LongYear, 4)),
            b'2' => Some((Day, 1)),
            b'_' if starts(i, "_2") && !starts(i, "_2006") => Some((UnderDay, 2)),
            b'_' if starts(i, "__2") => Some((UnderYearDay, 3)),
            b'3' => Some((Hour12, 1)),
            b'4' => Some((Minute, 1)),
            b'5' => Some((Second, 1)),
            b'P' if starts(i, "PM") => Some((Pm(true), 2)),
            b'p' if starts(i, "pm") => Some((Pm(false), 2)),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, true),
                    ("07:00:00", true, true, true),
                    ("0700", false, true, false),
                    ("07:00", true, true, false),
                    ("07", false, false, false),
                ];
                forms
                    .iter()
                    .find(|(f, ..)| starts(i + 1, f))
                    .map(|(f, colon, minutes, seconds)| {
                        (
                            Offset {
                                z,
                                colon: *colon,
                                minutes: *minutes,
                                seconds: *seconds,
                            },
                            f.len() + 1,
                        )
                    })
            }
            b'.' | b',' if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    Some((
                        Frac {
                            sep: char::from(b[i]),
                            digits: j - i - 1,
                            trim: ch == b'9',
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        if let Some((chunk, len)) = found {
            return (&layout[..i], Some(chunk), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// A Go `time.Parse` failure, printed as Go prints it.
fn parse_error(value: &str, layout: &str, elem_value: &str, elem: &str, msg: &str) -> String {
    if msg.is_empty() {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            go_q(value),
            go_q(layout),
            go_q(elem_value),
            go_q(elem)
        )
    } else {
        format!("parsing time {}{msg}", go_q(value))
    }
}

fn go_q(s: &str) -> String {
    gotmpl::fmt::go_quote(s)
}

/// Reads 1–2 digits (exactly 2 when `fixed`).
fn get_num(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() < 2 || !b[1].is_ascii_digit() {
        if fixed {
            return None;
        }
        return Some((u32::from(b[0] - b'0'), &s[1..]));
    }
    Some((
        u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'),
        &s[2..],
    ))
}

fn lookup_name<'a>(names: &[&str], s: &'a str, len: Option<usize>) -> Option<(usize, &'a str)> {
    for (i, name) in names.iter().enumerate() {
        let name = len.map_or(*name, |n| &name[..n]);
        if s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name) {
            return Some((i, &s[name.len()..]));
        }
    }
    None
}

/// Go's `time.ParseInLocation(layout, value, loc)`.
fn parse_time(layout: &str, value: &str, loc: &Location) -> Result<GoTime, String> {
    let (orig_layout, orig_value) = (layout, value);
    let (mut year, mut month, mut day, mut yday) = (1i32, -1i32, -1i32, -1i32);
    let (mut hour, mut min, mut sec, mut nsec) = (0u32, 0u32, 0u32, 0u32);
    let mut pm_set = false;
    let mut pm = false;
    let mut offset: Option<i32> = None;
    let mut zone_name: Option<String> = None;
    let mut layout = layout;
    let mut value = value;
    loop {
        let (prefix, chunk, after) = next_chunk(layout);
        let Some(v) = value.strip_prefix(prefix) else {
            return Err(parse_error(orig_value, orig_layout, value, prefix, ""));
        };
        value = v;
        let Some(chunk) = chunk else {
            if !value.is_empty() {
                return Err(format!(
                    "parsing time {}: extra text: {}",
                    go_q(orig_value),
                    go_q(value)
                ));
            }
            break;
        };
        let elem = &layout[prefix.len()..layout.len() - after.len()];
        layout = after;
        let hold = value;
        let bad = |msg: &str| Err(parse_error(orig_value, orig_layout, hold, elem, msg));
        use Chunk::*;
        match chunk {
            Year => {
                let Some((n, rest)) = get_num(value, true) else {
                    return bad("");
                };
                year = if n >= 69 {
                    1900 + n as i32
                } else {
                    2000 + n as i32
                };
                value = rest;
            }
            LongYear => {
                if value.len() < 4 || !value.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
                    return bad("");
                }
                year = value[..4].parse().unwrap_or(0);
                value = &value[4..];
            }
            Month | LongMonth => {
                let len = if chunk == Month { Some(3) } else { None };
                let Some((i, rest)) = lookup_name(&MONTHS, value, len) else {
                    return bad("");
                };
                month = i as i32 + 1;
                value = rest;
            }
            NumMonth | ZeroMonth => {
                let Some((n, rest)) = get_num(value, chunk == ZeroMonth) else {
                    return bad("");
                };
                if !(1..=12).contains(&n) {
                    return bad(": month out of range");
                }
                month = n as i32;
                value = rest;
            }
            WeekDay | LongWeekDay => {
                let len = if chunk == WeekDay { Some(3) } else { None };
                let Some((_, rest)) = lookup_name(&DAYS, value, len) else {
                    return bad("");
                };
                value = rest;
            }
            Day | UnderDay | ZeroDay => {
                if chunk == UnderDay && value.starts_with(' ') {
                    value = &value[1..];
                }
                let Some((n, rest)) = get_num(value, chunk == ZeroDay) else {
                    return bad("");
                };
                day = n as i32;
                value = rest;
            }
            UnderYearDay | ZeroYearDay => {
                let mut v = value;
                if chunk == UnderYearDay {
                    v = v.trim_start_matches(' ');
                }
                let digits = v.bytes().take(3).take_while(u8::is_ascii_digit).count();
                if digits == 0 || (chunk == ZeroYearDay && digits < 3) {
                    return bad("");
                }
                yday = v[..digits].parse().unwrap_or(0);
                value = &v[digits..];
            }
            Hour => {
                let Some((n, rest)) = get_num(value, false) else {
                    return bad("");
                };
                if n > 23 {
                    return bad(": hour out of range");
                }
                hour = n;
                value = rest;
            }
            Hour12 | ZeroHour12 => {
                let Some((n, rest)) = get_num(value, chunk == ZeroHour12) else {
                    return bad("");
                };
                if n > 12 {
                    return bad(": hour out of range");
                }
                hour = n;
                value = rest;
            }
            Minute | ZeroMinute => {
                let Some((n, rest)) = get_num(value, chunk == ZeroMinute) else {
                    return bad("");
                };
                if n > 59 {
                    return bad(": minute out of range");
                }
                min = n;
                value = rest;
            }
            Second | ZeroSecond => {
                let Some((n, rest)) = get_num(value, chunk == ZeroSecond) else {
                    return bad("");
                };
                if n > 59 {
                    return bad(": second out of range");
                }
                sec = n;
                value = rest;
                // Go accepts a fractional second here even when the layout has none.
                let next_is_frac = matches!(next_chunk(layout), ("", Some(Frac { .. }), _));
                let b = value.as_bytes();
                if !next_is_frac
                    && b.len() >= 2
                    && (b[0] == b'.' || b[0] == b',')
                    && b[1].is_ascii_digit()
                {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nsec = frac_nanos(&value[1..n]);
                    value = &value[n..];
                }
            }
            Pm(upper) => {
                let Some(v) = value.get(..2) else {
                    return bad("");
                };
                let (am_s, pm_s) = if upper { ("AM", "PM") } else { ("am", "pm") };
                if v == pm_s {
                    pm = true;
                } else if v != am_s {
                    return bad("");
                }
                pm_set = true;
                value = &value[2..];
            }
            Offset {
                z,
                colon,
                minutes,
                seconds,
            } => {
                if z && value.starts_with('Z') {
                    offset = Some(0);
                    zone_name = Some("UTC".into());
                    value = &value[1..];
                    continue;
                }
                let b = value.as_bytes();
                let need = 3
                    + if minutes { 2 + usize::from(colon) } else { 0 }
                    + if seconds { 2 + usize::from(colon) } else { 0 };
                if b.len() < need || (b[0] != b'+' && b[0] != b'-') {
                    return bad("");
                }
                let digits = |at: usize| -> Option<i32> {
                    let s = value.get(at..at + 2)?;
                    if s.bytes().all(|c| c.is_ascii_digit()) {
                        s.parse().ok()
                    } else {
                        None
                    }
                };
                let Some(hh) = digits(1) else { return bad("") };
                let mut at = 3;
                let mut mm = 0;
                let mut ss = 0;
                if minutes {
                    if colon {
                        if b[at] != b':' {
                            return bad("");
                        }
                        at += 1;
                    }
                    let Some(m) = digits(at) else { return bad("") };
                    mm = m;
                    at += 2;
                }
                if seconds {
                    if colon {
                        if b[at] != b':' {
                            return bad("");
                        }
                        at += 1;
                    }
                    let Some(s) = digits(at) else { return bad("") };
                    ss = s;
                    at += 2;
                }
                let total = (hh * 60 + mm) * 60 + ss;
                offset = Some(if b[0] == b'-' { -total } else { total });
                value = &value[at..];
            }
            Tz => {
                let b = value.as_bytes();
                if value.starts_with("UTC") {
                    zone_name = Some("UTC".into());
                    offset = offset.or(Some(0));
                    value = &value[3..];
                    continue;
                }
                let n = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
                if n < 3 {
                    return bad("");
                }
                zone_name = Some(value[..n].to_string());
                value = &value[n..];
            }
            Frac { digits, trim, .. } => {
                let b = value.as_bytes();
                if b.is_empty() || (b[0] != b'.' && b[0] != b',') {
                    if trim {
                        continue;
                    }
                    return bad("");
                }
                let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if !trim && n < digits {
                    return bad("");
                }
                let n = if trim { n } else { digits };
                nsec = frac_nanos(&value[1..1 + n]);
                value = &value[1 + n..];
            }
        }
    }
    if pm_set {
        if pm && hour < 12 {
            hour += 12;
        } else if !pm && hour == 12 {
            hour = 0;
        }
    }
    if yday >= 0 {
        let date = NaiveDate::from_yo_opt(year, yday as u32).ok_or_else(|| {
            format!(
                "parsing time {}: day-of-year out of range",
                go_q(orig_value)
            )
        })?;
        month = date.month() as i32;
        day = date.day() as i32;
    }
    let month = if month < 0 { 1 } else { month as u32 };
    let day = if day < 0 { 1 } else { day as u32 };
    let date = NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("parsing time {}: day out of range", go_q(orig_value)))?;
    let wall = date
        .and_hms_opt(hour, min, sec)
        .ok_or_else(|| format!("parsing time {}: hour out of range", go_q(orig_value)))?
        .and_utc()
        .timestamp();
    if let Some(off) = offset {
        let secs = wall - i64::from(off);
        let (loc_off, loc_name) = loc.lookup(secs);
        if loc_off == off && zone_name.as_deref().is_none_or(|z| z == loc_name) {
            return Ok(GoTime {
                secs,
                nanos: nsec,
                offset: off,
                abbr: loc_name,
            });
        }
        let abbr = match zone_name {
            Some(z) if off == 0 && z == "UTC" => z,
            _ => String::new(),
        };
        return Ok(GoTime {
            secs,
            nanos: nsec,
            offset: off,
            abbr,
        });
    }
    if let Some(name) = zone_name {
        // A zone abbreviation without an offset: the location's, when it names it, else
        // Go makes up a zone of that name at offset 0.
        let (loc_off, loc_name) = loc.lookup(wall);
        if loc_name == name {
            return Ok(GoTime {
                secs: wall - i64::from(loc_off),
                nanos: nsec,
                offset: loc_off,
                abbr: name,
            });
        }
        return Ok(GoTime {
            secs: wall,
            nanos: nsec,
            offset: 0,
            abbr: name,
        });
    }
    // A wall time in `loc`: find the offset in force then.
    let (off, _) = loc.lookup(wall);
    let secs = wall - i64::from(off);
    Ok(GoTime::at(secs, nsec, loc))
}

/// Fraction digits (after the separator) as nanoseconds.
fn frac_nanos(digits: &str) -> u32 {
    let mut d: String = digits.chars().take(9).collect();
    while d.len() < 9 {
        d.push('0');
    }
    d.parse().unwrap_or(0)
}

/// Go's `time.ParseDuration`.
pub(super) fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let invalid = || format!("time: invalid duration {}", go_q(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..n];
            s = &rest[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|c| *c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_q(orig)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_q(unit),
                    go_q(orig)
                ))
            }
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = int.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let mut f = 0f64;
            let mut place = 1f64;
            for d in frac_part.bytes() {
                place /= 10.0;
                f += f64::from(d - b'0') * place;
            }
            value += (f * scale as f64) as u128;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(neg) {
            return Err(invalid());
        }
    }
    let total = total as i128;
    Ok(if neg { -total } else { total } as i64)
}

/// Go's `Duration.String`: `1h2m3.5s`, `1.5ms`, `0s`.
pub(super) fn format_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: one unit with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let h = secs_total / 3600;
        let m = (secs_total / 60) % 60;
        let s_nanos = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fraction(s_nanos, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / scale` with the remainder as a trimmed decimal fraction.
fn fraction(v: u64, scale: u64) -> String {
    let int = v / scale;
    let rem = v % scale;
    if rem == 0 {
        return int.to_string();
    }
    let width = scale.to_string().len() - 1;
    let frac = format!("{rem:0width$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let c = self.civil();
        Some(Ok(match name {
            "Year" => Value::Int(i64::from(c.year())),
            "Month" => Value::Int(i64::from(c.month())),
            "Day" => Value::Int(i64::from(c.day())),
            "Hour" => Value::Int(i64::from(c.hour())),
            "Minute" => Value::Int(i64::from(c.minute())),
            "Second" => Value::Int(i64::from(c.second())),
            "Nanosecond" => Value::Int(i64::from(self.nanos)),
            "YearDay" => Value::Int(i64::from(c.ordinal())),
            "Weekday" => Value::from(DAYS[c.weekday().num_days_from_sunday() as usize]),
            "Unix" => Value::Int64(self.secs),
            "UnixMilli" => Value::Int64((self.unix_nanos() / 1_000_000) as i64),
            "UnixNano" => Value::Int64(self.unix_nanos() as i64),
            "IsZero" => Value::Bool(
                *self == GoTime::zero() || (self.secs == GoTime::zero().secs && self.nanos == 0),
            ),
            "String" => Value::from(self.format_v()),
            "UTC" => Value::Object(Rc::new(self.in_location(&Location::Utc))),
            "Local" => Value::Object(Rc::new(self.in_location(&local()))),
            "Format" => match args.first() {
                Some(layout) => Value::from(self.format(&str_param(layout))),
                None => return Some(Err("wrong number of args for Format: want 1 got 0".into())),
            },
            "Add" => match args.first() {
                Some(d) => Value::Object(Rc::new(self.add_nanos(super::cast::to_int64(d)))),
                None => return Some(Err("wrong number of args for Add: want 1 got 0".into())),
            },
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        self.format_v()
    }

    fn to_data(&self) -> Value {
        Value::from(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl GoTime {
    /// `Time.String`: `2006-01-02 15:04:05.999999999 -0700 MST`.
    fn format_v(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }
}

fn time_value(t: GoTime) -> Value {
    Value::Object(Rc::new(t))
}

/// A `time.Time` argument, if it is one.
pub(super) fn as_time(v: &Value) -> Option<GoTime> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<GoTime>().cloned(),
        _ => None,
    }
}

/// A `time.Time` parameter of a Go function.
fn time_param(name: &str, v: &Value) -> Result<GoTime, FuncError> {
    as_time(v).ok_or_else(|| {
        FuncError::new(format!(
            "wrong type for value; expected time.Time; got {} (in {name})",
            v.type_name()
        ))
    })
}

/// The instant Sprig's `date` family reads from DATE: a time, Unix seconds as an integer, or
/// else now.
fn date_arg(v: &Value) -> GoTime {
    match v {
        Value::Int(secs) | Value::Int64(secs) => GoTime::at(*secs, 0, &Location::Utc),
        other => as_time(other).unwrap_or_else(GoTime::now),
    }
}

fn format_in_zone(layout: &str, date: &Value, zone: &str) -> Value {
    let loc = Location::load(zone).unwrap_or(Location::Utc);
    Value::from(date_arg(date).in_location(&loc).format(layout))
}

fn now(args: &[Value]) -> Result<Value, FuncError> {
    arity("now", args, 0)?;
    Ok(time_value(GoTime::now()))
}

/// `date FORMAT DATE`: DATE in the local zone with Go's layout FORMAT.
fn date(args: &[Value]) -> Result<Value, FuncError> {
    arity("date", args, 2)?;
    Ok(format_in_zone(&str_param(&args[0]), &args[1], "Local"))
}

/// `dateInZone FORMAT DATE ZONE`.
fn date_in_zone(args: &[Value]) -> Result<Value, FuncError> {
    arity("dateInZone", args, 3)?;
    Ok(format_in_zone(
        &str_param(&args[0]),
        &args[1],
        &str_param(&args[2]),
    ))
}

fn html_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("htmlDate", args, 1)?;
    Ok(format_in_zone("2006-01-02", &args[0], "Local"))
}

/// `htmlDateInZone DATE ZONE`.
fn html_date_in_zone(args: &[Value]) -> Result<Value, FuncError> {
    arity("htmlDateInZone", args, 2)?;
    Ok(format_in_zone("2006-01-02", &args[0], &str_param(&args[1])))
}

/// `dateModify DURATION DATE`: DATE moved by a Go duration; unchanged when it does not parse.
fn date_modify(args: &[Value]) -> Result<Value, FuncError> {
    arity("dateModify", args, 2)?;
    let t = time_param("dateModify", &args[1])?;
    Ok(match parse_duration(&str_param(&args[0])) {
        Ok(d) => time_value(t.add_nanos(d)),
        Err(_) => time_value(t),
    })
}

fn must_date_modify(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustDateModify", args, 2)?;
    let t = time_param("mustDateModify", &args[1])?;
    let d = parse_duration(&str_param(&args[0])).map_err(FuncError::new)?;
    Ok(time_value(t.add_nanos(d)))
}

/// `ago DATE`: time since DATE, rounded to seconds.
fn ago(args: &[Value]) -> Result<Value, FuncError> {
    arity("ago", args, 1)?;
    let t = date_arg(&args[0]);
    let since = GoTime::now().unix_nanos() - t.unix_nanos();
    let rounded = round_to_second(since);
    Ok(Value::from(format_duration(rounded)))
}

/// Go's `Duration.Round(time.Second)`: halves away from zero.
fn round_to_second(d: i128) -> i64 {
    let s = 1_000_000_000i128;
    let r = d.rem_euclid(s);
    let base = d - r;
    let rounded = if r * 2 >= s { base + s } else { base };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `duration SECONDS`: seconds (an integer or a decimal string) as a Go duration.
fn duration(args: &[Value]) -> Result<Value, FuncError> {
    arity("duration", args, 1)?;
    let n: i64 = match &args[0] {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Int64(i) => *i,
        _ => 0,
    };
    Ok(Value::from(format_duration(n.wrapping_mul(1_000_000_000))))
}

/// `durationRound D`: the largest whole unit (`y mo d h m s`) of a duration string, a
/// nanosecond count or the time since a date.
fn duration_round(args: &[Value]) -> Result<Value, FuncError> {
    arity("durationRound", args, 1)?;
    let d: i64 = match &args[0] {
        Value::String(s) => parse_duration(s).unwrap_or(0),
        Value::Int64(i) => *i,
        other => match as_time(other) {
            Some(t) => (GoTime::now().unix_nanos() - t.unix_nanos()) as i64,
            None => 0,
        },
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    let units: [(u64, &str); 6] = [
        (SECOND * 3600 * 24 * 365, "y"),
        (SECOND * 3600 * 24 * 30, "mo"),
        (SECOND * 3600 * 24, "d"),
        (SECOND * 3600, "h"),
        (SECOND * 60, "m"),
        (SECOND, "s"),
    ];
    for (size, name) in units {
        if u > size {
            return Ok(Value::from(format!("{}{name}", u / size)));
        }
    }
    Ok(Value::from("0s"))
}

/// `toDate LAYOUT S`: S parsed with Go's LAYOUT in the local zone; the zero time on failure.
fn to_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("toDate", args, 2)?;
    let t = parse_time(&str_param(&args[0]), &str_param(&args[1]), &local())
        .unwrap_or_else(|_| GoTime::zero());
    Ok(time_value(t))
}

fn must_to_date(args: &[Value]) -> Result<Value, FuncError> {
    arity("mustToDate", args, 2)?;
    parse_time(&str_param(&args[0]), &str_param(&args[1]), &local())
        .map(time_value)
        .map_err(FuncError::new)
}

/// `unixEpoch DATE`: Unix seconds as a string.
fn unix_epoch(args: &[Value]) -> Result<Value, FuncError> {
    arity("unixEpoch", args, 1)?;
    Ok(Value::from(
        time_param("unixEpoch", &args[0])?.secs.to_string(),
    ))
}

pub(super) fn register(r: &mut Registry) {
    r.add("now", now);
    r.add("date", date);
    r.add("dateInZone", date_in_zone);
    r.add("date_in_zone", date_in_zone);
    r.add("htmlDate", html_date);
    r.add("htmlDateInZone", html_date_in_zone);
    r.add("dateModify", date_modify);
    r.add("date_modify", date_modify);
    r.add("mustDateModify", must_date_modify);
    r.add("must_date_modify", must_date_modify);
    r.add("ago", ago);
    r.add("duration", duration);
    r.add("durationRound", duration_round);
    r.add("toDate", to_date);
    r.add("mustToDate", must_to_date);
    r.add("unixEpoch", unix_epoch);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{i, s, show};
    use super::*;

    fn at(secs: i64) -> Value {
        time_value(GoTime::at(secs, 0, &Location::Utc))
    }

    #[test]
    fn formats_go_reference_layouts() {
        let layout = "2006-01-02T15:04:05Z07:00 MST Mon Monday Jan January 1 01 _2 2 02 3 03 15 \
                      4 04 5 05 PM pm .000 .999 -0700 -07:00 Z0700 06 002";
        assert_eq!(
            show("dateInZone", &[s(layout), i(1_700_000_000), s("UTC")]),
            "2023-11-14T22:13:20Z UTC Tue Tuesday Nov November 11 11 14 14 14 10 10 22 \
             13 13 20 20 PM pm .000  +0000 +00:00 Z 23 318"
        );
        assert_eq!(
            show("dateInZone", &[s("2006-01-02 15:04:05"), i(0), s("UTC")]),
            "1970-01-01 00:00:00"
        );
        assert_eq!(show("htmlDateInZone", &[i(86_400), s("UTC")]), "1970-01-02");
        assert_eq!(
            show(
                "dateInZone",
                &[s("15:04 MST -0700"), i(1_700_000_000), s("Nope/Zone")]
            ),
            "22:13 UTC +0000"
        );
        assert_eq!(
            show("dateInZone", &[s("2006-01-02"), i(0), s("")]),
            "1970-01-01"
        );
    }

    #[test]
    fn zones_come_from_zoneinfo() {
        if !std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists() {
            return;
        }
        let f = "2006-01-02 15:04 MST";
        assert_eq!(
            show(
                "dateInZone",
                &[s(f), i(1_700_000_000), s("America/New_York")]
            ),
            "2023-11-14 17:13 EST"
        );
        assert_eq!(
            show("dateInZone", &[s(f), i(1_690_000_000), s("Europe/Berlin")]),
            "2023-07-22 06:26 CEST"
        );
        assert_eq!(
            show("dateInZone", &[s(f), i(1_700_000_000), s("Asia/Kolkata")]),
            "2023-11-15 03:43 IST"
        );
    }

    #[test]
    fn parses_go_layouts() {
        let utc = Location::Utc;
        let parsed =
            |layout: &str, value: &str| parse_time(layout, value, &utc).map(|t| t.format_v());
        assert_eq!(
            parsed("2006-01-02", "2017-12-31"),
            Ok("2017-12-31 00:00:00 +0000 UTC".into())
        );
        assert_eq!(
            parsed(
                "2006-01-02 15:04:05.000 -0700",
                "2020-05-06 07:08:09.123 +0200"
            ),
            Ok("2020-05-06 07:08:09.123 +0200 +0200".into())
        );
        assert_eq!(
            parsed("2006-01-02T15:04:05Z07:00", "2017-12-31T10:00:00+05:30"),
            Ok("2017-12-31 10:00:00 +0530 +0530".into())
        );
        assert_eq!(
            parsed("2006-01-02", "bad"),
            Err("parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\"".into())
        );
        let t = parse_time("2006-01-02", "2017-12-31", &utc).unwrap();
        assert_eq!(
            t.format("Jan 2, 2006 at 3:04pm (MST)"),
            "Dec 31, 2017 at 12:00am (UTC)"
        );
    }

    #[test]
    fn to_date_and_friends() {
        let d = call_v(
            "toDate",
            &[
                s("2006-01-02T15:04:05Z07:00"),
                s("2017-12-31T10:00:00+05:30"),
            ],
        );
        assert_eq!(show("unixEpoch", std::slice::from_ref(&d)), "1514694600");
        assert_eq!(
            show("dateInZone", &[s("2006-01-02 15:04"), d, s("UTC")]),
            "2017-12-31 04:30"
        );
        assert_eq!(
            show("toDate", &[s("2006-01-02"), s("bad")]),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            show("mustToDate", &[s("2006-01-02"), s("bad")]),
            "error: parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\""
        );
        assert_eq!(show("typeOf", &[call_v("now", &[])]), "time.Time");
        assert_eq!(show("kindOf", &[call_v("now", &[])]), "struct");
    }

    fn call_v(name: &str, args: &[Value]) -> Value {
        super::super::testing::call(name, args).unwrap()
    }

    #[test]
    fn date_modify_adds_durations() {
        let base = at(1_514_678_400);
        let shown = |d: &str| show("dateModify", &[s(d), base.clone()]);
        assert_eq!(shown("1.5h"), "2017-12-31 01:30:00 +0000 UTC");
        assert_eq!(shown("-1h30m"), "2017-12-30 22:30:00 +0000 UTC");
        assert_eq!(shown("bad"), "2017-12-31 00:00:00 +0000 UTC");
        assert_eq!(
            show("mustDateModify", &[s("bad"), base]),
            "error: time: invalid duration \"bad\""
        );
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(show("duration", &[s("95")]), "1m35s");
        // Sprig reads only int64 and strings: `duration 30` (an int literal) is "0s" in Helm.
        assert_eq!(show("duration", &[Value::Int64(3601)]), "1h0m1s");
        assert_eq!(show("duration", &[i(3601)]), "0s");
        assert_eq!(show("duration", &[Value::Float(95.5)]), "0s");
        let round = |d: Value| show("durationRound", &[d]);
        assert_eq!(round(s("2h10m5s")), "2h");
        assert_eq!(round(Value::Int64(3_601_000_000_000)), "1h");
        assert_eq!(round(i(3_601_000_000_000)), "0s");
        assert_eq!(round(s("-49h")), "2d");
        assert_eq!(round(s("1s")), "0s");
        assert_eq!(round(s("800ms")), "0s");
        assert_eq!(round(s("2000h")), "2mo");
        assert_eq!(round(s("9000h")), "1y");
        assert_eq!(format_duration(1_500_000), "1.5ms");
        assert_eq!(format_duration(-90_000_000_000), "-1m30s");
        assert_eq!(parse_duration("1h2m3.5s"), Ok(3_723_500_000_000));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert!(parse_duration("1x").is_err());
    }
}
