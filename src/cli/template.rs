//! `rudder template`: render a chart locally and print the manifests as `helm template` does.

use std::path::{Path, PathBuf};

use miette::{miette, IntoDiagnostic, WrapErr};

use super::values_args::ValuesArgs;
use super::{CliResult, GlobalArgs};
use rudder::manifest::{write_documents, Document};
use rudder::release::template::{template, Templated};
use rudder::render::{Capabilities, KubeVersion, ReleaseInfo, RenderOptions};

/// Arguments of `rudder template`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release name, or the chart when it is the only argument (the release is then `release-name`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Chart directory, .tgz archive, REPO/CHART, oci://HOST/PATH/CHART or an https:// URL.
    #[arg(value_name = "CHART")]
    pub chart: Option<PathBuf>,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub source: super::repo_args::ChartSourceArgs,
    /// Kubernetes version for Capabilities.KubeVersion (e.g. 1.30 or v1.30.2).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions for Capabilities.APIVersions (group/version or group/version/Kind).
    #[arg(short = 'a', long = "api-versions", value_name = "G/V[/K]")]
    pub api_versions: Vec<String>,
    /// Only print manifests rendered from these templates (paths like templates/x.yaml; globs allowed).
    #[arg(short = 's', long = "show-only", value_name = "PATH")]
    pub show_only: Vec<String>,
    /// Write each template's manifests to DIR/CHART/templates/... instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Also print the files of crds/ (never templated).
    #[arg(long)]
    pub include_crds: bool,
    /// Render as an upgrade (Release.IsUpgrade true, IsInstall false).
    #[arg(long)]
    pub is_upgrade: bool,
    /// Leave out test hooks (helm.sh/hook: test).
    #[arg(long)]
    pub skip_tests: bool,
    /// Leave out hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

/// Builds the render options shared by `template` and `lint` from the command line.
pub fn render_options(
    release: &str,
    namespace: &str,
    kube_version: Option<&str>,
    api_versions: &[String],
    env: Option<String>,
    is_upgrade: bool,
) -> miette::Result<RenderOptions> {
    let mut capabilities = Capabilities::default();
    if let Some(text) = kube_version {
        capabilities.kube_version = KubeVersion::parse(text).ok_or_else(|| {
            miette!("--kube-version {text:?} is not a Kubernetes version (expected MAJOR.MINOR[.PATCH], e.g. 1.30 or v1.30.2)")
        })?;
    }
    for gv in api_versions {
        if gv.split('/').any(str::is_empty) || gv.split('/').count() > 3 {
            return Err(miette!(
                "--api-versions {gv:?} is not GROUP/VERSION or GROUP/VERSION/KIND"
            ));
        }
        if !capabilities.api_versions.contains(gv) {
            capabilities.api_versions.push(gv.clone());
        }
    }
    Ok(RenderOptions {
        release: ReleaseInfo {
            name: release.to_string(),
            namespace: namespace.to_string(),
            revision: 1,
            is_install: !is_upgrade,
            is_upgrade,
        },
        capabilities,
        env,
        lookup: None,
    })
}

/// Runs `rudder template`.
pub fn run(args: Args, global: &GlobalArgs) -> CliResult {
    let (release, chart) = match &args.chart {
        Some(chart) => (args.name.clone(), chart.clone()),
        None => ("release-name".to_string(), PathBuf::from(&args.name)),
    };
    // A local chart needs no async runtime or download thread: keep `template` fast.
    let chart = if args.source.repo.is_none() && chart.exists() {
        chart
    } else {
        args.source.resolve(&chart.to_string_lossy())?
    };
    let namespace = global.namespace.as_deref().unwrap_or("default");
    let inputs = args.values.inputs();
    let options = render_options(
        &release,
        namespace,
        args.kube_version.as_deref(),
        &args.api_versions,
        inputs.env.clone(),
        args.is_upgrade,
    )?;
    // One render, then exit: the OS frees memory faster than dropping every tree and value.
    rudder::render::gotmpl::leave_teardown_to_exit();
    let templated = template(&chart, &inputs, &options).into_diagnostic()?;
    for warning in &templated.composed.warnings {
        eprintln!("warning: {warning}");
    }
    let hooks: Vec<&Document> = if args.no_hooks {
        Vec::new()
    } else {
        templated
            .sorted
            .hooks
            .iter()
            .filter(|h| !(args.skip_tests && h.events.contains(&rudder::manifest::HookEvent::Test)))
            .map(|h| &h.document)
            .collect()
    };
    match &args.output_dir {
        Some(dir) => write_output_dir(dir, &templated, &hooks, &args),
        None => {
            let text = stdout_text(&templated, &hooks, &args)?;
            print!("{text}");
            // The process exits next; freeing the chart, values and manifests is wasted work.
            std::mem::forget(hooks);
            std::mem::forget(templated);
            Ok(0)
        }
    }
}

/// Exactly what `helm template` prints: CRDs (when asked), the trimmed manifest block, hooks.
fn stdout_text(templated: &Templated, hooks: &[&Document], args: &Args) -> miette::Result<String> {
    let mut manifest = String::new();
    if args.include_crds {
        manifest.push_str(&templated.crds_output());
    }
    manifest.push_str(&templated.manifest());
    let mut out = manifest.trim().to_string();
    out.push('\n');
    out.push_str(&write_documents(hooks.iter().copied()));
    if args.show_only.is_empty() {
        return Ok(out);
    }
    show_only(&out, templated.chart().name(), &args.show_only)
}

/// Helm's `--show-only`: keep the printed documents whose source (without the chart name)
/// matches one of the patterns; every pattern must match something.
fn show_only(output: &str, chart: &str, patterns: &[String]) -> miette::Result<String> {
    let documents: Vec<(String, usize, String)> = rudder::manifest::split_documents(output)
        .into_iter()
        .filter_map(|(line, doc)| {
            let source = doc.lines().next()?.strip_prefix("# Source: ")?.to_string();
            let relative = source.split_once('/').map(|(_, r)| r.to_string())?;
            Some((relative, line, doc))
        })
        .collect();
    let mut out = String::new();
    for pattern in patterns {
        let pattern = pattern.replace('\\', "/");
        let glob = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| miette!("--show-only {pattern:?} is not a valid pattern: {e}"))?
            .compile_matcher();
        let mut found = false;
        for (relative, _, doc) in &documents {
            if glob.is_match(relative) {
                out.push_str("---\n");
                out.push_str(doc.trim_end());
                out.push('\n');
                found = true;
            }
        }
        if !found {
            return Err(miette!(
                "--show-only {pattern}: could not find template {pattern} in chart {chart} (paths are relative to the chart, e.g. templates/deployment.yaml)"
            ));
        }
    }
    Ok(out)
}

/// Writes DIR/CHART/templates/x.yaml files. Everything is rendered first, so a render error
/// writes nothing; if writing itself fails, the files written so far are removed.
fn write_output_dir(
    dir: &Path,
    templated: &Templated,
    hooks: &[&Document],
    args: &Args,
) -> CliResult {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut add = |source: &str, text: String| -> miette::Result<()> {
        let path = output_path(dir, source)?;
        match files.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => existing.push_str(&text),
            None => files.push((path, text)),
        }
        Ok(())
    };
    if args.include_crds {
        for (source, text) in templated.crd_files() {
            add(&source, format!("---\n# Source: {source}\n{text}\n"))?;
        }
    }
    let documents = templated
        .sorted
        .manifests
        .iter()
        .chain(hooks.iter().copied());
    for doc in documents {
        if !args.show_only.is_empty() && !matches_any(&doc.source, &args.show_only) {
            continue;
        }
        add(&doc.source, write_documents([doc]))?;
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (path, text) in &files {
        let result = refuse_links_below(dir, path)
            .and_then(|()| path.parent().map_or(Ok(()), std::fs::create_dir_all))
            .and_then(|()| std::fs::write(path, text));
        if let Err(err) = result {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(err)
                .into_diagnostic()
                .wrap_err(format!("cannot write {}", path.display()));
        }
        written.push(path.clone());
        println!("wrote {}", path.display());
    }
    Ok(0)
}

/// Fails when a part of `path` below `dir` is a symbolic link: one planted in an existing
/// output folder (a checked-out `rendered/web -> ~/.ssh`) would otherwise take the write outside
/// `--output-dir`.
fn refuse_links_below(dir: &Path, path: &Path) -> std::io::Result<()> {
    let Ok(relative) = path.strip_prefix(dir) else {
        return Ok(());
    };
    let mut current = dir.to_path_buf();
    for part in relative.components() {
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(std::io::Error::other(format!(
                    "{} is a symbolic link: refusing to write through it",
                    current.display()
                )));
            }
            // Missing parts are created as plain folders below.
            Ok(_) | Err(_) => {}
        }
    }
    Ok(())
}

/// Where a document of `source` (`CHART/templates/x.yaml`) goes below `dir`. Sources come from
/// the chart's own structure, but they are names from an archive: each part must be one path
/// component, so that nothing is ever written outside `--output-dir`.
fn output_path(dir: &Path, source: &str) -> miette::Result<PathBuf> {
    let mut path = dir.to_path_buf();
    for part in source.split('/') {
        rudder::chart::check_path_component(part)
            .map_err(|e| miette!("--output-dir: refusing to write {source:?}: {e}"))?;
        path.push(part);
    }
    Ok(path)
}

fn matches_any(source: &str, patterns: &[String]) -> bool {
    let relative = source.split_once('/').map_or(source, |(_, r)| r);
    patterns.iter().any(|p| {
        globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .is_ok_and(|g| g.compile_matcher().is_match(relative))
    })
}
