//! Kubeconfig files for the emulator: its CA embedded, a bearer token, and
//! a context with a namespace, as `kind` writes them.

use std::path::Path;

use base64::Engine as _;

/// Writes a kubeconfig for `server` with `token`, mode 0600.
pub fn write(
    path: &Path,
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
    namespace: &str,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: rhpull-emulator\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: rhpull-emulator\n  context:\n    cluster: rhpull-emulator\n    user: {user}\n    namespace: {namespace}\ncurrent-context: rhpull-emulator\n"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}
