//! Helm's version constraints (Masterminds `semver/v3`, as Helm 4 uses it) on [`semver::Version`].
//!
//! Syntax: comparisons `=`, `!=`, `>`, `<`, `>=`/`=>`, `<=`/`=<`, tilde `~`/`~>`, caret `^`;
//! wildcards `1.x`, `1.2.*`, `*`; hyphen ranges `1.2 - 1.4`; an optional `v` prefix; AND with
//! spaces or `,`; OR with `||`. A prerelease version only satisfies an OR-group that itself
//! names a prerelease (`>=1.20.0-0` accepts `1.27.3-eks-1`; `>=1.20.0` does not).
//! Versions are read leniently like Masterminds' `NewVersion`: `v1.2` is `1.2.0`.

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;
use semver::{BuildMetadata, Prerelease, Version};

/// A version or constraint that could not be parsed, or a failed kubeVersion check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    #[error("{input:?} is not a semantic version")]
    Version { input: String },
    /// `part` is the `||`-separated group that failed, which Sprig's error message quotes.
    #[error("improper version constraint {input:?}")]
    Constraint { input: String, part: String },
    #[error("chart {chart} requires kubeVersion {constraint}, which is incompatible with Kubernetes {kube_version}")]
    KubeVersion {
        chart: String,
        constraint: String,
        kube_version: String,
    },
}

// The version shapes a constraint accepts (wildcards included), as Masterminds writes them.
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
// Go's `\s` is ASCII whitespace only; Rust's is Unicode, so spell it out.
const SP: &str = r"[\t\n\x0C\r ]";

/// Each pattern compiles on first use only: compiling one costs about as much as loading a small
/// chart, and most renders need none of them.
macro_rules! pattern {
    ($name:ident, $re:expr) => {
        fn $name() -> &'static Regex {
            static RE: OnceLock<Regex> = OnceLock::new();
            RE.get_or_init(|| Regex::new(&$re).expect("constant regex"))
        }
    };
}

pattern!(single_pattern, format!(r"^{SP}*({OPS}){SP}*({CV}){SP}*$"));
pattern!(range_pattern, format!(r"{SP}*({CV}){SP}+-{SP}+({CV}){SP}*"));
pattern!(find_pattern, format!(r"({OPS}){SP}*({CV})"));
pattern!(
    valid_pattern,
    format!(r"^({SP}*({OPS}){SP}*({CV}){SP}*)((?:{SP}+|,{SP}*)({OPS}){SP}*({CV}){SP}*)*$")
);

/// Parses a version the way Helm does (Masterminds `NewVersion`): `v` prefix allowed, missing
/// minor and patch are zero, leading zeros tolerated in the numbers.
///
/// Written by hand rather than with Masterminds' regex: every chart load checks its version, and
/// compiling that regex cost more than the rest of loading a small chart.
pub fn parse_version(input: &str) -> Result<Version, ConstraintError> {
    let err = || ConstraintError::Version {
        input: input.to_string(),
    };
    let text = input.strip_prefix('v').unwrap_or(input);
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let mut numbers = [0u64; 3];
    for (index, part) in core.split('.').enumerate() {
        if index == 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        numbers[index] = part.parse().map_err(|_| err())?;
    }
    let mut version = Version::new(numbers[0], numbers[1], numbers[2]);
    if let Some(pre) = pre {
        if !is_dotted_identifiers(pre) {
            return Err(err());
        }
        version.pre = Prerelease::new(pre).map_err(|_| err())?;
    }
    if let Some(build) = build {
        if !is_dotted_identifiers(build) {
            return Err(err());
        }
        version.build = BuildMetadata::new(build).map_err(|_| err())?;
    }
    Ok(version)
}

/// `[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*`, the shape of a prerelease or build suffix.
fn is_dotted_identifiers(text: &str) -> bool {
    text.split('.').all(|part| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// Masterminds' ordering: build metadata is ignored, prereleases sort below their release.
fn compare(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Debug, Clone, PartialEq)]
struct Atom {
    op: Op,
    version: Version,
    /// A wildcard or missing part somewhere (`1.x`, `1`, `*`).
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// A parsed version constraint such as `>=1.2 <2 || ^3`.
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    /// OR-groups of AND-ed atoms, each with whether it names a prerelease.
    groups: Vec<(Vec<Atom>, bool)>,
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Constraint {
    type Err = ConstraintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Constraint::parse(s)
    }
}

impl Constraint {
    /// Parses a constraint with Masterminds' grammar.
    pub fn parse(input: &str) -> Result<Self, ConstraintError> {
        // A hyphen range needs whitespace before its `-`; without one the rewrite is a no-op.
        let has_range = input
            .as_bytes()
            .windows(2)
            .any(|w| is_sp(w[0]) && w[1] == b'-');
        let rewritten = if has_range {
            rewrite_ranges(input)
        } else {
            input.to_string()
        };
        let mut groups = Vec::new();
        for part in rewritten.split("||") {
            let atoms = match parse_group_simple(part) {
                Some(atoms) => atoms,
                None => parse_group(part).ok_or_else(|| ConstraintError::Constraint {
                    input: input.to_string(),
                    part: part.to_string(),
                })?,
            };
            let has_pre = atoms.iter().any(|atom| !atom.version.pre.is_empty());
            groups.push((atoms, has_pre));
        }
        Ok(Constraint {
            text: input.to_string(),
            groups,
        })
    }

    /// Whether `version` satisfies the constraint.
    pub fn matches(&self, version: &Version) -> bool {
        self.groups
            .iter()
            .any(|(atoms, has_pre)| atoms.iter().all(|atom| atom.check(version, *has_pre)))
    }
}

/// One OR-group read with Masterminds' regexes; `None` when it is not a valid group.
fn parse_group(part: &str) -> Option<Vec<Atom>> {
    if !valid_pattern().is_match(part) {
        return None;
    }
    let found: Vec<&str> = find_pattern().find_iter(part).map(|m| m.as_str()).collect();
    let found = if found.is_empty() { vec![part] } else { found };
    found.into_iter().map(parse_atom).collect()
}

/// Go's `\s` in Masterminds' patterns.
fn is_sp(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// One OR-group in the shapes real charts write (`>=1.19.0-0`, `^1.2 <2`, `~1.2.x`, `1.2, !=1.3`)
/// read without the regexes, whose compilation costs more than loading a small chart: atoms
/// `OP? SP* v?MAJOR(.MINOR(.PATCH)?)?(-PRE)?(+BUILD)?` with decimal or lone-wildcard parts,
/// separated by whitespace or a comma. `None` sends anything else to [`parse_group`], which
/// reads these shapes to the same atoms (a unit test checks that).
fn parse_group_simple(part: &str) -> Option<Vec<Atom>> {
    const OPS: [&str; 11] = ["!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^"];
    let bytes = part.as_bytes();
    let skip_sp = |mut i: usize| {
        while i < bytes.len() && is_sp(bytes[i]) {
            i += 1;
        }
        i
    };
    // A number or a lone wildcard.
    let number_part = |i: usize| -> Option<usize> {
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            return Some(i + digits);
        }
        matches!(bytes.get(i), Some(b'x' | b'X' | b'*')).then_some(i + 1)
    };
    // `[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*`
    let identifiers = |i: usize| -> Option<usize> {
        let end = i + bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'.')
            .count();
        is_dotted_identifiers(&part[i..end]).then_some(end)
    };
    let mut atoms = Vec::new();
    let mut i = skip_sp(0);
    loop {
        let op = OPS
            .iter()
            .find(|op| part[i..].starts_with(**op))
            .copied()
            .unwrap_or("");
        i = skip_sp(i + op.len());
        let whole_start = i;
        if bytes.get(i) == Some(&b'v') {
            i += 1;
        }
        let major_start = i;
        i = number_part(i)?;
        let major_end = i;
        let mut dotted = [(i, i); 2];
        for slot in &mut dotted {
            if bytes.get(i) != Some(&b'.') {
                break;
            }
            let start = i;
            i = number_part(i + 1)?;
            *slot = (start, i);
        }
        let pre_start = i;
        if bytes.get(i) == Some(&b'-') {
            i = identifiers(i + 1)?;
        }
        let pre_end = i;
        if bytes.get(i) == Some(&b'+') {
            i = identifiers(i + 1)?;
        }
        atoms.push(atom_from_parts(
            op,
            &part[whole_start..i],
            &part[major_start..major_end],
            &part[dotted[0].0..dotted[0].1],
            &part[dotted[1].0..dotted[1].1],
            &part[pre_start..pre_end],
        )?);
        let after = skip_sp(i);
        if after == bytes.len() {
            return Some(atoms);
        }
        i = if bytes[after] == b',' {
            skip_sp(after + 1)
        } else if after > i {
            after
        } else {
            return None;
        };
    }
}

/// `1.2 - 1.4` becomes `>= 1.2, <= 1.4 `, as Masterminds rewrites it before parsing.
fn rewrite_ranges(input: &str) -> String {
    let mut out = input.to_string();
    if !input.contains('-') {
        return out;
    }
    for caps in range_pattern().captures_iter(input) {
        let (Some(whole), Some(low), Some(high)) = (caps.get(0), caps.get(1), caps.get(11)) else {
            continue;
        };
        let replacement = format!(">= {}, <= {} ", low.as_str(), high.as_str());
        out = out.replacen(whole.as_str(), &replacement, 1);
    }
    out
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_atom(text: &str) -> Option<Atom> {
    if text.is_empty() {
        return Some(Atom {
            op: Op::TildeOrEqual,
            version: Version::new(0, 0, 0),
            dirty: true,
            minor_dirty: false,
            patch_dirty: false,
        });
    }
    let m = single_pattern().captures(text)?;
    let group = |i: usize| m.get(i).map_or("", |g| g.as_str());
    atom_from_parts(group(1), group(2), group(3), group(4), group(5), group(6))
}

/// An atom from its pieces as Masterminds' constraint regex groups them: the operator, the
/// whole version text, the major part, `.minor`, `.patch` and `-prerelease` (each may be empty).
fn atom_from_parts(
    op: &str,
    whole: &str,
    major: &str,
    minor: &str,
    patch: &str,
    pre: &str,
) -> Option<Atom> {
    let op = match op {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        _ => return None,
    };
    let minor_digits = minor.trim_start_matches('.');
    let patch_digits = patch.trim_start_matches('.');
    let (text, dirty, minor_dirty, patch_dirty) = if is_x(major) || major.is_empty() {
        (format!("0.0.0{pre}"), true, false, false)
    } else if is_x(minor_digits) || minor.is_empty() {
        (format!("{major}.0.0{pre}"), true, true, false)
    } else if is_x(patch_digits) || patch.is_empty() {
        (format!("{major}{minor}.0{pre}"), true, false, true)
    } else {
        (whole.to_string(), false, false, false)
    };
    let version = parse_version(&text).ok()?;
    Some(Atom {
        op,
        version,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Atom {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.version;
        match self.op {
            Op::NotEqual => {
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
                            return v.pre != c.pre;
                        }
                        return false;
                    }
                }
                compare(v, c) != Ordering::Equal
            }
            Op::Greater => {
                if !self.dirty {
                    return compare(v, c) == Ordering::Greater;
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
                compare(v, c) == Ordering::Greater
            }
            Op::Less => compare(v, c) == Ordering::Less,
            Op::GreaterEqual => compare(v, c) != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return compare(v, c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                }
                !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            Op::Tilde => self.tilde(v),
            Op::TildeOrEqual => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    compare(v, c) == Ordering::Equal
                }
            }
            Op::Caret => {
                if compare(v, c) == Ordering::Less {
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
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if compare(v, c) == Ordering::Less {
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
}

/// Helm's `IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraint::parse(constraint), parse_version(version)) {
        (Ok(c), Ok(v)) => c.matches(&v),
        _ => false,
    }
}

/// Checks a chart's `kubeVersion` constraint against the Kubernetes version rendering targets
/// (e.g. `v1.33.0`). An empty constraint accepts every version. The error names both.
pub fn check_kube_version(
    chart: &str,
    constraint: &str,
    kube_version: &str,
) -> Result<(), ConstraintError> {
    if constraint.trim().is_empty() {
        return Ok(());
    }
    let parsed = Constraint::parse(constraint)?;
    let version = parse_version(kube_version)?;
    if parsed.matches(&version) {
        Ok(())
    } else {
        Err(ConstraintError::KubeVersion {
            chart: chart.to_string(),
            constraint: constraint.to_string(),
            kube_version: kube_version.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written [`parse_version`] accepts exactly what Masterminds' version regex does.
    #[test]
    fn parse_version_matches_masterminds_regex() {
        let re = Regex::new(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
        )
        .unwrap();
        let inputs = [
            "1",
            "1.2",
            "1.2.3",
            "v1.2.3",
            "01.02.03",
            "1.2.3.4",
            "1..2",
            "1.2.",
            ".1",
            "",
            "v",
            "vv1",
            "1.2.3-rc.1",
            "1.27.3-eks-1",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+build.5",
            "1.2.3-pre+build",
            "1.2.3+b+c",
            "1.2.3+",
            "1.2-x",
            "1-0",
            "x.y.z",
            "1.2.3 ",
            " 1.2.3",
            "1.2.3-ü",
            "1.2.3--",
            "1.2.3-+",
            "99999999999999999999.0.0",
        ];
        for input in inputs {
            let ours = parse_version(input);
            if re.is_match(input) {
                let caps = re.captures(input).unwrap();
                let n = |i| {
                    caps.get(i).map_or(Ok(0), |g: regex::Match| {
                        g.as_str().trim_start_matches('.').parse::<u64>()
                    })
                };
                match (n(1), n(2), n(3)) {
                    (Ok(a), Ok(b), Ok(c)) => {
                        let v = ours.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                        assert_eq!((v.major, v.minor, v.patch), (a, b, c), "{input:?}");
                        assert_eq!(
                            v.pre.as_str(),
                            caps.get(5).map_or("", |g| g.as_str()),
                            "{input:?}"
                        );
                        assert_eq!(
                            v.build.as_str(),
                            caps.get(8).map_or("", |g| g.as_str()),
                            "{input:?}"
                        );
                    }
                    _ => assert!(ours.is_err(), "{input:?}"),
                }
            } else {
                assert!(ours.is_err(), "{input:?} parsed as {ours:?}");
            }
        }
    }

    #[test]
    fn passes_masterminds_documented_checks() {
        let table = include_str!("../../../testdata/constraints/masterminds_checks.tsv");
        let mut failures = Vec::new();
        let mut count = 0;
        for line in table
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let cols: Vec<&str> = line.split('\t').collect();
            let (constraint, version, expected) = (cols[0], cols[1], cols[2] == "true");
            count += 1;
            let v = parse_version(version).unwrap_or_else(|e| panic!("{version}: {e}"));
            // The empty rows test a single parsed atom (a wildcard); a whole empty constraint
            // does not parse, as in Masterminds.
            let got = if constraint.is_empty() {
                parse_atom("").unwrap().check(&v, false)
            } else {
                let c =
                    Constraint::parse(constraint).unwrap_or_else(|e| panic!("{constraint}: {e}"));
                c.matches(&v)
            };
            if got != expected {
                failures.push(format!("{constraint} vs {version}: expected {expected}"));
            }
        }
        assert!(count > 200, "table not read");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn parses_or_and_groups_like_masterminds() {
        let cases = [
            (">= 1.1", Some((1, 1))),
            (">40.50.60, < 50.70", Some((1, 2))),
            ("2.0", Some((1, 1))),
            ("v2.3.5-20161202202307-sha.e8fc5e5", Some((1, 1))),
            ("v1.2.3-0abc", Some((1, 1))),
            ("v1.2.3-beta.01", None),
            (">= bar", None),
            ("BAR >= 1.2.3", None),
            (">= 1.2.3 < 2.0", Some((1, 2))),
            (">= 1.2.3 < 2.0 || => 3.0 < 4", Some((2, 2))),
            (">= 1.2.3, < 2.0 || => 3.0, < 4", Some((2, 2))),
            ("3 - 4 || => 3.0, < 4", Some((2, 2))),
            ("12.3.4.1234", None),
            ("12.3.34 ~1.2.3", Some((1, 2))),
            ("12.3.34~ 1.2.3", None),
            ("1.0.0 - 2.0.0, <=2.0.0", Some((1, 3))),
        ];
        for (input, expected) in cases {
            let got = Constraint::parse(input)
                .ok()
                .map(|c| (c.groups.len(), c.groups[0].0.len()));
            assert_eq!(got, expected, "{input}");
        }
    }

    #[test]
    fn rewrites_hyphen_ranges() {
        assert_eq!(rewrite_ranges("2 - 3"), ">= 2, <= 3 ");
        assert_eq!(
            rewrite_ranges("2 - 3, 4.0.0 - 5.1"),
            ">= 2, <= 3 ,>= 4.0.0, <= 5.1 "
        );
        assert_eq!(
            rewrite_ranges("1.0.0 - 2.0.0 <=2.0.0"),
            ">= 1.0.0, <= 2.0.0 <=2.0.0"
        );
    }

    #[test]
    fn reads_versions_leniently() {
        assert_eq!(parse_version("v1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(parse_version("1").unwrap(), Version::new(1, 0, 0));
        assert!(parse_version("1.2.3.4").is_err());
        assert!(parse_version("").is_err());
        assert!(parse_version("1.2.3-01").is_err());
        assert_eq!(parse_version("v0.0.0").unwrap(), Version::new(0, 0, 0));
    }

    #[test]
    fn checks_kube_version_with_both_named() {
        assert!(check_kube_version("web", ">=1.20.0-0", "v1.27.3-eks-1").is_ok());
        assert!(check_kube_version("web", "", "v1.27.0").is_ok());
        let err = check_kube_version("web", ">=1.20 <1.25", "v1.33.0").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(">=1.20 <1.25") && text.contains("v1.33.0"),
            "{text}"
        );
        // A prerelease cluster version needs a prerelease-aware constraint, as in Helm.
        assert!(check_kube_version("web", ">=1.20", "v1.27.3-eks-1").is_err());
    }

    #[test]
    fn helm_dependency_ranges() {
        assert!(is_compatible_range("^1.2.0", "1.9.9"));
        assert!(!is_compatible_range("^1.2.0", "2.0.0"));
        assert!(is_compatible_range("~1.2.3", "1.2.9"));
        assert!(!is_compatible_range("~1.2.3", "1.3.0"));
        assert!(is_compatible_range("1.x", "1.7.0"));
        assert!(is_compatible_range("*", "3.0.0"));
        assert!(is_compatible_range("1.2 - 1.4", "1.4.5"));
        assert!(is_compatible_range(">=1.2 <2 || >=3", "3.1.0"));
        // An empty range does not parse in Masterminds, so nothing is compatible with it.
        assert!(!is_compatible_range("", "1.0.0"));
    }

    /// The hand-written group reader agrees with Masterminds' regexes wherever it answers, and
    /// answers for the shapes charts use.
    #[test]
    fn simple_groups_read_like_the_regexes() {
        let groups = [
            ">=1.19.0-0",
            ">= 1.19.0-0",
            " >=1.19-0 ",
            "^1.2",
            "~1.2.x",
            "~>1.2",
            "=>1.2, =<2",
            ">=1.2 <2",
            "1.2 2.3",
            "1.2 , !=1.3",
            "1.x",
            "*",
            "v1.2.3",
            "=v1.2.3-rc.1+build.5",
            "1.27.3-eks-1",
            ">1.2.3-alpha.beta-1",
            "<=01.02.03",
            "x.2.*",
            "1.2.3.4",
            "1.2,",
            "1.2,,1.3",
            "1.2.3-",
            "1.2.3-rc.",
            ">",
            "",
            "1|2",
            "1x.2",
            ">=a",
            "=1.2<2",
            "1.2 - 1.4",
        ];
        for group in groups {
            let simple = parse_group_simple(group);
            if let Some(atoms) = &simple {
                assert_eq!(Some(atoms), parse_group(group).as_ref(), "{group:?}");
            }
            let common = !matches!(
                group,
                "1.2.3.4"
                    | "1.2,"
                    | "1.2,,1.3"
                    | "1.2.3-"
                    | "1.2.3-rc."
                    | ">"
                    | ""
                    | "1|2"
                    | "1x.2"
                    | ">=a"
                    | "=1.2<2"
                    | "1.2 - 1.4"
            );
            assert_eq!(simple.is_some(), common, "{group:?}");
        }
    }
}
