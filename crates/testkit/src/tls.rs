//! A test CA and server certificates for 127.0.0.1 and localhost (rcgen).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A CA that signs the test world's server certificates.
#[derive(Debug)]
pub struct TestCa {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and key, written as PEM files and kept as DER.
#[derive(Debug, Clone)]
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// What a server certificate should get wrong, to test TLS failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertFlaw {
    None,
    /// Valid dates in the past only.
    Expired,
    /// Issued for another name than 127.0.0.1.
    WrongName,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("self-signed CA");
        Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Writes the CA certificate as `DIR/ca.crt` (the name podman's and
    /// skopeo's `--cert-dir` look for) and returns its path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("create cert dir");
        let path = dir.join("ca.crt");
        std::fs::write(&path, &self.cert_pem).expect("write CA");
        path
    }

    /// A server certificate for 127.0.0.1 and localhost, written to `dir`.
    pub fn server_cert(&self, dir: &Path, name: &str) -> ServerCert {
        self.server_cert_with(dir, name, CertFlaw::None)
    }

    /// A server certificate with a deliberate flaw.
    pub fn server_cert_with(&self, dir: &Path, name: &str, flaw: CertFlaw) -> ServerCert {
        self.issue(dir, name, flaw, &[])
    }

    /// A server certificate for 127.0.0.1, localhost and `dns` (a
    /// Service's names, as the service CA signs them).
    pub fn server_cert_named(&self, dir: &Path, name: &str, dns: &[&str]) -> ServerCert {
        self.issue(dir, name, CertFlaw::None, dns)
    }

    fn issue(&self, dir: &Path, name: &str, flaw: CertFlaw, dns: &[&str]) -> ServerCert {
        let names = if flaw == CertFlaw::WrongName {
            vec!["wrong-name.example".to_string()]
        } else {
            std::iter::once("localhost")
                .chain(dns.iter().copied())
                .map(str::to_string)
                .collect()
        };
        let mut params = CertificateParams::new(names).expect("params");
        if flaw != CertFlaw::WrongName {
            params
                .subject_alt_names
                .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }
        if flaw == CertFlaw::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign server cert");
        std::fs::create_dir_all(dir).expect("create cert dir");
        let out = ServerCert {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        };
        std::fs::write(&out.cert, cert.pem()).expect("write cert");
        std::fs::write(&out.key, key.serialize_pem()).expect("write key");
        out
    }
}
