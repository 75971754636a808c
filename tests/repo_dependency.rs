//! `rudder dependency list|update|build`: ranges resolved against an HTTP repository, an OCI
//! registry and a sibling folder; `Chart.lock` interchangeable with Helm's.

mod repo_support;

use std::path::Path;

use repo_support::{judge, snapshot, write_chart, Env, Registry, RepoServer};

struct World {
    env: Env,
    server: RepoServer,
    registry: Registry,
    parent: std::path::PathBuf,
}

/// An HTTP repository with web 1.1.0 and 1.2.0, a registry with db 0.2.0 and 0.3.0, a sibling
/// chart, and a parent chart depending on all three (with an alias, a condition and a tag).
fn world() -> World {
    let env = Env::new();
    let repo = env.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let server = RepoServer::start(&repo);
    let registry = Registry::start(false);
    let src = env.path().join("src");
    let web = write_chart(&src, "web", "1.1.0");
    for v in ["1.1.0", "1.2.0"] {
        env.ok(&[
            "package",
            web.to_str().unwrap(),
            "-d",
            repo.to_str().unwrap(),
            "--version",
            v,
        ]);
    }
    env.ok(&[
        "repo",
        "index",
        repo.to_str().unwrap(),
        "--url",
        &server.url,
    ]);
    let db = write_chart(&src, "db", "0.2.0");
    for v in ["0.2.0", "0.3.0"] {
        let dist = env.path().join("dist");
        env.ok(&[
            "package",
            db.to_str().unwrap(),
            "-d",
            dist.to_str().unwrap(),
            "--version",
            v,
        ]);
        let archive = dist.join(format!("db-{v}.tgz"));
        env.ok(&[
            "push",
            archive.to_str().unwrap(),
            &registry.oci("charts"),
            "--plain-http",
        ]);
    }
    let charts = env.path().join("charts");
    write_chart(&charts, "sib", "0.5.0");
    let parent = write_chart(&charts, "parent", "1.0.0");
    let yaml = std::fs::read_to_string(parent.join("Chart.yaml")).unwrap();
    std::fs::write(
        parent.join("Chart.yaml"),
        format!(
            "{yaml}dependencies:\n\
             - name: web\n  version: ^1.1.0\n  repository: {url}\n  alias: front\n  condition: front.enabled\n\
             - name: db\n  version: ~0.2\n  repository: {oci}\n\
             - name: sib\n  version: \">=0.1 <1\"\n  repository: file://../sib\n  tags: [backend]\n",
            url = server.url,
            oci = registry.oci("charts"),
        ),
    )
    .unwrap();
    World {
        env,
        server,
        registry,
        parent,
    }
}

fn archives(charts: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(charts)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn update_build_list_and_helm_agrees_on_the_lock() {
    let w = world();
    let env = &w.env;
    let parent = w.parent.to_str().unwrap();

    let listed = env.ok(&["dependency", "list", parent]);
    assert_eq!(listed.matches("missing").count(), 3, "{listed}");

    env.ok(&["dependency", "update", parent, "--plain-http"]);
    let charts = w.parent.join("charts");
    assert_eq!(
        archives(&charts),
        ["db-0.2.0.tgz", "sib-0.5.0.tgz", "web-1.2.0.tgz"]
    );
    let lock = std::fs::read_to_string(w.parent.join("Chart.lock")).unwrap();
    for expected in [
        "version: \"1.2.0\"",
        "version: \"0.2.0\"",
        "version: \"0.5.0\"",
        "digest: sha256:",
    ] {
        assert!(lock.contains(expected), "{expected} missing from\n{lock}");
    }
    let listed = env.ok(&["dependency", "list", parent]);
    assert_eq!(listed.matches(" ok").count(), 3, "{listed}");

    // Helm sees the same statuses, and alias, condition and tag work with the downloaded charts.
    let out = judge(&format!(
        r#"
import helm_python as h
print([d["status"] for d in h.dependency_list({parent:?})])
with h.Chart.load({parent:?}) as c:
    on = c.render(name="r")
    off = c.render(name="r", values={{"front": {{"enabled": False}}, "tags": {{"backend": False}}}})
print("front-on", any("r-web" in v for v in on.values()), "sib-on", any("r-sib" in v for v in on.values()))
print("front-off", any("r-web" in v for v in off.values()), "sib-off", any("r-sib" in v for v in off.values()))
print(sorted(k for k in on if k.endswith("cm.yaml")))
"#
    ));
    assert!(out.contains("['ok', 'ok', 'ok']"), "{out}");
    assert!(out.contains("front-on True sib-on True"), "{out}");
    assert!(out.contains("front-off False sib-off False"), "{out}");
    assert!(
        out.contains("parent/charts/front/templates/cm.yaml"),
        "{out}"
    );

    // rudder renders the downloaded subcharts with the alias, condition and tag applied.
    let on = env.ok(&["template", "r", parent]);
    assert!(
        on.contains("name: r-web") && on.contains("name: r-db") && on.contains("name: r-sib"),
        "{on}"
    );
    let off = env.ok(&[
        "template",
        "r",
        parent,
        "--set",
        "front.enabled=false",
        "--set",
        "tags.backend=false",
    ]);
    assert!(
        !off.contains("name: r-web") && !off.contains("name: r-sib"),
        "{off}"
    );
    assert!(off.contains("name: r-db"), "{off}");

    // build reproduces charts/ byte for byte from the lock.
    let before = snapshot(&charts);
    std::fs::remove_dir_all(&charts).unwrap();
    env.ok(&["dependency", "build", parent, "--plain-http"]);
    assert_eq!(snapshot(&charts), before);

    // Helm accepts rudder's lock (its digest check) and rebuilds from it.
    std::fs::remove_dir_all(&charts).unwrap();
    judge(&format!(
        "import helm_python as h\nh.dependency_build({parent:?}, plain_http=True)\n"
    ));
    assert_eq!(archives(&charts).len(), 3);

    // Helm's own update computes the same lock digest; rudder builds from Helm's lock.
    let ours = lock_digest(&std::fs::read_to_string(w.parent.join("Chart.lock")).unwrap());
    std::fs::remove_file(w.parent.join("Chart.lock")).unwrap();
    std::fs::remove_dir_all(&charts).unwrap();
    judge(&format!(
        "import helm_python as h\nh.dependency_update({parent:?}, plain_http=True)\n"
    ));
    let helms = lock_digest(&std::fs::read_to_string(w.parent.join("Chart.lock")).unwrap());
    assert_eq!(
        ours, helms,
        "rudder and Helm must compute the same Chart.lock digest"
    );
    std::fs::remove_dir_all(&charts).unwrap();
    env.ok(&["dependency", "build", parent, "--plain-http"]);
    assert_eq!(snapshot(&charts), before);
}

#[test]
fn update_moves_to_new_versions_and_build_refuses_a_stale_lock() {
    let w = world();
    let env = &w.env;
    let parent = w.parent.to_str().unwrap();
    env.ok(&["dependency", "update", parent, "--plain-http"]);

    // A newer web appears in the repository: update picks it and drops the old archive.
    let repo = env.path().join("repo");
    let web = env.path().join("src/web");
    env.ok(&[
        "package",
        web.to_str().unwrap(),
        "-d",
        repo.to_str().unwrap(),
        "--version",
        "1.3.0",
    ]);
    env.ok(&[
        "repo",
        "index",
        repo.to_str().unwrap(),
        "--url",
        &w.server.url,
    ]);
    env.ok(&["dependency", "update", parent, "--plain-http"]);
    let names = archives(&w.parent.join("charts"));
    assert!(names.contains(&"web-1.3.0.tgz".to_string()), "{names:?}");
    assert!(!names.contains(&"web-1.2.0.tgz".to_string()), "{names:?}");

    // Chart.yaml changed after the lock was written: build refuses.
    let yaml = std::fs::read_to_string(w.parent.join("Chart.yaml")).unwrap();
    std::fs::write(
        w.parent.join("Chart.yaml"),
        yaml.replace("version: ~0.2", "version: ~0.3"),
    )
    .unwrap();
    let err = env.fails(&["dependency", "build", parent, "--plain-http"]);
    assert!(err.contains("out of sync"), "{err}");

    // A range nothing satisfies names the dependency and what exists.
    std::fs::write(
        w.parent.join("Chart.yaml"),
        yaml.replace("version: ^1.1.0", "version: ^7"),
    )
    .unwrap();
    let err = env.fails(&["dependency", "update", parent, "--plain-http"]);
    assert!(
        err.contains("web") && err.contains("^7") && err.contains("1.3.0"),
        "{err}"
    );
    let _ = &w.registry;
}

fn lock_digest(lock: &str) -> String {
    lock.lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .expect("digest in Chart.lock")
        .trim()
        .to_string()
}
