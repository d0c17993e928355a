//! Exactly what podman and the kubelet would use, and no input that hangs,
//! panics or needs a cluster it should not: each case is one a user met.

use base64::Engine as _;
use rhpull_e2e::env::{Env, ok, registry};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::world;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `REG/rhel9` holds a good token, `REG` a revoked one: podman, skopeo and
/// the kubelet use the path-scoped login for `REG/rhel9/…`, and so does
/// `check --image`, naming the key it used; `check --secret` does the same
/// with a pull secret holding both keys.
#[test]
fn check_image_uses_the_path_scoped_login_as_podman_and_the_kubelet_would() {
    let env = Env::new(false);
    let host = registry().registry.host();
    let image = registry().image();
    assert!(image.starts_with(&format!("{host}/rhel9/")), "{image}");
    let good = b64(&format!("{}:{}", world::USERNAME, world::TOKEN));
    let revoked = b64(&format!(
        "{}:eyJyZXZva2VkIn0.cmV2b2tlZA.c2ln",
        world::USERNAME
    ));
    let auths = serde_json::json!({"auths": {
        format!("{host}/rhel9"): {"auth": good},
        host.clone(): {"auth": revoked},
    }});
    std::fs::write(env.authfile(), auths.to_string()).unwrap();
    let ca = env.ca();
    let text = ok(&env.rhpull(
        &["check", &host, "--image", &image, "--registry-ca", &ca],
        None,
    ));
    assert!(text.contains(&format!("(key {host}/rhel9)")), "{text}");
    assert!(text.contains("All checks passed."), "{text}");
    // The host's own login is the revoked one: it fails by itself.
    let out = env.rhpull(&["check", &host, "--registry-ca", &ca], None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // The same keys in a pull secret: the kubelet's choice.
    let secret = serde_json::json!({"metadata": {"name": "both"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(&auths.to_string())}});
    env.emulator.put("Secret", "project-a", secret);
    let args = [
        "check",
        "--secret",
        "both",
        "-n",
        "project-a",
        "--image",
        &image,
        "--registry-ca",
        &ca,
        "-o",
        "json",
    ];
    let doc: serde_json::Value = serde_json::from_str(&ok(&env.rhpull(&args, None))).unwrap();
    assert_eq!(doc["key"], format!("{host}/rhel9"), "{doc}");
    assert_eq!(doc["passed"], true, "{doc}");
}

/// On OpenShift 4 the kubelet falls back to the node's credentials, the
/// global pull secret: `check --pod` lists them after the pod's own and
/// checks them. Elsewhere the node's credentials cannot be read, and the
/// report says so, with a fix that fits a pod (never a local login).
#[test]
fn check_pod_knows_the_nodes_credentials() {
    let host = registry().registry.host();
    let image = registry().image();
    let run_web = |env: &Env| env.kubectl_run("project-a", "web", &image);

    let ocp = Env::new(true);
    ok(&ocp.rhpull_as_world(&["global", "set", &host, "--yes", "--wait"]));
    run_web(&ocp);
    // The scheduler puts it on a worker, whose file has the login now.
    let node = ocp.wait_until("web is scheduled", || {
        let pod = ocp.emulator.get("Pod", "project-a", "web")?;
        pod["spec"]["nodeName"].as_str().map(str::to_string)
    });
    let ca = ocp.ca();
    let text = ok(&ocp.rhpull(
        &[
            "check",
            "--pod",
            "web",
            "-n",
            "project-a",
            "--registry-ca",
            &ca,
        ],
        None,
    ));
    assert!(
        text.contains(&format!("node {node}: rendered-worker-"))
            && text.contains(&format!("({host})")),
        "{text}"
    );
    assert!(text.contains("All checks passed."), "{text}");
    assert!(!text.contains("no secret matches"), "{text}");

    let k8s = Env::new(false);
    run_web(&k8s);
    let out = k8s.rhpull(
        &[
            "check",
            "--pod",
            "web",
            "-n",
            "project-a",
            "--registry-ca",
            &ca,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("cannot be read through the API"), "{text}");
    assert!(
        text.contains("--link default") && text.contains("kubectl replace --force -f web.yaml"),
        "{text}"
    );
    assert!(!text.contains("kubectl rhpull login"), "{text}");
}

/// A login holding only an identity token (what `docker login` stores for
/// some registries) has nothing a pull secret can carry: refused by name.
#[test]
fn identity_token_logins_are_refused_by_name() {
    let env = Env::new(true);
    let host = registry().registry.host();
    let auths =
        serde_json::json!({"auths": {host.clone(): {"identitytoken": "opaque-refresh-token"}}});
    std::fs::write(env.authfile(), auths.to_string()).unwrap();
    for args in [
        vec![
            "create",
            "--from-podman",
            "--registry",
            &host,
            "-n",
            "project-a",
        ],
        vec!["global", "set", &host, "--from-podman", "--yes"],
    ] {
        env.emulator.reset_counters();
        let out = env.rhpull(&args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("holds only an identity token"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("opaque-refresh-token"));
        assert_eq!(env.emulator.writes(), 0);
    }
    let ca = env.ca();
    let out = env.rhpull(&["check", &host, "--registry-ca", &ca], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("holds only an identity token"),
        "{}",
        stdout(&out)
    );
}

/// `create --dry-run=client` renders the secret with no cluster at all, as
/// `kubectl create` does, and says so on stderr; the document does not
/// depend on the language.
#[test]
fn a_client_dry_run_needs_no_cluster() {
    let env = Env::start(Options::default());
    let unreachable = env.home.path().join("unreachable");
    std::fs::write(
        &unreachable,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster: {server: 'https://127.0.0.1:1'}\n\
         contexts:\n- name: gone\n  context: {cluster: gone, user: u, namespace: team-x}\n\
         current-context: gone\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let args = [
        "create",
        "-u",
        "bob",
        "--password-stdin",
        "--registry",
        "quay.io",
        "--dry-run=client",
        "-o",
        "json",
    ];
    let kubeconfigs = [
        (
            "no kubeconfig",
            env.home.path().join("none").display().to_string(),
            "default",
        ),
        ("unreachable", unreachable.display().to_string(), "team-x"),
    ];
    for (what, kubeconfig, namespace) in kubeconfigs {
        let mut envs = env.envs("C");
        envs[0].1 = kubeconfig;
        let c = env.rhpull_with(&envs, &args, Some("pw\n"));
        assert!(c.status.success(), "{what}: {}", stderr(&c));
        let doc: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
        assert_eq!(doc["metadata"]["namespace"], namespace, "{what}");
        assert!(
            stderr(&c).contains("not compared with what is there"),
            "{what}: {}",
            stderr(&c)
        );
        envs[2].1 = "zh_CN.UTF-8".into();
        let zh = env.rhpull_with(&envs, &args, Some("pw\n"));
        assert_eq!(c.stdout, zh.stdout, "{what}: the same bytes in Chinese");
    }
}

/// Without any auth file, `create --from-podman` names the files it
/// searched, in order; a missing kubeconfig is named once, unquoted twice.
#[test]
fn missing_files_are_named_plainly() {
    let env = Env::start(Options::default());
    let mut envs = env.envs("C");
    envs.retain(|(k, _)| k != "REGISTRY_AUTH_FILE");
    envs.push((
        "XDG_RUNTIME_DIR".into(),
        env.home.path().join("run").display().to_string(),
    ));
    let out = env.rhpull_with(&envs, &["create", "--from-podman"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let home = env.home.path().display().to_string();
    let searched = format!(
        "none of these files exists: {home}/run/containers/auth.json, {home}/.config/containers/auth.json, {home}/.docker/config.json, {home}/.dockercfg"
    );
    assert!(err.contains(&searched), "{err}");
    assert!(!err.contains(" - "), "{err}");

    let out = env.rhpull(&["status", "--kubeconfig", "/nowhere/config"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot read the kubeconfig /nowhere/config:"),
        "{err}"
    );
    assert!(!err.contains("'\""), "{err}");
}

/// Out-of-range, negative, NaN and garbage numbers and durations are usage
/// errors (exit 2), never a panic.
#[test]
fn extreme_values_are_usage_errors() {
    let env = Env::start(Options::default());
    for args in [
        ["status", "--request-timeout", "99999999999999999999h"],
        ["status", "--request-timeout", "-1s"],
        ["status", "--request-timeout", "NaN"],
        ["status", "--concurrency", "0"],
        ["status", "--concurrency", "18446744073709551616"],
        ["status", "--cluster-concurrency", "-3"],
        ["link", "default", "--wait=1e400"],
        ["check", "--timeout", "inf"],
    ] {
        let out = env.rhpull(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
