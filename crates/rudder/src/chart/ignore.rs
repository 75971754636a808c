//! `.helmignore`: gitignore-like rules, evaluated exactly as Helm evaluates them.
//!
//! Helm's rules are not git's: patterns use Go's `filepath.Match` (no `**`, which is an error),
//! a pattern without `/` matches the base name only, a trailing `/` restricts a rule to
//! directories, and rules are tried in order with the first match deciding. A negated rule
//! (`!x`) ignores every path it does *not* match and lets evaluation continue for those it does,
//! which is surprising but is what `helm package` and `helm template` do. `templates/.?*` (dot
//! files in templates/) is always ignored.

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: Glob,
    negate: bool,
    must_dir: bool,
    anchor: Anchor,
}

/// A pattern prepared once for the many paths of a chart. Most `.helmignore` lines are a plain
/// name (`.git`) or `*` and a suffix (`*.swp`); those skip the general matcher.
#[derive(Debug, Clone)]
enum Glob {
    /// No metacharacter: the subject must equal it.
    Literal(String),
    /// `*` then text with no metacharacter and no `/`: any subject without `/` ending in it.
    StarSuffix(String),
    /// Anything else, already checked for syntax when the rule was read.
    General(Vec<char>),
}

impl Glob {
    fn new(glob: &str) -> Glob {
        let plain = |s: &str| !s.contains(['*', '?', '[', '\\']);
        if plain(glob) {
            Glob::Literal(glob.to_string())
        } else if let Some(rest) = glob
            .strip_prefix('*')
            .filter(|r| plain(r) && !r.contains('/'))
        {
            Glob::StarSuffix(rest.to_string())
        } else {
            Glob::General(glob.chars().collect())
        }
    }

    fn matches(&self, subject: &str) -> bool {
        match self {
            Glob::Literal(lit) => subject == lit,
            Glob::StarSuffix(suffix) => {
                subject.ends_with(suffix.as_str()) && !subject.contains('/')
            }
            // The rule was validated when read, so a failed match is just `false`.
            Glob::General(p) => {
                let n: Vec<char> = subject.chars().collect();
                match_from(p, &n).unwrap_or(false)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    /// Leading `/`: the whole relative path must match.
    Root,
    /// Contains `/`: the whole relative path must match.
    Path,
    /// No `/`: only the base name is matched.
    BaseName,
}

/// A rule that cannot be used, with its 1-based line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IgnoreError {
    pub line: usize,
    pub message: String,
}

impl IgnoreRules {
    /// Parses the text of a `.helmignore` and adds Helm's default rule.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut rules = IgnoreRules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            rules.add_rule(line).map_err(|message| IgnoreError {
                line: index + 1,
                message,
            })?;
        }
        rules.add_defaults();
        Ok(rules)
    }

    /// Only Helm's default rule (used when a chart has no `.helmignore`).
    pub fn defaults() -> Self {
        let mut rules = IgnoreRules::default();
        rules.add_defaults();
        rules
    }

    fn add_defaults(&mut self) {
        // A constant pattern that always parses.
        let _ = self.add_rule("templates/.?*");
    }

    fn add_rule(&mut self, line: &str) -> Result<(), String> {
        let rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(format!(
                "{rule:?}: double-star (**) syntax is not supported"
            ));
        }
        if go_match(rule, "abc").is_err() {
            return Err(format!("{rule:?}: syntax error in pattern"));
        }
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rule),
        };
        let (anchor, glob) = if let Some(rest) = rule.strip_prefix('/') {
            (Anchor::Root, rest)
        } else if rule.contains('/') {
            (Anchor::Path, rule)
        } else {
            (Anchor::BaseName, rule)
        };
        self.patterns.push(Pattern {
            glob: Glob::new(glob),
            negate,
            must_dir,
            anchor,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for pattern in &self.patterns {
            let matched = || {
                let subject = match pattern.anchor {
                    Anchor::Root | Anchor::Path => path,
                    Anchor::BaseName => path.rsplit('/').next().unwrap_or(path),
                };
                pattern.glob.matches(subject)
            };
            if pattern.negate {
                if pattern.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if pattern.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go's `path/filepath.Match` with `/` as the separator: `*`, `?`, `[...]` / `[^...]` classes
/// and `\` escapes. `Err` means a malformed pattern.
pub(crate) fn go_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let matched = match_from(&p, &n)?;
    if !matched {
        // Go reports a malformed pattern even when the name fails to match early.
        validate(&p)?;
    }
    Ok(matched)
}

fn validate(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i += 2;
            }
            '[' => {
                let (_, next) = match_class(p, i + 1, None)?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, ()> {
    if p.is_empty() {
        return Ok(n.is_empty());
    }
    match p[0] {
        '*' => {
            let rest = &p[1..];
            for skip in 0..=n.len() {
                if skip > 0 && n[skip - 1] == '/' {
                    break;
                }
                if match_from(rest, &n[skip..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => {
            if n.is_empty() || n[0] == '/' {
                validate(&p[1..])?;
                return Ok(false);
            }
            match_from(&p[1..], &n[1..])
        }
        '[' => {
            let c = n.first().copied();
            let (ok, next) = match_class(p, 1, c)?;
            if !ok || c.is_none() || c == Some('/') {
                return Ok(false);
            }
            match_from(&p[next..], &n[1..])
        }
        '\\' => {
            if p.len() < 2 {
                return Err(());
            }
            if n.first() == Some(&p[1]) {
                match_from(&p[2..], &n[1..])
            } else {
                Ok(false)
            }
        }
        c => {
            if n.first() == Some(&c) {
                match_from(&p[1..], &n[1..])
            } else {
                Ok(false)
            }
        }
    }
}

/// Matches `c` against the class starting after `[` at `start`; returns (matched, index after `]`).
fn match_class(p: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), ()> {
    let mut i = start;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&ch) = p.get(i) else {
            return Err(());
        };
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, after) = class_char(p, i)?;
        i = after;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, after) = class_char(p, i + 1)?;
            hi = h;
            i = after;
        }
        if let Some(c) = c {
            if lo <= c && c <= hi {
                matched = true;
            }
        }
    }
    Ok((matched != negated, i))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), ()> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(()),
        Some('\\') => p.get(i + 1).map(|&c| (c, i + 2)).ok_or(()),
        Some(&c) => Ok((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_follows_filepath_match() {
        assert_eq!(go_match("*.txt", "a.txt"), Ok(true));
        assert_eq!(go_match("*.txt", "d/a.txt"), Ok(false));
        assert_eq!(go_match("a?c", "abc"), Ok(true));
        assert_eq!(go_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(go_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(go_match("\\*", "*"), Ok(true));
        assert_eq!(go_match("[", "a"), Err(()));
        assert_eq!(go_match("a[", "b"), Err(()));
        assert_eq!(go_match("ignore/*", "ignore/me.txt"), Ok(true));
    }

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text).unwrap()
    }

    #[test]
    fn base_name_and_path_rules() {
        let r = rules("# comment\n*.swp\nignore/\n/top.txt\ndocs/*.md\n");
        assert!(r.is_ignored("a/b/c.swp", false));
        assert!(r.is_ignored("ignore", true));
        assert!(!r.is_ignored("ignore", false));
        assert!(r.is_ignored("top.txt", false));
        assert!(!r.is_ignored("sub/top.txt", false));
        assert!(r.is_ignored("docs/README.md", false));
        assert!(!r.is_ignored("README.md", false));
    }

    #[test]
    fn dot_files_in_templates_are_ignored_by_default() {
        let r = IgnoreRules::defaults();
        assert!(r.is_ignored("templates/.hidden.yaml", false));
        assert!(!r.is_ignored("templates/x.yaml", false));
        assert!(!r.is_ignored(".helmignore", false));
    }

    #[test]
    fn negation_ignores_everything_it_does_not_match_like_helm() {
        let r = rules("!keep.txt\n");
        assert!(r.is_ignored("other.txt", false));
        assert!(!r.is_ignored("keep.txt", false));
    }

    #[test]
    fn prepared_globs_agree_with_the_general_matcher() {
        let subjects = [
            "", "a", "a.swp", ".swp", "d/a.swp", "x.swp/y", ".git", "a.git", "*", "abc", "d/e",
        ];
        for glob in [
            "*.swp", "*", ".git", "d/e", "*/e", "a?c", "[a]bc", "\\*", "*.sw?",
        ] {
            let prepared = Glob::new(glob);
            for subject in subjects {
                assert_eq!(
                    prepared.matches(subject),
                    go_match(glob, subject).unwrap(),
                    "{glob} against {subject:?}"
                );
            }
        }
    }

    #[test]
    fn rejects_double_star_and_bad_patterns_with_line() {
        let err = IgnoreRules::parse("ok\n**/x\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(IgnoreRules::parse("[\n").is_err());
    }
}
