//! The world's nodes pull for real: workloads made with real kubectl are
//! scheduled, their images pulled by each node's kubelet through the real
//! `skopeo` with the credentials the kubelet would hand CRI-O, and their
//! statuses and events worded as the kubelet words them. Real
//! `kubectl rollout status`, `rollout restart`, `describe` and `get`
//! read the result.

use rhpull_e2e::env::{Env, ok, registry, says};
use rhpull_testkit::kube::Options;
use serde_json::json;

const NS: &str = "shop";

fn kubernetes() -> Env {
    let env = Env::pulling(Options::default());
    env.emulator.create_namespace(NS, &[]);
    env.wait_for_service_account(NS, "default");
    env
}

fn image() -> String {
    registry().image()
}

/// Every pod of the namespace in `reason` (`"Running"` for running).
fn all_in(env: &Env, reason: &str, pods: usize) -> Vec<(String, String)> {
    env.wait_until(&format!("{pods} pod(s) {reason}"), || {
        let states = env.pod_states(NS);
        (states.len() == pods && states.iter().all(|(r, _)| r == reason)).then_some(states)
    })
}

/// `kubectl rollout status WHAT` until it is done (60 s at most).
fn rolled_out(env: &Env, what: &str) -> String {
    env.kubectl(
        &["rollout", "status", what, "-n", NS, "--timeout=60s"],
        None,
    )
}

fn events(env: &Env) -> String {
    env.kubectl(
        &[
            "get",
            "events",
            "-n",
            NS,
            "-o",
            "custom-columns=REASON:.reason,MESSAGE:.message",
        ],
        None,
    )
}

#[test]
fn a_deployment_backs_off_on_its_own_then_runs_once_linked_and_restarted() {
    let env = kubernetes();
    let image = image();
    // `kubectl get pods -w`, as a person watches it.
    let mut watching = std::process::Command::new("kubectl")
        .args(["get", "pods", "-n", NS, "-w"])
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("kubectl get pods -w");
    env.kubectl(
        &[
            "create",
            "deployment",
            "web",
            "-n",
            NS,
            "--image",
            &image,
            "--replicas=2",
        ],
        None,
    );
    let states = all_in(&env, "ImagePullBackOff", 2);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = watching.kill();
    let watched = rhpull_e2e::stdout(&watching.wait_with_output().expect("watch output"));
    says(
        &watched,
        &[
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "0/1",
            "ErrImagePull",
            "ImagePullBackOff",
        ],
    );
    // The pods go on failing and backing off, in turn (the back-off is short here).
    let listed = env.kubectl(&["get", "pods", "-n", NS], None);
    says(
        &listed,
        &["NAME", "READY", "STATUS", "RESTARTS", "AGE", "0/1"],
    );
    assert!(
        listed.contains("ImagePullBackOff") || listed.contains("ErrImagePull"),
        "{listed}"
    );
    let (_, message) = &states[0];
    says(
        message,
        &[&format!(
            "Back-off pulling image \"{image}\": ErrImagePull: rpc error: code = Unknown desc = "
        )],
    );
    says(
        &events(&env),
        &[
            "Scheduled",
            "Successfully assigned shop/web-",
            "Pulling",
            &format!("Pulling image \"{image}\""),
            &format!("Failed to pull image \"{image}\": rpc error"),
            "Error: ErrImagePull",
            "BackOff",
            "Error: ImagePullBackOff",
        ],
    );
    let pod = env.pods(NS)[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    says(
        &env.kubectl(&["describe", "pod", "-n", NS, &pod], None),
        &["ImagePullBackOff", "Back-off pulling image"],
    );
    // What rhpull says of them agrees with what the kubelet met.
    let ca = env.ca();
    let failing = env.rhpull(
        &[
            "check",
            "--failing",
            "-n",
            NS,
            "--registry-ca",
            &ca,
            "-o",
            "json",
        ],
        None,
    );
    let doc: serde_json::Value = serde_json::from_slice(&failing.stdout).expect("json");
    assert!(doc.to_string().contains("web-"), "{doc}");

    // Link a login: the pods made before it still fail; made again, they run.
    ok(&env.link_world_login(NS));
    assert!(env.pod_states(NS).iter().all(|(r, _)| r != "Running"));
    env.kubectl(&["rollout", "restart", "deployment/web", "-n", NS], None);
    let out = rolled_out(&env, "deployment/web");
    says(&out, &["successfully rolled out"]);
    all_in(&env, "Running", 2);
    says(
        &env.kubectl(&["get", "pods", "-n", NS], None),
        &["1/1     Running"],
    );
    says(
        &env.kubectl(&["get", "deployment", "web", "-n", NS], None),
        &["READY   UP-TO-DATE   AVAILABLE", "2/2     2            2"],
    );
    says(
        &events(&env),
        &[&format!("Successfully pulled image \"{image}\" in ")],
    );
    let node = env.kubectl_json(&["get", "node", "node-1"]);
    assert!(
        node["status"]["images"].to_string().contains(&image),
        "{node}"
    );
    let ready = env.kubectl(
        &[
            "get",
            "deployment",
            "web",
            "-n",
            NS,
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
        None,
    );
    assert_eq!(ready, "2");
}

#[test]
fn a_registry_outside_the_world_is_refused_at_the_proxy_and_nothing_leaves_loopback() {
    let env = kubernetes();
    env.kubectl(
        &[
            "run",
            "ubi",
            "-n",
            NS,
            "--image",
            "registry.redhat.io/ubi9/ubi:9.4",
            "--restart=Never",
        ],
        None,
    );
    let states = all_in(&env, "ImagePullBackOff", 1);
    says(
        &states[0].1,
        &["pinging container registry registry.redhat.io", "Forbidden"],
    );
    let refused = env.emulator.refused_egress();
    assert!(
        !refused.is_empty() && refused.iter().all(|r| r == "registry.redhat.io:443"),
        "{refused:?}"
    );
}

#[test]
fn a_missing_pull_secret_is_warned_about_and_the_pull_goes_on() {
    let env = kubernetes();
    let image = image();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": NS},
        "spec": {"imagePullSecrets": [{"name": "gone"}], "containers": [{"name": "app", "image": image}]}});
    env.kubectl(&["create", "-f", "-"], Some(&pod));
    all_in(&env, "ImagePullBackOff", 1);
    says(
        &events(&env),
        &[
            "FailedToRetrieveImagePullSecret",
            "Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.",
            "Failed to pull image",
        ],
    );
}

/// A registry that takes the connection and never answers: the pull is
/// cut at the world's bound, and the pod says so in the runtime's words.
#[test]
fn a_pull_that_hangs_is_bounded_and_reported() {
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = tarpit.local_addr().expect("addr").port();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        tarpit.set_nonblocking(true).expect("nonblocking");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < until && !stop.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((s, _)) = tarpit.accept() {
                held.push(s);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let mut pulling =
        rhpull_testkit::kube::kubelet::types::Pulling::new(registry().registry.cert_dir.clone())
            .with_backoff(
                std::time::Duration::from_secs(60),
                std::time::Duration::from_secs(60),
            );
    pulling.timeout = std::time::Duration::from_secs(2);
    let env = Env::start(Options {
        kubelets: Some(pulling),
        ..Options::default()
    });
    env.emulator.create_namespace(NS, &[]);
    env.wait_for_service_account(NS, "default");
    let image = format!("127.0.0.1:{port}/stuck/app:1");
    env.kubectl(
        &[
            "run",
            "stuck",
            "-n",
            NS,
            "--image",
            &image,
            "--restart=Never",
        ],
        None,
    );
    let states = all_in(&env, "ImagePullBackOff", 1);
    says(&states[0].1, &["ErrImagePull", "context deadline exceeded"]);
    drop(env);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    holder.join().expect("tarpit");
}

/// StatefulSet and DaemonSet pods too, rolled out and restarted with real
/// kubectl; a deleted pod of a Deployment is made again; read back with
/// the oldest and newest kubectl.
#[test]
fn statefulsets_daemonsets_and_deleted_pods_behave_as_on_a_cluster() {
    let env = kubernetes();
    let image = image();
    ok(&env.link_world_login(NS));
    let template = json!({"metadata": {"labels": {"app": "db"}},
                          "spec": {"containers": [{"name": "db", "image": image}]}});
    env.kubectl(
        &["apply", "-f", "-"],
        Some(&json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS},
                     "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                              "template": template}})),
    );
    let mut agent = template.clone();
    agent["metadata"]["labels"] = json!({"app": "agent"});
    env.kubectl(
        &["apply", "-f", "-"],
        Some(&json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NS},
                     "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": agent}})),
    );
    says(
        &rolled_out(&env, "statefulset/db"),
        // The API server defaults `rollingUpdate.partition: 0`, so kubectl
        // speaks of a partitioned roll-out, as on a real cluster.
        &["partitioned roll out complete: 2 new pods have been updated"],
    );
    says(
        &rolled_out(&env, "daemonset/agent"),
        &["daemon set \"agent\" successfully rolled out"],
    );
    for bin in rhpull_e2e::kubectls() {
        let out = env.kubectl_at(&bin, &["get", "pods", "-n", NS, "-o", "name"]);
        let names = rhpull_e2e::stdout(&out);
        assert!(
            names.contains("pod/db-0")
                && names.contains("pod/db-1")
                && names.contains("pod/agent-"),
            "{}: {names}",
            bin.display()
        );
    }
    env.kubectl(&["rollout", "restart", "statefulset/db", "-n", NS], None);
    says(
        &rolled_out(&env, "statefulset/db"),
        &["partitioned roll out complete: 2 new pods have been updated"],
    );

    env.kubectl(
        &["create", "deployment", "web", "-n", NS, "--image", &image],
        None,
    );
    rolled_out(&env, "deployment/web");
    let web = |env: &Env| -> Vec<String> {
        env.pods(NS)
            .iter()
            .filter_map(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .filter(|n| n.starts_with("web-"))
                    .map(str::to_string)
            })
            .collect()
    };
    let before = web(&env);
    assert_eq!(before.len(), 1, "{before:?}");
    env.kubectl(&["delete", "pod", &before[0], "-n", NS], None);
    let again = env.wait_until("the ReplicaSet makes the pod again", || {
        let now = web(&env);
        (now.len() == 1 && now[0] != before[0]).then_some(now)
    });
    rolled_out(&env, "deployment/web");
    assert_ne!(again, before);
    env.kubectl(&["delete", "deployment", "web", "-n", NS], None);
    env.wait_until("the Deployment's pods go with it", || {
        web(&env).is_empty().then_some(())
    });
}

/// KEP-2535 on the world's node (1.35's default policy): a copy the
/// kubelet pulled with a pod secret's login is not used by a pod without
/// that login — same user, other token — which must pull, and fails.
#[test]
fn a_copy_pulled_with_a_secret_is_not_lent_to_a_pod_without_that_login() {
    let env = kubernetes();
    let image = image();
    let host = registry().registry.host();
    let secret = |name: &str, token: &str| {
        let auth = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{token}", rhpull_testkit::world::USERNAME),
        );
        let config = json!({"auths": {host.clone(): {"auth": auth}}}).to_string();
        env.emulator.put(
            "Secret",
            NS,
            json!({"metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
                   "data": {".dockerconfigjson": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, config)}}),
        );
    };
    secret("good", rhpull_testkit::world::TOKEN);
    secret("stale", "eyJ.stale.token");
    let pod = |name: &str, pull: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
               "spec": {"imagePullSecrets": [{"name": pull}], "containers": [{"name": "app", "image": image}]}})
    };
    env.kubectl(&["create", "-f", "-"], Some(&pod("first", "good")));
    all_in(&env, "Running", 1);
    env.kubectl(&["create", "-f", "-"], Some(&pod("second", "stale")));
    env.wait_until("second backs off", || {
        let p = env.emulator.get("Pod", NS, "second")?;
        (p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff")
            .then_some(())
    });
    let second = env
        .emulator
        .pulls()
        .into_iter()
        .find(|p| p.pod == "second")
        .expect("a pull");
    assert!(!second.cached && second.error.is_some(), "{second:?}");
}

/// A pull secret the kubelet cannot use: one of another type is passed
/// over without a word and the pull goes on; one whose `auth` is not
/// base64(`user:password`) stops the pull with the decoding error
/// (`MakeDockerKeyring` returns it), as the kubelet's source does.
#[test]
fn unusable_pull_secrets_are_handled_as_the_kubelet_handles_them() {
    let env = kubernetes();
    let image = image();
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let host = registry().registry.host();
    env.emulator.put(
        "Secret",
        NS,
        json!({"metadata": {"name": "opaque"}, "type": "Opaque",
               "data": {".dockerconfigjson": b64(&json!({"auths": {host.clone(): {"auth": b64("u:p")}}}).to_string())}}),
    );
    env.emulator.put(
        "Secret",
        NS,
        json!({"metadata": {"name": "garbled"}, "type": "kubernetes.io/dockerconfigjson",
               "data": {".dockerconfigjson": b64(&json!({"auths": {host.clone(): {"auth": "%%%"}}}).to_string())}}),
    );
    for (name, secret) in [("with-opaque", "opaque"), ("with-garbled", "garbled")] {
        env.kubectl(
            &["create", "-f", "-"],
            Some(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
                         "spec": {"imagePullSecrets": [{"name": secret}], "containers": [{"name": "app", "image": image}]}})),
        );
    }
    all_in(&env, "ImagePullBackOff", 2);
    let pulls = env.emulator.pulls();
    let error_of = |pod: &str| {
        pulls
            .iter()
            .find(|p| p.pod == pod)
            .and_then(|p| p.error.clone())
            .unwrap_or_default()
    };
    // Passed over: the pull went to the registry, anonymously.
    says(&error_of("with-opaque"), &["rpc error", "unauthorized"]);
    // Stopped before the registry: the secret's own error.
    says(&error_of("with-garbled"), &["illegal base64 data"]);
    assert!(
        !error_of("with-garbled").contains("rpc error"),
        "{}",
        error_of("with-garbled")
    );
}
