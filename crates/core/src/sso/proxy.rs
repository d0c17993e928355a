//! Which proxy a request to a host goes through: `HTTPS_PROXY` (or
//! `https_proxy`, then `ALL_PROXY`/`all_proxy`), unless `NO_PROXY`
//! (`no_proxy`) lists the host: `*`, an exact host or IP, a domain suffix
//! (`example.com` and `.example.com` both cover `a.example.com`), or an IPv4
//! CIDR block. Decided once here so the connection steps and the HTTP client
//! take the same road.

use std::net::Ipv4Addr;

/// The proxy settings in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// `http://[user:pass@]host:port` of the HTTPS proxy.
    pub https_proxy: Option<String>,
    pub no_proxy: Vec<String>,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

impl ProxyConfig {
    pub fn from_env() -> Self {
        Self {
            https_proxy: env_first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            no_proxy: env_first(&["NO_PROXY", "no_proxy"])
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The proxy URL for `host`, or `None` to go direct.
    pub fn for_host(&self, host: &str) -> Option<&str> {
        let proxy = self.https_proxy.as_deref()?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let bypass = self
            .no_proxy
            .iter()
            .any(|entry| matches_entry(entry, &host));
        (!bypass).then_some(proxy)
    }
}

fn matches_entry(entry: &str, host: &str) -> bool {
    if entry == "*" {
        return true;
    }
    // Entries may carry a port; the host comparison ignores it.
    let entry = match entry.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => entry,
    };
    if let Some((net, bits)) = entry.split_once('/') {
        return cidr_contains(net, bits, host);
    }
    let suffix = entry.trim_start_matches('.');
    host == suffix || host.ends_with(&format!(".{suffix}"))
}

fn cidr_contains(net: &str, bits: &str, host: &str) -> bool {
    let (Ok(net), Ok(bits), Ok(ip)) = (
        net.parse::<Ipv4Addr>(),
        bits.parse::<u32>(),
        host.parse::<Ipv4Addr>(),
    ) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

/// `host:port` of a proxy URL (default port 80 for http, 443 for https).
pub fn proxy_authority(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h.to_string(), p.parse().ok()?)),
        _ if !authority.is_empty() => Some((authority.to_string(), default)),
        _ => None,
    }
}

/// `Proxy-Authorization` for a proxy URL with `user:pass@`, if any.
pub fn proxy_basic_auth(url: &str) -> Option<String> {
    use base64::Engine as _;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (userinfo, _) = rest.rsplit_once('@')?;
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(userinfo)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(no_proxy: &[&str]) -> ProxyConfig {
        ProxyConfig {
            https_proxy: Some("http://proxy.corp:3128".into()),
            no_proxy: no_proxy.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn no_proxy_rules() {
        let c = cfg(&[
            ".corp.example",
            "localhost",
            "10.0.0.0/8",
            "registry.internal:5000",
        ]);
        assert_eq!(
            c.for_host("registry.redhat.io"),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(c.for_host("a.corp.example"), None);
        assert_eq!(c.for_host("corp.example"), None);
        assert_eq!(c.for_host("localhost"), None);
        assert_eq!(c.for_host("10.1.2.3"), None);
        assert_eq!(c.for_host("11.1.2.3"), Some("http://proxy.corp:3128"));
        assert_eq!(c.for_host("registry.internal"), None);
        assert_eq!(cfg(&["*"]).for_host("anything"), None);
        assert_eq!(ProxyConfig::default().for_host("x"), None);
    }

    #[test]
    fn proxy_urls() {
        assert_eq!(
            proxy_authority("http://proxy:3128"),
            Some(("proxy".into(), 3128))
        );
        assert_eq!(
            proxy_authority("http://u:p@proxy"),
            Some(("proxy".into(), 80))
        );
        assert_eq!(
            proxy_authority("127.0.0.1:8888"),
            Some(("127.0.0.1".into(), 8888))
        );
        assert_eq!(
            proxy_basic_auth("http://u:p@proxy:1"),
            Some("Basic dTpw".into())
        );
        assert_eq!(proxy_basic_auth("http://proxy:1"), None);
    }
}
