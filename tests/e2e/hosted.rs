//! Hosted control planes (HyperShift, ROSA with HCP), through kubectl
//! dispatch: `global set|remove` write `kube-system/additional-pull-secret`,
//! never `openshift-config/pull-secret`; `--wait` follows HyperShift's
//! merge and its syncer DaemonSet node by node; a registry the
//! HostedCluster's pull secret has is refused (its entry wins the merge)
//! unless `--force`, and a path-scoped key is the way around it; the last
//! entry's removal deletes the secret; a failing node ends the wait;
//! `global status` shows the merge and the syncer; `check --pod` reads the
//! merged secret; `rotate` changes the additional entry only; and
//! `--all-contexts` mixes standalone, hosted and Kubernetes clusters.

use std::process::Output;
use std::time::Duration;

use rhpull_e2e::env::{Env, decoded_config, failed, ok, registry, says};
use rhpull_e2e::{PluginPath, kubectls, stderr, stdout};
use rhpull_testkit::kube::hypershift::Merge;
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world;
use serde_json::{Value, json};

/// A hosted cluster with three workers, each syncer pod taking `delay_ms`.
fn hosted(delay_ms: u64, merge: Merge) -> Env {
    Env::start(Options {
        machines: Machines {
            masters: 0,
            workers: 3,
            delay: Duration::from_millis(delay_ms),
        },
        hosted_merge: merge,
        ..Options::hosted()
    })
}

fn host() -> String {
    registry().registry.host()
}

/// `global ARGS… --yes` with the world's login on stdin.
fn global_world(env: &Env, args: &[&str]) -> Output {
    let mut all = vec!["global"];
    all.extend(args);
    all.push("--yes");
    env.rhpull_as_world(&all)
}

/// `global set REGISTRY -u me --password-stdin --yes EXTRA…`.
fn set_as_me(env: &Env, registry: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "global",
        "set",
        registry,
        "-u",
        "me",
        "--password-stdin",
        "--yes",
    ];
    args.extend(extra);
    env.rhpull(&args, Some("token\n"))
}

fn status(env: &Env) -> Value {
    serde_json::from_str(&ok(&env.rhpull(&["global", "status", "-o", "json"], None)))
        .expect("global status -o json")
}

fn merged_entry<'a>(status: &'a Value, registry: &str) -> Option<&'a Value> {
    status["merge"]["merged"]
        .as_array()?
        .iter()
        .find(|e| e["registry"] == registry)
}

/// A secret in kube-system, as every kubectl build reads it.
fn kubectl_secret(env: &Env, name: &str) -> Option<Value> {
    let mut seen = Vec::new();
    for bin in kubectls() {
        let out = env.kubectl_at(
            &bin,
            &["get", "secret", name, "-n", "kube-system", "-o", "json"],
        );
        seen.push(
            out.status
                .success()
                .then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap()),
        );
    }
    assert!(
        seen.windows(2).all(|w| w[0].is_some() == w[1].is_some()),
        "kubectl builds disagree on {name}"
    );
    seen.into_iter().next().flatten()
}

#[test]
fn a_set_is_merged_and_followed_node_by_node_and_status_shows_each_step() {
    let env = hosted(400, Merge::OriginalWins);
    let host = host();
    let before = status(&env);
    assert_eq!(before["hosted"], true);
    assert_eq!(before["merge"]["additional"], json!([]));
    assert_eq!(before["syncer"]["updated"], 3);
    assert_eq!(
        merged_entry(&before, "quay.io").unwrap()["from"],
        "original"
    );

    // The set follows the syncer while status is read midway.
    let set = std::thread::scope(|s| {
        let waiting = s.spawn(|| global_world(&env, &["set", &host, "--wait=60s"]));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut midway = None;
        while midway.is_none() && std::time::Instant::now() < deadline {
            let now = status(&env);
            let nodes = now["syncer"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // The merge shows before the nodes have it all. (The secrets
            // and the DaemonSet are read one after the other, so a read
            // can straddle the merge: such a read is not kept.)
            let merged = merged_entry(&now, &host).is_some_and(|e| e["from"] == "additional");
            if merged
                && nodes.iter().any(|n| n["state"]["state"] == "updating")
                && nodes.iter().any(|n| n["state"]["state"] == "updated")
            {
                midway = Some(now);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let midway = midway.expect("a status read midway through the syncer's rollout");
        assert!(midway["syncer"]["updated"].as_i64() < Some(3), "{midway}");
        waiting.join().expect("set")
    });
    let said = ok(&set);
    says(
        &said,
        &[
            &format!("kube-system/additional-pull-secret: {host} added"),
            "✓ merged, and every node the syncer runs on has it (3 nodes)",
        ],
    );
    assert!(!said.contains("openshift-config/pull-secret"), "{said}");

    let after = status(&env);
    assert_eq!(after["syncer"]["updated"], 3);
    assert_eq!(
        merged_entry(&after, &host).unwrap()["username"],
        world::USERNAME
    );
    let human = ok(&env.rhpull(&["global", "status"], None));
    says(
        &human,
        &[
            "Hosted control plane",
            "Syncer: 3/3 nodes updated",
            "additional",
        ],
    );

    // What real kubectl reads: the additional and merged secrets, the
    // HostedCluster's copy untouched, and the DaemonSet rolled out.
    let additional = kubectl_secret(&env, "additional-pull-secret").expect("written");
    assert_eq!(additional["type"], "kubernetes.io/dockerconfigjson");
    assert!(decoded_config(&additional)["auths"].get(&host).is_some());
    let merged = decoded_config(&kubectl_secret(&env, "global-pull-secret").expect("merged"));
    assert!(merged["auths"].get(&host).is_some() && merged["auths"].get("quay.io").is_some());
    let openshift_config =
        env.kubectl_json(&["get", "secret", "pull-secret", "-n", "openshift-config"]);
    assert!(
        decoded_config(&openshift_config)["auths"]
            .get(&host)
            .is_none()
    );
    for bin in kubectls() {
        let out = env.kubectl_at(
            &bin,
            &[
                "rollout",
                "status",
                "ds/global-pull-secret-syncer",
                "-n",
                "kube-system",
                "--timeout=5s",
            ],
        );
        assert!(out.status.success(), "{}: {}", bin.display(), stderr(&out));
    }

    // The nodes' credentials now come from the merge.
    let image = registry().image();
    env.wait_for_service_account("default", "default");
    env.emulator.put(
        "Pod",
        "default",
        json!({"metadata": {"name": "web"}, "spec": {"nodeName": "worker-0",
               "containers": [{"name": "app", "image": image}]}}),
    );
    let said = ok(&env.rhpull(&["check", "--pod", "web", "--registry-ca", &env.ca()], None));
    says(
        &said,
        &[&format!("node: kube-system/global-pull-secret ({host})")],
    );
}

#[test]
fn a_registry_the_hostedcluster_has_is_refused_unless_forced_and_a_path_scoped_key_goes_through() {
    let env = hosted(20, Merge::OriginalWins);
    env.emulator.reset_counters();
    let out = set_as_me(&env, "quay.io", &[]);
    failed(&out);
    let said = stderr(&out);
    says(
        &said,
        &[
            "the HostedCluster's pull secret already has quay.io",
            "kubectl rhpull global set quay.io/ORGANIZATION",
            "OpenShift Cluster Manager",
            "--force",
        ],
    );
    assert_eq!(env.emulator.writes(), 0, "nothing written");
    assert!(
        env.emulator
            .get("Secret", "kube-system", "additional-pull-secret")
            .is_none()
    );

    // The path-scoped key the kubelet prefers: taken as it is.
    ok(&set_as_me(&env, "quay.io/team", &["--wait=30s"]));
    let s = status(&env);
    assert_eq!(
        merged_entry(&s, "quay.io/team").unwrap()["from"],
        "additional"
    );

    // Forced: written, and the merge's answer reported, never assumed.
    let said = ok(&set_as_me(&env, "quay.io", &["--force", "--wait=30s"]));
    says(
        &said,
        &[
            "quay.io is in the HostedCluster's pull secret too",
            "quay.io: the merge kept the HostedCluster's entry",
        ],
    );
    let s = status(&env);
    assert_eq!(merged_entry(&s, "quay.io").unwrap()["from"], "original");
    assert_eq!(merged_entry(&s, "quay.io").unwrap()["conflict"], true);
    assert!(
        s["merge"]["not_taken"]
            .as_array()
            .unwrap()
            .contains(&json!("quay.io"))
    );

    // The first HyperShift releases let the additional entry win.
    let older = hosted(20, Merge::AdditionalWins);
    let said = ok(&set_as_me(&older, "quay.io", &["--force", "--wait=30s"]));
    assert!(!said.contains("the merge kept"), "{said}");
    assert_eq!(
        merged_entry(&status(&older), "quay.io").unwrap()["from"],
        "additional"
    );
}

#[test]
fn the_last_entry_removed_deletes_the_secret_and_the_hostedclusters_entries_stay() {
    let env = hosted(20, Merge::OriginalWins);
    let host = host();
    ok(&global_world(&env, &["set", &host, "--wait=30s"]));
    assert!(kubectl_secret(&env, "global-pull-secret").is_some());
    let said = ok(&env.rhpull(&["global", "remove", &host, "--yes", "--wait=30s"], None));
    says(
        &said,
        &[
            "kube-system/additional-pull-secret had no entry left and was deleted",
            "✓ merged, and every node the syncer runs on has it",
        ],
    );
    assert!(kubectl_secret(&env, "additional-pull-secret").is_none());
    assert!(kubectl_secret(&env, "global-pull-secret").is_none());
    assert_eq!(status(&env)["merge"]["merged_secret"], false);
    // The syncer stays, giving the nodes the HostedCluster's pull secret.
    assert!(
        env.emulator
            .get("DaemonSet", "kube-system", "global-pull-secret-syncer")
            .is_some()
    );

    let out = env.rhpull(&["global", "remove", "quay.io", "--yes"], None);
    failed(&out);
    says(
        &stderr(&out),
        &[
            "quay.io comes from the HostedCluster's pull secret",
            "nothing was removed",
        ],
    );
}

#[test]
fn a_node_whose_syncer_fails_ends_the_wait_with_its_logs_named() {
    let env = hosted(50, Merge::OriginalWins);
    env.emulator.fail_syncer("worker-1");
    let out = global_world(&env, &["set", &host(), "--wait=30s"]);
    let said = failed(&out);
    says(
        &said,
        &[
            "the syncer fails on node worker-1 (CrashLoopBackOff)",
            "oc logs -n kube-system global-pull-secret-syncer-",
        ],
    );
    let human = ok(&env.rhpull(&["global", "status"], None));
    says(
        &human,
        &["failing (CrashLoopBackOff): oc logs -n kube-system global-pull-secret-syncer-"],
    );
}

#[test]
fn rotate_changes_the_additional_entry_never_the_hostedclusters() {
    let env = hosted(20, Merge::OriginalWins);
    let host = host();
    ok(&env.rhpull(
        &[
            "global",
            "set",
            &host,
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--yes",
            "--wait=30s",
        ],
        Some("an-old-token\n"),
    ));
    let out = env.rhpull(
        &[
            "rotate",
            "-u",
            world::USERNAME,
            "--registry",
            &host,
            "--password-stdin",
            "--yes",
            "--wait=30s",
            "--registry-ca",
            &env.ca(),
        ],
        Some(&format!("{}\n", world::TOKEN)),
    );
    let said = ok(&out);
    says(
        &said,
        &[
            &format!("kube-system/additional-pull-secret: {host} updated"),
            "✓ merged, and every node the syncer runs on has it",
        ],
    );
    let merged = decoded_config(&kubectl_secret(&env, "global-pull-secret").unwrap());
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD
        .decode(merged["auths"][&host]["auth"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(auth).unwrap(),
        format!("{}:{}", world::USERNAME, world::TOKEN)
    );
    assert!(
        env.emulator
            .get("Secret", "kube-system", "original-pull-secret")
            .is_some()
    );
}

#[test]
fn all_contexts_mix_standalone_hosted_and_kubernetes_clusters() {
    let home = tempfile::tempdir().unwrap();
    let machines = Machines {
        masters: 1,
        workers: 2,
        delay: Duration::from_millis(20),
    };
    let clusters = [
        (
            "standalone",
            Emulator::start(Options {
                machines: machines.clone(),
                ..Options::openshift()
            }),
        ),
        (
            "hosted",
            Emulator::start(Options {
                machines,
                ..Options::hosted()
            }),
        ),
        ("plain", Emulator::start(Options::default())),
    ];
    let mut file = KubeconfigFile::default();
    for (name, e) in &clusters {
        file = e.kubeconfig_entries(file, name, name, None);
    }
    let kubeconfig = home.path().join("kubeconfig");
    file.write(&kubeconfig).unwrap();
    let plugin = PluginPath::new();
    let kc = kubeconfig.display().to_string();
    let host = host();
    let out = plugin.rhpull_with_stdin(
        home.path(),
        &[("KUBECONFIG", kc.as_str())],
        &[
            "global",
            "set",
            &host,
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--yes",
            "--wait=60s",
            "--all-contexts",
            "-o",
            "json",
        ],
        &format!("{}\n", world::TOKEN),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "one context refused: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["standalone"]["secret"], "openshift-config/pull-secret");
    assert!(doc["standalone"]["rollout"]["pools"].is_array(), "{doc}");
    assert_eq!(
        doc["hosted"]["secret"],
        "kube-system/additional-pull-secret"
    );
    assert_eq!(doc["hosted"]["rollout"]["outcome"], "done", "{doc}");
    assert_eq!(doc["plain"]["error"]["reason"], "NotOpenShift4", "{doc}");
    let human = plugin.rhpull_with_stdin(
        home.path(),
        &[("KUBECONFIG", kc.as_str())],
        &["global", "status", "--all-contexts"],
        "",
    );
    let said = format!("{}{}", stdout(&human), stderr(&human));
    says(
        &said,
        &["standalone", "hosted", "plain", "Syncer: 2/2 nodes updated"],
    );
}

#[test]
fn image_imports_on_a_hosted_cluster_are_the_hostedclusters_and_nothing_is_written() {
    let env = hosted(20, Merge::OriginalWins);
    env.emulator.reset_counters();
    let out = env.rhpull_as_world(&[
        "create",
        "--for-imagestreams",
        "--registry",
        &host(),
        "--yes",
    ]);
    failed(&out);
    says(
        &stderr(&out),
        &[
            "image imports use the HostedCluster's pull secret",
            "kubectl rhpull global set REGISTRY",
        ],
    );
    assert_eq!(env.emulator.writes(), 0);
}
