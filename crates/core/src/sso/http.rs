//! The HTTP steps of a check, through one reqwest client built with the
//! same trust, proxy and resolver as the connection steps: the registry's
//! challenge (`GET /v2/` unauthenticated), the registry with the credential
//! (`GET /v2/` again), and the image (`HEAD` of its manifest). Busy answers
//! are asked again ([`send_patiently`]); every other status is named.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use super::challenge::{self, Challenge};
use super::diagnose::{Cause, Context, classify_reqwest, classify_status};
use super::options::{CheckOptions, CheckSetupError};
use super::report::Detail;
use super::resolve::ForReqwest;
use super::token::{self, Token};
use crate::imageref::ImageRef;

/// The client every HTTP step uses.
pub(crate) fn client(
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

/// Tries per request when the server says it is busy.
pub const BUSY_ATTEMPTS: u32 = 3;
/// The longest `Retry-After` waited out; a longer one is reported instead.
const MAX_BUSY_WAIT: u64 = 5;

/// Sends the request `make` builds, again when the answer is 429 (with a
/// `Retry-After` of at most [`MAX_BUSY_WAIT`] seconds) or 502/503/504, at
/// most [`BUSY_ATTEMPTS`] times. Every request of the check is safe to
/// repeat: GETs, a HEAD, and the token grant, which only issues a token.
/// The last answer is returned as it came, for the cause to be named.
pub(crate) async fn send_patiently(
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

/// The named cause of an answer that is not a success.
pub(crate) async fn status_cause(
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

/// `https://AUTHORITY/v2/`.
pub(crate) fn base_url(authority: &str) -> String {
    format!("https://{authority}/v2/")
}

/// What the registry asks for before it serves anything.
#[derive(Debug)]
pub(crate) enum Offered {
    Anonymous,
    Basic,
    Bearer(Challenge),
}

/// `GET /v2/` without credentials: 200 is an anonymous registry, 401 names
/// the scheme in `WWW-Authenticate`.
pub(crate) async fn challenge(
    client: &reqwest::Client,
    authority: &str,
    host: &str,
) -> Result<(Offered, Detail), Cause> {
    let base = base_url(authority);
    let resp = send_patiently(|| client.get(&base))
        .await
        .map_err(|e| classify_reqwest(&e, host))?;
    if resp.status().is_success() {
        return Ok((Offered::Anonymous, Detail::Anonymous));
    }
    if resp.status().as_u16() != 401 {
        return Err(status_cause(resp, Context::Challenge, host, None).await);
    }
    let header = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let chosen = challenge::pick(header).map_err(|detail| Cause::MalformedChallenge { detail })?;
    if chosen.scheme == "basic" {
        return Ok((Offered::Basic, Detail::BasicChallenge));
    }
    let detail = Detail::BearerChallenge {
        realm: chosen.param("realm").unwrap_or_default().to_string(),
        service: chosen.param("service").map(str::to_string),
    };
    Ok((Offered::Bearer(chosen), detail))
}

/// How the registry and image requests are authorised.
#[derive(Debug)]
pub(crate) enum Auth {
    None,
    Basic,
    Bearer(Token),
}

impl Auth {
    fn apply(&self, req: reqwest::RequestBuilder, opts: &CheckOptions) -> reqwest::RequestBuilder {
        match (self, &opts.credential) {
            (Self::Basic, Some(c)) => req.basic_auth(&c.username, Some(c.secret.expose_secret())),
            (Self::Bearer(t), _) => req.bearer_auth(t.token.expose_secret()),
            _ => req,
        }
    }
}

/// `GET /v2/` with the credential (or token).
pub(crate) async fn registry(
    client: &reqwest::Client,
    opts: &CheckOptions,
    auth: &Auth,
    host: &str,
) -> Result<((), Detail), Cause> {
    let base = base_url(opts.registry.trim_end_matches('/'));
    let resp = send_patiently(|| auth.apply(client.get(&base), opts))
        .await
        .map_err(|e| classify_reqwest(&e, host))?;
    if resp.status().is_success() {
        let status = resp.status().as_u16();
        return Ok(((), Detail::Registry { status }));
    }
    // With Basic there is no token step: a 401 here is the credential's.
    let ctx = match auth {
        Auth::Basic => Context::Token,
        _ => Context::Registry,
    };
    Err(status_cause(resp, ctx, host, None).await)
}

/// The manifest media types a pull accepts.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// `HEAD /v2/REPOSITORY/manifests/REFERENCE`: may this login pull the image?
pub(crate) async fn manifest(
    client: &reqwest::Client,
    opts: &CheckOptions,
    auth: &Auth,
    host: &str,
    image: &ImageRef,
) -> Result<((), Detail), Cause> {
    let url = format!(
        "{}{}/manifests/{}",
        base_url(opts.registry.trim_end_matches('/')),
        image.repository,
        image.reference()
    );
    let request = || {
        auth.apply(client.head(&url), opts)
            .header(reqwest::header::ACCEPT, MANIFEST_TYPES)
    };
    let resp = send_patiently(request)
        .await
        .map_err(|e| classify_reqwest(&e, host))?;
    if !resp.status().is_success() {
        let repository = Some(image.repository.as_str());
        return Err(status_cause(resp, Context::Image, host, repository).await);
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let detail = Detail::Manifest {
        digest: header("docker-content-digest"),
        media_type: header("content-type"),
    };
    Ok(((), detail))
}
