//! Nothing leaked: the whole story runs with a recognisable token and
//! `-v=9` traces, and no stdout or stderr of any command carries the token,
//! its base64 forms, `base64(user:token)`, or a secret's data.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use rhpull_e2e::env::{Env, registry};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Fault;
use rhpull_testkit::world;

/// What a command reads on stdin.
#[derive(Clone, Copy)]
enum Stdin {
    Nothing,
    Token,
    /// The token with a space before it (a paste mistake).
    SpacedToken,
    WrongToken,
    NewToken,
}

/// The story, a command a line: `{host}`, `{image}`, `{ca}` and `{user}`
/// are the world's.
const CASES: &[(&str, Stdin)] = &[
    (
        "login {host} -u {user} --password-stdin --registry-ca {ca}",
        Stdin::Token,
    ),
    (
        "login {host} -u {user} --password-stdin --registry-ca {ca}",
        Stdin::WrongToken,
    ),
    (
        "check {host} --image {image} --registry-ca {ca}",
        Stdin::Nothing,
    ),
    ("check {host} -o json --registry-ca {ca}", Stdin::Nothing),
    (
        "check {host} -u {user} --password-stdin --registry-ca {ca}",
        Stdin::SpacedToken,
    ),
    ("registries -o json", Stdin::Nothing),
    (
        "create --from-podman --registry {host} -n project-a --link default -v=9",
        Stdin::Nothing,
    ),
    (
        "create --from-podman --registry {host} -n project-a -o yaml -v=9",
        Stdin::Nothing,
    ),
    (
        "create --from-podman --registry {host} -n project-b --dry-run=client -o json",
        Stdin::Nothing,
    ),
    (
        "create --from-podman --registry {host} -n project-b --dry-run=server -v=9",
        Stdin::Nothing,
    ),
    (
        "create --from-podman --registry {host} -A -v=9",
        Stdin::Nothing,
    ),
    ("link default -n project-a -v=9", Stdin::Nothing),
    ("status -A -o json -v=9", Stdin::Nothing),
    ("status -A -o yaml", Stdin::Nothing),
    (
        "check --secret 7654321-rhpull-world-pull-secret -n project-a --registry-ca {ca} -v=9",
        Stdin::Nothing,
    ),
    (
        "delegated --registry {host} -u {user} --password-stdin --registry-ca {ca} -n project-b -v=9",
        Stdin::Token,
    ),
    (
        "global set {host} -u {user} --password-stdin --yes -v=9",
        Stdin::Token,
    ),
    ("global show -o json", Stdin::Nothing),
    (
        "global set {host} -u {user} --password-stdin --yes --wait=2m -o json -v=9",
        Stdin::Token,
    ),
    ("global status -o json -v=9", Stdin::Nothing),
    ("global status", Stdin::Nothing),
    // Checked first: the registry refuses the new token, nothing is written.
    (
        "rotate -A -u {user} --password-stdin --yes --registry-ca {ca} -v=9",
        Stdin::NewToken,
    ),
    (
        "rotate -A -u {user} --password-stdin --yes --no-verify -v=9",
        Stdin::NewToken,
    ),
    (
        "rotate -A -u {user} --password-stdin --dry-run=client -o json",
        Stdin::Token,
    ),
    ("logout {host}", Stdin::Nothing),
];

const NEW_TOKEN: &str = "eyJuZXctY2FuYXJ5.eyJjYW5hcnkiOiJ0b2tlbiJ9.Q0FOQVJZLVNJR05BVFVSRQ";

/// Faults on the way, so that retries and error paths are traced too.
fn faults() -> [Fault; 3] {
    let on = |verb: &str, resource: &str| Fault {
        verb: Some(verb.into()),
        resource: Some(resource.into()),
        ..Fault::default()
    };
    [
        Fault {
            drop_connection: true,
            remaining: 2,
            ..on("get", "secrets")
        },
        Fault {
            status: Some(429),
            ..on("create", "secrets")
        },
        Fault {
            status: Some(500),
            ..on("patch", "serviceaccounts")
        },
    ]
}

/// Every form a secret could leak in.
fn secret_forms() -> Vec<String> {
    let mut forms = vec![world::TOKEN.to_string(), NEW_TOKEN.to_string()];
    for secret in [world::TOKEN, NEW_TOKEN] {
        for s in [secret.to_string(), format!("{}:{secret}", world::USERNAME)] {
            forms.push(STANDARD.encode(&s));
            forms.push(STANDARD_NO_PAD.encode(&s));
            forms.push(URL_SAFE_NO_PAD.encode(&s));
        }
    }
    forms
}

#[test]
fn no_command_prints_a_secret_in_any_form() {
    let env = Env::new(true);
    for fault in faults() {
        env.emulator.add_fault(fault);
    }
    let r = registry();
    let words = [
        ("{host}", r.registry.host()),
        ("{image}", r.image()),
        ("{ca}", env.ca()),
        ("{user}", world::USERNAME.to_string()),
    ];
    let forms = secret_forms();
    let stored = || {
        let secret = env
            .emulator
            .get("Secret", "project-a", "7654321-rhpull-world-pull-secret")
            .unwrap();
        secret["data"][".dockerconfigjson"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut all_output = String::new();
    let mut data_before_rotation = String::new();
    for (line, stdin) in CASES {
        let line = words
            .iter()
            .fold(line.to_string(), |l, (k, v)| l.replace(k, v));
        let args: Vec<&str> = line.split_whitespace().collect();
        if args[0] == "rotate" && data_before_rotation.is_empty() {
            data_before_rotation = stored();
        }
        let stdin = match stdin {
            Stdin::Nothing => None,
            Stdin::Token => Some(format!("{}\n", world::TOKEN)),
            Stdin::SpacedToken => Some(format!(" {}\n", world::TOKEN)),
            Stdin::WrongToken => Some("eyJ.wrong.token\n".into()),
            Stdin::NewToken => Some(format!("{NEW_TOKEN}\n")),
        };
        let out = env.rhpull(&args, stdin.as_deref());
        let text = format!("{}{}", stdout(&out), stderr(&out));
        for f in &forms {
            assert!(
                !text.contains(f.as_str()),
                "`kubectl rhpull {line}` printed a secret form {f:?}:\n{text}"
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
    assert_ne!(stored(), data);
}
