//! The release archive as krew installs it: the rendered manifest follows
//! krew-index rules and its sha256s are right; the archive, unpacked into a
//! fresh directory on PATH, runs through real kubectl.
//!
//! `cargo xtask test` packs the archive first (`cargo xtask dist --debug
//! --out target/dist-test`); `RHPULL_DIST_DIR` points elsewhere.

use std::path::PathBuf;
use std::process::Command;

use rhpull_e2e::{stderr, stdout};
use sha2::{Digest as _, Sha256};

fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("RHPULL_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .join("target/dist-test")
        });
    assert!(
        dir.join("krew-manifest.yaml").is_file(),
        "{} has no krew-manifest.yaml: run `cargo xtask dist --debug --out {}` (cargo xtask test does)",
        dir.display(),
        dir.display()
    );
    dir
}

#[test]
fn the_manifest_follows_krew_index_rules_and_the_checksums_are_right() {
    let dir = dist_dir();
    let m: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("krew-manifest.yaml")).unwrap())
            .unwrap();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "rhpull");
    let version = m["spec"]["version"].as_str().unwrap();
    assert!(
        version.starts_with('v')
            && version[1..].split('.').count() == 3
            && version[1..].split('.').all(|p| p.parse::<u32>().is_ok()),
        "{version}"
    );
    assert!(
        m["spec"]["homepage"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let short = m["spec"]["shortDescription"].as_str().unwrap();
    assert!(
        !short.is_empty() && short.len() < 50,
        "{short:?} must be under 50 characters"
    );
    assert!(!m["spec"]["description"].as_str().unwrap().trim().is_empty());
    assert!(!m["spec"]["caveats"].as_str().unwrap().trim().is_empty());
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert!(!platforms.is_empty());
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        let (os, arch) = (
            labels["os"].as_str().unwrap(),
            labels["arch"].as_str().unwrap(),
        );
        assert!(["linux", "darwin", "windows"].contains(&os) && ["amd64", "arm64"].contains(&arch));
        let uri = p["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("https://") && uri.ends_with(&format!("-{os}-{arch}.tar.gz")),
            "{uri}"
        );
        let bin = p["bin"].as_str().unwrap();
        assert_eq!(
            bin,
            if os == "windows" {
                "kubectl-rhpull.exe"
            } else {
                "kubectl-rhpull"
            }
        );
        assert!(
            p["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["from"] == bin)
        );
        let archive = dir.join(uri.rsplit('/').next().unwrap());
        let sum = format!("{:x}", Sha256::digest(std::fs::read(&archive).unwrap()));
        assert_eq!(p["sha256"].as_str().unwrap(), sum, "{}", archive.display());
    }
}

#[test]
fn the_unpacked_archive_runs_through_kubectl_and_carries_man_pages_and_completions() {
    let dir = dist_dir();
    let archive = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an archive");
    let fresh = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(fresh.path())
        .status()
        .unwrap();
    assert!(status.success());
    for f in [
        "kubectl-rhpull",
        "LICENSE",
        "README.md",
        "man/kubectl-rhpull.1",
        "man/kubectl-rhpull-create.1",
        "completions/kubectl-rhpull.bash",
    ] {
        assert!(
            fresh.path().join(f).is_file(),
            "{f} missing from the archive"
        );
    }
    assert!(
        std::fs::read_to_string(fresh.path().join("LICENSE"))
            .unwrap()
            .contains("Apache License")
    );
    // Only the unpacked directory and the system on PATH.
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(fresh.path().to_path_buf()).chain(std::env::split_paths(&rest)),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("PATH", &path)
            .env("HOME", home.path())
            .output()
            .unwrap()
    };
    let version = run(&["rhpull", "version"]);
    assert!(
        version.status.success() && stdout(&version).starts_with("kubectl-rhpull "),
        "{}",
        stderr(&version)
    );
    let list = run(&["plugin", "list"]);
    assert!(
        stdout(&list).contains(&fresh.path().join("kubectl-rhpull").display().to_string()),
        "{}",
        stdout(&list)
    );
}
