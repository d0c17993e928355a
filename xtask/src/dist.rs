//! `cargo xtask dist`: a release archive for the host target with
//! `kubectl-rhpull`, `LICENSE`, `README.md`, man pages and completion
//! scripts, its sha256, its CycloneDX SBOM (`sbom.rs`), and
//! `krew-manifest.yaml` rendered from the repository's template of that
//! name with each archive's uri and sha256. Only platforms with an archive
//! are listed; the release workflow builds the others and renders the full
//! manifest with `--manifest-from DIR`.
//!
//! Everything is written under `--out DIR` (default `target/dist`; `--debug`
//! packs the debug build, for tests): the working tree stays as it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::{cargo, workspace_root};

const REPO: &str = "https://github.com/rhpull/kubectl-rhpull";

/// `cargo xtask dist`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pack the debug build (for tests).
    #[arg(long)]
    pub debug: bool,
    /// Where everything is written.
    #[arg(long, value_name = "DIR", default_value_os_t = workspace_root().join("target/dist"))]
    pub out: PathBuf,
    /// Render the krew manifest from the archives in DIR (the release
    /// workflow's other platforms) instead of building.
    #[arg(long, value_name = "DIR")]
    pub manifest_from: Option<PathBuf>,
}

pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `(os, arch)` as krew names them, for a Rust target triple.
pub fn krew_platform(triple: &str) -> Option<(&'static str, &'static str)> {
    let arch = if triple.starts_with("x86_64") {
        "amd64"
    } else if triple.starts_with("aarch64") {
        "arm64"
    } else {
        return None;
    };
    let os = if triple.contains("linux") {
        "linux"
    } else if triple.contains("apple-darwin") {
        "darwin"
    } else if triple.contains("windows") {
        "windows"
    } else {
        return None;
    };
    Some((os, arch))
}

fn run_ok(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

pub fn sha256_file(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// Packs `binary` and friends into `out/kubectl-rhpull-vVERSION-OS-ARCH.tar.gz`.
fn pack(binary: &Path, os: &str, arch: &str, out: &Path) -> Result<PathBuf, String> {
    let name = format!("kubectl-rhpull-v{}-{os}-{arch}", version());
    let stage = out.join(&name);
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(stage.join("completions")).map_err(|e| e.to_string())?;
    let exe = if os == "windows" {
        "kubectl-rhpull.exe"
    } else {
        "kubectl-rhpull"
    };
    std::fs::copy(binary, stage.join(exe)).map_err(|e| e.to_string())?;
    for f in ["LICENSE", "README.md"] {
        std::fs::copy(workspace_root().join(f), stage.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    run_ok(
        Command::new(binary)
            .arg("generate-man")
            .arg(stage.join("man"))
            .env("LANG", "C"),
        "generate-man",
    )?;
    for (shell, file) in [
        ("bash", "kubectl-rhpull.bash"),
        ("zsh", "_kubectl-rhpull"),
        ("fish", "kubectl-rhpull.fish"),
        ("powershell", "kubectl-rhpull.ps1"),
    ] {
        let out = Command::new(binary)
            .args(["completion", shell])
            .env("LANG", "C")
            .output()
            .map_err(|e| e.to_string())?;
        std::fs::write(stage.join("completions").join(file), out.stdout)
            .map_err(|e| e.to_string())?;
    }
    let archive = out.join(format!("{name}.tar.gz"));
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&stage)
            .arg("-czf")
            .arg(&archive)
            .arg("."),
        "tar",
    )?;
    let sum = sha256_file(&archive)?;
    std::fs::write(
        out.join(format!("{name}.tar.gz.sha256")),
        format!("{sum}  {name}.tar.gz\n"),
    )
    .map_err(|e| e.to_string())?;
    Ok(archive)
}

/// The Rust target a release archive was built for, from its krew platform
/// (the release workflow's matrix).
fn triple_of(archive: &Path) -> Result<String, String> {
    let file = archive
        .file_name()
        .expect("file")
        .to_string_lossy()
        .to_string();
    let platform = file
        .trim_start_matches(&format!("kubectl-rhpull-v{}-", version()))
        .trim_end_matches(".tar.gz");
    let triple = match platform {
        "linux-amd64" => "x86_64-unknown-linux-gnu",
        "linux-arm64" => "aarch64-unknown-linux-gnu",
        "darwin-amd64" => "x86_64-apple-darwin",
        "darwin-arm64" => "aarch64-apple-darwin",
        "windows-amd64" => "x86_64-pc-windows-msvc",
        "windows-arm64" => "aarch64-pc-windows-msvc",
        other => return Err(format!("no Rust target known for {other} ({file})")),
    };
    Ok(triple.to_string())
}

/// The SBOM beside an archive: `….tar.gz` → `….cdx.json`.
pub fn sbom_path(archive: &Path) -> PathBuf {
    let name = archive.file_name().expect("file").to_string_lossy();
    archive.with_file_name(format!("{}.cdx.json", name.trim_end_matches(".tar.gz")))
}

/// Every `kubectl-rhpull-vVER-OS-ARCH.tar.gz` in `dir`, in name order.
fn archives(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let prefix = format!("kubectl-rhpull-v{}-", version());
    let mut archives: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with(&prefix) && n.to_string_lossy().ends_with(".tar.gz")
            })
        })
        .collect();
    archives.sort();
    if archives.is_empty() {
        return Err(format!("no {prefix}*.tar.gz in {}", dir.display()));
    }
    Ok(archives)
}

/// The manifest for every `kubectl-rhpull-vVER-OS-ARCH.tar.gz` in `dir`.
pub fn render_manifest(dir: &Path) -> Result<String, String> {
    let template = std::fs::read_to_string(workspace_root().join("krew-manifest.yaml"))
        .map_err(|e| e.to_string())?;
    let prefix = format!("kubectl-rhpull-v{}-", version());
    let archives = archives(dir)?;
    let mut platforms = String::new();
    for a in &archives {
        let file = a.file_name().expect("file").to_string_lossy().to_string();
        let platform = file.trim_start_matches(&prefix).trim_end_matches(".tar.gz");
        let (os, arch) = platform
            .split_once('-')
            .ok_or_else(|| format!("cannot read the platform of {file}"))?;
        let bin = if os == "windows" {
            "kubectl-rhpull.exe"
        } else {
            "kubectl-rhpull"
        };
        platforms.push_str(&format!(
            "  - selector:\n      matchLabels:\n        os: {os}\n        arch: {arch}\n    uri: {REPO}/releases/download/v{v}/{file}\n    sha256: {sha}\n    bin: {bin}\n    files:\n      - from: \"{bin}\"\n        to: \".\"\n      - from: LICENSE\n        to: \".\"\n",
            v = version(),
            sha = sha256_file(a)?,
        ));
    }
    let marker = "  platforms: [] # {{platforms}}: one entry per release archive\n";
    if !template.contains(marker) {
        return Err("krew-manifest.yaml has no platforms marker".into());
    }
    let body = template
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    Ok(body
        .replace("{{version}}", &version())
        .replace(marker, &format!("  platforms:\n{platforms}")))
}

pub fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.manifest_from {
        for archive in archives(dir)? {
            let triple = triple_of(&archive)?;
            crate::sbom::write(
                &triple,
                &args
                    .out
                    .join(sbom_path(&archive).file_name().expect("file")),
            )?;
        }
        let manifest = render_manifest(dir)?;
        std::fs::write(args.out.join("krew-manifest.yaml"), &manifest)
            .map_err(|e| e.to_string())?;
        println!("{}", args.out.join("krew-manifest.yaml").display());
        return Ok(());
    }
    let profile = if args.debug { "debug" } else { "release" };
    if args.debug {
        cargo(&["build", "--quiet", "--package", "kubectl-rhpull"])?;
    } else {
        cargo(&[
            "build",
            "--release",
            "--quiet",
            "--package",
            "kubectl-rhpull",
        ])?;
    }
    let triple = crate::host_triple()?;
    let (os, arch) =
        krew_platform(&triple).ok_or_else(|| format!("krew has no platform for {triple}"))?;
    let binary = crate::target_dir().join(profile).join("kubectl-rhpull");
    let archive = pack(&binary, os, arch, &args.out)?;
    let sbom = sbom_path(&archive);
    crate::sbom::write(&triple, &sbom)?;
    let manifest = render_manifest(&args.out)?;
    std::fs::write(args.out.join("krew-manifest.yaml"), &manifest).map_err(|e| e.to_string())?;
    println!(
        "{}\n{}\n{}",
        archive.display(),
        sbom.display(),
        args.out.join("krew-manifest.yaml").display()
    );
    Ok(())
}
