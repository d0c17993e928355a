//! Promises kept to the letter (issue "Promises kept to the letter"): what
//! each flag's help says, checked as a new user would meet it.

use base64::Engine as _;
use rhpull_e2e::env::{Env, failed, ok, registry, says};
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Options;
use rhpull_testkit::world;
use serde_json::{Value, json};

/// A plain `check` with an auth file that cannot be read says that alone:
/// no announcement of a check of a registry nobody chose.
#[test]
fn a_broken_auth_file_is_the_whole_answer_of_a_plain_check() {
    let env = Env::start(Options::default());
    std::fs::write(
        env.authfile(),
        "{\"auths\": {\n  \"quay.io\": {\"auth\": \"eA==\"},,\n}}\n",
    )
    .unwrap();
    let out = env.rhpull(&["check"], None);
    failed(&out);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    says(
        &said,
        &[
            &env.authfile().display().to_string(),
            "is not valid JSON (line 2",
        ],
    );
    assert!(!said.contains("No registry named"), "{said}");
    assert!(!said.contains("registry.redhat.io"), "{said}");
}

/// A login stored under a path-scoped key (`host/namespace`) is checked at
/// its host with that login, and the report names the key.
#[test]
fn a_path_scoped_login_is_checked_at_its_host() {
    let env = Env::start(Options::default());
    let host = registry().registry.host();
    let key = format!("{host}/rhel9");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        world::USERNAME,
        world::TOKEN
    ));
    std::fs::write(
        env.authfile(),
        json!({"auths": {key.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let ca = env.ca();
    let said = ok(&env.rhpull(&["check", "--registry-ca", &ca], None));
    assert!(!said.contains("cannot resolve"), "{said}");
    says(&said, &[&host]);
    let doc: Value = serde_json::from_str(&ok(
        &env.rhpull(&["check", "--registry-ca", &ca, "-o", "json"], None)
    ))
    .unwrap();
    assert_eq!(doc["key"], key.as_str(), "{doc}");
    assert_eq!(doc["registry"], host.as_str(), "{doc}");
    assert_eq!(doc["passed"], true, "{doc}");
}
