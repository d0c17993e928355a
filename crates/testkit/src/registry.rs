//! Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 with TLS
//! and htpasswd basic auth, as a plain process (`docker-registry serve
//! config.yml`, no systemd).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::tls::TestCa;
use crate::tools::{Supervised, free_port, require, wait_for_port};

/// A running registry; killed on drop.
#[derive(Debug)]
pub struct Registry {
    pub port: u16,
    /// Directory holding `ca.crt`, for skopeo's `--cert-dir`.
    pub cert_dir: PathBuf,
    /// The CA certificate (PEM file).
    pub ca_file: PathBuf,
    server: Supervised,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry whose only user is `username` / `password`.
    pub fn start_htpasswd(username: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash = bcrypt::hash(password, 4).expect("bcrypt");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{username}:{hash}\n")).expect("write htpasswd");
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: rhpull-test\n    path: {}\n",
            htpasswd.display()
        );
        Self::start_in(dir, &TestCa::new("rhpull test registry CA"), &auth, &[])
    }

    /// Starts a registry that anyone may pull from (as registry.access.redhat.com).
    pub fn start_anonymous(ca: &TestCa) -> Self {
        Self::start_in(tempfile::tempdir().expect("tempdir"), ca, "", &[])
    }

    /// Starts a registry with `auth: token` trusting `sso`'s tokens, its TLS
    /// certificate signed by `ca` (the same CA as the token server's).
    pub fn start_token(ca: &TestCa, sso: &crate::sso::Sso) -> Self {
        Self::start_token_named(ca, sso, &[])
    }

    /// As [`Self::start_token`], its certificate also naming `dns`.
    pub fn start_token_named(ca: &TestCa, sso: &crate::sso::Sso, dns: &[&str]) -> Self {
        let auth = format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {bundle}\n",
            realm = sso.realm(),
            service = crate::sso::SERVICE,
            issuer = crate::sso::ISSUER,
            bundle = sso.signer_cert.display(),
        );
        Self::start_in(tempfile::tempdir().expect("tempdir"), ca, &auth, dns)
    }

    fn start_in(dir: tempfile::TempDir, ca: &TestCa, auth: &str, dns: &[&str]) -> Self {
        let program = require("docker-registry", "docker-registry");
        let cert_dir = dir.path().join("certs.d");
        let ca_file = ca.write_ca(&cert_dir);
        let server = ca.server_cert_named(&dir.path().join("tls"), "registry", dns);
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n{auth}",
                storage = dir.path().join("storage").display(),
                cert = server.cert.display(),
                key = server.key.display(),
            ),
        )
        .expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
        let server = Supervised::spawn(&program, &["serve".as_ref(), config.as_os_str()], log);
        let mut registry = Self {
            port,
            cert_dir,
            ca_file,
            server,
            _dir: dir,
        };
        if !wait_for_port(port, Duration::from_secs(20)) {
            let log = registry.log();
            registry.stop();
            panic!("docker-registry did not start on 127.0.0.1:{port}:\n{log}");
        }
        registry
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("registry.log")).unwrap_or_default()
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }

    pub fn stop(&mut self) {
        self.server.stop();
    }
}
