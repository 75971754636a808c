//! The rendering seam: a chart plus composed values in, rendered template files out.
//!
//! `engine: tera` charts go to [`tera`]; every other chart is a Helm chart and goes to the Go
//! `text/template` engine in `gotmpl` (added by the Helm-compatibility work). Both engines see the
//! same [`RenderOptions`] and return the same [`Rendered`] map so that everything downstream
//! (manifest ordering, release storage, diff) does not care which engine ran.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::chart::{Chart, Engine};

/// The `.Release` object.
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    pub name: String,
    pub namespace: String,
    pub revision: u64,
    pub is_install: bool,
    pub is_upgrade: bool,
}

/// The Kubernetes version templates see as `.Capabilities.KubeVersion`.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    /// Full version with a `v` prefix, e.g. `v1.36.0`.
    pub version: String,
    pub major: String,
    pub minor: String,
}

/// The `.Capabilities` object.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    /// `group/version` and `group/version/Kind` strings the cluster serves.
    pub api_versions: Vec<String>,
}

/// Kubernetes version assumed when rendering offline (Helm 4.2's built-in default).
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// Helm 4.2.3's offline API versions (`common.DefaultVersionSet`: every group/version of
/// client-go's scheme plus apiextensions, in Helm's order; no kinds), as `helm template` sees them.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

impl KubeVersion {
    /// Parses `1.30`, `v1.30.2` or `1.30.0-gke.1`; `None` when there is no `MAJOR.MINOR`.
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let trimmed = text.trim().trim_start_matches('v');
        let mut parts = trimmed.splitn(3, '.');
        let major = parts.next()?;
        let minor = parts.next()?;
        let patch = parts.next().unwrap_or("0");
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(major) || !numeric(minor) {
            return None;
        }
        let patch_digits: String = patch.chars().take_while(char::is_ascii_digit).collect();
        if patch_digits.is_empty() {
            return None;
        }
        Some(KubeVersion {
            version: format!("v{major}.{minor}.{patch}"),
            major: major.to_string(),
            minor: minor.to_string(),
        })
    }
}

impl Default for Capabilities {
    /// What offline rendering assumes: [`DEFAULT_KUBE_VERSION`] and [`DEFAULT_API_VERSIONS`].
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::parse(DEFAULT_KUBE_VERSION)
                .expect("the default Kubernetes version parses"),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Reads a live object for the `lookup` template function. Offline rendering has none, and
/// `lookup` then returns an empty map as Helm's does.
pub trait Lookup: Send + Sync {
    /// `name` empty lists the kind (Helm returns a `*List` object then).
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String>;
}

/// Everything a template can see besides the chart and the values.
#[derive(Clone)]
pub struct RenderOptions {
    pub release: ReleaseInfo,
    pub capabilities: Capabilities,
    /// The environment selected with `--env` (rudder's `Env` object), if any.
    pub env: Option<String>,
    /// Live lookups (install/upgrade/diff); `None` when rendering offline.
    pub lookup: Option<Arc<dyn Lookup>>,
}

/// Rendered output: template path (`CHART/templates/x.yaml`, subcharts as
/// `CHART/charts/SUB/templates/x.yaml`) to rendered text, NOTES.txt included, partials excluded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    pub files: BTreeMap<String, String>,
}

/// The default cap on what one template may build: its output, and any one string or list a
/// template function makes (`repeat`, `until`, Tera's `range`). A chart's whole manifest must fit
/// in a 1 MiB release Secret compressed, so no real template comes near it.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = ::gotmpl::limits::DEFAULT_MAX_OUTPUT_BYTES;

/// The flag and environment variable that raise the render budget, for error messages.
pub const OUTPUT_RAISE_HINT: &str =
    "raise it with --max-render-size SIZE or RUDDER_MAX_RENDER_SIZE=SIZE";

/// The render budget (see [`DEFAULT_MAX_OUTPUT_BYTES`]), checked while rendering, so that a
/// template looping a hundred million times fails at the budget instead of exhausting memory.
/// Both engines share it: it lives in `gotmpl`, whose plain functions check it too.
pub fn max_output_bytes() -> usize {
    ::gotmpl::limits::max_output_bytes()
}

/// Sets the render budget for the rest of the process.
pub fn set_max_output_bytes(limit: usize) {
    ::gotmpl::limits::set_max_output_bytes(limit);
    ::gotmpl::limits::set_raise_hint(OUTPUT_RAISE_HINT);
}

/// The words for a breached render budget: `what` passed it.
pub fn output_limit_message(what: &str) -> String {
    format!(
        "{what} would pass the {} render limit; {OUTPUT_RAISE_HINT}",
        crate::input::show_size(max_output_bytes() as u64)
    )
}

/// A template that could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An error located in a template file.
    #[error("{template}:{line}:{column}: {message}")]
    Template {
        template: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// An error without a useful location (e.g. `fail` called from a helper).
    #[error("{0}")]
    Other(String),
}

/// Renders every template of `chart` (and its enabled subcharts) with the composed `values`.
pub fn render(
    chart: &Chart,
    values: &Value,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    match chart.metadata.engine() {
        Engine::Tera => tera::render(chart, values, options),
        Engine::GoTemplate => gotmpl::render(chart, values, options),
    }
}

/// [`render`], handing template paths and outputs to `each` on the calling thread once they are
/// rendered. Helm charts render on a thread of their own, so per-template work in `each`
/// (reading manifest heads) overlaps the rendering of later templates, and the outputs still
/// waiting when the render ends are skipped (the result has them all); Tera charts, small and
/// quick, hand over all their outputs when all are done.
pub fn render_each(
    chart: &Chart,
    values: &Value,
    options: &RenderOptions,
    each: &mut dyn FnMut(&str, &str),
) -> Result<Rendered, RenderError> {
    match chart.metadata.engine() {
        Engine::Tera => {
            let rendered = tera::render(chart, values, options)?;
            for (name, text) in &rendered.files {
                each(name, text);
            }
            Ok(rendered)
        }
        Engine::GoTemplate => gotmpl::render_each(chart, values, options, each),
    }
}

pub mod gotmpl;
pub mod tera;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kube_versions_like_kubectl_prints_them() {
        let v = KubeVersion::parse("1.30").unwrap();
        assert_eq!(
            (v.version.as_str(), v.major.as_str(), v.minor.as_str()),
            ("v1.30.0", "1", "30")
        );
        // Like Helm 4, the vendor suffix stays in Version.
        assert_eq!(
            KubeVersion::parse("v1.29.3-gke.1").unwrap().version,
            "v1.29.3-gke.1"
        );
        for bad in ["", "1", "v1.x", "one.two", "1.30.x"] {
            assert!(KubeVersion::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Capabilities::default().kube_version.minor, "36");
    }
}
