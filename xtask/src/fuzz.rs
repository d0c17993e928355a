//! `cargo xtask fuzz [--runs N] [TARGET...]`: installs cargo-fuzz if it is
//! missing and runs every fuzz target (`fuzz/fuzz_targets`) for N
//! executions (default 1,000,000) from the corpus kept in `fuzz/corpus`.
//! Not part of CI's default run. cargo-fuzz passes nightly-only flags to
//! rustc; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
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

pub fn run(args: &[String]) -> Result<(), String> {
    let mut runs = 1_000_000u64;
    let mut targets: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--runs needs a number")?
            }
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => {
                return Err(format!(
                    "unknown argument {other}; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
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
    for target in &targets {
        eprintln!("xtask fuzz: {target}, {runs} runs");
        let status = Command::new("cargo")
            .args([
                "fuzz",
                "run",
                target,
                "--",
                &format!("-runs={runs}"),
                &format!("-timeout={TIMEOUT_SECS}"),
                &format!("-max_len={MAX_LEN}"),
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(workspace_root().join("fuzz"))
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
