//! `cargo xtask demo`: rhpull end to end on the embedded test world, each
//! step printed as the command a user types and what it answers.
//!
//! The world: Debian's docker-registry on 127.0.0.1 with TLS and token auth,
//! trusting a token server that answers as Red Hat's SSO does, with an image
//! pushed by real skopeo, and the Kubernetes API emulator in OpenShift mode.
//! rhpull runs through real kubectl plugin dispatch: login, check, create
//! --from-podman --link default, grant, status, and a pod's pulls explained.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use rhpull_testkit::kube::kubelet::types::Pulling;
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world::{self, RegistryWorld};

use crate::{cargo, workspace_root};

/// A step's title, bold only when `styled`.
fn heading(title: &str, styled: bool) -> String {
    if styled {
        format!("\x1b[1m## {title}\x1b[0m")
    } else {
        format!("## {title}")
    }
}

/// Bold on a terminal, never with `NO_COLOR` (https://no-color.org).
fn styled() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn step(title: &str) {
    println!("\n{}", heading(title, styled()));
}

struct Shell {
    home: tempfile::TempDir,
    path: OsString,
    ca: String,
    kubeconfig: std::path::PathBuf,
}

impl Shell {
    /// `kubectl rhpull ARGS` in the demo user's environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("rhpull")
            .args(args)
            .env("HOME", self.home.path())
            .env("PATH", &self.path)
            .env(
                "REGISTRY_AUTH_FILE",
                self.home.path().join(".config/containers/auth.json"),
            )
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("XDG_RUNTIME_DIR")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `kubectl rhpull …` against registries, showing `shown` as the
    /// command line (the token stays a variable) and feeding `stdin`.
    fn rhpull(&self, shown: &str, args: &[&str], stdin: Option<&str>) -> Result<bool, String> {
        use std::io::Write as _;
        println!("$ {shown}");
        let mut cmd = self.command(args);
        cmd.args(["--registry-ca", &self.ca]);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run kubectl: {e}"))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        Ok(status.success())
    }

    /// Plain `kubectl ARGS` against the demo cluster, shown as typed.
    fn kubectl(&self, args: &[&str]) -> Result<bool, String> {
        println!("$ kubectl {}", args.join(" "));
        let status = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run kubectl: {e}"))?;
        Ok(status.success())
    }

    /// `kubectl rhpull …` for commands that do not talk to registries.
    fn plain(&self, shown: &str, args: &[&str]) -> Result<bool, String> {
        println!("$ {shown}");
        let status = self
            .command(args)
            .status()
            .map_err(|e| format!("cannot run kubectl: {e}"))?;
        Ok(status.success())
    }
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("demo step failed: {what}"))
    }
}

pub fn run() -> Result<(), String> {
    crate::prereqs::ensure()?;
    cargo(&["build", "--quiet", "--package", "kubectl-rhpull"])?;
    let bin_dir = workspace_root().join("target/debug");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&rest)))
        .map_err(|e| e.to_string())?;
    let (cluster, w) = start_world();
    let shell = Shell {
        home: tempfile::tempdir().map_err(|e| e.to_string())?,
        path,
        ca: w.ca_file.display().to_string(),
        kubeconfig: cluster.kubeconfig.clone(),
    };
    registry_steps(&shell, &w)?;
    cluster_steps(&shell, &w, &cluster)?;
    println!("\ndemo finished: every step above ran for real on this machine.");
    Ok(())
}

fn start_world() -> (Emulator, RegistryWorld) {
    step(
        "The test world: an OpenShift-like API server whose nodes pull for real, a registry with token auth and an SSO-like token server, on 127.0.0.1",
    );
    let w = RegistryWorld::start();
    let cluster = Emulator::start(Options {
        kubelets: Some(Pulling::new(w.registry.cert_dir.clone())),
        ..Options::openshift()
    });
    cluster.create_namespace("project-a", &[]);
    cluster.create_namespace("project-b", &[]);
    println!(
        "cluster       {}  (namespaces project-a and project-b)",
        cluster.url()
    );
    println!(
        "registry      https://{}  (Debian docker-registry, auth: token)",
        w.registry.host()
    );
    println!("token server  {}", w.sso.realm());
    println!("image         {}", w.image());
    println!(
        "account       {}  (a registry service account; its token is in $TOKEN)",
        world::USERNAME
    );
    (cluster, w)
}

/// The plugin, a login, and checks of it (one passing, one failing).
fn registry_steps(shell: &Shell, w: &RegistryWorld) -> Result<(), String> {
    let host = w.registry.host();
    let tail = format!("--registry-ca {}", Path::new(&shell.ca).display());
    step("The plugin, found by kubectl on PATH");
    expect(
        shell.plain("kubectl rhpull version", &["version"])?,
        "version",
    )?;

    step("Log in with the service account token (verified before it is saved)");
    let login = format!(
        "echo \"$TOKEN\" | kubectl rhpull login {host} -u '{}' --password-stdin {tail}",
        world::USERNAME
    );
    let token = format!("{}\n", world::TOKEN);
    let args = ["login", &host, "-u", world::USERNAME, "--password-stdin"];
    expect(shell.rhpull(&login, &args, Some(&token))?, "login")?;

    step("Check the stored login end to end, down to the image");
    let image = w.image();
    let check = format!("kubectl rhpull check {host} --image {image} {tail}");
    let args = ["check", &host, "--image", &image];
    expect(shell.rhpull(&check, &args, None)?, "check")?;

    step("When something is wrong, the failing step says why and what to do");
    let missing = format!("{host}/rhel9/no-such-image:1");
    let doctor = format!("kubectl rhpull doctor {host} --image {missing} {tail}");
    let failed = !shell.rhpull(&doctor, &["doctor", &host, "--image", &missing], None)?;
    expect(failed, "a check of a missing image must fail")
}

/// A pull secret made and linked (twice), a grant, the status, a pod's
/// pulls explained, and the registries.
fn cluster_steps(shell: &Shell, w: &RegistryWorld, cluster: &Emulator) -> Result<(), String> {
    let host = w.registry.host();
    let tail = format!("--registry-ca {}", Path::new(&shell.ca).display());
    step("Make a pull secret from that login and let project-a's default service account use it");
    let create_args = [
        "create",
        "--from-podman",
        "--registry",
        &host,
        "-n",
        "project-a",
        "--link",
        "default",
    ];
    let create = format!("kubectl rhpull {}", create_args.join(" "));
    expect(shell.plain(&create, &create_args)?, "create")?;

    step("Run it again: nothing changes, and it says so");
    expect(shell.plain(&create, &create_args)?, "create again")?;

    step("Let pods in project-a pull images from project-b");
    let grant = ["grant", "project-a", "project-b"];
    expect(
        shell.plain("oc rhpull grant project-a project-b", &grant)?,
        "grant",
    )?;

    step("What is there now");
    let status = ["status", "-n", "project-a"];
    expect(
        shell.plain("kubectl rhpull status -n project-a", &status)?,
        "status",
    )?;

    step("Why can (or can't) a pod pull? One created after the link:");
    create_pod(shell, cluster, &w.image())?;
    let check_pod = format!("kubectl rhpull check --pod web -n project-a {tail}");
    let args = ["check", "--pod", "web", "-n", "project-a"];
    expect(shell.rhpull(&check_pod, &args, None)?, "check --pod")?;

    step("And the node's kubelet pulls it, with the secret the link gave the pod");
    let wait = [
        "wait",
        "pod/web",
        "-n",
        "project-a",
        "--for=condition=Ready",
        "--timeout=60s",
    ];
    expect(shell.kubectl(&wait)?, "kubectl wait")?;
    expect(
        shell.kubectl(&["get", "pod", "web", "-n", "project-a"])?,
        "kubectl get pod",
    )?;

    step("Which registries need a login, and who you are logged in as");
    expect(
        shell.plain("kubectl rhpull registries", &["registries"])?,
        "registries",
    )
}

/// `kubectl create -f web.json`: a pod, admitted as the API server admits one.
fn create_pod(shell: &Shell, cluster: &Emulator, image: &str) -> Result<(), String> {
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "project-a"},
                                 "spec": {"containers": [{"name": "web", "image": image}]}});
    let pod_file = shell.home.path().join("web.json");
    std::fs::write(&pod_file, pod.to_string()).map_err(|e| e.to_string())?;
    println!("$ kubectl create -f web.json");
    let created = Command::new("kubectl")
        .args(["create", "-f"])
        .arg(&pod_file)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .status()
        .map_err(|e| e.to_string())?;
    expect(created.success(), "kubectl create -f web.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_bold_only_when_styled() {
        assert_eq!(heading("x", false), "## x");
        assert!(!heading("x", false).contains('\x1b'));
        assert_eq!(heading("x", true), "\x1b[1m## x\x1b[0m");
    }
}
