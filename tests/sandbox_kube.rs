//! kube-rs (in-process, over loopback HTTP) against `rudder sandbox`: discovery, dynamic
//! server-side apply with dry-run, and watches.

mod common;

use common::Sandbox;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::Discovery;
use kube::Client;
use serde_json::json;

async fn client(sandbox: &Sandbox) -> Client {
    let kubeconfig = Kubeconfig::read_from(&sandbox.kubeconfig).expect("read the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("load the kubeconfig");
    Client::try_from(config).expect("build a client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[test]
fn kube_rs_discovers_the_api_legacy_and_aggregated() {
    let sandbox = Sandbox::start();
    runtime().block_on(async {
        let client = client(&sandbox).await;
        let version = client.apiserver_version().await.expect("/version");
        assert_eq!(
            (version.major.as_str(), version.minor.as_str()),
            ("1", "32")
        );
        for discovery in [
            Discovery::new(client.clone())
                .run()
                .await
                .expect("legacy discovery"),
            Discovery::new(client.clone())
                .run_aggregated()
                .await
                .expect("aggregated discovery"),
        ] {
            let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
            let (ar, caps) = discovery.resolve_gvk(&gvk).expect("deployments are served");
            assert_eq!(ar.plural, "deployments");
            assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
            let ns = discovery
                .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
                .expect("namespaces");
            assert_eq!(ns.1.scope, kube::discovery::Scope::Cluster);
            assert!(discovery.get("rbac.authorization.k8s.io").is_some());
        }
    });
}

#[test]
fn kube_rs_server_side_apply_with_dry_run_then_for_real() {
    let sandbox = Sandbox::start();
    runtime().block_on(async {
        let client = client(&sandbox).await;
        let discovery = Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("discovery");
        let (ar, _) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
            .expect("configmaps");
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
        let config: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "ssa", "labels": {"team": "a"}},
            "data": {"k": "v"},
        }))
        .expect("object");
        let dry = api
            .patch(
                "ssa",
                &PatchParams::apply("rudder-test").dry_run(),
                &Patch::Apply(&config),
            )
            .await
            .expect("dry-run apply");
        assert_eq!(dry.data["data"]["k"], "v");
        assert!(
            api.get_opt("ssa").await.expect("get").is_none(),
            "dry run stored nothing"
        );
        let applied = api
            .patch(
                "ssa",
                &PatchParams::apply("rudder-test"),
                &Patch::Apply(&config),
            )
            .await
            .expect("apply");
        let managers: Vec<String> = applied
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| e.manager)
            .collect();
        assert_eq!(managers, ["rudder-test"]);
        let rv = applied.metadata.resource_version.clone();
        let again = api
            .patch(
                "ssa",
                &PatchParams::apply("rudder-test"),
                &Patch::Apply(&config),
            )
            .await
            .expect("apply again");
        assert_eq!(
            again.metadata.resource_version, rv,
            "a no-op apply keeps the resourceVersion"
        );

        let merged = api
            .patch(
                "ssa",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"extra": "1"}})),
            )
            .await
            .expect("merge patch");
        assert_eq!(merged.data["data"], json!({"k": "v", "extra": "1"}));

        let listed = api
            .list(&ListParams::default().labels("team=a"))
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        let none = api
            .list(&ListParams::default().labels("team notin (a)"))
            .await
            .expect("list");
        assert!(none.items.is_empty());
    });
}

#[test]
fn kube_rs_watch_sees_added_modified_deleted_and_resumes() {
    let sandbox = Sandbox::start();
    runtime().block_on(async {
        let client = client(&sandbox).await;
        let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(client.clone(), "default");
        let start = api.list(&ListParams::default()).await.expect("list");
        let start_rv = start.metadata.resource_version.expect("list rv");
        let stream = api
            .watch(&WatchParams::default().timeout(60), &start_rv)
            .await
            .expect("watch");
        let mut cm = k8s_openapi::api::core::v1::ConfigMap::default();
        cm.metadata.name = Some("watched".into());
        api.create(&PostParams::default(), &cm)
            .await
            .expect("create");
        api.patch(
            "watched",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": "1"}})),
        )
        .await
        .expect("patch");
        api.delete("watched", &DeleteParams::default())
            .await
            .expect("delete");
        let events: Vec<WatchEvent<_>> = stream.take(3).try_collect().await.expect("events");
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                WatchEvent::Added(_) => "ADDED",
                WatchEvent::Modified(_) => "MODIFIED",
                WatchEvent::Deleted(_) => "DELETED",
                WatchEvent::Bookmark(_) => "BOOKMARK",
                WatchEvent::Error(_) => "ERROR",
            })
            .collect();
        assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);

        // Resuming from the list's resourceVersion replays the same history.
        let replay: Vec<WatchEvent<_>> = api
            .watch(&WatchParams::default().timeout(60), &start_rv)
            .await
            .expect("watch again")
            .take(3)
            .try_collect()
            .await
            .expect("replayed events");
        assert_eq!(replay.len(), 3);

        // A kube-runtime watcher (list, then watch) sees the current state.
        api.create(&PostParams::default(), &cm)
            .await
            .expect("create again");
        let mut w = std::pin::pin!(kube::runtime::watcher(
            api.clone(),
            kube::runtime::watcher::Config::default()
        ));
        let mut names = Vec::new();
        while let Some(event) = w.next().await {
            match event.expect("watcher event") {
                kube::runtime::watcher::Event::InitApply(o) => names.push(o.metadata.name),
                kube::runtime::watcher::Event::InitDone => break,
                _ => {}
            }
        }
        assert_eq!(names, [Some("watched".to_string())]);
        let mut s = std::pin::pin!(kube::runtime::watcher(
            api.clone(),
            kube::runtime::watcher::Config::default().streaming_lists()
        ));
        let mut streamed = Vec::new();
        while let Some(event) = s.next().await {
            match event.expect("streaming watcher event") {
                kube::runtime::watcher::Event::InitApply(o) => streamed.push(o.metadata.name),
                kube::runtime::watcher::Event::InitDone => break,
                _ => {}
            }
        }
        assert_eq!(streamed, [Some("watched".to_string())]);
    });
}
