//! The Docker Registry v2 token flow as a checked sequence of steps, each
//! timed and, on failure, named: credentials → DNS → connect (→ proxy
//! tunnel) → TLS → challenge → token → registry → image. This module holds
//! the order; [`options`](super::options) what to check,
//! [`connect`](super::connect), [`http`](super::http) and
//! [`grant`](super::grant) the steps, and [`report`](super::report) what is
//! recorded.

use secrecy::ExposeSecret as _;

use super::connect::{self, Road, split_authority};
use super::diagnose::Cause;
use super::grant;
use super::http::{self, Auth, Offered};
use super::options::{CheckOptions, CheckSetupError};
use super::paste;
use super::report::{CheckReport, Detail, Recorder, Step, Stop};

/// Why the steps stopped early.
enum Halt {
    /// A step failed; it is in the report.
    Step,
    Setup(CheckSetupError),
}

impl From<Stop> for Halt {
    fn from(_: Stop) -> Self {
        Self::Step
    }
}

/// Every step a check with these options runs, in order.
fn planned(opts: &CheckOptions, via_proxy: bool) -> Vec<Step> {
    let mut all = vec![Step::Credentials, Step::Dns, Step::Connect];
    if via_proxy {
        all.push(Step::Proxy);
    }
    all.extend([Step::Tls, Step::Challenge, Step::Token, Step::Registry]);
    if opts.image.is_some() {
        all.push(Step::Image);
    }
    all
}

/// The credential step: what was given, checked for paste mistakes before
/// any request.
fn credentials(opts: &CheckOptions) -> Result<((), Detail), Cause> {
    if let Some(problem) = &opts.credential_problem {
        return Err(problem.clone());
    }
    match &opts.credential {
        Some(c) => match paste::check(&c.username, c.secret.expose_secret()) {
            Some(mistake) => Err(Cause::PasteMistake { mistake }),
            None => Ok((
                (),
                Detail::Credential {
                    username: c.username.clone(),
                },
            )),
        },
        None => Ok(((), Detail::NoCredential)),
    }
}

/// Runs the check; a failed step ends it and the rest are marked skipped.
pub async fn check(opts: &CheckOptions) -> Result<CheckReport, CheckSetupError> {
    let (host, port) = split_authority(&opts.registry);
    let proxy = opts.proxy.for_host(&host);
    let mut rec = Recorder::new(planned(opts, proxy.is_some()));
    let road = Road {
        host: &host,
        port,
        proxy,
    };
    if let Err(Halt::Setup(e)) = steps(opts, &road, &mut rec).await {
        return Err(e);
    }
    Ok(rec.finish(
        opts.authority().to_string(),
        opts.image.as_ref().map(ToString::to_string),
    ))
}

async fn steps(opts: &CheckOptions, road: &Road<'_>, rec: &mut Recorder) -> Result<(), Halt> {
    let tls_config = opts
        .trust
        .client_config(&[opts.authority()])
        .map_err(|e| Halt::Setup(e.into()))?;
    let limit = opts.timeout;
    rec.record(Step::Credentials, credentials(opts))?;
    let addrs = rec.record(
        Step::Dns,
        connect::dns(opts.resolver.as_ref(), limit, road).await,
    )?;
    let (mut tcp, addr) = rec.record(Step::Connect, connect::tcp(limit, road, &addrs).await)?;
    if let Some(p) = road.proxy {
        rec.record(Step::Proxy, connect::tunnel(limit, road, p, &mut tcp).await)?;
    }
    rec.record(
        Step::Tls,
        connect::tls(limit, tls_config.clone(), road.host, (tcp, addr)).await,
    )?;

    let client = http::client(opts, tls_config, road.proxy).map_err(Halt::Setup)?;
    let host = road.host;
    let offered = rec.record(
        Step::Challenge,
        http::challenge(&client, opts.authority(), host).await,
    )?;
    let auth = match offered {
        Offered::Anonymous => Auth::None,
        Offered::Basic => {
            let basic = match &opts.credential {
                Some(_) => Ok(((), Detail::BasicAuth)),
                None => Err(Cause::NoCredentials {
                    registry: opts.authority().to_string(),
                }),
            };
            rec.record(Step::Token, basic)?;
            Auth::Basic
        }
        Offered::Bearer(challenge) => {
            Auth::Bearer(rec.record(Step::Token, grant::token(opts, &client, &challenge).await)?)
        }
    };
    rec.record(
        Step::Registry,
        http::registry(&client, opts, &auth, host).await,
    )?;
    if let Some(image) = &opts.image {
        rec.record(
            Step::Image,
            http::manifest(&client, opts, &auth, host, image).await,
        )?;
    }
    Ok(())
}

/// The host of the token server a registry sends clients to (the realm of
/// its Bearer challenge), for delegated authentication; `Ok(None)` when the
/// registry needs no token.
pub async fn discover_auth_server(opts: &CheckOptions) -> Result<Option<String>, Cause> {
    let (host, _) = split_authority(&opts.registry);
    let tls = opts
        .trust
        .client_config(&[opts.authority()])
        .map_err(|e| Cause::TlsFailed {
            host: host.clone(),
            detail: e.to_string(),
        })?;
    let proxy = opts.proxy.for_host(&host);
    let client = http::client(opts, tls, proxy).map_err(|e| Cause::Network {
        detail: e.to_string(),
    })?;
    match http::challenge(&client, opts.authority(), &host).await?.0 {
        Offered::Bearer(challenge) => Ok(challenge.realm_host()),
        Offered::Anonymous | Offered::Basic => Ok(None),
    }
}
