//! The credential a tool would use for a registry, across every file in its
//! search path and the credential helpers those files name.
//!
//! In each file, in order: a helper named in `credHelpers` for the host, then
//! `credsStore`, then the inline `auths` entry. A helper that has nothing
//! for the registry lets the search go on, as podman and docker do.

use std::ffi::OsString;
use std::path::PathBuf;

use super::{AuthEnv, AuthFile, AuthFileError, View, keys};
use crate::Credential;
use crate::helper::Helper;

/// Which stored credentials to take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The Red Hat registries that need a login.
    RedHat,
    Named(Vec<String>),
    All,
}

/// Where a credential came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CredentialSource {
    File {
        path: PathBuf,
    },
    Helper {
        helper: String,
        config: PathBuf,
    },
    /// A pull secret read from a cluster (by `rhpull-cluster`).
    Secret {
        namespace: String,
        name: String,
    },
}

/// A credential found for a registry, with its source.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub credential: Credential,
    pub source: CredentialSource,
    /// The entry holds only an `identitytoken` (what `docker login` stores
    /// for Azure Container Registry and others): no username or password a
    /// kubelet, a pull secret or the token flow can use.
    pub identity_token_only: bool,
}

impl Resolved {
    fn from_entry(entry: &super::AuthEntry, file: &AuthFile) -> Self {
        Self {
            credential: entry.credential(),
            source: CredentialSource::File {
                path: file.path().to_path_buf(),
            },
            identity_token_only: entry.identity_token_only(),
        }
    }
}

/// Every existing auth file of one tool's view, in its order, and the PATH
/// its credential helpers are found on.
#[derive(Clone, Debug)]
pub struct Credentials {
    files: Vec<AuthFile>,
    helper_path: Option<OsString>,
}

impl Credentials {
    /// Loads every existing file in the view's search path.
    pub fn load(env: &AuthEnv, view: View) -> Result<Self, AuthFileError> {
        let mut files = Vec::new();
        for (path, format) in env.search_path(view) {
            let file = AuthFile::load(&path, format)?;
            if file.existed() {
                files.push(file);
            }
        }
        Ok(Self {
            files,
            helper_path: env.path.clone(),
        })
    }

    /// One file only (`--from-file`, `--authfile`).
    pub fn single(file: AuthFile, env: &AuthEnv) -> Self {
        Self {
            files: vec![file],
            helper_path: env.path.clone(),
        }
    }

    pub fn files(&self) -> &[AuthFile] {
        &self.files
    }

    /// The credential the tool would use for `registry_or_repo`.
    pub fn resolve(&self, registry_or_repo: &str) -> Result<Option<Resolved>, AuthFileError> {
        for file in &self.files {
            if let Some(found) = self.resolve_in(file, registry_or_repo)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn resolve_in(
        &self,
        file: &AuthFile,
        registry_or_repo: &str,
    ) -> Result<Option<Resolved>, AuthFileError> {
        let normalized = keys::normalize(registry_or_repo);
        if let Some(name) = file.helper_for(&normalized) {
            let helper = Helper::new(name).with_search_path(self.helper_path.clone());
            let server = keys::helper_server(&normalized);
            let found = helper
                .get(&server)
                .map_err(|source| AuthFileError::Helper {
                    path: file.path().to_path_buf(),
                    registry: normalized.clone(),
                    source,
                })?;
            if let Some((username, secret)) = found {
                return Ok(Some(Resolved {
                    credential: Credential {
                        registry: keys::host(&normalized).to_string(),
                        username,
                        secret,
                        raw: None,
                        email: None,
                    },
                    source: CredentialSource::Helper {
                        helper: name.to_string(),
                        config: file.path().to_path_buf(),
                    },
                    identity_token_only: false,
                }));
            }
        }
        Ok(file
            .get(&normalized)?
            .map(|entry| Resolved::from_entry(&entry, file)))
    }

    /// The credentials `create --from-podman` takes: the Red Hat registries
    /// that need a login by default (never every unrelated login), the named
    /// registries, or all. Returns what was found and the names not found.
    pub fn select(
        &self,
        selection: &Selection,
    ) -> Result<(Vec<Resolved>, Vec<String>), AuthFileError> {
        match selection {
            Selection::All => Ok((self.all_inline()?, Vec::new())),
            Selection::RedHat => {
                let mut found = Vec::new();
                for r in crate::registries::RED_HAT_REGISTRIES {
                    if r.access == crate::registries::Access::Authenticated
                        && let Some(c) = self.resolve(r.host)?
                    {
                        found.push(c);
                    }
                }
                // Path-scoped Red Hat entries (registry.redhat.io/org) count too.
                for c in self.all_inline()? {
                    let covered = found
                        .iter()
                        .any(|f| f.credential.registry == c.credential.registry);
                    if !covered
                        && crate::registries::is_red_hat_authenticated(&c.credential.registry)
                    {
                        found.push(c);
                    }
                }
                Ok((found, Vec::new()))
            }
            Selection::Named(names) => {
                let (mut found, mut missing) = (Vec::new(), Vec::new());
                for n in names {
                    match self.resolve(n)? {
                        Some(mut c) => {
                            c.credential.registry = keys::normalize(n);
                            found.push(c);
                        }
                        None => missing.push(n.clone()),
                    }
                }
                Ok((found, missing))
            }
        }
    }

    /// Every inline credential visible in the view, the first file winning
    /// for each registry: what `create --from-podman` chooses from.
    pub fn all_inline(&self) -> Result<Vec<Resolved>, AuthFileError> {
        let mut out: Vec<Resolved> = Vec::new();
        for file in &self.files {
            for entry in file.entries()? {
                if out.iter().any(|r| r.credential.registry == entry.registry) {
                    continue;
                }
                out.push(Resolved::from_entry(&entry, file));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::authfile::AuthFormat;

    #[test]
    fn first_file_in_order_wins_and_others_fill_in() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir_all(home.join(".config/containers")).unwrap();
        fs::create_dir_all(home.join(".docker")).unwrap();
        fs::write(
            home.join(".config/containers/auth.json"),
            r#"{"auths":{"registry.redhat.io":{"auth":"cG9kbWFuOnA="}}}"#,
        )
        .unwrap();
        fs::write(
            home.join(".docker/config.json"),
            r#"{"auths":{"registry.redhat.io":{"auth":"ZG9ja2VyOnA="},"quay.io":{"auth":"cXVheTpw"}}}"#,
        )
        .unwrap();
        let env = AuthEnv {
            home: Some(home.clone()),
            xdg_runtime_dir: Some(dir.path().join("run")),
            ..AuthEnv::default()
        };
        let podman = Credentials::load(&env, View::Podman).unwrap();
        assert_eq!(podman.files().len(), 2);
        let r = podman.resolve("registry.redhat.io").unwrap().unwrap();
        assert_eq!(r.credential.username, "podman");
        assert_eq!(
            r.source,
            CredentialSource::File {
                path: home.join(".config/containers/auth.json")
            }
        );
        assert_eq!(
            podman
                .resolve("quay.io")
                .unwrap()
                .unwrap()
                .credential
                .username,
            "quay"
        );
        assert_eq!(podman.all_inline().unwrap().len(), 2);

        let docker = Credentials::load(&env, View::Docker).unwrap();
        let r = docker.resolve("registry.redhat.io").unwrap().unwrap();
        assert_eq!(r.credential.username, "docker");
        assert_eq!(r.credential.secret.expose_secret(), "p");
        assert_eq!(docker.files()[0].format(), AuthFormat::Docker);
    }
}
