//! The default scheduler, as far as the world needs it: a pod with no
//! `spec.nodeName` (and the default scheduler) is bound to a ready,
//! schedulable node whose labels satisfy its `nodeSelector` and whose
//! `NoSchedule` / `NoExecute` taints it tolerates, the one running the
//! fewest pods (then by name), with the scheduler's `Scheduled` event
//! ("Successfully assigned NS/POD to NODE"); with no such node, a
//! `FailedScheduling` event and `PodScheduled=False` (`Unschedulable`), as
//! kube-scheduler reports it (`pkg/scheduler/schedule_one.go`).

use serde_json::{Value, json};

use super::resources::res;
use super::state::{Shared, State};
use super::store::{now_rfc3339, random_suffix};

fn ready(node: &Value) -> bool {
    let unschedulable = node.pointer("/spec/unschedulable") == Some(&json!(true));
    let ready = (node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .any(|c| c["type"] == "Ready" && c["status"] == "True");
    ready && !unschedulable
}

fn selects(pod: &Value, node: &Value) -> bool {
    let wanted = pod.pointer("/spec/nodeSelector").and_then(Value::as_object);
    wanted.into_iter().flatten().all(|(k, v)| {
        node.pointer(&format!("/metadata/labels/{}", k.replace('/', "~1"))) == Some(v)
    })
}

fn tolerates(pod: &Value, node: &Value) -> bool {
    let tolerations: Vec<&Value> = pod
        .pointer("/spec/tolerations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    (node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .filter(|t| matches!(t["effect"].as_str(), Some("NoSchedule" | "NoExecute")))
    .all(|t| {
        tolerations.iter().any(|tol| {
            let key_ok = tol.get("key").is_none_or(|k| k == &t["key"] || k == "");
            let effect_ok = tol
                .get("effect")
                .is_none_or(|e| e == &t["effect"] || e == "");
            let value_ok = tol.get("operator") == Some(&json!("Exists"))
                || tol.get("value").unwrap_or(&json!("")) == t.get("value").unwrap_or(&json!(""));
            key_ok && effect_ok && value_ok
        })
    })
}

/// Whether a pod (or a pod template's spec) may run on the node.
pub fn fits(pod: &Value, node: &Value) -> bool {
    ready(node) && selects(pod, node) && tolerates(pod, node)
}

/// The node a pod goes to, or the words of why none fits.
fn choose(s: &State, pod: &Value) -> Result<String, String> {
    let nodes: Vec<&Value> = s.store.list(res("Node"), None).map(|(_, n)| n).collect();
    let load = |name: &str| {
        s.store
            .list(res("Pod"), None)
            .filter(|(_, p)| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(name))
            .count()
    };
    let fitting = nodes.iter().filter(|n| fits(pod, n));
    let best = fitting
        .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
        .min_by_key(|name| (load(name), name.to_string()));
    best.map(str::to_string).ok_or_else(|| {
        let total = nodes.len();
        let not_selected = nodes.iter().filter(|n| !selects(pod, n)).count();
        let mut reasons = Vec::new();
        if not_selected > 0 {
            reasons.push(format!("{not_selected} node(s) didn't match Pod's node affinity/selector"));
        }
        let rest = total - not_selected;
        if rest > 0 {
            reasons.push(format!("{rest} node(s) were unschedulable or had untolerated taints"));
        }
        format!(
            "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
            if reasons.is_empty() { "no nodes available to schedule pods".into() } else { reasons.join(", ") }
        )
    })
}

/// A pod was added: bind it when it is the default scheduler's and has no node.
pub fn on_pod(shared: &Shared, pod: &Value) {
    let unbound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let ours = pod
        .pointer("/spec/schedulerName")
        .and_then(Value::as_str)
        .is_none_or(|n| n == "default-scheduler");
    if !unbound || !ours {
        return;
    }
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut s = shared.lock();
    let Some(current) = s.store.get(res("Pod"), &ns, &name).cloned() else {
        return;
    };
    if current
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
    {
        return;
    }
    let mut events = Vec::new();
    let mut updated = current.clone();
    let (type_, reason, message) = match choose(&s, &current) {
        Ok(node) => {
            updated["spec"]["nodeName"] = json!(node);
            updated["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}]);
            (
                "Normal",
                "Scheduled",
                format!("Successfully assigned {ns}/{name} to {node}"),
            )
        }
        Err(why) => {
            updated["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False",
                "reason": "Unschedulable", "message": why, "lastTransitionTime": now_rfc3339()}]);
            ("Warning", "FailedScheduling", why)
        }
    };
    events.extend(s.store.replace(res("Pod"), &ns, &current, updated, false).1);
    let now = now_rfc3339();
    let event = json!({
        "metadata": {"name": format!("{name}.{}", random_suffix(16)), "namespace": ns},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": name, "apiVersion": "v1",
                           "uid": current.pointer("/metadata/uid").cloned().unwrap_or_default()},
        "reason": reason, "message": message, "type": type_,
        "source": {"component": "default-scheduler"},
        "reportingComponent": "default-scheduler", "reportingInstance": "default-scheduler",
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    });
    events.extend(s.store.insert_new(res("Event"), &ns, event, false).1);
    drop(s);
    for e in events {
        shared.publish(e);
    }
}
