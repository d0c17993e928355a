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

/// The SBOM beside the archive lists every crate of the binary's
/// dependency tree (as `cargo tree` resolves it for this machine's target),
/// each with its version and licence.
#[test]
fn the_sbom_lists_every_crate_in_the_binary_with_licence_and_version() {
    let dir = dist_dir();
    let sbom_path = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".cdx.json"))
        .expect("an SBOM beside the archive");
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sbom_path).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["metadata"]["component"]["name"], "kubectl-rhpull");
    let listed: std::collections::HashMap<(String, String), &serde_json::Value> =
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let key = (
                    c["name"].as_str().unwrap().to_string(),
                    c["version"].as_str().unwrap().to_string(),
                );
                (key, c)
            })
            .collect();
    let tree = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "-p",
            "kubectl-rhpull",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-f",
            "{p}",
        ])
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .output()
        .unwrap();
    assert!(tree.status.success(), "{}", stderr(&tree));
    let mut count = 0;
    for line in stdout(&tree).lines().skip(1) {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap().to_string();
        let version = words.next().unwrap().trim_start_matches('v').to_string();
        let c = listed
            .get(&(name.clone(), version.clone()))
            .unwrap_or_else(|| panic!("{name} {version} is built in but not in the SBOM"));
        let licence = c["licenses"][0]["expression"].as_str().unwrap_or_default();
        assert!(!licence.is_empty(), "{name} has no licence in the SBOM");
        count += 1;
    }
    assert!(count > 100, "{count} crates");
    // Every dependency edge names a listed component.
    let refs: std::collections::HashSet<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&sbom["metadata"]["component"]))
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for d in sbom["dependencies"].as_array().unwrap() {
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(on.as_str().unwrap()), "{on}");
        }
    }
}

/// The repository keeps the krew manifest as a template (dist renders it
/// under target/ and leaves the tree alone: `cargo xtask test` checks
/// `git status` around it); the template is YAML krew can read once filled.
#[test]
fn the_committed_krew_manifest_is_the_template_dist_renders() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let template = std::fs::read_to_string(root.join("krew-manifest.yaml")).unwrap();
    assert!(template.contains("version: v{{version}}"), "{template}");
    assert!(
        template.contains("platforms: [] # {{platforms}}"),
        "{template}"
    );
    let parsed: serde_json::Value = serde_saphyr::from_str(&template).unwrap();
    assert_eq!(parsed["kind"], "Plugin");
    let rendered = std::fs::read_to_string(dist_dir().join("krew-manifest.yaml")).unwrap();
    assert!(!rendered.contains("{{"), "{rendered}");
}
