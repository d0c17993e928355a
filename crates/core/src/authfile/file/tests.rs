use std::os::unix::fs::PermissionsExt as _;

use secrecy::ExposeSecret as _;

use super::*;

fn parse(format: AuthFormat, text: &str) -> Result<AuthFile, AuthFileError> {
    AuthFile::parse(Path::new("/tmp/auth.json"), format, text.as_bytes())
}

// What `podman login` writes (Go's json.MarshalIndent with tabs).
const PODMAN: &str = "{\n\t\"auths\": {\n\t\t\"registry.redhat.io\": {\n\t\t\t\"auth\": \"MTIzNDU2N3xjaTp0b2tlbg==\"\n\t\t}\n\t}\n}";

#[test]
fn reads_podman_auth_json() {
    let f = parse(AuthFormat::Containers, PODMAN).unwrap();
    let e = f.get("registry.redhat.io").unwrap().unwrap();
    assert_eq!(e.username, "1234567|ci");
    assert_eq!(e.secret.expose_secret(), "token");
    assert_eq!(e.key, "registry.redhat.io");
}

#[test]
fn reads_username_password_and_identity_token_fields() {
    let f = parse(
        AuthFormat::Docker,
        r#"{"auths":{"quay.io":{"username":"bob","password":"pw"},
            "gcr.io":{"identitytoken":"id-tok"}}}"#,
    )
    .unwrap();
    let q = f.get("quay.io").unwrap().unwrap();
    assert_eq!(
        (q.username.as_str(), q.secret.expose_secret()),
        ("bob", "pw")
    );
    let g = f.get("gcr.io").unwrap().unwrap();
    assert_eq!(g.identity_token.unwrap().expose_secret(), "id-tok");
}

#[test]
fn docker_hub_legacy_key_is_docker_io() {
    let f = parse(
        AuthFormat::Docker,
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#,
    )
    .unwrap();
    assert_eq!(f.get("docker.io").unwrap().unwrap().username, "u");
    assert_eq!(f.get("index.docker.io").unwrap().unwrap().username, "u");
}

#[test]
fn path_scoped_keys_most_specific_first() {
    let f = parse(
        AuthFormat::Containers,
        r#"{"auths":{"quay.io":{"auth":"aG9zdDpw"},"quay.io/org":{"auth":"b3JnOnA="},
            "quay.io/org/repo":{"auth":"cmVwbzpw"}}}"#,
    )
    .unwrap();
    assert_eq!(f.get("quay.io/org/repo").unwrap().unwrap().username, "repo");
    assert_eq!(f.get("quay.io/org/other").unwrap().unwrap().username, "org");
    assert_eq!(f.get("quay.io/else/x").unwrap().unwrap().username, "host");
    assert_eq!(f.get("quay.io").unwrap().unwrap().username, "host");
    assert!(f.get("registry.redhat.io").unwrap().is_none());
}

#[test]
fn legacy_dockercfg_is_detected_by_content() {
    let text = r#"{"https://index.docker.io/v1/":{"auth":"dTpw","email":"u@example.com"}}"#;
    let f = AuthFile::detect(
        Path::new("/x/.dockercfg"),
        text.as_bytes(),
        AuthFormat::Docker,
    )
    .unwrap();
    assert_eq!(f.format(), AuthFormat::LegacyDockercfg);
    assert_eq!(f.get("docker.io").unwrap().unwrap().username, "u");
    let modern = AuthFile::detect(
        Path::new("/x/a.json"),
        PODMAN.as_bytes(),
        AuthFormat::Containers,
    )
    .unwrap();
    assert_eq!(modern.format(), AuthFormat::Containers);
}

#[test]
fn helper_owned_empty_entries_are_not_credentials() {
    let f = parse(
        AuthFormat::Docker,
        r#"{"auths":{"quay.io":{}},"credsStore":"desktop","credHelpers":{"registry.redhat.io":"pass"}}"#,
    )
    .unwrap();
    assert!(f.entries().unwrap().is_empty());
    assert_eq!(f.creds_store(), Some("desktop"));
    assert_eq!(f.cred_helper("registry.redhat.io"), Some("pass"));
    assert_eq!(f.helper_for("quay.io"), Some("desktop"));
    assert_eq!(f.helper_for("registry.redhat.io/ubi9"), Some("pass"));
}

#[test]
fn bad_input_is_a_clear_error_without_secrets() {
    type IsExpected = fn(&AuthFileError) -> bool;
    let cases: &[(&str, IsExpected)] = &[
        ("", |e| matches!(e, AuthFileError::Empty { .. })),
        ("  \n", |e| matches!(e, AuthFileError::Empty { .. })),
        ("{\"auths\": {", |e| {
            matches!(e, AuthFileError::NotJson { line: 1, .. })
        }),
        ("[1,2]", |e| matches!(e, AuthFileError::NotAnObject { .. })),
        (r#"{"auths": 3}"#, |e| {
            matches!(e, AuthFileError::NotAnObject { .. })
        }),
        (r#"{"auths": {"q.io": "x"}}"#, |e| {
            matches!(e, AuthFileError::NotAnObject { .. })
        }),
        (r#"{"auths": {"q.io": {"auth": "%%%secretish%%%"}}}"#, |e| {
            matches!(e, AuthFileError::BadBase64 { .. })
        }),
        // base64("secretvalue"): no colon between username and password.
        (
            r#"{"auths": {"q.io": {"auth": "c2VjcmV0dmFsdWU="}}}"#,
            |e| matches!(e, AuthFileError::AuthWithoutColon { .. }),
        ),
    ];
    for (text, is_expected) in cases {
        let err = parse(AuthFormat::Containers, text).unwrap_err();
        assert!(is_expected(&err), "{text:?} gave {err:?}");
        let message = err.to_string();
        assert!(message.contains("/tmp/auth.json"), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(!message.contains("c2VjcmV0"), "{message}");
    }
}

#[test]
fn set_keeps_every_other_entry_and_unknown_fields() {
    let mut f = parse(
        AuthFormat::Docker,
        r#"{"auths":{"quay.io":{"auth":"dTpw"}},"credHelpers":{"gcr.io":"gcloud"},
            "psFormat":"table {{.ID}}","HttpHeaders":{"User-Agent":"x"}}"#,
    )
    .unwrap();
    let change = f.set(&Credential::new("registry.redhat.io", "1234567|ci", "tok"));
    assert_eq!(change, Change::Added);
    let text = String::from_utf8(f.to_bytes()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["auths"]["quay.io"]["auth"], "dTpw");
    assert_eq!(v["credHelpers"]["gcr.io"], "gcloud");
    assert_eq!(v["psFormat"], "table {{.ID}}");
    assert_eq!(v["HttpHeaders"]["User-Agent"], "x");
    assert_eq!(
        v["auths"]["registry.redhat.io"]["auth"],
        "MTIzNDU2N3xjaTp0b2s="
    );
}

#[test]
fn set_is_idempotent_and_reports_updates() {
    let mut f = parse(AuthFormat::Containers, PODMAN).unwrap();
    let same = Credential::new("registry.redhat.io", "1234567|ci", "token");
    assert_eq!(f.set(&same), Change::Unchanged);
    let new = Credential::new("registry.redhat.io", "1234567|ci", "rotated");
    assert_eq!(f.set(&new), Change::Updated);
    assert_eq!(
        f.get("registry.redhat.io")
            .unwrap()
            .unwrap()
            .secret
            .expose_secret(),
        "rotated"
    );
}

#[test]
fn set_folds_aliases_into_one_entry_per_path() {
    let mut f = parse(
        AuthFormat::Containers,
        r#"{"auths":{"https://quay.io":{"auth":"b2xkOnA=","email":"a@b"},"quay.io/org":{"auth":"b3JnOnA="}}}"#,
    )
    .unwrap();
    assert_eq!(
        f.set(&Credential::new("quay.io", "new", "p")),
        Change::Updated
    );
    let v: Value = serde_json::from_slice(&f.to_bytes()).unwrap();
    let auths = v["auths"].as_object().unwrap();
    assert_eq!(auths.len(), 2, "{auths:?}");
    assert!(auths.contains_key("quay.io") && auths.contains_key("quay.io/org"));
    assert_eq!(auths["quay.io"]["email"], "a@b");
}

#[test]
fn docker_format_writes_docker_hub_under_its_legacy_key() {
    let mut f = AuthFile::load(Path::new("/nonexistent/config.json"), AuthFormat::Docker).unwrap();
    assert!(!f.existed());
    f.set(&Credential::new("docker.io", "u", "p"));
    let v: Value = serde_json::from_slice(&f.to_bytes()).unwrap();
    assert!(v["auths"]["https://index.docker.io/v1/"].is_object());

    let mut c =
        AuthFile::load(Path::new("/nonexistent/auth.json"), AuthFormat::Containers).unwrap();
    c.set(&Credential::new("index.docker.io", "u", "p"));
    let v: Value = serde_json::from_slice(&c.to_bytes()).unwrap();
    assert!(v["auths"]["docker.io"].is_object());
}

#[test]
fn remove_takes_only_that_registry() {
    let mut f = parse(
        AuthFormat::Containers,
        r#"{"auths":{"quay.io":{"auth":"dTpw"},"quay.io/org":{"auth":"dTpw"},"registry.redhat.io":{"auth":"dTpw"}}}"#,
    )
    .unwrap();
    assert!(f.remove("https://quay.io"));
    assert!(!f.remove("quay.io"));
    let keys: Vec<_> = f.entries().unwrap().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, vec!["quay.io/org", "registry.redhat.io"]);
}

#[test]
fn save_is_atomic_0600_and_creates_private_parents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/auth.json");
    let mut f = AuthFile::load(&path, AuthFormat::Containers).unwrap();
    f.set(&Credential::new("registry.redhat.io", "u", "p"));
    f.save().unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("a/b")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp file left behind");
    let back = AuthFile::load(&path, AuthFormat::Containers).unwrap();
    assert_eq!(
        back.get("registry.redhat.io").unwrap().unwrap().username,
        "u"
    );
}

#[test]
fn save_through_a_symlink_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    fs::write(&real, PODMAN).unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut f = AuthFile::load(&link, AuthFormat::Containers).unwrap();
    f.set(&Credential::new("quay.io", "u", "p"));
    f.save().unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let back = AuthFile::load(&real, AuthFormat::Containers).unwrap();
    assert_eq!(back.entries().unwrap().len(), 2);
}

#[test]
fn the_first_change_to_a_file_rhpull_did_not_create_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.json");
    fs::write(&path, PODMAN).unwrap();
    let mut f = AuthFile::load(&path, AuthFormat::Containers).unwrap();
    f.set(&Credential::new("quay.io", "u", "p"));
    let backup = f.save().unwrap().expect("a backup of the user's file");
    assert_eq!(fs::read_to_string(&backup).unwrap(), PODMAN);
    assert_eq!(
        fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("auth.json.rhpull-backup-2")
    );
    // Later changes do not pile up backups.
    f.set(&Credential::new("quay.io", "u", "p2"));
    assert!(f.save().unwrap().is_none());
    assert_eq!(super::backups_of(&path), vec![backup]);
    // A file rhpull creates gets none.
    let new = dir.path().join("new.json");
    let mut n = AuthFile::load(&new, AuthFormat::Containers).unwrap();
    n.set(&Credential::new("quay.io", "u", "p"));
    assert!(n.save().unwrap().is_none());
}
