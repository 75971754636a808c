//! `test`: runs the `test` hooks of the deployed revision and records their runs.

use crate::cluster::Cluster;

use super::apply::Context;
use super::storage::Release;
use super::{hooks, lock, store, ApplySettings, Progress, ReleaseError, Store};

/// Runs a release's test hooks (only those whose name matches `filter`, if any). The revision's
/// record is updated with each hook's last run, pass or fail.
pub async fn run_tests(
    cluster: &Cluster,
    namespace: Option<&str>,
    name: &str,
    settings: &ApplySettings,
    progress: &Progress,
) -> Result<(Release, Result<(), ReleaseError>), ReleaseError> {
    // `--timeout` bounds every request and wait of the operation from here on.
    let bounded = cluster.with_budget(settings.timeout);
    let cluster = &bounded;
    let namespace = namespace.map_or_else(|| cluster.namespace().to_string(), str::to_string);
    let store = Store::new(cluster.clone());
    let mut history = store.history(&namespace, name).await?;
    // Tests run against what the release is; not while another operation changes it.
    if let Some(notice) =
        lock::await_turn(&store, &mut history, settings.wait_for_lock, progress).await?
    {
        progress.line(&notice);
    }
    let Some(revision) = store::last_deployed(&history).or_else(|| history.last()) else {
        return Err(ReleaseError::NotFound {
            name: name.to_string(),
            namespace,
        });
    };
    let mut record = revision.release.clone();
    let ctx = Context {
        cluster,
        name,
        namespace: &namespace,
        settings,
        progress,
    };
    let result = hooks::run(&ctx, &mut record.hooks, "test").await;
    store.update(&record, None).await?;
    Ok((record, result))
}
