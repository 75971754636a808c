//! Flags and output shared by the release commands (install, upgrade, rollback, uninstall, list,
//! history, status, get, test, unlock), with Helm 4's names.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use miette::IntoDiagnostic;
use serde_json::Value;

use rudder::cluster::{Cluster, ConnectOptions};
use rudder::release::storage::{self, Release, SYSTEM_LABELS};
use rudder::release::{ApplySettings, DryRun, Progress, WaitStrategy};

use super::GlobalArgs;

/// `-o/--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Flags of install and upgrade that decide how objects are applied and waited for.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// Wait strategy: `watcher` (bare --wait) watches every object until ready; `hookOnly`
    /// (default) waits for hooks only.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "watcher", value_name = "STRATEGY")]
    pub wait: Option<String>,
    /// With --wait, also wait for Jobs to complete.
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// Time to wait for any single operation (hooks, readiness), e.g. 5m0s.
    #[arg(long, default_value = "5m0s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// While another operation holds the release, wait up to this long for it (e.g. 2m) instead
    /// of failing at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_lock: Option<Duration>,
    /// Roll back (install: uninstall) if the operation fails; implies --wait=watcher.
    #[arg(long, alias = "atomic")]
    pub rollback_on_failure: bool,
    /// Delete objects created by a failed operation.
    #[arg(long)]
    pub cleanup_on_fail: bool,
    /// Simulate: `client` renders only, `server` also sends objects with dryRun=All.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<String>,
    /// Custom description stored in the revision.
    #[arg(long)]
    pub description: Option<String>,
    /// Labels for the release record (k=v, comma separated; `k=null` removes on upgrade).
    #[arg(short = 'l', long = "labels", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Adopt existing objects that belong to no release or to another one.
    #[arg(long)]
    pub take_ownership: bool,
    /// Take fields owned by other field managers (kubectl edit, controllers).
    #[arg(long, conflicts_with = "force_replace")]
    pub force_conflicts: bool,
    /// Delete and recreate objects whose change touches an immutable field.
    #[arg(long, alias = "force")]
    pub force_replace: bool,
    /// Skip hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// Do not print the chart's notes.
    #[arg(long)]
    pub hide_notes: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

impl ApplyArgs {
    /// The settings these flags describe.
    pub fn settings(&self, history_max: usize) -> miette::Result<ApplySettings> {
        let mut wait = parse_wait(self.wait.as_deref())?;
        if self.rollback_on_failure {
            wait = WaitStrategy::Watcher;
        }
        Ok(ApplySettings {
            wait,
            wait_for_jobs: self.wait_for_jobs,
            timeout: self.timeout,
            no_hooks: self.no_hooks,
            dry_run: parse_dry_run(self.dry_run.as_deref())?,
            take_ownership: self.take_ownership,
            force_conflicts: self.force_conflicts,
            force_replace: self.force_replace,
            rollback_on_failure: self.rollback_on_failure,
            cleanup_on_fail: self.cleanup_on_fail,
            history_max,
            description: self.description.clone(),
            labels: parse_labels(&self.labels)?,
            concurrency: 16,
            wait_for_lock: self.wait_for_lock.unwrap_or_default(),
        })
    }
}

/// Parses `--wait[=watcher|hookOnly|legacy|true|false]`.
pub fn parse_wait(value: Option<&str>) -> miette::Result<WaitStrategy> {
    match value {
        None => Ok(WaitStrategy::HookOnly),
        Some("watcher") | Some("legacy") => Ok(WaitStrategy::Watcher),
        Some("hookOnly") => Ok(WaitStrategy::HookOnly),
        Some("true") => {
            eprintln!("warning: --wait=true is deprecated; use --wait=watcher");
            Ok(WaitStrategy::Watcher)
        }
        Some("false") => {
            eprintln!("warning: --wait=false is deprecated; use --wait=hookOnly");
            Ok(WaitStrategy::HookOnly)
        }
        Some(other) => Err(miette::miette!(
            "invalid --wait value {other:?}: expected watcher or hookOnly"
        )),
    }
}

/// Parses `--dry-run[=none|client|server]` (a bare flag means client, as Helm).
pub fn parse_dry_run(value: Option<&str>) -> miette::Result<DryRun> {
    match value {
        None | Some("none") | Some("false") => Ok(DryRun::None),
        Some("client") | Some("true") => Ok(DryRun::Client),
        Some("server") => Ok(DryRun::Server),
        Some(other) => Err(miette::miette!(
            "invalid --dry-run value {other:?}: expected none, client or server"
        )),
    }
}

/// Parses `-l k=v,k2=v2` flags; Helm's system labels are refused.
pub fn parse_labels(flags: &[String]) -> miette::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for flag in flags {
        for pair in flag.split(',').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(miette::miette!(
                    "invalid --labels entry {pair:?}: expected KEY=VALUE"
                ));
            };
            if SYSTEM_LABELS.contains(&k) {
                return Err(miette::miette!(
                    "--labels cannot set {k:?}: it is one of Helm's system labels ({})",
                    SYSTEM_LABELS.join(", ")
                ));
            }
            out.insert(k.to_string(), v.to_string());
        }
    }
    Ok(out)
}

/// Parses a Go duration (`5m0s`, `90s`, `1h30m`, `500ms`); a bare number means seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds >= 0.0 {
            return Ok(Duration::from_secs_f64(seconds));
        }
    }
    let mut total = 0.0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("invalid duration {text:?}: missing unit"))?;
        let (number, tail) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(format!("invalid duration {text:?}: unknown unit {unit:?}")),
        };
        total += value * scale;
        rest = tail;
    }
    Ok(Duration::from_secs_f64(total))
}

/// Connects to the cluster the global flags name.
pub fn connect(runtime: &tokio::runtime::Runtime, global: &GlobalArgs) -> miette::Result<Cluster> {
    let options = ConnectOptions {
        kubeconfig: global.kubeconfig.clone(),
        context: global.kube_context.clone(),
        namespace: global.namespace.clone(),
    };
    let mut cluster = runtime
        .block_on(Cluster::connect(&options))
        .into_diagnostic()?;
    cluster.report_retries(|line| write_stderr(&format!("{line}\n")));
    for warning in cluster.warnings() {
        write_stderr(&format!("warning: {warning}\n"));
    }
    Ok(cluster)
}

/// A release operation stopped by SIGINT or SIGTERM; rudder exits with `code` (130 or 143).
#[derive(Debug, thiserror::Error)]
#[error("{}", lines.join("\n"))]
pub struct Interrupted {
    pub code: u8,
    lines: Vec<String>,
}

impl miette::Diagnostic for Interrupted {}

/// Runs a mutating release operation until it ends or SIGINT/SIGTERM arrives. On a signal the
/// operation stops where it is (nothing more is applied), every revision it holds is recorded
/// failed ("interrupted by SIGTERM") and its lock released, and the error carries exit code
/// 130 (SIGINT) or 143 (SIGTERM). A second signal while recording exits at once.
pub fn run_operation<T>(
    runtime: &tokio::runtime::Runtime,
    operation: impl std::future::Future<Output = T>,
) -> miette::Result<T> {
    use tokio::signal::unix::{signal, SignalKind};
    enum Ended<T> {
        Done(T),
        Signalled(&'static str, u8),
    }
    let ended = runtime.block_on(async {
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            // Without handlers the default applies (rudder ends, the lock goes stale).
            return Ended::Done(operation.await);
        };
        tokio::select! {
            done = operation => Ended::Done(done),
            _ = interrupt.recv() => Ended::Signalled("SIGINT", 130),
            _ = terminate.recv() => Ended::Signalled("SIGTERM", 143),
        }
    });
    let (name, code) = match ended {
        Ended::Done(done) => return Ok(done),
        Ended::Signalled(name, code) => (name, code),
    };
    // The operation's future is dropped: nothing more is applied. Record what it held.
    let lines = runtime.block_on(async {
        let second = async {
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = interrupt.recv() => 130u8,
                _ = terminate.recv() => 143u8,
            }
        };
        tokio::select! {
            lines = rudder::release::lock::interrupt_all(name) => lines,
            code = second => {
                write_stderr("interrupted again: exiting without recording the release\n");
                std::process::exit(i32::from(code));
            }
        }
    });
    let lines = if lines.is_empty() {
        vec![format!("interrupted by {name}")]
    } else {
        lines
    };
    Err(Interrupted { code, lines }.into())
}

/// Progress on stderr. In CI (stderr not a terminal, or `TERM=dumb`): plain lines prefixed with
/// the time. On a terminal: plain lines, and while waiting a live block with one line per object
/// (ready or the cluster's reason) under a header with the ready count and elapsed time.
pub fn progress() -> Progress {
    let terminal =
        std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
    if !terminal {
        return Progress::lines(|line: &str| {
            write_stderr(&format!(
                "{} {line}\n",
                chrono::Utc::now().format("%H:%M:%S")
            ));
        });
    }
    let view = Arc::new(std::sync::Mutex::new(LiveView::default()));
    let for_lines = view.clone();
    Progress::with_wait_view(
        move |line: &str| {
            if let Ok(mut v) = for_lines.lock() {
                // The live block stays on screen above; new lines follow it.
                v.drawn = 0;
                v.objects.clear();
            }
            write_stderr(&format!("{line}\n"));
        },
        move |update: &rudder::release::WaitProgress| {
            if let Ok(mut v) = view.lock() {
                let text = v.update(update);
                write_stderr(&text);
            }
        },
    )
}

fn write_stderr(text: &str) {
    use std::io::Write as _;
    // A closed stderr (a pipe into `head`) must not abort the operation half-way.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The live wait block of a terminal.
#[derive(Default)]
struct LiveView {
    objects: BTreeMap<String, (bool, String)>,
    /// Lines of the block currently on screen.
    drawn: usize,
}

impl LiveView {
    /// Records an update and returns the escape sequences redrawing the block.
    fn update(&mut self, update: &rudder::release::WaitProgress) -> String {
        use rudder::cluster::Readiness;
        let (ready, text) = match &update.event.readiness {
            Readiness::Ready => (true, "ready".to_string()),
            Readiness::Pending(why) => (false, why.clone()),
            Readiness::Failed(why) => (false, format!("failed: {why}")),
        };
        self.objects
            .insert(update.event.object.to_string(), (ready, text));
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}F", self.drawn));
        }
        let ready_count = self.objects.values().filter(|(r, _)| *r).count();
        out.push_str(&format!(
            "\x1b[2Kwaiting: {ready_count}/{} ready, {}s elapsed\n",
            self.objects.len(),
            update.elapsed.as_secs()
        ));
        for (object, (ready, text)) in &self.objects {
            let mark = if *ready { "✓" } else { "…" };
            out.push_str(&format!("\x1b[2K  {mark} {object}: {text}\n"));
        }
        self.drawn = self.objects.len() + 1;
        out
    }
}

/// Formats a stored time as Go's `time.ANSIC` (`Mon Jan  2 15:04:05 2006`).
pub fn ansic(time: Option<&str>) -> String {
    time.and_then(storage::parse_time)
        .map(|t| t.format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// Formats a stored time as Go's `time.Time.String()` (`2006-01-02 15:04:05.999999999 +0000 UTC`).
pub fn go_time_string(time: Option<&str>) -> String {
    let Some(t) = time.and_then(storage::parse_time) else {
        return "-".to_string();
    };
    let nanos = t.timestamp_subsec_nanos();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{}", format!("{nanos:09}").trim_end_matches('0'))
    };
    format!("{}{fraction} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Prints rows as Helm's tables do (columns padded, separated by a tab).
pub fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.push_str(&" ".repeat(pad));
            }
        }
        println!("{}", line.trim_end());
    }
}

/// Prints a value as JSON (Go's encoding, one line, as Helm's `-o json`) or YAML.
pub fn print_structured<T: serde::Serialize>(
    value: &T,
    format: OutputFormat,
) -> miette::Result<()> {
    match format {
        OutputFormat::Yaml => {
            let json: Value = serde_json::to_value(value).into_diagnostic()?;
            print!("{}", rudder::yaml::to_string(&json));
        }
        _ => {
            let text = String::from_utf8_lossy(&storage::to_go_json(value)).to_string();
            println!("{text}");
        }
    }
    Ok(())
}

/// Prints a release as `helm status` does (table), or the release record (json/yaml).
pub fn print_release(
    release: &Release,
    format: OutputFormat,
    hide_notes: bool,
    show_manifest: bool,
) -> miette::Result<()> {
    if format != OutputFormat::Table {
        return print_structured(release, format);
    }
    let info = release.info.clone().unwrap_or_default();
    println!("NAME: {}", release.name);
    if info.last_deployed.is_some() {
        println!("LAST DEPLOYED: {}", ansic(info.last_deployed.as_deref()));
    }
    println!("NAMESPACE: {}", release.namespace);
    println!("STATUS: {}", info.status);
    println!("REVISION: {}", release.version);
    println!("DESCRIPTION: {}", info.description);
    let tests: Vec<&storage::Hook> = release
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "test"))
        .collect();
    if tests.is_empty() {
        println!("TEST SUITE: None");
    } else {
        for h in tests.iter().filter(|h| h.last_run.started_at.is_some()) {
            println!("TEST SUITE:     {}", h.name);
            println!(
                "Last Started:   {}",
                ansic(h.last_run.started_at.as_deref())
            );
            println!(
                "Last Completed: {}",
                ansic(h.last_run.completed_at.as_deref())
            );
            println!("Phase:          {}", h.last_run.phase);
        }
    }
    if show_manifest || info.description.eq_ignore_ascii_case("Dry run complete") {
        println!("HOOKS:");
        for h in &release.hooks {
            println!("---\n# Source: {}\n{}", h.path, h.manifest);
        }
        println!("MANIFEST:\n{}", release.manifest);
    }
    if !hide_notes && !info.notes.is_empty() {
        println!("NOTES:\n{}", info.notes.trim());
    }
    Ok(())
}

/// `CHART-VERSION` of a release, as Helm's tables show it.
pub fn chart_of(release: &Release) -> String {
    release
        .chart
        .as_ref()
        .map(|c| c.name_version())
        .unwrap_or_default()
}

/// `appVersion` of a release's chart.
pub fn app_version_of(release: &Release) -> String {
    release
        .chart
        .as_ref()
        .map(|c| c.app_version().to_string())
        .unwrap_or_default()
}

/// The values inputs of `--env`, `-f` and the `--set` family.
pub fn values_inputs(args: &super::values_args::ValuesArgs) -> rudder::values::ValuesInputs {
    rudder::values::ValuesInputs {
        env: args.env.clone(),
        files: args.values.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        set_file: args.set_file.clone(),
        set_json: args.set_json.clone(),
        set_literal: args.set_literal.clone(),
    }
}

/// Prints what a finished verb wants the user to know, then the release.
pub fn report_outcome(
    outcome: &rudder::release::Outcome,
    format: OutputFormat,
    hide_notes: bool,
) -> miette::Result<()> {
    for notice in &outcome.notices {
        eprintln!("{notice}");
    }
    for kept in &outcome.kept {
        eprintln!("kept {kept} (helm.sh/resource-policy: keep)");
    }
    print_release(&outcome.release, format, hide_notes, false)
}

/// Reads one revision of a release (the newest for `0`).
pub fn fetch_revision(
    runtime: &tokio::runtime::Runtime,
    cluster: &Cluster,
    name: &str,
    revision: u64,
) -> miette::Result<Release> {
    let store = rudder::release::Store::new(cluster.clone());
    let namespace = cluster.namespace().to_string();
    let history = runtime
        .block_on(store.history(&namespace, name))
        .into_diagnostic()?;
    let found = if revision == 0 {
        history.last()
    } else {
        history.iter().find(|r| r.release.version == revision)
    };
    match found {
        Some(r) => Ok(r.release.clone()),
        None if history.is_empty() => Err(miette::miette!(
            "release {name:?} not found in namespace {namespace}"
        )),
        None => Err(miette::miette!(
            "release {name:?} has no revision {revision}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_duration("5m0s"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn labels_parse_and_system_labels_are_refused() {
        let labels = parse_labels(&["a=1,b=2".into(), "c=null".into()]).unwrap();
        assert_eq!(labels.len(), 3);
        assert!(parse_labels(&["owner=me".into()]).is_err());
        assert!(parse_labels(&["novalue".into()]).is_err());
    }

    #[test]
    fn wait_and_dry_run_values() {
        assert_eq!(parse_wait(None).unwrap(), WaitStrategy::HookOnly);
        assert_eq!(parse_wait(Some("watcher")).unwrap(), WaitStrategy::Watcher);
        assert!(parse_wait(Some("soon")).is_err());
        assert_eq!(parse_dry_run(Some("server")).unwrap(), DryRun::Server);
        assert_eq!(parse_dry_run(None).unwrap(), DryRun::None);
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(
            ansic(Some("2026-01-02T03:04:05.5Z")),
            "Fri Jan  2 03:04:05 2026"
        );
        assert_eq!(
            go_time_string(Some("2026-01-02T03:04:05.5Z")),
            "2026-01-02 03:04:05.5 +0000 UTC"
        );
    }

    #[test]
    fn live_view_redraws_its_block_in_place() {
        use rudder::cluster::{ObjectRef, Readiness, WaitEvent};
        let object = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("prod".into()),
            name: "web".into(),
        };
        let update = |readiness| rudder::release::WaitProgress {
            event: WaitEvent {
                object: object.clone(),
                readiness,
            },
            elapsed: Duration::from_secs(3),
        };
        let mut view = LiveView::default();
        let first = view.update(&update(Readiness::Pending("0/2 replicas updated".into())));
        assert!(!first.contains("\x1b[2F"));
        assert!(
            first.contains("waiting: 0/1 ready, 3s elapsed"),
            "{first:?}"
        );
        assert!(
            first.contains("… Deployment prod/web: 0/2 replicas updated"),
            "{first:?}"
        );
        let second = view.update(&update(Readiness::Ready));
        assert!(second.starts_with("\x1b[2F"), "{second:?}");
        assert!(second.contains("waiting: 1/1 ready"), "{second:?}");
        assert!(
            second.contains("✓ Deployment prod/web: ready"),
            "{second:?}"
        );
    }
}
