//! OpenShift 4: a global pull-secret change followed to the nodes. The
//! emulator's Machine Config Operator renders a new MachineConfig and moves
//! one node per pool at a time; `global set --wait` follows it through a
//! watch, names a degraded pool with the next step, gives up after
//! `--wait=DURATION`; `global status` compares what each pool runs with the
//! global pull secret; `check --pod` says when a pod's node still has the
//! previous credentials. What rhpull says is checked against what real
//! kubectl (oldest and newest too) reads from the pools and nodes.

use std::time::Duration;

use rhpull_e2e::env::{Env, failed, ok, registry, says};
use rhpull_e2e::{kubectls, stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::world;
use serde_json::Value;

fn openshift(workers: u32, delay_ms: u64) -> Env {
    Env::start(Options {
        machines: Machines {
            masters: 1,
            workers,
            delay: Duration::from_millis(delay_ms),
        },
        ..Options::openshift()
    })
}

/// `global set <world registry> … --yes` with the world's token on stdin.
fn set_world(env: &Env, extra: &[&str]) -> std::process::Output {
    let host = registry().registry.host();
    let mut args = vec!["global", "set", host.as_str(), "--yes"];
    args.extend(extra);
    env.rhpull_as_world(&args)
}

fn status_json(env: &Env) -> Value {
    let out = ok(&env.rhpull(&["global", "status", "-o", "json"], None));
    serde_json::from_str(&out).expect("global status -o json")
}

fn pool<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["pools"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no pool {name} in {status}"))
}

/// Every kubectl build reads the pool as done with `config`.
fn kubectl_reads_pool_done(env: &Env, name: &str, config: &str) {
    for bin in kubectls() {
        let out = env.kubectl_at(&bin, &["get", "mcp", name, "-o", "json"]);
        assert!(out.status.success(), "{}: {}", bin.display(), stderr(&out));
        let p: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            p["status"]["configuration"]["name"],
            config,
            "{}",
            bin.display()
        );
        assert_eq!(
            p["status"]["updatedMachineCount"],
            p["status"]["machineCount"],
            "{}",
            bin.display()
        );
    }
}

#[test]
fn a_set_waits_through_a_slow_rollout_and_status_follows_it() {
    let env = openshift(3, 300);
    let host = registry().registry.host();

    let before = status_json(&env);
    assert_eq!(pool(&before, "worker")["holds"]["state"], "current");
    assert_eq!(before["not_everywhere"], serde_json::json!([]));
    let human = ok(&env.rhpull(&["global", "status"], None));
    assert!(
        human.contains("Every pool's nodes have the current global pull secret"),
        "{human}"
    );

    // Without --wait: written, the rollout announced, and status sees it
    // on its way (the worker pool takes at least 3 × 300 ms).
    let out = set_world(&env, &[]);
    let said = ok(&out);
    assert!(
        said.contains("Follow it: kubectl rhpull global status"),
        "{said}"
    );
    let midway = status_json(&env);
    let lacking = midway["not_everywhere"].as_array().unwrap();
    assert!(
        lacking.iter().any(|r| r["registry"] == host.as_str()),
        "{midway}"
    );
    assert_ne!(
        pool(&midway, "worker")["holds"]["state"],
        "current",
        "{midway}"
    );

    // Running it again with --wait writes nothing and follows to the end.
    let out = set_world(&env, &["--wait=2m"]);
    says(
        &ok(&out),
        &[
            "already holds this login",
            "✓ pool worker: every node has the change",
            "✓ pool master: every node has the change",
        ],
    );

    let after = status_json(&env);
    assert_eq!(after["not_everywhere"], serde_json::json!([]), "{after}");
    let worker = pool(&after, "worker");
    assert_eq!(worker["holds"]["state"], "current");
    assert_eq!(worker["updated"], 3);
    let config = worker["current"].as_str().unwrap();
    assert!(
        worker["registries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["registry"] == host.as_str() && r["agreement"] == "same"),
        "{worker}"
    );
    kubectl_reads_pool_done(&env, "worker", config);
    // No secret in what status prints.
    let human = ok(&env.rhpull(&["global", "status"], None));
    assert!(
        !human.contains(world::TOKEN) && !human.contains("quay-token"),
        "{human}"
    );
}

#[test]
fn a_degraded_pool_is_named_with_the_next_step_and_exit_1() {
    let env = openshift(2, 50);
    env.emulator.degrade_next_update(
        "worker",
        "failed to write /var/lib/kubelet/config.json: read-only file system",
    );
    let said = failed(&set_world(&env, &["--wait=1m"]));
    says(
        &said,
        &[
            "✗ pool worker is degraded",
            "Node worker-0 is reporting",
            "oc describe mcp worker; oc describe node worker-0",
            "✓ pool master: every node has the change",
        ],
    );
    let doc: Value =
        serde_json::from_str(&ok(&env.rhpull(&["global", "status", "-o", "json"], None))).unwrap();
    assert_eq!(pool(&doc, "worker")["degraded"], 1);
}

#[test]
fn a_wait_that_runs_out_names_the_pools_not_done_and_exits_1() {
    let env = openshift(3, 3_000);
    let started = std::time::Instant::now();
    let out = failed(&set_world(&env, &["--wait=5s", "-o", "json"]));
    assert!(started.elapsed() < Duration::from_secs(30));
    let doc: Value = serde_json::from_str(&out).expect("-o json");
    let pools = doc["rollout"]["pools"].as_array().unwrap();
    let worker = pools
        .iter()
        .find(|p| p["pool"] == "worker")
        .expect("worker");
    assert_eq!(worker["outcome"], "timed_out", "{doc}");
    assert_eq!(worker["machines"], 3);
    assert!(worker["updated"].as_i64().unwrap() < 3);
    let human = set_world(&env, &["--wait=1s"]);
    assert!(
        stdout(&human).contains("✗ pool worker:") && stdout(&human).contains("when the wait ended"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn check_pod_says_when_its_node_still_has_the_previous_credentials() {
    let env = openshift(3, 20_000);
    let host = registry().registry.host();
    ok(&set_world(&env, &[]));
    // The first worker is being updated; worker-2 waits its turn.
    let image = format!("{host}/{}:latest", world::REPOSITORY);
    env.wait_for_service_account("default", "default");
    env.emulator.put(
        "Pod",
        "default",
        serde_json::json!({"metadata": {"name": "web"}, "spec": {"nodeName": "worker-2",
            "containers": [{"name": "app", "image": image}]}}),
    );
    let out = env.rhpull(&["check", "--pod", "web", "--registry-ca", &env.ca()], None);
    let said = stdout(&out);
    assert!(
        said.contains("Node worker-2 still has the previous credentials for")
            && said.contains(&host),
        "{said}{}",
        stderr(&out)
    );
    let doc: Value = serde_json::from_str(&stdout(&env.rhpull(
        &[
            "check",
            "--pod",
            "web",
            "--registry-ca",
            &env.ca(),
            "-o",
            "json",
        ],
        None,
    )))
    .unwrap();
    assert_eq!(doc["node_credentials"], "node-file");
    assert!(
        doc["node_behind"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["registry"] == host.as_str() && b["agreement"] == "missing"),
        "{doc}"
    );
}

/// A pod as the kubelet reports it backing off, on `node` (or none yet).
fn backing_off(env: &Env, name: &str, node: Option<&str>, image: &str) {
    let mut spec = serde_json::json!({"containers": [{"name": "app", "image": image}]});
    match node {
        Some(n) => spec["nodeName"] = n.into(),
        // A selector no node matches keeps it unscheduled, as a real
        // scheduler would.
        None => spec["nodeSelector"] = serde_json::json!({"rhpull.test/pool": "none-yet"}),
    }
    env.emulator.put(
        "Pod",
        "default",
        serde_json::json!({"metadata": {"name": name}, "spec": spec}),
    );
    env.emulator.set_pod_status(
        "default",
        name,
        serde_json::json!({"phase": "Pending", "containerStatuses": [{"name": "app", "image": image,
            "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
    );
}

#[test]
fn check_failing_groups_pods_by_what_their_node_has_during_a_rollout() {
    let env = openshift(3, 20_000);
    let host = registry().registry.host();
    let image = registry().image();
    env.wait_for_service_account("default", "default");
    // Right after the change, without --wait: worker-2 waits its turn,
    // while a pod not yet on a node gets whatever node it lands on.
    ok(&set_world(&env, &[]));
    backing_off(&env, "web", Some("worker-2"), &image);
    backing_off(&env, "queued", None, &image);
    let ca = env.ca();
    let out = env.rhpull(
        &["check", "--failing", "-n", "default", "--registry-ca", &ca],
        None,
    );
    let said = failed(&out);
    says(
        &said,
        &[
            "2 pods failing to pull, in 2 groups",
            &format!("the pods' node still has the previous login for {host}"),
            "kubectl rhpull global status",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout(&env.rhpull(
        &[
            "check",
            "--failing",
            "-n",
            "default",
            "--registry-ca",
            &ca,
            "-o",
            "json",
        ],
        None,
    )))
    .unwrap();
    let groups = doc.as_array().expect("groups");
    let of = |pod: &str| {
        groups
            .iter()
            .find(|g| {
                g["pods"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == pod)
            })
            .unwrap_or_else(|| panic!("{pod} in {doc}"))
    };
    assert_eq!(of("web")["fix"]["action"], "wait_for_rollout", "{doc}");
    assert!(of("web")["cause"].is_object(), "{doc}");
    assert!(
        of("queued")["cause"].is_null(),
        "the global pull secret serves it: {doc}"
    );
    // `check --pod` on the same pod agrees, and does not advise the
    // change just made again.
    let said = failed(&env.rhpull(
        &[
            "check",
            "--pod",
            "web",
            "-n",
            "default",
            "--registry-ca",
            &ca,
        ],
        None,
    ));
    says(&said, &["it pulls once the rollout reaches it"]);
    assert!(!said.contains("global set"), "{said}");
}

#[test]
fn rotate_on_a_hosted_control_plane_leaves_the_hostedclusters_entries_alone() {
    let env = Env::start(Options::hosted());
    // rotate does what it may and leaves the HostedCluster's copies alone:
    // openshift-config/pull-secret and kube-system/original-pull-secret.
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = format!(
        r#"{{"auths":{{"quay.io":{{"auth":"{}"}}}}}}"#,
        b64("quay-user:old")
    );
    env.emulator.put(
        "Secret",
        "default",
        serde_json::json!({"metadata": {"name": "team-pull"}, "type": "kubernetes.io/dockerconfigjson",
                           "data": {".dockerconfigjson": b64(&config)}}),
    );
    let global_before = env
        .emulator
        .get("Secret", "openshift-config", "pull-secret");
    let rotated = env.rhpull(
        &[
            "rotate",
            "-u",
            "quay-user",
            "--password-stdin",
            "--yes",
            "--no-verify",
            "-A",
        ],
        Some("new-token\n"),
    );
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stderr(&rotated).contains("HostedCluster"),
        "{}",
        stderr(&rotated)
    );
    assert_eq!(
        env.emulator.count("update", "secrets"),
        1,
        "{}",
        env.emulator.counters()
    );
    assert_eq!(
        env.emulator
            .get("Secret", "openshift-config", "pull-secret"),
        global_before
    );
    assert!(
        stderr(&rotated).contains("rotate it there, on the management cluster"),
        "{}",
        stderr(&rotated)
    );
}
