//! The checked token flow against the real test world: Debian's
//! docker-registry with token auth, the SSO-like token server, tinyproxy,
//! and servers with broken certificates. Every named cause is produced for
//! real, never by mocking the client.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rhpull_core::Credential;
use rhpull_core::imageref::ImageRef;
use rhpull_core::sso::paste::{Field, PasteMistake};
use rhpull_core::sso::proxy::ProxyConfig;
use rhpull_core::sso::resolve::StaticResolver;
use rhpull_core::sso::trust::TrustConfig;
use rhpull_core::sso::{BUSY_ATTEMPTS, Detail};
use rhpull_core::sso::{Cause, CheckOptions, CheckReport, Grant, Status, Step, check};
use rhpull_testkit::proxy::{ProxyMode, Tinyproxy};
use rhpull_testkit::sso::Fault;
use rhpull_testkit::tls::{CertFlaw, TestCa};
use rhpull_testkit::world::{self, RegistryWorld};

fn world() -> &'static RegistryWorld {
    static WORLD: OnceLock<RegistryWorld> = OnceLock::new();
    WORLD.get_or_init(RegistryWorld::start)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn trust(ca: &std::path::Path) -> TrustConfig {
    TrustConfig {
        system_roots: false,
        certs_dirs: vec![],
        extra_ca_files: vec![ca.to_path_buf()],
        insecure_skip_verify: false,
    }
}

fn options(registry: &str, user: Option<(&str, &str)>) -> CheckOptions {
    let mut o = CheckOptions::new(registry);
    o.credential = user.map(|(u, p)| Credential::new(registry, u, p));
    o.trust = trust(&world().ca_file);
    o.proxy = ProxyConfig::default();
    o.timeout = Duration::from_secs(5);
    o
}

fn run(o: &CheckOptions) -> CheckReport {
    runtime().block_on(check(o)).expect("check set-up")
}

fn failed(r: &CheckReport) -> (Step, Cause) {
    let s = r
        .steps
        .iter()
        .find(|s| s.status == Status::Failed)
        .unwrap_or_else(|| panic!("no failed step: {r:#?}"));
    (s.step, s.cause.clone().unwrap())
}

fn world_options() -> CheckOptions {
    let w = world();
    let mut o = options(&w.registry.host(), Some((world::USERNAME, world::TOKEN)));
    o.image = Some(ImageRef::parse(&w.image()).unwrap());
    o
}

#[test]
fn a_good_token_passes_every_step_with_the_basic_grant() {
    let r = run(&world_options());
    assert!(r.passed, "{r:#?}");
    let steps: Vec<Step> = r.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            Step::Credentials,
            Step::Dns,
            Step::Connect,
            Step::Tls,
            Step::Challenge,
            Step::Token,
            Step::Registry,
            Step::Image
        ]
    );
    let token = r.steps.iter().find(|s| s.step == Step::Token).unwrap();
    assert!(matches!(
        token.detail,
        Some(Detail::Token {
            grant: Grant::Basic,
            ..
        })
    ));
    let image = r.steps.iter().find(|s| s.step == Step::Image).unwrap();
    assert!(
        matches!(&image.detail, Some(Detail::Manifest { digest: Some(d), .. }) if d.starts_with("sha256:"))
    );
}

#[test]
fn the_oauth_password_grant_works_and_is_the_fallback_when_get_is_refused() {
    let mut o = world_options();
    o.grant = Grant::OAuth;
    let r = run(&o);
    assert!(r.passed, "{r:#?}");

    // A separate token server whose GET answers 405: Auto falls back to POST.
    let ca = TestCa::new("fallback CA");
    let dir = tempfile::tempdir().unwrap();
    let sso = rhpull_testkit::sso::Sso::start(&ca, dir.path());
    sso.add_account(
        world::USERNAME,
        rhpull_testkit::sso::Account {
            password: world::TOKEN.into(),
            pull: vec!["*".into()],
            push: false,
        },
    );
    sso.disable_get(true);
    let registry = rhpull_testkit::registry::Registry::start_token(&ca, &sso);
    let mut o = options(&registry.host(), Some((world::USERNAME, world::TOKEN)));
    o.trust = trust(&registry.ca_file);
    let r = run(&o);
    assert!(r.passed, "{r:#?}");
    let token = r.steps.iter().find(|s| s.step == Step::Token).unwrap();
    assert!(
        matches!(
            token.detail,
            Some(Detail::Token {
                grant: Grant::OAuth,
                ..
            })
        ),
        "{token:?}"
    );
}

#[test]
fn a_wrong_token_is_invalid_credentials_with_the_servers_words() {
    let w = world();
    let o = options(
        &w.registry.host(),
        Some((world::USERNAME, "eyJ.wrong.token")),
    );
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Token);
    assert_eq!(
        cause,
        Cause::InvalidCredentials {
            message: Some("UNAUTHORIZED: Invalid username or password".into())
        }
    );
}

#[test]
fn an_account_not_entitled_to_the_repository_fails_at_the_image() {
    let w = world();
    let mut o = options(
        &w.registry.host(),
        Some((world::UNENTITLED_USERNAME, world::TOKEN)),
    );
    o.image = Some(ImageRef::parse(&w.image()).unwrap());
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Image);
    assert_eq!(
        cause,
        Cause::NotEntitled {
            repository: Some(world::REPOSITORY.into())
        }
    );
}

#[test]
fn a_missing_image_is_not_found_not_a_permission_problem() {
    let w = world();
    let mut o = world_options();
    o.image =
        Some(ImageRef::parse(&format!("{}/rhel9/no-such-image:1", w.registry.host())).unwrap());
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Image);
    assert_eq!(
        cause,
        Cause::NotFound {
            what: "rhel9/no-such-image".into()
        }
    );
}

#[test]
fn token_server_faults_are_named() {
    // A world of its own: faults are queued on the token server, and other
    // tests must not consume them.
    let w = RegistryWorld::start();
    let mut o = options(&w.registry.host(), Some((world::USERNAME, world::TOKEN)));
    o.trust = trust(&w.ca_file);
    // Busy once or twice: asked again, and the check passes.
    for busy in [(503, None), (429, Some(1))] {
        w.sso.push_fault(Fault::Status {
            status: busy.0,
            retry_after: busy.1,
        });
    }
    let before = w.sso.requests();
    let report = run(&o);
    assert!(report.passed, "{report:?}");
    assert_eq!(
        w.sso.requests() - before,
        3,
        "two busy answers, then a token"
    );

    // Busy every time: named after the bound.
    for _ in 0..BUSY_ATTEMPTS {
        w.sso.push_fault(Fault::Status {
            status: 503,
            retry_after: None,
        });
    }
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Token);
    assert!(
        matches!(cause, Cause::ServerError { status: 503, .. }),
        "{cause:?}"
    );

    // Asked to wait longer than a check should: named at once, with the wait.
    w.sso.push_fault(Fault::Status {
        status: 429,
        retry_after: Some(7),
    });
    let before = w.sso.requests();
    assert_eq!(
        failed(&run(&o)).1,
        Cause::TooManyRequests {
            retry_after: Some(7)
        }
    );
    assert_eq!(w.sso.requests() - before, 1);

    w.sso.push_fault(Fault::Garbage);
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Token);
    assert!(matches!(cause, Cause::MalformedToken { .. }), "{cause:?}");
}

#[test]
fn paste_mistakes_stop_before_any_request() {
    let w = world();
    let before = w.sso.requests();
    let o = options(
        &w.registry.host(),
        Some((world::USERNAME, &format!("{}\n", world::TOKEN))),
    );
    let r = run(&o);
    assert_eq!(
        failed(&r),
        (
            Step::Credentials,
            Cause::PasteMistake {
                mistake: PasteMistake::Whitespace(Field::Password)
            }
        )
    );
    assert!(r.steps[1..].iter().all(|s| s.status == Status::Skipped));
    assert_eq!(w.sso.requests(), before, "no request may be sent");
}

#[test]
fn no_credentials_for_a_protected_registry_is_named() {
    let w = world();
    let o = options(&w.registry.host(), None);
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Token);
    assert_eq!(
        cause,
        Cause::NoCredentials {
            registry: w.registry.host()
        }
    );
}

#[test]
fn an_anonymous_registry_needs_no_token() {
    let ca = TestCa::new("anonymous CA");
    let registry = rhpull_testkit::registry::Registry::start_anonymous(&ca);
    let mut o = options(&registry.host(), None);
    o.trust = trust(&registry.ca_file);
    let r = run(&o);
    assert!(r.passed, "{r:#?}");
    let ch = r.steps.iter().find(|s| s.step == Step::Challenge).unwrap();
    assert_eq!(ch.detail, Some(Detail::Anonymous));
}

#[test]
fn basic_auth_registries_are_checked_too() {
    let registry = rhpull_testkit::registry::Registry::start_htpasswd("bob", "right");
    let mut o = options(&registry.host(), Some(("bob", "right")));
    o.trust = trust(&registry.ca_file);
    assert!(run(&o).passed);
    o.credential = Some(Credential::new(registry.host(), "bob", "wrong-password"));
    let (step, cause) = failed(&run(&o));
    assert_eq!(step, Step::Registry);
    assert!(
        matches!(cause, Cause::InvalidCredentials { .. }),
        "{cause:?}"
    );
}

#[test]
fn tls_failures_are_told_apart() {
    let w = world();
    // Untrusted: the registry's CA is not given.
    let mut o = options(&w.registry.host(), Some((world::USERNAME, world::TOKEN)));
    o.trust.extra_ca_files.clear();
    assert_eq!(
        failed(&run(&o)),
        (
            Step::Tls,
            Cause::TlsUntrusted {
                host: "127.0.0.1".into()
            }
        )
    );

    // Trusted through certs.d/HOST:PORT, as podman does.
    let certs_d = tempfile::tempdir().unwrap();
    let dir = certs_d.path().join(w.registry.host());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&w.ca_file, dir.join("ca.crt")).unwrap();
    o.trust.certs_dirs = vec![certs_d.path().to_path_buf()];
    assert!(run(&o).passed);

    // Expired and wrong-name certificates on real TLS servers.
    for (flaw, expect) in [
        (
            CertFlaw::Expired,
            Cause::TlsExpired {
                host: "127.0.0.1".into(),
            },
        ),
        (
            CertFlaw::WrongName,
            Cause::TlsNameMismatch {
                host: "127.0.0.1".into(),
            },
        ),
    ] {
        let ca = TestCa::new("flawed CA");
        let dir = tempfile::tempdir().unwrap();
        let cert = ca.server_cert_with(dir.path(), "flawed", flaw);
        let server = rhpull_testkit::sso::Sso::start_with_cert(&cert, dir.path());
        let ca_file = ca.write_ca(&dir.path().join("ca"));
        let mut o = options(&format!("127.0.0.1:{}", server.port()), None);
        o.trust = trust(&ca_file);
        assert_eq!(failed(&run(&o)), (Step::Tls, expect));
    }

    // Insecure mode passes the TLS step even when untrusted.
    let mut o = options(&w.registry.host(), Some((world::USERNAME, world::TOKEN)));
    o.trust.extra_ca_files.clear();
    o.trust.insecure_skip_verify = true;
    assert!(run(&o).passed);
}

#[test]
fn network_failures_are_named() {
    // Unknown host: a resolver that knows only loopback names (no DNS query leaves the machine).
    let mut o = options("registry.invalid", Some((world::USERNAME, world::TOKEN)));
    o.resolver =
        Arc::new(StaticResolver::default().with("localhost", IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert_eq!(
        failed(&run(&o)),
        (
            Step::Dns,
            Cause::DnsFailure {
                host: "registry.invalid".into()
            }
        )
    );

    // Closed port.
    let port = rhpull_testkit::tools::free_port();
    let o = options(&format!("127.0.0.1:{port}"), None);
    assert_eq!(
        failed(&run(&o)),
        (
            Step::Connect,
            Cause::ConnectionRefused {
                address: format!("127.0.0.1:{port}")
            }
        )
    );

    // A listener that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut o = options(&silent.local_addr().unwrap().to_string(), None);
    o.timeout = Duration::from_millis(400);
    assert_eq!(
        failed(&run(&o)),
        (
            Step::Tls,
            Cause::Timeout {
                host: "127.0.0.1".into()
            }
        )
    );
}

#[test]
fn proxies_are_used_and_their_refusals_named() {
    let w = world();
    let host = w.registry.host();
    let with_proxy = |url: String| {
        let mut o = world_options();
        o.proxy = ProxyConfig {
            https_proxy: Some(url),
            no_proxy: vec![],
        };
        o
    };
    // 1. A proxy that tunnels to the registry (and to the token server).
    let allow = Tinyproxy::start(&ProxyMode::AllowPort(w.registry.port));
    let mut o = with_proxy(allow.url());
    // The token server is on another port: let it bypass the proxy.
    o.proxy.no_proxy = vec![];
    let r = run(&o);
    let proxy_step = r.steps.iter().find(|s| s.step == Step::Proxy).unwrap();
    assert_eq!(proxy_step.status, Status::Passed, "{r:#?}");

    // 2. A proxy that refuses CONNECT: named as the proxy's refusal.
    let refuse = Tinyproxy::start(&ProxyMode::RefuseConnect);
    let (step, cause) = failed(&run(&with_proxy(refuse.url())));
    assert_eq!(step, Step::Proxy);
    assert!(
        matches!(cause, Cause::ProxyRefused { status: 403, .. }),
        "{cause:?}"
    );

    // 3. A proxy that wants credentials.
    let auth = Tinyproxy::start(&ProxyMode::RequireAuth {
        user: "proxyuser".into(),
        password: "proxypass".into(),
        port: w.registry.port,
    });
    let (step, cause) = failed(&run(&with_proxy(auth.url())));
    assert_eq!(
        (step, &cause),
        (Step::Proxy, &Cause::ProxyAuthRequired { proxy: auth.url() })
    );
    let o = with_proxy(format!(
        "http://proxyuser:proxypass@127.0.0.1:{}",
        auth.port
    ));
    let r = run(&o);
    assert_eq!(
        r.steps
            .iter()
            .find(|s| s.step == Step::Proxy)
            .unwrap()
            .status,
        Status::Passed,
        "{r:#?}"
    );

    // 4. A proxy that is not there.
    let dead = format!("http://127.0.0.1:{}", rhpull_testkit::tools::free_port());
    let (step, cause) = failed(&run(&with_proxy(dead.clone())));
    assert_eq!(
        (step, cause),
        (Step::Connect, Cause::ProxyUnreachable { proxy: dead })
    );

    // 5. NO_PROXY bypasses it.
    let mut o = with_proxy(refuse.url());
    o.proxy.no_proxy = vec!["127.0.0.1".into()];
    let r = run(&o);
    assert!(r.passed, "{r:#?}");
    assert!(r.steps.iter().all(|s| s.step != Step::Proxy));
    let _ = host;
}
