//! The object store: every object of every kind under one lock, one monotonic resourceVersion,
//! and a change feed.
//!
//! Writes go through [`Store::write`], which hands a [`Txn`] to a closure; the changes it makes
//! get consecutive resourceVersions and are published, in order, on a broadcast channel that
//! watches (and, later, simulated controllers) subscribe to. A bounded history of changes lets a
//! watch resume from an older resourceVersion; older than the history answers 410 Gone.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};

use super::resources::{custom_types, Catalog, ResourceKey, ResourceType};

/// How many changes are kept for watches resuming from an older resourceVersion, and how far a
/// watch may fall behind before it is told 410 Gone. Each retained change holds its objects, so
/// this bounds the memory a long-running sandbox spends on the past (a real server compacts too).
const HISTORY: usize = 16_384;

/// Where an object lives: its collection, namespace ("" if cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub resource: ResourceKey,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    /// The key of `name` in collection `rt`.
    pub fn new(rt: &ResourceType, namespace: &str, name: &str) -> Self {
        ObjectKey {
            resource: rt.key(),
            namespace: if rt.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    /// The watch event type.
    pub fn event_type(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One committed change, as watches and controllers see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion of this change.
    pub rv: u64,
    pub kind: ChangeKind,
    pub key: ObjectKey,
    /// The object after the change (for deletions: its last state with the deletion's rv).
    pub object: Arc<Value>,
    /// The object before the change, if it existed.
    pub previous: Option<Arc<Value>>,
}

/// Everything stored; read it through [`Store::read`], change it through [`Store::write`].
#[derive(Debug)]
pub struct State {
    rv: u64,
    objects: BTreeMap<ObjectKey, Arc<Value>>,
    per_namespace: HashMap<String, usize>,
    catalog: Catalog,
    history: VecDeque<Arc<Change>>,
    /// Changes after this resourceVersion are all in `history`.
    history_floor: u64,
    next_service_ip: u32,
}

impl State {
    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Served types.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// One object.
    pub fn get(&self, key: &ObjectKey) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// Objects of a collection, in (namespace, name) order; `namespace` None means all.
    pub fn list<'a>(
        &'a self,
        resource: &'a ResourceKey,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        let start = ObjectKey {
            resource: resource.clone(),
            namespace: namespace.unwrap_or("").to_string(),
            name: String::new(),
        };
        self.objects.range(start..).take_while(move |(k, _)| {
            &k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    /// Number of namespaced objects in `namespace`.
    pub fn count_in_namespace(&self, namespace: &str) -> usize {
        self.per_namespace.get(namespace).copied().unwrap_or(0)
    }

    /// All objects, CRDs first (so that loading them back registers their kinds first).
    pub fn all_objects(&self) -> Vec<Arc<Value>> {
        let crds = ResourceKey {
            group: "apiextensions.k8s.io".into(),
            plural: "customresourcedefinitions".into(),
        };
        let mut out: Vec<Arc<Value>> = self.list(&crds, None).map(|(_, v)| v.clone()).collect();
        out.extend(
            self.objects
                .iter()
                .filter(|(k, _)| k.resource != crds)
                .map(|(_, v)| v.clone()),
        );
        out
    }

    /// Every object with its key.
    pub fn all_objects_with_keys(&self) -> Vec<(ObjectKey, Arc<Value>)> {
        self.objects
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether a watch may resume from `rv` (all later changes are still in the history).
    pub fn can_resume_from(&self, rv: u64) -> bool {
        rv >= self.history_floor
    }

    /// Retained changes after `rv`, oldest first.
    pub fn changes_since(&self, rv: u64) -> impl Iterator<Item = &Arc<Change>> {
        let skip = self.history.partition_point(|c| c.rv <= rv);
        self.history.iter().skip(skip)
    }

    /// The oldest resourceVersion a watch may still resume from.
    pub fn history_floor(&self) -> u64 {
        self.history_floor
    }
}

/// The store shared by the HTTP server, watches and (later) controllers.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    changes: broadcast::Sender<Arc<Change>>,
    committed: watch::Sender<u64>,
}

impl Store {
    /// An empty store serving the built-in kinds, with the standard namespaces.
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(HISTORY);
        let (committed, _) = watch::channel(0);
        Store {
            state: Mutex::new(State {
                rv: 100,
                objects: BTreeMap::new(),
                per_namespace: HashMap::new(),
                catalog: Catalog::builtin(),
                history: VecDeque::new(),
                history_floor: 100,
                next_service_ip: 0,
            }),
            changes,
            committed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written object (writes swap whole
        // values), so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Runs `f` as one transaction: its changes are committed and published in order, unless
    /// `dry_run` (then nothing is stored and nothing is published).
    pub fn write<R, E>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self.lock();
        let mut txn = Txn {
            state: &mut guard,
            changes: Vec::new(),
            dry_run,
        };
        // Changes already made must be published even if `f` panics half-way, or watches
        // would silently miss them; the panic continues after that.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut txn)));
        let changes = std::mem::take(&mut txn.changes);
        let result = match outcome {
            Ok(result) => result,
            Err(panic) => {
                drop(guard);
                self.publish_after_panic(changes);
                std::panic::resume_unwind(panic);
            }
        };
        if changes.is_empty() {
            return result;
        }
        let state = &mut *guard;
        let last = changes.last().map(|c| c.rv).unwrap_or(state.rv);
        for change in changes {
            state.history.push_back(change.clone());
            if state.history.len() > HISTORY {
                if let Some(old) = state.history.pop_front() {
                    state.history_floor = old.rv;
                }
            }
            // No receivers is fine: nobody is watching.
            let _ = self.changes.send(change);
        }
        self.committed.send_replace(last);
        result
    }

    fn publish_after_panic(&self, changes: Vec<Arc<Change>>) {
        let mut state = self.lock();
        let last = changes.last().map(|c| c.rv);
        for change in changes {
            state.history.push_back(change.clone());
            let _ = self.changes.send(change);
        }
        if let Some(rv) = last {
            self.committed.send_replace(rv);
        }
    }

    /// Runs `f` with the state locked and a receiver subscribed at that instant, so the caller can
    /// take a snapshot and then follow every later change without a gap.
    pub fn subscribe<R>(
        &self,
        f: impl FnOnce(&State) -> R,
    ) -> (R, broadcast::Receiver<Arc<Change>>) {
        let guard = self.lock();
        let rx = self.changes.subscribe();
        (f(&guard), rx)
    }

    /// A receiver that is notified with the latest resourceVersion after each committed batch.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Every object and the resourceVersion, for `--state` files.
    pub fn snapshot(&self) -> Value {
        self.read(|st| {
            json!({
                "resourceVersion": st.rv.to_string(),
                "objects": st.all_objects().iter().map(|o| (**o).clone()).collect::<Vec<_>>(),
            })
        })
    }

    /// Replaces the store's objects with those of a snapshot; objects of unknown kinds are
    /// skipped and returned as messages.
    pub fn restore(&self, snapshot: &Value) -> Vec<String> {
        let mut skipped = Vec::new();
        let mut st = self.lock();
        st.objects.clear();
        st.per_namespace.clear();
        st.catalog = Catalog::builtin();
        let mut max_rv = 100;
        for obj in snapshot["objects"].as_array().into_iter().flatten() {
            let Some(gvk) = super::gvk_of(obj) else {
                skipped.push("an object without apiVersion/kind".to_string());
                continue;
            };
            let Some(rt) = st.catalog.by_gvk(&gvk) else {
                skipped.push(format!("{} {}", gvk.api_version(), gvk.kind));
                continue;
            };
            let name = obj["metadata"]["name"].as_str().unwrap_or_default();
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            if let Some(rv) = obj["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
            {
                max_rv = max_rv.max(rv);
            }
            if rt.gvk.kind == "CustomResourceDefinition" {
                let crd_name = name.to_string();
                st.catalog.set_custom(&crd_name, custom_types(obj));
            }
            let key = ObjectKey::new(&rt, ns, name);
            if rt.namespaced {
                *st.per_namespace.entry(key.namespace.clone()).or_default() += 1;
            }
            st.objects.insert(key, Arc::new(obj.clone()));
        }
        let rv = snapshot["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            .max(max_rv);
        st.rv = rv;
        st.history.clear();
        st.history_floor = rv;
        skipped
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// An open write transaction (see [`Store::write`]).
pub struct Txn<'a> {
    state: &'a mut State,
    changes: Vec<Arc<Change>>,
    dry_run: bool,
}

impl Txn<'_> {
    /// Whether this is a dry run: nothing will be stored.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Read access to the state (sees this transaction's own writes).
    pub fn state(&self) -> &State {
        self.state
    }

    /// Served types.
    pub fn catalog(&self) -> &Catalog {
        &self.state.catalog
    }

    /// Mutable catalog (CRDs register their kinds here).
    pub fn catalog_mut(&mut self) -> &mut Catalog {
        &mut self.state.catalog
    }

    /// One object.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<Value>> {
        self.state.objects.get(key).cloned()
    }

    /// The next index for the Service ClusterIP allocator (each call returns a new one).
    pub fn next_service_ip_index(&mut self) -> u32 {
        let n = self.state.next_service_ip;
        self.state.next_service_ip += 1;
        n
    }

    /// Stores `object` at `key` and returns it as stored (with its new resourceVersion).
    ///
    /// A write that changes nothing keeps the old resourceVersion and emits no event. An object
    /// whose deletion is pending (`deletionTimestamp`) and whose last finalizer is gone is
    /// removed instead.
    pub fn put(&mut self, key: &ObjectKey, mut object: Value) -> Arc<Value> {
        let previous = self.state.objects.get(key).cloned();
        let old_rv = previous.as_ref().and_then(|p| {
            p["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        });
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            match &old_rv {
                Some(rv) => {
                    meta.insert("resourceVersion".into(), json!(rv));
                }
                None => {
                    meta.remove("resourceVersion");
                }
            }
        }
        if let Some(prev) = &previous {
            if **prev == object {
                return prev.clone();
            }
        }
        let finalized = !object["metadata"]["deletionTimestamp"].is_null()
            && object["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty());
        if finalized && previous.is_some() {
            return self
                .remove_with(key, Some(object))
                .unwrap_or_else(|| Arc::new(Value::Null));
        }
        if self.dry_run {
            return Arc::new(object);
        }
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(object);
        if previous.is_none() && !key.namespace.is_empty() {
            *self
                .state
                .per_namespace
                .entry(key.namespace.clone())
                .or_default() += 1;
        }
        self.state.objects.insert(key.clone(), object.clone());
        self.changes.push(Arc::new(Change {
            rv,
            kind: if previous.is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
            key: key.clone(),
            object: object.clone(),
            previous,
        }));
        object
    }

    /// Removes the object at `key`; returns its last state (with the deletion's resourceVersion).
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Arc<Value>> {
        self.remove_with(key, None)
    }

    fn remove_with(&mut self, key: &ObjectKey, last: Option<Value>) -> Option<Arc<Value>> {
        let previous = self.state.objects.get(key).cloned()?;
        let mut object = last.unwrap_or_else(|| (*previous).clone());
        if self.dry_run {
            return Some(Arc::new(object));
        }
        self.state.objects.remove(key);
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(object);
        self.changes.push(Arc::new(Change {
            rv,
            kind: ChangeKind::Deleted,
            key: key.clone(),
            object: object.clone(),
            previous: Some(previous),
        }));
        if !key.namespace.is_empty() {
            let left = match self.state.per_namespace.get_mut(&key.namespace) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n
                }
                None => 0,
            };
            if left == 0 {
                self.finish_namespace_if_terminating(&key.namespace);
            }
        }
        Some(object)
    }

    /// The namespace controller's last step: a terminating namespace with no content goes away.
    pub fn finish_namespace_if_terminating(&mut self, namespace: &str) {
        let key = ObjectKey {
            resource: ResourceKey {
                group: String::new(),
                plural: "namespaces".into(),
            },
            namespace: String::new(),
            name: namespace.to_string(),
        };
        let Some(ns) = self.get(&key) else { return };
        if ns["metadata"]["deletionTimestamp"].is_null()
            || self.state.count_in_namespace(namespace) > 0
            || !ns["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty())
        {
            return;
        }
        self.remove(&key);
    }

    fn next_rv(&mut self) -> u64 {
        self.state.rv += 1;
        self.state.rv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm_type() -> Arc<ResourceType> {
        Catalog::builtin()
            .by_path("", "v1", "configmaps")
            .expect("configmaps")
    }

    #[test]
    fn writes_get_consecutive_versions_and_noops_none() {
        let store = Store::new();
        let rt = cm_type();
        let key = ObjectKey::new(&rt, "default", "a");
        let mut rx = store.subscribe(|_| ()).1;
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}});
        let first = store
            .write(false, |t| Ok::<_, ()>(t.put(&key, obj.clone())))
            .unwrap();
        let again = store
            .write(false, |t| Ok::<_, ()>(t.put(&key, obj.clone())))
            .unwrap();
        assert_eq!(first, again, "no-op write keeps the object and rv");
        let rv1: u64 = first["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        store.write(false, |t| Ok::<_, ()>(t.remove(&key))).unwrap();
        let a = rx.try_recv().unwrap();
        let b = rx.try_recv().unwrap();
        assert!(rx.try_recv().is_err());
        assert_eq!((a.kind, a.rv), (ChangeKind::Added, rv1));
        assert_eq!((b.kind, b.rv), (ChangeKind::Deleted, rv1 + 1));
    }

    #[test]
    fn dry_run_stores_nothing() {
        let store = Store::new();
        let rt = cm_type();
        let key = ObjectKey::new(&rt, "default", "a");
        let obj = json!({"metadata": {"name": "a"}});
        store
            .write(true, |t| Ok::<_, ()>(t.put(&key, obj.clone())))
            .unwrap();
        assert!(store.read(|s| s.get(&key).is_none()));
    }
}
