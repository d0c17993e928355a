//! The registry half of the test world: one CA, the SSO-like token server,
//! the real registry with token auth trusting it, an account that may pull,
//! and an image pushed with real skopeo.

use std::path::{Path, PathBuf};

use crate::registry::Registry;
use crate::skopeo;
use crate::sso::{Account, Sso};
use crate::tls::TestCa;

/// The registry service account that may pull everything under `rhel9/`.
pub const USERNAME: &str = "7654321|rhpull-world";
/// Its token: shaped like a portal token (a JWT), so paste checks pass.
pub const TOKEN: &str =
    "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJyaHB1bGwtd29ybGQifQ.d29ybGQtdG9rZW4tc2lnbmF0dXJl";
/// The repository pushed into the registry.
pub const REPOSITORY: &str = "rhel9/rhpull-demo";
/// An account that exists but may pull only `other/*`.
pub const UNENTITLED_USERNAME: &str = "7654321|not-entitled";
pub const PUSHER: &str = "pusher";
const PUSHER_PASSWORD: &str = "pusher-password";

#[derive(Debug)]
pub struct RegistryWorld {
    pub ca: TestCa,
    pub sso: Sso,
    pub registry: Registry,
    /// The CA certificate (PEM) both servers' certificates chain to.
    pub ca_file: PathBuf,
    dir: tempfile::TempDir,
}

impl RegistryWorld {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = TestCa::new("rhpull test world CA");
        let ca_file = ca.write_ca(&dir.path().join("ca"));
        let sso = Sso::start(&ca, &dir.path().join("sso"));
        sso.add_account(
            USERNAME,
            Account {
                password: TOKEN.into(),
                pull: vec!["rhel9/*".into()],
                push: false,
            },
        );
        sso.add_account(
            UNENTITLED_USERNAME,
            Account {
                password: TOKEN.into(),
                pull: vec!["other/*".into()],
                push: false,
            },
        );
        sso.add_account(PUSHER, Account::pusher(PUSHER_PASSWORD));
        let registry = Registry::start_token(&ca, &sso);
        let world = Self {
            ca,
            sso,
            registry,
            ca_file,
            dir,
        };
        world.push_image();
        world
    }

    fn push_image(&self) {
        let pusher = (PUSHER, PUSHER_PASSWORD);
        skopeo::push_test_image(self.dir.path(), &self.registry, &self.image(), pusher);
    }

    /// `127.0.0.1:PORT/rhel9/rhpull-demo:1`.
    pub fn image(&self) -> String {
        format!("{}/{REPOSITORY}:1", self.registry.host())
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
