//! `cargo xtask world` (the binary behind it): stands up, answers real
//! kubectl and `kubectl rhpull`, counts requests, and on SIGTERM stops
//! everything, removes its env file and leaves no process behind.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rhpull_e2e::{PluginPath, stderr, stdout, workspace_binary};

fn read_env(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// Every descendant of `pid` (children first found through /proc).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        for task in std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                out.push(c);
                queue.push(c);
            }
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|state| state != "Z"))
        .unwrap_or(false)
}

fn get(url: &str) -> String {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap();
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// A running `cargo xtask world` (the binary), and its env file.
struct Standing {
    child: std::process::Child,
    env_path: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl Standing {
    fn start(args: &[&str]) -> (Self, HashMap<String, String>) {
        let dir = tempfile::tempdir().unwrap();
        let env_path = dir.path().join("env");
        let mut child = Command::new(workspace_binary("xtask"))
            .args(["world", "--no-build"])
            .args(args)
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !env_path.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no env file after 2 minutes"
            );
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the world exited early ({status}): {}{}",
                    stdout(&out),
                    stderr(&out)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let env = read_env(&env_path);
        let standing = Self {
            child,
            env_path,
            dir,
        };
        (standing, env)
    }

    /// SIGTERM: everything stops, the env file goes, no process is left.
    fn stop(mut self) {
        let children = descendants(self.child.id());
        assert!(
            !children.is_empty(),
            "the world should have started servers"
        );
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the world did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "{status}");
        assert!(!self.env_path.exists(), "the env file must be removed");
        // Children get SIGTERM, then SIGKILL after their grace period; on a
        // busy machine that takes a moment, so wait for it (bounded).
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut left: Vec<u32> = children;
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            left.retain(|p| alive(*p));
        }
        let named: Vec<String> = (left.iter())
            .map(|p| {
                let cmd = std::fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default();
                format!("{p} {}", cmd.replace('\0', " "))
            })
            .collect();
        assert!(left.is_empty(), "processes left behind: {named:?}");
    }
}

#[test]
fn the_world_stands_answers_and_stops_cleanly() {
    let (world, env) = Standing::start(&["--openshift"]);
    for key in [
        "KUBECONFIG",
        "RHPULL_WORLD_REGISTRY",
        "RHPULL_WORLD_SSO",
        "RHPULL_WORLD_CA",
        "RHPULL_WORLD_USERNAME",
        "RHPULL_WORLD_TOKEN",
        "RHPULL_WORLD_IMAGE",
        "RHPULL_WORLD_ADMIN",
    ] {
        assert!(
            env.get(key).is_some_and(|v| !v.is_empty()),
            "{key} missing from {env:?}"
        );
    }
    assert_eq!(env.len(), 8, "exactly these variables: {env:?}");
    assert!(
        Path::new(&env["KUBECONFIG"]).is_absolute()
            && Path::new(&env["RHPULL_WORLD_CA"]).is_absolute()
    );

    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let kubectl = |args: &[&str]| {
        plugin
            .command(Path::new("/usr/bin/kubectl"), home.path(), args)
            .env("KUBECONFIG", &env["KUBECONFIG"])
            .output()
            .unwrap()
    };
    let ns = kubectl(&["get", "ns", "-o", "name"]);
    assert!(
        stdout(&ns).contains("namespace/openshift-config"),
        "{}{}",
        stdout(&ns),
        stderr(&ns)
    );
    assert_eq!(
        stdout(&kubectl(&["auth", "can-i", "create", "secrets"])).trim(),
        "yes"
    );
    // The viewer context reads everything and may write nothing: the
    // denied paths, by hand.
    let viewer_can = kubectl(&["auth", "can-i", "create", "secrets", "--context", "viewer"]);
    assert_eq!(stdout(&viewer_can).trim(), "no");
    assert!(
        kubectl(&["get", "secrets", "-A", "--context", "viewer"])
            .status
            .success()
    );
    let denied = plugin.rhpull_with_stdin(
        home.path(),
        &[("KUBECONFIG", env["KUBECONFIG"].as_str())],
        &[
            "create",
            "-u",
            "bob",
            "--password-stdin",
            "--registry",
            "quay.io",
            "--context",
            "viewer",
        ],
        "pw\n",
    );
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    assert!(
        stderr(&denied).contains("you may not create secrets"),
        "{}",
        stderr(&denied)
    );
    let version = kubectl(&["rhpull", "version"]);
    assert!(
        stdout(&version).starts_with("kubectl-rhpull "),
        "{}",
        stderr(&version)
    );
    let token = format!("{}\n", env["RHPULL_WORLD_TOKEN"]);
    let login = plugin.rhpull_with_stdin(
        home.path(),
        &[(
            "REGISTRY_AUTH_FILE",
            &home.path().join("auth.json").display().to_string(),
        )],
        &[
            "check",
            &env["RHPULL_WORLD_REGISTRY"],
            "--image",
            &env["RHPULL_WORLD_IMAGE"],
            "-u",
            &env["RHPULL_WORLD_USERNAME"],
            "--password-stdin",
            "--registry-ca",
            &env["RHPULL_WORLD_CA"],
        ],
        &token,
    );
    assert!(
        login.status.success(),
        "{}{}",
        stdout(&login),
        stderr(&login)
    );

    let counters: serde_json::Value =
        serde_json::from_str(&get(&format!("{}/counters", env["RHPULL_WORLD_ADMIN"]))).unwrap();
    assert!(counters["total"].as_u64().unwrap() >= 3, "{counters}");
    assert!(
        counters["by"]["list namespaces"].as_u64().unwrap() >= 1,
        "{counters}"
    );

    world.stop();
}

/// `--clusters 3 --openshift-clusters 1`: three emulators, one kubeconfig
/// with a context each (the first in OpenShift mode) and the viewer.
#[test]
fn several_clusters_stand_in_one_kubeconfig() {
    // A contradiction is a usage error before anything starts.
    let refused = Command::new(workspace_binary("xtask"))
        .args([
            "world",
            "--no-build",
            "--openshift",
            "--clusters",
            "2",
            "--openshift-clusters",
            "1",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--openshift-clusters"),
        "{}",
        stderr(&refused)
    );

    let (world, env) = Standing::start(&[
        "--clusters",
        "3",
        "--openshift-clusters",
        "2",
        "--hosted-clusters",
        "1",
    ]);
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &env["KUBECONFIG"])
            .output()
            .unwrap()
    };
    let contexts = stdout(&kubectl(&["config", "get-contexts", "-o", "name"]));
    let mut contexts: Vec<&str> = contexts.lines().collect();
    contexts.sort_unstable();
    assert_eq!(contexts, ["cluster-1", "cluster-2", "cluster-3", "viewer"]);
    let ns = |ctx: &str| stdout(&kubectl(&["--context", ctx, "get", "ns", "-o", "name"]));
    assert!(ns("cluster-1").contains("namespace/openshift-config"));
    assert!(ns("cluster-2").contains("namespace/openshift-config"));
    assert!(!ns("cluster-3").contains("namespace/openshift-config"));
    // cluster-1 plays a hosted control plane: HyperShift's syncer, no pools.
    let get = |ctx: &str, what: &[&str]| {
        stdout(&kubectl(
            &[&["--context", ctx, "get"], what, &["-o", "name"]].concat(),
        ))
    };
    assert_eq!(
        get("cluster-1", &["ds", "-n", "kube-system"]).trim(),
        "daemonset.apps/global-pull-secret-syncer"
    );
    assert_eq!(get("cluster-1", &["mcp"]).trim(), "");
    assert!(get("cluster-2", &["mcp"]).contains("machineconfigpool"));
    assert_eq!(
        env["RHPULL_WORLD_CLUSTER_ADMINS"].split(' ').count(),
        3,
        "{env:?}"
    );
    world.stop();
}

/// The commands of README's "The test world, by hand", exactly as printed,
/// run one after the other in bash against a standing world: from a
/// directory where `target/world` is the world's and `target/debug` holds
/// the plugin, with a HOME of its own. A line marked `# denied` must fail
/// with the cause named.
#[test]
fn the_readmes_test_world_commands_run_as_printed() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split("## The test world, by hand")
        .nth(1)
        .expect("the README's section");
    let block = section
        .split("```sh")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let lines: Vec<&str> = block
        .lines()
        .skip_while(|l| !l.starts_with("# in another shell"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(lines.len() >= 6, "{lines:?}");

    let (world, _env) = Standing::start(&[]);
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cwd.path().join("target")).unwrap();
    std::os::unix::fs::symlink(world.dir.path(), cwd.path().join("target/world")).unwrap();
    let plugin = PluginPath::new();
    std::os::unix::fs::symlink(plugin.dir(), cwd.path().join("target/debug")).unwrap();
    let script: Vec<String> = lines
        .iter()
        .map(|l| {
            if let Some((command, _)) = l.split_once("# denied") {
                format!("if {command}; then echo 'UNEXPECTED SUCCESS'; exit 9; fi")
            } else {
                l.to_string()
            }
        })
        .collect();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script.join("\n")])
        .current_dir(cwd.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Login Succeeded"), "{said}");
    assert!(
        said.contains("may not create secrets"),
        "the viewer is denied, by name: {said}"
    );
    world.stop();
}
