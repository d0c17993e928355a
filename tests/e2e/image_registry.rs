//! Pulls from OpenShift's integrated registry across projects. The
//! world's registry decides as openshift/image-registry does (the token's
//! service account, and RBAC's `get imagestreams/layers` in the image's
//! project), and its nodes pull for real through the registry's Service
//! name: a project pulls its own images, and another's only once granted
//! `system:image-puller` there. `check --failing` names the grant, and
//! one `fix` makes it and follows the pods to Running, as the kubelet
//! reports and real kubectl reads.

use std::time::Duration;

use rhpull_e2e::env::{Env, failed, ok, says, small_openshift};
use rhpull_e2e::{kubectls, stderr, stdout};
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::{Options, VIEWER_TOKEN};
use serde_json::{Value, json};

/// `image-registry.openshift-image-registry.svc:5000/images/app:1`.
const IMAGE: &str = "image-registry.openshift-image-registry.svc:5000/images/app:1";

/// OpenShift 4 running the integrated registry, holding `images/app:1`,
/// with projects `images` and `shop`; the kubelet backs off for `backoff`.
fn world(backoff: Duration) -> Env {
    let env = Env::pulling_with_backoff(
        Options {
            image_registry: true,
            ..small_openshift()
        },
        backoff,
        backoff,
    );
    for ns in ["images", "shop"] {
        env.emulator.create_namespace(ns, &[]);
        env.wait_for_service_account(ns, "default");
    }
    env.emulator.push_to_image_registry("images/app:1");
    env
}

#[test]
fn the_world_registry_serves_a_project_its_own_images_and_another_only_once_granted() {
    let env = world(Duration::from_millis(500));
    env.deploy_app("images", IMAGE);
    env.deploy_app("shop", IMAGE);
    env.wait_until("images' pod runs", || {
        (env.pod_states("images").iter().any(|(r, _)| r == "Running")).then_some(())
    });
    env.wait_backing_off("shop");
    let (_, message) = env.pod_states("shop").remove(0);
    assert!(
        message.contains("authentication required") || message.contains("denied"),
        "{message}"
    );
    // `oc policy add-role-to-group system:image-puller
    // system:serviceaccounts:shop -n images`, by hand.
    env.kubectl(
        &["apply", "-f", "-"],
        Some(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "shop-pulls", "namespace": "images"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:shop"}]})),
    );
    env.wait_until("shop's pod runs once granted", || {
        (env.pod_states("shop").iter().all(|(r, _)| r == "Running")).then_some(())
    });
}

/// `kubectl rhpull ARGS -o json` as JSON, with its exit code.
fn json_of(env: &Env, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = env.rhpull(&all, None);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code(), doc)
}

#[test]
fn a_pull_from_another_project_is_diagnosed_without_the_registry_and_fixed_with_a_grant() {
    let env = world(Duration::from_secs(1));
    env.kubectl(
        &[
            "create",
            "deployment",
            "app",
            "-n",
            "shop",
            "--image",
            IMAGE,
            "--replicas",
            "3",
        ],
        None,
    );
    env.wait_until("three pods back off", || {
        let states = env.pod_states("shop");
        (states.len() == 3
            && states
                .iter()
                .all(|(r, _)| r.contains("ImagePull") || r == "ErrImagePull"))
        .then_some(())
    });
    let pod = env.pods("shop")[0]["metadata"]["name"]
        .as_str()
        .expect("pod name")
        .to_string();
    let grant = "kubectl rhpull grant shop images --sa default";

    // `check --failing` and `check --pod` say the same, from the API
    // server's answer: no registry is contacted from here.
    let reviews = env.emulator.count("create", "subjectaccessreviews");
    let said = failed(&env.rhpull(&["check", "--failing", "-n", "shop"], None));
    assert_eq!(
        env.emulator.count("create", "subjectaccessreviews") - reviews,
        1,
        "one review for the three pods of one service account"
    );
    says(
        &said,
        &[
            "3 pods: image-registry.openshift-image-registry.svc:5000/images/app",
            "the integrated registry refuses system:serviceaccount:shop:default",
            "project images",
            grant,
        ],
    );
    let (code, doc) = json_of(&env, &["check", "--failing", "-n", "shop"]);
    assert_eq!(code, Some(1), "{doc:#}");
    let group = &doc[0];
    assert_eq!(group["reason"], "ImagePullerNotGranted", "{doc:#}");
    assert_eq!(group["fix"]["action"], "grant", "{doc:#}");
    assert_eq!(group["image_registry"]["allowed"], false, "{doc:#}");
    let said = failed(&env.rhpull(&["check", "--pod", &pod, "-n", "shop"], None));
    says(&said, &["the integrated registry refuses", grant]);
    let (code, doc) = json_of(&env, &["check", "--pod", &pod, "-n", "shop"]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["fixes"][0]["action"], "grant", "{doc:#}");
    assert_eq!(doc["fixes"][0]["to"], "images", "{doc:#}");
    assert_eq!(doc["image_registry"][0]["allowed"], false, "{doc:#}");
    assert_eq!(doc["images"][0]["attempts"], json!([]), "{doc:#}");
    // 中文 too.
    let zh = failed(&env.rhpull_lang("zh_CN.UTF-8", &["check", "--failing", "-n", "shop"], None));
    says(&zh, &["集成镜像仓库拒绝了", grant]);

    // Who may not ask the API server is told what is unknown and how to
    // ask, and `fix` writes nothing for it.
    let viewer = env.home.path().join("viewer-kubeconfig");
    KubeconfigFile::default()
        .cluster("c", &env.emulator.url(), env.emulator.ca_pem())
        .context("viewer", "c", "viewer", VIEWER_TOKEN, "shop")
        .write(&viewer)
        .expect("kubeconfig");
    let mut envs = env.envs("C");
    envs[0].1 = viewer.display().to_string();
    let out = env.rhpull_with(&envs, &["check", "--failing"], None);
    let said = failed(&out);
    says(
        &said,
        &[
            "whether system:serviceaccount:shop:default may pull images/app from the integrated registry is not known",
            "kubectl auth can-i get imagestreams --subresource=layers -n images --as system:serviceaccount:shop:default",
            "an admin of images runs: kubectl rhpull grant shop images --sa default",
        ],
    );
    let before = env.emulator.writes();
    let out = env.rhpull_with(&envs, &["fix", "--yes", "--wait", "5s"], None);
    says(&failed(&out), &["(ask_access)"]);
    assert_eq!(env.emulator.writes(), before, "nothing is granted blind");

    // A dry run writes nothing; then one fix grants and follows the pods.
    let before = env.emulator.writes();
    ok(&env.rhpull(&["fix", "-n", "shop", "--yes", "--dry-run"], None));
    assert_eq!(env.emulator.writes(), before, "a dry run writes nothing");
    let (code, doc) = json_of(&env, &["fix", "-n", "shop", "--yes", "--wait", "60s"]);
    assert_eq!(code, Some(0), "{doc:#}");
    let group = &doc["groups"][0];
    assert_eq!(group["fix"]["action"], "grant", "{doc:#}");
    assert_eq!(group["confirmed"], true, "{doc:#}");
    assert!(
        (group["pods"].as_array().expect("pods").iter()).all(|p| p["kubelet"]["state"] == "pulled"),
        "{doc:#}"
    );
    // Real kubectl, oldest and newest too, reads the grant and the pods.
    for bin in kubectls() {
        let out = env.kubectl_at(
            &bin,
            &[
                "get",
                "rolebinding",
                "image-puller-from-shop",
                "-n",
                "images",
                "-o",
                "json",
            ],
        );
        let rb: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", bin.display(), stderr(&out)));
        assert_eq!(rb["roleRef"]["name"], "system:image-puller", "{rb:#}");
        assert_eq!(
            rb["subjects"],
            json!([{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}]),
            "{rb:#}"
        );
    }
    let pods = env.kubectl(&["get", "pods", "-n", "shop"], None);
    says(&pods, &["1/1", "Running"]);
    // Nothing left to fix: nothing written.
    let after = env.emulator.writes();
    says(
        &ok(&env.rhpull(&["fix", "-n", "shop", "--yes"], None)),
        &["No pod is failing to pull"],
    );
    assert_eq!(env.emulator.writes(), after);
}
