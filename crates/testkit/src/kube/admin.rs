//! The admin endpoint (plain HTTP on 127.0.0.1) for tests, benchmarks and
//! people: `GET /counters`, `POST /counters/reset`, `POST /faults`,
//! `DELETE /faults`. Shapes are in the testkit README.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

use super::state::{Fault, Shared};

pub fn router(shared: Shared) -> axum::Router {
    axum::Router::new()
        .route("/counters", get(counters))
        .route("/counters/reset", post(reset))
        .route(
            "/faults",
            post(add_fault).delete(clear_faults).get(list_faults),
        )
        .with_state(shared)
}

pub fn counters_json(shared: &Shared) -> serde_json::Value {
    let s = shared.lock();
    json!({"total": s.total, "by": s.counters})
}

async fn counters(State(shared): State<Shared>) -> impl IntoResponse {
    axum::Json(counters_json(&shared))
}

async fn reset(State(shared): State<Shared>) -> impl IntoResponse {
    let mut s = shared.lock();
    s.total = 0;
    s.counters.clear();
    StatusCode::NO_CONTENT
}

async fn add_fault(
    State(shared): State<Shared>,
    axum::Json(fault): axum::Json<Fault>,
) -> impl IntoResponse {
    shared.lock().faults.push(fault);
    StatusCode::CREATED
}

async fn list_faults(State(shared): State<Shared>) -> impl IntoResponse {
    axum::Json(json!({"faults": shared.lock().faults}))
}

async fn clear_faults(State(shared): State<Shared>) -> impl IntoResponse {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT
}
