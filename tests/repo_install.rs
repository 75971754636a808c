//! `install` and `upgrade` take charts from repositories and registries: `REPO/CHART --version`,
//! `oci://…` and URLs, against the sandbox API server.

mod common;
mod repo_support;

use common::Sandbox;
use repo_support::{write_chart, Env, Registry, RepoServer};

#[test]
fn install_and_upgrade_from_a_repository_and_a_registry() {
    let sandbox = Sandbox::start();
    let env = Env::new();
    let served = env.path().join("repo");
    std::fs::create_dir_all(&served).unwrap();
    let server = RepoServer::start(&served);
    let registry = Registry::start(false);
    let chart = write_chart(&env.path().join("src"), "web", "1.0.0");
    for v in ["1.0.0", "1.1.0"] {
        env.ok(&[
            "package",
            chart.to_str().unwrap(),
            "-d",
            served.to_str().unwrap(),
            "--version",
            v,
        ]);
    }
    env.ok(&[
        "repo",
        "index",
        served.to_str().unwrap(),
        "--url",
        &server.url,
    ]);
    env.ok(&[
        "push",
        served.join("web-1.1.0.tgz").to_str().unwrap(),
        &registry.oci("charts"),
        "--plain-http",
    ]);

    let rudder = |args: &[&str]| {
        let out = sandbox
            .rudder()
            .args(args)
            .env("XDG_CONFIG_HOME", env.path().join("config"))
            .env("XDG_CACHE_HOME", env.path().join("cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rudder {args:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let replicas = |name: &str| {
        let out = sandbox.kubectl(&[
            "get",
            "configmap",
            name,
            "-n",
            "default",
            "-o",
            "jsonpath={.data.replicas}",
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let chart_label = |release: &str| {
        let out = sandbox
            .rudder()
            .args(["history", release, "-n", "default", "-o", "json"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    rudder(&["repo", "add", "r", &server.url, "--plain-http"]);
    rudder(&[
        "install",
        "one",
        "r/web",
        "--version",
        "~1.0.0",
        "-n",
        "default",
        "--set",
        "replicas=3",
    ]);
    assert_eq!(replicas("one-web"), "3");
    assert!(
        chart_label("one").contains("web-1.0.0"),
        "{}",
        chart_label("one")
    );
    let diff = sandbox
        .rudder()
        .args([
            "diff",
            "upgrade",
            "one",
            "r/web",
            "--version",
            "1.1.0",
            "-n",
            "default",
            "--set",
            "replicas=4",
        ])
        .env("XDG_CONFIG_HOME", env.path().join("config"))
        .env("XDG_CACHE_HOME", env.path().join("cache"))
        .output()
        .unwrap();
    let diff_text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(
        diff_text.contains("replicas") && diff_text.contains('4'),
        "{diff_text}"
    );
    rudder(&[
        "upgrade",
        "one",
        "r/web",
        "-n",
        "default",
        "--set",
        "replicas=4",
    ]);
    assert_eq!(replicas("one-web"), "4");
    assert!(
        chart_label("one").contains("web-1.1.0"),
        "{}",
        chart_label("one")
    );

    let oci = registry.oci("charts/web");
    rudder(&[
        "install",
        "two",
        &oci,
        "--version",
        "1.1.0",
        "--plain-http",
        "-n",
        "default",
    ]);
    assert_eq!(replicas("two-web"), "2");
    let url = format!("{}/web-1.0.0.tgz", server.url);
    rudder(&["install", "three", &url, "--plain-http", "-n", "default"]);
    assert_eq!(replicas("three-web"), "2");
}
