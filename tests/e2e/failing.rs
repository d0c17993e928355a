//! `check --failing`: forty pods in three namespaces that cannot pull, for
//! two reasons (a revoked token; no link at all), beside five healthy ones.
//! Two groups with the right counts, one token request each, the fixes it
//! prints work when run, and pods made before their service account's link
//! are named with "recreate". The pods fail because the world's kubelet
//! really pulls them, and what rhpull says after each fix is what the
//! kubelet then does with a pod just like them (`oracle`).

use base64::Engine as _;
use rhpull_e2e::env::{Env, ok};
use rhpull_e2e::oracle;
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::world::{self, RegistryWorld};
use serde_json::{Value, json};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A pod made by a ReplicaSet (which makes it again when it is deleted),
/// admitted by the API server; the world's kubelet pulls it.
fn pod(env: &Env, ns: &str, name: &str, image: &str, secrets: &[&str]) {
    let pull: Vec<Value> = secrets.iter().map(|s| json!({"name": s})).collect();
    let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{ns}-rs"),
                        "uid": "3f1c2a8e-0000-4000-8000-000000000001", "controller": true}]);
    env.kubectl(
        &["create", "-f", "-"],
        Some(&json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "ownerReferences": owner},
               "spec": {"serviceAccountName": "default",
               "imagePullSecrets": pull, "containers": [{"name": "app", "image": image}]}})),
    );
}

/// Until the kubelet has tried every pod of the namespaces once.
fn settled(env: &Env, namespaces: &[&str], failing: usize, running: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let states: Vec<(String, String)> = namespaces
            .iter()
            .flat_map(|ns| env.pod_states(ns))
            .collect();
        let count = |r: &str| states.iter().filter(|(s, _)| s == r).count();
        if count("ImagePullBackOff") == failing && count("Running") == running {
            return;
        }
        let brief: Vec<String> = namespaces
            .iter()
            .flat_map(|ns| env.pods(ns))
            .map(|p| {
                format!(
                    "{} {} {}",
                    p["metadata"]["name"],
                    p["spec"]["nodeName"],
                    p["status"]["containerStatuses"][0]["state"]
                        .to_string()
                        .chars()
                        .take(60)
                        .collect::<String>()
                )
            })
            .collect();
        assert!(
            std::time::Instant::now() < deadline,
            "never settled: {brief:#?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn check_failing(env: &Env, ca: &str, json: bool) -> std::process::Output {
    let mut args = vec!["check", "--failing", "-A", "--registry-ca", ca];
    if json {
        args.extend(["-o", "json"]);
    }
    env.rhpull(&args, None)
}

#[test]
fn every_failing_pod_explained_once_per_cause_and_the_fixes_work() {
    // A registry world of its own: its token counter counts this test only.
    let registry = RegistryWorld::start();
    let host = registry.registry.host();
    let image = registry.image();
    let ca = registry.ca_file.display().to_string();
    // The kubelet backs off for longer than the test runs: the pods that
    // failed stay failing while rhpull is asked, and no pull of the
    // kubelet's counts against rhpull's token requests.
    let long = std::time::Duration::from_secs(300);
    let env = Env::pulling_from(&registry.registry.cert_dir, Options::default(), long, long);
    for ns in ["team-1", "team-2", "team-3"] {
        env.emulator.create_namespace(ns, &[]);
        env.wait_for_service_account(ns, "default");
    }
    let revoked = json!({"auths": {host.clone(): {"auth": b64(&format!("{}:eyJyZXZva2VkIn0.eA.eA", world::USERNAME))}}});
    for ns in ["team-1", "team-2"] {
        env.emulator.put(
            "Secret",
            ns,
            json!({"metadata": {"name": "revoked"}, "type": "kubernetes.io/dockerconfigjson",
                   "data": {".dockerconfigjson": b64(&revoked.to_string())}}),
        );
    }
    let good = json!({"auths": {host.clone(): {"auth": b64(&format!("{}:{}", world::USERNAME, world::TOKEN))}}});
    env.emulator.put(
        "Secret",
        "team-1",
        json!({"metadata": {"name": "good"}, "type": "kubernetes.io/dockerconfigjson",
               "data": {".dockerconfigjson": b64(&good.to_string())}}),
    );
    for i in 0..25 {
        let ns = if i % 2 == 0 { "team-1" } else { "team-2" };
        pod(&env, ns, &format!("api-{i:02}"), &image, &["revoked"]);
    }
    for i in 0..15 {
        pod(&env, "team-3", &format!("web-{i:02}"), &image, &[]);
    }
    for i in 0..5 {
        pod(&env, "team-1", &format!("ok-{i}"), &image, &["good"]);
    }
    settled(&env, &["team-1", "team-2", "team-3"], 40, 5);

    let before = registry.sso.requests();
    let out = check_failing(&env, &ca, false);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        registry.sso.requests() - before,
        2,
        "one token request per group"
    );
    let text = stdout(&out);
    assert!(
        text.contains("40 pods failing to pull, in 2 groups"),
        "{text}"
    );
    let revoked_at = text.find("✗ 25 pods").expect(&text);
    let unlinked_at = text.find("✗ 15 pods").expect(&text);
    assert!(revoked_at < unlinked_at, "most pods first: {text}");
    assert!(text.contains("the username or token was refused"), "{text}");
    assert!(
        text.contains(&format!("Failed to pull image \"{image}\": rpc error")),
        "the kubelet's words: {text}"
    );
    let rotate = format!(
        "kubectl rhpull rotate -u '{}' --registry {host} --namespaces team-1,team-2",
        world::USERNAME
    );
    assert!(text.contains(&rotate), "{text}");
    let link =
        format!("kubectl rhpull create --from-podman --registry {host} --link default -n team-3");
    assert!(text.contains(&link), "{text}");
    assert!(!text.contains("ok-"), "healthy pods are not listed: {text}");

    let doc: Value = serde_json::from_slice(&check_failing(&env, &ca, true).stdout).unwrap();
    let groups = doc.as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        groups[0]["pods"].as_array().unwrap().len(),
        25,
        "every pod, in JSON"
    );
    assert_eq!(groups[0]["cause"]["kind"], "check");
    assert_eq!(groups[1]["cause"]["kind"], "no_credential_matches");

    // The first fix, as printed: a good token into every secret holding the login.
    let args: Vec<&str> = rotate
        .split_whitespace()
        .skip(2)
        .map(|a| a.trim_matches('\''))
        .collect();
    let mut args = args.to_vec();
    // The CA a node would have in certs.d: this machine is given it.
    args.extend(["--password-stdin", "--yes", "--registry-ca", &ca]);
    ok(&env.rhpull(&args, Some(&format!("{}\n", world::TOKEN))));
    // The second, with the login typed in rather than from podman's files.
    ok(&env.rhpull_as_world(&[
        "create",
        "--registry",
        &host,
        "--link",
        "default",
        "-n",
        "team-3",
    ]));

    let text = stdout(&check_failing(&env, &ca, false));
    assert!(
        text.contains("✓ 25 pods"),
        "rotated: the check passes now: {text}"
    );
    // The kubelet agrees: a pod just like them pulls now.
    let said = |ns: &str, pod: &str| -> Value {
        serde_json::from_slice(
            &env.rhpull(
                &[
                    "check",
                    "--pod",
                    pod,
                    "-n",
                    ns,
                    "--registry-ca",
                    &ca,
                    "-o",
                    "json",
                ],
                None,
            )
            .stdout,
        )
        .unwrap()
    };
    oracle::assert_agrees(&env, "team-1", "api-00", &said("team-1", "api-00"));
    assert!(text.contains("made before it was linked"), "{text}");
    assert!(
        text.contains("kubectl delete pod -n team-3 web-00"),
        "recreate: {text}"
    );

    // Linked, not yet made again: `--pod` and `--failing` say the same —
    // the kubelet tries the pod's own list, which predates the link.
    let doc: Value = serde_json::from_slice(&check_failing(&env, &ca, true).stdout).unwrap();
    let group = (doc.as_array().unwrap().iter())
        .find(|g| g["pods"][0]["namespace"] == "team-3")
        .expect("team-3's group");
    let pod: Value = serde_json::from_slice(
        &env.rhpull(
            &[
                "check",
                "--pod",
                "web-00",
                "-n",
                "team-3",
                "--registry-ca",
                &ca,
                "-o",
                "json",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(pod["images"][0]["tried"], group["tried"], "{pod}\n{group}");
    assert_eq!(
        group["tried"],
        json!([]),
        "the pod's own list is empty: {group}"
    );
    // The kubelet agrees: a pod just like it still fails.
    oracle::assert_agrees(&env, "team-3", "web-00", &pod);

    // Made again (as their controllers would), the pods get the secret.
    for i in 0..15 {
        let name = format!("web-{i:02}");
        let del = std::process::Command::new("kubectl")
            .args(["delete", "pod", &name, "-n", "team-3"])
            .env("KUBECONFIG", &env.emulator.kubeconfig)
            .output()
            .unwrap();
        assert!(del.status.success(), "{}", stderr(&del));
        env.kubectl_run("team-3", &name, &image);
    }
    let out = check_failing(&env, &ca, false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no cause left: {}",
        stdout(&out)
    );
    // And the kubelet ran them: the pods made again pull at once.
    env.wait_until("team-3 runs", || {
        let states = env.pod_states("team-3");
        (states.len() == 15 && states.iter().all(|(r, _)| r == "Running")).then_some(())
    });
}
