//! Many clients at once: 16 kube-rs clients create, patch and delete 1,000 ConfigMaps while
//! watches follow; afterwards the store and every watch must agree, change by change.

mod common;

use std::collections::HashMap;

use common::Sandbox;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use serde_json::json;

const OBJECTS: usize = 1000;
const CLIENTS: usize = 16;
const WATCHES: usize = 3;

async fn client(sandbox: &Sandbox) -> Client {
    let kubeconfig = Kubeconfig::read_from(&sandbox.kubeconfig).expect("read the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("load the kubeconfig");
    Client::try_from(config).expect("build a client")
}

/// (event type, object name, resourceVersion, data.step)
type Seen = (String, String, u64, String);

#[test]
fn sixteen_clients_and_every_watch_sees_every_change_in_order() {
    let sandbox = Sandbox::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let admin = client(&sandbox).await;
        let namespaces: Api<Namespace> = Api::all(admin.clone());
        let mut ns = Namespace::default();
        ns.metadata.name = Some("load".into());
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace");
        let api: Api<ConfigMap> = Api::namespaced(admin.clone(), "load");
        let start_rv: u64 = api
            .list(&ListParams::default())
            .await
            .expect("list")
            .metadata
            .resource_version
            .expect("rv")
            .parse()
            .expect("numeric rv");

        let mut watches = Vec::new();
        for _ in 0..WATCHES {
            let stream = api
                .watch(&WatchParams::default().timeout(280), &start_rv.to_string())
                .await
                .expect("watch");
            watches.push(tokio::spawn(async move {
                let mut seen: Vec<Seen> = Vec::new();
                let mut stream = std::pin::pin!(stream);
                while seen.len() < 3 * OBJECTS {
                    let Some(event) = stream.next().await else {
                        break;
                    };
                    let (kind, cm) = match event.expect("watch event") {
                        WatchEvent::Added(o) => ("ADDED", o),
                        WatchEvent::Modified(o) => ("MODIFIED", o),
                        WatchEvent::Deleted(o) => ("DELETED", o),
                        WatchEvent::Bookmark(_) => continue,
                        WatchEvent::Error(e) => panic!("watch error: {e:?}"),
                    };
                    let rv = cm
                        .metadata
                        .resource_version
                        .unwrap_or_default()
                        .parse()
                        .unwrap_or(0);
                    let step = cm
                        .data
                        .unwrap_or_default()
                        .get("step")
                        .cloned()
                        .unwrap_or_default();
                    seen.push((
                        kind.to_string(),
                        cm.metadata.name.unwrap_or_default(),
                        rv,
                        step,
                    ));
                }
                seen
            }));
        }

        let mut workers = Vec::new();
        for worker in 0..CLIENTS {
            let client = client(&sandbox).await;
            workers.push(tokio::spawn(async move {
                let api: Api<ConfigMap> = Api::namespaced(client, "load");
                for i in (worker..OBJECTS).step_by(CLIENTS) {
                    let name = format!("cm-{i:04}");
                    let mut cm = ConfigMap::default();
                    cm.metadata.name = Some(name.clone());
                    cm.data = Some([("step".to_string(), "created".to_string())].into());
                    api.create(&PostParams::default(), &cm)
                        .await
                        .expect("create");
                    api.patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"data": {"step": "patched"}})),
                    )
                    .await
                    .expect("patch");
                    api.delete(&name, &DeleteParams::default())
                        .await
                        .expect("delete");
                }
            }));
        }
        for w in workers {
            w.await.expect("worker finished");
        }

        let end = api.list(&ListParams::default()).await.expect("final list");
        assert!(end.items.is_empty(), "every object was deleted");
        let end_rv: u64 = end
            .metadata
            .resource_version
            .expect("rv")
            .parse()
            .expect("numeric rv");
        assert_eq!(
            end_rv - start_rv,
            3 * OBJECTS as u64,
            "one resourceVersion per write"
        );

        let mut first: Option<Vec<Seen>> = None;
        for w in watches {
            let seen = w.await.expect("watch finished");
            assert_eq!(seen.len(), 3 * OBJECTS, "every watch saw every change");
            let rvs: Vec<u64> = seen.iter().map(|s| s.2).collect();
            let expected: Vec<u64> = (start_rv + 1..=end_rv).collect();
            assert_eq!(
                rvs, expected,
                "events arrive in resourceVersion order, none missing"
            );
            let mut per_object: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
            for (kind, name, _, step) in &seen {
                per_object.entry(name).or_default().push((kind, step));
            }
            assert_eq!(per_object.len(), OBJECTS);
            for (name, events) in &per_object {
                assert_eq!(
                    events,
                    &vec![
                        ("ADDED", "created"),
                        ("MODIFIED", "patched"),
                        ("DELETED", "patched")
                    ],
                    "{name}"
                );
            }
            match &first {
                None => first = Some(seen),
                Some(f) => assert_eq!(f, &seen, "all watches saw the same sequence"),
            }
        }
    });
}
