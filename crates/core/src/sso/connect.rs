//! The road to the registry, one step at a time so that each failure has
//! its own line: DNS (of the proxy when going through one, since the proxy
//! resolves the registry), TCP, the proxy's CONNECT tunnel, then TLS with
//! the registry's name. Each step returns what it found and its [`Detail`],
//! or the named [`Cause`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::diagnose::{Cause, classify_io};
use super::proxy::{proxy_authority, proxy_basic_auth};
use super::report::Detail;
use super::resolve::Resolve;

/// `host[:port]` split into host and port (443 by default); IPv6 literals
/// in brackets lose them.
pub(crate) fn split_authority(registry: &str) -> (String, u16) {
    let registry = registry.trim_end_matches('/');
    match registry.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse() {
            Ok(port) => (
                h.trim_start_matches('[').trim_end_matches(']').to_string(),
                port,
            ),
            Err(_) => (registry.to_string(), 443),
        },
        _ => (registry.to_string(), 443),
    }
}

/// Where the TCP connection goes: the registry, or the proxy in front of it.
#[derive(Debug)]
pub(crate) struct Road<'a> {
    /// The registry's host and port (what TLS and CONNECT name).
    pub host: &'a str,
    pub port: u16,
    pub proxy: Option<&'a str>,
}

impl Road<'_> {
    /// The host and port dialled.
    fn dial(&self) -> (String, u16) {
        match self.proxy {
            Some(p) => proxy_authority(p).unwrap_or((p.to_string(), 80)),
            None => (self.host.to_string(), self.port),
        }
    }
}

/// `fut`, or [`Cause::Timeout`] naming `host` when it takes longer than `limit`.
async fn within<T>(
    limit: Duration,
    host: &str,
    fut: impl Future<Output = Result<T, Cause>>,
) -> Result<T, Cause> {
    tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
        Err(Cause::Timeout {
            host: host.to_string(),
        })
    })
}

/// DNS: the addresses of the host dialled (an IP literal needs no lookup).
pub(crate) async fn dns(
    resolver: &dyn Resolve,
    limit: Duration,
    road: &Road<'_>,
) -> Result<(Vec<SocketAddr>, Detail), Cause> {
    let (host, port) = road.dial();
    let addrs = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            within(limit, &host, async {
                match resolver.resolve(&host, port).await {
                    Ok(a) if !a.is_empty() => Ok(a),
                    _ => Err(Cause::DnsFailure { host: host.clone() }),
                }
            })
            .await?
        }
    };
    let detail = Detail::Addresses {
        addresses: addrs.iter().map(|a| a.ip().to_string()).collect(),
    };
    Ok((addrs, detail))
}

/// TCP: the first address that answers. Through a proxy, any failure to
/// reach it is the proxy's.
pub(crate) async fn tcp(
    limit: Duration,
    road: &Road<'_>,
    addrs: &[SocketAddr],
) -> Result<((TcpStream, SocketAddr), Detail), Cause> {
    let mut last = std::io::Error::from(std::io::ErrorKind::NotFound);
    for addr in addrs {
        match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let detail = Detail::Connected {
                    address: addr.to_string(),
                    via_proxy: road.proxy.map(str::to_string),
                };
                return Ok(((stream, *addr), detail));
            }
            Ok(Err(e)) => last = e,
            Err(_) => last = std::io::Error::from(std::io::ErrorKind::TimedOut),
        }
    }
    let (host, port) = road.dial();
    let cause = classify_io(&last, &host, &format!("{host}:{port}"));
    Err(match (road.proxy, cause) {
        (
            Some(p),
            Cause::ConnectionRefused { .. } | Cause::Timeout { .. } | Cause::Network { .. },
        ) => Cause::ProxyUnreachable {
            proxy: p.to_string(),
        },
        (_, c) => c,
    })
}

/// `CONNECT host:port` through an HTTP proxy; the proxy's status names the
/// cause, so a refusing proxy is told apart from an unreachable registry.
pub(crate) async fn tunnel(
    limit: Duration,
    road: &Road<'_>,
    proxy: &str,
    tcp: &mut TcpStream,
) -> Result<((), Detail), Cause> {
    within(
        limit,
        proxy,
        connect_through(tcp, road.host, road.port, proxy),
    )
    .await?;
    Ok((
        (),
        Detail::Tunnel {
            proxy: proxy.to_string(),
        },
    ))
}

async fn connect_through(
    tcp: &mut TcpStream,
    host: &str,
    port: u16,
    proxy: &str,
) -> Result<(), Cause> {
    let mut request = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some(auth) = proxy_basic_auth(proxy) {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    let io_cause = |e: std::io::Error| classify_io(&e, proxy, proxy);
    tcp.write_all(request.as_bytes()).await.map_err(io_cause)?;
    // Read the response head, at most 8 KiB.
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.map_err(io_cause)?;
        if n == 0 || head.len() > 8192 {
            return Err(Cause::ProxyRefused {
                proxy: proxy.to_string(),
                status: 0,
            });
        }
        head.extend_from_slice(&buf[..n]);
    }
    let status: u16 = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let proxy = proxy.to_string();
    match status {
        200..=299 => Ok(()),
        407 => Err(Cause::ProxyAuthRequired { proxy }),
        502..=504 => Err(Cause::ProxyTargetUnreachable { proxy, status }),
        _ => Err(Cause::ProxyRefused { proxy, status }),
    }
}

/// TLS with the registry's name, verified against the configured trust.
pub(crate) async fn tls(
    limit: Duration,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    (tcp, addr): (TcpStream, SocketAddr),
) -> Result<((), Detail), Cause> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| {
        Cause::TlsFailed {
            host: host.to_string(),
            detail: "not a valid server name".into(),
        }
    })?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let stream = within(limit, host, async {
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| classify_io(&e, host, &addr.to_string()))
    })
    .await?;
    let version = stream
        .get_ref()
        .1
        .protocol_version()
        .map_or_else(|| "unknown".into(), |v| format!("{v:?}"));
    Ok(((), Detail::Tls { version }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(
            split_authority("registry.redhat.io"),
            ("registry.redhat.io".into(), 443)
        );
        assert_eq!(
            split_authority("127.0.0.1:5000"),
            ("127.0.0.1".into(), 5000)
        );
        assert_eq!(split_authority("[::1]:5000"), ("::1".into(), 5000));
    }
}
