//! Nothing leaked: the whole story runs with a recognisable token and
//! `-v=9` traces, and no stdout or stderr of any command carries the token,
//! its base64 forms, `base64(user:token)`, or a secret's data.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rhpull_e2e::{PluginPath, stderr, stdout};
use rhpull_testkit::kube::{Emulator, Fault, Options};
use rhpull_testkit::world::{self, RegistryWorld};

#[test]
fn no_command_prints_a_secret_in_any_form() {
    let registry = RegistryWorld::start();
    let emulator = Emulator::start(Options::openshift());
    emulator.create_namespace("project-a", &[]);
    emulator.create_namespace("project-b", &[]);
    // Faults on the way, so that retries and error paths are traced too.
    for fault in [
        Fault {
            verb: Some("get".into()),
            resource: Some("secrets".into()),
            drop_connection: true,
            remaining: 2,
            ..Fault::default()
        },
        Fault {
            verb: Some("create".into()),
            resource: Some("secrets".into()),
            status: Some(429),
            ..Fault::default()
        },
        Fault {
            verb: Some("update".into()),
            resource: Some("serviceaccounts".into()),
            status: Some(500),
            ..Fault::default()
        },
    ] {
        emulator.add_fault(fault);
    }
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let host = registry.registry.host();
    let image = registry.image();
    let ca = registry.ca_file.display().to_string();
    let auth = home.path().join("auth.json").display().to_string();
    let kubeconfig = emulator.kubeconfig.display().to_string();
    let envs = [
        ("KUBECONFIG", kubeconfig.as_str()),
        ("REGISTRY_AUTH_FILE", auth.as_str()),
    ];
    let token = format!("{}\n", world::TOKEN);
    let new_token = "eyJuZXctY2FuYXJ5.eyJjYW5hcnkiOiJ0b2tlbiJ9.Q0FOQVJZLVNJR05BVFVSRQ";
    let user = world::USERNAME;

    let runs: Vec<(Vec<&str>, Option<String>)> = vec![
        (
            vec![
                "login",
                &host,
                "-u",
                user,
                "--password-stdin",
                "--registry-ca",
                &ca,
            ],
            Some(token.clone()),
        ),
        (
            vec![
                "login",
                &host,
                "-u",
                user,
                "--password-stdin",
                "--registry-ca",
                &ca,
            ],
            Some("eyJ.wrong.token\n".into()),
        ),
        (
            vec!["check", &host, "--image", &image, "--registry-ca", &ca],
            None,
        ),
        (
            vec!["check", &host, "-o", "json", "--registry-ca", &ca],
            None,
        ),
        (
            vec![
                "check",
                &host,
                "-u",
                user,
                "--password-stdin",
                "--registry-ca",
                &ca,
            ],
            Some(format!(" {}\n", world::TOKEN)),
        ),
        (vec!["registries", "-o", "json"], None),
        (
            vec![
                "create",
                "--from-podman",
                "--registry",
                &host,
                "-n",
                "project-a",
                "--link",
                "default",
                "-v=9",
            ],
            None,
        ),
        (
            vec![
                "create",
                "--from-podman",
                "--registry",
                &host,
                "-n",
                "project-a",
                "-o",
                "yaml",
                "-v=9",
            ],
            None,
        ),
        (
            vec![
                "create",
                "--from-podman",
                "--registry",
                &host,
                "-n",
                "project-b",
                "--dry-run=client",
                "-o",
                "json",
            ],
            None,
        ),
        (
            vec![
                "create",
                "--from-podman",
                "--registry",
                &host,
                "-n",
                "project-b",
                "--dry-run=server",
                "-v=9",
            ],
            None,
        ),
        (
            vec!["create", "--from-podman", "--registry", &host, "-A", "-v=9"],
            None,
        ),
        (vec!["link", "default", "-n", "project-a", "-v=9"], None),
        (vec!["status", "-A", "-o", "json", "-v=9"], None),
        (vec!["status", "-A", "-o", "yaml"], None),
        (
            vec![
                "check",
                &host,
                "--secret",
                "7654321-rhpull-world-pull-secret",
                "-n",
                "project-a",
                "--registry-ca",
                &ca,
                "-v=9",
            ],
            None,
        ),
        (
            vec![
                "delegated",
                "--registry",
                &host,
                "-u",
                user,
                "--password-stdin",
                "--registry-ca",
                &ca,
                "-n",
                "project-b",
                "-v=9",
            ],
            Some(token.clone()),
        ),
        (
            vec![
                "global",
                "set",
                &host,
                "-u",
                user,
                "--password-stdin",
                "--yes",
                "-v=9",
            ],
            Some(token.clone()),
        ),
        (vec!["global", "show", "-o", "json"], None),
        (
            vec![
                "rotate",
                "-A",
                "-u",
                user,
                "--password-stdin",
                "--yes",
                "-v=9",
            ],
            Some(format!("{new_token}\n")),
        ),
        (
            vec![
                "rotate",
                "-A",
                "-u",
                user,
                "--password-stdin",
                "--dry-run=client",
                "-o",
                "json",
            ],
            Some(token.clone()),
        ),
        (vec!["logout", &host], None),
    ];

    let mut forms = vec![world::TOKEN.to_string(), new_token.to_string()];
    for secret in [world::TOKEN, new_token] {
        for s in [secret.to_string(), format!("{user}:{secret}")] {
            forms.push(STANDARD.encode(&s));
            forms.push(STANDARD_NO_PAD.encode(&s));
            forms.push(URL_SAFE_NO_PAD.encode(&s));
        }
    }
    let mut all_output = String::new();
    let mut data_before_rotation = String::new();
    for (args, stdin) in &runs {
        if args[0] == "rotate" && data_before_rotation.is_empty() {
            let secret = emulator
                .get("Secret", "project-a", "7654321-rhpull-world-pull-secret")
                .unwrap();
            data_before_rotation = secret["data"][".dockerconfigjson"]
                .as_str()
                .unwrap()
                .to_string();
        }
        let out = match stdin {
            Some(s) => plugin.rhpull_with_stdin(home.path(), &envs, args, s),
            None => plugin.rhpull(home.path(), &envs, args),
        };
        let text = format!("{}{}", stdout(&out), stderr(&out));
        for f in &forms {
            assert!(
                !text.contains(f.as_str()),
                "`kubectl rhpull {}` printed a secret form {f:?}:\n{text}",
                args.join(" ")
            );
        }
        all_output.push_str(&text);
    }
    // The secret data stored in the cluster never shows either.
    let data = data_before_rotation.as_str();
    assert!(!all_output.contains(data), "a secret's data was printed");
    assert!(
        all_output.contains("REDACTED"),
        "machine output redacts secret data"
    );
    assert!(all_output.contains("I GET "), "-v=9 traced requests");
    assert!(
        all_output.contains("will be retried"),
        "retries were traced"
    );
    assert!(
        all_output.contains("the API server failed: 500"),
        "a failed write was reported"
    );
    // The rotation really happened, so its output was exercised.
    let rotated = emulator
        .get("Secret", "project-a", "7654321-rhpull-world-pull-secret")
        .unwrap();
    assert_ne!(rotated["data"][".dockerconfigjson"].as_str().unwrap(), data);
}
