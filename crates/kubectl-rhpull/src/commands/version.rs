//! `rhpull version`: the version, the git commit it was built from, and the
//! target it was built for.

use crate::cli::{OutputFormat, VersionArgs};
use crate::error::CliError;
use crate::i18n::text;
use crate::output;

#[derive(Debug, serde::Serialize)]
struct VersionInfo {
    version: &'static str,
    commit: &'static str,
    target: &'static str,
}

const INFO: VersionInfo = VersionInfo {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("RHPULL_GIT_COMMIT"),
    target: env!("RHPULL_TARGET"),
};

pub fn run(args: &VersionArgs) -> Result<(), CliError> {
    match args.output {
        OutputFormat::Json => output::print_json(&INFO),
        OutputFormat::Table => output::print_line(&text(
            "version.line",
            &[
                ("version", INFO.version),
                ("commit", INFO.commit),
                ("target", INFO.target),
            ],
        )),
    }
    Ok(())
}
