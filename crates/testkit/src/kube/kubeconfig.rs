//! Kubeconfig files for emulators: each cluster's CA embedded, bearer
//! tokens, and contexts with a namespace, as `kind` writes them. One file
//! may hold several clusters and contexts (`cargo xtask world --clusters`).

use std::path::Path;

use base64::Engine as _;

/// A kubeconfig being put together.
#[derive(Clone, Debug, Default)]
pub struct KubeconfigFile {
    clusters: Vec<String>,
    users: Vec<String>,
    contexts: Vec<String>,
    current: Option<String>,
}

impl KubeconfigFile {
    /// Adds a cluster named `name` at `server`, trusting `ca_pem`.
    pub fn cluster(mut self, name: &str, server: &str, ca_pem: &str) -> Self {
        let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
        self.clusters.push(format!(
            "- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n"
        ));
        self
    }

    /// Adds user `user` with a bearer token and a context using it on
    /// `cluster`; the first context added is the current one.
    pub fn context(
        mut self,
        context: &str,
        cluster: &str,
        user: &str,
        token: &str,
        namespace: &str,
    ) -> Self {
        self.users
            .push(format!("- name: {user}\n  user:\n    token: {token}\n"));
        self.contexts.push(format!(
            "- name: {context}\n  context:\n    cluster: {cluster}\n    user: {user}\n    namespace: {namespace}\n"
        ));
        self.current.get_or_insert_with(|| context.to_string());
        self
    }

    pub fn to_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}users:\n{}contexts:\n{}current-context: {}\n",
            self.clusters.concat(),
            self.users.concat(),
            self.contexts.concat(),
            self.current.as_deref().unwrap_or_default()
        )
    }

    /// Writes the file, mode 0600.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_yaml())?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
}

/// Writes a kubeconfig for `server` with `token`, mode 0600.
pub fn write(
    path: &Path,
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
    namespace: &str,
) -> std::io::Result<()> {
    KubeconfigFile::default()
        .cluster("rhpull-emulator", server, ca_pem)
        .context("rhpull-emulator", "rhpull-emulator", user, token, namespace)
        .write(path)
}
