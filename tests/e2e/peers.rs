//! Read and written exactly as the peers do: which login is used, checked
//! against the real skopeo over many file layouts; the same pull-secret
//! data as `kubectl create secret docker-registry`; entries from a file
//! kept whole; keys podman refuses refused; `rotate` checking a token
//! before it writes; and OpenShift's own registry secrets (4.16+ and
//! before) left to OpenShift by link, unlink, status and rotate.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use rhpull_e2e::env::{Env, decoded_config, failed, ok, registry, says};
use rhpull_e2e::{PluginPath, kubectls, stderr, stdout};
use rhpull_testkit::kube::{Fault, Options};
use rhpull_testkit::world;
use serde_json::{Value, json};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn write(path: &Path, json: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json).unwrap();
}

fn login_file(user: &str) -> String {
    format!(
        r#"{{"auths":{{"registry.redhat.io":{{"auth":"{}"}}}}}}"#,
        b64(&format!("{user}:x"))
    )
}

/// The username real skopeo (Debian's 1.9.3) would use, or `None`.
fn skopeo_login(envs: &[(&str, String)]) -> Option<String> {
    let out = Command::new("skopeo")
        .args(["login", "--get-login", "registry.redhat.io"])
        .env_clear()
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run skopeo");
    out.status
        .success()
        .then(|| stdout(&out).trim().to_string())
}

/// The username rhpull takes for registry.redhat.io, or `None`.
fn rhpull_login(plugin: &PluginPath, home: &Path, envs: &[(&str, String)]) -> Option<String> {
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = plugin.rhpull(home, &envs, &["registries", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    (doc.as_array().unwrap().iter())
        .find(|r| r["host"] == "registry.redhat.io")
        .and_then(|r| r["username"].as_str().map(str::to_string))
}

#[test]
fn the_login_used_is_the_one_podman_would_use() {
    let plugin = PluginPath::new();
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let run = t.path().join("run");
    let cfg = t.path().join("cfg");
    let user_file = t.path().join("user.json");
    write(&run.join("containers/auth.json"), &login_file("runtime"));
    write(
        &home.join(".config/containers/auth.json"),
        &login_file("dotconfig"),
    );
    write(&cfg.join("containers/auth.json"), &login_file("xdgconfig"));
    write(&home.join(".docker/config.json"), &login_file("docker"));
    write(&user_file, r#"{"auths":{"quay.io":{"auth":"cTp4"}}}"#);
    let h = home.display().to_string();
    let layouts: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "runtime first",
            vec![
                ("HOME", h.clone()),
                ("XDG_RUNTIME_DIR", run.display().to_string()),
            ],
        ),
        ("~/.config without a runtime dir", vec![("HOME", h.clone())]),
        (
            "XDG_CONFIG_HOME replaces ~/.config",
            vec![
                ("HOME", h.clone()),
                ("XDG_CONFIG_HOME", cfg.display().to_string()),
            ],
        ),
        (
            "DOCKER_CONFIG",
            vec![
                ("HOME", t.path().join("empty").display().to_string()),
                ("DOCKER_CONFIG", home.join(".docker").display().to_string()),
            ],
        ),
    ];
    for (what, envs) in &layouts {
        assert_eq!(
            rhpull_login(&plugin, &home, envs),
            skopeo_login(envs),
            "{what}: rhpull and skopeo choose differently"
        );
    }
    // REGISTRY_AUTH_FILE holding only quay.io. Current containers/image
    // (getAuthFilePaths, v5.36) reads that file alone: not logged in to
    // registry.redhat.io. Debian's skopeo 1.9.3 still went on to
    // ~/.config; rhpull follows current podman.
    let envs = vec![
        ("HOME", h.clone()),
        ("XDG_RUNTIME_DIR", run.display().to_string()),
        ("REGISTRY_AUTH_FILE", user_file.display().to_string()),
    ];
    assert_eq!(rhpull_login(&plugin, &home, &envs), None);
    assert_eq!(
        skopeo_login(&envs).as_deref(),
        Some("dotconfig"),
        "skopeo 1.9.3's fallback"
    );

    // A mistyped entry is an error for both, naming the file.
    let bad = t.path().join("bad.json");
    write(&bad, r#"{"auths":{"registry.redhat.io":{"auth":12}}}"#);
    let envs = vec![
        ("HOME", h),
        ("REGISTRY_AUTH_FILE", bad.display().to_string()),
    ];
    assert_eq!(skopeo_login(&envs), None);
    let e: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = plugin.rhpull(&home, &e, &["registries"]);
    assert_eq!(out.status.code(), Some(1));
    says(
        &stderr(&out),
        &[
            &bad.display().to_string(),
            "its \"auth\" field is not a string",
        ],
    );
}

fn kubectl(env: &Env, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .output()
        .expect("run kubectl")
}

fn data_of(secret: &Value) -> String {
    let raw = secret["data"][".dockerconfigjson"].as_str().expect("data");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn a_typed_login_is_the_data_kubectl_writes_and_a_file_entry_is_kept_whole() {
    let env = Env::new(false);
    for (user, password, email) in [
        ("u|x", "p&<>", None),
        ("robot", "tok", Some("ops@example.com")),
    ] {
        let mut args = vec![
            "create",
            "same",
            "--registry",
            "registry.example.com",
            "-u",
            user,
            "--password-stdin",
            "--dry-run=client",
            "-o",
            "json",
            "--show-secrets",
        ];
        let mut theirs = vec![
            "create",
            "secret",
            "docker-registry",
            "same",
            "--docker-server=registry.example.com",
        ];
        let (u, p) = (
            format!("--docker-username={user}"),
            format!("--docker-password={password}"),
        );
        theirs.extend([u.as_str(), p.as_str(), "--dry-run=client", "-o", "json"]);
        let e = email.map(|e| format!("--docker-email={e}"));
        if let (Some(email), Some(flag)) = (email, e.as_deref()) {
            args.extend(["--email", email]);
            theirs.push(flag);
        }
        let ours: Value =
            serde_json::from_str(&ok(&env.rhpull(&args, Some(&format!("{password}\n"))))).unwrap();
        let kubectl_secret: Value = serde_json::from_slice(&kubectl(&env, &theirs).stdout).unwrap();
        assert_eq!(
            data_of(&ours),
            data_of(&kubectl_secret),
            "byte for byte as kubectl"
        );
    }

    // From a file: every field of the entry stays.
    let file = env.home.path().join("pull-secret.json");
    write(
        &file,
        &format!(
            r#"{{"auths":{{"registry.redhat.io":{{"auth":"{}","email":"ops@example.com"}}}}}}"#,
            b64("1234567|ci:tok")
        ),
    );
    let f = file.display().to_string();
    ok(&env.rhpull(
        &["create", "from-file", "--from-file", &f, "-n", "project-a"],
        None,
    ));
    for bin in kubectls() {
        let out = env.kubectl_at(
            &bin,
            &[
                "get",
                "secret",
                "from-file",
                "-n",
                "project-a",
                "-o",
                "json",
            ],
        );
        let s: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            decoded_config(&s)["auths"]["registry.redhat.io"],
            json!({"auth": b64("1234567|ci:tok"), "email": "ops@example.com"}),
            "{}",
            bin.display()
        );
    }
}

#[test]
fn keys_podman_refuses_are_usage_errors_before_any_request() {
    let env = Env::new(false);
    for (args, words) in [
        (
            vec!["login", "quay.io/team:1"],
            "contains a ':' character after host[:port]",
        ),
        (
            vec![
                "create",
                "--registry",
                "quay.io/team@sha256:0f0f",
                "-n",
                "project-a",
            ],
            "contains a '@' character",
        ),
        (
            vec!["login", "quay.io/team", "--docker"],
            "Credentials cannot be recorded in Docker-compatible format with namespaced key \"quay.io/team\"",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["-u", "me", "--password-stdin"]);
        let out = env.rhpull(&all, Some("token\n"));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        says(&stderr(&out), &[words]);
        assert!(
            !stderr(&out).contains("Checking"),
            "no request: {}",
            stderr(&out)
        );
    }
    assert_eq!(env.emulator.writes(), 0);
}

#[test]
fn rotate_checks_the_token_before_it_writes_and_asks_only_for_a_change() {
    let env = Env::new(false);
    let host = registry().registry.host();
    let ca = env.ca();
    ok(&env.rhpull_as_world(&[
        "create",
        "--registry",
        &host,
        "-n",
        "project-a",
        "--registry-ca",
        &ca,
    ]));
    let rotate = |token: &str, extra: &[&str]| {
        let mut args = vec![
            "rotate",
            "-u",
            world::USERNAME,
            "--registry",
            &host,
            "-n",
            "project-a",
            "--password-stdin",
            "--registry-ca",
            &ca,
        ];
        args.extend(extra);
        env.rhpull(&args, Some(&format!("{token}\n")))
    };

    // A mistyped paste: refused by the registry, nothing written or asked.
    env.emulator.reset_counters();
    let out = rotate("eyJ3cm9uZyJ9.eyJ3cm9uZyJ9.d3Jvbmc", &["--yes"]);
    failed(&out);
    says(
        &stderr(&out),
        &[
            "✗ token",
            &format!("the new token for {host} was refused"),
            "nothing was written",
        ],
    );
    assert_eq!(env.emulator.writes(), 0);

    // The token already there: nothing to ask (no --yes, no terminal), unchanged.
    let out = rotate(world::TOKEN, &[]);
    says(&ok(&out), &["unchanged"]);
    assert_eq!(env.emulator.writes(), 0);

    // --no-verify writes what it is given, and warns.
    let out = rotate("eyJuZXcifQ.eyJuZXcifQ.bmV3", &["--yes", "--no-verify"]);
    says(&ok(&out), &["configured"]);
    says(&stderr(&out), &["is not checked"]);
    let name = format!("{}-pull-secret", world::USERNAME.replace('|', "-"));
    let secret = env.kubectl_json(&["get", "secret", &name, "-n", "project-a"]);
    let entry = &decoded_config(&secret)["auths"][&host];
    assert_eq!(
        entry["auth"],
        b64(&format!("{}:eyJuZXcifQ.eyJuZXcifQ.bmV3", world::USERNAME))
    );
    assert_eq!(entry["username"], world::USERNAME, "as kubectl writes it");

    // check --secret on it names the rotate that repairs it.
    let out = env.rhpull(
        &[
            "check",
            "--secret",
            &name,
            "-n",
            "project-a",
            "--registry-ca",
            &ca,
        ],
        None,
    );
    says(
        &failed(&out),
        &[&format!(
            "kubectl rhpull rotate -u '{}' --registry {host} -n project-a",
            world::USERNAME
        )],
    );
}

/// OpenShift's registry secret of `default` in `ns`, once made.
fn managed_of(env: &Env, ns: &str) -> String {
    env.wait_for_service_account(ns, "default");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sa = env.kubectl_json(&["get", "sa", "default", "-n", ns]);
        let managed = (sa["imagePullSecrets"].as_array().into_iter().flatten())
            .filter_map(|r| r["name"].as_str())
            .find(|n| n.starts_with("default-dockercfg-"));
        if let Some(m) = managed {
            return m.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no dockercfg secret: {sa}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn openshifts_own_registry_secrets_are_left_to_openshift_in_both_forms() {
    for (legacy, words) in [
        (false, "a bound token OpenShift refreshes"),
        (true, "a long-lived token"),
    ] {
        let env = Env::start(Options {
            legacy_registry_secrets: legacy,
            ..Options::openshift()
        });
        env.emulator.create_namespace("project-a", &[]);
        let managed = managed_of(&env, "project-a");
        // What OpenShift 4.16+ writes, as real kubectl reads it.
        for bin in kubectls() {
            let sa = env.kubectl_at(
                &bin,
                &["get", "sa", "default", "-n", "project-a", "-o", "json"],
            );
            let sa: Value = serde_json::from_slice(&sa.stdout).unwrap();
            let annotated =
                sa["metadata"]["annotations"]["openshift.io/internal-registry-pull-secret-ref"]
                    .clone();
            assert_eq!(annotated.is_null(), legacy, "{}: {sa}", bin.display());
        }

        // status: OpenShift's, not a login.
        let doc: Value = serde_json::from_str(&ok(
            &env.rhpull(&["status", "-n", "project-a", "-o", "json"], None)
        ))
        .unwrap();
        let s = (doc["secrets"].as_array().unwrap().iter())
            .find(|s| s["name"] == managed.as_str())
            .unwrap_or_else(|| panic!("{doc}"));
        assert_eq!(s["internal_registry"]["service_account"], "default");
        assert_eq!(
            s["internal_registry"]["token"],
            if legacy { "legacy" } else { "bound" }
        );
        assert_eq!(s["logins"], json!([]));
        assert!(s["problem"].is_null());
        says(
            &ok(&env.rhpull(&["status", "-n", "project-a"], None)),
            &[words],
        );

        // unlink refuses it.
        let out = env.rhpull(&["unlink", "default", &managed, "-n", "project-a"], None);
        failed(&out);
        says(
            &stderr(&out),
            &["is OpenShift's own registry secret of service account default"],
        );

        // rotate -A never touches it (its username is OpenShift's).
        env.emulator.reset_counters();
        let out = env.rhpull(
            &[
                "rotate",
                "-A",
                "-u",
                "<token>",
                "--password-stdin",
                "--yes",
                "--no-verify",
            ],
            Some("x\n"),
        );
        assert_eq!(
            env.emulator.count("update", "secrets"),
            0,
            "{}",
            stderr(&out)
        );

        // A link racing the controller's re-add keeps both.
        ok(&env.rhpull_as_world(&[
            "create",
            "mine",
            "--registry",
            &registry().registry.host(),
            "-n",
            "project-a",
        ]));
        let removed = kubectl(
            &env,
            &[
                "patch",
                "sa",
                "default",
                "-n",
                "project-a",
                "--type=json",
                "-p",
                r#"[{"op": "remove", "path": "/imagePullSecrets/0"}]"#,
            ],
        );
        assert!(removed.status.success(), "{}", stderr(&removed));
        // The controller's write lands first: the link's conditional patch
        // meets a 409 and is made again on a fresh read.
        env.emulator.add_fault(Fault {
            verb: Some("patch".into()),
            resource: Some("serviceaccounts".into()),
            status: Some(409),
            remaining: 1,
            ..Fault::default()
        });
        ok(&env.rhpull(&["link", "default", "mine", "-n", "project-a"], None));
        let again = managed_of(&env, "project-a");
        assert_eq!(again, managed, "the controller put its own back");
        let sa = env.kubectl_json(&["get", "sa", "default", "-n", "project-a"]);
        let names = rhpull_e2e::env::pull_names(&sa);
        assert!(
            names.contains(&"mine".to_string()) && names.contains(&managed),
            "{names:?}"
        );
    }
}
