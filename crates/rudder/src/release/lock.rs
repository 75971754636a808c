//! The release lock: the next revision's Secret, created pending, kept alive by a heartbeat.
//!
//! A pending revision whose heartbeat is older than its recorded timeout belongs to a process
//! that died; the next operation marks it failed and proceeds, saying so.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::storage::{self, LockInfo, Release, Status};
use super::store::{locked_error, Revision, Store};
use super::{Progress, ReleaseError};

/// Where a held lock stands; the heartbeat and an interruption write only while it is held.
enum Stage {
    Held,
    /// The final record is being written (an interruption writes it again).
    Finishing(Box<Release>),
    Written,
}

/// What a held lock shares with its heartbeat and with [`interrupt_all`].
struct Shared {
    store: Store,
    /// The revision as locked (pending, or uninstalling).
    record: Release,
    info: LockInfo,
    stage: Mutex<Stage>,
}

/// The locks this process holds, so that a signal can record them before rudder exits.
static HELD: StdMutex<Vec<Arc<Shared>>> = StdMutex::new(Vec::new());

fn registry() -> std::sync::MutexGuard<'static, Vec<Arc<Shared>>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long writing the final record may keep trying after the operation itself ended.
const FINISH_BUDGET: Duration = Duration::from_secs(10);

/// A held release lock.
pub struct Held {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// How often the holder proves it is alive: a third of the timeout, between 1 and 30 seconds.
fn heartbeat_interval(timeout: Duration) -> Duration {
    (timeout / 3).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Creates the pending revision (the lock) and starts its heartbeat.
///
/// An uninstall marks the latest revision `uninstalling` instead of creating one; if it did so
/// after this operation read the history, the pending revision is deleted again and the error
/// names the uninstall (each side checks the other after writing, so one of them backs off).
pub async fn acquire(
    store: &Store,
    pending: &Release,
    timeout: Duration,
) -> Result<Held, ReleaseError> {
    let info = LockInfo::for_this_process(timeout.as_secs().max(1));
    store.create(pending, Some(&info)).await?;
    if let Err(e) = check_not_uninstalling(store, pending).await {
        if let Err(undo) = store
            .delete(&pending.namespace, &pending.name, pending.version)
            .await
        {
            tracing::debug!("cannot delete the revision this operation backed off from: {undo}");
        }
        return Err(e);
    }
    Ok(start(store, pending.clone(), info, timeout))
}

/// After creating revision N: revision N-1 must still be there and not being uninstalled. An
/// uninstall writes N-1 then reads N; this writes N then reads N-1: whatever the interleaving,
/// at least one of the two sees the other and backs off.
async fn check_not_uninstalling(store: &Store, pending: &Release) -> Result<(), ReleaseError> {
    if pending.version <= 1 {
        return Ok(());
    }
    let previous = store
        .revision(&pending.namespace, &pending.name, pending.version - 1)
        .await?;
    match previous {
        // A purging uninstall deleted the history this revision was built on.
        None => Err(ReleaseError::UninstalledMeanwhile {
            name: pending.name.clone(),
            revision: pending.version - 1,
        }),
        Some(p) if p.release.status() == Status::Uninstalling && !is_stale(&p) => {
            Err(locked_error(
                &pending.name,
                Status::Uninstalling,
                storage::lock_of(&p.secret),
                storage::last_sign_of_life(&p.secret),
            ))
        }
        _ => Ok(()),
    }
}

/// Holds the release through its latest revision (uninstall): rewrites `record` (already in
/// its lock-holding status, as read in `latest`) with the lock annotations, only if nobody wrote
/// it since it was read; then checks that no operation created a newer revision meanwhile. If
/// one did, puts the revision back as read (unless the other operation already rewrote it) and
/// names the other operation.
pub async fn hold(
    store: &Store,
    record: &Release,
    latest: &Revision,
    timeout: Duration,
) -> Result<Held, ReleaseError> {
    let info = LockInfo::for_this_process(timeout.as_secs().max(1));
    let read_version = latest.secret.metadata.resource_version.clone();
    let written = match &read_version {
        Some(rv) => store.update_if_unchanged(record, Some(&info), rv).await?,
        None => {
            store.update(record, Some(&info)).await?;
            None
        }
    };
    if read_version.is_some() && written.is_none() {
        return Err(changed_meanwhile(store, record).await);
    }
    let put_back = || async {
        // A winner that superseded this revision meanwhile wrote it last: leave its word.
        let restored = match &written {
            Some(rv) => store
                .update_if_unchanged(&latest.release, None, rv)
                .await
                .map(|_| ()),
            None => store.update(&latest.release, None).await,
        };
        if let Err(e) = restored {
            tracing::debug!("cannot put back the revision this uninstall backed off from: {e}");
        }
    };
    let newer = store
        .revision(&record.namespace, &record.name, record.version + 1)
        .await;
    let newer = match newer {
        Ok(newer) => newer,
        Err(e) => {
            put_back().await;
            return Err(e);
        }
    };
    if let Some(newer) = newer {
        put_back().await;
        return Err(other_operation(record, &newer));
    }
    Ok(start(store, record.clone(), info, timeout))
}

/// The error naming the operation that wrote `newer` while this one prepared.
fn other_operation(record: &Release, newer: &Revision) -> ReleaseError {
    let status = newer.release.status();
    if status.holds_lock() {
        locked_error(
            &record.name,
            status,
            storage::lock_of(&newer.secret),
            storage::last_sign_of_life(&newer.secret),
        )
    } else {
        ReleaseError::Raced {
            name: record.name.clone(),
            revision: newer.release.version,
            holder: storage::lock_of(&newer.secret)
                .map(|l| l.holder)
                .unwrap_or_else(|| "another client".to_string()),
        }
    }
}

/// The error when `record`'s revision was written or deleted by another process after this one
/// read it: the newest revision names that process.
async fn changed_meanwhile(store: &Store, record: &Release) -> ReleaseError {
    let history = match store.history(&record.namespace, &record.name).await {
        Ok(history) => history,
        Err(e) => return e,
    };
    match history.last() {
        None => ReleaseError::UninstalledMeanwhile {
            name: record.name.clone(),
            revision: record.version,
        },
        Some(newest) => other_operation(record, newest),
    }
}

fn start(store: &Store, record: Release, info: LockInfo, timeout: Duration) -> Held {
    let shared = Arc::new(Shared {
        store: store.clone(),
        record,
        info,
        stage: Mutex::new(Stage::Held),
    });
    registry().push(shared.clone());
    let task = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let interval = heartbeat_interval(timeout);
            let mut beat = shared.info.clone();
            loop {
                tokio::time::sleep(interval).await;
                let stage = shared.stage.lock().await;
                if !matches!(*stage, Stage::Held) {
                    return;
                }
                beat.heartbeat = storage::now_go();
                if let Err(e) = shared.store.update(&shared.record, Some(&beat)).await {
                    tracing::debug!("heartbeat failed: {e}");
                }
                drop(stage);
            }
        })
    };
    Held { shared, task }
}

impl Held {
    /// Writes the final record of the revision (deployed, failed, uninstalled) and releases the
    /// lock. The write is tried again for a few seconds; if it still fails, the error says what
    /// state the release was left in and how to repair it.
    pub async fn finish(self, final_record: &Release) -> Result<(), ReleaseError> {
        *self.shared.stage.lock().await = Stage::Finishing(Box::new(final_record.clone()));
        self.task.abort();
        let started = Instant::now();
        // The operation's deadline may have passed: recording its end has a budget of its own.
        let store = Store::new(self.shared.store.cluster().with_budget(FINISH_BUDGET));
        let result = loop {
            // The holder stays recorded (Helm ignores it): a racing operation can then say who
            // wrote the revision it lost to.
            match store.update(final_record, Some(&self.shared.info)).await {
                Ok(()) => break Ok(()),
                Err(e) if started.elapsed() + Duration::from_secs(1) < FINISH_BUDGET => {
                    tracing::debug!("cannot write the final record yet: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => break Err(e),
            }
        };
        *self.shared.stage.lock().await = Stage::Written;
        self.unregister();
        result.map_err(|e| unrecorded(&self.shared.record, final_record, e))
    }

    /// Marks the deployed revisions among `earlier` superseded, then writes the final record
    /// (see [`Held::finish`]). Both are tried again for a few seconds. If an earlier revision
    /// cannot be superseded, this revision is not recorded deployed (that would make two): it is
    /// recorded failed, and the error says which revision is still deployed, what is applied,
    /// and how to repair it.
    pub async fn finish_superseding(
        self,
        final_record: &Release,
        earlier: &[Revision],
    ) -> Result<(), ReleaseError> {
        let store = Store::new(self.shared.store.cluster().with_budget(FINISH_BUDGET));
        let Err((still_deployed, cause)) = supersede(&store, earlier).await else {
            return self.finish(final_record).await;
        };
        let locked = self.shared.record.clone();
        let (name, version) = (&locked.name, locked.version);
        let wanted = final_record.status();
        let mut written = final_record.clone();
        if wanted == Status::Deployed {
            written.set_status(
                Status::Failed,
                format!(
                    "{} applied, but revision {still_deployed} could not be marked superseded: {cause}",
                    locked.status().operation()
                ),
            );
        }
        let recorded = self.finish(&written).await.is_ok();
        let applied = if wanted == Status::Deployed {
            format!("the objects of revision {version} are applied")
        } else {
            "the release's objects were deleted (some of them, if it failed)".to_string()
        };
        let this = if recorded {
            format!("revision {version} is recorded {}", written.status())
        } else {
            format!(
                "revision {version} is still {} (the lock of this process)",
                locked.status()
            )
        };
        let state =
            format!("revision {still_deployed} is still deployed although {applied}; {this}");
        let unlock = if recorded {
            String::new()
        } else {
            format!("run `rudder unlock {name}` (it marks revision {version} failed), then ")
        };
        let repair = if wanted == Status::Deployed {
            format!(
                "{unlock}run `rudder rollback {name} {version}` to record revision {version} deployed (or `rudder rollback {name} {still_deployed}` to return to revision {still_deployed})"
            )
        } else {
            format!("{unlock}run `rudder uninstall {name}` again")
        };
        Err(ReleaseError::Unrecorded {
            name: name.clone(),
            revision: version,
            wanted: wanted.to_string(),
            state,
            repair,
            cause: Box::new(cause),
        })
    }

    /// Stops the heartbeat without writing: the revision's records were deleted (a purging
    /// uninstall).
    pub async fn release(self) {
        *self.shared.stage.lock().await = Stage::Written;
        self.task.abort();
        self.unregister();
    }

    fn unregister(&self) {
        registry().retain(|s| !Arc::ptr_eq(s, &self.shared));
    }
}

/// Marks the deployed revisions among `earlier` superseded. Each is read again and rewritten
/// only if unchanged since (an uninstall that backs off may put it back meanwhile; a deleted one
/// is skipped), tried again until [`FINISH_BUDGET`] is spent. The error names the revision left
/// deployed.
async fn supersede(store: &Store, earlier: &[Revision]) -> Result<(), (u64, ReleaseError)> {
    let started = Instant::now();
    for revision in earlier
        .iter()
        .filter(|r| r.release.status() == Status::Deployed)
    {
        let version = revision.release.version;
        // First as read with the history (one request when nothing changed since), then as
        // read again.
        let mut known = Some(revision.clone());
        loop {
            let error = match supersede_one(store, &revision.release, known.take()).await {
                Ok(true) => break,
                Ok(false) => ReleaseError::Raced {
                    name: revision.release.name.clone(),
                    revision: version,
                    holder: "another operation".to_string(),
                },
                Err(e) => e,
            };
            if started.elapsed() + Duration::from_secs(1) >= FINISH_BUDGET {
                return Err((version, error));
            }
            tracing::debug!("cannot mark revision {version} superseded yet: {error}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// One attempt at superseding `release` (`current`: its record as last read, else it is read
/// now): `false` when another process wrote it in between.
async fn supersede_one(
    store: &Store,
    release: &Release,
    current: Option<Revision>,
) -> Result<bool, ReleaseError> {
    let current = match current {
        Some(current) => Some(current),
        None => {
            store
                .revision(&release.namespace, &release.name, release.version)
                .await?
        }
    };
    let Some(current) = current else {
        return Ok(true);
    };
    // `uninstalling` here belongs to an uninstall that saw this operation's revision and backs off.
    if !matches!(
        current.release.status(),
        Status::Deployed | Status::Uninstalling
    ) {
        return Ok(true);
    }
    let mut old = current.release.clone();
    let description = old
        .info
        .as_ref()
        .map(|i| i.description.clone())
        .unwrap_or_default();
    old.set_status(Status::Superseded, description);
    match &current.secret.metadata.resource_version {
        Some(rv) => Ok(store.update_if_unchanged(&old, None, rv).await?.is_some()),
        None => store.update(&old, None).await.map(|()| true),
    }
}

/// The error when the final record of a revision cannot be written: what state the release is
/// left in, and the commands that repair it.
fn unrecorded(locked: &Release, wanted: &Release, cause: ReleaseError) -> ReleaseError {
    let name = &locked.name;
    let version = locked.version;
    let left = locked.status();
    let mut state = format!("revision {version} is still {left} (the lock of this process)");
    if wanted.status() == Status::Deployed {
        state.push_str(&format!(
            ", and no revision of release {name} is marked deployed although revision {version}'s objects are applied"
        ));
    }
    let repair = if left == Status::Uninstalling {
        format!("run `rudder unlock {name}` and then `rudder uninstall {name}` again")
    } else if wanted.status() == Status::Deployed {
        format!(
            "run `rudder unlock {name}` (it marks revision {version} failed), then `rudder rollback {name} {version}` to record it deployed"
        )
    } else {
        format!("run `rudder unlock {name}` (it marks revision {version} failed), then `rudder rollback {name}` or upgrade again")
    };
    ReleaseError::Unrecorded {
        name: name.clone(),
        revision: version,
        wanted: wanted.status().to_string(),
        state,
        repair,
        cause: Box::new(cause),
    }
}

/// Records every lock this process holds as failed, "interrupted by `signal`" (or writes the
/// final record an operation was writing), so that nothing is left pending. Called once on
/// SIGINT/SIGTERM after the operation stopped. Returns one line per release for stderr.
pub async fn interrupt_all(signal: &str) -> Vec<String> {
    let held: Vec<Arc<Shared>> = registry().drain(..).collect();
    let mut lines = Vec::new();
    for shared in held {
        let mut stage = shared.stage.lock().await;
        let record = match &*stage {
            Stage::Written => continue,
            Stage::Finishing(final_record) => (**final_record).clone(),
            Stage::Held => {
                let mut record = shared.record.clone();
                let status = record.status();
                record.set_status(
                    Status::Failed,
                    format!("{} interrupted by {signal}", status.operation()),
                );
                record
            }
        };
        *stage = Stage::Written;
        let (name, version) = (&record.name, record.version);
        let store = Store::new(shared.store.cluster().with_budget(FINISH_BUDGET));
        match store.update(&record, Some(&shared.info)).await {
            Ok(()) => lines.push(format!(
                "interrupted by {signal}: revision {version} of release {name} recorded {}, lock released",
                record.status()
            )),
            Err(e) => lines.push(format!(
                "interrupted by {signal}: cannot record revision {version} of release {name} ({e}); it is left {}: run `rudder unlock {name}`",
                shared.record.status()
            )),
        }
    }
    lines
}

/// Whether a lock-holding revision's holder stopped heartbeating for longer than its timeout.
fn is_stale(revision: &Revision) -> bool {
    let lock = storage::lock_of(&revision.secret);
    if lock.as_ref().is_some_and(LockInfo::holder_has_exited) {
        return true;
    }
    let timeout = lock.map_or(300, |l| l.timeout_seconds);
    let last_seen = storage::last_sign_of_life(&revision.secret);
    let now = chrono::Utc::now();
    last_seen.is_none_or(|t| (now - t).num_seconds() > timeout as i64)
}

/// Waits for the release's turn: like [`take_over_if_stale`], but while another live operation
/// holds the release, reads the history again every second for up to `wait_for_lock`
/// (`--wait-for-lock`) before giving up with the error naming the holder.
pub async fn await_turn(
    store: &Store,
    history: &mut Vec<Revision>,
    wait_for_lock: Duration,
    progress: &Progress,
) -> Result<Option<String>, ReleaseError> {
    let started = Instant::now();
    let mut said = false;
    loop {
        match take_over_if_stale(store, history).await {
            Err(locked @ ReleaseError::Locked { .. }) => {
                if started.elapsed() >= wait_for_lock {
                    return Err(locked);
                }
                if !said {
                    progress.line(&format!(
                        "{locked}; waiting up to {}s for it (--wait-for-lock)",
                        wait_for_lock.as_secs()
                    ));
                    said = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(latest) = history.last() else {
                    return Err(locked);
                };
                let (namespace, name) = (
                    latest.release.namespace.clone(),
                    latest.release.name.clone(),
                );
                *history = store.history(&namespace, &name).await?;
            }
            other => return other,
        }
    }
}

/// Whether the newest revision is pending. If its holder is alive, fails naming it; if the
/// holder stopped heartbeating for longer than its timeout, marks the revision failed and returns
/// a notice saying so.
pub async fn take_over_if_stale(
    store: &Store,
    history: &mut [Revision],
) -> Result<Option<String>, ReleaseError> {
    let Some(latest) = history.last_mut() else {
        return Ok(None);
    };
    let status = latest.release.status();
    if !status.holds_lock() {
        return Ok(None);
    }
    let lock = storage::lock_of(&latest.secret);
    let last_seen = storage::last_sign_of_life(&latest.secret);
    let timeout = lock.as_ref().map(|l| l.timeout_seconds).unwrap_or(300);
    let exited = lock.as_ref().is_some_and(LockInfo::holder_has_exited);
    if !is_stale(latest) {
        return Err(locked_error(&latest.release.name, status, lock, last_seen));
    }
    let holder = lock
        .as_ref()
        .map(|l| l.holder.clone())
        .unwrap_or_else(|| "another client".to_string());
    let seen = last_seen
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "an unknown time".to_string());
    let why = if exited {
        format!("{holder} no longer runs (last heartbeat {seen})")
    } else {
        format!("{holder} stopped responding (last heartbeat {seen}, timeout {timeout}s)")
    };
    let description = format!(
        "{status} interrupted: {why}; taken over by rudder pid {}",
        std::process::id()
    );
    latest
        .release
        .set_status(Status::Failed, description.clone());
    // Two operations may find the same abandoned lock: only the first one's write counts.
    if let Some(rv) = latest.secret.metadata.resource_version.clone() {
        match store
            .update_if_unchanged(&latest.release, None, &rv)
            .await?
        {
            // An uninstall goes on to rewrite this revision: from what was just written.
            Some(written) => latest.secret.metadata.resource_version = Some(written),
            None => return Err(changed_meanwhile(store, &latest.release).await),
        }
    } else {
        store.update(&latest.release, None).await?;
    }
    let gone = if exited {
        "which no longer runs"
    } else {
        "which stopped responding"
    };
    Ok(Some(format!(
        "revision {} of release {} was left {status} by {holder}, {gone}; marked it failed and took over",
        latest.release.version, latest.release.name
    )))
}

/// `rudder unlock`: marks the newest revision failed if it is pending, whoever holds it.
/// Returns what was released, or `None` when the release was not locked.
pub async fn unlock(
    store: &Store,
    namespace: &str,
    name: &str,
) -> Result<Option<String>, ReleaseError> {
    let history = store.history(namespace, name).await?;
    let Some(latest) = history.last() else {
        return Err(ReleaseError::NotFound {
            name: name.to_string(),
            namespace: namespace.to_string(),
        });
    };
    let status = latest.release.status();
    if !status.holds_lock() {
        return Ok(None);
    }
    let holder = storage::lock_of(&latest.secret)
        .map(|l| l.holder)
        .unwrap_or_else(|| "another client".to_string());
    let mut record = latest.release.clone();
    record.set_status(
        Status::Failed,
        format!("{status} interrupted: lock held by {holder} released by rudder unlock"),
    );
    store.update(&record, None).await?;
    Ok(Some(format!(
        "released the lock of release {name}: revision {} ({status}, held by {holder}) is now failed",
        record.version
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_is_a_third_of_the_timeout_within_bounds() {
        assert_eq!(
            heartbeat_interval(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            heartbeat_interval(Duration::from_secs(9)),
            Duration::from_secs(3)
        );
        assert_eq!(
            heartbeat_interval(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
