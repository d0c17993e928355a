//! What `/var/lib/kubelet/config.json` holds on a node — the node's own
//! credentials, which the kubelet's keyring reads after the pod's secrets
//! and CRI-O uses as its global auth file:
//!
//! - OpenShift 4: the file of the rendered MachineConfig the node's daemon
//!   last applied (the node's `machineconfiguration.openshift.io/
//!   currentConfig`), so a node the rollout has not reached keeps the
//!   previous credentials.
//! - Hosted control planes: what HyperShift's global pull secret syncer
//!   last wrote on the node (when its pod became ready there), else the
//!   ignition's `kube-system/original-pull-secret`.
//! - Kubernetes and OKD 3.11: what the admin endpoint set for the node
//!   (`POST /nodes/credentials`), else nothing.

use base64::Engine as _;
use serde_json::Value;

use super::super::resources::{self, Flavour};
use super::super::state::State;

const CURRENT_CONFIG: &str = "machineconfiguration.openshift.io/currentConfig";
const PATH: &str = "/var/lib/kubelet/config.json";

/// The node's file (`{}` when it has none).
pub fn read(state: &State, node: &str) -> Vec<u8> {
    if let Some(bytes) = state.kubelets.node_files.get(node) {
        return bytes.clone();
    }
    let found = if state.config.flavour.is_hosted() {
        secret_bytes(state, "kube-system", "original-pull-secret")
    } else if state.config.flavour == Flavour::OpenShift4 {
        from_machine_config(state, node)
    } else {
        None
    };
    found.unwrap_or_else(|| b"{}".to_vec())
}

fn from_machine_config(state: &State, node: &str) -> Option<Vec<u8>> {
    let nodes = resources::by_kind("Node")?;
    let configs = resources::by_kind("MachineConfig")?;
    let n = state.store.get(nodes, "", node)?;
    let current = n
        .pointer(&format!(
            "/metadata/annotations/{}",
            CURRENT_CONFIG.replace('/', "~1")
        ))?
        .as_str()?;
    let mc = state.store.get(configs, "", current)?;
    let file = mc
        .pointer("/spec/config/storage/files")?
        .as_array()?
        .iter()
        .find(|f| f.get("path").and_then(Value::as_str) == Some(PATH))?;
    let source = file.pointer("/contents/source")?.as_str()?;
    let (meta, data) = source.strip_prefix("data:")?.split_once(',')?;
    if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD.decode(data).ok()
    } else {
        Some(percent_decode(data))
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A dockerconfigjson secret's bytes.
pub fn secret_bytes(state: &State, ns: &str, name: &str) -> Option<Vec<u8>> {
    let r = resources::by_kind("Secret")?;
    let secret = state.store.get(r, ns, name)?;
    let data = secret.pointer("/data/.dockerconfigjson")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}
