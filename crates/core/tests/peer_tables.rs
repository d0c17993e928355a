//! The peers' own test tables, translated: containers/image
//! `pkg/docker/config/config_test.go` (v5.36: TestValidateKey,
//! TestSetCredentials, TestRemoveAuthentication,
//! TestSetCredentialsInteroperability) and kubectl's
//! `pkg/cmd/create/create_secret_docker_test.go`
//! (TestCreateSecretDockerRegistry). Where rhpull differs on purpose, the
//! case says so.

use std::path::Path;

use rhpull_core::Credential;
use rhpull_core::authfile::keys::{self, KeyProblem};
use rhpull_core::authfile::{AuthFile, AuthFormat, Change};
use serde_json::Value;

fn file(format: AuthFormat, json: &str) -> AuthFile {
    AuthFile::parse(Path::new("auth.json"), format, json.as_bytes()).unwrap()
}

fn doc(f: &AuthFile) -> Value {
    serde_json::from_slice(&f.to_bytes()).unwrap()
}

#[test]
fn validate_key() {
    for key in [
        "host/foo:tag",
        "host/foo@digest",
        "localhost:5000/repo:tag",
        "localhost:5000/repo@digest",
    ] {
        assert!(keys::validate(key).is_err(), "{key}");
    }
    // containers/image refuses "https://my-registry.local" too; rhpull
    // has always taken a scheme key as docker's legacy spelling of the host.
    assert_eq!(keys::validate("https://my-registry.local"), Ok(false));
    for (key, namespaced) in [
        ("my-registry.local", false),
        ("my-registry.local/path", true),
        ("quay.io/a/b/c/d", true),
        ("localhost:5000", false),
        ("localhost:5000/repo", true),
    ] {
        assert_eq!(keys::validate(key), Ok(namespaced), "{key}");
    }
    assert_eq!(
        keys::validate("host/foo:tag").unwrap_err().to_string(),
        "key host/foo:tag contains a ':' character after host[:port]"
    );
    assert_eq!(
        keys::validate("host/foo@digest").unwrap_err().to_string(),
        "key host/foo@digest contains a '@' character"
    );
}

#[test]
fn set_credentials() {
    let cases: [&[&str]; 4] = [
        &["quay.io"],
        &["quay.io/a/b/c/d/image"],
        &[
            "quay.io/a/b/c",
            "quay.io/a/b",
            "quay.io/a",
            "quay.io",
            "my-registry.local",
            "my-registry.local",
        ],
        &[
            "docker.io",
            "docker.io/vendor/product",
            "docker.io/vendor",
            "docker.io/library/busybox",
            "docker.io/library",
        ],
    ];
    for keys_set in cases {
        let mut f = file(AuthFormat::Containers, "{}");
        let mut written = std::collections::BTreeMap::new();
        for (i, key) in keys_set.iter().enumerate() {
            f.set(&Credential::new(
                *key,
                format!("username-{i}"),
                format!("password-{i}"),
            ));
            written.insert(key.to_string(), i);
        }
        let d = doc(&f);
        assert_eq!(
            d["auths"].as_object().unwrap().len(),
            written.len(),
            "{keys_set:?}"
        );
        for (key, i) in &written {
            let got = f.get(key).unwrap().unwrap_or_else(|| panic!("{key}"));
            assert_eq!(got.username, format!("username-{i}"), "{key}");
            assert!(!d["auths"][key]["auth"].as_str().unwrap().is_empty());
            // podman writes `auth` alone.
            assert_eq!(d["auths"][key].as_object().unwrap().len(), 1, "{key}");
        }
    }
}

#[test]
fn remove_authentication() {
    let auth = r#"{"auth": "ZXhhbXBsZTpvcmc="}"#;
    let with = |keys: &[&str]| {
        let entries: Vec<String> = keys.iter().map(|k| format!("\"{k}\": {auth}")).collect();
        file(
            AuthFormat::Containers,
            &format!("{{\"auths\": {{{}}}}}", entries.join(",")),
        )
    };
    let mut f = with(&["quay.io"]);
    assert!(f.remove("quay.io"));
    assert_eq!(doc(&f)["auths"].as_object().unwrap().len(), 0);

    let mut f = with(&["quay.io"]);
    assert!(!f.remove("quay.io/user/image"), "not logged in there");
    assert!(doc(&f)["auths"]["quay.io"]["auth"].is_string());

    let mut f = with(&["quay.io", "my-registry.local"]);
    assert!(f.remove("my-registry.local"));
    assert_eq!(doc(&f)["auths"].as_object().unwrap().len(), 1);

    let mut f = with(&[
        "quay.io/a/b/c",
        "quay.io/a/b",
        "quay.io/a",
        "quay.io",
        "my-registry.local",
    ]);
    for k in ["quay.io/a/b", "quay.io", "my-registry.local"] {
        assert!(f.remove(k), "{k}");
    }
    let d = doc(&f);
    let left: Vec<&String> = d["auths"].as_object().unwrap().keys().collect();
    assert_eq!(left, ["quay.io/a", "quay.io/a/b/c"]);
}

#[test]
fn set_credentials_interoperability() {
    let other = r#"{"auths":{"unmodified-domain.example":{"identitytoken":"identity"}},"psFormat":"psFormatValue","credHelpers":{"helper-domain.example":"helper-name"}}"#;
    for (login_key, other_contents, refused) in [
        ("example.com", false, false),
        ("example.com:8000", false, false),
        ("docker.io", false, false),
        ("example.com", true, false),
        ("example.com/ns", false, true),
        ("example.com:8000/ns", false, true),
    ] {
        if refused {
            assert!(
                matches!(
                    keys::validate_for_docker(login_key),
                    Err(KeyProblem::NamespacedInDocker(_))
                ),
                "{login_key}"
            );
            assert_eq!(
                keys::validate_for_docker(login_key)
                    .unwrap_err()
                    .to_string(),
                format!(
                    "Credentials cannot be recorded in Docker-compatible format with namespaced key \"{login_key}\""
                )
            );
            continue;
        }
        keys::validate_for_docker(login_key).unwrap();
        let mut f = file(
            AuthFormat::Docker,
            if other_contents { other } else { "{}" },
        );
        f.set(&Credential::new(login_key, "some-user", "some-password"));
        let d = doc(&f);
        // Docker files Docker Hub under its legacy URL.
        let key = if login_key == "docker.io" {
            "https://index.docker.io/v1/"
        } else {
            login_key
        };
        assert!(d["auths"][key]["auth"].is_string(), "{d}");
        if other_contents {
            assert_eq!(d["psFormat"], "psFormatValue");
            assert_eq!(d["credHelpers"]["helper-domain.example"], "helper-name");
            assert_eq!(
                d["auths"]["unmodified-domain.example"]["identitytoken"],
                "identity"
            );
        }
    }
}

/// kubectl's `handleDockerCfgJSONContent` for the same login, as its own
/// test builds the expected data.
fn kubectl_data(username: &str, password: &str, email: &str, server: &str) -> String {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let email = if email.is_empty() {
        String::new()
    } else {
        format!(",\"email\":\"{email}\"")
    };
    format!(
        "{{\"auths\":{{\"{server}\":{{\"username\":\"{username}\",\"password\":\"{password}\"{email},\"auth\":\"{auth}\"}}}}}}"
    )
}

#[test]
fn create_secret_docker_registry() {
    let (username, password, email, server) = (
        "test-user",
        "test-password",
        "test-user@example.org",
        "https://index.docker.io/v1/",
    );
    for with_email in [true, false] {
        let mut cred = Credential::new(server, username, password);
        cred.email = with_email.then(|| email.to_string());
        let mut f = AuthFile::new_empty(Path::new("secret"), AuthFormat::Docker);
        assert_eq!(f.set_in_secret(&cred), Change::Added);
        let got = String::from_utf8(f.to_secret_bytes()).unwrap();
        let want = kubectl_data(
            username,
            password,
            if with_email { email } else { "" },
            server,
        );
        assert_eq!(got, want, "byte for byte as kubectl");
    }
}

#[test]
fn secret_data_escapes_as_go_does() {
    let cred = Credential::new("r.example", "u|x", "p&<>");
    let mut f = AuthFile::new_empty(Path::new("secret"), AuthFormat::Docker);
    f.set_in_secret(&cred);
    let got = String::from_utf8(f.to_secret_bytes()).unwrap();
    // What `kubectl create secret docker-registry x --docker-server=r.example
    // --docker-username='u|x' --docker-password='p&<>'` writes.
    assert_eq!(
        got,
        r#"{"auths":{"r.example":{"username":"u|x","password":"p\u0026\u003c\u003e","auth":"dXx4OnAmPD4="}}}"#
    );
}

#[test]
fn an_entry_from_a_file_is_kept_whole() {
    let source = file(
        AuthFormat::Containers,
        r#"{"auths":{"registry.redhat.io":{"auth":"dTpw","email":"ops@example.com","x-custom":1}}}"#,
    );
    let entry = source.get("registry.redhat.io").unwrap().unwrap();
    let mut f = AuthFile::new_empty(Path::new("secret"), AuthFormat::Docker);
    f.set_in_secret(&entry.credential());
    let got: Value = serde_json::from_slice(&f.to_secret_bytes()).unwrap();
    assert_eq!(
        got["auths"]["registry.redhat.io"],
        serde_json::json!({"auth": "dTpw", "email": "ops@example.com", "x-custom": 1})
    );
}

#[test]
fn a_mistyped_field_is_an_error_naming_file_key_and_field() {
    let read = AuthFile::parse(
        Path::new("auth.json"),
        AuthFormat::Containers,
        br#"{"auths":{"quay.io":{"auth":12}}}"#,
    );
    let err = read.unwrap_err().to_string();
    assert_eq!(
        err,
        "auth.json: the \"auth\" field of quay.io is not a string"
    );
    // A null is empty, as Go reads it.
    let f = file(
        AuthFormat::Containers,
        r#"{"auths":{"quay.io":{"auth":"dTpw","identitytoken":null}}}"#,
    );
    assert_eq!(f.entries().unwrap().len(), 1);
}

#[test]
fn an_identity_token_with_no_password_is_not_a_usable_login() {
    use base64::Engine as _;
    // docker login against a registry returning an identity token:
    // auth = base64("USERNAME:"), and the token beside it.
    let auth =
        base64::engine::general_purpose::STANDARD.encode("00000000-0000-0000-0000-000000000000:");
    let f = file(
        AuthFormat::Docker,
        &format!(
            r#"{{"auths":{{"myreg.azurecr.io":{{"auth":"{auth}","identitytoken":"eyJ.token"}}}}}}"#
        ),
    );
    let e = f.get("myreg.azurecr.io").unwrap().unwrap();
    assert!(!e.username.is_empty());
    assert!(e.identity_token_only());
    let with_password = file(
        AuthFormat::Docker,
        r#"{"auths":{"r.example":{"auth":"dTpw","identitytoken":"eyJ.token"}}}"#,
    );
    assert!(
        !with_password
            .get("r.example")
            .unwrap()
            .unwrap()
            .identity_token_only()
    );
}
