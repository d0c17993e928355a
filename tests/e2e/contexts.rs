//! Many clusters at once, through real kubectl dispatch: `--contexts`,
//! `--all-contexts` and `--context-selector` run the command in each
//! cluster with its own client; one unreachable or forbidden cluster never
//! stops the others; the summary has a line per context; `-o json` is keyed
//! by context; shared state is confirmed once; and several kubeconfig
//! files merge as kubectl merges them.

use std::path::PathBuf;
use std::process::Output;

use rhpull_e2e::env::decoded_config;
use rhpull_e2e::{PluginPath, stderr, stdout};
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::{Emulator, Options, VIEWER_TOKEN};
use serde_json::Value;

const USER: &str = "1234567|fleet";
const SECRET: &str = "1234567-fleet-pull-secret";

/// Three clusters — `dev` (Kubernetes), `stage` and `prod` (OpenShift 4) —
/// plus `gone` (nothing listens) and `ro` (dev, read-only), in one kubeconfig.
struct Clusters {
    emulators: Vec<(&'static str, Emulator)>,
    kubeconfig: PathBuf,
    plugin: PluginPath,
    home: tempfile::TempDir,
}

impl Clusters {
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut file = KubeconfigFile::default();
        let mut emulators = Vec::new();
        for (name, openshift) in [("dev", false), ("stage", true), ("prod", true)] {
            let options = if openshift {
                Options::openshift()
            } else {
                Options::default()
            };
            let e = Emulator::start(options);
            file = e.kubeconfig_entries(file, name, name, None);
            emulators.push((name, e));
        }
        let dev = &emulators[0].1;
        file = file
            .cluster("gone", "https://127.0.0.1:1", dev.ca_pem())
            .context("gone", "gone", "nobody", "t", "default")
            .context("ro", "dev", "viewer", VIEWER_TOKEN, "default");
        let kubeconfig = home.path().join("kubeconfig");
        file.write(&kubeconfig).unwrap();
        Self {
            emulators,
            kubeconfig,
            plugin: PluginPath::new(),
            home,
        }
    }

    fn emulator(&self, name: &str) -> &Emulator {
        &self.emulators.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn rhpull(&self, args: &[&str], stdin: &str) -> Output {
        let kc = self.kubeconfig.display().to_string();
        self.plugin.rhpull_with_stdin(
            self.home.path(),
            &[("KUBECONFIG", kc.as_str())],
            args,
            stdin,
        )
    }

    /// Real kubectl in one context, `-o json`.
    fn kubectl_json(&self, context: &str, args: &[&str]) -> Value {
        let out = std::process::Command::new("kubectl")
            .args(["--context", context])
            .args(args)
            .args(["-o", "json"])
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .unwrap();
        assert!(out.status.success(), "{context} {args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn create(contexts: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "create",
        "-u",
        USER,
        "--password-stdin",
        "--registry",
        "quay.io",
    ]
    .map(String::from)
    .to_vec();
    args.extend(contexts.iter().map(|s| s.to_string()));
    args
}

#[test]
fn one_command_in_every_named_cluster_read_back_with_kubectl_context() {
    let c = Clusters::start();
    let args = create(&["--contexts", "dev,stage,prod", "-n", "default"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = c.rhpull(&args, "tok\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    for ctx in ["dev", "stage", "prod"] {
        assert!(text.contains(&format!("== context {ctx} ==")), "{text}");
        assert!(text.contains(&format!("  {ctx}: changed")), "{text}");
        let secret = c.kubectl_json(ctx, &["get", "secret", SECRET, "-n", "default"]);
        assert!(decoded_config(&secret)["auths"].get("quay.io").is_some());
    }
    assert!(
        text.contains("3 contexts: 3 changed, 0 unchanged, 0 failed"),
        "{text}"
    );
    // Within each cluster the fleet rules hold: a re-run writes nothing.
    for (_, e) in &c.emulators {
        e.reset_counters();
    }
    let again = stdout(&c.rhpull(&args, "tok\n"));
    assert!(
        again.contains("3 contexts: 0 changed, 3 unchanged, 0 failed"),
        "{again}"
    );
    assert!(c.emulators.iter().all(|(_, e)| e.writes() == 0));

    // An unknown context is named.
    let out = c.rhpull(&["status", "--contexts", "dev,nope"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no context nope"), "{}", stderr(&out));
}

#[test]
fn an_unreachable_or_forbidden_cluster_never_stops_the_others() {
    let c = Clusters::start();
    let args = create(&[
        "--all-contexts",
        "-n",
        "default",
        "--cluster-concurrency",
        "2",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = c.rhpull(&args, "tok\n");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("5 contexts: 3 changed, 0 unchanged, 2 failed"),
        "{text}"
    );
    assert!(
        text.contains("✗ gone: failed: cannot talk to the API server"),
        "{text}"
    );
    assert!(
        text.contains("✗ ro: failed: you may not create secrets"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("2 of 5 contexts failed"),
        "{}",
        stderr(&out)
    );
    for ctx in ["dev", "stage", "prod"] {
        c.kubectl_json(ctx, &["get", "secret", SECRET, "-n", "default"]);
    }

    // Scripts get one document keyed by context, errors in place.
    let out = c.rhpull(
        &["status", "--all-contexts", "-n", "default", "-o", "json"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "{doc}");
    assert_eq!(doc["gone"]["error"]["reason"], "ConnectionRefused", "{doc}");
    assert_eq!(doc["ro"]["secrets"][0]["name"], SECRET, "{doc}");
    assert_eq!(
        doc["prod"]["image_imports"]["source"],
        "openshift-config/pull-secret"
    );
}

#[test]
fn shared_state_is_confirmed_once_for_every_cluster_it_changes() {
    let c = Clusters::start();
    let set = [
        "global",
        "set",
        "registry.example.com",
        "-u",
        "bob",
        "--password-stdin",
        "--context-selector",
        "^(stage|prod)$",
    ];
    let out = c.rhpull(&set, "pw\n");
    assert_eq!(out.status.code(), Some(2), "no terminal, no --yes");
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(c.emulators.iter().all(|(_, e)| e.writes() == 0));

    let mut yes = set.to_vec();
    yes.push("--yes");
    let text = stdout(&c.rhpull(&yes, "pw\n"));
    assert!(text.contains("2 contexts: 2 changed"), "{text}");
    for ctx in ["stage", "prod"] {
        let s = c.kubectl_json(
            ctx,
            &["get", "secret", "pull-secret", "-n", "openshift-config"],
        );
        let auths = decoded_config(&s)["auths"].clone();
        assert!(
            auths.get("registry.example.com").is_some(),
            "{ctx}: {auths}"
        );
        assert!(
            auths.get("quay.io").is_some(),
            "{ctx} keeps the others: {auths}"
        );
    }
    // dev is Kubernetes and was not selected: untouched.
    assert_eq!(c.emulator("dev").writes(), 0);
}

/// kubectl merges several files: the first to name a context, cluster or
/// user wins, and the first current-context. rhpull reads the same.
#[test]
fn several_kubeconfig_files_merge_as_kubectl_merges_them() {
    let c = Clusters::start();
    let dir = c.home.path();
    let dev = c.emulator("dev");
    let stage = c.emulator("stage");
    let write = |name: &str, file: KubeconfigFile| -> PathBuf {
        let path = dir.join(name);
        file.write(&path).unwrap();
        path
    };
    // Both files define `shared`: in the first it is dev's, in the second stage's.
    let first = write(
        "first",
        dev.kubeconfig_entries(
            KubeconfigFile::default(),
            "c1",
            "shared",
            Some("only-first"),
        ),
    );
    let second = write(
        "second",
        stage.kubeconfig_entries(
            KubeconfigFile::default(),
            "c2",
            "shared",
            Some("only-second"),
        ),
    );
    let joined = std::env::join_paths([&first, &dir.join("missing"), &second]).unwrap();
    let joined = joined.to_str().unwrap();

    let kubectl_view = std::process::Command::new("kubectl")
        .args(["config", "view", "-o", "json"])
        .env("KUBECONFIG", joined)
        .output()
        .unwrap();
    let view: Value = serde_json::from_slice(&kubectl_view.stdout).unwrap();
    let mut kubectl_contexts: Vec<String> = view["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    kubectl_contexts.sort();

    let run = |args: &[&str], env_kubeconfig: Option<&str>| {
        let mut envs = vec![];
        if let Some(k) = env_kubeconfig {
            envs.push(("KUBECONFIG", k));
        }
        c.plugin.rhpull(c.home.path(), &envs, args)
    };
    for (how, out) in [
        (
            "KUBECONFIG",
            run(&["status", "--all-contexts", "-o", "json"], Some(joined)),
        ),
        (
            "--kubeconfig",
            run(
                &[
                    "status",
                    "--all-contexts",
                    "-o",
                    "json",
                    "--kubeconfig",
                    joined,
                ],
                None,
            ),
        ),
    ] {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let mut ours: Vec<String> = doc
            .as_object()
            .map_or_else(Vec::new, |o| o.keys().cloned().collect());
        ours.sort();
        // The explicit list must exist file by file, as kubectl's --kubeconfig must.
        if how == "--kubeconfig" {
            assert_eq!(out.status.code(), Some(1), "{how}: {}", stdout(&out));
            assert!(stderr(&out).contains("missing"), "{}", stderr(&out));
            continue;
        }
        assert_eq!(
            ours, kubectl_contexts,
            "{how}: the same contexts as kubectl config view"
        );
    }

    // `shared` is the first file's: dev, where a secret appears.
    let out = c.plugin.rhpull_with_stdin(
        c.home.path(),
        &[("KUBECONFIG", joined)],
        &[
            "create",
            "-u",
            USER,
            "--password-stdin",
            "--registry",
            "quay.io",
            "--context",
            "shared",
        ],
        "tok\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(view["current-context"], "shared");
    assert!(dev.get("Secret", "default", SECRET).is_some());
    assert!(stage.get("Secret", "default", SECRET).is_none());
}

/// `check --failing` and `global status` run in every named cluster too,
/// keyed by context: no failing pod anywhere is exit 0; every OpenShift 4
/// cluster's pools are reported.
#[test]
fn failing_pods_and_rollouts_are_looked_up_in_every_context() {
    let c = Clusters::start();
    let out = c.rhpull(
        &[
            "check",
            "--failing",
            "-A",
            "--contexts",
            "dev,stage,prod",
            "-o",
            "json",
        ],
        "",
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    for ctx in ["dev", "stage", "prod"] {
        assert_eq!(doc[ctx], serde_json::json!([]), "{doc}");
    }
    let out = c.rhpull(
        &["global", "status", "--contexts", "stage,prod", "-o", "json"],
        "",
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    for ctx in ["stage", "prod"] {
        let pools = doc[ctx]["pools"].as_array().unwrap();
        assert_eq!(pools.len(), 2, "{doc}");
    }
}
