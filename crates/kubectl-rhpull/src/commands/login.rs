//! `rhpull login [REGISTRY]` and `rhpull logout [REGISTRY]`, as podman's:
//! the login is verified with the token flow before it is saved into the
//! containers auth.json (or `--authfile`, or docker's with `--docker`),
//! through the credential helper that owns the registry when there is one.
//! Logout removes that registry's entry and nothing else.

use rhpull_core::authfile::store::{SavedTo, remove_login, save_login};
use rhpull_core::authfile::{AuthEnv, AuthFile, AuthFormat, Change, Credentials, View};

use super::check;
use crate::cli::{AuthFileArgs, KubeArgs, LoginArgs, LogoutArgs};
use crate::creds;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;

/// The file login/logout write, and its format.
fn target(
    env: &AuthEnv,
    args: &AuthFileArgs,
) -> Result<(std::path::PathBuf, AuthFormat), CliError> {
    if let Some(p) = &args.authfile {
        return Ok((p.clone(), AuthFormat::Containers));
    }
    let found = if args.docker {
        env.docker_config_json().map(|p| (p, AuthFormat::Docker))
    } else {
        env.podman_write_path().map(|p| (p, AuthFormat::Containers))
    };
    found.ok_or_else(|| CliError::from_catalogue(Exit::Usage, "error.no_home", &[]))
}

pub fn login(kube: &KubeArgs, args: &LoginArgs) -> Result<(), CliError> {
    if let Some(path) = &args.from_file {
        let file = creds::read_credential_file(path)?;
        let entries = file.entries()?;
        for e in &entries {
            save_verified(kube, args, e.credential())?;
        }
        return Ok(());
    }
    let registry = rhpull_core::authfile::keys::normalize(&args.registry);
    let credential = creds::from_flags(&args.secret, &registry)?;
    save_verified(kube, args, credential)
}

/// Verifies `credential` with the token flow, then saves it.
fn save_verified(
    kube: &KubeArgs,
    args: &LoginArgs,
    credential: rhpull_core::Credential,
) -> Result<(), CliError> {
    let registry = credential.registry.clone();
    let mut options = check::options(&registry, &args.net, kube);
    options.credential = Some(credential.clone());
    let report = check::run_check(&options)?;
    if !check::all_passed(&report) {
        check::render::print(
            &report,
            Some(&creds::Found {
                credential,
                source: None,
            }),
        );
        return Err(CliError::from_catalogue(
            Exit::Failed,
            "login.not_saved",
            &[("registry", &registry)],
        ));
    }
    let env = AuthEnv::from_process();
    let (path, format) = target(&env, &args.file)?;
    let mut file = AuthFile::load(&path, format)?;
    let line = match save_login(&env, &mut file, &credential)? {
        SavedTo::File {
            path,
            change: Change::Unchanged,
            ..
        } => text(
            "login.unchanged",
            &[
                ("registry", &registry),
                ("path", &path.display().to_string()),
            ],
        ),
        SavedTo::File { path, backup, .. } => {
            if let Some(b) = backup {
                output::print_line(&text("login.backup", &[("path", &b.display().to_string())]));
            }
            text(
                "login.saved",
                &[
                    ("registry", &registry),
                    ("path", &path.display().to_string()),
                ],
            )
        }
        SavedTo::Helper { helper, .. } => text(
            "login.saved_helper",
            &[
                ("registry", &registry),
                ("helper", &format!("docker-credential-{helper}")),
            ],
        ),
    };
    output::print_line(&line);
    Ok(())
}

pub fn logout(args: &LogoutArgs) -> Result<(), CliError> {
    let registry = rhpull_core::authfile::keys::normalize(&args.registry);
    let env = AuthEnv::from_process();
    let (path, format) = target(&env, &args.file)?;
    let mut file = AuthFile::load(&path, format)?;
    if remove_login(&env, &mut file, &registry)? {
        output::print_line(&text(
            "logout.removed",
            &[
                ("registry", &registry),
                ("path", &path.display().to_string()),
            ],
        ));
        return Ok(());
    }
    // Not in the file we write: say where the login lives instead, if anywhere.
    let view = if args.file.docker {
        View::Docker
    } else {
        View::Podman
    };
    let elsewhere = Credentials::load(&env, view)?
        .files()
        .iter()
        .find(|f| f.get(&registry).ok().flatten().is_some())
        .map(|f| f.path().display().to_string());
    match elsewhere {
        Some(other) => Err(CliError::from_catalogue(
            Exit::Failed,
            "logout.elsewhere",
            &[("registry", &registry), ("path", &other)],
        )),
        None => {
            output::print_line(&text("logout.not_logged_in", &[("registry", &registry)]));
            Ok(())
        }
    }
}
