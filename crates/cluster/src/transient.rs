//! Transient API failures, retried where that is safe.
//!
//! kube's own retry layer (429/503/504, any method, 15 attempts, waits up to
//! minutes) is switched off in [`crate::connect`]; this one takes its place:
//!
//! - **Any request** is retried on 429 Too Many Requests: API Priority and
//!   Fairness rejects before doing anything, so even a write is safe to send
//!   again.
//! - **Reads** (GET and HEAD, not watches; access reviews and server-side
//!   dry runs, which change nothing either) are also retried on 500, 502,
//!   503 and 504, and when the connection breaks — including after the status
//!   line, while the body is still coming: a read's body is collected here,
//!   so a cut body is a failed attempt, not an error in the caller.
//! - **Writes** are not retried on anything else: a 5xx or a cut connection
//!   may come after the change landed. The commands are idempotent, so the
//!   error says to run them again.
//!
//! Attempts are bounded ([`MAX_ATTEMPTS`]) with exponential backoff; a
//! `Retry-After` up to [`MAX_RETRY_AFTER`] is honoured. After the bound the
//! last answer goes to the caller as it came (a 500 stays a 500), and a
//! connection error says how many attempts were made.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Either, Full};
use kube::client::Body;
use tower::{BoxError, Service, ServiceExt as _, buffer::Buffer};

/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 5;
/// The first backoff; doubled per attempt (100, 200, 400, 800 ms).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest `Retry-After` waited out; a longer one ends the retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Requests queued for the shared connection pool before callers wait.
const QUEUE: usize = 1024;

/// Wraps a client stack so that transient failures are retried.
#[derive(Clone, Default)]
pub struct TransientRetryLayer {
    /// Told about each retry (`-v` 6 and up).
    trace: Option<crate::trace::Sink>,
}

impl std::fmt::Debug for TransientRetryLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransientRetryLayer")
    }
}

impl TransientRetryLayer {
    pub fn new(trace: Option<crate::trace::Sink>) -> Self {
        Self { trace }
    }
}

type Inner<F> = Buffer<Request<Body>, F>;

impl<S, B> tower::Layer<S> for TransientRetryLayer
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + Sync,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Service = TransientRetry<Inner<S::Future>>;

    /// Needs a Tokio runtime: the buffer that makes the stack shareable
    /// (kube's is a single, non-`Clone` service) runs as a task.
    fn layer(&self, inner: S) -> Self::Service {
        TransientRetry {
            inner: Buffer::new(inner, QUEUE),
            trace: self.trace.clone(),
        }
    }
}

#[derive(Clone)]
pub struct TransientRetry<S> {
    inner: S,
    trace: Option<crate::trace::Sink>,
}

impl<S> std::fmt::Debug for TransientRetry<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransientRetry")
    }
}

/// A read's body, collected, or any other body as it streams.
pub type RetryBody<B> = Either<Full<Bytes>, B>;

impl<S, B> Service<Request<Body>> for TransientRetry<S>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<RetryBody<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone made ready by `poll_ready` goes with the request (and is
        // made ready again for each retry); `self` keeps a fresh one.
        let fresh = self.inner.clone();
        let first = std::mem::replace(&mut self.inner, fresh);
        let trace = self.trace.clone();
        Box::pin(send(first, req, trace))
    }
}

async fn send<S, B>(
    mut svc: S,
    req: Request<Body>,
    trace: Option<crate::trace::Sink>,
) -> Result<Response<RetryBody<B>>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError>,
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let read = is_read(&req);
    let what = format!("{} {}", req.method(), req.uri());
    // A body that can be sent again (`Once`; all of kube's are). A streamed
    // body cannot: such a request gets one attempt.
    let template = copy(&req);
    let mut req = req;
    let mut attempt = 1;
    loop {
        let outcome = attempt_once(&mut svc, req, read).await;
        let wait = match &outcome {
            Ok(Answer::Done(_)) => None,
            Ok(Answer::Status(resp)) => retry_wait(resp.status(), resp.headers(), read, attempt),
            Err(e) if read && is_transient(e.as_ref()) => Some(backoff(attempt)),
            Err(_) => None,
        };
        let again = wait
            .filter(|_| attempt < MAX_ATTEMPTS)
            .zip(template.as_ref().and_then(copy));
        let Some((wait, again)) = again else {
            return match outcome {
                Ok(answer) => Ok(answer.into_response()),
                Err(e) if attempt > 1 => Err(Box::new(GaveUp {
                    attempts: attempt,
                    source: e,
                })),
                Err(e) => Err(e),
            };
        };
        if let Some(sink) = &trace {
            let why = match &outcome {
                Ok(answer) => answer.status().to_string(),
                Err(e) => e.to_string(),
            };
            sink(format!(
                "{what} will be retried in {} milliseconds (attempt {attempt} of {MAX_ATTEMPTS}: {why})",
                wait.as_millis()
            ));
        }
        tokio::time::sleep(wait).await;
        req = again;
        attempt += 1;
    }
}

/// One attempt's answer: a read's whole body, or a response passed on.
enum Answer<B> {
    /// A response that is final whatever its status (a write's, a watch's).
    Done(Response<RetryBody<B>>),
    /// A response with its body collected (a read's, or a write's 429),
    /// status still to be judged.
    Status(Response<Full<Bytes>>),
}

impl<B> Answer<B> {
    fn status(&self) -> StatusCode {
        match self {
            Self::Done(r) => r.status(),
            Self::Status(r) => r.status(),
        }
    }

    fn into_response(self) -> Response<RetryBody<B>> {
        match self {
            Self::Done(r) => r,
            Self::Status(r) => r.map(Either::Left),
        }
    }
}

async fn attempt_once<S, B>(
    svc: &mut S,
    req: Request<Body>,
    read: bool,
) -> Result<Answer<B>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError>,
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let resp = svc.ready().await?.call(req).await?;
    // A write's answer is final unless it is a 429: passed on as it streams.
    if !read && resp.status() != StatusCode::TOO_MANY_REQUESTS {
        return Ok(Answer::Done(resp.map(Either::Right)));
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
    Ok(Answer::Status(Response::from_parts(
        parts,
        Full::new(bytes),
    )))
}

/// Requests that change nothing, so may be sent again: GET and HEAD except
/// watches (long-lived streams with their own resume), access reviews
/// (a POST that only asks a question) and server-side dry runs.
fn is_read(req: &Request<Body>) -> bool {
    let query = req.uri().query().unwrap_or_default();
    let has = |pair: &str| query.split('&').any(|kv| kv == pair);
    match *req.method() {
        Method::GET | Method::HEAD => !has("watch=true") && !has("watch=1"),
        Method::POST if req.uri().path().ends_with("accessreviews") => true,
        _ => has("dryRun=All"),
    }
}

/// How long to wait before another attempt after `status`, if at all.
fn retry_wait(
    status: StatusCode,
    headers: &http::HeaderMap,
    read: bool,
    attempt: u32,
) -> Option<Duration> {
    let retried = status == StatusCode::TOO_MANY_REQUESTS
        || (read
            && matches!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ));
    if !retried {
        return None;
    }
    let asked = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match asked {
        Some(d) if d > MAX_RETRY_AFTER => None,
        Some(d) => Some(d.max(backoff(attempt))),
        None => Some(backoff(attempt)),
    }
}

fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF * (1 << (attempt - 1).min(8))
}

/// Connection trouble worth another try: reset, closed early, cut mid-body,
/// timed out; on HTTP/2, a stream the server reset or refused, or a
/// connection it is closing (GOAWAY). Not a refused connection, a TLS
/// failure, an HTTP/2 protocol error or an auth error — those would fail
/// the same way again.
fn is_transient(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof
                    | K::TimedOut
            ) {
                return true;
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled() || h.is_timeout())
        {
            return true;
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>()
            && h2.reason().is_some_and(|r| {
                [
                    h2::Reason::NO_ERROR,
                    h2::Reason::INTERNAL_ERROR,
                    h2::Reason::REFUSED_STREAM,
                    h2::Reason::CANCEL,
                ]
                .contains(&r)
            })
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A copy of a request whose body can be sent again.
fn copy(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut out = Request::new(body);
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    Some(out)
}

/// The last error after every attempt failed.
#[derive(Debug)]
struct GaveUp {
    attempts: u32,
    source: BoxError,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gave up after {} attempts", self.attempts)
    }
}

impl std::error::Error for GaveUp {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn reads_are_gets_and_heads_but_not_watches() {
        assert!(is_read(&get("/api/v1/namespaces/a/secrets/x")));
        assert!(is_read(&get("/api/v1/secrets?limit=500")));
        assert!(!is_read(&get(
            "/api/v1/secrets?watch=true&resourceVersion=1"
        )));
        let post = Request::post("/api/v1/namespaces/a/secrets")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        assert!(!is_read(&post));
        let review = Request::post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        assert!(is_read(&review));
        let dry = Request::post("/api/v1/namespaces/a/secrets?dryRun=All")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        assert!(is_read(&dry));
    }

    #[test]
    fn writes_are_retried_only_when_throttled() {
        let h = http::HeaderMap::new();
        assert!(retry_wait(StatusCode::TOO_MANY_REQUESTS, &h, false, 1).is_some());
        for s in [500, 502, 503, 504] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(retry_wait(s, &h, false, 1).is_none(), "write {s}");
            assert!(retry_wait(s, &h, true, 1).is_some(), "read {s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 501] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(retry_wait(s, &h, true, 1).is_none(), "read {s}");
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_bound() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &h, false, 1),
            Some(Duration::from_secs(2))
        );
        h.insert(http::header::RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &h, false, 1),
            None
        );
    }

    #[test]
    fn backoff_doubles() {
        let waits: Vec<_> = (1..MAX_ATTEMPTS).map(backoff).collect();
        assert_eq!(
            waits,
            [100, 200, 400, 800].map(Duration::from_millis).to_vec()
        );
    }

    #[test]
    fn transient_errors_are_found_in_the_chain() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let wrapped = GaveUp {
            attempts: 1,
            source: Box::new(reset),
        };
        assert!(is_transient(&wrapped));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(!is_transient(&refused));
        let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, "bad certificate");
        assert!(!is_transient(&tls));
        // HTTP/2: a stream the server reset or refused is tried again; a
        // protocol error would be the same the next time.
        let reset_stream = GaveUp {
            attempts: 1,
            source: Box::new(h2::Error::from(h2::Reason::INTERNAL_ERROR)),
        };
        assert!(is_transient(&reset_stream));
        assert!(is_transient(&h2::Error::from(h2::Reason::REFUSED_STREAM)));
        assert!(!is_transient(&h2::Error::from(h2::Reason::PROTOCOL_ERROR)));
    }

    #[test]
    fn copies_keep_method_uri_headers_and_body() {
        let req = Request::put("/api/v1/namespaces/a/secrets/x")
            .header("content-type", "application/json")
            .body(Body::from(b"{\"a\":1}".to_vec()))
            .unwrap();
        let c = copy(&req).unwrap();
        assert_eq!(c.method(), Method::PUT);
        assert_eq!(c.uri(), req.uri());
        assert_eq!(c.headers(), req.headers());
    }
}
