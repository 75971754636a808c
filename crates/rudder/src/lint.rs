//! Chart lint: load, compose and render a chart in each environment and report every problem a
//! cluster would otherwise report later (or never): bad Chart.yaml, values, schema violations,
//! template errors, documents that are not objects, duplicate resources, removed apiVersions.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::chart::{self, Chart};
use crate::manifest::{self, Document, KindOrder};
use crate::render::{self, RenderOptions};
use crate::values::{self, ValuesInputs};

/// How bad a finding is: errors fail `rudder lint`, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located as precisely as the source allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// `file:line` (or just `file`, or the chart path) the finding is about.
    pub location: String,
    pub message: String,
    /// The environment being rendered when the problem showed, if any.
    pub env: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Messages of nested errors may already start with the location; do not repeat it.
        let message = self
            .message
            .strip_prefix(&format!("{}: ", self.location))
            .unwrap_or(&self.message);
        write!(f, "{}: {severity}: {message}", self.location)?;
        if let Some(env) = &self.env {
            write!(f, " [env {env}]")?;
        }
        Ok(())
    }
}

/// What to lint with.
#[derive(Clone)]
pub struct LintOptions {
    /// Environments to render; `None` renders with `values.yaml` only. Empty means: the chart
    /// without overlay, then every `values/<env>.yaml` it has.
    pub envs: Vec<Option<String>>,
    /// Values flags applied in every environment (`-f`, `--set` ...); its `env` is ignored.
    pub inputs: ValuesInputs,
    /// Release, capabilities (the Kubernetes version apiVersions are checked against).
    pub render: RenderOptions,
}

/// Environments a chart defines: the names of its `values/<env>.yaml` files, sorted.
pub fn environments(chart: &Chart) -> Vec<String> {
    let mut envs: Vec<String> = chart
        .files
        .iter()
        .filter_map(|f| {
            let rest = f.name.strip_prefix("values/")?;
            let name = rest
                .strip_suffix(".yaml")
                .or_else(|| rest.strip_suffix(".yml"))?;
            (!name.contains('/')).then(|| name.to_string())
        })
        .collect();
    envs.sort();
    envs.dedup();
    envs
}

/// The outcome of linting one chart.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// Problems found, Chart.yaml first, then per environment in the order rendered.
    pub findings: Vec<Finding>,
    /// Environments rendered (`None`: values.yaml without overlay).
    pub environments: Vec<Option<String>>,
}

/// Lints the chart at `path` in each environment of `options`.
pub fn lint(path: &Path, options: &LintOptions) -> LintReport {
    let chart = match chart::load(path) {
        Ok(chart) => chart,
        Err(err) => {
            return LintReport {
                findings: vec![Finding {
                    severity: Severity::Error,
                    location: path.display().to_string(),
                    message: err.to_string(),
                    env: None,
                }],
                environments: Vec::new(),
            }
        }
    };
    let mut findings = check_metadata(&chart);
    let envs = if options.envs.is_empty() {
        std::iter::once(None)
            .chain(environments(&chart).into_iter().map(Some))
            .collect()
    } else {
        options.envs.clone()
    };
    for env in &envs {
        findings.extend(lint_environment(&chart, env.clone(), options));
    }
    LintReport {
        findings,
        environments: envs,
    }
}

fn check_metadata(chart: &Chart) -> Vec<Finding> {
    let location = format!("{}/Chart.yaml", chart.name());
    let mut findings = Vec::new();
    let mut error = |message: String| {
        findings.push(Finding {
            severity: Severity::Error,
            location: location.clone(),
            message,
            env: None,
        })
    };
    let m = &chart.metadata;
    if m.name.is_empty() {
        error("`name` is required".to_string());
    }
    if let Err(e) = semver::Version::parse(&m.version) {
        error(format!("version {:?} is not SemVer 2 ({e})", m.version));
    }
    if m.api_version != "v2" && m.api_version != "v1" {
        error(format!(
            "apiVersion {:?} is not a chart API version (use v2)",
            m.api_version
        ));
    }
    if !m.chart_type.is_empty() && m.chart_type != "application" && m.chart_type != "library" {
        error(format!(
            "type {:?} must be application or library",
            m.chart_type
        ));
    }
    if m.description.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            location,
            message: "`description` is empty".to_string(),
            env: None,
        });
    }
    findings
}

fn lint_environment(chart: &Chart, env: Option<String>, options: &LintOptions) -> Vec<Finding> {
    let error = |location: String, message: String| Finding {
        severity: Severity::Error,
        location,
        message,
        env: env.clone(),
    };
    let inputs = ValuesInputs {
        env: env.clone(),
        ..options.inputs.clone()
    };
    let composed = match values::compose(chart, &inputs) {
        Ok(c) => c,
        Err(e) => return vec![error(chart.name().to_string(), e.to_string())],
    };
    let render_options = RenderOptions {
        env: env.clone(),
        ..options.render.clone()
    };
    let rendered = match render::render(&composed.chart, &composed.values, &render_options) {
        Ok(r) => r,
        Err(render::RenderError::Template {
            template,
            line,
            column,
            message,
        }) => return vec![error(format!("{template}:{line}:{column}"), message)],
        Err(e) => return vec![error(chart.name().to_string(), e.to_string())],
    };
    let sorted = match manifest::sort_manifests(&rendered.files, KindOrder::Install) {
        Ok(s) => s,
        Err(manifest::ManifestError::NotAnObject {
            source_path,
            line,
            problem,
        }) => {
            return vec![error(
                format!("{source_path}:{line}"),
                format!("the rendered document is not a Kubernetes object: {problem}"),
            )]
        }
        Err(e) => return vec![error(chart.name().to_string(), e.to_string())],
    };
    let mut findings: Vec<Finding> = composed
        .warnings
        .iter()
        .map(|w| Finding {
            severity: Severity::Warning,
            location: chart.name().to_string(),
            message: w.clone(),
            env: env.clone(),
        })
        .collect();
    let documents: Vec<&Document> = sorted
        .manifests
        .iter()
        .chain(sorted.hooks.iter().map(|h| &h.document))
        .collect();
    let namespace = &options.render.release.namespace;
    let mut seen: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    for doc in &documents {
        let Some(head) = &doc.head else { continue };
        let group = head
            .api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let ns = head.namespace.clone().unwrap_or_else(|| namespace.clone());
        let here = locate(&composed.chart, doc, &format!("name: {}", head.name));
        let key = (group, head.kind.clone(), ns.clone(), head.name.clone());
        if let Some(first) = seen.get(&key) {
            findings.push(error(
                here.clone(),
                format!(
                    "duplicate resource {} {}/{} (first defined at {first}); a release can hold each object once",
                    head.kind, ns, head.name
                ),
            ));
        } else {
            seen.insert(key, here);
        }
        if let Some(finding) = check_api_version(head, &options.render) {
            let location = locate(
                &composed.chart,
                doc,
                &format!("apiVersion: {}", head.api_version),
            );
            findings.push(Finding {
                location,
                env: env.clone(),
                ..finding
            });
        }
    }
    findings
}

/// `file:line` of a rendered document: the line of `needle` in the template source when the
/// template holds it literally, else the line the document starts at in the rendered output.
fn locate(chart: &Chart, doc: &Document, needle: &str) -> String {
    if let Some(text) = template_source(chart, &doc.source) {
        if let Some(pos) = text.find(needle) {
            let line = 1 + text[..pos].matches('\n').count();
            return format!("{}:{line}", doc.source);
        }
    }
    format!("{}:{}", doc.source, doc.line)
}

fn template_source<'a>(chart: &'a Chart, source: &str) -> Option<&'a str> {
    let rest = source.strip_prefix(chart.name())?.strip_prefix('/')?;
    if let Some(sub_path) = rest.strip_prefix("charts/") {
        let (sub_name, _) = sub_path.split_once('/')?;
        let sub = chart.dependencies.iter().find(|d| d.name() == sub_name)?;
        return template_source(
            sub,
            &format!("{}/{}", sub.name(), &sub_path[sub_name.len() + 1..]),
        );
    }
    let file = chart.templates.iter().find(|t| t.name == rest)?;
    std::str::from_utf8(&file.data).ok()
}

/// An apiVersion that Kubernetes deprecated or removed: (apiVersion, kind or `*`, deprecated in,
/// removed in (minor of 1.x), replacement).
const DEPRECATED_APIS: &[(&str, &str, u32, u32, &str)] = &[
    (
        "extensions/v1beta1",
        "Ingress",
        14,
        22,
        "networking.k8s.io/v1",
    ),
    ("extensions/v1beta1", "Deployment", 9, 16, "apps/v1"),
    ("extensions/v1beta1", "DaemonSet", 9, 16, "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        9,
        16,
        "networking.k8s.io/v1",
    ),
    (
        "extensions/v1beta1",
        "PodSecurityPolicy",
        10,
        16,
        "Pod Security Admission",
    ),
    ("apps/v1beta1", "*", 9, 16, "apps/v1"),
    ("apps/v1beta2", "*", 9, 16, "apps/v1"),
    (
        "networking.k8s.io/v1beta1",
        "Ingress",
        19,
        22,
        "networking.k8s.io/v1",
    ),
    (
        "networking.k8s.io/v1beta1",
        "IngressClass",
        19,
        22,
        "networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "*",
        16,
        22,
        "apiextensions.k8s.io/v1",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "*",
        16,
        22,
        "admissionregistration.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "*",
        19,
        22,
        "apiregistration.k8s.io/v1",
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "*",
        14,
        22,
        "scheduling.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        "*",
        19,
        22,
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        "*",
        14,
        22,
        "coordination.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSINode",
        17,
        22,
        "storage.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "StorageClass",
        6,
        22,
        "storage.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        13,
        22,
        "storage.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        24,
        27,
        "storage.k8s.io/v1",
    ),
    ("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
    (
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        21,
        25,
        "discovery.k8s.io/v1",
    ),
    ("events.k8s.io/v1beta1", "Event", 19, 25, "events.k8s.io/v1"),
    (
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        22,
        25,
        "autoscaling/v2",
    ),
    (
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        23,
        26,
        "autoscaling/v2",
    ),
    ("policy/v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1"),
    (
        "policy/v1beta1",
        "PodSecurityPolicy",
        21,
        25,
        "Pod Security Admission",
    ),
    (
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        20,
        25,
        "node.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        23,
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        26,
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        29,
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

fn check_api_version(head: &manifest::Head, options: &RenderOptions) -> Option<Finding> {
    let (_, kind, deprecated, removed, replacement) = DEPRECATED_APIS
        .iter()
        .find(|(api, kind, ..)| *api == head.api_version && (*kind == "*" || *kind == head.kind))?;
    let minor: u32 = options.capabilities.kube_version.minor.parse().ok()?;
    let version = &options.capabilities.kube_version.version;
    let what = if *kind == "*" {
        head.kind.as_str()
    } else {
        kind
    };
    if minor >= *removed {
        Some(Finding {
            severity: Severity::Error,
            location: String::new(),
            message: format!(
                "{} {what} was removed in Kubernetes 1.{removed} (rendering for {version}); use {replacement}",
                head.api_version
            ),
            env: None,
        })
    } else if minor >= *deprecated {
        Some(Finding {
            severity: Severity::Warning,
            location: String::new(),
            message: format!(
                "{} {what} is deprecated since Kubernetes 1.{deprecated} and removed in 1.{removed}; use {replacement}",
                head.api_version
            ),
            env: None,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Capabilities, ReleaseInfo};

    fn options(minor: &str) -> RenderOptions {
        let mut capabilities = Capabilities::default();
        capabilities.kube_version.minor = minor.to_string();
        RenderOptions {
            release: ReleaseInfo {
                name: "r".into(),
                namespace: "default".into(),
                revision: 1,
                is_install: true,
                is_upgrade: false,
            },
            capabilities,
            env: None,
            lookup: None,
        }
    }

    fn head(api_version: &str, kind: &str) -> manifest::Head {
        manifest::Head {
            api_version: api_version.into(),
            kind: kind.into(),
            name: "x".into(),
            ..Default::default()
        }
    }

    #[test]
    fn removed_api_versions_are_errors_and_deprecated_ones_warnings() {
        let removed = check_api_version(&head("extensions/v1beta1", "Ingress"), &options("30"));
        let removed = removed.unwrap();
        assert_eq!(removed.severity, Severity::Error);
        assert!(removed.message.contains("removed in Kubernetes 1.22"));
        assert!(removed.message.contains("networking.k8s.io/v1"));
        let deprecated =
            check_api_version(&head("batch/v1beta1", "CronJob"), &options("22")).unwrap();
        assert_eq!(deprecated.severity, Severity::Warning);
        assert!(check_api_version(&head("batch/v1beta1", "CronJob"), &options("20")).is_none());
        assert!(check_api_version(&head("apps/v1", "Deployment"), &options("36")).is_none());
    }

    #[test]
    fn environments_come_from_values_dir() {
        let chart = Chart {
            files: [
                "values/prod.yaml",
                "values/dev.yml",
                "values/x/y.yaml",
                "README.md",
            ]
            .iter()
            .map(|n| crate::chart::ChartFile {
                name: n.to_string(),
                data: Vec::new(),
            })
            .collect(),
            ..Default::default()
        };
        assert_eq!(environments(&chart), ["dev", "prod"]);
    }
}
