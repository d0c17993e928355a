//! `cargo xtask deny` (and a step of `cargo xtask test`): cargo-deny's
//! licence, duplicate, source and advisory checks (`deny.toml`), offline.
//!
//! - cargo-deny is installed with `cargo install --locked` at a pinned
//!   version, only when that version is missing (about 3–4 minutes once on
//!   two cores; a check takes about a second).
//! - Advisories come from the RustSec snapshot in `../shared/advisory-db`
//!   (or `RHPULL_ADVISORY_DB`): files without git history, made into a
//!   throwaway git repository under `target/advisory-dbs/` where cargo-deny
//!   looks for its database, with the snapshot's date as the commit date.
//!   `--offline` keeps cargo-deny from ever fetching one. Without a
//!   snapshot the other checks still run and the advisories are named as
//!   not checked.
//! - The crate graph comes from `cargo metadata --locked`, which may
//!   download crates from crates.io (as a build does); cargo-deny itself
//!   runs `--offline`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The cargo-deny release the checks are written for.
pub const VERSION: &str = "0.20.2";
/// Where cargo-deny keeps the database of its default source
/// (`https://github.com/rustsec/advisory-db`), under `db-path`.
const DB_DIR: &str = "advisory-db-3157b0e258782691";

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Where `cargo install` puts cargo-deny: run from there, so PATH does not
/// matter.
fn binary() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin/cargo-deny")
}

fn installed_version() -> Option<String> {
    let out = Command::new(binary())
        .args(["deny", "--version"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Installs the pinned cargo-deny unless it is there.
fn ensure_installed() -> Result<(), String> {
    if installed_version().is_some_and(|v| v.ends_with(VERSION)) {
        eprintln!("xtask: cargo-deny {VERSION} present");
        return Ok(());
    }
    eprintln!("xtask: installing cargo-deny {VERSION} (once; a few minutes)");
    crate::cargo(&["install", "--locked", &format!("cargo-deny@{VERSION}")])
}

/// The offline snapshot, if there is one.
fn snapshot() -> Option<PathBuf> {
    let given = std::env::var_os("RHPULL_ADVISORY_DB").map(PathBuf::from);
    let shared = workspace_root().join("../shared/advisory-db");
    given
        .into_iter()
        .chain([shared])
        .find(|p| p.join("crates").is_dir())
}

/// `(2026-08-21)` in SNAPSHOT.md: the snapshot's date, for the commit.
fn snapshot_date(snapshot: &Path) -> String {
    let text = std::fs::read_to_string(snapshot.join("SNAPSHOT.md")).unwrap_or_default();
    text.split(['(', ')'])
        .find(|p| p.len() == 10 && p.as_bytes()[4] == b'-' && p.as_bytes()[7] == b'-')
        .map_or_else(|| "2000-01-01".into(), str::to_string)
}

fn git(dir: &Path, args: &[&str], date: &str) -> Result<(), String> {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=rhpull xtask",
            "-c",
            "user.email=xtask@localhost",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", format!("{date}T00:00:00Z"))
        .env("GIT_COMMITTER_DATE", format!("{date}T00:00:00Z"))
        .status()
        .map_err(|e| format!("cannot run git: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`git {}` failed in {}", args.join(" "), dir.display()))
}

/// The snapshot as a git repository where cargo-deny looks, made again
/// only when the snapshot changed.
fn prepare_db(snapshot: &Path) -> Result<(), String> {
    let dir = workspace_root().join("target/advisory-dbs").join(DB_DIR);
    let stamp = dir.join(".rhpull-snapshot");
    let wanted = std::fs::read_to_string(snapshot.join("SNAPSHOT.md")).unwrap_or_default();
    if dir.join(".git").is_dir() && std::fs::read_to_string(&stamp).ok() == Some(wanted.clone()) {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let status = Command::new("cp")
        .arg("-r")
        .arg(snapshot.join("."))
        .arg(&dir)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cannot copy {}", snapshot.display()));
    }
    let date = snapshot_date(snapshot);
    git(&dir, &["init", "-q"], &date)?;
    git(&dir, &["add", "-A"], &date)?;
    let message = format!("RustSec advisory-db snapshot of {date}");
    git(&dir, &["commit", "-q", "-m", &message], &date)?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())
}

pub fn run() -> Result<(), String> {
    ensure_installed()?;
    let metadata = workspace_root().join("target/deny-metadata.json");
    let out = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&metadata, &out.stdout).map_err(|e| e.to_string())?;
    let checks: &[&str] = match snapshot() {
        Some(s) => {
            prepare_db(&s)?;
            &["check"]
        }
        None => {
            eprintln!(
                "xtask: advisories NOT checked: no RustSec snapshot at ../shared/advisory-db (set RHPULL_ADVISORY_DB)"
            );
            &["check", "bans", "licenses", "sources"]
        }
    };
    let started = std::time::Instant::now();
    let status = Command::new(binary())
        .args(["deny", "--offline", "--metadata-path"])
        .arg(&metadata)
        .args(checks)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo deny: {e}"))?;
    if !status.success() {
        return Err("cargo deny found a problem (see above; the rules are in deny.toml)".into());
    }
    eprintln!(
        "xtask: cargo deny passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
