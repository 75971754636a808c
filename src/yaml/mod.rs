//! YAML in and out, the way Kubernetes and Helm read it.
//!
//! Reading follows Go's `sigs.k8s.io/yaml` (YAML 1.1 booleans such as `yes`/`on`, legacy octal
//! `0777`, last duplicate key wins). Mapping keys stay as written unless a caller asks for Go's
//! keys ([`Keys::Go`]: `yes` and `0x10` become `"true"` and `"16"`, as Helm reads them).
//! Documents are built straight from the parser's events (`read`); serde-saphyr reads what that
//! fast path does not cover, and typed targets. Writing sorts map keys (serde_json's `BTreeMap`)
//! and quotes every string that a YAML 1.1 reader would take for something else, so that no
//! emitted manifest means something other than intended.

use serde_json::Value;

mod read;

pub use read::Keys;

/// A YAML document that could not be read, with the position of the problem.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// 1-based line of the problem (0 when unknown).
    pub line: usize,
    /// 1-based column of the problem (0 when unknown).
    pub column: usize,
    /// The parser's description of the problem.
    pub message: String,
}

impl YamlError {
    fn from_saphyr(err: serde_saphyr::Error) -> Self {
        let (line, column) = err
            .location()
            .map(|loc| (loc.line() as usize, loc.column() as usize))
            .unwrap_or((0, 0));
        let text = err.to_string();
        // saphyr's message is `error: line L column C: DESCRIPTION` followed by a source excerpt;
        // the position is in the fields already, so keep only the description.
        let first = text.lines().next().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        YamlError {
            line,
            column,
            message: strip_position(first).to_string(),
        }
    }
}

/// `line 3 column 7: text` → `text`; anything else unchanged.
fn strip_position(message: &str) -> &str {
    let rest = message.strip_prefix("line ").and_then(|rest| {
        let (line, rest) = rest.split_once(" column ")?;
        let (column, rest) = rest.split_once(": ")?;
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (numeric(line) && numeric(column)).then_some(rest)
    });
    rest.unwrap_or(message)
}

fn read_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        legacy_octal_numbers: true,
    }
}

/// Parses one YAML document into a JSON value, keys as written. An empty document is `null`.
pub fn from_str(text: &str) -> Result<Value, YamlError> {
    from_str_with(text, Keys::Text)
}

/// Parses one YAML document into a JSON value with the given key style. An empty document is
/// `null`. Documents the fast reader hands over are read by serde-saphyr, keys as written.
pub fn from_str_with(text: &str, keys: Keys) -> Result<Value, YamlError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    match read::read_one(text, keys) {
        Ok(value) => Ok(value),
        Err(read::Unsupported) => saphyr_one(text),
    }
}

fn saphyr_one(text: &str) -> Result<Value, YamlError> {
    serde_saphyr::from_str_with_options(text, read_options()).map_err(YamlError::from_saphyr)
}

/// Deserialises one YAML document into `T`, reading it like [`from_str`] does; type errors carry
/// the position of the offending node.
pub fn from_str_as<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, read_options()).map_err(YamlError::from_saphyr)
}

/// Parses a stream of YAML documents (`---`-separated) into JSON values, skipping empty ones.
pub fn from_str_multi(text: &str) -> Result<Vec<Value>, YamlError> {
    from_str_multi_with(text, Keys::Text)
}

/// [`from_str_multi`] with the given key style.
pub fn from_str_multi_with(text: &str, keys: Keys) -> Result<Vec<Value>, YamlError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match read::read_all(text, keys) {
        Ok(values) => Ok(values),
        Err(read::Unsupported) => saphyr_multi(text),
    }
}

fn saphyr_multi(text: &str) -> Result<Vec<Value>, YamlError> {
    serde_saphyr::from_multiple_with_options(text, read_options()).map_err(YamlError::from_saphyr)
}

/// Serialises a value as block YAML with sorted keys and safe quoting, ending in a newline.
pub fn to_string(value: &Value) -> String {
    match serde_saphyr::to_string(value) {
        Ok(text) => text,
        // Serialising a serde_json::Value cannot fail: it has no non-string keys or unsupported types.
        Err(err) => unreachable!("serialising a JSON value as YAML failed: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_yaml_1_1_booleans_and_octal_like_go() {
        let v = from_str("a: yes\nb: on\nc: 0777\n").unwrap();
        assert_eq!(v, json!({"a": true, "b": true, "c": 511}));
    }

    #[test]
    fn quotes_ambiguous_strings_on_output() {
        let text = to_string(&json!({"a": "yes", "b": "1", "c": "plain"}));
        assert_eq!(text, "a: \"yes\"\nb: \"1\"\nc: plain\n");
    }

    #[test]
    fn reports_line_and_column() {
        let err = from_str("a: 1\nb: [\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn keys_stay_as_written_unless_go_keys_are_asked_for() {
        let text = "y: 1\n0x10: 2\n";
        assert_eq!(from_str(text).unwrap(), json!({"y": 1, "0x10": 2}));
        let go = from_str_multi_with(text, Keys::Go).unwrap();
        assert_eq!(go, vec![json!({"true": 1, "16": 2})]);
    }

    #[test]
    fn names_the_position_once() {
        let err = from_str("a: [1\n").unwrap_err();
        assert_eq!(err.to_string(), "line 1, column 4: unclosed bracket '['");
        assert_eq!(strip_position("line 2 column x: y"), "line 2 column x: y");
    }

    /// The fast reader against serde-saphyr on every YAML file of the Helm chart corpus
    /// (`RUDDER_CORPUS`, default `../shared/corpus`) and of this repository's charts and test
    /// data: the same values, or both handing the document over / failing.
    #[test]
    fn fast_reader_agrees_with_serde_saphyr_on_every_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let corpus = match std::env::var_os("RUDDER_CORPUS") {
            Some(dir) => std::path::PathBuf::from(dir),
            None => root.join("../shared/corpus"),
        };
        let mut dirs = vec![root.join("charts"), root.join("testdata")];
        if corpus.is_dir() {
            dirs.push(corpus);
        } else {
            println!("skipping the chart corpus: {} is missing", corpus.display());
        }
        let mut files = Vec::new();
        for dir in &dirs {
            collect_yaml_files(dir, &mut files);
        }
        let (mut fast, mut handed_over, mut failures) = (0, 0, Vec::new());
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            let mut texts = vec![text.clone()];
            if text.contains("\n---") {
                texts.extend(text.split("\n---\n").map(str::to_string));
            }
            for text in &texts {
                let one = read::read_one(text, Keys::Text);
                let saphyr = saphyr_one(text).ok();
                match one {
                    Ok(value) if Some(&value) == saphyr.as_ref() => fast += 1,
                    Ok(value) => {
                        failures.push(format!("{}: {value} vs {saphyr:?}", file.display()))
                    }
                    Err(read::Unsupported) if saphyr.is_some() => {
                        println!("handed over a readable document: {}", file.display());
                        handed_over += 1;
                    }
                    Err(read::Unsupported) => {}
                }
            }
            match (read::read_all(&text, Keys::Text), saphyr_multi(&text).ok()) {
                (Ok(values), Some(want)) if values == want => fast += 1,
                (Err(read::Unsupported), None) => {}
                (Err(read::Unsupported), Some(_)) => handed_over += 1,
                (got, want) => {
                    failures.push(format!("{} (stream): {got:?} vs {want:?}", file.display()))
                }
            }
        }
        println!(
            "{} files: {fast} documents read fast, {handed_over} readable ones handed over",
            files.len()
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(
            fast > 10 * handed_over,
            "the fast reader should read nearly every readable document"
        );
    }

    fn collect_yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
}
