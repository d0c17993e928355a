//! `cargo xtask fuzz [--runs N] [TARGET...]`: installs cargo-fuzz if it is
//! missing and runs every fuzz target (`fuzz/fuzz_targets`) for N
//! executions (default 1,000,000) from the committed seeds
//! (`fuzz/seeds/TARGET`: hand-made inputs and a minimised corpus, a few
//! dozen each) and the corpus it grows (`fuzz/corpus/TARGET`, which git
//! does not track; `cargo fuzz cmin TARGET corpus/TARGET` in `fuzz/`
//! minimises it). Not part of CI's default run. cargo-fuzz passes
//! nightly-only flags to rustc; RUSTC_BOOTSTRAP lets the stable toolchain
//! accept them.
//!
//! Every input must be handled within [`TIMEOUT_SECS`] (libFuzzer's
//! `-timeout`), and inputs grow up to [`MAX_LEN`] bytes, so an input that
//! is slow — not only one that crashes — is caught (a quadratic parse of a
//! 300 KB file once took 20 s).

use std::process::Command;

use crate::workspace_root;

pub const TARGETS: &[&str] = &["authfile", "challenge", "imageref", "token"];

/// Seconds one input may take before libFuzzer reports it as a failure.
pub const TIMEOUT_SECS: u32 = 1;
/// The largest input tried: big enough for super-linear parsing to show.
pub const MAX_LEN: u32 = 128 * 1024;

/// `cargo xtask fuzz`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Executions per target.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub runs: u64,
    /// The targets to run (default: every one).
    #[arg(value_name = "TARGET", value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    pub targets: Vec<String>,
}

pub fn run(args: Args) -> Result<(), String> {
    let Args { runs, mut targets } = args;
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        crate::cargo(&["install", "cargo-fuzz", "--locked"])?;
    }
    let fuzz = workspace_root().join("fuzz");
    for target in &targets {
        eprintln!("xtask fuzz: {target}, {runs} runs");
        // New inputs go to the first folder; the seeds are read, not written.
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(fuzz.join(&corpus)).map_err(|e| e.to_string())?;
        let seeds = format!("seeds/{target}");
        let status = Command::new("cargo")
            .args([
                "fuzz",
                "run",
                target,
                &corpus,
                &seeds,
                "--",
                &format!("-runs={runs}"),
                &format!("-timeout={TIMEOUT_SECS}"),
                &format!("-max_len={MAX_LEN}"),
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&fuzz)
            .status()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            return Err(format!(
                "fuzz target {target} failed ({status}): the crashing or slow input is in fuzz/artifacts/{target}; add it as a regression test"
            ));
        }
    }
    Ok(())
}
