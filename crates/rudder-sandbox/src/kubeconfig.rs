//! The kubeconfig `rudder sandbox` writes so that kubectl, Helm and rudder can reach it.

use std::path::Path;

/// Name of the cluster, user and context in the written kubeconfig.
pub const CONTEXT: &str = "rudder-sandbox";

/// Name of the context (and user) carrying `--read-only-token`.
pub const READ_ONLY_CONTEXT: &str = "rudder-sandbox-read-only";

/// The token a `--tls` kubeconfig carries when the sandbox checks none.
pub const UNCHECKED_TOKEN: &str = "rudder-sandbox-unchecked";

/// How clients reach and authenticate to the sandbox.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// PEM of the CA that signed the serving certificate (`--tls`).
    pub ca_pem: Option<String>,
    /// `--token`: the current context's user presents it.
    pub token: Option<String>,
    /// `--read-only-token`: a second context, `rudder-sandbox-read-only`, presents it.
    pub read_only_token: Option<String>,
}

/// A kubeconfig pointing at `server` (e.g. `http://127.0.0.1:PORT`), default namespace `default`.
pub fn render(server: &str) -> String {
    render_with(server, &Access::default())
}

/// A kubeconfig pointing at `server`, trusting `access.ca_pem` and presenting its tokens.
/// With only a read-only token, the current context uses it.
pub fn render_with(server: &str, access: &Access) -> String {
    use base64::Engine as _;
    let mut cluster = format!("    server: {server}\n");
    if let Some(pem) = &access.ca_pem {
        let data = base64::engine::general_purpose::STANDARD.encode(pem);
        cluster.push_str(&format!("    certificate-authority-data: {data}\n"));
    }
    let user = |token: Option<&String>| match token {
        Some(t) => format!("\n    token: {}", quote(t)),
        None => " {}".to_string(),
    };
    // kubectl prompts for a password when an HTTPS server's user has no credentials, so a TLS
    // sandbox without tokens gets a placeholder it never checks.
    let placeholder = access.ca_pem.as_ref().map(|_| UNCHECKED_TOKEN.to_string());
    let main_token = access
        .token
        .as_ref()
        .or(access.read_only_token.as_ref())
        .or(placeholder.as_ref());
    let mut users = format!("- name: {CONTEXT}\n  user:{}\n", user(main_token));
    let mut contexts = context(CONTEXT, CONTEXT);
    if let (Some(_), Some(read_only)) = (&access.token, &access.read_only_token) {
        users.push_str(&format!(
            "- name: {READ_ONLY_CONTEXT}\n  user:{}\n",
            user(Some(read_only))
        ));
        contexts.push_str(&context(READ_ONLY_CONTEXT, READ_ONLY_CONTEXT));
    }
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT}\n  cluster:\n{cluster}\
         users:\n{users}\
         contexts:\n{contexts}\
         current-context: {CONTEXT}\n\
         preferences: {{}}\n"
    )
}

fn context(name: &str, user: &str) -> String {
    format!(
        "- name: {name}\n  context:\n    cluster: {CONTEXT}\n    user: {user}\n    namespace: default\n"
    )
}

/// A YAML double-quoted scalar (tokens are user-chosen text).
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Whether the file at `path` may be overwritten: it is absent, empty, or a sandbox kubeconfig.
/// Guards a user's real kubeconfig (e.g. `$KUBECONFIG`) from being clobbered.
pub fn may_overwrite(path: &Path) -> bool {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().is_empty() || text.contains(&format!("current-context: {CONTEXT}")),
        Err(_) => true,
    }
}

/// Writes `contents` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    std::io::Write::write_all(&mut tmp, contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_kubeconfig_names_everything_rudder_sandbox() {
        let text = render("http://127.0.0.1:1234");
        let v = rudder_yaml::from_str(&text).expect("valid YAML");
        assert_eq!(v["current-context"], CONTEXT);
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        assert_eq!(v["contexts"][0]["context"]["user"], CONTEXT);
    }

    #[test]
    fn tls_and_tokens_land_in_the_kubeconfig() {
        let access = Access {
            ca_pem: Some("-----BEGIN CERTIFICATE-----\nx\n".into()),
            token: Some("se:cret \"1\"".into()),
            read_only_token: Some("viewer".into()),
        };
        let text = render_with("https://127.0.0.1:1234", &access);
        let v = rudder_yaml::from_str(&text).expect("valid YAML");
        let ca = v["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .expect("CA data");
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(ca)
            .expect("base64");
        assert_eq!(decoded, b"-----BEGIN CERTIFICATE-----\nx\n");
        assert_eq!(v["users"][0]["user"]["token"], "se:cret \"1\"");
        assert_eq!(v["users"][1]["name"], READ_ONLY_CONTEXT);
        assert_eq!(v["users"][1]["user"]["token"], "viewer");
        assert_eq!(v["contexts"][1]["context"]["user"], READ_ONLY_CONTEXT);
        assert_eq!(v["current-context"], CONTEXT);
    }
}
