//! The distribution token flow against a real registry: the registry answers 401 with a Bearer
//! challenge, rudder asks the token service (with the stored credentials) for a token scoped to
//! the repository, and retries with it.

mod repo_support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use repo_support::{judge, write_chart, Env, Registry, TestPki, REGISTRY_PASSWORD, REGISTRY_USER};

#[test]
fn bearer_token_flow_login_push_pull() {
    let env = Env::new();
    let pki = TestPki::new();
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let realm = start_token_service(&pki, scopes.clone());
    let registry = Registry::start_token(&realm, &pki.ca_pem);

    let chart = write_chart(&env.path().join("src"), "web", "1.0.0");
    let dist = env.path().join("dist");
    env.ok(&[
        "package",
        chart.to_str().unwrap(),
        "-d",
        dist.to_str().unwrap(),
    ]);
    let archive = dist.join("web-1.0.0.tgz");

    let err = env.fails(&[
        "push",
        archive.to_str().unwrap(),
        &registry.oci("charts"),
        "--plain-http",
    ]);
    assert!(
        err.contains("token service") && err.contains("401"),
        "{err}"
    );
    let err = env.fails(&[
        "registry",
        "login",
        &registry.host,
        "-u",
        REGISTRY_USER,
        "-p",
        "nope",
        "--plain-http",
    ]);
    assert!(err.contains("401"), "{err}");
    env.ok(&[
        "registry",
        "login",
        &registry.host,
        "-u",
        REGISTRY_USER,
        "-p",
        REGISTRY_PASSWORD,
        "--plain-http",
    ]);
    env.ok(&[
        "push",
        archive.to_str().unwrap(),
        &registry.oci("charts"),
        "--plain-http",
    ]);
    let dest = env.path().join("out");
    env.ok(&[
        "pull",
        &registry.oci("charts/web"),
        "--version",
        "^1",
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(dest.join("web-1.0.0.tgz")).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    let asked = scopes.lock().unwrap().clone();
    // Registries differ in the order they list actions in the challenge ("pull,push" or
    // "push,pull"); what matters is that one token covered both.
    assert!(
        asked.iter().any(|s| {
            let mut actions: Vec<&str> = s
                .strip_prefix("repository:charts/web:")
                .map(|a| a.split(',').collect())
                .unwrap_or_default();
            actions.sort_unstable();
            actions == ["pull", "push"]
        }),
        "{asked:?}"
    );
    assert!(
        asked.iter().any(|s| s == "repository:charts/web:pull"),
        "{asked:?}"
    );

    // Helm, going through the same token service, pulls what rudder pushed.
    let helm_dest = env.path().join("helm");
    std::fs::create_dir_all(&helm_dest).unwrap();
    judge(&format!(
        r#"
import helm_python as h
c = h.RegistryClient(plain_http=True, credentials_file={creds:?})
c.login({host:?}, {user:?}, {pw:?}, plain_http=True)
h.pull({web:?}, client=c, destination={dest:?}, version="1.0.0", plain_http=True)
"#,
        creds = env.path().join("helm-creds.json").to_str().unwrap(),
        host = registry.host,
        user = REGISTRY_USER,
        pw = REGISTRY_PASSWORD,
        web = registry.oci("charts/web"),
        dest = helm_dest.to_str().unwrap(),
    ));
    assert!(helm_dest.join("web-1.0.0.tgz").is_file());
}

/// A token service on loopback: Basic-authenticated GET /token?service=…&scope=… answers a JWT
/// (ES256, x5c = the PKI's server certificate) granting the requested scope.
fn start_token_service(pki: &TestPki, scopes: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    let cert = pki.cert_der();
    let key = pki.key_der();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let authorized = head.lines().any(|l| {
                let lower = l.to_ascii_lowercase();
                lower.starts_with("authorization:")
                    && l.split_once(':').map(|(_, v)| v.trim()).is_some_and(|v| {
                        let expected = base64::engine::general_purpose::STANDARD
                            .encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"));
                        v == format!("Basic {expected}")
                    })
            });
            let query: HashMap<String, Vec<String>> = target
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or_default()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .fold(HashMap::new(), |mut m, (k, v)| {
                    m.entry(k.to_string()).or_default().push(percent_decode(v));
                    m
                });
            let requested = query.get("scope").cloned().unwrap_or_default();
            scopes.lock().unwrap().extend(requested.iter().cloned());
            let response = if authorized {
                let token = sign_token(&cert, &key, &requested);
                let body = format!("{{\"token\":\"{token}\",\"expires_in\":300}}");
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    realm
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn sign_token(cert_der: &[u8], key_der: &[u8], scopes: &[String]) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(cert_der)],
    });
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "rudder-issuer",
        "sub": REGISTRY_USER,
        "aud": "rudder-test",
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = rustls::pki_types::PrivateKeyDer::try_from(key_der.to_vec()).unwrap();
    let signing_key = rustls::crypto::ring::sign::any_ecdsa_type(&key).unwrap();
    let signer = signing_key
        .choose_scheme(&[rustls::SignatureScheme::ECDSA_NISTP256_SHA256])
        .unwrap();
    let der = signer.sign(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64.encode(der_to_raw_ecdsa(&der)))
}

/// ECDSA signature from ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` to JOSE's fixed r‖s.
fn der_to_raw_ecdsa(der: &[u8]) -> Vec<u8> {
    fn integer(data: &[u8]) -> (&[u8], &[u8]) {
        assert_eq!(data[0], 0x02, "ASN.1 INTEGER expected");
        let len = data[1] as usize;
        (&data[2..2 + len], &data[2 + len..])
    }
    assert_eq!(der[0], 0x30, "ASN.1 SEQUENCE expected");
    let body = &der[2..];
    let (r, rest) = integer(body);
    let (s, _) = integer(rest);
    let mut out = Vec::with_capacity(64);
    for n in [r, s] {
        let n = if n.len() > 32 { &n[n.len() - 32..] } else { n };
        out.extend(std::iter::repeat_n(0u8, 32 - n.len()));
        out.extend_from_slice(n);
    }
    out
}
