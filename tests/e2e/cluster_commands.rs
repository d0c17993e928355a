//! Every cluster command through real kubectl plugin dispatch, against the
//! emulator (Kubernetes and OpenShift mode) and the real registry with token
//! auth; what rhpull wrote is read back with real kubectl.

use base64::Engine as _;
use rhpull_e2e::env::{Env, decoded_config, ok, pull_names, registry, says};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world;
use serde_json::Value;

const SECRET: &str = "7654321-rhpull-world-pull-secret";

#[test]
fn create_from_podman_links_default_and_is_idempotent_on_openshift() {
    let env = Env::new(true);
    env.skopeo_login();
    let host = registry().registry.host();
    let out = env.rhpull(
        &[
            "create",
            "--from-podman",
            "--registry",
            &host,
            "-n",
            "project-a",
            "--link",
            "default",
        ],
        None,
    );
    let text = ok(&out);
    assert!(
        text.contains(&format!("secret/{SECRET} created in project-a")),
        "{text}"
    );
    assert!(
        text.contains("serviceaccount/default in project-a: linked"),
        "{text}"
    );
    assert!(!text.contains(world::TOKEN) && !stderr(&out).contains(world::TOKEN));

    let secret = env.kubectl_json(&["get", "secret", SECRET, "-n", "project-a"]);
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let auth = decoded_config(&secret)["auths"][&host]["auth"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(auth, format!("{}:{}", world::USERNAME, world::TOKEN));
    let sa = env.kubectl_json(&["get", "sa", "default", "-n", "project-a"]);
    let names = pull_names(&sa);
    assert!(names.contains(&SECRET.to_string()), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("default-dockercfg-")),
        "OpenShift's own entry kept: {names:?}"
    );

    env.emulator.reset_counters();
    let again = ok(&env.rhpull(
        &[
            "create",
            "--from-podman",
            "--registry",
            &host,
            "-n",
            "project-a",
            "--link",
            "default",
        ],
        None,
    ));
    assert!(again.contains("unchanged"), "{again}");
    assert_eq!(env.emulator.writes(), 0, "{}", env.emulator.counters());

    // The secret works for a real pull check, read from the cluster.
    let ca = env.ca();
    let check = env.rhpull(
        &[
            "check",
            &host,
            "--secret",
            SECRET,
            "-n",
            "project-a",
            "--image",
            &registry().image(),
            "--registry-ca",
            &ca,
        ],
        None,
    );
    let text = ok(&check);
    assert!(
        text.contains(&format!("secret project-a/{SECRET}")),
        "{text}"
    );
    assert!(text.contains("All checks passed."), "{text}");
}

#[test]
fn create_by_default_takes_only_red_hat_logins_and_says_what_the_file_holds() {
    let env = Env::new(false);
    env.skopeo_login();
    let out = env.rhpull(&["create", "--from-podman"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no Red Hat registry login"), "{err}");
    assert!(
        err.contains(&registry().registry.host()),
        "names what the file holds: {err}"
    );
    assert!(err.contains("--registry"), "{err}");
    // No source at all is a usage error naming the flags.
    let out = env.rhpull(&["create"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from-podman"), "{}", stderr(&out));
}

#[test]
fn create_from_a_token_with_dry_runs_and_output_formats() {
    let env = Env::new(false);
    let token = format!("{}\n", world::TOKEN);
    let args = [
        "create",
        "--username",
        world::USERNAME,
        "--password-stdin",
        "--registry",
        "registry.redhat.io",
        "-n",
        "project-b",
    ];

    env.emulator.reset_counters();
    let mut dry: Vec<&str> = args.to_vec();
    dry.extend(["--dry-run=client", "-o", "yaml"]);
    let yaml = ok(&env.rhpull(&dry, Some(&token)));
    assert!(
        yaml.contains("REDACTED") && yaml.contains("kind: Secret"),
        "{yaml}"
    );
    assert!(
        !yaml.contains(&base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            world::USERNAME,
            world::TOKEN
        )))
    );
    assert_eq!(env.emulator.writes(), 0, "client dry run sends no write");

    let mut shown: Vec<&str> = args.to_vec();
    shown.extend(["--dry-run=client", "-o", "json", "--show-secrets"]);
    let json: Value = serde_json::from_str(&ok(&env.rhpull(&shown, Some(&token)))).unwrap();
    assert_ne!(json["data"][".dockerconfigjson"], "REDACTED");

    let mut server: Vec<&str> = args.to_vec();
    server.push("--dry-run=server");
    assert!(ok(&env.rhpull(&server, Some(&token))).contains("(server dry run)"));
    assert!(env.emulator.get("Secret", "project-b", SECRET).is_none());

    let mut name: Vec<&str> = args.to_vec();
    name.extend(["-o", "name"]);
    assert_eq!(
        ok(&env.rhpull(&name, Some(&token))).trim(),
        format!("secret/{SECRET}")
    );
    assert!(env.emulator.get("Secret", "project-b", SECRET).is_some());

    // The legacy type, and the type no kubelet reads.
    let legacy = ok(&env.rhpull(
        &[
            "create",
            "legacy",
            "-u",
            "bob",
            "--password-stdin",
            "--registry",
            "quay.io",
            "--type",
            "dockercfg",
        ],
        Some("pw\n"),
    ));
    assert!(
        legacy.contains("secret/legacy created in default"),
        "{legacy}"
    );
    assert_eq!(
        env.kubectl_json(&["get", "secret", "legacy"])["type"],
        "kubernetes.io/dockercfg"
    );
    let podman = env.rhpull(
        &[
            "create",
            "pm",
            "-u",
            "bob",
            "--password-stdin",
            "--registry",
            "quay.io",
            "--type",
            "podmanconfigjson",
        ],
        Some("pw\n"),
    );
    ok(&podman);
    assert!(
        stderr(&podman).contains("not a type the kubelet reads"),
        "{}",
        stderr(&podman)
    );
    assert_eq!(
        env.kubectl_json(&["get", "secret", "pm"])["type"],
        "kubernetes.io/dockerconfigjson"
    );

    // Someone else's secret is not overwritten without asking.
    let out = env.rhpull(
        &[
            "create",
            "legacy",
            "-u",
            "bob",
            "--password-stdin",
            "--registry",
            "quay.io",
        ],
        Some("other\n"),
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn link_unlink_and_their_errors() {
    let env = Env::new(false);
    ok(&env.rhpull_as_world(&["create", "-n", "project-a"]));
    // No secret named: the one rhpull manages in the namespace.
    let text = ok(&env.rhpull(&["link", "default", "-n", "project-a"], None));
    assert!(
        text.contains(&format!("linked {SECRET} for pull")),
        "{text}"
    );
    assert!(ok(&env.rhpull(&["link", "default", "-n", "project-a"], None)).contains("unchanged"));
    let sa = env.kubectl_json(&["get", "sa", "default", "-n", "project-a"]);
    assert_eq!(pull_names(&sa), [SECRET]);

    let out = env.rhpull(
        &[
            "link",
            "default",
            "nope-1",
            SECRET,
            "nope-2",
            "-n",
            "project-a",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nope-1, nope-2"),
        "every missing secret named: {}",
        stderr(&out)
    );

    // Several managed secrets without a terminal: exit 2, listing them.
    ok(&env.rhpull(
        &[
            "create",
            "second",
            "-u",
            "bob",
            "--password-stdin",
            "--registry",
            "quay.io",
            "-n",
            "project-a",
        ],
        Some("pw\n"),
    ));
    let out = env.rhpull(&["link", "default", "-n", "project-a"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("second") && stderr(&out).contains(SECRET),
        "{}",
        stderr(&out)
    );

    let text = ok(&env.rhpull(&["unlink", "default", SECRET, "-n", "project-a"], None));
    assert!(text.contains("unlinked"), "{text}");
    assert!(pull_names(&env.kubectl_json(&["get", "sa", "default", "-n", "project-a"])).is_empty());

    // A service account the cluster never makes: at once, not after the
    // wait, naming what is there and the closest name.
    let started = std::time::Instant::now();
    let out = env.rhpull(&["link", "ghost", "second", "-n", "project-a"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    says(
        &stderr(&out),
        &["service account ghost does not exist in project-a; it has: default"],
    );
    let out = env.rhpull(&["link", "defualt", "second", "-n", "project-a"], None);
    assert_eq!(out.status.code(), Some(1));
    says(&stderr(&out), &["did you mean default?"]);
}

#[test]
fn grant_and_revoke_on_openshift_and_the_kubernetes_answer() {
    let env = Env::new(true);
    let text = ok(&env.rhpull(&["grant", "project-a", "project-b"], None));
    assert!(
        text.contains("system:serviceaccount:project-a:default"),
        "{text}"
    );
    assert!(
        ok(&env.rhpull(&["grant", "project-a", "project-b"], None)).contains("nothing changed")
    );
    let rb = env.kubectl_json(&[
        "get",
        "rolebinding",
        "image-puller-from-project-a",
        "-n",
        "project-b",
    ]);
    assert_eq!(rb["roleRef"]["name"], "system:image-puller");
    let text = ok(&env.rhpull(&["revoke", "project-a", "project-b"], None));
    assert!(text.contains("deleted"), "{text}");

    let k = Env::new(false);
    let out = k.rhpull(&["grant", "project-a", "project-b"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no ClusterRole system:image-puller"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("kubectl rhpull create"),
        "the next step is named: {}",
        stderr(&out)
    );
}

#[test]
fn the_global_pull_secret_needs_confirmation_and_keeps_other_entries() {
    let env = Env::new(true);
    let shown = ok(&env.rhpull(&["global", "show"], None));
    assert!(
        shown.contains("cloud.openshift.com") && shown.contains("quay-user"),
        "{shown}"
    );
    assert!(!shown.contains("quay-token"));
    let out = env.rhpull_as_world(&["global", "set", "registry.redhat.io"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no terminal, no --yes: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--yes"));
    ok(&env.rhpull_as_world(&["global", "set", "registry.redhat.io", "--yes"]));
    let cfg = decoded_config(&env.kubectl_json(&[
        "get",
        "secret",
        "pull-secret",
        "-n",
        "openshift-config",
    ]));
    let auths = cfg["auths"].as_object().unwrap();
    assert!(
        auths.contains_key("cloud.openshift.com")
            && auths.contains_key("quay.io")
            && auths.contains_key("registry.redhat.io")
    );
    ok(&env.rhpull(&["global", "remove", "registry.redhat.io", "--yes"], None));
    let cfg = decoded_config(&env.kubectl_json(&[
        "get",
        "secret",
        "pull-secret",
        "-n",
        "openshift-config",
    ]));
    assert_eq!(cfg["auths"].as_object().unwrap().len(), 2);

    let k = Env::new(false);
    let out = k.rhpull(&["global", "show"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("OpenShift 4"), "{}", stderr(&out));
}

#[test]
fn status_and_rotate_across_namespaces() {
    let env = Env::new(false);
    let old = format!("{}\n", world::TOKEN);
    for ns in ["project-a", "project-b"] {
        ok(&env.rhpull(
            &[
                "create",
                "-u",
                world::USERNAME,
                "--password-stdin",
                "-n",
                ns,
                "--link",
                "default",
            ],
            Some(&old),
        ));
    }
    let status: Value =
        serde_json::from_str(&ok(&env.rhpull(&["status", "-A", "-o", "json"], None))).unwrap();
    let ours: Vec<&Value> = status["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == SECRET)
        .collect();
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[0]["pull"][0], "default");
    let table = ok(&env.rhpull(&["status", "-n", "project-a"], None));
    assert!(
        table.contains(SECRET) && table.contains(world::USERNAME),
        "{table}"
    );

    let out = env.rhpull(
        &[
            "rotate",
            "-A",
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--no-verify",
        ],
        Some("eyJuZXc.eyJ0b2tlbiJ9.c2ln\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no --yes without a terminal: {}",
        stderr(&out)
    );
    let text = ok(&env.rhpull(
        &[
            "rotate",
            "-A",
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--yes",
            "--no-verify",
        ],
        Some("eyJuZXc.eyJ0b2tlbiJ9.c2ln\n"),
    ));
    assert!(
        text.contains("project-a") && text.contains("project-b"),
        "{text}"
    );
    for ns in ["project-a", "project-b"] {
        let cfg = decoded_config(&env.kubectl_json(&["get", "secret", SECRET, "-n", ns]));
        let auth = base64::engine::general_purpose::STANDARD
            .decode(cfg["auths"]["registry.redhat.io"]["auth"].as_str().unwrap())
            .unwrap();
        assert!(
            String::from_utf8(auth)
                .unwrap()
                .ends_with("eyJuZXc.eyJ0b2tlbiJ9.c2ln")
        );
    }
}

#[test]
fn check_pod_explains_which_secrets_the_kubelet_tries_and_when_to_recreate() {
    let env = Env::new(false);
    env.skopeo_login();
    let host = registry().registry.host();
    let image = registry().image();
    let ca = env.ca();
    // A pod created before its service account was linked.
    let pod = |name: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "project-a"},
                           "spec": {"containers": [{"name": "app", "image": image}]}})
    };
    env.emulator.put("Pod", "project-a", pod("early"));
    ok(&env.rhpull(
        &[
            "create",
            "--from-podman",
            "--registry",
            &host,
            "-n",
            "project-a",
            "--link",
            "default",
        ],
        None,
    ));
    let out = std::process::Command::new("kubectl")
        .args(["create", "-f", "-"])
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin
                .take()
                .unwrap()
                .write_all(pod("late").to_string().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());

    let late = env.rhpull(
        &[
            "check",
            "--pod",
            "late",
            "-n",
            "project-a",
            "--registry-ca",
            &ca,
        ],
        None,
    );
    let text = ok(&late);
    assert!(text.contains(&format!("{SECRET} ({host})")), "{text}");
    assert!(text.contains("All checks passed."), "{text}");

    let early = env.rhpull(
        &[
            "check",
            "--pod",
            "early",
            "-n",
            "project-a",
            "--registry-ca",
            &ca,
        ],
        None,
    );
    assert_eq!(early.status.code(), Some(1));
    let text = stdout(&early);
    assert!(text.contains("no secret matches this registry"), "{text}");
    // `kubectl run` makes a bare pod: made again from its manifest.
    assert!(
        text.contains("kubectl get pod early -n project-a -o yaml > early.yaml")
            && text.contains("kubectl replace --force -f early.yaml"),
        "{text}"
    );
    assert!(!text.contains("kubectl delete pod early"), "{text}");
}

#[test]
fn delegated_finds_the_auth_server_in_the_challenge() {
    let env = Env::new(false);
    let host = registry().registry.host();
    let ca = env.ca();
    let text = ok(&env.rhpull_as_world(&[
        "delegated",
        "--registry",
        &host,
        "--registry-ca",
        &ca,
        "-n",
        "project-a",
    ]));
    let sso_host = format!("127.0.0.1:{}", registry().sso.port());
    assert!(text.contains(&sso_host), "{text}");
    let base = "7654321-rhpull-world";
    let auth = decoded_config(&env.kubectl_json(&[
        "get",
        "secret",
        &format!("{base}-auth-server"),
        "-n",
        "project-a",
    ]));
    assert!(auth["auths"].get(&sso_host).is_some(), "{auth}");
    let sa = env.kubectl_json(&["get", "sa", "default", "-n", "project-a"]);
    let names = pull_names(&sa);
    assert!(
        names.contains(&format!("{base}-auth-server"))
            && names.contains(&format!("{base}-registry")),
        "{names:?}"
    );
}

#[test]
fn kubectl_manners_flags_locale_and_completion() {
    let env = Env::new(false);
    // --kubeconfig instead of KUBECONFIG, and --context.
    let kubeconfig = env.emulator.kubeconfig.display().to_string();
    let out = env.plugin.rhpull(
        env.home.path(),
        &[],
        &[
            "status",
            "--kubeconfig",
            &kubeconfig,
            "--context",
            "rhpull-emulator",
            "-n",
            "kube-system",
        ],
    );
    ok(&out);
    let out = env.plugin.rhpull(
        env.home.path(),
        &[],
        &["status", "--kubeconfig", &kubeconfig, "--context", "nope"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("kubeconfig"), "{}", stderr(&out));

    // Chinese words, same exit codes and the same machine output.
    let token = format!("{}\n", world::TOKEN);
    let args = [
        "create",
        "-u",
        world::USERNAME,
        "--password-stdin",
        "--dry-run=client",
        "-n",
        "project-a",
    ];
    let zh = ok(&env.rhpull_lang("zh_CN.UTF-8", &args, Some(&token)));
    assert!(zh.contains("已创建") && zh.contains("试运行"), "{zh}");
    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    assert_eq!(
        ok(&env.rhpull_lang("zh_CN.UTF-8", &json_args, Some(&token))),
        ok(&env.rhpull_lang("C", &json_args, Some(&token)))
    );
    let usage = env.rhpull_lang("zh_CN.UTF-8", &["create"], None);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).contains("未提供凭证"), "{}", stderr(&usage));

    let script = ok(&env.rhpull(&["completion", "bash"], None));
    assert!(
        script.contains("kubectl-rhpull") && script.contains("complete"),
        "{}",
        &script[..200.min(script.len())]
    );
}

#[test]
fn a_missing_permission_is_named_before_anything_is_written() {
    let env = Env::new(false);
    let reader = env.emulator.add_user(
        "reader-token",
        "reader",
        vec![rhpull_testkit::kube::Rule::new(
            &["get", "list", "watch"],
            &["*"],
            &["*"],
            None,
        )],
    );
    env.emulator.reset_counters();
    let reader = reader.display().to_string();
    let out = env.plugin.rhpull_with_stdin(
        env.home.path(),
        &[("KUBECONFIG", reader.as_str())],
        &[
            "create",
            "-u",
            world::USERNAME,
            "--password-stdin",
            "-n",
            "project-a",
            "--link",
            "default",
        ],
        &format!("{}\n", world::TOKEN),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("you may not create secrets"), "{err}");
    assert!(err.contains("namespace project-a"), "{err}");
    assert!(err.contains("nothing is half-done"), "{err}");
    assert_eq!(env.emulator.writes(), 0, "{}", env.emulator.counters());
}

/// The README's examples, as written: `oc rhpull create --from-podman`,
/// `kubectl rhpull link default`, `oc rhpull grant project-a project-b`
/// (kubectl here: oc dispatches plugins the same way).
#[test]
fn the_readme_examples_as_written() {
    let env = Env::new(true);
    // What `podman login registry.redhat.io` leaves, beside an unrelated login.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        world::USERNAME,
        world::TOKEN
    ));
    let file = serde_json::json!({"auths": {"registry.redhat.io": {"auth": auth}, "quay.io": {"auth": "Ym9iOnB3"}}});
    std::fs::write(env.authfile(), file.to_string()).unwrap();

    let text = ok(&env.rhpull(&["create", "--from-podman", "-n", "project-a"], None));
    assert!(
        text.contains(&format!(
            "secret/{SECRET} created in project-a: registry.redhat.io"
        )),
        "{text}"
    );
    let cfg = decoded_config(&env.kubectl_json(&["get", "secret", SECRET, "-n", "project-a"]));
    let auths = cfg["auths"].as_object().unwrap();
    assert_eq!(
        auths.keys().collect::<Vec<_>>(),
        ["registry.redhat.io"],
        "only the Red Hat login, never quay.io"
    );

    let text = ok(&env.rhpull(&["link", "default", "-n", "project-a"], None));
    assert!(
        text.contains(&format!("linked {SECRET} for pull")),
        "{text}"
    );
    let text = ok(&env.rhpull(&["grant", "project-a", "project-b"], None));
    assert!(
        text.contains("pods of project-a may pull from project-b"),
        "{text}"
    );
}

/// `global check`: one line per entry, the cause for a bad one, exit 1.
/// Only loopback registries: the seed's public entries are removed first.
#[test]
fn global_check_tests_every_entry_of_the_cluster_pull_secret() {
    let env = Env::new(true);
    ok(&env.rhpull(&["global", "remove", "cloud.openshift.com", "--yes"], None));
    ok(&env.rhpull(&["global", "remove", "quay.io", "--yes"], None));
    let host = registry().registry.host();
    ok(&env.rhpull_as_world(&["global", "set", &host, "--yes"]));
    let ca = env.ca();
    let text = ok(&env.rhpull(&["global", "check", "--registry-ca", &ca], None));
    assert!(
        text.contains(&format!("✓ {host} ({})", world::USERNAME)),
        "{text}"
    );

    let closed = format!("127.0.0.1:{}", rhpull_testkit::tools::free_port());
    ok(&env.rhpull(
        &[
            "global",
            "set",
            &closed,
            "-u",
            "bob",
            "--password-stdin",
            "--yes",
        ],
        Some("pw\n"),
    ));
    let out = env.rhpull(
        &["global", "check", "--registry-ca", &ca, "--timeout", "2s"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "✗ {closed} (bob): {closed} refused the connection"
        )),
        "{text}"
    );
    assert!(
        !text.contains(world::TOKEN) && !text.contains("pw"),
        "{text}"
    );
}

/// `link builder` mounts (as `oc secrets link builder` does) and
/// `build-secret` sets a BuildConfig's pull and push secrets, keeping the
/// rest of the object; kubectl reads the result.
#[test]
fn builds_get_their_secrets() {
    let env = Env::new(true);
    ok(&env.rhpull_as_world(&["create", "-n", "project-a"]));
    let text = ok(&env.rhpull(&["link", "builder", "-n", "project-a"], None));
    assert!(text.contains("for mount"), "{text}");
    let sa = env.kubectl_json(&["get", "sa", "builder", "-n", "project-a"]);
    assert!(
        sa["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == SECRET),
        "{sa}"
    );

    env.emulator.put(
        "BuildConfig",
        "project-a",
        serde_json::json!({"metadata": {"name": "app"}, "spec": {
            "source": {"git": {"uri": "https://example.invalid/app.git"}},
            "strategy": {"type": "Docker", "dockerStrategy": {"from": {"kind": "DockerImage", "name": "registry.redhat.io/ubi9/ubi"}}},
            "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}}}}),
    );
    let text = ok(&env.rhpull(&["build-secret", "app", "-n", "project-a"], None));
    assert!(text.contains("builds pull with"), "{text}");
    assert!(
        ok(&env.rhpull(&["build-secret", "app", "-n", "project-a"], None))
            .contains("nothing changed")
    );
    ok(&env.rhpull(
        &["build-secret", "app", SECRET, "--push", "-n", "project-a"],
        None,
    ));
    let bc = env.kubectl_json(&["get", "buildconfig", "app", "-n", "project-a"]);
    assert_eq!(
        bc["spec"]["strategy"]["dockerStrategy"]["pullSecret"]["name"],
        SECRET
    );
    assert_eq!(
        bc["spec"]["strategy"]["dockerStrategy"]["from"]["name"], "registry.redhat.io/ubi9/ubi",
        "the rest kept"
    );
    assert_eq!(bc["spec"]["output"]["pushSecret"]["name"], SECRET);
    assert_eq!(bc["spec"]["output"]["to"]["name"], "app:latest");
}

/// Image streams: 3.x imports with openshift/imagestreamsecret, 4.x with
/// the global pull secret; `create --for-imagestreams` writes the right one
/// and `status` says which one imports use.
#[test]
fn image_stream_credentials_go_where_the_cluster_reads_them() {
    let token = format!("{}\n", world::TOKEN);
    let args = [
        "create",
        "--for-imagestreams",
        "-u",
        world::USERNAME,
        "--password-stdin",
        "--yes",
    ];

    let mut v3 = Env::new(false);
    v3.emulator = Emulator::start(Options::openshift3());
    let text = ok(&v3.rhpull(&args, Some(&token)));
    assert!(
        text.contains("secret/imagestreamsecret created in openshift"),
        "{text}"
    );
    let secret = v3.kubectl_json(&["get", "secret", "imagestreamsecret", "-n", "openshift"]);
    assert!(
        decoded_config(&secret)["auths"]
            .get("registry.redhat.io")
            .is_some()
    );
    let status = ok(&v3.rhpull(&["status"], None));
    assert!(
        status.contains("Image imports use openshift/imagestreamsecret: registry.redhat.io"),
        "{status}"
    );

    let v4 = Env::new(true);
    let text = ok(&v4.rhpull(&args, Some(&token)));
    assert!(
        text.contains("openshift-config/pull-secret: registry.redhat.io added"),
        "{text}"
    );
    let status = ok(&v4.rhpull(&["status"], None));
    assert!(
        status.contains("Image imports use openshift-config/pull-secret:")
            && status.contains("registry.redhat.io"),
        "{status}"
    );

    let k = Env::new(false);
    let out = k.rhpull(&args, Some(&token));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no image streams"),
        "{}",
        stderr(&out)
    );
}
