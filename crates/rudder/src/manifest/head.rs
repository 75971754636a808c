//! A fast reader of a manifest's head: walks the YAML parser's events once, checking that the
//! whole document is valid YAML, and keeps only `apiVersion`, `kind` and the `metadata` fields
//! a [`Head`](super::Head) needs, without building a value tree.
//!
//! It must agree exactly with reading the document through [`crate::yaml::from_str`] and then
//! looking the fields up in the value. It drives the same parser (granit-parser, the one
//! serde-saphyr uses) with the same options, so it accepts and rejects the same texts. Whatever
//! the value reader might treat specially (aliases and anchors, tags, merge keys, keys that are
//! not plain strings, plain scalars that are numbers or non-finite floats where the head needs a
//! string, budget limits, syntax errors) makes it answer [`Scan::Unsure`], and the caller reads
//! the document the slow way: that keeps every error and every odd case identical.

use std::borrow::Cow;
use std::collections::BTreeMap;

use granit_parser::{Event, Parser, ScalarStyle};

/// The head fields of a document whose root is a mapping. `None` is what `as_str` gives for a
/// missing or non-string value.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// `None` when `metadata` is missing or not a mapping.
    pub metadata: Option<MetadataFields>,
}

/// The `metadata` fields of a head.
#[derive(Debug, Default, PartialEq)]
pub(super) struct MetadataFields {
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
    /// `None` when `annotations` is missing or not a mapping; string values only.
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What the fast reader made of a document.
#[derive(Debug, PartialEq)]
pub(super) enum Scan {
    /// Valid YAML whose value is null: only comments, or a plain `~`/`null`.
    Null,
    /// Valid YAML whose root is a mapping.
    Mapping(Fields),
    /// Something the fast reader does not model: read the whole document instead.
    Unsure,
}

/// serde-saphyr's default budget (`serde_saphyr::Budget`), which a value read enforces. The
/// fast reader gives up a little before any of them so that the slow read reports the breach.
const MAX_EVENTS: usize = 1_000_000 - 1_000;
const MAX_NODES: usize = 250_000 - 1_000;
const MAX_DEPTH: usize = 64 - 4;
const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024 - 1024;

/// The parser options serde-saphyr derives from its default `Options` and `Budget`: identical
/// options make the parser accept and reject exactly what a value read accepts and rejects
/// (comment events included: a long run of buffered comments is an error there too).
fn parser_options() -> granit_parser::Options {
    let defaults = granit_parser::Options::default();
    granit_parser::options! {
        simple_key_max_lookahead: 1024,
        flow_nesting_limit: 255,
        block_nesting_limit: defaults.block_nesting_limit.max(64 + 1),
        emit_comments: true,
        max_buffered_comment_events: 32,
        strict_indentation: false,
        bom_inside_document_as_content: false,
    }
}

/// Where in the document a collection sits, as far as the head is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Root,
    Metadata,
    Annotations,
    /// Anywhere else: only validated.
    Elsewhere,
}

/// What the document's root turned out to be.
enum Root {
    /// No document at all: only comments.
    Missing,
    Null,
    Mapping,
}

/// The key whose value comes next in a head mapping.
#[derive(Debug)]
enum Slot {
    ApiVersion,
    Kind,
    Metadata,
    Name,
    GenerateName,
    Namespace,
    Annotations,
    Annotation(String),
    Ignored,
}

#[derive(Debug)]
enum Frame {
    Sequence,
    Mapping {
        place: Place,
        /// `None` while a key is expected; the pending key's slot while its value is expected.
        slot: Option<Slot>,
    },
}

/// How a scalar reads as a head value.
enum Text {
    String(String),
    /// null, a boolean or a number: missing, as `as_str` sees it.
    NotString,
    /// Might be a number or something stranger: the slow read decides.
    Unsure,
}

/// Reads the head of one document (see the module documentation).
pub(super) fn scan(content: &str) -> Scan {
    scan_events(content).unwrap_or(Scan::Unsure)
}

/// `None` means unsure.
fn scan_events(content: &str) -> Option<Scan> {
    let mut fields = Fields::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut documents = 0usize;
    let mut root = Root::Missing;
    let (mut events, mut nodes, mut text_bytes) = (0usize, 0usize, 0usize);
    for next in Parser::new_from_str_with_options(content, parser_options()) {
        let (event, _span) = next.ok()?;
        events += 1;
        if events > MAX_EVENTS {
            return None;
        }
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    // A second document: `from_str` reads streams its own way.
                    return None;
                }
            }
            Event::Comment(text, _) => {
                text_bytes += text.len();
                if text_bytes > MAX_TEXT_BYTES {
                    return None;
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                text_bytes += value.len();
                if anchor != 0 || tag.is_some() || nodes > MAX_NODES || text_bytes > MAX_TEXT_BYTES
                {
                    return None;
                }
                match stack.last_mut() {
                    None => {
                        // A scalar document: only a plain null is worth answering here.
                        if style != ScalarStyle::Plain || !is_null(&value) {
                            return None;
                        }
                        root = Root::Null;
                    }
                    Some(Frame::Sequence) => check_plain(&value, style)?,
                    Some(Frame::Mapping { place, slot }) => match slot.take() {
                        None => *slot = Some(key_slot(*place, value, style)?),
                        Some(pending) => {
                            check_plain(&value, style)?;
                            let text = match pending {
                                Slot::Ignored => continue,
                                _ => head_text(value, style),
                            };
                            store_scalar(&mut fields, pending, text)?;
                        }
                    },
                }
            }
            Event::MappingStart(_, anchor, tag) | Event::SequenceStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                return None;
            }
            Event::MappingStart(..) => {
                nodes += 1;
                if nodes > MAX_NODES || stack.len() >= MAX_DEPTH {
                    return None;
                }
                let place = match stack.last_mut() {
                    None => {
                        root = Root::Mapping;
                        Place::Root
                    }
                    Some(Frame::Sequence) => Place::Elsewhere,
                    Some(Frame::Mapping { slot, .. }) => match slot.take() {
                        // A mapping as a key: not something a JSON value can hold.
                        None => return None,
                        Some(pending) => open_mapping(&mut fields, pending),
                    },
                };
                stack.push(Frame::Mapping { place, slot: None });
            }
            Event::SequenceStart(..) => {
                nodes += 1;
                if nodes > MAX_NODES || stack.len() >= MAX_DEPTH {
                    return None;
                }
                match stack.last_mut() {
                    // A list document: the slow read reports it.
                    None => return None,
                    Some(Frame::Sequence) => {}
                    Some(Frame::Mapping { slot, .. }) => match slot.take() {
                        None => return None,
                        Some(pending) => store_other(&mut fields, pending),
                    },
                }
                stack.push(Frame::Sequence);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop()?;
            }
            // Aliases, and any event this reader does not know.
            _ => return None,
        }
    }
    Some(match root {
        Root::Missing | Root::Null => Scan::Null,
        Root::Mapping => Scan::Mapping(fields),
    })
}

/// The slot of a key in a mapping at `place`. A value read takes every key's text as it is,
/// except that a plain null key (`~`, `null`, nothing) is an error and a plain `<<` merges a
/// mapping in: `None` (unsure) for those.
fn key_slot(place: Place, key: Cow<'_, str>, style: ScalarStyle) -> Option<Slot> {
    if style == ScalarStyle::Plain && (is_null(&key) || key == "<<") {
        return None;
    }
    Some(match place {
        Place::Elsewhere => Slot::Ignored,
        Place::Root => match key.as_ref() {
            "apiVersion" => Slot::ApiVersion,
            "kind" => Slot::Kind,
            "metadata" => Slot::Metadata,
            _ => Slot::Ignored,
        },
        Place::Metadata => match key.as_ref() {
            "name" => Slot::Name,
            "generateName" => Slot::GenerateName,
            "namespace" => Slot::Namespace,
            "annotations" => Slot::Annotations,
            _ => Slot::Ignored,
        },
        Place::Annotations => Slot::Annotation(key.into_owned()),
    })
}

/// Fails (unsure) on a plain scalar a value read rejects: non-finite floats (`.inf`, `.nan`,
/// `1e999`) are errors for serde-saphyr's typeless reads.
fn check_plain(value: &str, style: ScalarStyle) -> Option<()> {
    if style == ScalarStyle::Plain && may_be_non_finite(value) {
        return None;
    }
    Some(())
}

fn may_be_non_finite(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned.as_bytes().first() {
        Some(b'.') => {
            let lower = unsigned.to_ascii_lowercase();
            lower == ".inf" || lower == ".nan"
        }
        Some(b) if b.is_ascii_digit() => {
            // Only an exponent or hundreds of digits can overflow an f64.
            (unsigned.len() > 300 || unsigned.contains(['e', 'E']))
                && text.parse::<f64>().is_ok_and(|v| !v.is_finite())
        }
        _ => false,
    }
}

/// How a scalar reads where the head wants a string, as serde-saphyr resolves plain scalars
/// (YAML 1.1 booleans like Go, `~`/`null`/empty as null). Plain scalars that begin like a
/// number are left to the slow read.
fn head_text(value: Cow<'_, str>, style: ScalarStyle) -> Text {
    if style != ScalarStyle::Plain {
        return Text::String(value.into_owned());
    }
    if is_null(&value) || is_yaml11_bool(&value) {
        return Text::NotString;
    }
    match value.as_bytes().first() {
        Some(b'0'..=b'9' | b'+' | b'-' | b'.') => Text::Unsure,
        _ => Text::String(value.into_owned()),
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn is_yaml11_bool(text: &str) -> bool {
    ["y", "yes", "true", "on", "n", "no", "false", "off"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word))
}

/// Stores a scalar value met in a head slot (the last duplicate key wins, as in a value read).
fn store_scalar(fields: &mut Fields, slot: Slot, text: Text) -> Option<()> {
    let text = match text {
        Text::String(s) => Some(s),
        Text::NotString => None,
        Text::Unsure => return None,
    };
    match slot {
        Slot::ApiVersion => fields.api_version = text,
        Slot::Kind => fields.kind = text,
        Slot::Metadata => fields.metadata = None,
        Slot::Name => metadata(fields).name = text,
        Slot::GenerateName => metadata(fields).generate_name = text,
        Slot::Namespace => metadata(fields).namespace = text,
        Slot::Annotations => metadata(fields).annotations = None,
        Slot::Annotation(key) => {
            let annotations = metadata(fields).annotations.get_or_insert_default();
            match text {
                Some(value) => annotations.insert(key, value),
                None => annotations.remove(&key),
            };
        }
        Slot::Ignored => {}
    }
    Some(())
}

/// A sequence met in a head slot: the field is not a string (or not a mapping).
fn store_other(fields: &mut Fields, slot: Slot) {
    match slot {
        Slot::Annotation(key) => {
            if let Some(annotations) = &mut metadata(fields).annotations {
                annotations.remove(&key);
            }
        }
        // None of the string fields can be a list, nor can metadata or annotations be one.
        other => {
            let _ = store_scalar(fields, other, Text::NotString);
        }
    }
}

/// A mapping met in a head slot: the place its keys belong to.
fn open_mapping(fields: &mut Fields, slot: Slot) -> Place {
    match slot {
        Slot::Metadata => {
            fields.metadata = Some(MetadataFields::default());
            Place::Metadata
        }
        Slot::Annotations => {
            metadata(fields).annotations = Some(BTreeMap::new());
            Place::Annotations
        }
        other => {
            store_other(fields, other);
            Place::Elsewhere
        }
    }
}

/// The metadata being read: a `metadata` mapping is open whenever its keys are met.
fn metadata(fields: &mut Fields) -> &mut MetadataFields {
    fields.metadata.get_or_insert_default()
}
