//! Shared harness for the end-to-end tests: the built `kubectl-rhpull` put on
//! a private PATH so real `kubectl` dispatches to it as a plugin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The kubectl builds users have: the default one, and the oldest and newest
/// of the versioned ones the image carries, when present.
pub fn kubectls() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/usr/bin/kubectl")];
    for v in ["kubectl.1.27", "kubectl.1.33"] {
        let p = Path::new("/usr/lib/google-cloud-sdk/bin").join(v);
        if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// The built plugin: `RHPULL_BIN`, else `target/<profile>/kubectl-rhpull`
/// next to this test's own executable (`target/<profile>/deps/…`).
pub fn plugin_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("RHPULL_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("kubectl-rhpull");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build -p kubectl-rhpull; cargo xtask test does)",
        bin.display()
    );
    bin
}

/// A directory holding only `kubectl-rhpull`, to put first on PATH.
#[derive(Debug)]
pub struct PluginPath {
    dir: tempfile::TempDir,
}

impl PluginPath {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(plugin_binary(), dir.path().join("kubectl-rhpull"))
            .expect("link plugin");
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// PATH with the plugin first, then the system's.
    pub fn path_var(&self) -> std::ffi::OsString {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(self.dir().to_path_buf()).chain(std::env::split_paths(&rest));
        std::env::join_paths(dirs).expect("join PATH")
    }

    /// `kubectl <args>` with the plugin on PATH, in a clean HOME.
    pub fn kubectl(&self, kubectl: &Path, home: &Path, args: &[&str]) -> Output {
        Command::new(kubectl)
            .args(args)
            .env("PATH", self.path_var())
            .env("HOME", home)
            .env_remove("KUBECONFIG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C")
            .output()
            .expect("run kubectl")
    }
}

impl Default for PluginPath {
    fn default() -> Self {
        Self::new()
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
