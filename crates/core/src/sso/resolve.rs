//! Name resolution, behind a trait so the connection steps and the HTTP
//! client use the same resolver: the system's in the product, a fixed table
//! in tests (which must never send a DNS query off this machine).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Resolves a host name to addresses.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    fn resolve(&self, host: &str, port: u16) -> Resolving;
}

/// The system resolver (`getaddrinfo`, honouring `/etc/hosts`).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> Resolving {
        let host = host.to_string();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }
}

/// A fixed table: known names resolve, every other name is "no such host".
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    pub hosts: HashMap<String, IpAddr>,
}

impl StaticResolver {
    pub fn with(mut self, host: &str, ip: IpAddr) -> Self {
        self.hosts.insert(host.to_ascii_lowercase(), ip);
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str, port: u16) -> Resolving {
        let found = self.hosts.get(&host.to_ascii_lowercase()).copied();
        let host = host.to_string();
        Box::pin(async move {
            match found {
                Some(ip) => Ok(vec![SocketAddr::new(ip, port)]),
                None => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("dns error: no such host {host}"),
                )),
            }
        })
    }
}

/// Adapter so reqwest resolves with the same resolver.
#[derive(Debug)]
pub(crate) struct ForReqwest(pub Arc<dyn Resolve>);

impl reqwest::dns::Resolve for ForReqwest {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let fut = self.0.resolve(name.as_str(), 0);
        Box::pin(async move {
            let addrs = fut
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
