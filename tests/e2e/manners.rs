//! What a new user trips over, each measured and fixed: a grant from a
//! project that is not there warns and still grants; every write's JSON
//! says what happened, with the same field meanings as `status`; `-o name`
//! names every object touched; a many-context read summarises what it
//! found; a plain `check` takes your logins; counts read right in both
//! languages; and a pod nothing matches is said plainly.

use rhpull_e2e::env::{Env, failed, ok, registry, says};
use rhpull_e2e::{PluginPath, stderr, stdout};
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world;
use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

#[test]
fn grant_says_what_it_did_and_warns_about_a_project_that_is_not_there() {
    let env = Env::new(true);
    let first = json(&env.rhpull(&["grant", "project-a", "project-b", "-o", "json"], None));
    let sa = "system:serviceaccount:project-a:default";
    assert_eq!(first[0]["outcome"], "created", "{first}");
    assert_eq!(first[0]["subjects"], serde_json::json!([sa]));
    assert_eq!(first[0]["changed"], serde_json::json!([sa]));
    let again = json(&env.rhpull(&["grant", "project-a", "project-b", "-o", "json"], None));
    assert_eq!(again[0]["outcome"], "unchanged", "{again}");
    assert_eq!(
        again[0]["subjects"],
        serde_json::json!([sa]),
        "the same meaning as status: every subject"
    );
    assert_eq!(again[0]["changed"], serde_json::json!([]));
    let status = json(&env.rhpull(&["status", "-n", "project-b", "-o", "json"], None));
    assert_eq!(status["grants"][0]["subjects"], again[0]["subjects"]);

    let out = env.rhpull(&["grant", "doesnotexist", "project-b"], None);
    ok(&out);
    says(&stderr(&out), &["doesnotexist"]);
    let revoked = json(&env.rhpull(&["revoke", "project-a", "project-b", "-o", "json"], None));
    assert_eq!(revoked[0]["outcome"], "deleted", "{revoked}");
}

#[test]
fn create_with_a_link_names_both_objects() {
    let env = Env::new(false);
    env.wait_for_service_account("project-a", "default");
    let out = env.rhpull_as_world(&[
        "create",
        "--registry",
        &registry().registry.host(),
        "--link",
        "default",
        "-n",
        "project-a",
        "-o",
        "name",
    ]);
    let lines: Vec<String> = ok(&out).lines().map(str::to_string).collect();
    let secret = format!("secret/{}-pull-secret", world::USERNAME.replace('|', "-"));
    assert_eq!(lines, [secret, "serviceaccount/default".to_string()]);
}

#[test]
fn a_read_across_contexts_says_what_it_found() {
    let home = tempfile::tempdir().unwrap();
    let clusters = [
        Emulator::start(Options::default()),
        Emulator::start(Options::default()),
    ];
    let mut file = KubeconfigFile::default();
    for (i, e) in clusters.iter().enumerate() {
        let name = format!("c{i}");
        file = e.kubeconfig_entries(file, &name, &name, None);
    }
    let kubeconfig = home.path().join("kubeconfig");
    file.write(&kubeconfig).unwrap();
    let kc = kubeconfig.display().to_string();
    let plugin = PluginPath::new();
    let out = plugin.rhpull(
        home.path(),
        &[("KUBECONFIG", kc.as_str())],
        &["status", "-A", "--all-contexts"],
    );
    let said = ok(&out);
    says(
        &said,
        &[
            "c0: 0 pull secrets, 0 image-puller grants",
            "2 contexts: 2 read, 0 failed",
        ],
    );
    assert!(
        !said.contains("unchanged"),
        "a read changes nothing, and does not say so: {said}"
    );
}

#[test]
fn a_plain_check_takes_your_logins_and_says_which() {
    let env = Env::new(false);
    env.skopeo_login();
    let out = env.rhpull(&["check", "--registry-ca", &env.ca()], None);
    ok(&out);
    says(
        &stderr(&out),
        &[&format!(
            "No registry named: checking those you have logins for: {}",
            registry().registry.host()
        )],
    );
    says(
        &stdout(&out),
        &[&format!("with the login from {}", env.authfile().display())],
    );
}

#[test]
fn counts_and_an_anonymous_pull_read_right_in_both_languages() {
    let env = Env::new(false);
    env.wait_for_service_account("project-a", "default");
    let image = registry().image();
    env.emulator.put(
        "Pod",
        "project-a",
        serde_json::json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": image}]}}),
    );
    env.emulator.set_pod_status(
        "project-a",
        "web",
        serde_json::json!({"phase": "Pending", "containerStatuses": [{"name": "app", "image": image,
            "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
    );
    let ca = env.ca();
    let args = [
        "check",
        "--failing",
        "-n",
        "project-a",
        "--registry-ca",
        ca.as_str(),
    ];
    let said = failed(&env.rhpull(&args, None));
    says(
        &said,
        &[
            "1 pod failing to pull, in 1 group",
            "✗ 1 pod:",
            "no credentials match: the kubelet pulls anonymously",
        ],
    );
    let said = failed(&env.rhpull_lang("zh_CN.UTF-8", &args, None));
    says(
        &said,
        &[
            "1 个 Pod 拉取失败，分为 1 组",
            "没有匹配的凭证：kubelet 匿名拉取",
        ],
    );
    assert!(!said.contains("尝试无"), "{said}");
}
