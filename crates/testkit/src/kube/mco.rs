//! The Machine Config Operator's part in a pull-secret change (OpenShift 4
//! mode), as openshift/machine-config-operator does it:
//!
//! - The template controller writes `/var/lib/kubelet/config.json`
//!   (`templates/common/_base/files/pull-secret.yaml`: mode 0600, the
//!   global pull secret's `.dockerconfigjson` verbatim) into the
//!   `00-<pool>` MachineConfig, as an Ignition `storage.files` entry whose
//!   `contents.source` is a data URL (`ctrlcommon.NewIgnFileBytes`:
//!   `dataurl.EncodeBytes`, `compression: ""`).
//! - The render controller merges a pool's MachineConfigs into
//!   `rendered-<pool>-<hash>` (`getMachineConfigHashedName`: a hash of the
//!   spec) and points the pool's `spec.configuration` at it, which bumps
//!   the pool's `metadata.generation`.
//! - The node controller moves one node at a time (`maxUnavailable` 1) to
//!   the new config through the node annotations `desiredConfig`; the
//!   daemon on the node writes the file, then sets `currentConfig` and
//!   `state: Done` (on current releases a pull-secret change needs no drain
//!   or reboot). A node whose daemon fails reports `state: Degraded` and a
//!   `reason`, and the pool stops there: a node failing to reach the target
//!   counts against `maxUnavailable` (`getAllCandidateMachines`).
//! - The pool's status is computed as `pkg/controller/node/status.go`
//!   computes it: machine counts, `observedGeneration`, the conditions
//!   `Updated`, `Updating` (with "Pool is paused; …" while `spec.paused`),
//!   `NodeDegraded` ("N nodes are reporting degraded status on sync",
//!   "Node X is reporting: \"…\""), `RenderDegraded` and `Degraded`; and
//!   `status.configuration` follows `spec.configuration` only once every
//!   machine is updated, ready and available.
//!
//! Each node update takes the configured machine delay; a fault makes the
//! next node update of a pool fail ([`degrade_next`]).

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::resources::{Resource, res};
pub use super::state::{Machines, Operator};
use super::state::{Shared, State};
use super::store::{Event, now_rfc3339};

pub const GROUP_VERSION: &str = "machineconfiguration.openshift.io/v1";
pub const ROLE_LABEL: &str = "machineconfiguration.openshift.io/role";
pub const CURRENT_CONFIG: &str = "machineconfiguration.openshift.io/currentConfig";
pub const DESIRED_CONFIG: &str = "machineconfiguration.openshift.io/desiredConfig";
pub const STATE: &str = "machineconfiguration.openshift.io/state";
pub const REASON: &str = "machineconfiguration.openshift.io/reason";
/// Where the kubelet and CRI-O read the node's pull credentials.
pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.json";

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn node_role_label(pool: &str) -> String {
    format!("node-role.kubernetes.io/{pool}")
}

/// The Ignition config a `00-<pool>` MachineConfig carries: the kubelet's
/// pull credentials file, as the template controller renders it.
fn ignition(pull_secret: &[u8]) -> Value {
    let source = format!(
        "data:text/plain;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(pull_secret)
    );
    json!({
        "ignition": {"version": "3.4.0"},
        "storage": {"files": [{
            "path": KUBELET_CONFIG,
            "mode": 0o600,
            "overwrite": true,
            "contents": {"source": source, "compression": ""},
        }]},
    })
}

fn rendered_name(pool: &str, spec: &Value) -> String {
    let hash = Sha256::digest(spec.to_string().as_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("rendered-{pool}-{hex}")
}

/// The global pull secret's file contents, as the template controller reads
/// them (`.dockerconfigjson`, decoded).
fn pull_secret_bytes(state: &State) -> Option<Vec<u8>> {
    let secret = state
        .store
        .get(res("Secret"), "openshift-config", "pull-secret")?;
    let b64 = secret.pointer("/data/.dockerconfigjson")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Renders the pools' configs from the current global pull secret: writes
/// `00-<pool>`, creates `rendered-<pool>-<hash>` when new, and points each
/// pool at it. Returns the events and the pools whose target changed.
fn render(state: &mut State) -> (Vec<std::sync::Arc<Event>>, Vec<String>) {
    let Some(bytes) = pull_secret_bytes(state) else {
        return (Vec::new(), Vec::new());
    };
    let mut events = Vec::new();
    let mut changed = Vec::new();
    let pools: Vec<Value> = state
        .store
        .list(res("MachineConfigPool"), None)
        .map(|(_, v)| v.clone())
        .collect();
    for pool in pools {
        let name = str_at(&pool, "/metadata/name").to_string();
        let spec = json!({"config": ignition(&bytes)});
        let base = json!({
            "metadata": {"name": format!("00-{name}"), "labels": {ROLE_LABEL: name}},
            "spec": spec,
        });
        events.extend(put(state, res("MachineConfig"), base));
        let rendered = rendered_name(&name, &spec);
        if state
            .store
            .get(res("MachineConfig"), "", &rendered)
            .is_none()
        {
            let mc = json!({
                "metadata": {"name": rendered, "ownerReferences": [{
                    "apiVersion": GROUP_VERSION, "kind": "MachineConfigPool", "name": name,
                    "uid": str_at(&pool, "/metadata/uid"), "controller": true,
                }]},
                "spec": spec,
            });
            events.extend(put(state, res("MachineConfig"), mc));
        }
        if str_at(&pool, "/spec/configuration/name") != rendered {
            let mut updated = pool.clone();
            updated["spec"]["configuration"] = json!({"name": rendered, "source": [
                {"apiVersion": GROUP_VERSION, "kind": "MachineConfig", "name": format!("00-{name}")},
            ]});
            events.extend(
                state
                    .store
                    .replace(res("MachineConfigPool"), "", &pool, updated, false)
                    .1,
            );
            changed.push(name);
        }
    }
    (events, changed)
}

/// Creates or replaces a cluster-scoped object.
fn put(state: &mut State, r: &'static Resource, obj: Value) -> Option<std::sync::Arc<Event>> {
    let name = str_at(&obj, "/metadata/name").to_string();
    match state.store.get(r, "", &name).cloned() {
        Some(old) => {
            let mut obj = obj;
            obj["metadata"]["ownerReferences"] = old["metadata"]["ownerReferences"].clone();
            if obj["metadata"]["ownerReferences"].is_null() {
                obj["metadata"]
                    .as_object_mut()
                    .map(|m| m.remove("ownerReferences"));
            }
            state.store.replace(r, "", &old, obj, false).1
        }
        None => state.store.insert_new(r, "", obj, false).1,
    }
}

/// The nodes a pool selects (`spec.nodeSelector.matchLabels`).
fn nodes_of(state: &State, pool: &Value) -> Vec<Value> {
    let wanted = pool
        .pointer("/spec/nodeSelector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    state
        .store
        .list(res("Node"), None)
        .map(|(_, v)| v.clone())
        .filter(|n| {
            wanted
                .iter()
                .all(|(k, v)| n.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
        })
        .collect()
}

fn annotation<'a>(node: &'a Value, key: &str) -> &'a str {
    node.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `isNodeDoneAt`: current == desired == the pool's target, state Done.
fn done_at(node: &Value, target: &str) -> bool {
    annotation(node, CURRENT_CONFIG) == target
        && annotation(node, DESIRED_CONFIG) == target
        && annotation(node, STATE) == "Done"
}

/// `isNodeMCDFailing`.
fn failing(node: &Value) -> bool {
    annotation(node, CURRENT_CONFIG) != annotation(node, DESIRED_CONFIG)
        && matches!(annotation(node, STATE), "Degraded" | "Unreconcilable")
}

fn condition(type_: &str, status: bool, reason: &str, message: &str, old: &Value) -> Value {
    let status = if status { "True" } else { "False" };
    // SetMachineConfigPoolCondition keeps the transition time while the
    // status stays the same.
    let previous = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == type_));
    let since = match previous {
        Some(p) if p["status"] == status => p["lastTransitionTime"].clone(),
        _ => json!(now_rfc3339()),
    };
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": since})
}

/// `Updated` and `Updating`, with the operator's messages.
fn update_conditions(pool: &Value, all_updated: bool) -> (Value, Value) {
    let line = format!("MachineConfig {}", str_at(pool, "/spec/configuration/name"));
    let paused = pool.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    if all_updated {
        let message = format!("All nodes are updated with {line}");
        (
            condition("Updated", true, "", &message, pool),
            condition("Updating", false, "", "", pool),
        )
    } else if paused {
        let message = format!("Pool is paused; will not update to {line}");
        (
            condition("Updated", false, "", "", pool),
            condition("Updating", false, "", &message, pool),
        )
    } else {
        let message = format!("All nodes are updating to {line}");
        (
            condition("Updated", false, "", "", pool),
            condition("Updating", true, "", &message, pool),
        )
    }
}

/// The pool's status, as the node controller computes it (`status.go`).
fn pool_status(pool: &Value, nodes: &[Value]) -> Value {
    let target = str_at(pool, "/spec/configuration/name");
    let count = nodes.len();
    let updated = nodes.iter().filter(|n| done_at(n, target)).count();
    let degraded: Vec<&Value> = nodes
        .iter()
        .filter(|n| {
            !annotation(n, DESIRED_CONFIG).is_empty()
                && matches!(annotation(n, STATE), "Degraded" | "Unreconcilable")
        })
        .collect();
    let unavailable = nodes
        .iter()
        .filter(|n| !(done_at(n, annotation(n, CURRENT_CONFIG)) || failing(n)))
        .count();
    let all_updated = updated == count && unavailable == 0;
    let (updated_c, updating_c) = update_conditions(pool, all_updated);
    let reasons: Vec<String> = degraded
        .iter()
        .map(|n| {
            format!(
                "Node {} is reporting: {:?}",
                str_at(n, "/metadata/name"),
                annotation(n, REASON)
            )
        })
        .collect();
    let node_degraded = if degraded.is_empty() {
        condition("NodeDegraded", false, "", "", pool)
    } else {
        let reason = format!(
            "{} nodes are reporting degraded status on sync",
            degraded.len()
        );
        condition("NodeDegraded", true, &reason, &reasons.join(", "), pool)
    };
    let configuration = if all_updated {
        pool["spec"]["configuration"].clone()
    } else {
        pool.pointer("/status/configuration")
            .cloned()
            .unwrap_or(json!({}))
    };
    json!({
        "observedGeneration": pool.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "configuration": configuration,
        "machineCount": count,
        "updatedMachineCount": updated,
        "readyMachineCount": updated,
        "unavailableMachineCount": unavailable,
        "degradedMachineCount": degraded.len(),
        "conditions": [
            condition("RenderDegraded", false, "", "", pool),
            node_degraded,
            condition("Degraded", !degraded.is_empty(), "", "", pool),
            updated_c,
            updating_c,
        ],
    })
}

/// Writes the pool's status from its nodes; returns the event, if changed.
fn sync_status(state: &mut State, pool_name: &str) -> Option<std::sync::Arc<Event>> {
    let r = res("MachineConfigPool");
    let pool = state.store.get(r, "", pool_name)?.clone();
    let nodes = nodes_of(state, &pool);
    let mut updated = pool.clone();
    updated["status"] = pool_status(&pool, &nodes);
    state.store.replace(r, "", &pool, updated, false).1
}

/// Sets annotations on a node.
fn annotate(
    state: &mut State,
    node: &Value,
    set: &[(&str, &str)],
    remove: &[&str],
) -> Option<std::sync::Arc<Event>> {
    let r = res("Node");
    let name = str_at(node, "/metadata/name");
    let old = state.store.get(r, "", name)?.clone();
    let mut updated = old.clone();
    let ann = updated["metadata"]["annotations"]
        .as_object_mut()
        .cloned()
        .unwrap_or_default();
    let mut ann = ann;
    for (k, v) in set {
        ann.insert((*k).to_string(), json!(v));
    }
    for k in remove {
        ann.remove(*k);
    }
    updated["metadata"]["annotations"] = Value::Object(ann);
    state.store.replace(r, "", &old, updated, false).1
}

/// What the node controller does next in a pool.
enum Step {
    /// Nothing to do (done, paused, or stopped by a degraded node).
    Rest,
    /// This node was told to move to `target`; the daemon works on it.
    Update { node: String, target: String },
}

/// One step of the node controller for a pool, under the lock.
fn next_step(state: &mut State, pool_name: &str, events: &mut Vec<std::sync::Arc<Event>>) -> Step {
    let Some(pool) = state
        .store
        .get(res("MachineConfigPool"), "", pool_name)
        .cloned()
    else {
        return Step::Rest;
    };
    let target = str_at(&pool, "/spec/configuration/name").to_string();
    let nodes = nodes_of(state, &pool);
    let paused = pool.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let stuck = nodes
        .iter()
        .any(|n| annotation(n, DESIRED_CONFIG) == target && failing(n));
    let next = nodes.iter().find(|n| !done_at(n, &target));
    let step = match next {
        Some(node) if !paused && !stuck && !target.is_empty() => {
            let name = str_at(node, "/metadata/name").to_string();
            match state.mco.degrade.remove(pool_name) {
                Some(message) => {
                    let set = [
                        (DESIRED_CONFIG, target.as_str()),
                        (STATE, "Degraded"),
                        (REASON, message.as_str()),
                    ];
                    events.extend(annotate(state, node, &set, &[]));
                    Step::Rest
                }
                None => {
                    let set = [(DESIRED_CONFIG, target.as_str()), (STATE, "Working")];
                    events.extend(annotate(state, node, &set, &[REASON]));
                    Step::Update { node: name, target }
                }
            }
        }
        _ => Step::Rest,
    };
    events.extend(sync_status(state, pool_name));
    step
}

/// Rolls a pool to its target, one node at a time, until done, paused or
/// degraded. One task per pool: a change meanwhile is picked up by the
/// running task's next step.
async fn roll(shared: Shared, pool: String) {
    loop {
        let delay = shared.lock().config.machines.delay;
        let mut events = Vec::new();
        let step = {
            let mut s = shared.lock();
            let step = next_step(&mut s, &pool, &mut events);
            if matches!(step, Step::Rest) {
                s.mco.rolling.remove(&pool);
            }
            step
        };
        publish(&shared, events);
        let Step::Update { node, target } = step else {
            return;
        };
        tokio::time::sleep(delay).await;
        let mut events = Vec::new();
        {
            let mut s = shared.lock();
            if let Some(n) = s.store.get(res("Node"), "", &node).cloned() {
                // The daemon finishes what it was asked to do, even when a
                // newer target came meanwhile; the next step moves it again.
                let set = [(CURRENT_CONFIG, target.as_str()), (STATE, "Done")];
                events.extend(annotate(&mut s, &n, &set, &[REASON]));
            }
            events.extend(sync_status(&mut s, &pool));
        }
        publish(&shared, events);
    }
}

fn publish(shared: &Shared, events: Vec<std::sync::Arc<Event>>) {
    for e in events {
        shared.publish(e);
    }
}

/// Starts rolling `pool` unless a task already does.
fn start(shared: &Shared, pool: &str) {
    if shared.lock().mco.rolling.insert(pool.to_string()) {
        tokio::spawn(roll(shared.clone(), pool.to_string()));
    }
}

/// The global pull secret changed: render, then roll every pool whose
/// target moved.
pub fn on_pull_secret(shared: &Shared) {
    let (events, changed) = render(&mut shared.lock());
    publish(shared, events);
    for pool in changed {
        start(shared, &pool);
    }
}

/// A pool changed (unpaused, say): roll it if it has work left.
pub fn on_pool(shared: &Shared, pool: &str) {
    let events: Vec<_> = sync_status(&mut shared.lock(), pool).into_iter().collect();
    publish(shared, events);
    let work_left = {
        let s = shared.lock();
        s.store
            .get(res("MachineConfigPool"), "", pool)
            .is_some_and(|p| {
                let target = str_at(p, "/spec/configuration/name");
                let paused = p.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
                !paused
                    && nodes_of(&s, p)
                        .iter()
                        .any(|n| !done_at(n, target) && !failing(n))
            })
    };
    if work_left {
        start(shared, pool);
    }
}

/// Makes the next node update in `pool` fail with `message`, as a daemon
/// that cannot write the file reports it.
pub fn degrade_next(shared: &Shared, pool: &str, message: &str) {
    shared
        .lock()
        .mco
        .degrade
        .insert(pool.to_string(), message.to_string());
}

/// The pools, their nodes and their rendered configs, all up to date with
/// the seeded global pull secret.
pub fn seed(state: &mut State) {
    let machines = state.config.machines.clone();
    for (pool, count) in [("master", machines.masters), ("worker", machines.workers)] {
        let p = json!({
            "metadata": {"name": pool, "labels": {
                format!("pools.operator.machineconfiguration.openshift.io/{pool}"): "",
            }},
            "spec": {
                "machineConfigSelector": {"matchLabels": {ROLE_LABEL: pool}},
                "nodeSelector": {"matchLabels": {node_role_label(pool): ""}},
                "paused": false,
                "configuration": {},
            },
        });
        state
            .store
            .insert_new(res("MachineConfigPool"), "", p, false);
        for i in 0..count {
            let node = super::kubelet::node(&format!("{pool}-{i}"), pool, &[]);
            state.store.insert_new(res("Node"), "", node, false);
        }
    }
    render(state);
    let pools: Vec<(String, String)> = state
        .store
        .list(res("MachineConfigPool"), None)
        .map(|(_, p)| {
            (
                str_at(p, "/metadata/name").to_string(),
                str_at(p, "/spec/configuration/name").to_string(),
            )
        })
        .collect();
    for (pool, target) in pools {
        let p = state
            .store
            .get(res("MachineConfigPool"), "", &pool)
            .cloned();
        for node in p.map(|p| nodes_of(state, &p)).unwrap_or_default() {
            let set = [
                (CURRENT_CONFIG, target.as_str()),
                (DESIRED_CONFIG, target.as_str()),
                (STATE, "Done"),
            ];
            annotate(state, &node, &set, &[]);
        }
        sync_status(state, &pool);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, current: &str, desired: &str, state: &str) -> Value {
        json!({"metadata": {"name": name, "annotations": {
            CURRENT_CONFIG: current, DESIRED_CONFIG: desired, STATE: state,
            REASON: "cannot write /var/lib/kubelet/config.json",
        }}})
    }

    fn pool(target: &str) -> Value {
        json!({"metadata": {"name": "worker", "generation": 4},
               "spec": {"configuration": {"name": target}},
               "status": {"configuration": {"name": "rendered-worker-old"}}})
    }

    fn cond<'a>(status: &'a Value, type_: &str) -> &'a Value {
        status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()
    }

    #[test]
    fn a_pool_midway_is_updating_and_keeps_its_old_configuration() {
        let nodes = [
            node("worker-0", "new", "new", "Done"),
            node("worker-1", "old", "new", "Working"),
            node("worker-2", "old", "old", "Done"),
        ];
        let s = pool_status(&pool("new"), &nodes);
        assert_eq!(s["machineCount"], 3);
        assert_eq!(s["updatedMachineCount"], 1);
        assert_eq!(s["unavailableMachineCount"], 1);
        assert_eq!(s["observedGeneration"], 4);
        assert_eq!(s["configuration"]["name"], "rendered-worker-old");
        assert_eq!(cond(&s, "Updated")["status"], "False");
        assert_eq!(cond(&s, "Updating")["status"], "True");
    }

    #[test]
    fn a_pool_all_done_takes_the_target_as_its_configuration() {
        let nodes = [node("worker-0", "new", "new", "Done")];
        let s = pool_status(&pool("new"), &nodes);
        assert_eq!(s["configuration"]["name"], "new");
        assert_eq!(cond(&s, "Updated")["status"], "True");
        assert_eq!(
            cond(&s, "Updated")["message"],
            "All nodes are updated with MachineConfig new"
        );
    }

    #[test]
    fn a_degraded_node_is_reported_as_the_operator_words_it() {
        let nodes = [
            node("worker-0", "old", "new", "Degraded"),
            node("worker-1", "old", "old", "Done"),
        ];
        let s = pool_status(&pool("new"), &nodes);
        assert_eq!(s["degradedMachineCount"], 1);
        let nd = cond(&s, "NodeDegraded");
        assert_eq!(nd["status"], "True");
        assert_eq!(
            nd["reason"],
            "1 nodes are reporting degraded status on sync"
        );
        assert_eq!(
            nd["message"],
            "Node worker-0 is reporting: \"cannot write /var/lib/kubelet/config.json\""
        );
        assert_eq!(cond(&s, "Degraded")["status"], "True");
        // A failing node is not "unavailable": it counts against the
        // rollout through getAllCandidateMachines instead.
        assert_eq!(s["unavailableMachineCount"], 0);
    }

    #[test]
    fn a_paused_pool_says_it_will_not_update() {
        let mut p = pool("new");
        p["spec"]["paused"] = json!(true);
        let s = pool_status(&p, &[node("worker-0", "old", "old", "Done")]);
        let u = cond(&s, "Updating");
        assert_eq!(u["status"], "False");
        assert_eq!(
            u["message"],
            "Pool is paused; will not update to MachineConfig new"
        );
    }

    #[test]
    fn rendered_names_follow_the_content() {
        let a = rendered_name("worker", &json!({"config": ignition(b"{}")}));
        let b = rendered_name("worker", &json!({"config": ignition(b"{\"auths\":{}}")}));
        assert!(a.starts_with("rendered-worker-") && a.len() == "rendered-worker-".len() + 32);
        assert_ne!(a, b);
    }
}
