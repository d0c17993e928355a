//! `credsStore` / `credHelpers` with a real `docker-credential-*` program on
//! the PATH, spoken to with the real protocol.

use rhpull_core::authfile::{AuthEnv, CredentialSource, Credentials, View};
use rhpull_core::helper::{Helper, HelperError};
use secrecy::{ExposeSecret as _, SecretString};

/// `bin` first, then the test's own PATH (the helper needs python3).
fn path_with(bin: &std::path::Path) -> Option<std::ffi::OsString> {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&rest));
    Some(std::env::join_paths(dirs).unwrap())
}

fn env_with(home: &std::path::Path, bin: &std::path::Path) -> AuthEnv {
    AuthEnv {
        home: Some(home.to_path_buf()),
        path: path_with(bin),
        ..AuthEnv::default()
    }
}

#[test]
fn helper_store_get_erase_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    rhpull_testkit::helper::install(&bin, "rhpulltest");
    let helper = Helper::new("rhpulltest").with_search_path(path_with(&bin));

    assert!(
        helper.get("registry.redhat.io").unwrap().is_none(),
        "not found is None, not an error"
    );
    let secret = SecretString::from("tok-123".to_string());
    helper
        .store("registry.redhat.io", "1234567|ci", &secret)
        .unwrap();
    let (user, got) = helper.get("registry.redhat.io").unwrap().unwrap();
    assert_eq!(
        (user.as_str(), got.expose_secret()),
        ("1234567|ci", "tok-123")
    );
    helper.erase("registry.redhat.io").unwrap();
    assert!(helper.get("registry.redhat.io").unwrap().is_none());
}

#[test]
fn missing_helper_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let helper = Helper::new("nope").with_search_path(Some(dir.path().as_os_str().to_owned()));
    match helper.get("quay.io") {
        Err(HelperError::NotInstalled { program }) => assert_eq!(program, "docker-credential-nope"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cred_helpers_and_creds_store_are_used_for_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    rhpull_testkit::helper::install(&bin, "rhpulltest");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        r#"{"auths":{"quay.io":{"auth":"aW5saW5lOnA="},"registry.redhat.io":{}},
            "credHelpers":{"registry.redhat.io":"rhpulltest"}}"#,
    )
    .unwrap();
    let env = env_with(&home, &bin);
    let helper = Helper::new("rhpulltest").with_search_path(env.path.clone());
    helper
        .store(
            "registry.redhat.io",
            "1234567|ci",
            &SecretString::from("from-helper".to_string()),
        )
        .unwrap();

    let creds = Credentials::load(&env, View::Docker).unwrap();
    let r = creds.resolve("registry.redhat.io").unwrap().unwrap();
    assert_eq!(r.credential.username, "1234567|ci");
    assert_eq!(r.credential.secret.expose_secret(), "from-helper");
    assert!(
        matches!(r.source, CredentialSource::Helper { ref helper, .. } if helper == "rhpulltest")
    );
    // quay.io has no helper of its own: the inline entry is used.
    assert_eq!(
        creds
            .resolve("quay.io")
            .unwrap()
            .unwrap()
            .credential
            .username,
        "inline"
    );
}

#[test]
fn creds_store_with_nothing_stored_falls_back_to_inline() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    rhpull_testkit::helper::install(&bin, "rhpulltest");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        r#"{"auths":{"quay.io":{"auth":"aW5saW5lOnA="}},"credsStore":"rhpulltest"}"#,
    )
    .unwrap();
    let creds = Credentials::load(&env_with(&home, &bin), View::Docker).unwrap();
    let r = creds.resolve("quay.io").unwrap().unwrap();
    assert_eq!(r.credential.username, "inline");
    assert!(creds.resolve("registry.redhat.io").unwrap().is_none());
}

#[test]
fn save_and_remove_login_go_through_the_owning_helper() {
    use rhpull_core::Credential;
    use rhpull_core::authfile::store::{SavedTo, remove_login, save_login};
    use rhpull_core::authfile::{AuthFile, AuthFormat, Change};

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    rhpull_testkit::helper::install(&bin, "rhpulltest");
    let home = dir.path().join("home");
    let config = home.join(".docker/config.json");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        &config,
        r#"{"auths":{"quay.io":{"auth":"aW5saW5lOnA="},"registry.redhat.io":{"auth":"c3RhbGU6b2xk"}},
            "credHelpers":{"registry.redhat.io":"rhpulltest"}}"#,
    )
    .unwrap();
    let env = env_with(&home, &bin);
    let mut file = AuthFile::load(&config, AuthFormat::Docker).unwrap();
    let cred = Credential::new("registry.redhat.io", "1234567|ci", "HELPER-SECRET");
    let saved = save_login(&env, &mut file, &cred).unwrap();
    assert!(matches!(saved, SavedTo::Helper { ref helper, .. } if helper == "rhpulltest"));

    // The secret is in the helper's store, not in config.json; the stale
    // inline entry became docker's empty marker; quay.io is untouched.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        !text.contains("HELPER-SECRET") && !text.contains("c3RhbGU6b2xk"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["auths"]["registry.redhat.io"], serde_json::json!({}));
    assert_eq!(v["auths"]["quay.io"]["auth"], "aW5saW5lOnA=");
    let creds = Credentials::load(&env, View::Docker).unwrap();
    let r = creds.resolve("registry.redhat.io").unwrap().unwrap();
    assert_eq!(r.credential.secret.expose_secret(), "HELPER-SECRET");

    // Without a helper for the registry, the login is merged inline, once.
    let other = Credential::new("registry.connect.redhat.com", "1234567|ci", "tok");
    let saved = save_login(&env, &mut file, &other).unwrap();
    assert!(matches!(
        saved,
        SavedTo::File {
            change: Change::Added,
            ..
        }
    ));
    let again = save_login(&env, &mut file, &other).unwrap();
    assert!(matches!(
        again,
        SavedTo::File {
            change: Change::Unchanged,
            ..
        }
    ));

    // Logout erases from the helper and the file, and nothing else.
    assert!(remove_login(&env, &mut file, "registry.redhat.io").unwrap());
    assert!(!remove_login(&env, &mut file, "registry.redhat.io").unwrap());
    let helper = Helper::new("rhpulltest").with_search_path(env.path.clone());
    assert!(helper.get("registry.redhat.io").unwrap().is_none());
    let creds = Credentials::load(&env, View::Docker).unwrap();
    assert!(creds.resolve("registry.redhat.io").unwrap().is_none());
    assert_eq!(
        creds
            .resolve("quay.io")
            .unwrap()
            .unwrap()
            .credential
            .username,
        "inline"
    );
}
