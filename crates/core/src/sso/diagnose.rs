//! Named causes for every way a pull-credential check fails, and the
//! classification of transport and HTTP errors into them. The binary turns
//! each cause into its explanation and fix through the catalogue; nothing
//! here carries a secret.

use super::paste::PasteMistake;

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// Credentials were needed and none were found or given.
    NoCredentials {
        registry: String,
    },
    PasteMistake {
        mistake: PasteMistake,
    },
    /// The stored login holds only an `identitytoken`: nothing the token
    /// flow, a pull secret or the kubelet can use.
    IdentityTokenOnly {
        registry: String,
    },
    DnsFailure {
        host: String,
    },
    ConnectionRefused {
        address: String,
    },
    Timeout {
        host: String,
    },
    /// The proxy itself could not be reached.
    ProxyUnreachable {
        proxy: String,
    },
    /// The proxy answered CONNECT with 407.
    ProxyAuthRequired {
        proxy: String,
    },
    /// The proxy refused to open a tunnel (403 and the like).
    ProxyRefused {
        proxy: String,
        status: u16,
    },
    /// The proxy tried but could not reach the registry (502/503/504).
    ProxyTargetUnreachable {
        proxy: String,
        status: u16,
    },
    TlsUntrusted {
        host: String,
    },
    TlsExpired {
        host: String,
    },
    TlsNameMismatch {
        host: String,
    },
    /// Any other TLS failure (no TLS spoken, protocol mismatch).
    TlsFailed {
        host: String,
        detail: String,
    },
    /// The token endpoint refused the username or password (401).
    InvalidCredentials {
        message: Option<String>,
    },
    /// Credentials are fine, but not for this content (403, insufficient scope).
    NotEntitled {
        repository: Option<String>,
    },
    /// The registry did not accept the token it was handed.
    TokenRejected {
        host: String,
    },
    /// The image or endpoint does not exist (404).
    NotFound {
        what: String,
    },
    TooManyRequests {
        retry_after: Option<u64>,
    },
    ServerError {
        host: String,
        status: u16,
    },
    UnexpectedStatus {
        host: String,
        status: u16,
    },
    MalformedChallenge {
        detail: String,
    },
    MalformedToken {
        detail: String,
    },
    /// A transport failure with no better name.
    Network {
        detail: String,
    },
}

/// Which request a status answers, since the same code means different
/// things at different steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Challenge,
    Token,
    Registry,
    Image,
}

/// The cause for an HTTP status that is not success.
pub fn classify_status(
    status: u16,
    context: Context,
    host: &str,
    server_message: Option<String>,
    retry_after: Option<u64>,
    repository: Option<&str>,
) -> Cause {
    let host = host.to_string();
    match (status, context) {
        (401, Context::Token) => Cause::InvalidCredentials {
            message: server_message,
        },
        (401, Context::Registry) => Cause::TokenRejected { host },
        (401 | 403, Context::Image) | (403, Context::Token | Context::Registry) => {
            Cause::NotEntitled {
                repository: repository.map(str::to_string),
            }
        }
        (404, Context::Image) => Cause::NotFound {
            what: repository.unwrap_or_default().to_string(),
        },
        (404, _) => Cause::NotFound { what: host },
        (407, _) => Cause::ProxyAuthRequired { proxy: host },
        (429, _) => Cause::TooManyRequests { retry_after },
        (500..=599, _) => Cause::ServerError { host, status },
        _ => Cause::UnexpectedStatus { host, status },
    }
}

/// The cause for a TLS failure reported by rustls.
pub fn classify_tls(err: &rustls::Error, host: &str) -> Cause {
    use rustls::CertificateError as C;
    let host = host.to_string();
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature | C::UnhandledCriticalExtension => {
                Cause::TlsUntrusted { host }
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => Cause::TlsExpired { host },
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                Cause::TlsNameMismatch { host }
            }
            other => Cause::TlsFailed {
                host,
                detail: format!("{other:?}"),
            },
        },
        rustls::Error::InvalidMessage(_) => Cause::TlsFailed {
            host,
            detail: "the server does not speak TLS on this port".into(),
        },
        other => Cause::TlsFailed {
            host,
            detail: other.to_string(),
        },
    }
}

/// The cause for an I/O error while connecting or handshaking.
pub fn classify_io(err: &std::io::Error, host: &str, address: &str) -> Cause {
    use std::io::ErrorKind as K;
    if let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return classify_tls(tls, host);
    }
    match err.kind() {
        K::ConnectionRefused => Cause::ConnectionRefused {
            address: address.to_string(),
        },
        K::TimedOut | K::WouldBlock => Cause::Timeout {
            host: host.to_string(),
        },
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted => Cause::Network {
            detail: "the server closed the connection".into(),
        },
        _ => Cause::Network {
            detail: err.to_string(),
        },
    }
}

/// The cause for a failed reqwest request (connection level, no status).
pub fn classify_reqwest(err: &reqwest::Error, host: &str) -> Cause {
    if err.is_timeout() {
        return Cause::Timeout {
            host: host.to_string(),
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut text = String::new();
    while let Some(e) = source {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return classify_tls(tls, host);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let cause = classify_io(io, host, host);
            if !matches!(cause, Cause::Network { .. }) {
                return cause;
            }
        }
        text.push_str(&e.to_string().to_ascii_lowercase());
        text.push(' ');
        source = e.source();
    }
    if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("no such host")
    {
        return Cause::DnsFailure {
            host: host.to_string(),
        };
    }
    if text.contains("tunnel") || text.contains("proxy") {
        return Cause::ProxyRefused {
            proxy: host.to_string(),
            status: 0,
        };
    }
    if text.contains("connection refused") {
        return Cause::ConnectionRefused {
            address: host.to_string(),
        };
    }
    // The URL is shown by the step line already; the text is the cause.
    let detail = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Cause::Network { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_status_means_different_things_per_step() {
        let c = |s, ctx| classify_status(s, ctx, "r.io", None, None, Some("ubi9/ubi"));
        assert!(matches!(
            c(401, Context::Token),
            Cause::InvalidCredentials { .. }
        ));
        assert!(matches!(
            c(401, Context::Registry),
            Cause::TokenRejected { .. }
        ));
        assert!(matches!(c(401, Context::Image), Cause::NotEntitled { .. }));
        assert!(matches!(c(403, Context::Token), Cause::NotEntitled { .. }));
        assert_eq!(
            c(404, Context::Image),
            Cause::NotFound {
                what: "ubi9/ubi".into()
            }
        );
        assert!(matches!(
            c(429, Context::Token),
            Cause::TooManyRequests { .. }
        ));
        assert_eq!(
            c(503, Context::Token),
            Cause::ServerError {
                host: "r.io".into(),
                status: 503
            }
        );
        assert!(matches!(
            c(418, Context::Registry),
            Cause::UnexpectedStatus { status: 418, .. }
        ));
    }

    #[test]
    fn tls_errors_are_named() {
        use rustls::CertificateError as C;
        let t = |e| classify_tls(&rustls::Error::InvalidCertificate(e), "h");
        assert!(matches!(t(C::UnknownIssuer), Cause::TlsUntrusted { .. }));
        assert!(matches!(t(C::Expired), Cause::TlsExpired { .. }));
        assert!(matches!(
            t(C::NotValidForName),
            Cause::TlsNameMismatch { .. }
        ));
    }

    #[test]
    fn io_errors_are_named() {
        use std::io::{Error, ErrorKind};
        assert!(matches!(
            classify_io(&Error::from(ErrorKind::ConnectionRefused), "h", "h:1"),
            Cause::ConnectionRefused { .. }
        ));
        assert!(matches!(
            classify_io(&Error::from(ErrorKind::TimedOut), "h", "h:1"),
            Cause::Timeout { .. }
        ));
        let wrapped = Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            classify_io(&wrapped, "h", "h:1"),
            Cause::TlsUntrusted { .. }
        ));
    }
}
