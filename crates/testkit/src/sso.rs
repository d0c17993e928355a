//! A token server that answers as Red Hat's SSO endpoint does for
//! registry.redhat.io: `GET /auth/realms/rhcc/protocol/redhat-docker-v2/auth`
//! with Basic auth (200 `{token, access_token, expires_in, issued_at}` or 401
//! `{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password"}]}`)
//! and the OAuth password grant by POST to the same path. Tokens are ES256
//! JWTs carrying the signing certificate in `x5c`, which the real
//! docker-registry verifies against its `rootcertbundle`.
//!
//! Faults for tests: the next N answers with a given status (and
//! `Retry-After`), a malformed 200, or GET switched off (405) so clients must
//! use the OAuth grant.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

use crate::server::{Running, serve};
use crate::tls::{ServerCert, TestCa};

/// The path Red Hat's SSO serves registry tokens on.
pub const TOKEN_PATH: &str = "/auth/realms/rhcc/protocol/redhat-docker-v2/auth";
/// The `service` the registry names in its challenge.
pub const SERVICE: &str = "docker-registry";
/// The `iss` of every token.
pub const ISSUER: &str = "rhpull-test-sso";

/// One account the token server knows.
#[derive(Clone, Debug)]
pub struct Account {
    pub password: String,
    /// Repositories it may pull: `*`, `ns/*`, or an exact name.
    pub pull: Vec<String>,
    pub push: bool,
}

impl Account {
    /// An account that may pull and push everything (what pushes the
    /// world's images).
    pub fn pusher(password: &str) -> Self {
        Self {
            password: password.into(),
            pull: vec!["*".into()],
            push: true,
        }
    }
}

/// Decides for credentials no [`Account`] holds, as a registry's own
/// authenticator does (the integrated registry asks the API server who a
/// token is and what it may do).
pub trait Authority: Send + Sync {
    /// Who `password` makes the caller, or `None` (401).
    fn subject(&self, user: &str, password: &str) -> Option<String>;
    /// Whether `subject` may `action` (`pull`, `push`) `repository`.
    fn may(&self, subject: &str, repository: &str, action: &str) -> bool;
}

/// Who a token request comes from, and what judges it.
enum Caller {
    /// One of the server's own accounts, by its user name.
    Account { user: String, account: Account },
    /// Whom the authority says the credentials are.
    Judged {
        subject: String,
        by: Arc<dyn Authority>,
    },
}

impl Caller {
    /// The token's `sub`.
    fn subject(&self) -> &str {
        match self {
            Self::Account { user, .. } => user,
            Self::Judged { subject, .. } => subject,
        }
    }

    /// Whether it may `action` the repository `name`.
    fn may(&self, name: &str, action: &str) -> bool {
        match self {
            Self::Account { account, .. } => match action {
                "pull" => allowed(account, name),
                "push" | "delete" | "*" => account.push,
                _ => false,
            },
            Self::Judged { subject, by } => by.may(subject, name, action),
        }
    }
}

/// A fault to answer with instead of a token.
#[derive(Clone, Debug)]
pub enum Fault {
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    Garbage,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, Account>,
    authority: Option<Arc<dyn Authority>>,
    faults: VecDeque<Fault>,
    get_disabled: bool,
    requests: u64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("accounts", &self.accounts.keys().collect::<Vec<_>>())
            .field("authority", &self.authority.is_some())
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    signer: Arc<EcdsaKeyPair>,
    signer_der: Arc<Vec<u8>>,
}

/// The running token server.
#[derive(Debug)]
pub struct Sso {
    running: Running,
    inner: Arc<Mutex<Inner>>,
    /// PEM of the certificate that signs tokens (the registry's `rootcertbundle`).
    pub signer_cert: PathBuf,
}

impl Sso {
    /// Starts on 127.0.0.1 with a server certificate from `ca`; the signing
    /// certificate is written into `dir`.
    pub fn start(ca: &TestCa, dir: &Path) -> Self {
        let server_cert = ca.server_cert(dir, "sso");
        Self::start_with_cert(&server_cert, dir)
    }

    pub fn start_with_cert(server_cert: &ServerCert, dir: &Path) -> Self {
        let key = rcgen::KeyPair::generate().expect("signing key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rhpull test token signer");
        let cert = params.self_signed(&key).expect("signing cert");
        let signer_cert = dir.join("token-signer.crt");
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(&signer_cert, cert.pem()).expect("write signer cert");
        let rng = ring::rand::SystemRandom::new();
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
                .expect("ring key");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = Shared {
            inner: inner.clone(),
            signer: Arc::new(signer),
            signer_der: Arc::new(cert.der().to_vec()),
        };
        let app = axum::Router::new()
            .route(TOKEN_PATH, get(token_get).post(token_post))
            .with_state(shared);
        Self {
            running: serve(app, Some(server_cert)),
            inner,
            signer_cert,
        }
    }

    pub fn port(&self) -> u16 {
        self.running.port()
    }

    /// The realm URL registries point at.
    pub fn realm(&self) -> String {
        format!("https://127.0.0.1:{}{TOKEN_PATH}", self.port())
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    /// Credentials no account holds are judged by `authority`.
    pub fn set_authority(&self, authority: Arc<dyn Authority>) {
        self.lock().authority = Some(authority);
    }

    pub fn add_account(&self, username: &str, account: Account) {
        self.lock().accounts.insert(username.to_string(), account);
    }

    /// Answers the next requests with `fault`, once each.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Makes GET answer 405, as an endpoint offering only the OAuth grant.
    pub fn disable_get(&self, disabled: bool) {
        self.lock().get_disabled = disabled;
    }

    /// Token requests answered so far.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn errors_body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"code": code, "message": message}]})),
    )
        .into_response()
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Garbage => (StatusCode::OK, "<html>this is not a token</html>").into_response(),
        Fault::Status {
            status,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = errors_body(code, "UNAVAILABLE", "the service is unavailable");
            if let Some(secs) = retry_after {
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    secs.to_string().parse().expect("header"),
                );
            }
            resp
        }
    }
}

/// The next fault, counting the request either way.
fn take_fault(shared: &Shared) -> Option<Fault> {
    let mut inner = shared
        .inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    inner.requests += 1;
    inner.faults.pop_front()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Every `scope=` parameter (there may be several).
fn scopes(query: &[(String, String)]) -> Vec<String> {
    query
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect()
}

fn allowed(account: &Account, repo: &str) -> bool {
    account.pull.iter().any(|p| {
        p == "*"
            || p == repo
            || p.strip_suffix("/*")
                .is_some_and(|prefix| repo.starts_with(&format!("{prefix}/")))
    })
}

/// `access` claims: what was asked for, cut down to what the caller may do.
fn grant(caller: &Caller, scopes: &[String]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')) {
        let mut parts = scope.splitn(3, ':');
        let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let granted: Vec<&str> = (actions.split(','))
            .filter(|a| caller.may(name, a))
            .collect();
        out.push(json!({"type": kind, "name": name, "actions": granted}));
    }
    out
}

fn sign(shared: &Shared, subject: &str, access: Vec<serde_json::Value>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(shared.signer_der.as_slice())]});
    let claims = json!({
        "iss": ISSUER, "sub": subject, "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", rand_hex()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let rng = ring::rand::SystemRandom::new();
    let sig = shared
        .signer
        .sign(&rng, signing_input.as_bytes())
        .expect("sign token");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn rand_hex() -> String {
    use ring::rand::SecureRandom as _;
    let mut b = [0u8; 8];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Now as RFC 3339 UTC (`2026-11-26T02:51:47Z`), as the SSO sends it and
/// as skopeo insists on parsing it.
fn issued_at() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rhpull_core::time::rfc3339(secs)
}

/// The caller (the authority is never asked under the lock).
fn authenticate(shared: &Shared, user: &str, password: &str) -> Option<Caller> {
    let (account, authority) = {
        let inner = shared
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (inner.accounts.get(user).cloned(), inner.authority.clone())
    };
    match account {
        Some(account) if account.password == password => Some(Caller::Account {
            user: user.to_string(),
            account,
        }),
        Some(_) => None,
        None => {
            let by = authority?;
            let subject = by.subject(user, password)?;
            Some(Caller::Judged { subject, by })
        }
    }
}

/// A signed token for `caller`, granting what it may of `scopes`.
fn token_for(shared: &Shared, caller: &Caller, scopes: &[String]) -> String {
    sign(shared, caller.subject(), grant(caller, scopes))
}

async fn token_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(f) = take_fault(&shared) {
        return fault_response(f);
    }
    if shared.inner.lock().map(|i| i.get_disabled).unwrap_or(false) {
        return (StatusCode::METHOD_NOT_ALLOWED, "use POST").into_response();
    }
    let Some((user, password)) = basic_credentials(&headers) else {
        return errors_body(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid username or password",
        );
    };
    let Some(caller) = authenticate(&shared, &user, &password) else {
        return errors_body(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid username or password",
        );
    };
    let token = token_for(&shared, &caller, &scopes(&query));
    axum::Json(json!({
        "token": token, "access_token": token, "expires_in": 300, "issued_at": issued_at(),
    }))
    .into_response()
}

async fn token_post(
    State(shared): State<Shared>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    if let Some(f) = take_fault(&shared) {
        return fault_response(f);
    }
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("password") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type", "error_description": "grant_type must be password"})),
        )
            .into_response();
    }
    let (user, password) = (
        field("username").unwrap_or_default(),
        field("password").unwrap_or_default(),
    );
    let Some(caller) = authenticate(&shared, &user, &password) else {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"error": "invalid_grant", "error_description": "Invalid user credentials"}),
            ),
        )
            .into_response();
    };
    let token = token_for(&shared, &caller, &scopes(&form));
    axum::Json(json!({
        "access_token": token, "token_type": "Bearer", "expires_in": 300,
        "scope": field("scope").unwrap_or_default(),
    }))
    .into_response()
}
