//! Auth files: containers `auth.json` (podman, skopeo, buildah), docker
//! `config.json`, and the legacy `.dockercfg`.
//!
//! - [`locate`]: where each tool looks, in its order (`REGISTRY_AUTH_FILE`,
//!   `XDG_RUNTIME_DIR`, `~/.config/containers`, `DOCKER_CONFIG`, `~/.docker`,
//!   `~/.dockercfg`).
//! - [`keys`]: how a key in a file names a registry (`https://` prefixes,
//!   `/v1/` suffixes, path-scoped keys, Docker Hub's aliases).
//! - [`file`]: one file parsed, merged and written back atomically with every
//!   entry and top-level field it had.
//! - [`resolve`]: the credential a tool would use for a registry, across all
//!   files and credential helpers.
//! - [`store`]: saving and removing a login, through the helper that owns
//!   the registry when there is one.

mod entry;
mod error;
pub mod file;
pub mod keys;
pub mod locate;
pub mod manifest;
pub mod resolve;
pub mod store;

pub use entry::AuthEntry;
pub use error::AuthFileError;
pub use file::{AuthFile, AuthFormat, Change};
pub use locate::{AuthEnv, View};

/// Writes `bytes` to `path` atomically with mode 0600 (any private file).
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    file::write_atomic(path, bytes)
}
pub use resolve::{CredentialSource, Credentials, Resolved, Selection};
