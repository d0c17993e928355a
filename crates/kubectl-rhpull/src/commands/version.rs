//! `rhpull version`: the version, the git commit it was built from (and
//! whether the tree had uncommitted changes), the target it was built for
//! and the Rust compiler that built it.

use crate::cli::VersionArgs;
use crate::error::CliError;
use crate::i18n::text;
use crate::render::{self, Block, Report};

#[derive(Debug, serde::Serialize)]
struct VersionInfo {
    version: &'static str,
    commit: &'static str,
    /// `None` when it could not be told (no git at build time).
    dirty: Option<bool>,
    target: &'static str,
    rust: &'static str,
}

fn info() -> VersionInfo {
    VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("RHPULL_GIT_COMMIT"),
        dirty: env!("RHPULL_GIT_DIRTY").parse().ok(),
        target: env!("RHPULL_TARGET"),
        rust: env!("RHPULL_RUST_VERSION"),
    }
}

pub fn run(args: &VersionArgs) -> Result<(), CliError> {
    render::print(&info(), args.output.into())
}

impl Report for VersionInfo {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn human(&self) -> Vec<Block> {
        let commit = match self.dirty {
            Some(true) => text("version.dirty", &[("commit", self.commit)]),
            _ => self.commit.to_string(),
        };
        vec![Block::Line(text(
            "version.line",
            &[
                ("version", self.version),
                ("commit", &commit),
                ("target", self.target),
                ("rust", self.rust),
            ],
        ))]
    }
}
