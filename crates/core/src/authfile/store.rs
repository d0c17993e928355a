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

/// Whether a file of `format` may hold `key`: containers/image's
/// `validateKey` (no tag, no digest) for an auth.json, and no path-scoped
/// key in docker's formats (docker would cut it to the host).
pub fn valid_key(format: AuthFormat, key: &str) -> Result<(), keys::KeyProblem> {
    match format {
        AuthFormat::Docker | AuthFormat::LegacyDockercfg => keys::validate_for_docker(key),
        AuthFormat::Containers => keys::validate(key).map(|_| ()),
    }
}

/// Saves `cred` into `file` (or the helper it names), writing the file when
/// it changed. Re-saving the same login changes nothing. A key the file's
/// format may not hold is refused before anything is written.
pub fn save_login(
    env: &AuthEnv,
    file: &mut AuthFile,
    cred: &Credential,
) -> Result<SavedTo, AuthFileError> {
    // In the write itself, so no caller can write what podman refuses.
    valid_key(file.format(), &cred.registry).map_err(|problem| AuthFileError::InvalidKey {
        path: file.path().to_path_buf(),
        problem,
    })?;
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
        if file.format() == AuthFormat::Docker {
            save_edit(file, |f| f.mark_helper_owned(&normalized))?;
        }
        return Ok(SavedTo::Helper {
            helper: name,
            config: file.path().to_path_buf(),
        });
    }
    let mut change = Change::Unchanged;
    let backup = save_edit(file, |f| {
        change = f.set(cred);
        change != Change::Unchanged
    })?;
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
    let mut in_file = false;
    save_edit(file, |f| {
        in_file = f.remove(&normalized);
        in_file
    })?;
    Ok(removed || in_file)
}

/// Times an edit is applied to a freshly read file when another program
/// keeps writing it.
pub const MAX_ATTEMPTS: u32 = 5;

/// Read–modify–conditional-write: applies `edit` (which says whether it
/// changed anything) and saves; when another program wrote the file since
/// it was read, reads it again and re-applies, so their change is kept.
/// Returns the backup made, if any.
fn save_edit(
    file: &mut AuthFile,
    mut edit: impl FnMut(&mut AuthFile) -> bool,
) -> Result<Option<PathBuf>, AuthFileError> {
    let mut attempt = 1;
    loop {
        if !edit(file) {
            return Ok(None);
        }
        match file.save() {
            Err(AuthFileError::ChangedMeanwhile { .. }) if attempt < MAX_ATTEMPTS => {
                file.reload()?;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &std::path::Path) -> AuthEnv {
        AuthEnv {
            path: Some(dir.as_os_str().to_owned()),
            ..AuthEnv::default()
        }
    }

    /// Another program's login lands between our read and our write.
    fn someone_else_logs_in(path: &std::path::Path, registry: &str) {
        let mut theirs = AuthFile::load(path, AuthFormat::Containers).unwrap();
        theirs.set(&Credential::new(registry, "them", "their-secret"));
        theirs.save().unwrap();
    }

    #[test]
    fn the_write_refuses_keys_podman_refuses_whoever_calls_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        let mut file = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        for bad in ["quay.io/org/app:1", "quay.io/org/app@sha256:00"] {
            let err = save_login(&env(dir.path()), &mut file, &Credential::new(bad, "u", "p"))
                .expect_err(bad);
            assert!(matches!(err, AuthFileError::InvalidKey { .. }), "{err}");
        }
        assert!(!path.exists(), "nothing written");
        let docker = dir.path().join("config.json");
        let mut file = AuthFile::load(&docker, AuthFormat::Docker).unwrap();
        let err = save_login(
            &env(dir.path()),
            &mut file,
            &Credential::new("quay.io/org", "u", "p"),
        )
        .expect_err("namespaced in docker's format");
        assert!(err.to_string().contains("namespaced key"), "{err}");
        assert!(!docker.exists(), "nothing written");
        save_login(
            &env(dir.path()),
            &mut file,
            &Credential::new("quay.io", "u", "p"),
        )
        .unwrap();
    }

    #[test]
    fn a_login_saved_meanwhile_by_another_program_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        someone_else_logs_in(&path, "quay.io");
        let mut file = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        someone_else_logs_in(&path, "ghcr.io");

        let cred = Credential::new("registry.redhat.io", "1234567|me", "mine");
        let saved = save_login(&env(dir.path()), &mut file, &cred).unwrap();
        assert!(
            matches!(
                saved,
                SavedTo::File {
                    change: Change::Added,
                    ..
                }
            ),
            "{saved:?}"
        );
        let on_disk = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        for registry in ["quay.io", "ghcr.io", "registry.redhat.io"] {
            assert!(on_disk.get(registry).unwrap().is_some(), "{registry} lost");
        }
    }

    #[test]
    fn a_logout_does_not_undo_a_login_saved_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        someone_else_logs_in(&path, "registry.redhat.io");
        let mut file = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        someone_else_logs_in(&path, "quay.io");

        assert!(remove_login(&env(dir.path()), &mut file, "registry.redhat.io").unwrap());
        let on_disk = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        assert!(on_disk.get("registry.redhat.io").unwrap().is_none());
        assert!(on_disk.get("quay.io").unwrap().is_some());
    }

    #[test]
    fn a_stale_file_is_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        someone_else_logs_in(&path, "quay.io");
        let mut stale = AuthFile::load(&path, AuthFormat::Containers).unwrap();
        someone_else_logs_in(&path, "ghcr.io");
        let before = std::fs::read(&path).unwrap();
        stale.set(&Credential::new("registry.redhat.io", "me", "mine"));
        assert!(matches!(
            stale.save(),
            Err(AuthFileError::ChangedMeanwhile { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // A file that appeared after it was found missing counts too.
        let fresh = dir.path().join("new.json");
        let mut missing = AuthFile::load(&fresh, AuthFormat::Containers).unwrap();
        someone_else_logs_in(&fresh, "quay.io");
        missing.set(&Credential::new("registry.redhat.io", "me", "mine"));
        assert!(matches!(
            missing.save(),
            Err(AuthFileError::ChangedMeanwhile { .. })
        ));
    }
}
