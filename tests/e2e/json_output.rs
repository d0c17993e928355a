//! With `-o json`, stdout holds one JSON document and nothing else — for
//! every command that reports something, whatever it prints for a person
//! on stderr (plans, progress, warnings) — and the document does not
//! change with the locale.

use rhpull_e2e::env::{Env, ok, registry};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::world;

const SECRET: &str = "7654321-rhpull-world-pull-secret";

/// `(command line, stdin, must succeed)`: `{host}`, `{image}`, `{ca}`,
/// `{user}`, `{secret}` and `{file}` are filled in. In order: later lines
/// use what earlier ones made.
const CASES: &[(&str, Option<&str>, bool)] = &[
    ("version", None, true),
    (
        "login {host} -u {user} --password-stdin --registry-ca {ca}",
        Some("{token}"),
        true,
    ),
    ("registries", None, true),
    (
        "check {host} --image {image} --registry-ca {ca}",
        None,
        true,
    ),
    (
        "check {host} --image {host}/rhel9/missing:1 --registry-ca {ca}",
        None,
        false,
    ),
    (
        "create -n project-a --from-podman --registry {host} --link default",
        None,
        true,
    ),
    (
        "create -n project-b -u {user} --password-stdin --dry-run=client",
        Some("{token}"),
        true,
    ),
    ("create -A --from-podman --registry {host}", None, true),
    (
        "create --for-imagestreams --from-podman --registry {host} --yes",
        None,
        true,
    ),
    (
        "check --secret {secret} -n project-a --registry-ca {ca}",
        None,
        true,
    ),
    (
        "check --pod web -n project-a --registry-ca {ca}",
        None,
        true,
    ),
    ("link deployer {secret} -n project-b", None, true),
    (
        "link builder {secret} --namespaces project-a,project-b",
        None,
        true,
    ),
    ("unlink deployer {secret} -n project-b", None, true),
    ("grant project-a project-b", None, true),
    ("revoke project-a project-b", None, true),
    (
        "delegated --registry {host} --registry-ca {ca} -n project-b --from-podman",
        None,
        true,
    ),
    ("global remove cloud.openshift.com --yes", None, true),
    ("global remove quay.io --yes", None, true),
    ("global set {host} --from-podman --yes", None, true),
    (
        "global set {host} --from-podman --yes --wait=2m",
        None,
        true,
    ),
    ("global status", None, true),
    ("global show", None, true),
    ("global check --registry-ca {ca}", None, true),
    ("status", None, true),
    ("status -A", None, true),
    ("fix -A --yes --registry-ca {ca}", None, true),
    (
        "rotate -A -u {user} --password-stdin --yes",
        Some("{token}"),
        true,
    ),
    ("build-secret app {secret} -n project-a", None, true),
    (
        "export ansible --from-podman --registry {host} --output-file {file}",
        None,
        true,
    ),
    (
        "export acm-policy -n project-a --from-podman --registry {host} --hub-secret hub-pull --namespaces a,b --link default",
        None,
        true,
    ),
    ("logout {host}", None, true),
];

#[test]
fn every_command_prints_one_json_document() {
    let env = Env::new(true);
    let r = registry();
    let file = env.home.path().join("inventory.ini");
    let words = [
        ("{host}", r.registry.host()),
        ("{image}", r.image()),
        ("{ca}", env.ca()),
        ("{user}", world::USERNAME.to_string()),
        ("{secret}", SECRET.to_string()),
        ("{file}", file.display().to_string()),
        ("{token}", format!("{}\n", world::TOKEN)),
    ];
    let fill = |s: &str| {
        words
            .iter()
            .fold(s.to_string(), |l, (k, v)| l.replace(k, v))
    };
    env.emulator.put(
        "BuildConfig",
        "project-a",
        serde_json::json!({"metadata": {"name": "app"}, "spec": {
            "strategy": {"type": "Docker", "dockerStrategy": {}}}}),
    );
    for (line, stdin, succeeds) in CASES {
        if line.starts_with("check --pod") {
            // A pod made after the link, the way kubectl makes one.
            env.kubectl_run("project-a", "web", &r.image());
        }
        let line = format!("{} -o json", fill(line));
        let args: Vec<&str> = line.split_whitespace().collect();
        let stdin = stdin.map(fill);
        let out = env.rhpull(&args, stdin.as_deref());
        assert_eq!(
            out.status.success(),
            *succeeds,
            "{line}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&out.stdout);
        assert!(
            parsed.is_ok(),
            "{line}: stdout is not one JSON document:\n{}",
            stdout(&out)
        );
    }
}

/// Machine output is the same document in every language.
#[test]
fn machine_output_does_not_change_with_the_locale() {
    let env = Env::new(true);
    ok(&env.rhpull_as_world(&["create", "-n", "project-a", "--link", "default"]));
    for line in [
        "version -o json",
        "registries -o json",
        "status -A -o json",
        "status -A -o yaml",
        "global show -o yaml",
        "create -n project-b -u bob --password-stdin --registry quay.io --dry-run=client -o json",
        "create -n project-b -u bob --password-stdin --registry quay.io --dry-run=client -o name",
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let c = ok(&env.rhpull_lang("C", &args, Some("pw\n")));
        let zh = ok(&env.rhpull_lang("zh_CN.UTF-8", &args, Some("pw\n")));
        assert_eq!(c, zh, "{line}");
    }
}
