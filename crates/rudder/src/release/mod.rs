//! Releases: Helm-format revision storage in Secrets and the verbs (install, upgrade, rollback,
//! uninstall), each verb's whole flow in its own file.
//!
//! Every verb follows Helm's lifecycle (pending-* → deployed | failed, the previous deployed
//! revision → superseded) and uses the next revision's Secret as the release's lock: creating it
//! fails with AlreadyExists while another operation holds the release.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::ClusterError;

pub(crate) mod apply;
mod hooks;
pub mod install;
pub mod lock;
pub mod plan;
pub mod rendering;
pub mod rollback;
pub mod storage;
pub mod store;
pub mod template;
pub mod test_hooks;
pub mod uninstall;
pub mod upgrade;

pub use apply::{OWNER_LABEL, RELEASE_NAMESPACE_ANNOTATION, RELEASE_NAME_ANNOTATION};
pub use store::Store;

/// Where progress goes (stderr at the CLI): plain lines, and readiness changes while waiting so a
/// terminal can show a live view. Never receives Secret values.
#[derive(Clone)]
pub struct Progress {
    line: Arc<dyn Fn(&str) + Send + Sync>,
    wait: Option<WaitView>,
}

/// A sink for readiness changes while waiting.
type WaitView = Arc<dyn Fn(&WaitProgress) + Send + Sync>;

/// The state of a wait after one object's readiness changed.
#[derive(Debug, Clone)]
pub struct WaitProgress {
    /// The object that changed.
    pub event: crate::cluster::WaitEvent,
    /// Time since the wait started.
    pub elapsed: Duration,
}

impl Progress {
    /// Progress as plain lines only; wait events become lines too.
    pub fn lines(line: impl Fn(&str) + Send + Sync + 'static) -> Progress {
        Progress {
            line: Arc::new(line),
            wait: None,
        }
    }

    /// Progress with a separate view of waits (a terminal's live view).
    pub fn with_wait_view(
        line: impl Fn(&str) + Send + Sync + 'static,
        wait: impl Fn(&WaitProgress) + Send + Sync + 'static,
    ) -> Progress {
        Progress {
            line: Arc::new(line),
            wait: Some(Arc::new(wait)),
        }
    }

    /// Reports one line.
    pub fn line(&self, text: &str) {
        (self.line)(text)
    }

    /// Reports a readiness change while waiting.
    pub fn wait(&self, update: &WaitProgress) {
        match &self.wait {
            Some(view) => view(update),
            None => (self.line)(&update.event.to_string()),
        }
    }
}

/// A progress sink that drops everything.
pub fn quiet() -> Progress {
    Progress::lines(|_: &str| {})
}

/// `--wait`: what to wait for after applying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Only hooks are waited for (Helm 4's default when `--wait` is omitted).
    #[default]
    HookOnly,
    /// Every object is watched until ready (a bare `--wait`).
    Watcher,
}

/// `--dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DryRun {
    #[default]
    None,
    /// Render only; talk to the cluster only to read.
    Client,
    /// Also send every object to the server with `dryRun=All`.
    Server,
}

/// How objects are applied and waited for: the flags install, upgrade and rollback share.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    pub wait: WaitStrategy,
    pub wait_for_jobs: bool,
    /// Bound of each wait (hooks, readiness), Helm's `--timeout`.
    pub timeout: Duration,
    pub no_hooks: bool,
    pub dry_run: DryRun,
    /// Adopt existing objects that belong to no release or another one.
    pub take_ownership: bool,
    /// Take fields from `Update` managers (kubectl edit, controllers) too.
    pub force_conflicts: bool,
    /// Delete and recreate objects whose change touches an immutable field.
    pub force_replace: bool,
    /// Restore the previous state if the operation fails (install: uninstall).
    pub rollback_on_failure: bool,
    /// Delete objects the failed operation created.
    pub cleanup_on_fail: bool,
    /// `--history-max` (0 = unlimited).
    pub history_max: usize,
    /// `--description`.
    pub description: Option<String>,
    /// `-l/--labels` for the release Secret (`k=null` removes on upgrade).
    pub labels: BTreeMap<String, String>,
    /// How many objects of one kind are applied at once.
    pub concurrency: usize,
    /// `--wait-for-lock`: how long to wait for another operation to release the release.
    pub wait_for_lock: Duration,
}

impl Default for ApplySettings {
    fn default() -> Self {
        ApplySettings {
            wait: WaitStrategy::HookOnly,
            wait_for_jobs: false,
            timeout: Duration::from_secs(300),
            no_hooks: false,
            dry_run: DryRun::None,
            take_ownership: false,
            force_conflicts: false,
            force_replace: false,
            rollback_on_failure: false,
            cleanup_on_fail: false,
            history_max: 10,
            description: None,
            labels: BTreeMap::new(),
            concurrency: 16,
            wait_for_lock: Duration::ZERO,
        }
    }
}

/// Why a release operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Release names are DNS-1123 labels of at most 53 characters.
    #[error("invalid release name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("release {name:?} not found in namespace {namespace}")]
    NotFound { name: String, namespace: String },
    #[error("release {name:?} has no revision {revision}")]
    NoRevision { name: String, revision: u64 },
    #[error("cannot install release {name:?}: the name is still in use (revision {revision} is {status}); use `rudder upgrade` or uninstall it first")]
    NameInUse {
        name: String,
        revision: u64,
        status: String,
    },
    #[error("release {name:?} has no deployed releases")]
    NoDeployedReleases { name: String },
    /// Another process holds the release.
    #[error("release {name} is being {operation} by {holder} since {since}")]
    Locked {
        name: String,
        operation: String,
        holder: String,
        since: String,
    },
    /// Another operation wrote the revision this one meant to write, and has finished.
    #[error("release {name} was changed by {holder} while this operation was being prepared (revision {revision} now exists); run it again")]
    Raced {
        name: String,
        revision: u64,
        holder: String,
    },
    /// An uninstall removed the revision this operation builds on while it was being prepared.
    #[error("release {name} was uninstalled by another operation while this one was being prepared (revision {revision} is gone); run it again")]
    UninstalledMeanwhile { name: String, revision: u64 },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error("cannot load chart: {0}")]
    Chart(#[from] crate::chart::ChartError),
    #[error("cannot compose values: {0}")]
    Values(#[from] crate::values::ValuesError),
    #[error("cannot render chart: {0}")]
    Render(#[from] crate::render::RenderError),
    #[error("{0}")]
    Manifest(#[from] crate::manifest::ManifestError),
    /// Objects exist that this release does not own.
    #[error("{count} object(s) already exist and do not belong to release {name} (use --take-ownership to adopt them):{list}", count = objects.len(), list = objects.iter().map(|o| format!("\n  {o}")).collect::<String>())]
    Ownership { name: String, objects: Vec<String> },
    /// Fields owned by other tools would be overwritten.
    #[error("{count} field(s) are owned by other field managers (use --force-conflicts to take them):{list}", count = conflicts.len(), list = conflicts.iter().map(|o| format!("\n  {o}")).collect::<String>())]
    Conflicts { conflicts: Vec<String> },
    /// A change to an immutable field.
    #[error("{object}: field {field} is immutable and would change (use --force-replace to delete and recreate the object)")]
    Immutable { object: String, field: String },
    /// The release record would exceed the Secret size limit.
    #[error("release {name} would be {size} bytes, over the 1 MiB Secret limit; largest parts:{list}", list = parts.iter().map(|(n, s)| format!("\n  {n}: {s} bytes")).collect::<String>())]
    TooLarge {
        name: String,
        size: usize,
        parts: Vec<(String, usize)>,
    },
    /// A hook failed.
    #[error("{event} hook {hook} failed: {reason}")]
    Hook {
        event: String,
        hook: String,
        reason: String,
    },
    /// Objects did not become ready.
    #[error(transparent)]
    Wait(#[from] crate::cluster::WaitError),
    /// The operation failed and was rolled back (or uninstalled).
    #[error("{failure}\n{recovery}")]
    RolledBack {
        failure: Box<ReleaseError>,
        recovery: String,
    },
    /// The final record of a revision could not be written: what is left, and how to repair it.
    #[error("cannot record revision {revision} of release {name} as {wanted}: {cause}\nthe release is left so: {state}\nto repair it: {repair}")]
    Unrecorded {
        name: String,
        revision: u64,
        wanted: String,
        state: String,
        repair: String,
        cause: Box<ReleaseError>,
    },
    /// An invalid combination of flags or inputs.
    #[error("{0}")]
    Usage(String),
    /// An upgrade plan that cannot be applied (`rudder upgrade --plan`).
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
}

/// Helm's release name rule (its `validName`), for error messages.
pub const NAME_RULE: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and at most 53 characters";

/// Checks a release name as Helm does: dot-separated DNS-1123 labels (lowercase letters, digits
/// and `-`, each starting and ending with a letter or digit), 53 characters at most. Checked
/// before a name goes into any request path.
pub fn validate_name(name: &str) -> Result<(), ReleaseError> {
    let invalid = |reason: &str| {
        Err(ReleaseError::InvalidName {
            name: name.to_string(),
            reason: format!("{reason} (Helm's rule: {NAME_RULE})"),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > 53 {
        return invalid("it is longer than 53 characters");
    }
    for label in name.split('.') {
        if let Err(reason) = check_label(label) {
            return invalid(reason);
        }
    }
    Ok(())
}

/// Checks a namespace: a DNS-1123 label of at most 63 characters, as Kubernetes requires. Checked
/// before a namespace goes into any request path (`-n ..` would otherwise walk the API's URLs).
pub fn validate_namespace(namespace: &str) -> Result<(), String> {
    if namespace.is_empty() {
        return Err("it is empty (leave the flag out to use the kubeconfig's namespace)".into());
    }
    if namespace.len() > 63 {
        return Err("it is longer than 63 characters".into());
    }
    check_label(namespace).map_err(|reason| {
        format!("{reason} (a namespace is a DNS-1123 label: lowercase letters, digits and '-')")
    })
}

/// One DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or
/// digit.
fn check_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("it has an empty part between dots");
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !label.chars().all(ok_char) {
        return Err("only lowercase letters, digits, '-' and '.' are allowed");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("each part must start and end with a letter or digit");
    }
    Ok(())
}

/// A name for `--generate-name`: `CHART-<unix seconds>` as Helm does.
pub fn generate_name(chart_name: &str) -> String {
    let base: String = chart_name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let base = base.trim_matches('-');
    let suffix = chrono::Utc::now().timestamp().to_string();
    let max_base = 53 - suffix.len() - 1;
    let base = &base[..base.len().min(max_base)];
    format!("{}-{suffix}", base.trim_end_matches('-'))
}

/// What a finished verb reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The revision written (for a dry run, the one that would be).
    pub release: storage::Release,
    /// Objects kept because of `helm.sh/resource-policy: keep` (uninstall, upgrade).
    pub kept: Vec<String>,
    /// Lines worth telling the user (CRDs skipped, a stale lock taken over...).
    pub notices: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_dns_labels_of_at_most_53_characters() {
        assert!(validate_name("web-1").is_ok());
        assert!(validate_name("Web").is_err());
        assert!(validate_name("-web").is_err());
        assert!(validate_name("web_1").is_err());
        assert!(validate_name(&"a".repeat(53)).is_ok());
        assert!(validate_name(&"a".repeat(54)).is_err());
        // Helm's rule allows dot-separated labels, and nothing that walks a URL path.
        assert!(validate_name("web.prod").is_ok());
        for bad in ["..", ".", "a..b", "a.", "../x", "a/b", "web.-x", ""] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_namespace("kube-system").is_ok());
        for bad in ["", "..", "a.b", "A", "-a", "a/b", &"a".repeat(64)] {
            assert!(validate_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_names_are_valid() {
        let name = generate_name("My_Chart");
        assert!(name.starts_with("my-chart-"), "{name}");
        assert!(validate_name(&name).is_ok());
        assert!(validate_name(&generate_name(&"x".repeat(80))).is_ok());
    }
}
