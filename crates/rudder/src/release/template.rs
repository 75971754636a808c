//! The rendering pipeline every verb shares: chart → values → render → manifest.
//!
//! `rudder template` prints its result, `lint` checks it, and install/upgrade/diff store or apply
//! it. Nothing here touches a cluster: `lookup` goes through [`RenderOptions::lookup`].

use std::path::Path;

use crate::chart::{self, Chart, ChartError, ConstraintError};
use crate::manifest::{self, ManifestError, SortedManifests};
use crate::render::{RenderError, RenderOptions, Rendered};
use crate::values::{self, Composed, ValuesError, ValuesInputs};

/// A chart rendered for one release, ready to print, store or apply.
#[derive(Debug, Clone)]
pub struct Templated {
    /// The composed values (final values, user-supplied values, warnings) and the chart with
    /// disabled subcharts removed.
    pub composed: Composed,
    /// Every rendered template file, NOTES.txt included.
    pub rendered: Rendered,
    /// Manifests and hooks in install order.
    pub sorted: SortedManifests,
}

impl Templated {
    /// The chart that was rendered (disabled subcharts removed).
    pub fn chart(&self) -> &Chart {
        &self.composed.chart
    }

    /// The root chart's rendered NOTES.txt, if it has one with content.
    pub fn notes(&self) -> Option<&str> {
        let key = format!("{}/templates/NOTES.txt", self.chart().name());
        self.rendered
            .files
            .get(&key)
            .map(String::as_str)
            .filter(|n| !n.trim().is_empty())
    }

    /// The release manifest as stored in a release record (hooks excluded).
    pub fn manifest(&self) -> String {
        manifest::release_manifest(&self.sorted)
    }

    /// CRD files of the chart and its subcharts as `helm template --include-crds` prints them
    /// (`---\n# Source: CHART/crds/x.yaml\n<file>\n`), parents first.
    pub fn crds_output(&self) -> String {
        self.crd_files()
            .iter()
            .map(|(source, text)| format!("---\n# Source: {source}\n{text}\n"))
            .collect()
    }

    /// CRD files of the chart and its subcharts as `(CHART/crds/x.yaml, text)`, parents first.
    /// The source is built from the chart's structure, never read back from the text, where a
    /// `# Source:` comment could name any path.
    pub fn crd_files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        collect_crds(self.chart(), self.chart().name(), &mut out);
        out
    }
}

fn collect_crds(chart: &Chart, prefix: &str, out: &mut Vec<(String, String)>) {
    for file in chart.crd_files() {
        out.push((
            format!("{prefix}/{}", file.name),
            String::from_utf8_lossy(&file.data).into_owned(),
        ));
    }
    for sub in &chart.dependencies {
        collect_crds(sub, &format!("{prefix}/charts/{}", sub.name()), out);
    }
}

/// Why a chart could not be turned into manifests.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The chart's `kubeVersion` excludes the Kubernetes version rendered for.
    #[error("{0} (set --kube-version, or render against a newer cluster)")]
    KubeVersion(#[from] ConstraintError),
    #[error(transparent)]
    Values(#[from] ValuesError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Loads the chart at `path` and renders it with `inputs` (see [`template_chart`]).
pub fn template(
    path: &Path,
    inputs: &ValuesInputs,
    options: &RenderOptions,
) -> Result<Templated, TemplateError> {
    let chart = chart::load(path)?;
    let templated = template_chart(&chart, inputs, options);
    if crate::render::gotmpl::teardown_left_to_exit() {
        // A one-shot `rudder template`: the process exits next and frees the chart at once.
        std::mem::forget(chart);
    }
    templated
}

/// Composes values for a loaded chart, renders it and sorts the manifests in install order.
pub fn template_chart(
    chart: &Chart,
    inputs: &ValuesInputs,
    options: &RenderOptions,
) -> Result<Templated, TemplateError> {
    chart::check_kube_version(
        chart.name(),
        &chart.metadata.kube_version,
        &options.capabilities.kube_version.version,
    )?;
    let (composed, (rendered, sorted)) = values::compose_and(chart, inputs, |composed| {
        super::rendering::render_sorted::<TemplateError>(&composed.chart, &composed.values, options)
    })?;
    Ok(Templated {
        composed,
        rendered,
        sorted,
    })
}
