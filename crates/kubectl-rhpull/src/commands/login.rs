//! `rhpull login [REGISTRY]` and `rhpull logout [REGISTRY]`, as podman's:
//! the login is verified with the token flow before it is saved into the
//! containers auth.json (or `--authfile`, or docker's with `--docker`),
//! through the credential helper that owns the registry when there is one.
//! Logout removes that registry's entry and nothing else.

use std::path::PathBuf;

use rhpull_core::authfile::store::{SavedTo, remove_login, save_login};
use rhpull_core::authfile::{
    AuthEnv, AuthFile, AuthFormat, Change, CredentialSource, Credentials, View, keys,
};

use super::check::RegistryReport;
use crate::cli::{AuthFileArgs, KubeArgs, LoginArgs, LogoutArgs};
use crate::creds::{self, Found};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::registry_check;
use crate::render::{self, Block, Format, Report};

/// The file login/logout write, and its format.
fn target(env: &AuthEnv, args: &AuthFileArgs) -> Result<(PathBuf, AuthFormat), CliError> {
    if let Some(p) = &args.authfile {
        return Ok((p.clone(), AuthFormat::Containers));
    }
    let found = if args.docker {
        env.docker_config_json().map(|p| (p, AuthFormat::Docker))
    } else {
        env.podman_write_path().map(|p| (p, AuthFormat::Containers))
    };
    found.ok_or_else(|| CliError::usage(Reason::NoHome, "error.no_home"))
}

pub async fn login(kube: &KubeArgs, args: &LoginArgs) -> Result<(), CliError> {
    let format = Format::from(args.output);
    let logins = match &args.from_file {
        Some(path) => {
            let file = creds::read_credential_file(path)?;
            (file.entries()?.into_iter())
                .map(|e| Found {
                    credential: e.credential(),
                    source: Some(CredentialSource::File { path: path.clone() }),
                    identity_token_only: e.identity_token_only(),
                })
                .collect()
        }
        None => {
            let registry = keys::normalize(
                args.registry
                    .as_deref()
                    .unwrap_or(rhpull_core::registries::DEFAULT),
            );
            vec![Found::typed(creds::from_flags(&args.secret, &registry)?)]
        }
    };
    // Keys podman would refuse, before any request: a tag or digest, or a
    // path-scoped key into docker's format (containers/image
    // `prepareForEdit`).
    let (_, file_format) = target(&AuthEnv::from_process(), &args.file)?;
    for found in &logins {
        check_key(&found.credential.registry, file_format)?;
    }
    let mut saved = Vec::new();
    for found in logins {
        saved.push(save_verified(kube, args, found, format).await?);
    }
    render::print(&LoginReport(saved), format)
}

/// A key the file may hold, or a usage error in podman's words.
fn check_key(registry: &str, format: AuthFormat) -> Result<(), CliError> {
    rhpull_core::authfile::store::valid_key(format, registry)
        .map_err(|problem| crate::error::key_problem(&problem, registry))
}

/// What one login did.
#[derive(Debug, serde::Serialize)]
struct Saved {
    registry: String,
    /// The auth file written, or the credential helper that holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    helper: Option<String>,
    change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<PathBuf>,
}

/// Verifies the login with the token flow, then saves it.
async fn save_verified(
    kube: &KubeArgs,
    args: &LoginArgs,
    found: Found,
    format: Format,
) -> Result<Saved, CliError> {
    let registry = found.credential.registry.clone();
    let mut options = registry_check::options(&registry, &args.net, kube.insecure_skip_tls_verify);
    options.credential = Some(found.credential.clone());
    options.credential_problem = found.problem();
    let report = registry_check::run(&options).await?;
    if !report.passed {
        // What failed, as `check` shows it; then why nothing was saved.
        let _ = render::print(&RegistryReport::new(report, Some(found)), format);
        return Err(
            CliError::failed(Reason::NotVerified, "login.not_saved").with("registry", registry)
        );
    }
    let env = AuthEnv::from_process();
    let (path, file_format) = target(&env, &args.file)?;
    let mut file = AuthFile::load(&path, file_format)?;
    Ok(match save_login(&env, &mut file, &found.credential)? {
        SavedTo::File {
            path,
            change,
            backup,
        } => Saved {
            registry,
            path: Some(path),
            helper: None,
            change,
            backup,
        },
        SavedTo::Helper { helper, .. } => Saved {
            registry,
            path: None,
            helper: Some(format!("docker-credential-{helper}")),
            change: Change::Updated,
            backup: None,
        },
    })
}

#[derive(Debug)]
struct LoginReport(Vec<Saved>);

impl Report for LoginReport {
    fn document(&self) -> serde_json::Value {
        serde_json::json!({ "logins": self.0 })
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.registry.clone()).collect()
    }

    fn human(&self) -> Vec<Block> {
        let mut lines = Vec::new();
        for s in &self.0 {
            let registry = ("registry", s.registry.as_str());
            if let Some(b) = &s.backup {
                let b = b.display().to_string();
                lines.push(text("login.backup", &[("path", &b)]));
            }
            lines.push(match (&s.path, &s.helper) {
                (Some(p), _) => {
                    let key = if s.change == Change::Unchanged {
                        "login.unchanged"
                    } else {
                        "login.saved"
                    };
                    text(key, &[registry, ("path", &p.display().to_string())])
                }
                (None, h) => text(
                    "login.saved_helper",
                    &[registry, ("helper", h.as_deref().unwrap_or_default())],
                ),
            });
        }
        lines.into_iter().map(Block::Line).collect()
    }

    fn changed(&self) -> bool {
        self.0.iter().any(|s| s.change != Change::Unchanged)
    }
}

pub fn logout(args: &LogoutArgs) -> Result<(), CliError> {
    let registry = keys::normalize(
        args.registry
            .as_deref()
            .unwrap_or(rhpull_core::registries::DEFAULT),
    );
    let env = AuthEnv::from_process();
    let (path, format) = target(&env, &args.file)?;
    let mut file = AuthFile::load(&path, format)?;
    let removed = remove_login(&env, &mut file, &registry)?;
    if !removed {
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
        if let Some(other) = elsewhere {
            return Err(CliError::failed(Reason::NoStoredLogin, "logout.elsewhere")
                .with("registry", registry)
                .with("path", other));
        }
    }
    let report = LogoutReport {
        registry,
        path: removed.then_some(path),
    };
    render::print(&report, args.output.into())
}

#[derive(Debug, serde::Serialize)]
struct LogoutReport {
    registry: String,
    /// The file the login was removed from; `None` when there was none.
    path: Option<PathBuf>,
}

impl Report for LogoutReport {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn names(&self) -> Vec<String> {
        vec![self.registry.clone()]
    }

    fn human(&self) -> Vec<Block> {
        let registry = ("registry", self.registry.as_str());
        vec![Block::Line(match &self.path {
            Some(p) => text(
                "logout.removed",
                &[registry, ("path", &p.display().to_string())],
            ),
            None => text("logout.not_logged_in", &[registry]),
        })]
    }

    fn changed(&self) -> bool {
        self.path.is_some()
    }
}
