//! The release lock: the next revision's Secret, created pending, kept alive by a heartbeat.
//!
//! A pending revision whose heartbeat is older than its recorded timeout belongs to a process
//! that died; the next operation marks it failed and proceeds, saying so.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::storage::{self, LockInfo, Release, Status};
use super::store::{locked_error, Revision, Store};
use super::ReleaseError;

/// A held release lock.
pub struct Held {
    store: Store,
    info: LockInfo,
    /// `true` once the final record is written; the heartbeat stops writing then.
    done: Arc<Mutex<bool>>,
    task: tokio::task::JoinHandle<()>,
}

/// How often the holder proves it is alive: a third of the timeout, between 1 and 30 seconds.
fn heartbeat_interval(timeout: Duration) -> Duration {
    (timeout / 3).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Creates the pending revision (the lock) and starts its heartbeat.
pub async fn acquire(
    store: &Store,
    pending: &Release,
    timeout: Duration,
) -> Result<Held, ReleaseError> {
    let info = LockInfo::for_this_process(timeout.as_secs().max(1));
    store.create(pending, Some(&info)).await?;
    let done = Arc::new(Mutex::new(false));
    let task = {
        let store = store.clone();
        let done = done.clone();
        let pending = pending.clone();
        let mut beat = info.clone();
        tokio::spawn(async move {
            let interval = heartbeat_interval(timeout);
            loop {
                tokio::time::sleep(interval).await;
                let finished = done.lock().await;
                if *finished {
                    return;
                }
                beat.heartbeat = storage::now_go();
                if let Err(e) = store.update(&pending, Some(&beat)).await {
                    tracing::debug!("heartbeat failed: {e}");
                }
                drop(finished);
            }
        })
    };
    Ok(Held {
        store: store.clone(),
        info,
        done,
        task,
    })
}

impl Held {
    /// Writes the final record of the revision (deployed or failed) and releases the lock.
    pub async fn finish(self, final_record: &Release) -> Result<(), ReleaseError> {
        {
            let mut finished = self.done.lock().await;
            *finished = true;
        }
        self.task.abort();
        // The holder stays recorded (Helm ignores it): a racing operation can then say who
        // wrote the revision it lost to.
        self.store.update(final_record, Some(&self.info)).await
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
    if !status.is_pending() {
        return Ok(None);
    }
    let lock = storage::lock_of(&latest.secret);
    let last_seen = storage::last_sign_of_life(&latest.secret);
    let timeout = lock.as_ref().map(|l| l.timeout_seconds).unwrap_or(300);
    let now = chrono::Utc::now();
    let stale = last_seen.is_none_or(|t| (now - t).num_seconds() > timeout as i64);
    if !stale {
        return Err(locked_error(&latest.release.name, status, lock, last_seen));
    }
    let holder = lock
        .as_ref()
        .map(|l| l.holder.clone())
        .unwrap_or_else(|| "another client".to_string());
    let seen = last_seen
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "an unknown time".to_string());
    let description = format!(
        "{} interrupted: {holder} stopped responding (last heartbeat {seen}, timeout {timeout}s); taken over by rudder pid {}",
        status,
        std::process::id()
    );
    latest
        .release
        .set_status(Status::Failed, description.clone());
    store.update(&latest.release, None).await?;
    Ok(Some(format!(
        "revision {} of release {} was left {status} by {holder}; marked it failed and took over",
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
    if !status.is_pending() {
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
