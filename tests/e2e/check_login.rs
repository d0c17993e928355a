//! `kubectl rhpull login | check | doctor | logout` through real kubectl,
//! against the real registry with token auth and the SSO-like token server.
//! What rhpull saves is then used by real skopeo.

use std::path::Path;

use rhpull_e2e::env::{Env, registry};
use rhpull_e2e::{kubectls, stderr, stdout};
use rhpull_testkit::skopeo;
use rhpull_testkit::world::{self, RegistryWorld};

fn world() -> &'static RegistryWorld {
    registry()
}

/// Registry-only commands: `REGISTRY_AUTH_FILE` in the test's HOME, and the
/// world's CA.
trait Registry {
    fn authfile_str(&self) -> String;
    fn run(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output;
    fn login(&self, token: &str) -> std::process::Output;
}

impl Registry for Env {
    fn authfile_str(&self) -> String {
        self.authfile().display().to_string()
    }

    /// `kubectl rhpull <args> --registry-ca CA` with REGISTRY_AUTH_FILE set.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let ca = self.ca();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--registry-ca", &ca]);
        self.rhpull(&all, stdin)
    }

    fn login(&self, token: &str) -> std::process::Output {
        let host = world().registry.host();
        self.run(
            &["login", &host, "-u", world::USERNAME, "--password-stdin"],
            Some(&format!("{token}\n")),
        )
    }
}

fn new_env() -> Env {
    Env::start(rhpull_testkit::kube::Options::default())
}

fn no_secret_in(out: &std::process::Output) {
    for text in [stdout(out), stderr(out)] {
        assert!(!text.contains(world::TOKEN), "the token leaked:\n{text}");
        assert!(
            !text.contains(&world::TOKEN[..40]),
            "part of the token leaked:\n{text}"
        );
    }
}

#[test]
fn login_verifies_saves_0600_and_skopeo_uses_it() {
    let env = new_env();
    // An unrelated login the user already had must survive.
    std::fs::write(
        env.authfile(),
        r#"{"auths":{"quay.io":{"auth":"Ym9iOnB3"}}}"#,
    )
    .unwrap();
    let out = env.login(world::TOKEN);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Login Succeeded"), "{}", stdout(&out));
    no_secret_in(&out);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(env.authfile())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.authfile()).unwrap()).unwrap();
    assert_eq!(saved["auths"]["quay.io"]["auth"], "Ym9iOnB3");
    assert!(saved["auths"][world().registry.host()]["auth"].is_string());

    // Real skopeo pulls with what rhpull saved.
    let inspect = skopeo::inspect(
        &world().image(),
        &env.authfile(),
        &world().registry.cert_dir,
    );
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );

    // Idempotent: the second login changes nothing and says so.
    let before = std::fs::read(env.authfile()).unwrap();
    let again = env.login(world::TOKEN);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("nothing changed"),
        "{}",
        stdout(&again)
    );
    assert_eq!(std::fs::read(env.authfile()).unwrap(), before);
}

#[test]
fn a_wrong_token_is_not_saved_and_the_cause_is_named() {
    let env = new_env();
    let out = env.login("eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ3cm9uZyJ9.d3Jvbmc");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("✗ token"), "{text}");
    assert!(text.contains("the username or token was refused"), "{text}");
    assert!(text.contains("kubectl rhpull login"), "{text}");
    assert!(text.contains("was not saved"), "{text}");
    assert!(!env.authfile().exists());
}

#[test]
fn check_uses_the_stored_login_and_every_kubectl_dispatches_it() {
    let env = new_env();
    assert!(env.login(world::TOKEN).status.success());
    let host = world().registry.host();
    let image = world().image();
    for kubectl in kubectls() {
        let ca = env.ca();
        let auth = env.authfile_str();
        let out = env
            .plugin
            .command(
                &kubectl,
                env.home.path(),
                &[
                    "rhpull",
                    "check",
                    &host,
                    "--image",
                    &image,
                    "--registry-ca",
                    &ca,
                ],
            )
            .env("REGISTRY_AUTH_FILE", &auth)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}\n{}",
            kubectl.display(),
            stdout(&out),
            stderr(&out)
        );
        let text = stdout(&out);
        for step in [
            "✓ credentials",
            "✓ dns",
            "✓ connect",
            "✓ tls",
            "✓ challenge",
            "✓ token",
            "✓ registry",
            "✓ image",
        ] {
            assert!(text.contains(step), "{step} missing:\n{text}");
        }
        assert!(text.contains("All checks passed."), "{text}");
        no_secret_in(&out);
    }
    // The alias, and JSON for scripts.
    let out = env.run(&["doctor", &host, "-o", "json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["steps"][0]["detail"]["username"], world::USERNAME);
    assert_eq!(v["source"]["kind"], "file");
    no_secret_in(&out);
}

#[test]
fn check_failures_exit_1_with_the_cause_in_both_languages() {
    let env = new_env();
    let host = world().registry.host();
    let image = format!("{host}/rhel9/not-there:1");
    let args = [
        "check",
        &host,
        "--image",
        &image,
        "-u",
        world::USERNAME,
        "--password-stdin",
    ];
    let stdin = format!("{}\n", world::TOKEN);
    let en = env.run(&args, Some(&stdin));
    assert_eq!(en.status.code(), Some(1));
    assert!(
        stdout(&en).contains("no such image or repository: rhel9/not-there"),
        "{}",
        stdout(&en)
    );

    let ca = env.ca();
    let mut zh_args: Vec<&str> = args.to_vec();
    zh_args.extend(["--registry-ca", &ca]);
    let auth = env.authfile_str();
    let zh = env.plugin.rhpull_with_stdin(
        env.home.path(),
        &[("LANG", "zh_CN.UTF-8"), ("REGISTRY_AUTH_FILE", &auth)],
        &zh_args,
        &stdin,
    );
    assert_eq!(zh.status.code(), Some(1));
    assert!(stdout(&zh).contains("镜像或仓库不存在"), "{}", stdout(&zh));

    // JSON is the same whatever the language (timings aside).
    let json = |lang: &str| {
        let mut a: Vec<&str> = zh_args.clone();
        a.extend(["-o", "json"]);
        let out = env
            .plugin
            .rhpull_with_stdin(env.home.path(), &[("LANG", lang)], &a, &stdin);
        assert_eq!(out.status.code(), Some(1));
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for s in v["steps"].as_array_mut().unwrap() {
            s["elapsed_ms"] = 0.into();
        }
        v
    };
    assert_eq!(json("C"), json("zh_CN.UTF-8"));
}

#[test]
fn paste_mistakes_are_named_before_any_request() {
    let env = new_env();
    // A world of its own, so other tests' token requests do not count here.
    let own = RegistryWorld::start();
    let host = own.registry.host();
    let ca = own.ca_file.display().to_string();
    let before = own.sso.requests(); // the image push at start-up made some
    // A token with a line break in the middle, as a wrapped copy gives.
    let broken = format!("{}\n{}\n", &world::TOKEN[..30], &world::TOKEN[30..]);
    let out = env.plugin.rhpull_with_stdin(
        env.home.path(),
        &[],
        &[
            "check",
            &host,
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--registry-ca",
            &ca,
        ],
        &broken,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("✗ credentials"), "{text}");
    assert!(text.contains("line breaks"), "{text}");
    assert_eq!(own.sso.requests(), before, "no request may be sent");
    no_secret_in(&out);
    let host = world().registry.host();

    // A service account username whose '|' the shell ate.
    let out = env.run(
        &[
            "check",
            &host,
            "-u",
            "7654321rhpull-world",
            "--password-stdin",
        ],
        Some(world::TOKEN),
    );
    assert!(stdout(&out).contains("without its '|'"), "{}", stdout(&out));
}

#[test]
fn without_a_terminal_missing_values_are_usage_errors_naming_the_flag() {
    let env = new_env();
    let host = world().registry.host();
    let out = env.run(&["login", &host], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--username"), "{}", stderr(&out));
    let out = env.run(&["login", &host, "-u", world::USERNAME], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn password_flags_work_but_warn_and_the_env_var_does_not() {
    let env = new_env();
    let host = world().registry.host();
    let out = env.run(
        &["check", &host, "-u", world::USERNAME, "-p", world::TOKEN],
        None,
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("warning: a password on the command line"),
        "{}",
        stderr(&out)
    );

    let ca = env.ca();
    let out = env.plugin.rhpull(
        env.home.path(),
        &[("RHPULL_PASSWORD", world::TOKEN)],
        &["check", &host, "-u", world::USERNAME, "--registry-ca", &ca],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn logout_removes_only_that_registry_and_is_idempotent() {
    let env = new_env();
    std::fs::write(
        env.authfile(),
        r#"{"auths":{"quay.io":{"auth":"Ym9iOnB3"}}}"#,
    )
    .unwrap();
    assert!(env.login(world::TOKEN).status.success());
    let host = world().registry.host();
    let auth = env.authfile_str();
    let envs = [("REGISTRY_AUTH_FILE", auth.as_str())];
    let out = env
        .plugin
        .rhpull(env.home.path(), &envs, &["logout", &host]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Removed the login"),
        "{}",
        stdout(&out)
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.authfile()).unwrap()).unwrap();
    assert_eq!(saved["auths"].as_object().unwrap().len(), 1);
    assert_eq!(saved["auths"]["quay.io"]["auth"], "Ym9iOnB3");
    let again = env
        .plugin
        .rhpull(env.home.path(), &envs, &["logout", &host]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("nothing changed"),
        "{}",
        stdout(&again)
    );
}

/// Drives `kubectl rhpull login` in a real terminal (tmux): the username is
/// asked for, the token prompt does not echo, and the login is saved.
#[test]
fn login_prompts_on_a_terminal_and_hides_the_token() {
    if rhpull_testkit::tools::find("tmux").is_none() {
        panic!(
            "tmux is not installed: run `cargo xtask test` (it installs the Debian package tmux)"
        );
    }
    let env = new_env();
    let host = world().registry.host();
    let session = format!("rhpull-login-{}", std::process::id());
    let script = env.home.path().join("run.sh");
    let done = env.home.path().join("exit-code");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexport PATH='{path}' HOME='{home}' REGISTRY_AUTH_FILE='{auth}' LANG=C\nkubectl rhpull login {host} --registry-ca '{ca}'\necho $? > '{done}'\nsleep 5\n",
            path = env.plugin.path_var().to_string_lossy(),
            home = env.home.path().display(),
            auth = env.authfile().display(),
            ca = env.ca(),
            done = done.display(),
        ),
    )
    .unwrap();
    let tmux = |args: &[&str]| {
        let out = std::process::Command::new("tmux")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let script_arg = format!("sh {}", script.display());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &script_arg,
    ]);
    let _cleanup = KillSession(session.clone());
    let wait_for = |needle: &str| {
        for _ in 0..100 {
            let screen = tmux(&["capture-pane", "-p", "-t", &session]);
            if screen.contains(needle) {
                return screen;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "{needle:?} never appeared:\n{}",
            tmux(&["capture-pane", "-p", "-t", &session])
        );
    };
    wait_for("Username for");
    tmux(&["send-keys", "-t", &session, "-l", world::USERNAME]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    wait_for("Password or token for");
    tmux(&["send-keys", "-t", &session, "-l", world::TOKEN]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let screen = wait_for("Login Succeeded");
    assert!(
        !screen.contains(&world::TOKEN[..20]),
        "the token was echoed:\n{screen}"
    );
    for _ in 0..50 {
        if done.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&done).unwrap().trim(), "0");
    assert!(Path::new(&env.authfile()).exists());
}

struct KillSession(String);

impl Drop for KillSession {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

/// A login that dies between writing the temp file and the rename leaves
/// the user's file exactly as it was — never truncated.
#[test]
fn a_crash_mid_write_never_truncates_the_auth_file() {
    let env = new_env();
    let before = r#"{"auths":{"quay.io":{"auth":"Ym9iOnB3"}}}"#;
    std::fs::write(env.authfile(), before).unwrap();
    let host = world().registry.host();
    let ca = env.ca();
    let auth = env.authfile_str();
    let out = env.plugin.rhpull_with_stdin(
        env.home.path(),
        &[
            ("REGISTRY_AUTH_FILE", &auth),
            ("RHPULL_FAULT_CRASH_BEFORE_RENAME", "1"),
        ],
        &[
            "login",
            &host,
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--registry-ca",
            &ca,
        ],
        &format!("{}\n", world::TOKEN),
    );
    assert!(!out.status.success(), "the fault must stop the process");
    assert_eq!(
        std::fs::read_to_string(env.authfile()).unwrap(),
        before,
        "the file is untouched"
    );
    // The next run finishes the job, keeping a backup of the user's file.
    let out = env.login(world::TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Kept a copy"), "{}", stdout(&out));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.authfile()).unwrap()).unwrap();
    assert_eq!(saved["auths"]["quay.io"]["auth"], "Ym9iOnB3");
}

/// The portal's downloads: `login --from-file` merges the "Docker
/// Configuration" auth.json (never `mv` over the user's file), and
/// `check --from-file` reads the "OpenShift Secret" YAML.
#[test]
fn portal_downloads_are_merged_and_read() {
    use base64::Engine as _;
    let env = new_env();
    std::fs::write(
        env.authfile(),
        r#"{"auths":{"quay.io":{"auth":"Ym9iOnB3"}}}"#,
    )
    .unwrap();
    let host = world().registry.host();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        world::USERNAME,
        world::TOKEN
    ));
    let download = env.home.path().join("7654321-rhpull-world-auth.json");
    std::fs::write(
        &download,
        serde_json::json!({"auths": {&host: {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let out = env.run(&["login", "--from-file", download.to_str().unwrap()], None);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.authfile()).unwrap()).unwrap();
    assert_eq!(
        saved["auths"]["quay.io"]["auth"], "Ym9iOnB3",
        "every other login kept"
    );
    assert!(saved["auths"][&host].is_object());
    assert!(
        stdout(&out).contains("Kept a copy"),
        "the old file is backed up: {}",
        stdout(&out)
    );

    let cfg = serde_json::json!({"auths": {&host: {"auth": auth}}}).to_string();
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: 7654321-rhpull-world-pull-secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        base64::engine::general_purpose::STANDARD.encode(cfg)
    );
    let secret_yml = env.home.path().join("7654321-rhpull-world-secret.yml");
    std::fs::write(&secret_yml, yaml).unwrap();
    let out = env.run(
        &["check", &host, "--from-file", secret_yml.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let other = env.home.path().join("cm.yaml");
    std::fs::write(&other, "kind: ConfigMap\nmetadata:\n  name: x\n").unwrap();
    let out = env.run(
        &["check", &host, "--from-file", other.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a Kubernetes ConfigMap, not a registry credential file"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Secret manifest"),
        "what is accepted is named: {}",
        stderr(&out)
    );
}

/// `export ansible`: the installer's inventory variables, to a 0600 file
/// or to stdout only when asked.
#[test]
fn export_ansible_writes_the_installer_inventory_variables() {
    use base64::Engine as _;
    let env = new_env();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let file = serde_json::json!({"auths": {
        "registry.redhat.io": {"auth": b64("1234567|sa:TOKEN-A")},
        "registry.connect.redhat.com": {"auth": b64("bob:TOKEN-B")},
        "quay.io": {"auth": b64("q:TOKEN-Q")},
    }});
    std::fs::write(env.authfile(), file.to_string()).unwrap();
    let auth = env.authfile_str();
    let envs = [("REGISTRY_AUTH_FILE", auth.as_str())];
    let out = env.plugin.rhpull(
        env.home.path(),
        &envs,
        &["export", "ansible", "--from-podman"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "tokens are not printed unasked: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("--output-file"));

    let target = env.home.path().join("vars.ini");
    let out = env.plugin.rhpull(
        env.home.path(),
        &envs,
        &[
            "export",
            "ansible",
            "--from-podman",
            "--output-file",
            target.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("TOKEN"));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let vars = std::fs::read_to_string(&target).unwrap();
    assert!(vars.contains("oreg_auth_user='1234567|sa'"), "{vars}");
    assert!(vars.contains("oreg_auth_password='TOKEN-A'"), "{vars}");
    assert!(
        vars.contains("'host':'registry.connect.redhat.com','user':'bob','password':'TOKEN-B'"),
        "{vars}"
    );
    assert!(
        !vars.contains("quay.io"),
        "only the Red Hat registries by default: {vars}"
    );
    // No guessed test image: without --test-image the login is not tested.
    assert!(vars.contains("'test_login':'False'"), "{vars}");
    assert!(!vars.contains("test_image"), "{vars}");
    let image = "registry.connect.redhat.com/acme/app:1";
    let out = env.plugin.rhpull(
        env.home.path(),
        &envs,
        &[
            "export",
            "ansible",
            "--from-podman",
            "--test-image",
            image,
            "--output-file",
            target.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let vars = std::fs::read_to_string(&target).unwrap();
    assert!(
        vars.contains(&format!("'test_login':'True','test_image':'{image}'")),
        "{vars}"
    );

    let out = env.plugin.rhpull(
        env.home.path(),
        &envs,
        &[
            "export",
            "ansible",
            "--from-podman",
            "--registry",
            "quay.io",
            "--show-secrets",
        ],
    );
    assert!(
        stdout(&out).contains("'host':'quay.io'"),
        "{}",
        stdout(&out)
    );
}
