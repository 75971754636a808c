//! From chart and values to the release's manifest, hooks and notes (chart → values → render →
//! manifest), with the cluster's capabilities and live `lookup`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::cluster::{Cluster, ObjectRef};
use crate::manifest::{self, KindOrder, SortedManifests};
use crate::render::{
    self, Capabilities, KubeVersion, Lookup, ReleaseInfo, RenderOptions, Rendered,
};

use super::storage;
use super::ReleaseError;

/// A chart rendered for one revision.
#[derive(Debug, Clone)]
pub struct RenderedRelease {
    /// Manifests and hooks in Helm's install order.
    pub sorted: SortedManifests,
    /// The release manifest as Helm stores it (`---\n# Source: ...` documents).
    pub manifest: String,
    /// The chart's rendered NOTES.txt (top-level chart only, as Helm by default).
    pub notes: String,
    /// Hooks as stored in the release.
    pub hooks: Vec<storage::Hook>,
}

/// The capabilities templates see: the cluster's version and APIs, or Helm's offline defaults.
pub async fn capabilities(cluster: Option<&Cluster>) -> Result<Capabilities, ReleaseError> {
    let Some(cluster) = cluster else {
        return Ok(offline_capabilities());
    };
    // Two independent round trips: asked at once.
    let ((major, minor, git_version), api_versions) =
        tokio::try_join!(cluster.server_version(), cluster.api_versions())?;
    Ok(Capabilities {
        kube_version: KubeVersion {
            version: git_version,
            major,
            minor: minor.trim_end_matches('+').to_string(),
        },
        api_versions,
    })
}

fn offline_capabilities() -> Capabilities {
    Capabilities::default()
}

/// Renders `chart` and sorts its output in install order, reading each template's documents
/// as soon as it is rendered, while later templates render on the render thread.
pub(crate) fn render_sorted<E>(
    chart: &Chart,
    values: &Value,
    options: &RenderOptions,
) -> Result<(Rendered, SortedManifests), E>
where
    E: From<render::RenderError> + From<manifest::ManifestError>,
{
    let mut read = HashMap::new();
    let rendered = render::render_each(chart, values, options, &mut |path, text| {
        read.insert(path.to_string(), manifest::read_template(path, text));
    })?;
    let sorted = manifest::sort_read_manifests(&rendered.files, read, KindOrder::Install)?;
    Ok((rendered, sorted))
}

/// Renders `chart` with `values` and sorts the output into manifests and hooks.
pub fn render_release(
    chart: &Chart,
    values: &Value,
    release: ReleaseInfo,
    capabilities: Capabilities,
    env: Option<String>,
    lookup: Option<Arc<dyn Lookup>>,
) -> Result<RenderedRelease, ReleaseError> {
    let options = RenderOptions {
        release,
        capabilities,
        env,
        lookup,
    };
    let (rendered, sorted) = render_sorted::<ReleaseError>(chart, values, &options)?;
    let notes_key = format!("{}/templates/NOTES.txt", chart.name());
    let notes = rendered.files.get(&notes_key).cloned().unwrap_or_default();
    let manifest = manifest::release_manifest(&sorted);
    let hooks = sorted
        .hooks
        .iter()
        .map(|h| storage::Hook {
            name: h
                .document
                .head
                .as_ref()
                .map(|head| head.name.clone())
                .unwrap_or_default(),
            kind: h.document.kind().to_string(),
            path: h.document.source.clone(),
            manifest: h.document.content.clone(),
            events: h.events.iter().map(|e| e.as_str().to_string()).collect(),
            last_run: storage::HookExecution::default(),
            weight: h.weight,
            delete_policies: h.delete_policies.clone(),
            output_log_policies: Vec::new(),
        })
        .collect();
    Ok(RenderedRelease {
        sorted,
        manifest,
        notes,
        hooks,
    })
}

/// One object of a stored manifest, with the template it came from.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub source: String,
    pub object: Value,
}

/// Parses a stored release manifest (`---\n# Source: PATH\n...` documents) into objects, in
/// order. Comment-only documents are skipped.
pub fn objects_of_manifest(text: &str) -> Result<Vec<ManifestObject>, ReleaseError> {
    let mut out = Vec::new();
    for (line, content) in manifest::split_documents(text) {
        let source = content
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .unwrap_or("manifest")
            .to_string();
        if let Some((_, object)) = manifest::parse_object(&source, line, &content)? {
            out.push(ManifestObject { source, object });
        }
    }
    Ok(out)
}

/// Deep-merges `over` into `base`: maps merge key by key, anything else is replaced; a `null`
/// in `over` removes the key (Helm's way to unset a value).
pub fn merge_values(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                    continue;
                }
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_values(existing, v)
                    }
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// A JSON object from a value (an empty one for anything else).
pub fn as_map(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// `lookup` against the live cluster. Templates render synchronously inside the async command,
/// so each lookup blocks its worker thread on the request (the runtime is multi-threaded).
pub struct ClusterLookup {
    cluster: Cluster,
    handle: tokio::runtime::Handle,
}

impl ClusterLookup {
    /// A lookup for templates rendered inside the current runtime.
    pub fn shared(cluster: Cluster) -> Option<Arc<dyn Lookup>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        Some(Arc::new(ClusterLookup { cluster, handle }))
    }
}

impl Lookup for ClusterLookup {
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let fetch = async {
            if name.is_empty() {
                let ns = (!namespace.is_empty()).then_some(namespace);
                let items = self.cluster.list(api_version, kind, ns, None).await?;
                Ok::<Value, crate::cluster::ClusterError>(serde_json::json!({
                    "apiVersion": api_version,
                    "kind": format!("{kind}List"),
                    "metadata": {},
                    "items": items,
                }))
            } else {
                let reference = ObjectRef {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                    namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                    name: name.to_string(),
                };
                Ok(self
                    .cluster
                    .get(&reference)
                    .await?
                    .unwrap_or(Value::Object(Map::new())))
            }
        };
        let result = tokio::task::block_in_place(|| self.handle.block_on(fetch));
        result.map_err(|e| e.to_string())
    }
}

/// Sizes of the parts of a release record, largest first (for the 1 MiB error).
pub fn largest_parts(release: &storage::Release) -> Vec<(String, usize)> {
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    parts.insert("manifest".into(), release.manifest.len());
    let hooks: usize = release.hooks.iter().map(|h| h.manifest.len()).sum();
    parts.insert("hooks".into(), hooks);
    if let Some(chart) = &release.chart {
        for f in chart
            .templates
            .iter()
            .flatten()
            .chain(chart.files.iter().flatten())
        {
            parts.insert(format!("chart file {}", f.name), f.data.len() * 3 / 4);
        }
    }
    let mut parts: Vec<(String, usize)> = parts.into_iter().filter(|(_, s)| *s > 0).collect();
    parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    parts.truncate(5);
    parts
}

/// The most a Secret may hold.
pub const SECRET_LIMIT: usize = 1024 * 1024;

/// Fails when the release record would not fit in a Secret.
pub fn check_size(release: &storage::Release) -> Result<(), ReleaseError> {
    let size = storage::encode(release).len();
    if size > SECRET_LIMIT {
        return Err(ReleaseError::TooLarge {
            name: release.name.clone(),
            size,
            parts: largest_parts(release),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_values_merges_maps_and_null_unsets() {
        let mut base = json!({"a": {"b": 1, "c": 2}, "d": [1], "e": 1});
        merge_values(&mut base, &json!({"a": {"b": 5}, "d": [2, 3], "e": null}));
        assert_eq!(base, json!({"a": {"b": 5, "c": 2}, "d": [2, 3]}));
    }

    #[test]
    fn stored_manifest_parses_back_into_objects_with_sources() {
        let text = "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let objects = objects_of_manifest(text).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].source, "web/templates/cm.yaml");
        assert_eq!(objects[1].object["kind"], "Service");
    }

    #[test]
    fn oversized_release_names_its_largest_parts() {
        let release = storage::Release {
            name: "big".into(),
            // Random-looking text compresses poorly.
            manifest: (0..400_000u32)
                .map(|i| format!("{:x}", i.wrapping_mul(2_654_435_761)))
                .collect(),
            ..Default::default()
        };
        let err = check_size(&release).unwrap_err().to_string();
        assert!(err.contains("over the 1 MiB Secret limit"), "{err}");
        assert!(err.contains("manifest:"), "{err}");
    }
}
