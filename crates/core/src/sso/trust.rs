//! Which certificates a registry's TLS certificate may chain to, as podman
//! decides it: the system roots, every `*.crt` in
//! `/etc/containers/certs.d/HOST:PORT/` and `/etc/docker/certs.d/HOST:PORT/`,
//! plus the files given with `--registry-ca`. `--insecure-skip-tls-verify`
//! turns verification off (the binary warns every time).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// Where trust comes from.
#[derive(Clone, Debug)]
pub struct TrustConfig {
    pub system_roots: bool,
    /// `certs.d` roots, searched for a `HOST:PORT` (or `HOST`) subdirectory.
    pub certs_dirs: Vec<PathBuf>,
    pub extra_ca_files: Vec<PathBuf>,
    pub insecure_skip_verify: bool,
}

impl Default for TrustConfig {
    fn default() -> Self {
        Self {
            system_roots: true,
            certs_dirs: vec![
                PathBuf::from("/etc/containers/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            extra_ca_files: Vec::new(),
            insecure_skip_verify: false,
        }
    }
}

/// A CA file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read CA file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
}

fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    use rustls::pki_types::pem::PemObject as _;
    let bytes = std::fs::read(path).map_err(|source| TrustError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TrustError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

impl TrustConfig {
    /// The `certs.d` CA files that apply to `authority` (`host[:port]`).
    pub fn certs_d_files(&self, authority: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for root in &self.certs_dirs {
            let dir = root.join(authority);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "crt"))
                .collect();
            files.sort();
            out.extend(files);
        }
        out
    }

    /// The root store for connections to `authorities`.
    pub fn root_store(&self, authorities: &[&str]) -> Result<RootCertStore, TrustError> {
        let mut store = RootCertStore::empty();
        if self.system_roots {
            // Unreadable system certificates are skipped, as every TLS client does.
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(cert);
            }
        }
        let mut files = self.extra_ca_files.clone();
        for a in authorities {
            files.extend(self.certs_d_files(a));
        }
        for file in files {
            for cert in pem_certs(&file)? {
                let _ = store.add(cert);
            }
        }
        Ok(store)
    }

    /// A rustls client configuration for `authorities`.
    pub fn client_config(
        &self,
        authorities: &[&str],
    ) -> Result<Arc<rustls::ClientConfig>, TrustError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        #[allow(
            clippy::expect_used,
            reason = "ring supports TLS 1.2 and 1.3, the defaults"
        )]
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions");
        let config = if self.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(self.root_store(authorities)?)
                .with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}

/// `--insecure-skip-tls-verify`: accept any certificate, still check signatures.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certs_d_is_searched_by_host_and_port() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("127.0.0.1:5000");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("ca.crt"), "x").unwrap();
        std::fs::write(d.join("client.key"), "x").unwrap();
        let t = TrustConfig {
            certs_dirs: vec![dir.path().to_path_buf(), dir.path().join("missing")],
            ..TrustConfig::default()
        };
        assert_eq!(t.certs_d_files("127.0.0.1:5000"), vec![d.join("ca.crt")]);
        assert!(t.certs_d_files("127.0.0.1:5001").is_empty());
    }

    #[test]
    fn a_ca_file_without_certificates_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "not a certificate").unwrap();
        let t = TrustConfig {
            system_roots: false,
            extra_ca_files: vec![f],
            ..TrustConfig::default()
        };
        assert!(matches!(
            t.root_store(&[]),
            Err(TrustError::NoCertificate { .. })
        ));
    }
}
