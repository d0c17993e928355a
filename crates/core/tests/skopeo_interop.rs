//! rhpull reads what real skopeo writes, and skopeo uses what rhpull writes,
//! against a real registry (Debian's docker-registry, TLS + htpasswd).

use std::path::Path;

use rhpull_core::Credential;
use rhpull_core::authfile::{AuthEnv, AuthFile, AuthFormat, Credentials};
use rhpull_testkit::{oci, registry::Registry, skopeo};
use secrecy::ExposeSecret as _;

fn ok(out: std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn push_test_image(reg: &Registry, work: &Path) -> String {
    let layout = work.join("layout");
    oci::write_layout(&layout);
    let pusher_auth = work.join("pusher.json");
    ok(
        skopeo::login(
            &pusher_auth,
            &reg.cert_dir,
            &reg.host(),
            "1234567|pusher",
            "pusher-token",
        ),
        "skopeo login (pusher)",
    );
    let image = format!("{}/rhel9/app:1", reg.host());
    ok(
        skopeo::push_oci(&layout, &image, &pusher_auth, &reg.cert_dir),
        "skopeo copy",
    );
    image
}

#[test]
fn skopeo_and_rhpull_read_each_others_auth_files() {
    let reg = Registry::start_htpasswd("1234567|pusher", "pusher-token");
    let work = tempfile::tempdir().unwrap();
    let image = push_test_image(&reg, work.path());

    // 1. skopeo writes, rhpull reads: into a file that already has another login.
    let authfile = work.path().join("auth.json");
    std::fs::write(
        &authfile,
        r#"{"auths":{"quay.io":{"auth":"b3RoZXI6bG9naW4="}}}"#,
    )
    .unwrap();
    ok(
        skopeo::login(
            &authfile,
            &reg.cert_dir,
            &reg.host(),
            "1234567|pusher",
            "pusher-token",
        ),
        "skopeo login",
    );
    let env = AuthEnv {
        registry_auth_file: Some(authfile.clone()),
        ..AuthEnv::default()
    };
    let creds = Credentials::load(&env, rhpull_core::authfile::View::Podman).unwrap();
    let found = creds
        .resolve(&format!("{}/rhel9/app", reg.host()))
        .unwrap()
        .unwrap();
    assert_eq!(found.credential.username, "1234567|pusher");
    assert_eq!(found.credential.secret.expose_secret(), "pusher-token");
    assert_eq!(
        creds
            .resolve("quay.io")
            .unwrap()
            .unwrap()
            .credential
            .username,
        "other"
    );

    // 2. rhpull writes, skopeo uses: a fresh file with only rhpull's entry.
    let written = work.path().join("written/auth.json");
    let mut file = AuthFile::load(&written, AuthFormat::Containers).unwrap();
    file.set(&Credential::new(
        reg.host(),
        "1234567|pusher",
        "pusher-token",
    ));
    file.save().unwrap();
    ok(
        skopeo::inspect(&image, &written, &reg.cert_dir),
        "skopeo inspect with rhpull's file",
    );

    // 3. rhpull merges into skopeo's file: skopeo still works and nothing is
    // lost, not even a top-level field rhpull does not know.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&authfile).unwrap()).unwrap();
    doc["future-field"] = serde_json::json!(1);
    std::fs::write(&authfile, doc.to_string()).unwrap();
    let mut merged = AuthFile::load(&authfile, AuthFormat::Containers).unwrap();
    merged.set(&Credential::new("registry.redhat.io", "1234567|ci", "tok"));
    merged.save().unwrap();
    ok(
        skopeo::inspect(&image, &authfile, &reg.cert_dir),
        "skopeo inspect after merge",
    );
    let text = std::fs::read_to_string(&authfile).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["future-field"], 1);
    assert_eq!(v["auths"].as_object().unwrap().len(), 3, "{text}");

    // 4. A wrong password written by rhpull is refused by the registry.
    let wrong = work.path().join("wrong.json");
    let mut file = AuthFile::load(&wrong, AuthFormat::Containers).unwrap();
    file.set(&Credential::new(
        reg.host(),
        "1234567|pusher",
        "not-the-token",
    ));
    file.save().unwrap();
    let out = skopeo::inspect(&image, &wrong, &reg.cert_dir);
    assert!(!out.status.success(), "a wrong password must not pull");
}

#[test]
fn path_scoped_entry_written_by_rhpull_is_used_by_skopeo() {
    let reg = Registry::start_htpasswd("1234567|pusher", "pusher-token");
    let work = tempfile::tempdir().unwrap();
    let image = push_test_image(&reg, work.path());
    // A wrong host-wide login and a right one for the repository's path:
    // skopeo must pick the more specific one, as rhpull's lookup does.
    let file_path = work.path().join("scoped.json");
    let mut file = AuthFile::load(&file_path, AuthFormat::Containers).unwrap();
    file.set(&Credential::new(reg.host(), "nobody", "wrong"));
    file.set(&Credential::new(
        format!("{}/rhel9", reg.host()),
        "1234567|pusher",
        "pusher-token",
    ));
    file.save().unwrap();
    ok(
        skopeo::inspect(&image, &file_path, &reg.cert_dir),
        "skopeo inspect with a path-scoped key",
    );
    let env = AuthEnv {
        registry_auth_file: Some(file_path),
        ..AuthEnv::default()
    };
    let creds = Credentials::load(&env, rhpull_core::authfile::View::Podman).unwrap();
    let found = creds
        .resolve(&format!("{}/rhel9/app", reg.host()))
        .unwrap()
        .unwrap();
    assert_eq!(found.credential.username, "1234567|pusher");
}
