//! Where a credential comes from: typed in (`--username` and a secret), or
//! a login someone already stored — podman's auth files, docker's, or one
//! file given with `--from-file` — looked up as that tool looks it up.
//! Logins nothing downstream can use (an identity token alone) are
//! refused by name.

use rhpull_core::Credential;
use rhpull_core::authfile::{
    AuthEnv, AuthFile, AuthFormat, CredentialSource, Credentials, Selection, View,
};

use crate::cli::{SecretArgs, SourceArgs};
use crate::error::{CliError, Reason};
use crate::prompt;

/// A credential and where it came from (for the report; never the secret).
#[derive(Debug, Clone)]
pub struct Found {
    pub credential: Credential,
    /// `None`: typed in.
    pub source: Option<CredentialSource>,
    pub identity_token_only: bool,
}

impl Found {
    pub fn typed(credential: Credential) -> Self {
        Self {
            credential,
            source: None,
            identity_token_only: false,
        }
    }

    fn stored(r: rhpull_core::authfile::Resolved) -> Self {
        Self {
            credential: r.credential,
            source: Some(r.source),
            identity_token_only: r.identity_token_only,
        }
    }

    /// The cause the check names for a login it cannot use.
    pub fn problem(&self) -> Option<rhpull_core::sso::Cause> {
        self.identity_token_only
            .then(|| rhpull_core::sso::Cause::IdentityTokenOnly {
                registry: self.credential.registry.clone(),
            })
    }
}

/// Where a credential came from, for tables and report headings.
pub fn source_text(source: &CredentialSource) -> String {
    match source {
        CredentialSource::File { path } => path.display().to_string(),
        CredentialSource::Helper { helper, .. } => format!("docker-credential-{helper}"),
        CredentialSource::Secret { namespace, name } => format!("secret {namespace}/{name}"),
    }
}

/// A credential typed or piped in (`--username` and a secret).
pub fn from_flags(args: &SecretArgs, registry: &str) -> Result<Credential, CliError> {
    let username = prompt::username(args, registry)?;
    let secret = prompt::secret(args, registry)?;
    Ok(Credential {
        registry: registry.to_string(),
        username,
        secret,
        raw: None,
        email: None,
    })
}

/// The stored logins a source names: one file, docker's, or podman's view.
struct Loaded {
    creds: Credentials,
    /// Every file the view looks at, in order (the one file for `--from-file`).
    searched: Vec<String>,
}

impl Loaded {
    fn read(source: &SourceArgs) -> Result<Self, CliError> {
        let env = AuthEnv::from_process();
        if let Some(path) = &source.from_file {
            return Ok(Self {
                creds: Credentials::single(read_credential_file(path)?, &env),
                searched: vec![path.display().to_string()],
            });
        }
        let view = if source.from_docker {
            View::Docker
        } else {
            View::Podman
        };
        Ok(Self {
            creds: Credentials::load(&env, view)?,
            searched: env
                .search_path(view)
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect(),
        })
    }

    /// The files read, or the error that none of the searched ones exists.
    fn files(&self) -> Result<Vec<String>, CliError> {
        let files: Vec<String> = self
            .creds
            .files()
            .iter()
            .map(|f| f.path().display().to_string())
            .collect();
        if files.is_empty() {
            return Err(CliError::failed(Reason::NoAuthFiles, "error.no_auth_files")
                .with("files", self.searched.clone()));
        }
        Ok(files)
    }

    /// What the files hold, for "nothing matched" errors.
    fn held(&self) -> Vec<String> {
        self.creds
            .all_inline()
            .map(|v| v.into_iter().map(|r| r.credential.registry).collect())
            .unwrap_or_default()
    }
}

/// The stored login a tool would use for `target` — a registry, or with an
/// image its `registry/repository`, so that a path-scoped login
/// (`quay.io/org`) wins as podman and skopeo pick it. Docker looks logins up
/// by host only. `Ok(None)` with `required == false` when there is none.
pub fn lookup(
    source: &SourceArgs,
    target: &str,
    required: bool,
) -> Result<Option<Found>, CliError> {
    let loaded = Loaded::read(source)?;
    let target = if source.from_docker {
        rhpull_core::authfile::keys::host(target)
    } else {
        target
    };
    if let Some(r) = loaded.creds.resolve(target)? {
        return Ok(Some(Found::stored(r)));
    }
    if !required {
        return Ok(None);
    }
    let files = loaded.files()?;
    Err(
        CliError::failed(Reason::NoStoredLogin, "error.no_stored_login")
            .with("registry", target)
            .with("files", files)
            .with("held", loaded.held()),
    )
}

/// The registries the stored logins are for, Red Hat's first (in the
/// catalogue's order), then the others as the files list them; each once.
pub fn logged_in(source: &SourceArgs) -> Result<Vec<String>, CliError> {
    let loaded = Loaded::read(source)?;
    let mut out: Vec<String> = Vec::new();
    for r in rhpull_core::registries::RED_HAT_REGISTRIES {
        if loaded.creds.resolve(r.host)?.is_some() {
            out.push(r.host.to_string());
        }
    }
    for other in loaded.creds.all_inline()? {
        let registry = other.credential.registry;
        if !out.contains(&registry) {
            out.push(registry);
        }
    }
    Ok(out)
}

/// Credentials for `create`, `delegated`, `global set` and `export`: typed
/// in (`--username` for `registry`) or taken from a stored login.
pub fn gather(
    secret: &SecretArgs,
    source: &SourceArgs,
    selection: &Selection,
    registry: &str,
) -> Result<Vec<Found>, CliError> {
    if secret.username.is_some() {
        return Ok(vec![Found::typed(from_flags(secret, registry)?)]);
    }
    if !source.named() {
        return Err(CliError::usage(
            Reason::NoCredentialSource,
            "error.no_source",
        ));
    }
    let loaded = Loaded::read(source)?;
    let (found, missing) = loaded.creds.select(selection)?;
    let files = loaded.files()?;
    if !missing.is_empty() {
        return Err(
            CliError::failed(Reason::RegistryNotInFiles, "error.registry_not_in_files")
                .with("registries", missing)
                .with("files", files)
                .with("held", loaded.held()),
        );
    }
    if found.is_empty() {
        let (reason, key) = if *selection == Selection::RedHat {
            (Reason::NoRedHatLogin, "error.no_red_hat_login")
        } else {
            (Reason::NoLogin, "error.no_login_at_all")
        };
        return Err(CliError::failed(reason, key)
            .with("files", files)
            .with("held", loaded.held()));
    }
    let found: Vec<Found> = found.into_iter().map(Found::stored).collect();
    refuse_identity_tokens(&found)?;
    Ok(found)
}

/// A login with only an identity token cannot go into a pull secret.
pub fn refuse_identity_tokens(found: &[Found]) -> Result<(), CliError> {
    match found.iter().find(|f| f.identity_token_only) {
        Some(f) => Err(
            CliError::failed(Reason::IdentityTokenOnly, "error.identity_token_only")
                .with("registry", f.credential.registry.clone())
                .with(
                    "source",
                    f.source.as_ref().map(source_text).unwrap_or_default(),
                ),
        ),
        None => Ok(()),
    }
}

/// Any credential file people have, recognised by content: an auth.json,
/// a config.json, a .dockercfg, or a Secret manifest (YAML or JSON). Only
/// as much is read as a credential file can hold.
pub fn read_credential_file(path: &std::path::Path) -> Result<AuthFile, CliError> {
    use rhpull_core::authfile::manifest::{MAX_BYTES, ManifestError, read_any};
    use std::io::Read as _;
    let read_error = |e| {
        CliError::from(rhpull_core::authfile::AuthFileError::Read {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    match read_any(path, &bytes, AuthFormat::Containers) {
        Ok((file, _)) => Ok(file),
        Err(ManifestError::AuthFile(e)) => Err(e.into()),
        Err(ManifestError::TooLarge { path, limit }) => Err(CliError::failed(
            Reason::FileTooLarge,
            "error.file_too_large",
        )
        .with("path", path.display().to_string())
        .with("limit", format!("{} KiB", limit / 1024))),
        Err(ManifestError::Unrecognised { path, found }) => Err(CliError::failed(
            Reason::FileUnrecognised,
            "error.unrecognised_file",
        )
        .with("path", path.display().to_string())
        .with("found", found)),
    }
}
