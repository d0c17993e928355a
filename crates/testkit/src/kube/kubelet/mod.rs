//! What the kubelets of the emulated nodes say about themselves: the
//! configuration each runs, served as the API server proxies it
//! (`GET /api/v1/nodes/NAME/proxy/configz` → `{"kubeletconfig": …}`,
//! which needs `get nodes/proxy`). Every node runs Kubernetes 1.35's
//! defaults — `KubeletEnsureSecretPulledImages` on (beta, on by default
//! since 1.35) and `imagePullCredentialsVerificationPolicy:
//! NeverVerifyPreloadedImages` — with what a test or person sets per node
//! merged over them (`Emulator::set_kubelet_config`, the admin endpoint's
//! `POST /nodes/kubelet-config`).
//!
//! With `Options::kubelets` set, each node's kubelet also pulls: [`sync`]
//! is its pod worker, [`keyring`] the credentials it hands the runtime,
//! [`node_file`] the node's own `config.json`, [`crio`] the files CRI-O
//! reads, [`runtime`] the pull itself through the real `skopeo`. None of
//! it calls `rhpull-core` or `rhpull-cluster`: it is the oracle that
//! rhpull's predictions are held against.

pub mod crio;
pub mod keyring;
pub mod node_file;
pub mod runtime;
pub mod sync;
pub mod types;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources;
use super::state::Shared;
use super::status::ApiError;

/// The version every emulated kubelet reports.
pub const KUBELET_VERSION: &str = "v1.35.1";

/// A ready node whose kubelet runs [`KUBELET_VERSION`] with CRI-O, with
/// `role` (`worker`, `master`) and any `labels` beside the usual ones.
pub fn node(name: &str, role: &str, labels: &[(&str, &str)]) -> Value {
    let mut node = json!({
        "metadata": {"name": name, "labels": {
            format!("node-role.kubernetes.io/{role}"): "",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                   "message": "kubelet is posting ready status"}],
                   "nodeInfo": {"kubeletVersion": KUBELET_VERSION,
                                "containerRuntimeVersion": "cri-o://1.35.1"},
                   "images": []},
    });
    for (k, v) in labels {
        node["metadata"]["labels"][*k] = json!(v);
    }
    // Control-plane nodes take no ordinary pods, as an installer leaves them.
    if role == "master" {
        node["spec"]["taints"] =
            json!([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]);
    }
    node
}

/// A 1.35 kubelet's configuration, as configz shows its defaults.
pub fn defaults() -> Value {
    json!({
        "kind": "KubeletConfiguration",
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "featureGates": {"KubeletEnsureSecretPulledImages": true},
        "imagePullCredentialsVerificationPolicy": "NeverVerifyPreloadedImages",
        "imageGCHighThresholdPercent": 85,
        "imageGCLowThresholdPercent": 80,
        "serializeImagePulls": true,
        "maxParallelImagePulls": null,
    })
}

/// RFC 7386 merge of `patch` into `target`.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Sets `config`'s fields on `node`'s kubelet (merged over what it has).
pub fn set(shared: &Shared, node: &str, config: &Value) {
    let mut s = shared.lock();
    let entry = s
        .kubelet_configs
        .entry(node.to_string())
        .or_insert_with(|| json!({}));
    merge(entry, config);
}

/// `GET /api/v1/nodes/NAME/proxy/configz`.
pub fn configz(shared: &Shared, node: &str) -> Response {
    let s = shared.lock();
    let nodes = resources::by_kind("Node").expect("nodes are served");
    if s.store.get(nodes, "", node).is_none() {
        return ApiError::not_found(nodes, node).into_response();
    }
    let mut config = defaults();
    if let Some(own) = s.kubelet_configs.get(node) {
        merge(&mut config, own);
    }
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({"kubeletconfig": config}).to_string(),
    )
        .into_response()
}

/// Sets what `/var/lib/kubelet/config.json` holds on `node` (Kubernetes,
/// OKD 3.11; on OpenShift 4 the Machine Config Operator writes it).
pub fn set_node_file(shared: &Shared, node: &str, config: &Value) {
    shared
        .lock()
        .kubelets
        .node_files
        .insert(node.to_string(), config.to_string().into_bytes());
}
