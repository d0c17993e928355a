//! `kubectl rhpull …` through real kubectl plugin dispatch, with the built
//! binary on PATH, for every kubectl build on the machine.

use rhpull_e2e::{PluginPath, kubectls, stderr, stdout};

#[test]
fn kubectl_dispatches_version_to_the_plugin() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    for kubectl in kubectls() {
        let out = plugin.kubectl(&kubectl, home.path(), &["rhpull", "version"]);
        assert!(
            out.status.success(),
            "{}: {}",
            kubectl.display(),
            stderr(&out)
        );
        let text = stdout(&out);
        assert!(text.starts_with("kubectl-rhpull "), "{text}");
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");

        let out = plugin.kubectl(&kubectl, home.path(), &["rhpull", "version", "-o", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert!(v["commit"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(v["target"].as_str().is_some_and(|t| t.contains("linux")));
        // The compiler that built it: the one building these tests.
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .unwrap();
        let rustc = String::from_utf8_lossy(&rustc.stdout).to_string();
        let rust = v["rust"].as_str().unwrap();
        assert!(
            rust.starts_with("1.") && rustc.contains(rust),
            "{rust} vs {rustc}"
        );
        assert!(v["dirty"].is_boolean(), "{v}");
    }
}

#[test]
fn kubectl_plugin_list_finds_rhpull() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let out = plugin.kubectl(
        "/usr/bin/kubectl".as_ref(),
        home.path(),
        &["plugin", "list"],
    );
    let listed = stdout(&out);
    let wanted = plugin.dir().join("kubectl-rhpull");
    assert!(
        listed.contains(wanted.to_str().unwrap()),
        "{listed}\n{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    let out = plugin.kubectl(kubectl, home.path(), &["rhpull", "no-such-command"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = plugin.kubectl(kubectl, home.path(), &["rhpull", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    assert!(help.contains("Usage: kubectl rhpull"), "{help}");
    assert!(help.contains("registries"), "{help}");
}

#[test]
fn registries_shows_the_podman_login_without_its_secret() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/containers");
    std::fs::create_dir_all(&dir).unwrap();
    // base64("1234567|ci:tok-SECRET-123")
    std::fs::write(
        dir.join("auth.json"),
        r#"{"auths":{"registry.redhat.io":{"auth":"MTIzNDU2N3xjaTp0b2stU0VDUkVULTEyMw=="},"quay.io":{"auth":"Ym9iOlNFQ1JFVA=="}}}"#,
    )
    .unwrap();
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    let json = plugin.kubectl(
        kubectl,
        home.path(),
        &["rhpull", "registries", "-o", "json"],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["host"], "registry.redhat.io");
    assert_eq!(v[0]["username"], "1234567|ci");
    assert!(v[1]["username"].is_null());
    // Other logins follow the catalogue, with no access class.
    assert_eq!(v[3]["host"], "quay.io");
    assert_eq!(v[3]["username"], "bob");
    assert!(v[3]["access"].is_null());
    let out = plugin.kubectl(kubectl, home.path(), &["rhpull", "registries"]);
    let table = stdout(&out);
    assert!(table.contains("1234567|ci"), "{table}");
    for o in [&json, &out] {
        assert!(!stdout(o).contains("SECRET") && !stderr(o).contains("SECRET"));
    }
}

#[test]
fn a_broken_auth_file_is_a_failure_naming_the_file_and_the_fix() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/containers");
    std::fs::create_dir_all(&dir).unwrap();
    // base64("SECRETVALUE"): no colon.
    std::fs::write(
        dir.join("auth.json"),
        r#"{"auths":{"registry.redhat.io":{"auth":"U0VDUkVUVkFMVUU="}}}"#,
    )
    .unwrap();
    let out = plugin.kubectl(
        "/usr/bin/kubectl".as_ref(),
        home.path(),
        &["rhpull", "registries"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(dir.join("auth.json").to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("podman login registry.redhat.io"), "{err}");
    assert!(
        !err.contains("SECRETVALUE") && !err.contains("U0VDUkVU"),
        "{err}"
    );
}
