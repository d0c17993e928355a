//! `rhpull export ansible`: the OKD 3.11 installer's inventory variables
//! (`oreg_auth_user`, `oreg_auth_password`,
//! `openshift_additional_registry_credentials`) from any credential source
//! rhpull reads — written to `--output-file` (atomically, mode 0600), or to
//! stdout only with `--show-secrets`, since they hold tokens.

use rhpull_core::Credential;
use rhpull_core::authfile::Selection;

use crate::cli::ExportArgs;
use crate::creds;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;

pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    if args.output_file.is_none() && !args.show_secrets {
        return Err(CliError::from_catalogue(Exit::Usage, "export.where", &[]));
    }
    let selection = if args.registries.is_empty() {
        Selection::RedHat
    } else {
        Selection::Named(args.registries.clone())
    };
    let registry = args
        .registries
        .first()
        .cloned()
        .unwrap_or_else(|| rhpull_core::ansible::OREG_REGISTRY.into());
    let found = creds::gather(&args.secret, &args.source, &selection, &registry)?;
    let credentials: Vec<Credential> = found.into_iter().map(|f| f.credential).collect();
    let test_image = |r: &str| {
        rhpull_core::registries::lookup(r).map_or_else(
            || format!("{r}/library/hello:latest"),
            |reg| reg.probe_image.to_string(),
        )
    };
    let vars = rhpull_core::ansible::inventory_vars(&credentials, test_image);
    match &args.output_file {
        Some(path) => {
            rhpull_core::authfile::write_private(path, vars.as_bytes()).map_err(|e| {
                CliError::from(rhpull_core::authfile::AuthFileError::Write {
                    path: path.clone(),
                    source: e,
                })
            })?;
            output::print_line(&text(
                "export.written",
                &[
                    ("path", &path.display().to_string()),
                    ("count", &credentials.len().to_string()),
                ],
            ));
        }
        None => output::print_raw(&vars),
    }
    Ok(())
}
