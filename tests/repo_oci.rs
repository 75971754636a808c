//! OCI registries end to end against a real CNCF distribution registry on loopback:
//! `registry login|logout`, `push`, `pull oci://…`, judged by Helm's SDK in both directions.

mod repo_support;

use std::io::{Read, Write};

use repo_support::{judge, write_chart, Env, Registry, REGISTRY_PASSWORD, REGISTRY_USER};

fn package(env: &Env, name: &str, version: &str) -> std::path::PathBuf {
    let chart = write_chart(&env.path().join("src"), name, version);
    let out = env.path().join("dist");
    env.ok(&[
        "package",
        chart.to_str().unwrap(),
        "-d",
        out.to_str().unwrap(),
        "--version",
        version,
    ]);
    out.join(format!("{name}-{version}.tgz"))
}

#[test]
fn login_push_pull_logout_with_helm_interop() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let registry = Registry::start(true);
    let archive = package(&env, "web", "1.2.0");
    let archive_s = archive.to_str().unwrap();
    let remote = registry.oci("charts");

    let err = env.fails(&["push", archive_s, &remote, "--plain-http"]);
    assert!(err.contains("rudder registry login"), "{err}");
    let err = env.fails(&[
        "registry",
        "login",
        &registry.host,
        "-u",
        REGISTRY_USER,
        "-p",
        "wrong",
        "--plain-http",
    ]);
    assert!(err.contains("rejected"), "{err}");
    let creds = env.config_dir().join("registry/config.json");
    assert!(!creds.exists(), "a failed login stores nothing");
    assert_cmd::Command::from_std(env.rudder(&[
        "registry",
        "login",
        &registry.host,
        "-u",
        REGISTRY_USER,
        "--password-stdin",
        "--plain-http",
    ]))
    .write_stdin(format!("{REGISTRY_PASSWORD}\n"))
    .assert()
    .success();
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds).unwrap()).unwrap();
    assert!(
        stored["auths"][&registry.host]["auth"].is_string(),
        "{stored}"
    );

    // Plain HTTP needs the flag for registries too.
    let err = env.fails(&["push", archive_s, &remote]);
    assert!(err.contains("--plain-http"), "{err}");
    let out = env.ok(&["push", archive_s, &remote, "--plain-http"]);
    assert!(
        out.contains(&format!("{}/charts/web:1.2.0", registry.host)),
        "{out}"
    );
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .expect("digest line")
        .to_string();
    // `+` in a version becomes `_` in the tag.
    let build = package(&env, "web", "1.3.0+build.7");
    let out = env.ok(&["push", build.to_str().unwrap(), &remote, "--plain-http"]);
    assert!(out.contains("web:1.3.0_build.7"), "{out}");
    package(&env, "web", "2.0.0-rc.1");
    env.ok(&[
        "push",
        env.path().join("dist/web-2.0.0-rc.1.tgz").to_str().unwrap(),
        &remote,
        "--plain-http",
    ]);

    // rudder pulls: newest stable, a range, an exact version, by digest; identical bytes.
    let dest = env.path().join("pulled");
    let dest_s = dest.to_str().unwrap();
    let web = registry.oci("charts/web");
    env.ok(&["pull", &web, "--plain-http", "-d", dest_s]);
    assert!(dest.join("web-1.3.0+build.7.tgz").is_file());
    env.ok(&[
        "pull",
        &web,
        "--version",
        "~1.2",
        "--plain-http",
        "-d",
        dest_s,
    ]);
    assert_eq!(
        std::fs::read(dest.join("web-1.2.0.tgz")).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    env.ok(&[
        "pull",
        &web,
        "--version",
        ">=2.0.0-0",
        "--plain-http",
        "-d",
        dest_s,
    ]);
    assert!(dest.join("web-2.0.0-rc.1.tgz").is_file());
    let by_digest = format!("{web}@{digest}");
    let pinned = env.path().join("pinned");
    env.ok(&[
        "pull",
        &by_digest,
        "--plain-http",
        "--untar",
        "-d",
        pinned.to_str().unwrap(),
    ]);
    assert!(pinned.join("web/Chart.yaml").is_file());
    let wrong = format!("{web}@sha256:{}", "0".repeat(64));
    assert!(!env.run(&["pull", &wrong, "--plain-http", "-d", dest_s]).0);
    let err = env.fails(&[
        "pull",
        &web,
        "--version",
        "9.9.9",
        "--plain-http",
        "-d",
        dest_s,
    ]);
    assert!(err.contains("not found"), "{err}");

    // Helm pulls what rudder pushed, renders it, and sees Helm's media types; Helm pushes,
    // rudder pulls.
    let helm_dest = env.path().join("helm");
    std::fs::create_dir_all(&helm_dest).unwrap();
    let helm_chart = package(&env, "api", "0.9.0");
    let out = judge(&format!(
        r#"
import helm_python as h
c = h.RegistryClient(plain_http=True, credentials_file={creds:?})
c.login({host:?}, {user:?}, {pw:?}, plain_http=True)
print("tags", c.tags({web:?}))
print("resolve", c.resolve({web:?} + ":1.2.0"))
h.pull({web:?}, client=c, destination={dest:?}, version="1.2.0", plain_http=True)
with h.Chart.load({dest:?} + "/web-1.2.0.tgz") as ch:
    print(ch.render(name="rel")["web/templates/cm.yaml"])
h.push({helm_chart:?}, {remote:?}, client=c, plain_http=True)
"#,
        creds = env.path().join("helm-creds.json").to_str().unwrap(),
        host = registry.host,
        user = REGISTRY_USER,
        pw = REGISTRY_PASSWORD,
        web = web,
        dest = helm_dest.to_str().unwrap(),
        helm_chart = helm_chart.to_str().unwrap(),
        remote = remote,
    ));
    assert!(
        out.contains("1.3.0+build.7") && out.contains("'1.2.0'"),
        "{out}"
    );
    assert!(out.contains(&digest), "{out}");
    assert!(out.contains("name: rel-web"), "{out}");
    env.ok(&[
        "pull",
        &registry.oci("charts/api"),
        "--version",
        "0.9.0",
        "--plain-http",
        "-d",
        dest_s,
    ]);
    assert!(dest.join("api-0.9.0.tgz").is_file());

    // template renders straight from the registry.
    let out = env.ok(&[
        "template",
        "rel",
        &web,
        "--version",
        "1.2.0",
        "--plain-http",
    ]);
    assert!(out.contains("name: rel-web"), "{out}");

    // After logout the registry refuses us.
    env.ok(&["registry", "logout", &registry.host]);
    let err = env.fails(&["pull", &web, "--plain-http", "-d", dest_s]);
    assert!(err.contains("rudder registry login"), "{err}");
}

#[test]
fn pushed_manifest_uses_helm_media_types() {
    let env = Env::new();
    let registry = Registry::start(false);
    let archive = package(&env, "db", "0.1.0");
    env.ok(&[
        "push",
        archive.to_str().unwrap(),
        &registry.oci("team/charts"),
        "--plain-http",
    ]);
    let manifest = http_get(
        &registry.host,
        "/v2/team/charts/db/manifests/0.1.0",
        "application/vnd.oci.image.manifest.v1+json",
    );
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cncf.helm.config.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "db"
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = http_get(
        &registry.host,
        &format!("/v2/team/charts/db/blobs/{config_digest}"),
        "*/*",
    );
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["name"], "db");
    assert_eq!(config["version"], "0.1.0");
    assert_eq!(config["apiVersion"], "v2");
    // Pushing again is idempotent.
    env.ok(&[
        "push",
        archive.to_str().unwrap(),
        &registry.oci("team/charts"),
        "--plain-http",
    ]);
    // A tag or a non-oci remote is refused.
    let err = env.fails(&[
        "push",
        archive.to_str().unwrap(),
        &format!("{}:1.0.0", registry.oci("team/charts")),
        "--plain-http",
    ]);
    assert!(err.contains("chart version"), "{err}");
    let err = env.fails(&[
        "push",
        archive.to_str().unwrap(),
        "https://example.invalid/x",
    ]);
    assert!(err.contains("oci://"), "{err}");
}

/// A bare HTTP/1.0 GET on loopback returning the body.
fn http_get(host: &str, path: &str, accept: &str) -> String {
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    body.to_string()
}
