//! Saving and removing a login the way `podman login` / `docker login` do:
//! when the file names a credential helper for the registry (`credHelpers`
//! or `credsStore`), the secret goes to the helper and the file only keeps
//! docker's empty marker entry; otherwise it is merged into `auths`.

use std::path::PathBuf;

use super::{AuthEnv, AuthFile, AuthFileError, AuthFormat, Change, keys};
use crate::Credential;
use crate::helper::Helper;

/// Where a saved login went.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SavedTo {
    File {
        path: PathBuf,
        change: Change,
        /// The copy kept of a file rhpull changed for the first time.
        backup: Option<PathBuf>,
    },
    Helper {
        helper: String,
        config: PathBuf,
    },
}

fn helper_error(
    file: &AuthFile,
    registry: &str,
    source: crate::helper::HelperError,
) -> AuthFileError {
    AuthFileError::Helper {
        path: file.path().to_path_buf(),
        registry: registry.to_string(),
        source,
    }
}

/// Saves `cred` into `file` (or the helper it names), writing the file when
/// it changed. Re-saving the same login changes nothing.
pub fn save_login(
    env: &AuthEnv,
    file: &mut AuthFile,
    cred: &Credential,
) -> Result<SavedTo, AuthFileError> {
    let normalized = keys::normalize(&cred.registry);
    if let Some(name) = file.helper_for(&normalized).map(str::to_string) {
        let helper = Helper::new(&name).with_search_path(env.path.clone());
        helper
            .store(
                &keys::helper_server(&normalized),
                &cred.username,
                &cred.secret,
            )
            .map_err(|e| helper_error(file, &normalized, e))?;
        // docker leaves an empty entry so `docker info` lists the login;
        // an inline secret for the same registry would now be stale.
        if file.format() == AuthFormat::Docker && file.mark_helper_owned(&normalized) {
            file.save()?;
        }
        return Ok(SavedTo::Helper {
            helper: name,
            config: file.path().to_path_buf(),
        });
    }
    let change = file.set(cred);
    let backup = if change == Change::Unchanged {
        None
    } else {
        file.save()?
    };
    Ok(SavedTo::File {
        path: file.path().to_path_buf(),
        change,
        backup,
    })
}

/// Removes the login for exactly `registry` from `file` and from the helper
/// that owns it; every other entry stays. `false` when there was nothing.
pub fn remove_login(
    env: &AuthEnv,
    file: &mut AuthFile,
    registry: &str,
) -> Result<bool, AuthFileError> {
    let normalized = keys::normalize(registry);
    let mut removed = false;
    if let Some(name) = file.helper_for(&normalized).map(str::to_string) {
        let helper = Helper::new(&name).with_search_path(env.path.clone());
        let server = keys::helper_server(&normalized);
        let held = helper
            .get(&server)
            .map_err(|e| helper_error(file, &normalized, e))?;
        if held.is_some() {
            helper
                .erase(&server)
                .map_err(|e| helper_error(file, &normalized, e))?;
            removed = true;
        }
    }
    if file.remove(&normalized) {
        file.save()?;
        removed = true;
    }
    Ok(removed)
}
