//! Hostile repositories, registries and archives: a name that comes from the network or from an
//! archive never makes rudder write outside the folder it was asked to write to.

mod repo_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use repo_support::{snapshot, write_chart, Env, RepoServer};

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The paths below `root` that are new or changed since `before`.
fn written_since(root: &Path, before: &HashMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut changed: Vec<PathBuf> = snapshot(root)
        .into_iter()
        .filter(|(path, data)| before.get(path) != Some(data))
        .map(|(path, _)| path)
        .collect();
    changed.sort();
    changed
}

/// A repository serving `ok-0.1.0.tgz` (a sound chart archive) under an index entry `evil`
/// whose version calls itself `hostile_name`, and a parent chart depending on `evil`.
struct HostileRepo {
    env: Env,
    _server: RepoServer,
    url: String,
    parent: PathBuf,
}

fn hostile_repo(hostile_name: &str) -> HostileRepo {
    let env = Env::new();
    let served = env.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let server = RepoServer::start(&served);
    let ok = write_chart(&env.path().join("src"), "ok", "0.1.0");
    env.ok(&[
        "package",
        ok.to_str().unwrap(),
        "-d",
        served.to_str().unwrap(),
    ]);
    let archive = std::fs::read(served.join("ok-0.1.0.tgz")).unwrap();
    std::fs::write(
        served.join("index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  evil:\n  - apiVersion: v2\n    name: {hostile_name:?}\n    version: 0.1.0\n    digest: {}\n    urls: [ok-0.1.0.tgz]\ngenerated: \"2024-01-01T00:00:00Z\"\n",
            sha256_hex(&archive)
        ),
    )
    .unwrap();
    let parent = write_chart(&env.path().join("work"), "parent", "1.0.0");
    let yaml = std::fs::read_to_string(parent.join("Chart.yaml")).unwrap();
    std::fs::write(
        parent.join("Chart.yaml"),
        format!(
            "{yaml}dependencies:\n- name: evil\n  version: 0.1.0\n  repository: {}\n",
            server.url
        ),
    )
    .unwrap();
    HostileRepo {
        url: server.url.clone(),
        env,
        _server: server,
        parent,
    }
}

#[test]
fn dependency_update_and_build_refuse_an_index_entry_naming_a_path() {
    let outside = "../../outside/escaped".to_string();
    let absolute_root = tempfile::tempdir().unwrap();
    let absolute = absolute_root
        .path()
        .join("abs/escaped")
        .display()
        .to_string();
    for hostile in [outside, absolute] {
        let repo = hostile_repo(&hostile);
        let env = &repo.env;
        let parent = repo.parent.to_str().unwrap();
        let before = snapshot(env.path());
        for verb in ["update", "build"] {
            let err = env.fails(&["dependency", verb, parent, "--plain-http"]);
            assert!(err.contains(&repo.url), "the repository is named: {err}");
            assert!(err.contains("\"evil\""), "the entry is named: {err}");
            assert!(err.contains(&hostile), "the hostile name is shown: {err}");
        }
        let charts = repo.parent.join("charts");
        for path in written_since(env.path(), &before) {
            assert!(
                path.starts_with(&charts) || path.starts_with(env.cache_dir()),
                "{} was written outside charts/ ({hostile})",
                path.display()
            );
        }
        assert!(
            snapshot(absolute_root.path()).is_empty(),
            "an absolute entry name wrote below {}",
            absolute_root.path().display()
        );
    }
}

/// Serves `oci://HOST/evil:0.1.0` (and `@sha256:MANIFEST`, returned) from canned answers: a
/// sound chart layer whose config blob calls the chart `config_name` at `config_version`.
fn hostile_registry(env: &Env, config_name: &str, config_version: &str) -> (RepoServer, String) {
    let empty = env.path().join("registry-root");
    std::fs::create_dir_all(&empty).unwrap();
    let server = RepoServer::start(&empty);
    let src = write_chart(&env.path().join("src"), "evil", "0.1.0");
    let dist = env.path().join("dist");
    env.ok(&[
        "package",
        src.to_str().unwrap(),
        "-d",
        dist.to_str().unwrap(),
    ]);
    let layer = std::fs::read(dist.join("evil-0.1.0.tgz")).unwrap();
    let config = serde_json::json!({
        "apiVersion": "v2", "name": config_name, "version": config_version,
    })
    .to_string()
    .into_bytes();
    let (config_digest, layer_digest) = (sha256_hex(&config), sha256_hex(&layer));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.cncf.helm.config.v1+json",
            "digest": format!("sha256:{config_digest}"),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            "digest": format!("sha256:{layer_digest}"),
            "size": layer.len(),
        }],
    })
    .to_string()
    .into_bytes();
    let can = |path: String, content_type: &str, body: Vec<u8>| {
        server.can(
            &path,
            repo_support::Canned {
                status: 200,
                content_type: content_type.into(),
                body,
                claimed_length: None,
            },
        )
    };
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    for target in ["0.1.0", &manifest_digest] {
        can(
            format!("/v2/evil/manifests/{target}"),
            "application/vnd.oci.image.manifest.v1+json",
            manifest.clone(),
        );
    }
    can(
        format!("/v2/evil/blobs/sha256:{config_digest}"),
        "application/octet-stream",
        config,
    );
    can(
        format!("/v2/evil/blobs/sha256:{layer_digest}"),
        "application/octet-stream",
        layer,
    );
    (server, manifest_digest)
}

#[test]
fn pull_from_a_registry_names_the_file_after_the_reference_not_the_config() {
    for (name, version) in [
        ("../../outside/escaped", "0.1.0"),
        ("evil", "0.1.0/../../../outside/escaped"),
    ] {
        let env = Env::new();
        let (server, _) = hostile_registry(&env, name, version);
        let reference = format!("oci://{}/evil", server.url.trim_start_matches("http://"));
        let dest = env.path().join("a/b/dest");
        let before = snapshot(env.path());
        env.ok(&[
            "pull",
            &reference,
            "--version",
            "0.1.0",
            "-d",
            dest.to_str().unwrap(),
            "--plain-http",
        ]);
        assert!(dest.join("evil-0.1.0.tgz").is_file(), "{name} {version}");
        for path in written_since(env.path(), &before) {
            assert!(
                path.starts_with(&dest) || path.starts_with(env.cache_dir()),
                "{} was written outside --destination ({name} {version})",
                path.display()
            );
        }
    }
}

#[test]
fn pull_by_digest_refuses_a_config_version_that_names_a_path() {
    let env = Env::new();
    let (server, digest) = hostile_registry(&env, "evil", "../../../outside/escaped");
    let host = server.url.trim_start_matches("http://");
    let dest = env.path().join("a/b/dest");
    let before = snapshot(env.path());
    let err = env.fails(&[
        "pull",
        &format!("oci://{host}/evil@{digest}"),
        "-d",
        dest.to_str().unwrap(),
        "--plain-http",
    ]);
    assert!(
        err.contains("not a single file or folder name"),
        "the refusal says why: {err}"
    );
    for path in written_since(env.path(), &before) {
        assert!(
            path.starts_with(env.cache_dir()),
            "{} was written outside the cache",
            path.display()
        );
    }
}

#[test]
fn repo_add_refuses_a_name_that_is_a_path() {
    let env = Env::new();
    let served = env.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let server = RepoServer::start(&served);
    let ok = write_chart(&env.path().join("src"), "ok", "0.1.0");
    env.ok(&[
        "package",
        ok.to_str().unwrap(),
        "-d",
        served.to_str().unwrap(),
    ]);
    env.ok(&["repo", "index", served.to_str().unwrap()]);
    let before = snapshot(env.path());
    // `/` was refused before the shared check; a backslash (a separator on Windows) is now too.
    for name in ["../../../escaped", "a/b", "a\\b", ""] {
        let err = env.fails(&["repo", "add", name, &server.url, "--plain-http"]);
        assert!(err.contains("repository name"), "{name}: {err}");
    }
    assert_eq!(written_since(env.path(), &before), Vec::<PathBuf>::new());
}
