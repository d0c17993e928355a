//! `rhpull version`: the version, the git commit it was built from, and the
//! target it was built for.

use crate::cli::VersionArgs;
use crate::error::CliError;
use crate::i18n::text;
use crate::render::{self, Block, Report};

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
    render::print(&INFO, args.output.into())
}

impl Report for VersionInfo {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn human(&self) -> Vec<Block> {
        vec![Block::Line(text(
            "version.line",
            &[
                ("version", self.version),
                ("commit", self.commit),
                ("target", self.target),
            ],
        ))]
    }
}
