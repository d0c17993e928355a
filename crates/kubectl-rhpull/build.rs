//! Records what `kubectl-rhpull version` reports about the build: the git
//! commit, whether the tree had uncommitted changes, the target triple and
//! the Rust compiler. A release build may set `RHPULL_GIT_COMMIT` and
//! `RHPULL_GIT_DIRTY` (`true`/`false`) where there is no git.

use std::process::Command;

fn run(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn from_env(key: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={key}");
    std::env::var(key).ok().filter(|s| !s.is_empty())
}

fn main() {
    let commit = from_env("RHPULL_GIT_COMMIT")
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Tracked files changed since the commit (untracked ones are not built
    // unless a tracked file names them).
    let dirty = from_env("RHPULL_GIT_DIRTY")
        .or_else(|| {
            run("git", &["status", "--porcelain", "--untracked-files=no"])
                .map(|s| (!s.is_empty()).to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rust = run(&rustc, &["--version"])
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=RHPULL_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=RHPULL_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=RHPULL_RUST_VERSION={rust}");
    println!("cargo:rustc-env=RHPULL_TARGET={target}");
    // Rerun when HEAD moves or any source changes, so neither the commit
    // nor the dirty flag is ever stale (the script costs two git calls).
    for path in [
        "../../.git/HEAD",
        "../../.git/refs/heads",
        "../../.git/index",
        "../../crates",
        "../../Cargo.toml",
        "../../Cargo.lock",
    ] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=locales");
}
