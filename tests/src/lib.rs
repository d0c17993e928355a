//! Shared harness for the end-to-end tests: the built `kubectl-rhpull` put on
//! a private PATH so real `kubectl` dispatches to it as a plugin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod env;
pub mod oracle;

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

/// Another binary of the workspace built beside the plugin (`xtask`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let plugin = plugin_binary();
    let bin = plugin.with_file_name(name);
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build --workspace --bins; cargo xtask test does)",
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
        self.command(kubectl, home, args)
            .output()
            .expect("run kubectl")
    }

    /// The command, with a clean environment, for tests to add to.
    pub fn command(&self, kubectl: &Path, home: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(kubectl);
        c.args(args)
            .env("PATH", self.path_var())
            .env("HOME", home)
            .env_remove("KUBECONFIG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("RHPULL_PASSWORD")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env("LANG", "C")
            .stdin(std::process::Stdio::null());
        c
    }

    /// Runs `kubectl rhpull <args>` with `stdin` piped in.
    pub fn rhpull_with_stdin(
        &self,
        home: &Path,
        envs: &[(&str, &str)],
        args: &[&str],
        stdin: &str,
    ) -> Output {
        use std::io::Write as _;
        let mut all = vec!["rhpull"];
        all.extend_from_slice(args);
        let mut cmd = self.command(Path::new("/usr/bin/kubectl"), home, &all);
        cmd.envs(envs.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    /// Runs `kubectl rhpull <args>` with no stdin.
    pub fn rhpull(&self, home: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
        let mut all = vec!["rhpull"];
        all.extend_from_slice(args);
        let mut cmd = self.command(Path::new("/usr/bin/kubectl"), home, &all);
        cmd.envs(envs.iter().copied());
        cmd.output().expect("run kubectl")
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
