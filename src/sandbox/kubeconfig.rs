//! The kubeconfig `rudder sandbox` writes so that kubectl, Helm and rudder can reach it.

use std::path::Path;

/// Name of the cluster, user and context in the written kubeconfig.
pub const CONTEXT: &str = "rudder-sandbox";

/// A kubeconfig pointing at `server` (e.g. `http://127.0.0.1:PORT`), default namespace `default`.
pub fn render(server: &str) -> String {
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT}\n  cluster:\n    server: {server}\n\
         users:\n\
         - name: {CONTEXT}\n  user: {{}}\n\
         contexts:\n\
         - name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {CONTEXT}\n    namespace: default\n\
         current-context: {CONTEXT}\n\
         preferences: {{}}\n"
    )
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
        let v = crate::yaml::from_str(&text).expect("valid YAML");
        assert_eq!(v["current-context"], CONTEXT);
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        assert_eq!(v["contexts"][0]["context"]["user"], CONTEXT);
    }
}
