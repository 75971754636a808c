//! Sprig's `semver` and `semverCompare` with Masterminds/semver v3 semantics: versions parse
//! loosely (`v1.2`, `1`). Constraints are [`crate::constraint`] (the chart loader's too), which
//! implements the same Masterminds grammar for `kubeVersion` and dependency ranges.

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::OnceLock;

use regex::Regex;

use crate::constraint::{parse_version, Constraint, ConstraintError};

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::{Object, Value};

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
                            gotmpl::fmt::go_quote(m.as_str().trim_start_matches('.'))
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

/// `semverCompare CONSTRAINT VERSION`.
fn semver_compare(args: &[Value]) -> Result<Value, FuncError> {
    arity("semverCompare", args, 2)?;
    let constraint = Constraint::parse(&str_param(&args[0])).map_err(|e| match e {
        ConstraintError::Constraint { part, .. } => FuncError::new(format!(
            "improper constraint: {}",
            gotmpl::fmt::go_quote(&part)
        )),
        other => FuncError::new(other.to_string()),
    })?;
    // Parsed here first for Sprig's exact error messages; the constraint checks a
    // `semver::Version` read from the same text.
    let text = str_param(&args[1]);
    Version::parse(&text).map_err(FuncError::new)?;
    let version = parse_version(&text).map_err(|_| FuncError::new(INVALID_SEMVER))?;
    Ok(Value::Bool(constraint.matches(&version)))
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
