//! The world most end-to-end tests stand in: a Kubernetes API emulator
//! (Kubernetes or OpenShift mode), the built plugin on a private PATH, a
//! clean HOME with its own auth file, and — shared by every test of the
//! binary — the real registry with token auth. Commands run through real
//! `kubectl` plugin dispatch; what they wrote is read back with real kubectl.

use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use rhpull_testkit::kube::kubelet::types::Pulling;
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world::{self, RegistryWorld};
use serde_json::Value;

use crate::{PluginPath, stderr, stdout};

/// OpenShift 4 with one master and one worker (`worker-0`), each
/// machine taking 10 ms to apply a config.
pub fn small_openshift() -> Options {
    Options {
        machines: rhpull_testkit::kube::mco::Machines {
            masters: 1,
            workers: 1,
            delay: Duration::from_millis(10),
        },
        ..Options::openshift()
    }
}

/// The registry world every test of this binary shares (started once).
pub fn registry() -> &'static RegistryWorld {
    static WORLD: OnceLock<RegistryWorld> = OnceLock::new();
    WORLD.get_or_init(RegistryWorld::start)
}

/// One test's world.
#[derive(Debug)]
pub struct Env {
    pub emulator: Emulator,
    pub plugin: PluginPath,
    pub home: tempfile::TempDir,
}

impl Env {
    /// An emulator as `options` start it, and nothing else.
    pub fn start(options: Options) -> Self {
        Self {
            emulator: Emulator::start(options),
            plugin: PluginPath::new(),
            home: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// An emulator started with `options` whose nodes pull for real from
    /// the shared registry world, with the kubelet's back-off scaled down
    /// (250 ms, doubling to 2 s).
    pub fn pulling(options: Options) -> Self {
        Self::pulling_with_backoff(options, Duration::from_millis(250), Duration::from_secs(2))
    }

    /// As [`Env::pulling`], with the kubelet's back-off from `first` up
    /// to `ceiling` (a long one keeps failing pods failing while a test
    /// looks at them).
    pub fn pulling_with_backoff(options: Options, first: Duration, ceiling: Duration) -> Self {
        Self::pulling_from(&registry().registry.cert_dir, options, first, ceiling)
    }

    /// As [`Env::pulling_with_backoff`], the nodes trusting the CA in
    /// `cert_dir` (a registry world of the test's own).
    pub fn pulling_from(
        cert_dir: &std::path::Path,
        options: Options,
        first: Duration,
        ceiling: Duration,
    ) -> Self {
        let pulling = Pulling::new(cert_dir.to_path_buf()).with_backoff(first, ceiling);
        Self::start(Options {
            kubelets: Some(pulling),
            ..options
        })
    }

    /// Real kubectl against this world, `manifest` on stdin when given;
    /// asserts it succeeded and returns its stdout.
    pub fn kubectl(&self, args: &[&str], manifest: Option<&Value>) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.emulator.kubeconfig)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run kubectl");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(m) = manifest {
            stdin.write_all(m.to_string().as_bytes()).expect("write");
        }
        drop(stdin);
        let out = child.wait_with_output().expect("kubectl");
        assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// The kubectl at `bin` (one of [`crate::kubectls`]) against this world.
    pub fn kubectl_at(&self, bin: &std::path::Path, args: &[&str]) -> Output {
        std::process::Command::new(bin)
            .args(args)
            .env("KUBECONFIG", &self.emulator.kubeconfig)
            .output()
            .expect("run kubectl")
    }

    /// Deployment `app` in `ns`, running `image`, made by real kubectl.
    pub fn deploy_app(&self, ns: &str, image: &str) {
        self.kubectl(
            &["create", "deployment", "app", "-n", ns, "--image", image],
            None,
        );
    }

    /// Waits until every pod of `ns` backs off (ErrImagePull or
    /// ImagePullBackOff), and there is one.
    pub fn wait_backing_off(&self, ns: &str) {
        self.wait_until(&format!("{ns}'s pods back off"), || {
            let states = self.pod_states(ns);
            (!states.is_empty()
                && states
                    .iter()
                    .all(|(r, _)| r == "ImagePullBackOff" || r == "ErrImagePull"))
            .then_some(())
        });
    }

    /// Waits (at most 60 s) until `found` gives a value.
    pub fn wait_until<T>(&self, what: &str, found: impl Fn() -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = found() {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pods of namespace `ns` as stored.
    pub fn pods(&self, ns: &str) -> Vec<Value> {
        self.emulator.list("Pod", ns)
    }

    /// The first container's waiting reason and message of every pod in
    /// `ns`, once each pod has one (`"Running"` for a running one).
    pub fn pod_states(&self, ns: &str) -> Vec<(String, String)> {
        self.pods(ns)
            .iter()
            .map(|p| {
                let state = &p["status"]["containerStatuses"][0]["state"];
                if state.get("running").is_some() {
                    ("Running".into(), String::new())
                } else {
                    let w = &state["waiting"];
                    (
                        w["reason"].as_str().unwrap_or_default().to_string(),
                        w["message"].as_str().unwrap_or_default().to_string(),
                    )
                }
            })
            .collect()
    }

    /// Kubernetes (or OpenShift) with projects `project-a` and `project-b`.
    pub fn new(openshift: bool) -> Self {
        let options = if openshift {
            Options::openshift()
        } else {
            Options::default()
        };
        let env = Self::start(options);
        env.emulator.create_namespace("project-a", &[]);
        env.emulator.create_namespace("project-b", &[]);
        env
    }

    /// Kubernetes with `n` namespaces `team-000`… whose service accounts
    /// already exist.
    pub fn with_namespaces(n: usize) -> Self {
        Self::with_namespaces_on(Options::default(), n)
    }

    /// As [`Env::with_namespaces`], on an emulator started with `options`.
    pub fn with_namespaces_on(options: Options, n: usize) -> Self {
        let env = Self::start(options);
        let names: Vec<String> = (0..n).map(|i| format!("team-{i:03}")).collect();
        env.emulator.seed_namespaces(&names);
        env
    }

    /// Waits (at most 10 s) until the namespace's controllers have made
    /// service account `name`, as a new namespace's `default` comes a
    /// moment after the namespace.
    pub fn wait_for_service_account(&self, ns: &str, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.emulator.get("ServiceAccount", ns, name).is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "serviceaccount {ns}/{name} never appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `kubectl run NAME --image IMAGE -n NS`: a pod admitted as the API
    /// server admits one (its service account's pull secrets copied in).
    pub fn kubectl_run(&self, ns: &str, name: &str, image: &str) {
        self.wait_for_service_account(ns, "default");
        let out = std::process::Command::new("kubectl")
            .args(["run", name, "-n", ns, "--image", image, "--restart=Never"])
            .env("KUBECONFIG", &self.emulator.kubeconfig)
            .output()
            .expect("run kubectl");
        assert!(out.status.success(), "kubectl run: {}", stderr(&out));
    }

    /// The containers auth file of this HOME (`REGISTRY_AUTH_FILE`).
    pub fn authfile(&self) -> PathBuf {
        self.home.path().join("auth.json")
    }

    /// The registry world's CA, for `--registry-ca`.
    pub fn ca(&self) -> String {
        registry().ca_file.display().to_string()
    }

    pub fn envs(&self, lang: &str) -> Vec<(String, String)> {
        vec![
            (
                "KUBECONFIG".into(),
                self.emulator.kubeconfig.display().to_string(),
            ),
            (
                "REGISTRY_AUTH_FILE".into(),
                self.authfile().display().to_string(),
            ),
            ("LANG".into(), lang.into()),
        ]
    }

    /// `kubectl rhpull <args>` (stdin optional).
    pub fn rhpull(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.rhpull_lang("C", args, stdin)
    }

    /// `kubectl rhpull <args>` under `LANG=lang`.
    pub fn rhpull_lang(&self, lang: &str, args: &[&str], stdin: Option<&str>) -> Output {
        self.rhpull_with(&self.envs(lang), args, stdin)
    }

    /// `kubectl rhpull <args>` with these environment variables.
    pub fn rhpull_with(
        &self,
        envs: &[(String, String)],
        args: &[&str],
        stdin: Option<&str>,
    ) -> Output {
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match stdin {
            Some(s) => self
                .plugin
                .rhpull_with_stdin(self.home.path(), &envs, args, s),
            None => self.plugin.rhpull(self.home.path(), &envs, args),
        }
    }

    /// `kubectl rhpull create -n NS --registry <the world's registry> --link
    /// default` with the world's login.
    pub fn link_world_login(&self, ns: &str) -> Output {
        let host = registry().registry.host();
        self.rhpull_as_world(&["create", "-n", ns, "--registry", &host, "--link", "default"])
    }

    /// `kubectl rhpull ARGS -u <the world's service account> --password-stdin`
    /// with the world's token on stdin.
    pub fn rhpull_as_world(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["-u", world::USERNAME, "--password-stdin"]);
        self.rhpull(&all, Some(&format!("{}\n", world::TOKEN)))
    }

    /// `kubectl rhpull <args>`, its stdout read as the one JSON document
    /// it prints (whatever its exit code).
    pub fn rhpull_json(&self, args: &[&str]) -> Value {
        let out = self.rhpull(args, None);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}{}", stdout(&out), stderr(&out)))
    }

    /// Real kubectl, `-o json`.
    pub fn kubectl_json(&self, args: &[&str]) -> Value {
        let out = std::process::Command::new("kubectl")
            .args(args)
            .args(["-o", "json"])
            .env("KUBECONFIG", &self.emulator.kubeconfig)
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("kubectl's JSON")
    }

    /// Logs in to the test registry with real skopeo, as `podman login` would.
    pub fn skopeo_login(&self) {
        let r = registry();
        let out = rhpull_testkit::skopeo::login(
            &self.authfile(),
            &r.registry.cert_dir,
            &r.registry.host(),
            world::USERNAME,
            world::TOKEN,
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

/// The command's stdout, after asserting it succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The command's stdout, after asserting it failed with exit 1.
pub fn failed(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Asserts that `said` holds every one of `phrases`.
pub fn says(said: &str, phrases: &[&str]) {
    for p in phrases {
        assert!(said.contains(p), "{p:?} missing from:\n{said}");
    }
}

/// A service account's `imagePullSecrets` names.
pub fn pull_names(sa: &Value) -> Vec<String> {
    sa["imagePullSecrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect()
}

/// A pull secret's docker config, decoded.
pub fn decoded_config(secret: &Value) -> Value {
    let key = if secret["type"] == "kubernetes.io/dockercfg" {
        ".dockercfg"
    } else {
        ".dockerconfigjson"
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(secret["data"][key].as_str().expect("the data key"))
        .expect("base64");
    serde_json::from_slice(&raw).expect("JSON")
}
