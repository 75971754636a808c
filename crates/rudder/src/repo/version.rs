//! Picking chart versions: the newest version that satisfies a Helm version constraint.
//!
//! The one seam between `repo` and the constraint grammar, so that every command (pull, search,
//! dependency update, install from a repository) picks versions the same way.

use super::RepoError;

/// Parses a chart version the way Helm does: a leading `v` and partial versions (`1.2`) allowed.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    crate::chart::constraint::parse_version(text).ok()
}

/// A parsed version constraint (`^1.2`, `~1.2.3`, `>=1 <2`, `1.x`, `*`, `1.2 - 1.4`, `a || b`).
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    inner: crate::chart::constraint::Constraint,
}

impl Constraint {
    /// Parses a constraint; an empty string means any stable version.
    pub fn parse(text: &str) -> Result<Self, RepoError> {
        let source = if text.trim().is_empty() { "*" } else { text };
        let inner = crate::chart::constraint::Constraint::parse(source).map_err(|e| {
            RepoError::InvalidConstraint {
                constraint: text.to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Constraint {
            text: text.to_string(),
            inner,
        })
    }

    /// The constraint as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `version` satisfies the constraint.
    pub fn matches(&self, version: &semver::Version) -> bool {
        self.inner.matches(version)
    }
}

/// Picks the newest of `versions` satisfying `constraint`. An exact match of the written
/// constraint (`1.2.3` against `1.2.3`, or a version that is not SemVer) wins as Helm's does.
pub fn pick_newest<'a, I>(versions: I, constraint: &Constraint) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(semver::Version, &'a str)> = None;
    for text in versions {
        if !constraint.as_str().is_empty() && text == constraint.as_str() {
            return Some(text);
        }
        let Some(v) = parse_version(text) else {
            continue;
        };
        if !constraint.matches(&v) {
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| v > *b) {
            best = Some((v, text));
        }
    }
    best.map(|(_, t)| t)
}

/// Sorts version strings newest first; strings that are not versions go last, in name order.
pub fn sort_newest_first(versions: &mut [String]) {
    versions.sort_by(|a, b| match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_partial_versions_and_strips_v() {
        assert_eq!(parse_version("v1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(parse_version("1").unwrap().to_string(), "1.0.0");
        assert_eq!(parse_version("1.2-rc.1").unwrap().to_string(), "1.2.0-rc.1");
        assert!(parse_version("latest").is_none());
    }

    #[test]
    fn picks_newest_matching() {
        let c = Constraint::parse("^1.2").unwrap();
        let vs = ["1.1.0", "1.2.5", "1.9.0", "2.0.0", "1.10.0-rc.1"];
        assert_eq!(pick_newest(vs, &c), Some("1.9.0"));
        let any = Constraint::parse("").unwrap();
        assert_eq!(pick_newest(vs, &any), Some("2.0.0"));
    }

    #[test]
    fn sorts_newest_first() {
        let mut vs = vec!["1.0.0".to_string(), "x".to_string(), "1.10.0".to_string()];
        sort_newest_first(&mut vs);
        assert_eq!(vs, ["1.10.0", "1.0.0", "x"]);
    }
}
