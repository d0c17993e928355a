//! `rhpull export ansible`: the OKD 3.11 installer's inventory variables
//! (`oreg_auth_user`, `oreg_auth_password`,
//! `openshift_additional_registry_credentials`) from any credential source
//! rhpull reads — written to `--output-file` (atomically, mode 0600), or to
//! stdout only with `--show-secrets`, since they hold tokens. A login is
//! tested by the installer only with a `--test-image` of its registry.

use std::path::PathBuf;

use rhpull_core::Credential;
use rhpull_core::authfile::Selection;
use rhpull_core::imageref::ImageRef;

use crate::cli::AnsibleArgs;
use crate::creds;
use crate::error::{CliError, Exit, Reason};
use crate::i18n::text;
use crate::render::{self, Block, Report};

pub fn run(args: &AnsibleArgs) -> Result<(), CliError> {
    if args.output_file.is_none() && !args.show_secrets {
        return Err(CliError::usage(Reason::MissingArgument, "export.where"));
    }
    let test_images = test_images(&args.test_images)?;
    let selection = if args.logins.registries.is_empty() {
        Selection::RedHat
    } else {
        Selection::Named(args.logins.registries.clone())
    };
    let registry = args
        .logins
        .registries
        .first()
        .cloned()
        .unwrap_or_else(|| rhpull_core::ansible::OREG_REGISTRY.into());
    let found = creds::gather(
        &args.logins.secret,
        &args.logins.source,
        &selection,
        &registry,
    )?;
    let credentials: Vec<Credential> = found.into_iter().map(|f| f.credential).collect();
    let vars = rhpull_core::ansible::inventory_vars(&credentials, |r| {
        (test_images.iter())
            .find(|i| i.registry == rhpull_core::authfile::keys::host(r))
            .map(ToString::to_string)
    });
    let report = Exported {
        registries: credentials.into_iter().map(|c| c.registry).collect(),
        path: args.output_file.clone(),
        inventory: args.output_file.is_none().then_some(vars.clone()),
    };
    if let Some(path) = &args.output_file {
        rhpull_core::authfile::write_private(path, vars.as_bytes()).map_err(|e| {
            CliError::from(rhpull_core::authfile::AuthFileError::Write {
                path: path.clone(),
                source: e,
            })
        })?;
    }
    render::print(&report, args.output.into())
}

/// `--test-image` references, parsed (a usage error when one is not).
fn test_images(given: &[String]) -> Result<Vec<ImageRef>, CliError> {
    given
        .iter()
        .map(|i| ImageRef::parse(i).map_err(|e| crate::error::bad_image(Exit::Usage, i, &e)))
        .collect()
}

#[derive(Debug, serde::Serialize)]
struct Exported {
    registries: Vec<String>,
    /// Where the variables were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    /// The variables themselves, when asked for on stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<String>,
}

impl Report for Exported {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn names(&self) -> Vec<String> {
        self.registries.clone()
    }

    fn human(&self) -> Vec<Block> {
        match (&self.path, &self.inventory) {
            (Some(path), _) => vec![Block::Line(text(
                "export.written",
                &[
                    ("path", &path.display().to_string()),
                    (
                        "logins",
                        &crate::i18n::count("words.n.logins", self.registries.len()),
                    ),
                ],
            ))],
            (None, Some(vars)) => vars.lines().map(|l| Block::Line(l.to_string())).collect(),
            (None, None) => Vec::new(),
        }
    }
}
