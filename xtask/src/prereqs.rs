//! The Debian packages the test world needs, installed with apt-get only
//! when missing (`apt-get update` at most once per run). Without root and
//! with something missing, it stops and names the command to run.

use std::process::Command;

/// (program that must be on PATH, Debian package providing it)
pub const PACKAGES: &[(&str, &str)] = &[
    ("skopeo", "skopeo"),
    ("docker-registry", "docker-registry"),
    ("python3", "python3"),
    ("timeout", "coreutils"),
    ("tinyproxy", "tinyproxy"),
    ("tmux", "tmux"),
];

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

/// Installs whatever of [`PACKAGES`] is missing.
pub fn ensure() -> Result<(), String> {
    ensure_packages(PACKAGES)
}

/// Installs the packages of `(program, package)` pairs whose program is missing.
pub fn ensure_packages(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(program, _)| {
            !std::path::Path::new(program).is_file()
                && rhpull_testkit::tools::find(program).is_none()
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        eprintln!(
            "xtask: prerequisites present ({})",
            packages.iter().map(|p| p.1).collect::<Vec<_>>().join(", ")
        );
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing packages {missing:?} and not root: run `sudo apt-get install -y {}` and try again",
            missing.join(" ")
        ));
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    apt_get(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt_get(&args)
}
