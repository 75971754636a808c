//! Dropping what never means anything to a reviewer: server bookkeeping, status, and the paths
//! the user asked to ignore.

use serde_json::Value;

/// Metadata fields the server owns.
const SERVER_METADATA: [&str; 6] = [
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Annotations written by tools or controllers, not by the chart. The first one copies the whole
/// object, Secret data included, so it must never be shown.
const NOISE_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// A field path to drop from both sides, e.g. `metadata.labels.helm\.sh/chart` (`\.` escapes a
/// dot inside a key; a leading `.` or `$.` is allowed; numbers index lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePath(Vec<String>);

impl IgnorePath {
    /// Parses a path; `None` when it names nothing.
    pub fn parse(text: &str) -> Option<IgnorePath> {
        let text = text.trim();
        let text = text.strip_prefix('$').unwrap_or(text);
        let text = text.strip_prefix('.').unwrap_or(text);
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'.') => {
                    current.push('.');
                    chars.next();
                }
                '.' => segments.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        segments.push(current);
        if segments.iter().any(String::is_empty) {
            return None;
        }
        Some(IgnorePath(segments))
    }

    fn remove_from(&self, value: &mut Value) {
        let Some((last, parents)) = self.0.split_last() else {
            return;
        };
        let mut node = value;
        for segment in parents {
            let next = match node {
                Value::Object(map) => map.get_mut(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return,
            }
        }
        match node {
            Value::Object(map) => {
                map.remove(last);
            }
            Value::Array(items) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Returns `object` without server bookkeeping, status, noise annotations and ignored paths.
pub fn normalize(mut object: Value, ignore: &[IgnorePath]) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            meta.remove(field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for a in NOISE_ANNOTATIONS {
                annotations.remove(a);
            }
        }
    }
    for path in ignore {
        path.remove_from(&mut object);
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["annotations", "labels"] {
            if meta
                .get(key)
                .is_some_and(|v| v.as_object().is_some_and(|m| m.is_empty()) || v.is_null())
            {
                meta.remove(key);
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_server_fields_and_last_applied() {
        let object = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "uid": "x", "resourceVersion": "9", "managedFields": [],
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "data": {"k": "v"}, "status": {}
        });
        assert_eq!(
            normalize(object, &[]),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn ignore_path_handles_escaped_dots() {
        let path = IgnorePath::parse("metadata.labels.helm\\.sh/chart").unwrap();
        let object =
            json!({"metadata": {"name": "a", "labels": {"helm.sh/chart": "web-1", "app": "web"}}});
        assert_eq!(
            normalize(object, &[path]),
            json!({"metadata": {"name": "a", "labels": {"app": "web"}}})
        );
    }

    #[test]
    fn ignore_path_rejects_empty_segments() {
        assert!(IgnorePath::parse("a..b").is_none());
        assert!(IgnorePath::parse("").is_none());
        assert_eq!(
            IgnorePath::parse("$.spec.replicas"),
            IgnorePath::parse("spec.replicas")
        );
    }
}
