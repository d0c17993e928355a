//! `check --failing`: forty pods in three namespaces that cannot pull, for
//! two reasons (a revoked token; no link at all), beside five healthy ones.
//! Two groups with the right counts, one token request each, the fixes it
//! prints work when run, and pods made before their service account's link
//! are named with "recreate".

use base64::Engine as _;
use rhpull_e2e::env::{Env, ok};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::world::{self, RegistryWorld};
use serde_json::{Value, json};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A pod as the admission plugin leaves it, then its status and event as
/// the kubelet reports a failed pull.
fn failing_pod(env: &Env, ns: &str, name: &str, image: &str, secrets: &[&str], reason: &str) {
    let pull: Vec<Value> = secrets.iter().map(|s| json!({"name": s})).collect();
    // Each made by a ReplicaSet, which makes it again when it is deleted.
    let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{ns}-rs"),
                        "uid": "3f1c2a8e-0000-4000-8000-000000000001", "controller": true}]);
    env.emulator.put(
        "Pod",
        ns,
        json!({"metadata": {"name": name, "ownerReferences": owner},
               "spec": {"serviceAccountName": "default",
               "imagePullSecrets": pull, "containers": [{"name": "app", "image": image}]}}),
    );
    env.emulator.set_pod_status(
        ns,
        name,
        json!({"phase": "Pending", "containerStatuses": [{"name": "app", "image": image, "imageID": "",
               "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}]}),
    );
    let message =
        format!("Failed to pull image \"{image}\": unauthorized: authentication required");
    env.emulator
        .add_pod_event(ns, name, "Warning", "Failed", &message);
}

fn healthy_pod(env: &Env, ns: &str, name: &str, image: &str) {
    env.emulator.put(
        "Pod",
        ns,
        json!({"metadata": {"name": name}, "spec": {"serviceAccountName": "default",
               "containers": [{"name": "app", "image": image}]}}),
    );
    env.emulator.set_pod_status(
        ns,
        name,
        json!({"phase": "Running", "containerStatuses": [{"name": "app", "image": image, "imageID": "x",
               "ready": true, "restartCount": 0, "state": {"running": {}}}]}),
    );
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
    let env = Env::start(Options::default());
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
    for i in 0..25 {
        let (ns, reason) = if i % 2 == 0 {
            ("team-1", "ImagePullBackOff")
        } else {
            ("team-2", "ErrImagePull")
        };
        failing_pod(
            &env,
            ns,
            &format!("api-{i:02}"),
            &image,
            &["revoked"],
            reason,
        );
    }
    for i in 0..15 {
        failing_pod(
            &env,
            "team-3",
            &format!("web-{i:02}"),
            &image,
            &[],
            "ImagePullBackOff",
        );
    }
    for i in 0..5 {
        healthy_pod(
            &env,
            "team-1",
            &format!("ok-{i}"),
            "registry.access.redhat.com/ubi9/ubi:latest",
        );
    }

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
        text.contains("unauthorized: authentication required"),
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
}
