//! Records the git commit and target triple for `kubectl-rhpull version`.

use std::process::Command;

fn main() {
    let commit = std::env::var("RHPULL_GIT_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=RHPULL_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=RHPULL_TARGET={target}");
    println!("cargo:rerun-if-env-changed=RHPULL_GIT_COMMIT");
    // Rebuild when HEAD moves, so the commit is never stale.
    for path in ["../../.git/HEAD", "../../.git/refs/heads"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=locales");
}
