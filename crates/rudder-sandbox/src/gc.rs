//! The garbage collector's foreground deletion: an owner deleted with `propagationPolicy:
//! Foreground` keeps existing, with a `deletionTimestamp` and the `foregroundDeletion`
//! finalizer, while the collector deletes its dependents (themselves in the foreground); once no
//! dependent with `blockOwnerDeletion` is left, the finalizer goes and so does the owner.
//!
//! Background deletion and orphaning need no waiting and happen in the API request itself
//! (see `rest.rs`); this task always runs, with or without the simulated controllers, as the
//! garbage collector of a real cluster does.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::clock::Clock;
use super::store::{ChangeKind, ObjectKey, State, Store, Txn};

/// The finalizer an owner carries while its dependents are deleted first.
pub const FOREGROUND: &str = "foregroundDeletion";

/// Whether `object` is being deleted in the foreground.
pub fn waits_for_dependents(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null() && has_finalizer(object, FOREGROUND)
}

fn has_finalizer(object: &Value, name: &str) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == name))
}

/// Starts the collector; `step` is how long each level of dependents takes to go (so the
/// owner's waiting state can be seen, as in a real cluster).
pub fn spawn(store: Arc<Store>, clock: Arc<Clock>, step: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (existing, mut rx) = store.subscribe(|state| state.all_objects_with_keys());
        for (key, object) in existing {
            if waits_for_dependents(&object) {
                schedule(&store, &clock, step, key);
            }
        }
        loop {
            match rx.recv().await {
                Ok(change) => {
                    if change.kind != ChangeKind::Deleted {
                        if waits_for_dependents(&change.object) {
                            schedule(&store, &clock, step, change.key.clone());
                        }
                        continue;
                    }
                    // A dependent went: its owners may be done waiting.
                    let owners = store
                        .read(|state| waiting_owners(state, &change.key.namespace, &change.object));
                    for owner in owners {
                        schedule(&store, &clock, step, owner);
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let waiting = store.read(|state| {
                        state
                            .all_objects_with_keys()
                            .into_iter()
                            .filter(|(_, o)| waits_for_dependents(o))
                            .map(|(k, _)| k)
                            .collect::<Vec<_>>()
                    });
                    for key in waiting {
                        schedule(&store, &clock, step, key);
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}

fn schedule(store: &Arc<Store>, clock: &Arc<Clock>, step: Duration, key: ObjectKey) {
    let store = store.clone();
    let clock = clock.clone();
    tokio::spawn(async move {
        clock.sleep(step).await;
        let _ = store.write(false, |txn| {
            collect(txn, &key);
            Ok::<_, ()>(())
        });
    });
}

/// One pass over an owner in foreground deletion: deletes its dependents (in the foreground),
/// then drops its finalizer when no blocking dependent is left.
fn collect(txn: &mut Txn<'_>, key: &ObjectKey) {
    let Some(owner) = txn.get(key) else { return };
    if !waits_for_dependents(&owner) {
        return;
    }
    let uid = owner["metadata"]["uid"].as_str().unwrap_or_default();
    if uid.is_empty() {
        return;
    }
    for (dependent, object) in dependents(txn, uid) {
        if object["metadata"]["deletionTimestamp"].is_null() {
            if let Some(rt) = txn.catalog().by_key(&dependent.resource) {
                super::rest::delete_object(txn, &rt, &dependent, "Foreground");
            }
        }
    }
    let blocked = dependents(txn, uid).iter().any(|(_, o)| {
        o["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["uid"] == uid && r["blockOwnerDeletion"] == true)
    });
    if blocked {
        return;
    }
    let mut owner = (*owner).clone();
    if let Some(finalizers) = owner["metadata"]["finalizers"].as_array_mut() {
        finalizers.retain(|f| f != FOREGROUND);
    }
    // The store removes an object whose deletion is pending once its last finalizer is gone.
    txn.put(key, owner);
}

/// Objects whose ownerReferences name `uid`.
pub fn dependents(txn: &Txn<'_>, uid: &str) -> Vec<(ObjectKey, Arc<Value>)> {
    txn.state()
        .all_objects_with_keys()
        .into_iter()
        .filter(|(_, o)| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .collect()
}

/// The owners of `dependent` (in `namespace`) that are being deleted in the foreground.
fn waiting_owners(state: &State, namespace: &str, dependent: &Value) -> Vec<ObjectKey> {
    let mut out = Vec::new();
    for reference in dependent["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(gvk) = super::gvk_of(reference) else {
            continue;
        };
        let Some(rt) = state.catalog().by_gvk(&gvk) else {
            continue;
        };
        let Some(name) = reference["name"].as_str() else {
            continue;
        };
        let key = ObjectKey::new(&rt, if rt.namespaced { namespace } else { "" }, name);
        if state
            .get(&key)
            .is_some_and(|o| o["metadata"]["uid"] == reference["uid"] && waits_for_dependents(o))
        {
            out.push(key);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_pending_owner_with_the_finalizer_waits() {
        let pending = json!({"metadata": {"deletionTimestamp": "t", "finalizers": [FOREGROUND]}});
        assert!(waits_for_dependents(&pending));
        let live = json!({"metadata": {"finalizers": [FOREGROUND]}});
        assert!(!waits_for_dependents(&live));
        let other = json!({"metadata": {"deletionTimestamp": "t", "finalizers": ["x"]}});
        assert!(!waits_for_dependents(&other));
    }
}
