//! `rudder package`: reproducible archives laid out as Helm lays them out, judged by Helm's SDK.

mod repo_support;

use repo_support::{judge, write_chart, Env};

#[test]
fn packages_are_reproducible_and_helm_renders_them() {
    let env = Env::new();
    let chart = write_chart(&env.path().join("src"), "web", "0.3.0");
    std::fs::write(chart.join(".helmignore"), "# comment\n*.swp\nnotes/\n").unwrap();
    std::fs::write(chart.join("templates/cm.yaml.swp"), "junk").unwrap();
    std::fs::create_dir_all(chart.join("notes")).unwrap();
    std::fs::write(chart.join("notes/todo.txt"), "private").unwrap();
    std::fs::write(chart.join("README.md"), "# web\n").unwrap();
    let chart_s = chart.to_str().unwrap();

    let first = env.path().join("a");
    let second = env.path().join("b");
    let out = env.ok(&["package", chart_s, "-d", first.to_str().unwrap()]);
    assert!(out.contains("web-0.3.0.tgz"), "{out}");
    // Rewrite every file so that mtimes change: the bytes must not.
    for f in [
        "Chart.yaml",
        "values.yaml",
        "templates/cm.yaml",
        "README.md",
    ] {
        let p = chart.join(f);
        let data = std::fs::read(&p).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    env.rudder(&["package", chart_s, "-d", second.to_str().unwrap()])
        .env("TZ", "Asia/Tokyo")
        .output()
        .unwrap();
    let a = std::fs::read(first.join("web-0.3.0.tgz")).unwrap();
    let b = std::fs::read(second.join("web-0.3.0.tgz")).unwrap();
    assert_eq!(a, b, "the same chart must give the same bytes");
    assert_eq!(&a[4..8], &[0, 0, 0, 0], "no timestamp in the gzip header");

    // Entries: one top folder, sorted, fixed owner/mode/mtime, ignored files absent.
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&a[..]));
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.mtime().unwrap(), 0);
        names.push(entry.path().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(
        names,
        [
            "web/.helmignore",
            "web/Chart.yaml",
            "web/README.md",
            "web/templates/cm.yaml",
            "web/values.yaml"
        ]
    );

    // Helm loads and renders rudder's package.
    let out = judge(&format!(
        r#"
with open({path:?}, "rb") as f:
    data = f.read()
import helm_python as h
with h.Chart.load_archive(data) as c:
    print(c.metadata["name"], c.metadata["version"], c.metadata["appVersion"])
    print(c.render(name="demo", values={{"replicas": 5}})["web/templates/cm.yaml"])
    print(sorted(f["name"] for f in c.files))
"#,
        path = first.join("web-0.3.0.tgz").to_str().unwrap()
    ));
    assert!(out.contains("web 0.3.0 2.0"), "{out}");
    assert!(
        out.contains("name: demo-web") && out.contains("replicas: \"5\""),
        "{out}"
    );
    assert!(!out.contains("todo.txt") && !out.contains(".swp"), "{out}");
}

#[test]
fn version_and_app_version_flags_and_helm_packages_load_in_rudder() {
    let env = Env::new();
    let chart = write_chart(&env.path().join("src"), "api", "1.0.0");
    let dist = env.path().join("dist");
    env.ok(&[
        "package",
        chart.to_str().unwrap(),
        "-d",
        dist.to_str().unwrap(),
        "--version",
        "1.1.0-beta.1",
        "--app-version",
        "v9",
    ]);
    let archive = dist.join("api-1.1.0-beta.1.tgz");
    let out = judge(&format!(
        r#"
import helm_python as h
with h.Chart.load({p:?}) as c:
    print(c.metadata["version"], c.metadata["appVersion"])
"#,
        p = archive.to_str().unwrap()
    ));
    assert!(out.contains("1.1.0-beta.1 v9"), "{out}");
    let err = env.fails(&["package", chart.to_str().unwrap(), "--version", "one"]);
    assert!(err.contains("--version") && err.contains("SemVer"), "{err}");
    let err = env.fails(&["package", env.path().join("missing").to_str().unwrap()]);
    assert!(err.contains("missing"), "{err}");

    // A package made by Helm is read by rudder (indexed and unpacked).
    let helm_dist = env.path().join("helm");
    std::fs::create_dir_all(&helm_dist).unwrap();
    judge(&format!(
        "import helm_python as h\nh.package({c:?}, destination={d:?}, version='2.0.0')\n",
        c = chart.to_str().unwrap(),
        d = helm_dist.to_str().unwrap()
    ));
    env.ok(&["repo", "index", helm_dist.to_str().unwrap()]);
    let index = std::fs::read_to_string(helm_dist.join("index.yaml")).unwrap();
    assert!(
        index.contains("name: api") && index.contains("2.0.0"),
        "{index}"
    );
    assert!(index.contains("api-2.0.0.tgz"), "{index}");
}

#[test]
fn package_refuses_missing_dependencies() {
    let env = Env::new();
    let chart = write_chart(&env.path().join("src"), "app", "1.0.0");
    let yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("{yaml}dependencies:\n- name: db\n  version: ^1\n  repository: https://example.invalid\n"),
    )
    .unwrap();
    let err = env.fails(&[
        "package",
        chart.to_str().unwrap(),
        "-d",
        env.path().to_str().unwrap(),
    ]);
    assert!(
        err.contains("missing in charts/") && err.contains("db"),
        "{err}"
    );
}
