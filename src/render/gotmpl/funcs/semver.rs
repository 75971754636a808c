//! Sprig's `semver` and `semverCompare` with Masterminds/semver v3 semantics: versions parse
//! loosely (`v1.2`, `1`), and constraints support `= != > < >= <= ~ ~> ^`, wildcards (`1.2.x`),
//! hyphen ranges (`1.2 - 1.4`), `,`/space for AND and `||` for OR. A prerelease version only
//! satisfies a constraint group that itself names a prerelease (the `>=1.19-0` idiom).

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::OnceLock;

use regex::Regex;

use super::super::value::{Object, Value};
use super::cast::str_param;
use super::{arity, FuncError, Registry};

const INVALID_SEMVER: &str = "invalid semantic version";

/// A parsed semantic version, Masterminds' `*semver.Version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const NUM: &str = "0123456789";

fn only(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    s.chars().all(allowed)
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn loose_version_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
        )
        .expect("a valid constant pattern")
    })
}

impl Version {
    /// Masterminds' `NewVersion` (coercing): `v` prefix, missing minor/patch read as 0.
    pub fn parse(v: &str) -> Result<Version, String> {
        let caps = loose_version_regex()
            .captures(v)
            .ok_or_else(|| INVALID_SEMVER.to_string())?;
        let seg = |i: usize| -> Result<u64, String> {
            match caps.get(i) {
                None => Ok(0),
                Some(m) => m
                    .as_str()
                    .trim_start_matches('.')
                    .parse::<u64>()
                    .map_err(|_| {
                        format!(
                            "error parsing version segment: strconv.ParseUint: parsing {}: value out of range",
                            crate::render::gotmpl::fmt::go_quote(m.as_str().trim_start_matches('.'))
                        )
                    }),
            }
        };
        let version = Version {
            major: seg(1)?,
            minor: seg(2)?,
            patch: seg(3)?,
            pre: caps.get(5).map_or("", |m| m.as_str()).to_string(),
            metadata: caps.get(8).map_or("", |m| m.as_str()).to_string(),
            original: v.to_string(),
        };
        if !version.pre.is_empty() {
            for part in version.pre.split('.') {
                if part.is_empty() {
                    return Err("invalid prerelease string".into());
                }
                if only(part, |c| NUM.contains(c)) {
                    if part.len() > 1 && part.starts_with('0') {
                        return Err("version segment starts with 0".into());
                    }
                } else if !only(part, is_ident_char) {
                    return Err("invalid prerelease string".into());
                }
            }
        }
        if !version.metadata.is_empty()
            && version
                .metadata
                .split('.')
                .any(|p| p.is_empty() || !only(p, is_ident_char))
        {
            return Err("invalid metadata string".into());
        }
        Ok(version)
    }

    /// Semantic version precedence (metadata ignored).
    pub fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }

    fn canonical(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (ap, bp): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..ap.len().max(bp.len()) {
        let d = compare_pre_part(
            ap.get(i).copied().unwrap_or(""),
            bp.get(i).copied().unwrap_or(""),
        );
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.cmp(o),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

/// One comparison of a constraint group, with Masterminds' "dirty" wildcard flags.
#[derive(Debug)]
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
const SP: &str = r"[\t\n\x0C\r ]";

struct Patterns {
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: String| Regex::new(&s).expect("a valid constant pattern");
        Patterns {
            constraint: re(format!(r"^{SP}*({OPS}){SP}*({CV}){SP}*$")),
            range: re(format!(r"{SP}*({CV}){SP}+-{SP}+({CV}){SP}*")),
            find: re(format!(r"({OPS}){SP}*({CV})")),
            valid: re(format!(
                r"^({SP}*({OPS}){SP}*({CV}){SP}*)((?:{SP}+|,{SP}*)({OPS}){SP}*({CV}){SP}*)*$"
            )),
        }
    })
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    let caps = patterns()
        .constraint
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| caps.get(i).map_or("", |m| m.as_str());
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint parser error".to_string())?;
    Ok(Constraint {
        op: g(1).to_string(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            "<" => v.compare(c) == Ordering::Less,
            ">=" | "=>" => v.compare(c) != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                }
                !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            "~" | "~>" => self.tilde(v),
            "^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// Masterminds' `Constraints`: OR of AND groups.
struct Constraints {
    groups: Vec<(Vec<Constraint>, bool)>,
}

impl Constraints {
    fn parse(text: &str) -> Result<Constraints, String> {
        let p = patterns();
        let mut rewritten = text.to_string();
        for caps in p.range.captures_iter(text) {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            let lo = caps.get(1).map_or("", |m| m.as_str());
            let hi = caps.get(11).map_or("", |m| m.as_str());
            rewritten = rewritten.replacen(whole, &format!(">= {lo}, <= {hi} "), 1);
        }
        let mut groups = Vec::new();
        for part in rewritten.split("||") {
            if !p.valid.is_match(part) {
                return Err(format!(
                    "improper constraint: {}",
                    crate::render::gotmpl::fmt::go_quote(part)
                ));
            }
            let found: Vec<&str> = p.find.find_iter(part).map(|m| m.as_str()).collect();
            let items: Vec<&str> = if found.is_empty() { vec![part] } else { found };
            let mut group = Vec::new();
            let mut has_pre = false;
            for item in items {
                let c = parse_constraint(item)?;
                has_pre |= !c.con.pre.is_empty();
                group.push(c);
            }
            groups.push((group, has_pre));
        }
        Ok(Constraints { groups })
    }

    fn check(&self, v: &Version) -> bool {
        self.groups
            .iter()
            .any(|(group, has_pre)| group.iter().all(|c| c.check(v, *has_pre)))
    }
}

/// `semverCompare CONSTRAINT VERSION`.
fn semver_compare(args: &[Value]) -> Result<Value, FuncError> {
    arity("semverCompare", args, 2)?;
    let constraints = Constraints::parse(&str_param(&args[0])).map_err(FuncError::new)?;
    let version = Version::parse(&str_param(&args[1])).map_err(FuncError::new)?;
    Ok(Value::Bool(constraints.check(&version)))
}

/// `semver VERSION`: a version object with `.Major`, `.Minor`, `.Patch`, `.Prerelease`,
/// `.Metadata`, `.Original` and `.Compare`.
fn semver(args: &[Value]) -> Result<Value, FuncError> {
    arity("semver", args, 1)?;
    let version = Version::parse(&str_param(&args[0])).map_err(FuncError::new)?;
    Ok(Value::Object(Rc::new(version)))
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn kind_name(&self) -> &str {
        "ptr"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let other = || -> Result<Version, String> {
            match args.first() {
                Some(Value::Object(o)) => {
                    o.as_any()
                        .downcast_ref::<Version>()
                        .cloned()
                        .ok_or_else(|| {
                            format!(
                                "wrong type for value; expected *semver.Version; got {}",
                                o.type_name()
                            )
                        })
                }
                Some(v) => Err(format!(
                    "wrong type for value; expected *semver.Version; got {}",
                    v.type_name()
                )),
                None => Err(format!("wrong number of args for {name}: want 1 got 0")),
            }
        };
        let ordering = |want: &[Ordering]| -> Result<Value, String> {
            Ok(Value::Bool(want.contains(&self.compare(&other()?))))
        };
        Some(match name {
            "Major" => Ok(Value::Int(self.major as i64)),
            "Minor" => Ok(Value::Int(self.minor as i64)),
            "Patch" => Ok(Value::Int(self.patch as i64)),
            "Prerelease" => Ok(Value::from(self.pre.clone())),
            "Metadata" => Ok(Value::from(self.metadata.clone())),
            "Original" => Ok(Value::from(self.original.clone())),
            "String" => Ok(Value::from(self.canonical())),
            "Compare" => other().map(|o| {
                Value::Int(match self.compare(&o) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                })
            }),
            "LessThan" => ordering(&[Ordering::Less]),
            "GreaterThan" => ordering(&[Ordering::Greater]),
            "Equal" => ordering(&[Ordering::Equal]),
            "LessThanEqual" => ordering(&[Ordering::Less, Ordering::Equal]),
            "GreaterThanEqual" => ordering(&[Ordering::Greater, Ordering::Equal]),
            _ => return None,
        })
    }

    fn format(&self) -> String {
        self.canonical()
    }

    fn to_data(&self) -> Value {
        Value::from(self.canonical())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub(super) fn register(r: &mut Registry) {
    r.add("semver", semver);
    r.add("semverCompare", semver_compare);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{s, show};
    use super::*;

    #[test]
    fn constraints_follow_masterminds_semver() {
        let cases = [
            (">=1.19-0", "v1.36.0", "true"),
            (">=1.19", "1.20.0-beta.1", "false"),
            (">=1.19-0", "1.20.0-beta.1", "true"),
            ("^1.2.0", "1.9.9", "true"),
            ("^1.2.0", "2.0.0", "false"),
            ("~1.2.0", "1.2.9", "true"),
            ("~1.2.0", "1.3.0", "false"),
            ("1.2.x", "1.2.7", "true"),
            ("1.x", "1.9.0", "true"),
            ("*", "3.0.0", "true"),
            ("1.2 - 1.4.5", "1.4.5", "true"),
            ("1.2 - 1.4.5", "1.4.6", "false"),
            ("<1.0 || >=2.0", "2.1", "true"),
            (">1.2, <1.4", "1.3.0", "true"),
            (">1.2 <1.4", "1.4.0", "false"),
            ("!=1.2.3", "1.2.3", "false"),
            (">1.2.x", "1.3.0", "true"),
            ("<=1.2.x", "1.2.9", "true"),
            ("^0.2.3", "0.2.9", "true"),
            ("^0.2.3", "0.3.0", "false"),
            ("^0.0.3", "0.0.4", "false"),
            ("=1.2.3", "v1.2.3+meta", "true"),
            (">= 1.21.0-0", "v1.36.0-gke.100", "true"),
            ("<1.25.0-0", "1.24.9-eks-1234", "true"),
            (">= 1.23-0", "v1.36.0", "true"),
            ("<1.19", "v1.36.0", "false"),
            (">=1.20.0", "1.27.3-eks-1", "false"),
            ("^1.2", "1.9.0", "true"),
        ];
        for (c, v, want) in cases {
            assert_eq!(show("semverCompare", &[s(c), s(v)]), want, "{c} {v}");
        }
        assert_eq!(
            show("semverCompare", &[s("abc"), s("1.2.3")]),
            "error: improper constraint: \"abc\""
        );
        assert_eq!(
            show("semverCompare", &[s(">1.2"), s("abc")]),
            "error: invalid semantic version"
        );
        assert_eq!(
            show("semverCompare", &[s(">=1.2.3"), s("")]),
            "error: invalid semantic version"
        );
    }

    #[test]
    fn versions_parse_loosely_and_compare() {
        assert_eq!(show("semver", &[s("v1.2.3-beta.1+b5")]), "1.2.3-beta.1+b5");
        assert_eq!(
            show("semver", &[s("1.2.3.4")]),
            "error: invalid semantic version"
        );
        assert_eq!(
            show("semver", &[s("1.2.3-01")]),
            "error: version segment starts with 0"
        );
        let v = |text: &str| Version::parse(text).unwrap();
        assert_eq!(v("1.2").minor, 2);
        assert_eq!(v("v1.2").original, "v1.2");
        assert_eq!(v("1.2.3").compare(&v("1.2.4")), Ordering::Less);
        assert_eq!(v("1.10.0").compare(&v("1.9.0")), Ordering::Greater);
        assert_eq!(
            v("1.0.0-alpha.1").compare(&v("1.0.0-alpha.beta")),
            Ordering::Less
        );
        assert_eq!(v("1.0.0-2").compare(&v("1.0.0-11")), Ordering::Less);
        let obj = v("1.2.3-alpha+m");
        assert_eq!(obj.member("Prerelease", &[]), Some(Ok(Value::str("alpha"))));
        assert_eq!(obj.member("Metadata", &[]), Some(Ok(Value::str("m"))));
        assert_eq!(obj.member("Major", &[]), Some(Ok(Value::Int(1))));
        assert_eq!(Object::type_name(&obj), "*semver.Version");
    }
}
