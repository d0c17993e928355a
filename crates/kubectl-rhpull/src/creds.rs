//! Getting a credential from the person: flags, stdin, `RHPULL_PASSWORD`, a
//! hidden prompt on a TTY, or an auth file someone already wrote. Without a
//! TTY nothing waits for input: a missing value is a usage error naming the
//! flag.

use std::io::{IsTerminal as _, Read as _};

use rhpull_core::Credential;
use rhpull_core::authfile::{AuthEnv, AuthFile, AuthFormat, CredentialSource, Credentials, View};
use secrecy::SecretString;

use crate::cli::{SecretArgs, SourceArgs};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;

/// A credential and where it came from (for the report; never the secret).
#[derive(Debug)]
pub struct Found {
    pub credential: Credential,
    pub source: Option<CredentialSource>,
}

/// Where a credential came from, for tables and report headings.
pub fn source_text(source: &CredentialSource) -> String {
    match source {
        CredentialSource::File { path } => path.display().to_string(),
        CredentialSource::Helper { helper, .. } => format!("docker-credential-{helper}"),
        CredentialSource::Secret { namespace, name } => format!("secret {namespace}/{name}"),
    }
}

pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Reads the secret for `username`: `--password` (with a warning),
/// `--password-stdin` (one trailing newline dropped, as docker does),
/// `RHPULL_PASSWORD`, or a hidden prompt on a TTY.
pub fn read_secret(args: &SecretArgs, registry: &str) -> Result<SecretString, CliError> {
    if let Some(p) = &args.password {
        output::warn(&text("warn.password_in_argv", &[]));
        return Ok(SecretString::from(p.clone()));
    }
    if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            CliError::from_catalogue(Exit::Failed, "error.stdin", &[("reason", &e.to_string())])
        })?;
        let s = s
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&s);
        return Ok(SecretString::from(s.to_string()));
    }
    if let Ok(p) = std::env::var("RHPULL_PASSWORD") {
        return Ok(SecretString::from(p));
    }
    if interactive() {
        let prompt = text("prompt.password", &[("registry", registry)]);
        let p = dialoguer::Password::new()
            .with_prompt(prompt)
            .allow_empty_password(true)
            .interact()
            .map_err(|e| {
                CliError::from_catalogue(
                    Exit::Failed,
                    "error.prompt",
                    &[("reason", &e.to_string())],
                )
            })?;
        return Ok(SecretString::from(p));
    }
    Err(CliError::from_catalogue(
        Exit::Usage,
        "error.missing_password",
        &[],
    ))
}

/// The username: `--username`, else a prompt on a TTY, else a usage error.
pub fn read_username(args: &SecretArgs, registry: &str) -> Result<String, CliError> {
    if let Some(u) = &args.username {
        return Ok(u.clone());
    }
    if interactive() {
        let prompt = text("prompt.username", &[("registry", registry)]);
        return dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .interact_text()
            .map_err(|e| {
                CliError::from_catalogue(
                    Exit::Failed,
                    "error.prompt",
                    &[("reason", &e.to_string())],
                )
            });
    }
    Err(CliError::from_catalogue(
        Exit::Usage,
        "error.missing_username",
        &[],
    ))
}

/// A credential typed or piped in (`--username` and a secret).
pub fn from_flags(args: &SecretArgs, registry: &str) -> Result<Credential, CliError> {
    let username = read_username(args, registry)?;
    let secret = read_secret(args, registry)?;
    Ok(Credential {
        registry: registry.to_string(),
        username,
        secret,
    })
}

/// What the files of a view hold, for "nothing matched" errors.
fn held(creds: &Credentials) -> String {
    let all: Vec<String> = creds
        .all_inline()
        .map(|v| v.into_iter().map(|r| r.credential.registry).collect())
        .unwrap_or_default();
    if all.is_empty() {
        "-".into()
    } else {
        all.join(", ")
    }
}

/// A stored credential for `registry` from podman's or docker's files or
/// one given file; `Ok(None)` with `required == false` when there is none.
pub fn from_source(
    source: &SourceArgs,
    registry: &str,
    required: bool,
) -> Result<Option<Found>, CliError> {
    let env = AuthEnv::from_process();
    let creds = load_source(source, &env)?;
    match creds.resolve(registry)? {
        Some(r) => Ok(Some(Found {
            credential: r.credential,
            source: Some(r.source),
        })),
        None if !required => Ok(None),
        None => {
            let files: Vec<String> = creds
                .files()
                .iter()
                .map(|f| f.path().display().to_string())
                .collect();
            Err(CliError::from_catalogue(
                Exit::Failed,
                "error.no_stored_login",
                &[
                    ("registry", registry),
                    (
                        "files",
                        &if files.is_empty() {
                            "-".into()
                        } else {
                            files.join(", ")
                        },
                    ),
                    ("held", &held(&creds)),
                ],
            ))
        }
    }
}

/// Asks "proceed?" on a TTY; `--yes` skips; without a TTY it is a usage
/// error naming `--yes`, never a wait for input.
pub fn confirm(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(CliError::from_catalogue(
            Exit::Usage,
            "error.needs_yes",
            &[],
        ));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| {
            CliError::from_catalogue(Exit::Failed, "error.prompt", &[("reason", &e.to_string())])
        })?;
    if ok {
        Ok(())
    } else {
        Err(CliError::from_catalogue(
            Exit::Failed,
            "error.declined",
            &[],
        ))
    }
}

/// One of `items`, chosen on a TTY; without one, a usage error listing them.
pub fn choose(
    prompt: &str,
    items: &[String],
    error_key: &str,
    error_args: &[(&str, &str)],
) -> Result<String, CliError> {
    if !interactive() {
        return Err(CliError::from_catalogue(Exit::Usage, error_key, error_args));
    }
    let i = dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact()
        .map_err(|e| {
            CliError::from_catalogue(Exit::Failed, "error.prompt", &[("reason", &e.to_string())])
        })?;
    Ok(items[i].clone())
}

/// Credentials for `create`, `delegated` and `global set`: typed in
/// (`--username` for `registry`) or taken from a stored login.
pub fn gather(
    secret: &SecretArgs,
    source: &SourceArgs,
    selection: &rhpull_core::authfile::Selection,
    registry: &str,
) -> Result<Vec<Found>, CliError> {
    use rhpull_core::authfile::Selection;
    if secret.username.is_some() {
        return Ok(vec![Found {
            credential: from_flags(secret, registry)?,
            source: None,
        }]);
    }
    if !(source.from_podman || source.from_docker || source.from_file.is_some()) {
        return Err(CliError::from_catalogue(
            Exit::Usage,
            "error.no_source",
            &[],
        ));
    }
    let env = AuthEnv::from_process();
    let creds = load_source(source, &env)?;
    let (found, missing) = creds.select(selection)?;
    let files: Vec<String> = creds
        .files()
        .iter()
        .map(|f| f.path().display().to_string())
        .collect();
    let files = if files.is_empty() {
        "-".to_string()
    } else {
        files.join(", ")
    };
    if !missing.is_empty() {
        return Err(CliError::from_catalogue(
            Exit::Failed,
            "error.registry_not_in_files",
            &[
                ("registries", &missing.join(", ")),
                ("files", &files),
                ("held", &held(&creds)),
            ],
        ));
    }
    if found.is_empty() {
        let key = if *selection == Selection::RedHat {
            "error.no_red_hat_login"
        } else {
            "error.no_login_at_all"
        };
        return Err(CliError::from_catalogue(
            Exit::Failed,
            key,
            &[("files", &files), ("held", &held(&creds))],
        ));
    }
    Ok(found
        .into_iter()
        .map(|r| Found {
            credential: r.credential,
            source: Some(r.source),
        })
        .collect())
}

/// The stored logins a source names: one file, docker's, or podman's view.
fn load_source(source: &SourceArgs, env: &AuthEnv) -> Result<Credentials, CliError> {
    Ok(if let Some(path) = &source.from_file {
        Credentials::single(read_credential_file(path)?, env)
    } else if source.from_docker {
        Credentials::load(env, View::Docker)?
    } else {
        Credentials::load(env, View::Podman)?
    })
}

/// Any credential file people have, recognised by content: an auth.json,
/// a config.json, a .dockercfg, or a Secret manifest (YAML or JSON).
pub fn read_credential_file(path: &std::path::Path) -> Result<AuthFile, CliError> {
    use rhpull_core::authfile::manifest::{ManifestError, read_any};
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::from(rhpull_core::authfile::AuthFileError::Read {
            path: path.to_path_buf(),
            source: e,
        })
    })?;
    match read_any(path, &bytes, AuthFormat::Containers) {
        Ok((file, _)) => Ok(file),
        Err(ManifestError::AuthFile(e)) => Err(e.into()),
        Err(ManifestError::Unrecognised { path, found }) => Err(CliError::from_catalogue(
            Exit::Failed,
            "error.unrecognised_file",
            &[("path", &path.display().to_string()), ("found", &found)],
        )),
    }
}
