//! Promises kept to the letter (issue "Promises kept to the letter"): what
//! each flag's help says, checked as a new user would meet it.

use base64::Engine as _;
use rhpull_e2e::env::{Env, failed, ok, registry, says};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::world;
use serde_json::{Value, json};

/// A plain `check` with an auth file that cannot be read says that alone:
/// no announcement of a check of a registry nobody chose.
#[test]
fn a_broken_auth_file_is_the_whole_answer_of_a_plain_check() {
    let env = Env::start(Options::default());
    std::fs::write(
        env.authfile(),
        "{\"auths\": {\n  \"quay.io\": {\"auth\": \"eA==\"},,\n}}\n",
    )
    .unwrap();
    let out = env.rhpull(&["check"], None);
    failed(&out);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    says(
        &said,
        &[
            &env.authfile().display().to_string(),
            "is not valid JSON (line 2",
        ],
    );
    assert!(!said.contains("No registry named"), "{said}");
    assert!(!said.contains("registry.redhat.io"), "{said}");
}

/// A login stored under a path-scoped key (`host/namespace`) is checked at
/// its host with that login, and the report names the key.
#[test]
fn a_path_scoped_login_is_checked_at_its_host() {
    let env = Env::start(Options::default());
    let host = registry().registry.host();
    let key = format!("{host}/rhel9");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        world::USERNAME,
        world::TOKEN
    ));
    std::fs::write(
        env.authfile(),
        json!({"auths": {key.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let ca = env.ca();
    let said = ok(&env.rhpull(&["check", "--registry-ca", &ca], None));
    assert!(!said.contains("cannot resolve"), "{said}");
    // The key whose login it checked is named.
    says(&said, &[&host, &key]);
    let doc: Value = serde_json::from_str(&ok(
        &env.rhpull(&["check", "--registry-ca", &ca, "-o", "json"], None)
    ))
    .unwrap();
    assert_eq!(doc["key"], key.as_str(), "{doc}");
    assert_eq!(doc["registry"], host.as_str(), "{doc}");
    assert_eq!(doc["passed"], true, "{doc}");
}

const SECRET: &str = "7654321-rhpull-world-pull-secret";

/// `link SA SECRET --wait 20s` waits for a service account made after it
/// starts; without `--wait` a missing one fails at once (a typo); a wait
/// that runs out names what it waited for.
#[test]
fn an_explicit_wait_waits_for_any_service_account() {
    let env = Env::new(false);
    ok(&env.rhpull_as_world(&["create", "-n", "project-a"]));
    let at_once = env.rhpull(&["link", "robot", SECRET, "-n", "project-a"], None);
    failed(&at_once);
    says(&stderr(&at_once), &["robot"]);

    let later = std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            env.rhpull(
                &["link", "robot", SECRET, "-n", "project-a", "--wait", "20s"],
                None,
            )
        });
        std::thread::sleep(std::time::Duration::from_millis(700));
        env.emulator.put(
            "ServiceAccount",
            "project-a",
            json!({"metadata": {"name": "robot"}}),
        );
        waiting.join().expect("link")
    });
    ok(&later);
    let sa = env
        .emulator
        .get("ServiceAccount", "project-a", "robot")
        .expect("robot");
    assert_eq!(sa["imagePullSecrets"][0]["name"], SECRET, "{sa}");

    let out = env.rhpull(
        &["link", "ghost", SECRET, "-n", "project-a", "--wait=1s"],
        None,
    );
    failed(&out);
    says(
        &stderr(&out),
        &["project-a/ghost", "did not appear within 1s"],
    );
}

/// Every `--wait` takes its value with a space or `=`: `global set REG
/// --wait 2m` follows the rollout, as `--wait=2m` does.
#[test]
fn every_wait_takes_its_value_with_a_space_or_an_equals_sign() {
    let env = Env::new(true);
    let host = registry().registry.host();
    let spaced = ok(&env.rhpull_as_world(&["global", "set", &host, "--yes", "--wait", "2m"]));
    let joined = ok(&env.rhpull(&["global", "remove", &host, "--yes", "--wait=2m"], None));
    for said in [&spaced, &joined] {
        assert!(!said.contains("unknown flag"), "{said}");
    }
    let pools = env.emulator.list("MachineConfigPool", "");
    assert!(
        pools
            .iter()
            .all(|p| p["status"]["updatedMachineCount"] == p["status"]["machineCount"]),
        "the waits followed the rollout to the end: {pools:?}"
    );
}

/// `check --failing` checks one tag's manifest, so pods of `app:1` and
/// `app:2` are grouped apart, each checked for its own tag.
#[test]
fn failing_pods_are_grouped_by_the_whole_image() {
    let long = std::time::Duration::from_secs(300);
    let env = Env::pulling_with_backoff(Options::default(), long, long);
    env.emulator.create_namespace("shop", &[]);
    env.wait_for_service_account("shop", "default");
    let one = registry().image();
    let two = one.replace(":1", ":2");
    for (name, image) in [("one", &one), ("two", &two)] {
        env.kubectl(
            &[
                "run",
                name,
                "-n",
                "shop",
                "--image",
                image,
                "--restart=Never",
            ],
            None,
        );
    }
    env.wait_until("both back off", || {
        let states = env.pod_states("shop");
        (states.len() == 2 && states.iter().all(|(r, _)| r == "ImagePullBackOff")).then_some(())
    });
    let ca = env.ca();
    let doc = env.rhpull_json(&[
        "check",
        "--failing",
        "-n",
        "shop",
        "--registry-ca",
        &ca,
        "-o",
        "json",
    ]);
    let groups = doc.as_array().expect("groups");
    assert_eq!(groups.len(), 2, "{doc}");
    let mut images: Vec<&str> = groups.iter().filter_map(|g| g["image"].as_str()).collect();
    images.sort_unstable();
    assert_eq!(images, [one.as_str(), two.as_str()], "{doc}");
}

/// On a hosted control plane only nodes the syncer runs on get the merged
/// secret: a pod on a node without the label keeps the ignition's
/// original-pull-secret, and `check --pod` says it fails, as the world's
/// kubelet does; a pod on a synced node pulls.
#[test]
fn a_hosted_node_the_syncer_skips_keeps_the_original_pull_secret() {
    let long = std::time::Duration::from_secs(300);
    let env = Env::pulling_with_backoff(
        Options {
            machines: rhpull_testkit::kube::mco::Machines {
                masters: 0,
                workers: 2,
                delay: std::time::Duration::from_millis(10),
            },
            ..Options::hosted()
        },
        long,
        long,
    );
    let mut node = env.emulator.get("Node", "", "worker-1").expect("worker-1");
    node["metadata"]["labels"]
        .as_object_mut()
        .expect("labels")
        .remove("hypershift.openshift.io/nodepool-globalps-enabled");
    env.emulator.put("Node", "", node);
    let host = registry().registry.host();
    ok(&env.rhpull_as_world(&["global", "set", &host, "--yes", "--wait"]));
    env.emulator.create_namespace("shop", &[]);
    env.wait_for_service_account("shop", "default");
    for (name, node) in [("synced", "worker-0"), ("skipped", "worker-1")] {
        env.kubectl(
            &["create", "-f", "-"],
            Some(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
                         "spec": {"nodeName": node, "containers": [{"name": "app", "image": registry().image()}]}})),
        );
    }
    env.wait_until("skipped backs off, synced runs", || {
        let p = |n: &str| env.emulator.get("Pod", "shop", n);
        let skipped = p("skipped")?["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            == "ImagePullBackOff";
        let synced = p("synced")?["status"]["containerStatuses"][0]["state"]
            .get("running")
            .is_some();
        (skipped && synced).then_some(())
    });
    let ca = env.ca();
    for (pod, passes) in [("skipped", false), ("synced", true)] {
        let doc = env.rhpull_json(&[
            "check",
            "--pod",
            pod,
            "-n",
            "shop",
            "--registry-ca",
            &ca,
            "-o",
            "json",
        ]);
        assert_eq!(doc["passed"], passes, "{pod}: {doc}");
        rhpull_e2e::oracle::assert_agrees(&env, "shop", pod, &doc);
    }
}

/// Across many namespaces `-o name` prints what kubectl prints for the
/// objects written: `kind/name`, one line each, no namespace (as
/// `kubectl get -A -o name`).
#[test]
fn fleet_names_are_the_objects_written_as_kubectl_prints_them() {
    let env = Env::with_namespaces(3);
    let args = [
        "create",
        "--namespaces",
        "team-000,team-001",
        "--link",
        "default",
        "-o",
        "name",
    ];
    let out = ok(&env.rhpull_as_world(&args));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!("secret/{SECRET}"),
            "serviceaccount/default".into(),
            format!("secret/{SECRET}"),
            "serviceaccount/default".into()
        ],
        "{out}"
    );
    let linked = ok(&env.rhpull(
        &[
            "link",
            "default",
            SECRET,
            "--namespaces",
            "team-000,team-001",
            "-o",
            "name",
        ],
        None,
    ));
    assert_eq!(
        linked.lines().collect::<Vec<_>>(),
        ["serviceaccount/default", "serviceaccount/default"],
        "{linked}"
    );
}
