//! Manifests: split rendered templates into documents, parse their heads, order them in Helm's
//! install order, and separate hooks.
//!
//! The algorithm is Helm's (`releaseutil.SortManifests`) so that `rudder template` prints what
//! `helm template` prints, byte for byte, and so that the manifest stored in a release is the one
//! Helm would store:
//! 1. skip partials (`_*`), `NOTES.txt` and whitespace-only outputs; walk template paths in byte order;
//! 2. split each file on Helm's separator `(?:^|\s*\n)---\s*`, drop blank documents;
//! 3. documents annotated `helm.sh/hook` are hooks (unknown hook events drop the document, as in Helm);
//! 4. stable-sort manifests, and separately hooks, by the kind order (unknown kinds last, by kind).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

mod head;
mod order;
use head::{Fields, MetadataFields, Scan};
pub use order::{sort_by_kind, KindOrder, INSTALL_ORDER, UNINSTALL_ORDER};

/// The annotation that makes a document a hook.
pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
/// The annotation giving a hook's weight (an integer written as a string).
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
/// The annotation listing when a hook resource is deleted.
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "helm.sh/hook-delete-policy";

/// What identifies a Kubernetes object: the fields every manifest must carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    /// `metadata.name`, or `metadata.generateName` when only that is set.
    pub name: String,
    pub namespace: Option<String>,
    /// `metadata.annotations` that are strings.
    pub annotations: BTreeMap<String, String>,
}

/// One YAML document of a rendered template.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Template path the document came from (`CHART/templates/x.yaml`).
    pub source: String,
    /// The document text as Helm stores it (left-trimmed, no separator).
    pub content: String,
    /// The document's head; `None` for a document holding only comments.
    pub head: Option<Head>,
    /// 1-based line of the document's first line in its template output.
    pub line: usize,
}

impl Document {
    /// The kind, or `""` for a comment-only document.
    pub fn kind(&self) -> &str {
        self.head.as_ref().map_or("", |h| h.kind.as_str())
    }
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreDelete,
    PostDelete,
    PreUpgrade,
    PostUpgrade,
    PreRollback,
    PostRollback,
    Test,
}

impl HookEvent {
    /// Parses a `helm.sh/hook` event name (Helm's legacy `test-success` is `test`).
    pub fn parse(name: &str) -> Option<HookEvent> {
        Some(match name {
            "pre-install" => HookEvent::PreInstall,
            "post-install" => HookEvent::PostInstall,
            "pre-delete" => HookEvent::PreDelete,
            "post-delete" => HookEvent::PostDelete,
            "pre-upgrade" => HookEvent::PreUpgrade,
            "post-upgrade" => HookEvent::PostUpgrade,
            "pre-rollback" => HookEvent::PreRollback,
            "post-rollback" => HookEvent::PostRollback,
            "test" | "test-success" => HookEvent::Test,
            _ => return None,
        })
    }

    /// The event's name as written in `helm.sh/hook`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreDelete => "pre-delete",
            HookEvent::PostDelete => "post-delete",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }
}

/// A document annotated as a hook: not part of the release manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub document: Document,
    /// Events in the order the annotation lists them.
    pub events: Vec<HookEvent>,
    /// `helm.sh/hook-weight`; 0 when absent or not an integer (as in Helm).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries; empty means Helm's default `before-hook-creation`.
    pub delete_policies: Vec<String>,
}

/// Rendered templates sorted into manifests and hooks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortedManifests {
    /// Ordinary resources, in the requested kind order.
    pub manifests: Vec<Document>,
    /// Hook resources, in the requested kind order.
    pub hooks: Vec<Hook>,
}

/// A rendered document that is not a usable Kubernetes object.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The document is not valid YAML.
    #[error("{source_path}:{line}:{column}: the rendered document is not valid YAML: {message}")]
    Yaml {
        source_path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The document parses but is not a Kubernetes object.
    #[error("{source_path}:{line}: the rendered document is not a Kubernetes object: {problem}")]
    NotAnObject {
        source_path: String,
        line: usize,
        problem: String,
    },
}

/// Go's `\s` without `\v`, as in Helm's separator regex.
fn is_go_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Byte ranges of Helm's document separators, the leftmost-first matches of
/// `(?:^|\s*\n)---\s*`, found without compiling a regex (which costs more than splitting).
fn separators(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && is_go_space(bytes[i]) {
            i += 1;
        }
        i
    };
    let mut found = Vec::new();
    let mut pos = 0;
    if text.starts_with("---") {
        pos = skip_space(3);
        found.push((0, pos));
    }
    // Rendered CRDs run to megabytes: a vectorised search, built once.
    let finder = memchr::memmem::Finder::new("\n---");
    while let Some(offset) = finder.find(&bytes[pos..]) {
        let newline = pos + offset;
        let mut start = newline;
        while start > pos && is_go_space(bytes[start - 1]) {
            start -= 1;
        }
        let end = skip_space(newline + 4);
        found.push((start, end));
        pos = end;
    }
    found
}

/// Splits one rendered template into its documents as Helm 4 does: split on the separator,
/// left-trim each piece (trailing newlines stay, as in `helm template` output), drop blank ones.
/// Each document comes with the 1-based line it starts on.
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pieces = Vec::new();
    for (from, to) in separators(text) {
        pieces.push((start, &text[start..from]));
        start = to;
    }
    pieces.push((start, &text[start..]));
    // Lines are counted from the previous document on, not from the top each time.
    let (mut counted_to, mut line) = (0, 1);
    for (offset, piece) in pieces {
        let trimmed = piece.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        let at = offset + piece.len() - trimmed.len();
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..at]).count();
        counted_to = at;
        docs.push((line, trimmed.to_string()));
    }
    docs
}

/// Whether a template path is a partial (`_*`), rendering nothing itself.
pub fn is_partial(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|base| base.starts_with('_'))
}

/// Whether a template path is a chart's NOTES.txt (printed, never applied).
pub fn is_notes(path: &str) -> bool {
    path.ends_with("templates/NOTES.txt")
}

/// Reads a document's head. Comment-only documents have none; anything else must be a mapping
/// with `apiVersion`, `kind` and `metadata.name` (or `metadata.generateName`).
///
/// The whole document must be valid YAML, but only the head is kept: no value is built unless
/// the document holds something the fast reader leaves to a full read (see [`parse_object`]),
/// which then decides, so both ways give the same answer and the same errors.
pub fn parse_head(source: &str, line: usize, content: &str) -> Result<Option<Head>, ManifestError> {
    match head::scan(content) {
        Scan::Null => Ok(None),
        Scan::Mapping(fields) => head_of_fields(source, line, fields).map(Some),
        Scan::Unsure => Ok(parse_object(source, line, content)?.map(|(head, _)| head)),
    }
}

/// Reads a whole document into a value, with its head checked as [`parse_head`] does; `None`
/// for a comment-only (null) document. For callers that need the object itself.
pub fn parse_object(
    source: &str,
    line: usize,
    content: &str,
) -> Result<Option<(Head, Value)>, ManifestError> {
    let value = crate::yaml::from_str(content).map_err(|e| ManifestError::Yaml {
        source_path: source.to_string(),
        line: line + e.line.saturating_sub(1),
        column: e.column,
        message: e.message,
    })?;
    let fields = match &value {
        Value::Null => return Ok(None),
        Value::Object(map) => fields_of_map(map),
        other => {
            return Err(ManifestError::NotAnObject {
                source_path: source.to_string(),
                line,
                problem: format!(
                    "expected a mapping with apiVersion, kind and metadata, got {}",
                    describe(other)
                ),
            })
        }
    };
    let head = head_of_fields(source, line, fields)?;
    Ok(Some((head, value)))
}

/// The head fields of a document read into a value: what `as_str` finds.
fn fields_of_map(map: &serde_json::Map<String, Value>) -> Fields {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let metadata = map.get("metadata").and_then(Value::as_object);
    Fields {
        api_version: text(map.get("apiVersion")),
        kind: text(map.get("kind")),
        metadata: metadata.map(|m| MetadataFields {
            name: text(m.get("name")),
            generate_name: text(m.get("generateName")),
            namespace: text(m.get("namespace")),
            annotations: m.get("annotations").and_then(Value::as_object).map(|a| {
                a.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            }),
        }),
    }
}

/// Checks that the fields make a Kubernetes object's head.
fn head_of_fields(source: &str, line: usize, fields: Fields) -> Result<Head, ManifestError> {
    let metadata = fields.metadata.unwrap_or_default();
    let api_version = fields.api_version.unwrap_or_default();
    let kind = fields.kind.unwrap_or_default();
    let mut name = metadata.name.unwrap_or_default();
    if name.is_empty() {
        name = metadata.generate_name.unwrap_or_default();
    }
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion");
    }
    if kind.is_empty() {
        missing.push("kind");
    }
    if name.is_empty() {
        missing.push("metadata.name");
    }
    if !missing.is_empty() {
        return Err(ManifestError::NotAnObject {
            source_path: source.to_string(),
            line,
            problem: format!("missing {}", missing.join(", ")),
        });
    }
    Ok(Head {
        api_version,
        kind,
        name,
        namespace: metadata.namespace.filter(|ns| !ns.is_empty()),
        annotations: metadata.annotations.unwrap_or_default(),
    })
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a plain string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Above this much rendered text, document heads are read on two threads: below it, starting a
/// thread costs more than it saves.
const PARALLEL_TEXT_BYTES: usize = 64 * 1024;

/// A document split from a template's output, with its head once read.
struct Piece<'a> {
    source: &'a str,
    line: usize,
    content: String,
    head: Option<HeadResult>,
}

/// Reads the heads of the `pieces` not yet read. Much unread text is read on two threads, each
/// taking a contiguous half (by bytes); errors stay with their piece, so the caller reports the
/// first one in document order either way.
fn read_heads(pieces: &mut [Piece<'_>]) {
    let read = |part: &mut [Piece<'_>]| {
        for p in part.iter_mut().filter(|p| p.head.is_none()) {
            p.head = Some(parse_head(p.source, p.line, &p.content));
        }
    };
    let unread = |p: &Piece<'_>| if p.head.is_none() { p.content.len() } else { 0 };
    let total: usize = pieces.iter().map(unread).sum();
    if total <= PARALLEL_TEXT_BYTES || pieces.len() < 2 {
        return read(pieces);
    }
    let mut seen = 0;
    let middle = pieces
        .iter()
        .position(|p| {
            seen += unread(p);
            seen * 2 >= total
        })
        .map_or(pieces.len() / 2, |i| i + 1)
        .clamp(1, pieces.len() - 1);
    let (first, second) = pieces.split_at_mut(middle);
    std::thread::scope(|scope| {
        let later = scope.spawn(|| read(second));
        read(first);
        // A panic while reading is a bug in the reader: surface it unchanged.
        later
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
    });
}

/// Splits, parses and sorts rendered templates into manifests and hooks (Helm's `SortManifests`).
/// `files` maps template paths to rendered text; partials, NOTES.txt and blank outputs are skipped.
pub fn sort_manifests(
    files: &BTreeMap<String, String>,
    order: KindOrder,
) -> Result<SortedManifests, ManifestError> {
    sort_read_manifests(files, HashMap::new(), order)
}

/// One rendered template split into documents with their heads read, ahead of
/// [`sort_read_manifests`]: a caller can read each template while later ones still render.
#[derive(Debug, Default)]
pub struct ReadTemplate {
    docs: Vec<(usize, String, HeadResult)>,
}

type HeadResult = Result<Option<Head>, ManifestError>;

/// Splits `text`, the output of template `path`, and reads each document's head. Errors are
/// kept, not returned: [`sort_read_manifests`] reports the first one in Helm's file order.
pub fn read_template(path: &str, text: &str) -> ReadTemplate {
    if skipped(path, text) {
        return ReadTemplate::default();
    }
    let docs = split_documents(text)
        .into_iter()
        .map(|(line, content)| {
            let head = parse_head(path, line, &content);
            (line, content, head)
        })
        .collect();
    ReadTemplate { docs }
}

/// [`sort_manifests`], taking the templates already read with [`read_template`] from `read`
/// (keyed by path, each read from exactly the text `files` holds) and reading the rest.
pub fn sort_read_manifests(
    files: &BTreeMap<String, String>,
    mut read: HashMap<String, ReadTemplate>,
    order: KindOrder,
) -> Result<SortedManifests, ManifestError> {
    let mut pieces = Vec::new();
    for (path, text) in files {
        if skipped(path, text) {
            continue;
        }
        match read.remove(path) {
            Some(done) => pieces.extend(done.docs.into_iter().map(|(line, content, head)| Piece {
                source: path,
                line,
                content,
                head: Some(head),
            })),
            None => pieces.extend(
                split_documents(text)
                    .into_iter()
                    .map(|(line, content)| Piece {
                        source: path,
                        line,
                        content,
                        head: None,
                    }),
            ),
        }
    }
    read_heads(&mut pieces);
    let mut sorted = SortedManifests::default();
    for piece in pieces {
        let head = match piece.head {
            Some(head) => head?,
            // read_heads filled every piece; reading again here only guards that promise.
            None => parse_head(piece.source, piece.line, &piece.content)?,
        };
        let document = Document {
            source: piece.source.to_string(),
            content: piece.content,
            head,
            line: piece.line,
        };
        match hook_of(document) {
            Classified::Manifest(doc) => sorted.manifests.push(doc),
            Classified::Hook(hook) => sorted.hooks.push(hook),
            Classified::Dropped => {}
        }
    }
    sort_by_kind(&mut sorted.manifests, order, Document::kind);
    sort_by_kind(&mut sorted.hooks, order, |h| h.document.kind());
    Ok(sorted)
}

/// Partials, NOTES.txt and whitespace-only outputs hold no manifests.
fn skipped(path: &str, text: &str) -> bool {
    is_partial(path) || is_notes(path) || text.trim().is_empty()
}

enum Classified {
    Manifest(Document),
    Hook(Hook),
    /// A hook with an event Helm does not know: Helm drops it from both lists.
    Dropped,
}

fn hook_of(document: Document) -> Classified {
    let Some(head) = &document.head else {
        return Classified::Manifest(document);
    };
    let Some(events) = head.annotations.get(HOOK_ANNOTATION) else {
        return Classified::Manifest(document);
    };
    let mut parsed = Vec::new();
    for event in events.split(',') {
        match HookEvent::parse(&event.trim().to_lowercase()) {
            Some(e) => parsed.push(e),
            None => return Classified::Dropped,
        }
    }
    let weight = head
        .annotations
        .get(HOOK_WEIGHT_ANNOTATION)
        .and_then(|w| w.parse::<i64>().ok())
        .unwrap_or(0);
    let delete_policies = head
        .annotations
        .get(HOOK_DELETE_POLICY_ANNOTATION)
        .map(|p| {
            p.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Classified::Hook(Hook {
        document,
        events: parsed,
        weight,
        delete_policies,
    })
}

/// Writes documents as Helm prints them: `---\n# Source: PATH\n<doc>\n` each.
pub fn write_documents<'a>(docs: impl IntoIterator<Item = &'a Document>) -> String {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n# Source: ");
        out.push_str(&doc.source);
        out.push('\n');
        out.push_str(&doc.content);
        out.push('\n');
    }
    out
}

/// The release manifest as Helm stores it: every non-hook document in install order.
pub fn release_manifest(sorted: &SortedManifests) -> String {
    write_documents(&sorted.manifests)
}

/// Exactly what `helm template` prints: the manifests block trimmed plus a newline, then hooks.
pub fn template_output(sorted: &SortedManifests, include_hooks: bool) -> String {
    let mut out = release_manifest(sorted).trim().to_string();
    out.push('\n');
    if include_hooks {
        out.push_str(&write_documents(sorted.hooks.iter().map(|h| &h.document)));
    }
    out
}

#[cfg(test)]
mod tests;
