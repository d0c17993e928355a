//! `-v` request traces, as kubectl's `round_trippers` lines: method, URL,
//! status and time — never a header or a body, so never a token or a
//! secret. The cluster layer does not print: each line goes to a callback
//! the binary gives.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// Where trace lines go.
pub type Sink = Arc<dyn Fn(String) + Send + Sync>;

#[derive(Clone)]
pub struct TraceLayer(pub Sink);

impl std::fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceLayer")
    }
}

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Trace<S>;
    fn layer(&self, inner: S) -> Trace<S> {
        Trace {
            inner,
            sink: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Trace<S> {
    inner: S,
    sink: Sink,
}

impl<S> std::fmt::Debug for Trace<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trace")
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for Trace<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let line = format!("{} {}", req.method(), req.uri());
        let sink = self.sink.clone();
        let started = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = fut.await;
            let ms = started.elapsed().as_millis();
            match &result {
                Ok(resp) => sink(format!("{line} {} in {ms} milliseconds", resp.status())),
                Err(e) => sink(format!("{line} failed in {ms} milliseconds: {e}")),
            }
            result
        })
    }
}
