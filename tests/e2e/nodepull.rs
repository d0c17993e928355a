//! How a node really pulls (OpenShift 4), set up with real kubectl:
//! mirror sets tried before the source with the node's own logins only;
//! a CRIOCredentialProviderConfig and the service account's right to list
//! secrets; NeverContactSource; the cluster's image policy; a copy cached
//! on the node under each kubelet verification policy, and a configz the
//! viewer may not read; `--recreate` deleting the owned pod and keeping
//! the bare one. `check --pod` and `check --failing` are run on the same
//! pods at each step and must say the same thing, and the same as the
//! world's kubelet does with a pod just like each (`oracle`): the pods
//! fail and back off because the world's nodes really pull them. What
//! rhpull changed is read back with real kubectl, oldest and newest too.
//!
//! The source `localhost:1/acme` is a closed port, so only the mirror (the
//! world's registry, `127.0.0.1:PORT/rhel9`) can serve the image.

use std::process::Output;
use std::time::Duration;

use rhpull_e2e::env::{Env, failed, ok, registry, says, small_openshift};
use rhpull_e2e::oracle;
use rhpull_e2e::{kubectls, stderr, stdout};
use rhpull_testkit::kube::VIEWER_TOKEN;
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use serde_json::{Value, json};

const NS: &str = "shop";
/// Served only through the mirror below.
const SOURCE_IMAGE: &str = "localhost:1/acme/rhpull-demo:1";

/// OpenShift 4 with one master and one worker (`worker-0`), namespace
/// `shop` and its `default` service account.
fn openshift() -> Env {
    // The kubelet backs off for longer than a test runs: a pod that failed
    // stays failing while rhpull is asked about it, and what the kubelet
    // would do next is asked of a probe (`oracle`).
    let long = Duration::from_secs(300);
    let env = Env::pulling_with_backoff(small_openshift(), long, long);
    env.emulator.create_namespace(NS, &[]);
    env.wait_for_service_account(NS, "default");
    env
}

/// The world registry's `rhel9`, where `localhost:1/acme` is mirrored.
fn mirror() -> String {
    format!("{}/rhel9", registry().registry.host())
}

fn apply(env: &Env, manifest: &Value) {
    env.kubectl(&["apply", "-f", "-"], Some(manifest));
}

/// An ImageTagMirrorSet sending `localhost:1/acme` to the world registry.
fn tag_mirrors(env: &Env, policy: Option<&str>) {
    let mut entry = json!({"source": "localhost:1/acme", "mirrors": [mirror()]});
    if let Some(p) = policy {
        entry["mirrorSourcePolicy"] = json!(p);
    }
    apply(
        env,
        &json!({"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet",
                "metadata": {"name": "acme"}, "spec": {"imageTagMirrors": [entry]}}),
    );
}

/// A pod on `worker-0` made with real kubectl (a ReplicaSet's, when
/// `owned`), once the world's kubelet has failed to pull it and backs off.
fn failing_pod(env: &Env, name: &str, image: &str, owned: bool) {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"nodeName": "worker-0", "containers": [{"name": "app", "image": image}]}});
    if owned {
        pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": format!("{name}-5d8f"), "uid": "3f1c2a8e-0000-4000-8000-00000000000a",
            "controller": true}]);
    }
    env.kubectl(&["create", "-f", "-"], Some(&pod));
    env.wait_until(&format!("{name} backs off"), || {
        let p = env.emulator.get("Pod", NS, name)?;
        (p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff")
            .then_some(())
    });
}

fn check_pod(env: &Env, pod: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--pod", pod, "-n", NS, "--registry-ca"];
    let ca = env.ca();
    args.push(&ca);
    args.extend(extra);
    env.rhpull(&args, None)
}

fn check_failing(env: &Env, extra: &[&str]) -> Output {
    let ca = env.ca();
    let mut args = vec!["check", "--failing", "-n", NS, "--registry-ca", &ca];
    args.extend(extra);
    env.rhpull(&args, None)
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// `check --failing -o json`'s groups, with or without `--recreate`.
fn groups(doc: &Value) -> Vec<Value> {
    doc.as_array()
        .or_else(|| doc["groups"].as_array())
        .cloned()
        .unwrap_or_else(|| panic!("groups in {doc}"))
}

/// Runs `check --pod` on every pod `check --failing` lists and asserts
/// they agree on what the node tries and what it meets; returns the
/// groups.
fn both_agree(env: &Env) -> Vec<Value> {
    let groups = groups(&json_of(&check_failing(env, &["-o", "json"])));
    assert!(!groups.is_empty(), "no failing pods");
    for g in &groups {
        for p in g["pods"].as_array().expect("pods") {
            let name = p["name"].as_str().expect("name");
            let pod = json_of(&check_pod(env, name, &["-o", "json"]));
            let image = (pod["images"].as_array().expect("images").iter())
                .find(|i| i["image"] == g["image"])
                .unwrap_or_else(|| panic!("{} in {pod}", g["image"]));
            for field in ["tried", "served_by", "refused", "blocked"] {
                assert_eq!(
                    image[field], g[field],
                    "{name}: --pod and --failing differ on {field}:\n{pod}\n{g}"
                );
            }
            assert_eq!(
                image["passed"].as_bool(),
                Some(g["cause"].is_null()),
                "{name}: --pod and --failing differ on passing:\n{pod}\n{g}"
            );
            let mirrors: Vec<&Value> = (image["attempts"].as_array().into_iter().flatten())
                .filter(|a| a["mirror"] == true)
                .map(|a| &a["endpoint"])
                .collect();
            let listed: Vec<&Value> = g["mirrors"].as_array().into_iter().flatten().collect();
            assert!(
                mirrors.iter().all(|m| listed.contains(m)),
                "{name}: --pod checked mirrors {mirrors:?} that --failing does not list {listed:?}"
            );
            // The same remedy: `--pod` is a group of one on the same path.
            let at = (pod["images"].as_array().expect("images").iter())
                .position(|i| i["image"] == g["image"])
                .expect("the group's image");
            assert_eq!(
                pod["fixes"][at], g["fix"],
                "{name}: --pod and --failing differ on the fix"
            );
            // And the kubelet, asked with a pod just like it, does that.
            oracle::assert_agrees(env, NS, name, &pod);
        }
    }
    groups
}

/// `check --pod` says the node pulls from the mirror, and `--failing`
/// agrees that the group passes; its groups.
fn pulls_from_the_mirror(env: &Env, pod: &str) -> Vec<Value> {
    let said = ok(&check_pod(env, pod, &[]));
    let served = format!("the node pulls from the mirror {}/rhpull-demo:1", mirror());
    says(&said, &[&served]);
    let groups = both_agree(env);
    assert!(groups[0]["cause"].is_null(), "{}", groups[0]);
    groups
}

/// `global set <world registry> --wait` with the world's token.
fn global_set_world(env: &Env) {
    let host = registry().registry.host();
    ok(&env.rhpull_as_world(&["global", "set", &host, "--yes", "--wait"]));
}

#[test]
fn a_mirror_serves_with_the_nodes_login_only_and_recreate_keeps_bare_pods() {
    let env = openshift();
    let host = registry().registry.host();
    tag_mirrors(&env, None);
    // The login is in the namespace only, linked as a pod's would be.
    ok(&env.rhpull_as_world(&["create", "--registry", &host, "--link", "default", "-n", NS]));
    failing_pod(&env, "web", SOURCE_IMAGE, true);
    failing_pod(&env, "solo", SOURCE_IMAGE, false);

    // Step 1: CRI-O asks the mirror with the node's credentials, which
    // have no login for it; the namespace's login is not used there.
    let said = failed(&check_pod(&env, "web", &[]));
    let route = format!(
        "the node tries the mirrors {}/rhpull-demo:1 with its own credentials, then {SOURCE_IMAGE}",
        mirror()
    );
    says(
        &said,
        &[
            &route,
            "CRI-O does not use a pod's secrets for a mirror",
            &format!("kubectl rhpull global set {host}"),
        ],
    );
    let groups = both_agree(&env);
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["reason"], "MirrorLoginNotUsed", "{}", groups[0]);
    assert_eq!(groups[0]["fix"]["action"], "mirror_login");
    assert_eq!(groups[0]["fix"]["mirror"], host.as_str());
    let text = failed(&check_failing(&env, &[]));
    says(
        &text,
        &[
            "2 pods failing to pull, in 1 group",
            &format!("kubectl rhpull global set {host} --from-podman"),
            "doubling to at most 5 min",
            "by the kubelet's events its next try is due within",
        ],
    );

    // Step 2: the fix as printed, followed to the node.
    global_set_world(&env);
    let groups = pulls_from_the_mirror(&env, "web");
    assert_eq!(
        groups[0]["served_by"],
        format!("{}/rhpull-demo:1", mirror())
    );

    // Step 3: make them again. The owned pod is deleted for its
    // ReplicaSet; the bare one is left, with how to do it by hand.
    let dry = ok(&check_failing(
        &env,
        &["--recreate", "--yes", "--dry-run=client"],
    ));
    says(&dry, &["pod/web deleted in shop", "recreate by hand"]);
    assert!(
        env.emulator.get("Pod", NS, "web").is_some(),
        "a dry run deletes nothing"
    );
    let done = ok(&check_failing(&env, &["--recreate", "--yes"]));
    says(
        &done,
        &[
            "pod/web deleted in shop: ReplicaSet/web-5d8f makes it again",
            "recreate by hand",
            "kubectl get pod solo -n shop -o yaml > solo.yaml",
        ],
    );
    for bin in kubectls() {
        let out = env.kubectl_at(&bin, &["get", "pods", "-n", NS, "-o", "name"]);
        assert!(out.status.success(), "{}: {}", bin.display(), stderr(&out));
        assert_eq!(stdout(&out).trim(), "pod/solo", "{}", bin.display());
    }
}

#[test]
fn a_credential_provider_needs_the_service_account_to_list_secrets() {
    let env = openshift();
    let host = registry().registry.host();
    tag_mirrors(&env, None);
    apply(
        &env,
        &json!({"apiVersion": "config.openshift.io/v1alpha1", "kind": "CRIOCredentialProviderConfig",
                "metadata": {"name": "cluster"}, "spec": {"matchImages": ["localhost:1/acme"]}}),
    );
    // The provider lists any dockerconfigjson secret of the namespace: no link needed.
    ok(&env.rhpull_as_world(&["create", "--registry", &host, "-n", NS]));
    failing_pod(&env, "api", SOURCE_IMAGE, true);

    let said = failed(&check_pod(&env, "api", &[]));
    says(
        &said,
        &[
            "the pod's service account may not list secrets here",
            "kubectl create role pull-secret-reader --verb=list --resource=secrets -n shop",
        ],
    );
    let groups = both_agree(&env);
    assert_eq!(groups[0]["reason"], "MirrorLoginNotUsed", "{}", groups[0]);
    assert_eq!(groups[0]["fix"]["action"], "provider_rbac");

    // The fix as printed, run with real kubectl.
    env.kubectl(
        &[
            "create",
            "role",
            "pull-secret-reader",
            "--verb=list",
            "--resource=secrets",
            "-n",
            NS,
        ],
        None,
    );
    env.kubectl(
        &[
            "create",
            "rolebinding",
            "pull-secret-reader",
            "--role=pull-secret-reader",
            "--serviceaccount=shop:default",
            "-n",
            NS,
        ],
        None,
    );
    pulls_from_the_mirror(&env, "api");
}

#[test]
fn never_contact_source_and_the_image_policy_are_named_never_as_a_login() {
    let env = openshift();
    tag_mirrors(&env, Some("NeverContactSource"));
    failing_pod(&env, "web", SOURCE_IMAGE, true);
    let said = failed(&check_pod(&env, "web", &[]));
    says(
        &said,
        &[
            &format!(
                "- {SOURCE_IMAGE} is not contacted: the mirror sets of localhost:1/acme say mirrorSourcePolicy: NeverContactSource"
            ),
            "and never localhost:1/acme/rhpull-demo:1 itself",
        ],
    );
    let doc = json_of(&check_pod(&env, "web", &["-o", "json"]));
    let endpoints: Vec<&Value> = (doc["images"][0]["attempts"]
        .as_array()
        .into_iter()
        .flatten())
    .map(|a| &a["endpoint"])
    .collect();
    assert!(
        !endpoints.iter().any(|e| *e == SOURCE_IMAGE),
        "the source is never asked: {endpoints:?}"
    );
    both_agree(&env);

    // A registry the cluster blocks: whatever the login, nothing is asked.
    let host = registry().registry.host();
    ok(&env.rhpull_as_world(&["create", "--registry", &host, "--link", "default", "-n", NS]));
    env.kubectl(
        &[
            "patch",
            "image.config.openshift.io",
            "cluster",
            "--type=merge",
            "-p",
            &json!({"spec": {"registrySources": {"blockedRegistries": [host]}}}).to_string(),
        ],
        None,
    );
    failing_pod(&env, "direct", &registry().image(), true);
    says(
        &env.emulator
            .pulls()
            .iter()
            .rev()
            .find(|p| p.pod == "direct")
            .and_then(|p| p.error.clone())
            .unwrap_or_default(),
        &[&format!("registry {host} is blocked in")],
    );
    let said = failed(&check_pod(&env, "direct", &[]));
    says(
        &said,
        &[&format!(
            "the cluster's image policy blocks {}: images.config.openshift.io/cluster spec.registrySources.blockedRegistries has {host}",
            registry().image()
        )],
    );
    assert!(!said.contains("rhpull create"), "never a login: {said}");
    let groups = both_agree(&env);
    let direct = (groups.iter())
        .find(|g| g["image"] == registry().image().as_str())
        .expect("the blocked image's group");
    assert_eq!(direct["reason"], "ImagePolicyRefused");
    assert_eq!(direct["fix"]["action"], "image_policy");
    assert_eq!(direct["fix"]["field"], "blockedRegistries");

    // Allowed registries that do not name it refuse it too.
    env.kubectl(&[
            "patch",
            "image.config.openshift.io",
            "cluster",
            "--type=merge",
            "-p",
            r#"{"spec": {"registrySources": {"blockedRegistries": null, "allowedRegistries": ["quay.io"]}}}"#,
        ],
        None,
    );
    let said = failed(&check_pod(&env, "direct", &[]));
    says(
        &said,
        &["spec.registrySources.allowedRegistries does not name its registry"],
    );
}

/// Marks `image` as held by `worker-0`, as its kubelet reports it, with
/// real kubectl through the status subresource.
fn cache_on_worker(env: &Env, image: &str) {
    let patch = json!({"status": {"images": [{"names": [image], "sizeBytes": 1024}]}});
    env.kubectl(
        &[
            "patch",
            "node",
            "worker-0",
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ],
        None,
    );
}

#[test]
fn a_cached_copy_is_judged_by_the_nodes_verification_policy() {
    let env = openshift();
    let image = registry().image();
    // No login anywhere: the pull fails, whatever the node holds.
    failing_pod(&env, "web", &image, true);
    cache_on_worker(&env, &image);
    for bin in kubectls() {
        let out = env.kubectl_at(
            &bin,
            &[
                "get",
                "node",
                "worker-0",
                "-o",
                "jsonpath={.status.images[0].names[0]}",
            ],
        );
        assert_eq!(stdout(&out), image, "{}: {}", bin.display(), stderr(&out));
    }

    // Kubernetes 1.35's defaults: the gate on, NeverVerifyPreloadedImages.
    let said = failed(&check_pod(&env, "web", &[]));
    says(
        &said,
        &["re-verifies credentials (NeverVerifyPreloadedImages)"],
    );

    env.emulator.set_kubelet_config(
        "worker-0",
        &json!({"imagePullCredentialsVerificationPolicy": "AlwaysVerify"}),
    );
    let said = failed(&check_pod(&env, "web", &[]));
    says(&said, &["re-verifies credentials (AlwaysVerify)"]);
    let groups = both_agree(&env);
    assert_eq!(groups[0]["cache"]["verification"]["policy"], "AlwaysVerify");

    env.emulator.set_kubelet_config(
        "worker-0",
        &json!({"imagePullCredentialsVerificationPolicy": "NeverVerify"}),
    );
    // Still exit 1: the credentials fail, and another node has no copy.
    let said = failed(&check_pod(&env, "web", &[]));
    says(
        &said,
        &[
            "does not re-verify credentials (imagePullCredentialsVerificationPolicy: NeverVerify): the pod starts from that copy there, and fails on a node without it",
        ],
    );
    both_agree(&env);

    // The viewer may not read a node's configz: what is unknown, and why.
    let viewer = env.home.path().join("viewer-kubeconfig");
    KubeconfigFile::default()
        .cluster("c", &env.emulator.url(), env.emulator.ca_pem())
        .context("viewer", "c", "viewer", VIEWER_TOKEN, NS)
        .write(&viewer)
        .expect("kubeconfig");
    let mut envs = env.envs("C");
    envs[0].1 = viewer.display().to_string();
    let ca = env.ca();
    let out = env.rhpull_with(
        &envs,
        &[
            "check",
            "--pod",
            "web",
            "--context",
            "viewer",
            "--registry-ca",
            &ca,
        ],
        None,
    );
    let said = failed(&out);
    says(
        &said,
        &[
            "whether its kubelet re-verifies credentials for it is unknown",
            "needs get nodes/proxy, which you do not have",
        ],
    );
}

/// A path-scoped key the node has not got yet (its pool is paused): the
/// kubelet fails, and `check --pod` and `check --failing` agree that the
/// rollout is the fix, not the global pull secret.
#[test]
fn a_path_scoped_key_a_node_has_not_got_yet_is_a_rollout_to_wait_for() {
    let env = openshift();
    let host = registry().registry.host();
    env.kubectl(
        &[
            "patch",
            "mcp",
            "worker",
            "--type=merge",
            "-p",
            r#"{"spec":{"paused":true}}"#,
        ],
        None,
    );
    let key = format!("{host}/rhel9");
    ok(&env.rhpull_as_world(&["global", "set", &key, "--yes"]));
    failing_pod(&env, "web", &registry().image(), true);
    let said = failed(&check_pod(&env, "web", &[]));
    says(&said, &["it pulls once the rollout reaches it"]);
    assert!(!said.contains("global set"), "{said}");
    let groups = both_agree(&env);
    assert_eq!(
        groups[0]["fix"]["action"], "wait_for_rollout",
        "{}",
        groups[0]
    );
}
