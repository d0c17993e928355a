//! The Docker Registry v2 token flow as a checked sequence of steps, each
//! timed and, on failure, named: credentials → DNS → connect (→ proxy
//! tunnel) → TLS → challenge → token → registry → image.
//!
//! The connection steps are done by hand on the registry's address so each
//! failure has its own line; the HTTP steps then go through one reqwest
//! client built with the same trust, proxy and resolver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::challenge::{self, Challenge};
use super::diagnose::{Cause, Context, classify_io, classify_reqwest, classify_status};
use super::paste;
use super::proxy::{ProxyConfig, proxy_authority, proxy_basic_auth};
use super::resolve::{ForReqwest, Resolve, SystemResolver};
use super::token::{self, Token};
use super::trust::{TrustConfig, TrustError};
use crate::Credential;
use crate::imageref::ImageRef;

/// How to ask the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grant {
    /// Basic-auth GET; the OAuth password grant when GET is not offered.
    #[default]
    Auto,
    Basic,
    OAuth,
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// `host[:port]`.
    pub registry: String,
    pub credential: Option<Credential>,
    pub image: Option<ImageRef>,
    pub trust: TrustConfig,
    pub proxy: ProxyConfig,
    pub timeout: Duration,
    pub grant: Grant,
    pub resolver: Arc<dyn Resolve>,
    /// `client_id` sent to the token endpoint.
    pub client_id: String,
}

impl CheckOptions {
    pub fn new(registry: &str) -> Self {
        Self {
            registry: registry.to_string(),
            credential: None,
            image: None,
            trust: TrustConfig::default(),
            proxy: ProxyConfig::from_env(),
            timeout: Duration::from_secs(10),
            grant: Grant::Auto,
            resolver: Arc::new(SystemResolver),
            client_id: "rhpull".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Credentials,
    Dns,
    Connect,
    Proxy,
    Tls,
    Challenge,
    Token,
    Registry,
    Image,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// Facts a passed step reports (addresses, schemes: data, not prose).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    Credential {
        username: String,
    },
    NoCredential,
    Addresses {
        addresses: Vec<String>,
    },
    Connected {
        address: String,
        via_proxy: Option<String>,
    },
    Tunnel {
        proxy: String,
    },
    Tls {
        version: String,
    },
    Anonymous,
    BearerChallenge {
        realm: String,
        service: Option<String>,
    },
    BasicChallenge,
    Token {
        grant: Grant,
        expires_in: Option<u64>,
    },
    BasicAuth,
    Registry {
        status: u16,
    },
    Manifest {
        digest: Option<String>,
        media_type: Option<String>,
    },
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct StepReport {
    pub step: Step,
    pub status: Status,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// Every step of one check, in order.
#[derive(Debug, serde::Serialize)]
pub struct CheckReport {
    pub registry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub steps: Vec<StepReport>,
    pub passed: bool,
}

/// Errors that stop a check before it starts (bad options, not a failed step).
#[derive(Debug, thiserror::Error)]
pub enum CheckSetupError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

struct Recorder {
    steps: Vec<StepReport>,
    started: Instant,
}

impl Recorder {
    fn new() -> Self {
        Self {
            steps: Vec::new(),
            started: Instant::now(),
        }
    }
    fn elapsed(&mut self) -> u64 {
        let ms = self.started.elapsed().as_millis();
        self.started = Instant::now();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }
    fn pass(&mut self, step: Step, detail: Detail) {
        let elapsed_ms = self.elapsed();
        self.steps.push(StepReport {
            step,
            status: Status::Passed,
            elapsed_ms,
            detail: Some(detail),
            cause: None,
        });
    }
    fn fail(&mut self, step: Step, cause: Cause) {
        let elapsed_ms = self.elapsed();
        self.steps.push(StepReport {
            step,
            status: Status::Failed,
            elapsed_ms,
            detail: None,
            cause: Some(cause),
        });
    }
    fn skip_rest(&mut self, steps: &[Step]) {
        for &step in steps {
            if !self.steps.iter().any(|s| s.step == step) {
                self.steps.push(StepReport {
                    step,
                    status: Status::Skipped,
                    elapsed_ms: 0,
                    detail: None,
                    cause: None,
                });
            }
        }
    }
}

fn split_authority(registry: &str) -> (String, u16) {
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

/// Runs the check; a failed step ends it and the rest are marked skipped.
pub async fn check(opts: &CheckOptions) -> Result<CheckReport, CheckSetupError> {
    let (host, port) = split_authority(&opts.registry);
    let authority = opts.registry.trim_end_matches('/').to_string();
    let tls_config = opts.trust.client_config(&[&authority])?;
    let mut rec = Recorder::new();
    let mut all: Vec<Step> = vec![Step::Credentials, Step::Dns, Step::Connect];
    let proxy = opts.proxy.for_host(&host).map(str::to_string);
    if proxy.is_some() {
        all.push(Step::Proxy);
    }
    all.extend([Step::Tls, Step::Challenge, Step::Token, Step::Registry]);
    if opts.image.is_some() {
        all.push(Step::Image);
    }
    let report = |rec: Recorder| CheckReport {
        registry: authority.clone(),
        image: opts.image.as_ref().map(ToString::to_string),
        passed: rec.steps.iter().all(|s| s.status != Status::Failed)
            && rec.steps.iter().any(|s| s.status == Status::Passed),
        steps: rec.steps,
    };

    // 1. Credentials, before any request.
    match &opts.credential {
        Some(c) => match paste::check(&c.username, c.secret.expose_secret()) {
            Some(mistake) => {
                rec.fail(Step::Credentials, Cause::PasteMistake { mistake });
                rec.skip_rest(&all);
                return Ok(report(rec));
            }
            None => rec.pass(
                Step::Credentials,
                Detail::Credential {
                    username: c.username.clone(),
                },
            ),
        },
        None => rec.pass(Step::Credentials, Detail::NoCredential),
    }

    // 2–5. DNS, TCP, proxy tunnel, TLS: each failure named on its own line.
    if let Err(()) = connect_steps(
        opts,
        &host,
        port,
        proxy.as_deref(),
        tls_config.clone(),
        &mut rec,
    )
    .await
    {
        rec.skip_rest(&all);
        return Ok(report(rec));
    }

    // 6–9. HTTP: challenge, token, registry, image.
    let client = http_client(opts, tls_config, proxy.as_deref())?;
    let _ = http_steps(opts, &client, &host, &authority, &mut rec).await;
    rec.skip_rest(&all);
    Ok(report(rec))
}

fn http_client(
    opts: &CheckOptions,
    tls: Arc<rustls::ClientConfig>,
    proxy: Option<&str>,
) -> Result<reqwest::Client, CheckSetupError> {
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout)
        .dns_resolver(Arc::new(ForReqwest(opts.resolver.clone())))
        .user_agent(concat!("kubectl-rhpull/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    if let Some(p) = proxy {
        let proxy = reqwest::Proxy::https(p).map_err(|e| CheckSetupError::Client(e.to_string()))?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| CheckSetupError::Client(e.to_string()))
}

async fn connect_steps(
    opts: &CheckOptions,
    host: &str,
    port: u16,
    proxy: Option<&str>,
    tls: Arc<rustls::ClientConfig>,
    rec: &mut Recorder,
) -> Result<(), ()> {
    // DNS: of the proxy when going through one (the proxy resolves the registry).
    let (dial_host, dial_port) = match proxy {
        Some(p) => proxy_authority(p).unwrap_or((p.to_string(), 80)),
        None => (host.to_string(), port),
    };
    let addrs: Vec<SocketAddr> = match dial_host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, dial_port)],
        Err(_) => {
            match tokio::time::timeout(opts.timeout, opts.resolver.resolve(&dial_host, dial_port))
                .await
            {
                Ok(Ok(a)) if !a.is_empty() => a,
                Ok(_) => {
                    rec.fail(Step::Dns, Cause::DnsFailure { host: dial_host });
                    return Err(());
                }
                Err(_) => {
                    rec.fail(Step::Dns, Cause::Timeout { host: dial_host });
                    return Err(());
                }
            }
        }
    };
    rec.pass(
        Step::Dns,
        Detail::Addresses {
            addresses: addrs.iter().map(|a| a.ip().to_string()).collect(),
        },
    );

    let mut last: Option<std::io::Error> = None;
    let mut stream: Option<(TcpStream, SocketAddr)> = None;
    for addr in &addrs {
        match tokio::time::timeout(opts.timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                stream = Some((s, *addr));
                break;
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(std::io::Error::from(std::io::ErrorKind::TimedOut)),
        }
    }
    let Some((mut tcp, addr)) = stream else {
        let err = last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound));
        let cause = match (
            proxy,
            classify_io(&err, &dial_host, &format!("{dial_host}:{dial_port}")),
        ) {
            (
                Some(p),
                Cause::ConnectionRefused { .. } | Cause::Timeout { .. } | Cause::Network { .. },
            ) => Cause::ProxyUnreachable {
                proxy: p.to_string(),
            },
            (_, c) => c,
        };
        rec.fail(Step::Connect, cause);
        return Err(());
    };
    rec.pass(
        Step::Connect,
        Detail::Connected {
            address: addr.to_string(),
            via_proxy: proxy.map(str::to_string),
        },
    );

    if let Some(p) = proxy {
        match tokio::time::timeout(opts.timeout, connect_tunnel(&mut tcp, host, port, p)).await {
            Ok(Ok(())) => rec.pass(
                Step::Proxy,
                Detail::Tunnel {
                    proxy: p.to_string(),
                },
            ),
            Ok(Err(cause)) => {
                rec.fail(Step::Proxy, cause);
                return Err(());
            }
            Err(_) => {
                rec.fail(
                    Step::Proxy,
                    Cause::Timeout {
                        host: p.to_string(),
                    },
                );
                return Err(());
            }
        }
    }

    let name = match rustls::pki_types::ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(_) => {
            rec.fail(
                Step::Tls,
                Cause::TlsFailed {
                    host: host.to_string(),
                    detail: "not a valid server name".into(),
                },
            );
            return Err(());
        }
    };
    let connector = tokio_rustls::TlsConnector::from(tls);
    match tokio::time::timeout(opts.timeout, connector.connect(name, tcp)).await {
        Ok(Ok(tls_stream)) => {
            let version = tls_stream
                .get_ref()
                .1
                .protocol_version()
                .map_or_else(|| "unknown".into(), |v| format!("{v:?}"));
            rec.pass(Step::Tls, Detail::Tls { version });
            Ok(())
        }
        Ok(Err(e)) => {
            rec.fail(Step::Tls, classify_io(&e, host, &addr.to_string()));
            Err(())
        }
        Err(_) => {
            rec.fail(
                Step::Tls,
                Cause::Timeout {
                    host: host.to_string(),
                },
            );
            Err(())
        }
    }
}

/// `CONNECT host:port` through an HTTP proxy; the proxy's status names the
/// cause, so a refusing proxy is told apart from an unreachable registry.
async fn connect_tunnel(
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

/// Tries per request when the server says it is busy.
pub const BUSY_ATTEMPTS: u32 = 3;
/// The longest `Retry-After` waited out; a longer one is reported instead.
const MAX_BUSY_WAIT: u64 = 5;

/// Sends the request `make` builds, again when the answer is 429 (with a
/// `Retry-After` of at most [`MAX_BUSY_WAIT`] seconds) or 502/503/504, at
/// most [`BUSY_ATTEMPTS`] times. Every request of the check is safe to
/// repeat: GETs, a HEAD, and the token grant, which only issues a token.
/// The last answer is returned as it came, for the cause to be named.
async fn send_patiently(
    make: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut attempt = 1;
    loop {
        let resp = make().send().await?;
        let busy = matches!(resp.status().as_u16(), 429 | 502 | 503 | 504);
        let wait = match retry_after(&resp) {
            Some(s) if s > MAX_BUSY_WAIT => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(Duration::from_millis(200 << attempt)),
        };
        match wait {
            Some(wait) if busy && attempt < BUSY_ATTEMPTS => {
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => return Ok(resp),
        }
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn status_cause(
    resp: reqwest::Response,
    ctx: Context,
    host: &str,
    repository: Option<&str>,
) -> Cause {
    let status = resp.status().as_u16();
    let retry = retry_after(&resp);
    let body = resp.bytes().await.unwrap_or_default();
    classify_status(
        status,
        ctx,
        host,
        token::error_message(&body),
        retry,
        repository,
    )
}

enum Auth {
    None,
    Basic,
    Bearer(Token),
}

async fn http_steps(
    opts: &CheckOptions,
    client: &reqwest::Client,
    host: &str,
    authority: &str,
    rec: &mut Recorder,
) -> Result<(), ()> {
    let base = format!("https://{authority}/v2/");
    let repository = opts.image.as_ref().map(|i| i.repository.clone());

    // Challenge.
    let resp = match send_patiently(|| client.get(&base)).await {
        Ok(r) => r,
        Err(e) => {
            rec.fail(Step::Challenge, classify_reqwest(&e, host));
            return Err(());
        }
    };
    let auth_kind = if resp.status().is_success() {
        rec.pass(Step::Challenge, Detail::Anonymous);
        Auth::None
    } else if resp.status().as_u16() == 401 {
        let header = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        match pick_challenge(&header) {
            Ok(c) if c.scheme == "basic" => {
                rec.pass(Step::Challenge, Detail::BasicChallenge);
                Auth::Basic
            }
            Ok(c) => {
                let realm = c.param("realm").unwrap_or_default().to_string();
                rec.pass(
                    Step::Challenge,
                    Detail::BearerChallenge {
                        realm: realm.clone(),
                        service: c.param("service").map(str::to_string),
                    },
                );
                match token_step(opts, client, &c, rec).await {
                    Some(t) => Auth::Bearer(t),
                    None => return Err(()),
                }
            }
            Err(detail) => {
                rec.fail(Step::Challenge, Cause::MalformedChallenge { detail });
                return Err(());
            }
        }
    } else {
        rec.fail(
            Step::Challenge,
            status_cause(resp, Context::Challenge, host, None).await,
        );
        return Err(());
    };

    let authorize = |req: reqwest::RequestBuilder| match &auth_kind {
        Auth::None => req,
        Auth::Basic => match &opts.credential {
            Some(c) => req.basic_auth(&c.username, Some(c.secret.expose_secret())),
            None => req,
        },
        Auth::Bearer(t) => req.bearer_auth(t.token.expose_secret()),
    };

    // Token step for anonymous and basic registries.
    match &auth_kind {
        Auth::None => {}
        Auth::Basic if opts.credential.is_none() => {
            rec.fail(
                Step::Token,
                Cause::NoCredentials {
                    registry: authority.to_string(),
                },
            );
            return Err(());
        }
        Auth::Basic => rec.pass(Step::Token, Detail::BasicAuth),
        Auth::Bearer(_) => {}
    }

    // Registry: /v2/ with the credential.
    match send_patiently(|| authorize(client.get(&base))).await {
        Ok(r) if r.status().is_success() => rec.pass(
            Step::Registry,
            Detail::Registry {
                status: r.status().as_u16(),
            },
        ),
        Ok(r) => {
            let ctx = if matches!(auth_kind, Auth::Basic) {
                Context::Token
            } else {
                Context::Registry
            };
            rec.fail(Step::Registry, status_cause(r, ctx, host, None).await);
            return Err(());
        }
        Err(e) => {
            rec.fail(Step::Registry, classify_reqwest(&e, host));
            return Err(());
        }
    }

    // Image: HEAD the manifest.
    if let Some(image) = &opts.image {
        let url = format!(
            "https://{authority}/v2/{}/manifests/{}",
            image.repository,
            image.reference()
        );
        let req = || {
            authorize(client.head(&url)).header(
                reqwest::header::ACCEPT,
                "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
                 application/vnd.docker.distribution.manifest.list.v2+json, \
                 application/vnd.docker.distribution.manifest.v2+json",
            )
        };
        match send_patiently(req).await {
            Ok(r) if r.status().is_success() => {
                let header = |name: &str| {
                    r.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                rec.pass(
                    Step::Image,
                    Detail::Manifest {
                        digest: header("docker-content-digest"),
                        media_type: header("content-type"),
                    },
                );
            }
            Ok(r) => {
                rec.fail(
                    Step::Image,
                    status_cause(r, Context::Image, host, repository.as_deref()).await,
                );
                return Err(());
            }
            Err(e) => {
                rec.fail(Step::Image, classify_reqwest(&e, host));
                return Err(());
            }
        }
    }
    Ok(())
}

/// The host of the token server a registry sends clients to (the realm of
/// its Bearer challenge), for delegated authentication; `Ok(None)` when the
/// registry needs no token.
pub async fn discover_auth_server(opts: &CheckOptions) -> Result<Option<String>, Cause> {
    let (host, _) = split_authority(&opts.registry);
    let authority = opts.registry.trim_end_matches('/').to_string();
    let tls = opts
        .trust
        .client_config(&[&authority])
        .map_err(|e| Cause::TlsFailed {
            host: host.clone(),
            detail: e.to_string(),
        })?;
    let proxy = opts.proxy.for_host(&host).map(str::to_string);
    let client = http_client(opts, tls, proxy.as_deref()).map_err(|e| Cause::Network {
        detail: e.to_string(),
    })?;
    let base = format!("https://{authority}/v2/");
    let resp = send_patiently(|| client.get(&base))
        .await
        .map_err(|e| classify_reqwest(&e, &host))?;
    if resp.status().is_success() {
        return Ok(None);
    }
    let header = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let challenge =
        pick_challenge(&header).map_err(|detail| Cause::MalformedChallenge { detail })?;
    let realm = challenge.param("realm").unwrap_or_default();
    Ok(realm
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', '?']).next())
        .map(str::to_string))
}

/// The Bearer challenge if there is one (with a realm), else Basic.
fn pick_challenge(header: &str) -> Result<Challenge, String> {
    let all = challenge::parse(header).map_err(|e| e.to_string())?;
    if let Some(bearer) = all.iter().find(|c| c.scheme == "bearer") {
        let realm = bearer.param("realm").unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(format!("Bearer challenge without a usable realm: {header}"));
        }
        return Ok(bearer.clone());
    }
    all.into_iter()
        .find(|c| c.scheme == "basic")
        .ok_or_else(|| format!("no Bearer or Basic challenge: {header}"))
}

async fn token_step(
    opts: &CheckOptions,
    client: &reqwest::Client,
    c: &Challenge,
    rec: &mut Recorder,
) -> Option<Token> {
    let realm = c.param("realm").unwrap_or_default();
    let realm_host = realm
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', '?']).next())
        .unwrap_or(realm)
        .to_string();
    let service = c.param("service").unwrap_or_default();
    let scope = opts
        .image
        .as_ref()
        .map(|i| format!("repository:{}:pull", i.repository));
    let repository = opts.image.as_ref().map(|i| i.repository.as_str());

    let basic = || {
        let mut query: Vec<(&str, &str)> =
            vec![("service", service), ("client_id", &opts.client_id)];
        if let Some(s) = &scope {
            query.push(("scope", s));
        }
        let mut req = client.get(realm).query(&query);
        if let Some(cred) = &opts.credential {
            query.push(("account", &cred.username));
            req = client
                .get(realm)
                .query(&query)
                .basic_auth(&cred.username, Some(cred.secret.expose_secret()));
        }
        req
    };
    let oauth = |cred: &Credential| {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "password"),
            ("username", &cred.username),
            ("password", cred.secret.expose_secret()),
            ("service", service),
            ("client_id", &opts.client_id),
        ];
        if let Some(s) = &scope {
            form.push(("scope", s));
        }
        client.post(realm).form(&form)
    };

    let (resp, grant) = match (opts.grant, &opts.credential) {
        (Grant::OAuth, Some(cred)) => (send_patiently(|| oauth(cred)).await, Grant::OAuth),
        (Grant::OAuth, None) => {
            rec.fail(
                Step::Token,
                Cause::NoCredentials {
                    registry: opts.registry.clone(),
                },
            );
            return None;
        }
        (grant, cred) => {
            let first = send_patiently(basic).await;
            let offers_get = first
                .as_ref()
                .map(|r| !matches!(r.status().as_u16(), 400 | 404 | 405))
                .unwrap_or(true);
            match (grant, cred, offers_get) {
                (Grant::Auto, Some(cred), false) => {
                    (send_patiently(|| oauth(cred)).await, Grant::OAuth)
                }
                _ => (first, Grant::Basic),
            }
        }
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            rec.fail(Step::Token, classify_reqwest(&e, &realm_host));
            return None;
        }
    };
    if !resp.status().is_success() {
        let cause = if resp.status().as_u16() == 401 && opts.credential.is_none() {
            Cause::NoCredentials {
                registry: opts.registry.clone(),
            }
        } else {
            status_cause(resp, Context::Token, &realm_host, repository).await
        };
        rec.fail(Step::Token, cause);
        return None;
    }
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            rec.fail(Step::Token, classify_reqwest(&e, &realm_host));
            return None;
        }
    };
    match token::parse_token(&body) {
        Ok(t) => {
            rec.pass(
                Step::Token,
                Detail::Token {
                    grant,
                    expires_in: t.expires_in,
                },
            );
            Some(t)
        }
        Err(e) => {
            rec.fail(
                Step::Token,
                Cause::MalformedToken {
                    detail: e.to_string(),
                },
            );
            None
        }
    }
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

    #[test]
    fn challenge_choice() {
        let c = pick_challenge(r#"Basic realm="x", Bearer realm="https://t/auth",service="s""#)
            .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert!(pick_challenge(r#"Bearer service="s""#).is_err());
        assert_eq!(
            pick_challenge(r#"Basic realm="r""#).unwrap().scheme,
            "basic"
        );
        assert!(pick_challenge("Negotiate").is_err());
    }
}
