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
    ok(&env.rhpull_as_world(&[
        "create",
        "-n",
        NS,
        "--registry",
        &registry().registry.host(),
        "--link",
        "default",
    ]));
    assert!(env.pod_states(NS).iter().all(|(r, _)| r != "Running"));
    env.kubectl(&["rollout", "restart", "deployment/web", "-n", NS], None);
    let out = env.kubectl(
        &[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            NS,
            "--timeout=60s",
        ],
        None,
    );
    says(&out, &["successfully rolled out"]);
    all_in(&env, "Running", 2);
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
