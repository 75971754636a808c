//! Sprig's path functions: Go's `path` package (slash-separated, lexical) and the `os*`
//! variants from `path/filepath`, which on Unix behave the same.

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

/// Go's `path.Clean`: the shortest equivalent path by lexical processing.
pub(super) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for elem in p.split('/') {
        match elem {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`: the last element; "." for "" and "/" for only slashes.
fn base_of(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Go's `path.Dir`: everything before the last element, cleaned.
fn dir_of(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// Go's `path.Ext`: the suffix from the last `.` in the last element.
fn ext_of(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

fn one_str(name: &str, args: &[Value]) -> Result<String, FuncError> {
    arity(name, args, 1)?;
    Ok(str_param(&args[0]))
}

fn base(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(base_of(&one_str("base", args)?)))
}

fn dir(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(dir_of(&one_str("dir", args)?)))
}

fn clean_fn(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(clean(&one_str("clean", args)?)))
}

fn ext(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(ext_of(&one_str("ext", args)?)))
}

fn is_abs(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(one_str("isAbs", args)?.starts_with('/')))
}

pub(super) fn register(r: &mut Registry) {
    r.add("base", base);
    r.add("osBase", base);
    r.add("dir", dir);
    r.add("osDir", dir);
    r.add("ext", ext);
    r.add("osExt", ext);
    r.add("clean", clean_fn);
    r.add("osClean", clean_fn);
    r.add("isAbs", is_abs);
    r.add("osIsAbs", is_abs);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{s, show};

    #[test]
    fn paths_follow_go_path_package() {
        let cases = [
            ("base", "/a/b.txt", "b.txt"),
            ("base", "", "."),
            ("base", "/", "/"),
            ("base", "a/b/", "b"),
            ("base", "//", "/"),
            ("dir", "/a/b/c", "/a/b"),
            ("dir", "a", "."),
            ("dir", "", "."),
            ("dir", "/", "/"),
            ("dir", "a//b/../c/", "a/c"),
            ("clean", "a//b/./../c/", "a/c"),
            ("clean", "", "."),
            ("clean", "/../x", "/x"),
            ("clean", "../../x/..", "../.."),
            ("ext", "a/b.tar.gz", ".gz"),
            ("ext", "a.b/c", ""),
            ("ext", "x.", "."),
            ("isAbs", "/a", "true"),
            ("isAbs", "a", "false"),
            ("osBase", "/x/y", "y"),
            ("osDir", "/x/y", "/x"),
            ("osClean", "/x/../y", "/y"),
            ("osExt", "f.md", ".md"),
            ("osIsAbs", "/", "true"),
        ];
        for (f, input, want) in cases {
            assert_eq!(show(f, &[s(input)]), want, "{f} {input:?}");
        }
    }
}
