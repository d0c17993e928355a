//! `kubectl rhpull fix`: Deployments in three namespaces fail for three
//! causes — no secret at all; a secret linked after the pods were made; a
//! mirror that needs the nodes' login — and one `fix -A --yes` takes every
//! pod to Running, confirmed by the world's kubelet, as real kubectl then
//! reads. A dry run writes nothing first, and a second fix writes nothing.

use std::time::Duration;

use rhpull_e2e::env::{Env, failed, ok, registry, says, small_openshift};
use rhpull_e2e::stderr;
use rhpull_testkit::kube::Options;
use serde_json::json;

const NAMESPACES: [&str; 3] = ["nosecret", "late", "mirror"];

/// `kubectl rhpull fix --yes --registry-ca <the world's CA> ARGS`, with
/// the environment `envs`.
fn fix_with(env: &Env, envs: &[(String, String)], args: &[&str]) -> std::process::Output {
    let ca = env.ca();
    let mut all = vec!["fix", "--yes", "--registry-ca", &ca];
    all.extend(args);
    env.rhpull_with(envs, &all, None)
}

/// As [`fix_with`], in the test's own environment.
fn fix(env: &Env, args: &[&str]) -> std::process::Output {
    fix_with(env, &env.envs("C"), args)
}

/// `localhost:1/acme` mirrored to the world registry, and in `ns` a login
/// for it, linked (which CRI-O does not use for a mirror: the nodes need it).
fn mirror_to_world(env: &Env, ns: &str) {
    let host = registry().registry.host();
    env.kubectl(
        &["apply", "-f", "-"],
        Some(&json!({"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet",
                     "metadata": {"name": "acme"},
                     "spec": {"imageTagMirrors": [{"source": "localhost:1/acme", "mirrors": [format!("{host}/rhel9")]}]}})),
    );
    ok(&env.link_world_login(ns));
}

/// OpenShift 4 whose kubelets back off for `backoff`, with namespace
/// `mirror` as [`mirror_to_world`] leaves it.
fn mirrored(backoff: Duration) -> Env {
    let env = Env::pulling_with_backoff(small_openshift(), backoff, backoff);
    env.emulator.create_namespace("mirror", &[]);
    env.wait_for_service_account("mirror", "default");
    mirror_to_world(&env, "mirror");
    env
}

#[test]
fn one_fix_takes_three_causes_to_running_confirmed_by_the_kubelet() {
    let env = Env::pulling(small_openshift());
    let image = registry().image();
    for ns in NAMESPACES {
        env.emulator.create_namespace(ns, &[]);
        env.wait_for_service_account(ns, "default");
    }
    mirror_to_world(&env, "mirror");
    for ns in ["nosecret", "late"] {
        env.deploy_app(ns, &image);
    }
    env.deploy_app("mirror", "localhost:1/acme/rhpull-demo:1");
    for ns in NAMESPACES {
        env.wait_backing_off(ns);
    }
    // Linked after its pods were made: the link says so, and names `fix`.
    let linked = env.link_world_login("late");
    ok(&linked);
    says(
        &stderr(&linked),
        &[
            "1 pod failing to pull in late were made before",
            "kubectl rhpull fix -n late",
        ],
    );
    // The login `fix` finds as `check` does: the one podman stored.
    env.skopeo_login();

    let before = env.emulator.writes();
    let dry = fix(&env, &["-A", "--dry-run"]);
    assert_eq!(
        env.emulator.writes(),
        before,
        "a dry run writes nothing: {}",
        stderr(&dry)
    );

    let out = fix(&env, &["-A", "--wait", "2m", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", rhpull_e2e::stdout(&out), stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{doc:#}\n{}", stderr(&out));
    let groups = doc["groups"].as_array().expect("groups");
    let mut actions: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["fix"]["action"].as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, ["link", "mirror_login", "recreate"], "{doc:#}");
    for g in groups {
        assert_eq!(g["confirmed"], true, "{g:#}");
        assert!(
            g["pods"]
                .as_array()
                .expect("pods")
                .iter()
                .all(|p| p["kubelet"]["state"] == "pulled"),
            "{g:#}"
        );
    }
    // Real kubectl agrees: every pod runs.
    for ns in NAMESPACES {
        let pods = env.kubectl(&["get", "pods", "-n", ns], None);
        says(&pods, &["1/1", "Running"]);
        assert!(
            !pods.contains("ImagePullBackOff") && !pods.contains("ErrImagePull"),
            "{ns}: {pods}"
        );
    }
    // Nothing left to fix: nothing written.
    let after = env.emulator.writes();
    let again = ok(&fix(&env, &["-A"]));
    says(&again, &["No pod is failing to pull"]);
    assert_eq!(env.emulator.writes(), after);
}

/// A fix the user may not write is named with the missing right, and the
/// other groups still go ahead.
#[test]
fn a_refused_fix_is_named_and_the_others_go_ahead() {
    // The kubelet backs off for longer than the test: a node-wide fix
    // waits for its next try.
    let long = Duration::from_secs(300);
    let env = Env::pulling_with_backoff(Options::default(), long, long);
    let image = registry().image();
    for ns in ["nosecret", "late"] {
        env.emulator.create_namespace(ns, &[]);
        env.wait_for_service_account(ns, "default");
        env.deploy_app(ns, &image);
        env.wait_backing_off(ns);
    }
    ok(&env.link_world_login("late"));
    env.skopeo_login();
    // May read everything, ask about its rights, and delete pods in `late`
    // only: the link in `nosecret` is refused.
    let kubeconfig = env.emulator.add_user(
        "fixer-token",
        "fixer",
        vec![
            rhpull_testkit::kube::Rule::new(&["get", "list", "watch"], &["*"], &["*"], None),
            rhpull_testkit::kube::Rule::new(
                &["create"],
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews"],
                None,
            ),
            rhpull_testkit::kube::Rule::new(
                &["delete", "deletecollection"],
                &[""],
                &["pods"],
                Some(&["late"]),
            ),
        ],
    );
    let mut envs = env.envs("C");
    envs[0].1 = kubeconfig.display().to_string();
    let out = fix_with(&env, &envs, &["-A", "--wait", "60s"]);
    let said = failed(&out);
    says(
        &said,
        &[
            "not fixed",
            "you may not create secrets",
            "nosecret",
            "pulled (the kubelet",
        ],
    );
    for line in said.lines().filter(|l| l.contains("late/app-")) {
        assert!(line.contains("pulled"), "the late group went ahead: {said}");
    }
    assert!(env.pod_states("late").iter().all(|(r, _)| r == "Running"));
    assert!(
        env.pod_states("nosecret")
            .iter()
            .all(|(r, _)| r != "Running")
    );
}

/// A node-wide fix waits for the kubelet's next try: when `--wait` runs
/// out first, the pods it waited for are named and the exit is 1.
#[test]
fn a_wait_that_runs_out_names_the_pods_still_pending() {
    let env = mirrored(Duration::from_secs(300));
    env.kubectl(
        &[
            "run",
            "solo",
            "-n",
            "mirror",
            "--image",
            "localhost:1/acme/rhpull-demo:1",
            "--restart=Never",
        ],
        None,
    );
    env.wait_backing_off("mirror");
    env.skopeo_login();
    let out = fix(&env, &["-n", "mirror", "--wait", "2s"]);
    let said = failed(&out);
    says(
        &said,
        &[
            "fixed",
            "mirror/solo: no word from the kubelet yet",
            "kubectl rhpull fix --wait",
            // How long the kubelet's back-off still runs, by its events.
            "the kubelet tries these pods again by itself",
            "its back-off runs",
        ],
    );
}

/// A namespace holds a pull secret that works, linked to nothing: `check
/// --failing` and `check --pod` name it, and `fix` links it (no login of
/// the user's needed) and makes the pods again, confirmed by the kubelet.
#[test]
fn a_secret_in_the_namespace_linked_to_nothing_is_linked() {
    let env = Env::pulling(Options::default());
    env.emulator.create_namespace("orphan", &[]);
    env.wait_for_service_account("orphan", "default");
    let host = registry().registry.host();
    ok(&env.rhpull_as_world(&["create", "-n", "orphan", "--registry", &host]));
    env.deploy_app("orphan", &registry().image());
    env.wait_backing_off("orphan");
    let ca = env.ca();
    let failing = env.rhpull_json(&[
        "check",
        "--failing",
        "-n",
        "orphan",
        "--registry-ca",
        &ca,
        "-o",
        "json",
    ]);
    let group = &failing[0];
    assert_eq!(group["cause"]["kind"], "unlinked", "{failing:#}");
    assert_eq!(group["fix"]["action"], "link_secret", "{failing:#}");
    assert!(group["pods"][0]["next_try"].is_string(), "{failing:#}");
    let pod = group["pods"][0]["name"].as_str().expect("pod");
    let one = env.rhpull_json(&[
        "check",
        "--pod",
        pod,
        "-n",
        "orphan",
        "--registry-ca",
        &ca,
        "-o",
        "json",
    ]);
    assert_eq!(one["fixes"][0], group["fix"], "{one:#}");

    let out = fix(&env, &["-n", "orphan", "--wait", "2m"]);
    let said = ok(&out);
    says(
        &said,
        &["kubectl rhpull link default", "pulled (the kubelet"],
    );
    let sa = env.kubectl_json(&["get", "sa", "default", "-n", "orphan"]);
    let linked = sa["imagePullSecrets"].to_string();
    assert!(
        linked.contains(group["fix"]["secrets"][0].as_str().unwrap_or("?")),
        "{sa:#}"
    );
    assert!(env.pod_states("orphan").iter().all(|(r, _)| r == "Running"));
}

/// While `fix` waits for the kubelet: a bare pod deleted, a Deployment
/// scaled to 0, and the pods' watch cut once. Each pod is reported gone,
/// the watch is resumed, and nothing is hung on.
#[test]
fn pods_that_go_during_the_wait_are_reported_and_a_broken_watch_is_resumed() {
    let env = mirrored(Duration::from_secs(300));
    let source = "localhost:1/acme/rhpull-demo:1";
    env.kubectl(
        &[
            "run",
            "solo",
            "-n",
            "mirror",
            "--image",
            source,
            "--restart=Never",
        ],
        None,
    );
    env.deploy_app("mirror", source);
    env.wait_backing_off("mirror");
    env.skopeo_login();
    env.emulator.add_fault(rhpull_testkit::kube::Fault {
        verb: Some("watch".into()),
        resource: Some("pods".into()),
        drop_connection: true,
        ..rhpull_testkit::kube::Fault::default()
    });
    let started = std::time::Instant::now();
    let out = std::thread::scope(|s| {
        let fixing = s.spawn(|| fix(&env, &["-n", "mirror", "--wait", "60s"]));
        std::thread::sleep(Duration::from_millis(2500));
        env.kubectl(
            &["delete", "pod", "solo", "-n", "mirror", "--wait=false"],
            None,
        );
        env.kubectl(
            &[
                "patch",
                "deployment",
                "app",
                "-n",
                "mirror",
                "-p",
                r#"{"spec":{"replicas":0}}"#,
            ],
            None,
        );
        fixing.join().expect("fix")
    });
    let said = failed(&out);
    says(
        &said,
        &["mirror/solo: deleted during the wait", "mirror/app-"],
    );
    assert!(
        said.matches("deleted during the wait").count() == 2,
        "{said}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "not hung on the 60 s wait"
    );
}

/// A fix the kubelet does not confirm: the login linked cannot pull this
/// repository, the new pods fail again, and the kubelet's words and the
/// new diagnosis are both reported (exit 1).
#[test]
fn a_fix_the_kubelet_refuses_is_reported_with_its_words_and_the_new_diagnosis() {
    let env = Env::pulling(Options::default());
    let host = registry().registry.host();
    env.emulator.create_namespace("shop", &[]);
    env.wait_for_service_account("shop", "default");
    env.deploy_app("shop", &registry().image());
    env.wait_backing_off("shop");
    let login = format!(
        "{}:{}",
        rhpull_testkit::world::UNENTITLED_USERNAME,
        rhpull_testkit::world::TOKEN
    );
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, login);
    std::fs::write(
        env.authfile(),
        json!({"auths": {host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let out = fix(&env, &["-n", "shop", "--wait", "60s", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pods = doc["groups"][0]["pods"].as_array().expect("pods");
    assert!(
        pods.iter().all(|p| p["kubelet"]["state"] == "failed"),
        "{doc:#}"
    );
    assert!(
        pods[0]["kubelet"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("rpc error")),
        "{doc:#}"
    );
    assert!(
        !doc["after"].as_array().expect("after").is_empty(),
        "the new diagnosis: {doc:#}"
    );
}

/// Across contexts as `check --failing` is: each cluster diagnosed, fixed
/// and followed with its own client, the report keyed by context.
#[test]
fn fix_runs_in_every_context() {
    let first = Env::pulling(Options::default());
    let second = Env::pulling(Options::default());
    let kubeconfig = first.home.path().join("two-clusters");
    let file = rhpull_testkit::kube::kubeconfig::KubeconfigFile::default();
    let file = first.emulator.kubeconfig_entries(file, "one", "one", None);
    let file = second.emulator.kubeconfig_entries(file, "two", "two", None);
    file.write(&kubeconfig).expect("kubeconfig");
    for env in [&first, &second] {
        env.emulator.create_namespace("shop", &[]);
        env.wait_for_service_account("shop", "default");
        env.deploy_app("shop", &registry().image());
        env.wait_backing_off("shop");
    }
    first.skopeo_login();
    let mut envs = first.envs("C");
    envs[0].1 = kubeconfig.display().to_string();
    let out = fix_with(
        &first,
        &envs,
        &["-n", "shop", "--contexts", "one,two", "-o", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        rhpull_e2e::stdout(&out),
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for context in ["one", "two"] {
        let text = doc.to_string();
        assert!(
            text.contains(&format!("\"{context}\"")),
            "{context} in {doc:#}"
        );
    }
    for env in [&first, &second] {
        assert!(env.pod_states("shop").iter().all(|(r, _)| r == "Running"));
    }
}
