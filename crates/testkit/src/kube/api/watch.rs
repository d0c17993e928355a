//! Watches: the objects (or the events since a resourceVersion) as a
//! backlog, then live events, as a stream of JSON lines until
//! `timeoutSeconds`; and the answer a fault injector cuts mid-stream.

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::super::selectors::{FieldSelector, LabelSelector};
use super::super::state::Shared;
use super::super::status::ApiError;
use super::super::store::Event;
use super::route::{Query, Target, selectors};

fn watch_matches(e: &Event, t: &Target, labels: &LabelSelector, fields: &FieldSelector) -> bool {
    (e.resource.group, e.resource.plural) == (t.resource.group, t.resource.plural)
        && (!t.resource.namespaced
            || t.namespace.is_none()
            || e.object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == t.namespace.as_deref())
        && labels.matches(&e.object)
        && fields.matches(&e.object)
}

/// One event; with `table`, its object as a one-row Table (what `kubectl
/// get -w` asks for), where the kind has columns.
fn watch_line(kind: &str, object: &Value, table: Option<&str>) -> Bytes {
    let printed = match table {
        Some(k) if kind != "ERROR" => super::super::table::of(k, object),
        _ => None,
    };
    let object = printed.as_ref().unwrap_or(object);
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// A watch: past events (or the current objects as ADDED), then live ones,
/// as a stream of JSON lines, until `timeoutSeconds` or the server stops.
pub(super) fn watch(shared: &Shared, t: &Target, q: &Query, table: bool) -> Response {
    let printed = table.then_some(t.resource.kind);
    let (labels, fields) = match selectors(t, q) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let state = shared.lock();
    let rx = shared.subscribe();
    let mut backlog: Vec<Bytes> = Vec::new();
    let since = q
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse::<u64>().ok())
        .filter(|rv| *rv > 0);
    let start_rv = state.store.resource_version();

    match since {
        None => {
            let ns = if t.resource.namespaced {
                t.namespace.as_deref()
            } else {
                None
            };
            for (_, v) in state.store.list(t.resource, ns) {
                if labels.matches(v) && fields.matches(v) {
                    backlog.push(watch_line("ADDED", v, printed));
                }
            }
        }
        Some(rv) => match state.store.events_since(rv) {
            Some(events) => {
                for e in events
                    .iter()
                    .filter(|e| watch_matches(e, t, &labels, &fields))
                {
                    backlog.push(watch_line(e.kind, &e.object, printed));
                }
            }
            None => {
                let gone = ApiError::gone(format!(
                    "too old resource version: {rv} ({})",
                    state.store.oldest_event_rv()
                ));
                backlog.push(watch_line("ERROR", &gone.status_body(), None));
                drop(state);
                return stream_response(futures::stream::iter(backlog));
            }
        },
    }
    drop(state);
    let t = t.clone();
    let deadline = (q.timeout_seconds)
        .map(|s| tokio::time::Instant::now() + std::time::Duration::from_secs(s));
    // Live events after the backlog, until the deadline or the server stops.
    let live = futures::stream::unfold(rx, move |mut rx| {
        let t = t.clone();
        let (labels, fields) = (labels.clone(), fields.clone());
        async move {
            let next = async {
                loop {
                    match rx.recv().await {
                        Ok(e) if e.rv > start_rv && watch_matches(&e, &t, &labels, &fields) => {
                            return Some(e);
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return None,
                    }
                }
            };
            let event = match deadline {
                Some(d) => tokio::time::timeout_at(d, next).await.unwrap_or_default(),
                None => next.await,
            };
            event.map(|e| (watch_line(e.kind, &e.object, printed), rx))
        }
    });
    stream_response(futures::stream::iter(backlog).chain(live))
}

/// A chunked JSON-lines answer from a stream of lines.
fn stream_response(lines: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = Body::from_stream(lines.map(Ok::<Bytes, std::io::Error>));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::TRANSFER_ENCODING, "chunked"),
        ],
        body,
    )
        .into_response()
}

/// Answers for a watch or a request that the fault injector drops: the
/// body fails mid-stream, so the client sees the connection cut.
pub fn dropped() -> Response {
    let cut = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped by fault injection",
        ))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(cut),
    )
        .into_response()
}
