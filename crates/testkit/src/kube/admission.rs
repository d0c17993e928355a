//! The ServiceAccount admission plugin for pods, as the real one behaves:
//! `spec.serviceAccountName` defaults to `default`, the service account must
//! exist, and a pod without `imagePullSecrets` gets a copy of its service
//! account's list at creation. The kubelet then uses only the pod's list, so
//! linking a secret later fixes new pods, not running ones.

use serde_json::{Value, json};

use super::resources;
use super::state::State;

pub fn pod(state: &State, ns: &str, pod: &mut Value) -> Result<(), String> {
    let sa_name = pod
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    if !pod.get("spec").is_some_and(Value::is_object) {
        pod["spec"] = json!({});
    }
    pod["spec"]["serviceAccountName"] = json!(sa_name);
    let sa_res = resources::by_kind("ServiceAccount").expect("serviceaccounts");
    let Some(sa) = state.store.get(sa_res, ns, &sa_name) else {
        return Err(format!(
            "error looking up service account {ns}/{sa_name}: serviceaccount \"{sa_name}\" not found"
        ));
    };
    let has_own = pod
        .pointer("/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_own
        && let Some(list) = sa
            .get("imagePullSecrets")
            .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        pod["spec"]["imagePullSecrets"] = list.clone();
    }
    // The pod strategy's PrepareForCreate: whatever status was sent, a new
    // pod is Pending until the scheduler and kubelet say otherwise.
    pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    Ok(())
}
