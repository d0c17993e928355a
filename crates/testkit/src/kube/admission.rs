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

/// The API server's defaults for what the world's controllers read
/// (`pkg/apis/apps/v1/defaults.go`, `pkg/apis/core/v1/defaults.go`):
/// replicas and update strategies of workloads, and every container's
/// `imagePullPolicy` (`Always` for `:latest` or no tag, else
/// `IfNotPresent`), in a pod or a workload's pod template.
pub fn defaults(kind: &str, obj: &mut Value) {
    let spec_of_pods = match kind {
        "Pod" => obj.get_mut("spec"),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            let spec = &mut obj["spec"];
            if kind != "DaemonSet" && spec.get("replicas").is_none() {
                spec["replicas"] = json!(1);
            }
            let defaults = match kind {
                "Deployment" => vec![
                    (
                        "strategy",
                        json!({"type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
                    ),
                    ("revisionHistoryLimit", json!(10)),
                    ("progressDeadlineSeconds", json!(600)),
                ],
                "StatefulSet" => vec![
                    ("podManagementPolicy", json!("OrderedReady")),
                    (
                        "updateStrategy",
                        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                    ),
                ],
                "DaemonSet" => vec![(
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                )],
                _ => Vec::new(),
            };
            for (k, v) in defaults {
                if spec
                    .get(k)
                    .is_none_or(|s| s.get("type").is_none() && !s.is_number() && !s.is_string())
                {
                    spec[k] = v;
                }
            }
            obj.pointer_mut("/spec/template/spec")
        }
        _ => None,
    };
    let Some(spec) = spec_of_pods else {
        return;
    };
    for list in ["initContainers", "containers"] {
        for c in spec
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if c.get("imagePullPolicy").is_none() {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                c["imagePullPolicy"] = json!(default_pull_policy(image));
            }
        }
    }
}

pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}
