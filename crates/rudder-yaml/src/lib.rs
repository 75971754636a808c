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

/// How deep YAML collections may nest. Go's YAML reader (Helm's) stops at 10000, but every later
/// step (coalescing, templates, storage) walks values recursively, and a debug build overflowed
/// an 8 MiB main-thread stack at 4000 levels (2000 passed): 1000 keeps a wide margin, and is
/// still fifteen times deeper than any chart's values.
pub const MAX_DEPTH: usize = 1_000;
/// How many nodes (scalars, lists, maps) one YAML document may hold: more than any file within
/// the input file cap can hold (two bytes a node), so the cap decides for files, and this bounds
/// the memory of a rendered manifest.
pub const MAX_NODES: usize = 5_000_000;

impl YamlError {
    fn from_saphyr(err: serde_saphyr::Error) -> Self {
        let (line, column) = err
            .location()
            .map(|loc| (loc.line() as usize, loc.column() as usize))
            .unwrap_or((0, 0));
        if let serde_saphyr::Error::Budget { breach, .. } = innermost(&err) {
            return YamlError {
                line,
                column,
                message: budget_message(breach),
            };
        }
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

/// The error under snippet and alias wrappers: a limit breached while replaying an alias
/// arrives wrapped in the alias's locations.
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

/// A breached reading limit in words: which limit, its number, and what to do.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => format!(
            "nested more than {MAX_DEPTH} levels deep (rudder's fixed limit for YAML nesting)"
        ),
        B::Nodes { .. } | B::Events { .. } => format!(
            "holds more than {MAX_NODES} YAML nodes (rudder's fixed limit for one document); split it into several files"
        ),
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. } => {
            "expands aliases (*name) far more than it defines anchors (&name), as a YAML bomb does; write the values out instead".to_string()
        }
        B::Documents { documents } => {
            format!("holds more than {} YAML documents (rudder's fixed limit)", documents - 1)
        }
        B::ScalarBytes { .. } => {
            "holds more than 64 MiB of text (rudder's fixed limit for one YAML document)".to_string()
        }
        // Never a Debug dump: the user can act on "which file", not on a field name.
        _ => "exceeds a fixed size limit of rudder's YAML reader; split or simplify it".to_string(),
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
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_events: 2 * MAX_NODES,
        },
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
    on_deep_stack(text, || {
        serde_saphyr::from_str_with_options(text, read_options()).map_err(YamlError::from_saphyr)
    })
}

/// Below this nesting documents are read on the calling thread; above it, each level costs
/// serde-saphyr about 8 KiB of stack in a debug build (an 8 MiB stack overflowed at 1000 levels).
const SHALLOW_DEPTH: usize = 64;
/// Stack for serde-saphyr on a document nested up to [`MAX_DEPTH`] levels.
const DEEP_STACK_BYTES: usize = 256 << 20;

/// Runs serde-saphyr's `read` of `text`, after a flat pass over its events that refuses nesting
/// past [`MAX_DEPTH`] before serde-saphyr's recursion could overflow the stack on the way there,
/// and on a thread with a large stack when the document nests deeper than [`SHALLOW_DEPTH`].
/// Only documents the fast reader hands over come here, so the extra pass costs the common path
/// nothing.
fn on_deep_stack<T: Send>(
    text: &str,
    read: impl FnOnce() -> Result<T, YamlError> + Send,
) -> Result<T, YamlError> {
    if nesting_depth(text)? < SHALLOW_DEPTH {
        return read();
    }
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("yaml-deep".to_string())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, read)
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(error) => Err(YamlError {
                line: 0,
                column: 0,
                message: format!("cannot start a thread to read a deeply nested document: {error}"),
            }),
        }
    })
}

/// How deep `text`'s collections nest, or the error at the first node past [`MAX_DEPTH`].
/// Syntax errors end the count: serde-saphyr reports them.
fn nesting_depth(text: &str) -> Result<usize, YamlError> {
    use granit_parser::{Event, Parser, StrInput};
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(false);
    options.block_nesting_limit = MAX_DEPTH + 1;
    options.flow_nesting_limit = MAX_DEPTH + 1;
    let mut parser = Parser::with_options(StrInput::new(text), options);
    let (mut depth, mut deepest) = (0usize, 0usize);
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                deepest = deepest.max(depth);
                if depth > MAX_DEPTH {
                    return Err(YamlError {
                        line: span.start.line(),
                        column: span.start.col() + 1,
                        message: budget_message(&serde_saphyr::budget::BudgetBreach::Depth {
                            depth,
                        }),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(deepest)
}

/// Deserialises one YAML document into `T`, reading it like [`from_str`] does; type errors carry
/// the position of the offending node.
pub fn from_str_as<T: serde::de::DeserializeOwned + Send>(text: &str) -> Result<T, YamlError> {
    on_deep_stack(text, || {
        serde_saphyr::from_str_with_options(text, read_options()).map_err(YamlError::from_saphyr)
    })
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
    on_deep_stack(text, || {
        serde_saphyr::from_multiple_with_options(text, read_options())
            .map_err(YamlError::from_saphyr)
    })
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
    fn nesting_past_the_limit_is_refused_in_words_without_overflowing_the_stack() {
        for deep in [
            "- ".repeat(MAX_DEPTH + 1) + "x",
            "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1),
        ] {
            let err = from_str(&deep).unwrap_err();
            assert_eq!(
                err.message,
                "nested more than 1000 levels deep (rudder's fixed limit for YAML nesting)"
            );
        }
        let fine = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(from_str(&fine).is_ok());
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
        // The repository's root, two levels above this crate.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
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
