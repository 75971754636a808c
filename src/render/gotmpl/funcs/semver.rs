//! Sprig's semver functions: `semver` and `semverCompare` (Masterminds semver v3, the same
//! grammar Helm uses for `kubeVersion`, see [`crate::chart::constraint`]).

use std::any::Any;
use std::rc::Rc;

use super::super::value::{Object, Value};
use super::{arity, cast, FuncError, Registry};
use crate::chart::constraint::{parse_version, Constraint};

/// A parsed `*semver.Version` with Masterminds' methods.
#[derive(Debug)]
struct SemverVersion {
    original: String,
    version: semver::Version,
}

impl Object for SemverVersion {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn member(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = &self.version;
        let as_int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        Some(Ok(match name {
            "Major" => as_int(v.major),
            "Minor" => as_int(v.minor),
            "Patch" => as_int(v.patch),
            "Prerelease" => Value::from(v.pre.to_string()),
            "Metadata" => Value::from(v.build.to_string()),
            "Original" => Value::from(self.original.clone()),
            "String" => Value::from(self.format()),
            "Compare" | "LessThan" | "GreaterThan" | "Equal" => {
                let Some(other) = args.first().and_then(|a| match a {
                    Value::Object(o) => o.as_any().downcast_ref::<SemverVersion>(),
                    _ => None,
                }) else {
                    return Some(Err(format!("{name} needs a *semver.Version argument")));
                };
                let ord = compare(v, &other.version);
                match name {
                    "Compare" => Value::Int(ord as i64),
                    "LessThan" => Value::Bool(ord < 0),
                    "GreaterThan" => Value::Bool(ord > 0),
                    _ => Value::Bool(ord == 0),
                }
            }
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        let v = &self.version;
        let mut s = format!("{}.{}.{}", v.major, v.minor, v.patch);
        if !v.pre.is_empty() {
            s.push('-');
            s.push_str(v.pre.as_str());
        }
        if !v.build.is_empty() {
            s.push('+');
            s.push_str(v.build.as_str());
        }
        s
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Masterminds' `Compare`: -1, 0 or 1, build metadata ignored, prereleases below releases.
fn compare(a: &semver::Version, b: &semver::Version) -> i8 {
    use std::cmp::Ordering;
    let ord = (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        });
    match ord {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// `semver VERSION`: a version object (`.Major`, `.Minor`, `.Patch`, `.Prerelease`, ...).
fn semver(args: &[Value]) -> Result<Value, FuncError> {
    arity("semver", args, 1)?;
    let text = cast::str_param(&args[0]);
    let version = parse_version(&text).map_err(|_| FuncError::new("invalid semantic version"))?;
    Ok(Value::Object(Rc::new(SemverVersion {
        original: text,
        version,
    })))
}

/// `semverCompare CONSTRAINT VERSION`.
fn semver_compare(args: &[Value]) -> Result<Value, FuncError> {
    arity("semverCompare", args, 2)?;
    let constraint = cast::str_param(&args[0]);
    let c = Constraint::parse(&constraint)
        .map_err(|_| FuncError::new(format!("improper constraint: {constraint:?}")))?;
    let v = parse_version(&cast::str_param(&args[1]))
        .map_err(|_| FuncError::new("invalid semantic version"))?;
    Ok(Value::Bool(c.matches(&v)))
}

pub(super) fn register(r: &mut Registry) {
    r.add("semver", semver);
    r.add("semverCompare", semver_compare);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(c: &str, v: &str) -> Value {
        semver_compare(&[Value::str(c), Value::str(v)]).unwrap()
    }

    #[test]
    fn semver_compare_follows_masterminds() {
        assert_eq!(cmp(">=1.21-0", "v1.36.0"), Value::Bool(true));
        assert_eq!(cmp(">= 1.23-0", "v1.36.0"), Value::Bool(true));
        assert_eq!(cmp("<1.19", "v1.36.0"), Value::Bool(false));
        assert_eq!(cmp(">=1.20.0", "1.27.3-eks-1"), Value::Bool(false));
        assert_eq!(cmp("^1.2", "1.9.0"), Value::Bool(true));
        assert!(semver_compare(&[Value::str("bad"), Value::str("1.0")]).is_err());
    }

    #[test]
    fn semver_objects_expose_parts() {
        let v = semver(&[Value::str("v1.2.3-rc.1+b5")]).unwrap();
        let Value::Object(o) = &v else {
            panic!("not an object")
        };
        assert_eq!(o.member("Major", &[]), Some(Ok(Value::Int(1))));
        assert_eq!(o.member("Patch", &[]), Some(Ok(Value::Int(3))));
        assert_eq!(o.member("Prerelease", &[]), Some(Ok(Value::str("rc.1"))));
        assert_eq!(o.format(), "1.2.3-rc.1+b5");
    }
}
