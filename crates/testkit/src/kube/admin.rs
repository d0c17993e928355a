//! The admin endpoint (plain HTTP on 127.0.0.1) for tests, benchmarks and
//! people: `GET /counters`, `POST /counters/reset`, `POST /faults`,
//! `DELETE /faults`; on OpenShift 4 `POST /machineconfigpools/degrade`
//! (`{"pool": "worker", "message": "…"}`: the pool's next node update
//! fails) and `POST /machineconfigpools/delay` (`{"ms": 2000}`: how long
//! each machine takes); `POST /nodes/kubelet-config` (`{"node": "worker-0",
//! "config": {"imagePullCredentialsVerificationPolicy": "AlwaysVerify"}}`:
//! merged into that kubelet's configuration); on a hosted control plane
//! `POST /hosted/syncer-fault` (`{"node": "worker-1"}`: the pull secret
//! syncer fails there); with pulling nodes `POST /nodes/credentials`
//! (`{"node": "node-1", "config": {"auths": …}}`: that node's own
//! `config.json`) and `GET /kubelet/pulls` (every pull and how it went).
//! Shapes are in the testkit README.

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
        .route("/machineconfigpools/degrade", post(degrade))
        .route("/machineconfigpools/delay", post(machine_delay))
        .route("/nodes/kubelet-config", post(kubelet_config))
        .route("/nodes/credentials", post(node_credentials))
        .route("/kubelet/pulls", get(pulls))
        .route("/hosted/syncer-fault", post(syncer_fault))
        .with_state(shared)
}

#[derive(serde::Deserialize)]
struct Degrade {
    pool: String,
    message: String,
}

async fn degrade(
    State(shared): State<Shared>,
    axum::Json(d): axum::Json<Degrade>,
) -> impl IntoResponse {
    super::mco::degrade_next(&shared, &d.pool, &d.message);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct KubeletConfig {
    node: String,
    config: serde_json::Value,
}

/// `{"node": NAME, "config": {…}}`: fields merged into that node's
/// kubelet configuration (what configz shows).
async fn kubelet_config(
    State(shared): State<Shared>,
    axum::Json(k): axum::Json<KubeletConfig>,
) -> impl IntoResponse {
    super::kubelet::set(&shared, &k.node, &k.config);
    StatusCode::NO_CONTENT
}

/// `{"node": NAME, "config": {"auths": …}}`: the node's own
/// `/var/lib/kubelet/config.json` (Kubernetes, OKD 3.11).
async fn node_credentials(
    State(shared): State<Shared>,
    axum::Json(k): axum::Json<KubeletConfig>,
) -> impl IntoResponse {
    super::kubelet::set_node_file(&shared, &k.node, &k.config);
    StatusCode::NO_CONTENT
}

/// What each pod pull of the world's kubelets did.
async fn pulls(State(shared): State<Shared>) -> impl IntoResponse {
    axum::Json(json!({"pulls": shared.lock().kubelets.pulls}))
}

#[derive(serde::Deserialize)]
struct SyncerFault {
    node: String,
}

/// `{"node": NAME}`: a hosted cluster's pull secret syncer fails on that
/// node from its next pod on.
async fn syncer_fault(
    State(shared): State<Shared>,
    axum::Json(f): axum::Json<SyncerFault>,
) -> impl IntoResponse {
    super::hypershift::fail_node(&shared, &f.node);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct Delay {
    ms: u64,
}

async fn machine_delay(
    State(shared): State<Shared>,
    axum::Json(d): axum::Json<Delay>,
) -> impl IntoResponse {
    shared.lock().config.machines.delay = std::time::Duration::from_millis(d.ms);
    StatusCode::NO_CONTENT
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
