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

/// `.git/HEAD`, the ref it names (or `packed-refs`), and `.git/index`,
/// where the git directory is (a worktree's included).
fn git_paths() -> Vec<std::path::PathBuf> {
    let Some(dir) = run("git", &["rev-parse", "--absolute-git-dir"]) else {
        return Vec::new();
    };
    let dir = std::path::PathBuf::from(dir);
    let common = run(
        "git",
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .map_or_else(|| dir.clone(), std::path::PathBuf::from);
    let mut out = vec![dir.join("HEAD"), dir.join("index")];
    let head = std::fs::read_to_string(dir.join("HEAD")).unwrap_or_default();
    if let Some(reference) = head.trim().strip_prefix("ref: ") {
        out.push(common.join(reference));
        out.push(common.join("packed-refs"));
    }
    out.into_iter().filter(|p| p.exists()).collect()
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
    // Rerun only when what the version line says can change: HEAD, the
    // branch it points to, and the index (the dirty flag). Watching the
    // sources would rerun this — and relink the plugin, minutes with fat
    // LTO — whenever a test file is touched; cargo rebuilds the plugin for
    // its own sources anyway.
    for path in git_paths() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    // The catalogue is read by a macro at compile time.
    println!("cargo:rerun-if-changed=locales");
}
