//! Watches: a chunked stream of `{"type": ..., "object": ...}` lines.
//!
//! The initial events and the live feed come from one [`Store::subscribe`] call, so a watch
//! never misses or repeats a change. Streaming lists (`sendInitialEvents=true`) end their
//! initial events with the `k8s.io/initial-events-end` bookmark that client-go waits for.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::http::{ApiRequest, Body, Outcome, Server};
use super::resources::ResourceType;
use super::rest::{Selection, Target};
use super::status::ApiError;
use super::store::{Change, ChangeKind, Store};

/// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK.
const BOOKMARK_EVERY: Duration = Duration::from_secs(15);
/// A watch without `timeoutSeconds` ends after this long (clients re-watch).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Starts a watch on `target`'s collection.
pub fn start(server: &Arc<Server>, req: &ApiRequest, target: &Target) -> Result<Outcome, ApiError> {
    let rt = target.rt.clone();
    let selection = Selection::from_request(req, &rt)?;
    let send_initial = match req.query("sendInitialEvents") {
        Some("true") | Some("1") => true,
        None | Some("") | Some("false") | Some("0") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid sendInitialEvents value {other:?}"
            )))
        }
    };
    if send_initial && req.query("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::unprocessable(
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
        ));
    }
    let bookmarks = matches!(req.query("allowWatchBookmarks"), Some("true") | Some("1"));
    let timeout = match req.query("timeoutSeconds") {
        Some(t) if !t.is_empty() => Duration::from_secs(
            t.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {t:?}")))?,
        ),
        _ => DEFAULT_TIMEOUT,
    };
    let from: Option<u64> = match req.query("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    let filter = Filter {
        rt: rt.clone(),
        namespace: target.namespace.clone(),
        selection,
    };
    let (initial, receiver) = server.store.subscribe(|st| {
        let mut events: Vec<Value> = Vec::new();
        if send_initial || from.is_none() {
            for (_, obj) in st.list(&rt.key(), filter.namespace.as_deref()) {
                if filter.selection.matches(obj) {
                    events.push(event("ADDED", present(&rt, obj)));
                }
            }
            if send_initial {
                let mut b = bookmark(&rt, st.resource_version());
                b["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
                events.push(event("BOOKMARK", b));
            }
            return Ok(events);
        }
        let since = from.unwrap_or(0);
        if !st.can_resume_from(since) {
            return Err(expired(since, st.history_floor()));
        }
        for change in st.changes_since(since) {
            if let Some(e) = filter.translate(change) {
                events.push(e);
            }
        }
        Ok(events)
    });
    let initial = match initial {
        Ok(events) => events,
        Err(error_event) => vec![error_event],
    };
    let ended = initial.first().is_some_and(|e| e["type"] == "ERROR");
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let store = server.store.clone();
    tokio::spawn(async move {
        stream(
            store, tx, initial, ended, receiver, filter, bookmarks, timeout,
        )
        .await;
    });
    let body_stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(body_stream)) as Body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(Outcome::Raw(response))
}

/// Which changes a watch sees.
struct Filter {
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    selection: Selection,
}

impl Filter {
    /// The event a watcher sees for `change`, if any: objects entering or leaving the selection
    /// appear as ADDED or DELETED.
    fn translate(&self, change: &Change) -> Option<Value> {
        if change.key.resource != self.rt.key() {
            return None;
        }
        if let Some(ns) = &self.namespace {
            if &change.key.namespace != ns {
                return None;
            }
        }
        let now = self.selection.matches(&change.object);
        let before = change
            .previous
            .as_ref()
            .is_some_and(|p| self.selection.matches(p));
        let kind = match change.kind {
            ChangeKind::Added if now => "ADDED",
            ChangeKind::Modified if now && before => "MODIFIED",
            ChangeKind::Modified if now => "ADDED",
            ChangeKind::Modified if before => "DELETED",
            ChangeKind::Deleted if before || now => "DELETED",
            _ => return None,
        };
        Some(event(kind, present(&self.rt, &change.object)))
    }
}

fn present(rt: &ResourceType, obj: &Value) -> Value {
    let mut o = obj.clone();
    o["apiVersion"] = json!(rt.api_version());
    o["kind"] = json!(rt.gvk.kind);
    o
}

fn event(kind: &str, object: Value) -> Value {
    json!({"type": kind, "object": object})
}

fn bookmark(rt: &ResourceType, rv: u64) -> Value {
    json!({
        "kind": rt.gvk.kind,
        "apiVersion": rt.api_version(),
        "metadata": {"resourceVersion": rv.to_string(), "creationTimestamp": null},
    })
}

fn expired(rv: u64, floor: u64) -> Value {
    event(
        "ERROR",
        ApiError::gone(format!("too old resource version: {rv} ({floor})")).to_status(),
    )
}

fn line(v: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

#[allow(clippy::too_many_arguments)]
async fn stream(
    store: Arc<Store>,
    tx: mpsc::Sender<Bytes>,
    initial: Vec<Value>,
    ended: bool,
    mut receiver: broadcast::Receiver<Arc<Change>>,
    filter: Filter,
    bookmarks: bool,
    timeout: Duration,
) {
    for e in &initial {
        if tx.send(line(e)).await.is_err() {
            return;
        }
    }
    if ended {
        return;
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    let mut last_rv = 0u64;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            _ = ticker.tick(), if bookmarks => {
                let rv = store.read(|st| st.resource_version()).max(last_rv);
                if tx.send(line(&event("BOOKMARK", bookmark(&filter.rt, rv)))).await.is_err() {
                    return;
                }
            }
            received = receiver.recv() => match received {
                Ok(change) => {
                    last_rv = change.rv;
                    if let Some(e) = filter.translate(&change) {
                        if tx.send(line(&e)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let floor = store.read(|st| st.history_floor());
                    let _ = tx.send(line(&expired(last_rv, floor))).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
