//! Reading and writing release revisions in the cluster (Helm's Secret driver).

use k8s_openapi::api::core::v1::Secret;

use crate::cluster::Cluster;

use super::storage::{self, LockInfo, Release, SecretWrite, Status};
use super::ReleaseError;

/// One stored revision with the Secret holding it.
#[derive(Debug, Clone)]
pub struct Revision {
    pub release: Release,
    pub secret: Secret,
}

/// Release records of one cluster.
#[derive(Clone)]
pub struct Store {
    cluster: Cluster,
}

impl Store {
    /// Release storage in `cluster`.
    pub fn new(cluster: Cluster) -> Store {
        Store { cluster }
    }

    /// The cluster the store writes to.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Every revision of `name` in `namespace`, oldest first (one request).
    pub async fn history(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<Revision>, ReleaseError> {
        let selector = format!("name={name},owner=helm");
        let secrets = self
            .cluster
            .list_secrets(Some(namespace), &selector)
            .await?;
        let mut out = Vec::new();
        for secret in secrets {
            let release = storage::from_secret(&secret)?;
            out.push(Revision { release, secret });
        }
        out.sort_by_key(|r| r.release.version);
        Ok(out)
    }

    /// The latest revision of every release in `namespace` (all namespaces for `None`).
    pub async fn list(&self, namespace: Option<&str>) -> Result<Vec<Release>, ReleaseError> {
        let secrets = self.cluster.list_secrets(namespace, "owner=helm").await?;
        let mut latest: std::collections::BTreeMap<(String, String), Release> = Default::default();
        for secret in &secrets {
            // Helm skips records it cannot decode when listing; so do we.
            let Ok(release) = storage::from_secret(secret) else {
                continue;
            };
            let key = (release.namespace.clone(), release.name.clone());
            match latest.get(&key) {
                Some(existing) if existing.version >= release.version => {}
                _ => {
                    latest.insert(key, release);
                }
            }
        }
        Ok(latest.into_values().collect())
    }

    /// One revision, `None` when it does not exist.
    pub async fn revision(
        &self,
        namespace: &str,
        name: &str,
        version: u64,
    ) -> Result<Option<Revision>, ReleaseError> {
        let secret = self
            .cluster
            .get_secret(namespace, &storage::secret_name(name, version))
            .await?;
        let Some(secret) = secret else {
            return Ok(None);
        };
        let release = storage::from_secret(&secret)?;
        Ok(Some(Revision { release, secret }))
    }

    /// Stores a new revision. AlreadyExists means another operation holds the release: the
    /// error names the holder.
    pub async fn create(
        &self,
        release: &Release,
        lock: Option<&LockInfo>,
    ) -> Result<(), ReleaseError> {
        let secret = storage::to_secret(release, SecretWrite::Create, lock);
        match self.cluster.create_secret(&secret).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Err(self.holder_error(release).await),
            Err(e) => Err(e.into()),
        }
    }

    async fn holder_error(&self, release: &Release) -> ReleaseError {
        let existing = self
            .cluster
            .get_secret(&release.namespace, &release.secret_name())
            .await
            .ok()
            .flatten();
        let Some(secret) = existing else {
            return locked_error(&release.name, release.status(), None, None);
        };
        let status = storage::from_secret(&secret)
            .map(|r| r.status())
            .unwrap_or(Status::Unknown);
        if !status.holds_lock() {
            return ReleaseError::Raced {
                name: release.name.clone(),
                revision: release.version,
                holder: storage::lock_of(&secret)
                    .map(|l| l.holder)
                    .unwrap_or_else(|| "another client".to_string()),
            };
        }
        locked_error(
            &release.name,
            status,
            storage::lock_of(&secret),
            storage::last_sign_of_life(&secret),
        )
    }

    /// Rewrites a revision (status changes), with lock annotations while it is pending.
    pub async fn update(
        &self,
        release: &Release,
        lock: Option<&LockInfo>,
    ) -> Result<(), ReleaseError> {
        let secret = storage::to_secret(release, SecretWrite::Update, lock);
        self.cluster.replace_secret(&secret).await?;
        Ok(())
    }

    /// Rewrites a revision only if its Secret still has `resource_version` (optimistic
    /// concurrency): the new resourceVersion, or `None` when another process wrote or deleted it
    /// meanwhile.
    pub async fn update_if_unchanged(
        &self,
        release: &Release,
        lock: Option<&LockInfo>,
        resource_version: &str,
    ) -> Result<Option<String>, ReleaseError> {
        let mut secret = storage::to_secret(release, SecretWrite::Update, lock);
        secret.metadata.resource_version = Some(resource_version.to_string());
        match self.cluster.replace_secret(&secret).await {
            Ok(written) => Ok(Some(written.metadata.resource_version.unwrap_or_default())),
            Err(e) if e.is_conflict() || e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes one revision's record.
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
        version: u64,
    ) -> Result<(), ReleaseError> {
        self.cluster
            .delete_secret(namespace, &storage::secret_name(name, version))
            .await?;
        Ok(())
    }

    /// Removes the oldest revisions so that at most `max - 1` remain before a new one is stored
    /// (never the deployed one); `0` keeps all.
    pub async fn prune(&self, history: &[Revision], max: usize) -> Result<(), ReleaseError> {
        let releases: Vec<Release> = history.iter().map(|r| r.release.clone()).collect();
        for version in storage::revisions_to_prune(&releases, max) {
            if let Some(r) = history.iter().find(|r| r.release.version == version) {
                self.delete(&r.release.namespace, &r.release.name, version)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The verb of a pending status, for lock messages.
fn operation_of(status: Status) -> &'static str {
    match status {
        Status::PendingInstall => "installed",
        Status::PendingRollback => "rolled back",
        Status::Uninstalling => "uninstalled",
        _ => "upgraded",
    }
}

/// "release web is being upgraded by rudder pid 4242 on host ci-7 since 12:01:03".
pub fn locked_error(
    name: &str,
    status: Status,
    lock: Option<LockInfo>,
    last_seen: Option<chrono::DateTime<chrono::Utc>>,
) -> ReleaseError {
    let (holder, since) = match lock {
        Some(lock) => {
            let since = storage::parse_time(&lock.since)
                .map(|t| t.format("%H:%M:%S UTC").to_string())
                .unwrap_or(lock.since);
            (lock.holder, since)
        }
        None => (
            "another client (no rudder lock record: Helm?)".to_string(),
            last_seen
                .map(|t| t.format("%H:%M:%S UTC").to_string())
                .unwrap_or_else(|| "an unknown time".to_string()),
        ),
    };
    ReleaseError::Locked {
        name: name.to_string(),
        operation: operation_of(status).to_string(),
        holder,
        since,
    }
}

/// The newest revision.
pub fn latest(history: &[Revision]) -> Option<&Revision> {
    history.last()
}

/// The newest deployed revision.
pub fn last_deployed(history: &[Revision]) -> Option<&Revision> {
    history
        .iter()
        .rev()
        .find(|r| r.release.status() == Status::Deployed)
}
