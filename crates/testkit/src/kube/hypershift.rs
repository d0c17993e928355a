//! A hosted control plane's data plane (HyperShift, ROSA with HCP), as far
//! as its cluster-wide pull secret goes, after openshift/hypershift
//! (commit 3ee9615, August 2026):
//!
//! - The Hosted Cluster Config Operator copies `HostedCluster.spec.pullSecret`
//!   into `kube-system/original-pull-secret` and `openshift-config/pull-secret`
//!   (`manifests.PullSecretTargetNamespaces`), and puts the latter back when
//!   someone edits it ([`on_openshift_config`]).
//! - Its `globalps` controller (`controllers/globalps/globalps.go`) reads
//!   `kube-system/additional-pull-secret`: absent (or without data), it
//!   deletes `kube-system/global-pull-secret`; present, it validates it
//!   (`.dockerconfigjson` JSON with at least one `auths` entry; an invalid
//!   one changes nothing) and merges it with the original into
//!   `global-pull-secret` (`mergePullSecrets`: on a key both have the
//!   original is kept; the older code, `Merge::AdditionalWins`, let the
//!   additional entry win).
//! - It keeps DaemonSet `kube-system/global-pull-secret-syncer`, whose pod
//!   template carries `hypershift.openshift.io/globalps-config-hash`, a hash
//!   of what the nodes must get, so a change of it rolls the pods; the pods
//!   run only on nodes labelled
//!   `hypershift.openshift.io/nodepool-globalps-enabled=true` (AWS and Azure
//!   NodePools with the Replace upgrade type). The DaemonSet stays when the
//!   additional secret goes: the nodes then get the original alone.
//! - The DaemonSet controller replaces one pod at a time (`maxUnavailable`
//!   1), each taking the machine delay to become ready; a node whose syncer
//!   fails ([`fail_node`]) keeps a crash-looping pod and the rollout stops
//!   there. Status fields are the DaemonSet controller's.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::resources::res;
use super::state::{Shared, State};
use super::store::{Event, now_rfc3339, random_suffix};

pub const KUBE_SYSTEM: &str = "kube-system";
pub const ADDITIONAL: &str = "additional-pull-secret";
pub const GLOBAL: &str = "global-pull-secret";
pub const ORIGINAL: &str = "original-pull-secret";
pub const SYNCER: &str = "global-pull-secret-syncer";
pub const ELIGIBLE: &str = "hypershift.openshift.io/nodepool-globalps-enabled";
const CONFIG_HASH: &str = "hypershift.openshift.io/globalps-config-hash";
/// The DaemonSet controller's label on the pods it makes.
const TEMPLATE_GENERATION: &str = "pod-template-generation";
const DOCKER_CONFIG_JSON: &str = ".dockerconfigjson";

pub use super::state::{Merge, Syncer};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A secret's `.dockerconfigjson`, decoded.
fn config_bytes(secret: &Value) -> Option<Vec<u8>> {
    let data = secret.pointer("/data/.dockerconfigjson")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

fn hash_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `validateAdditionalPullSecret`: JSON with at least one `auths` entry.
fn valid_additional(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let auths = v.get("auths")?.as_object()?.clone();
    (!auths.is_empty()).then_some(auths)
}

/// `mergePullSecrets`, with the precedence `merge` says.
fn merged(original: &[u8], additional: serde_json::Map<String, Value>, merge: Merge) -> Vec<u8> {
    let original: Value = serde_json::from_slice(original).unwrap_or_default();
    let mut auths = additional;
    for (k, v) in original["auths"].as_object().into_iter().flatten() {
        if merge == Merge::OriginalWins || !auths.contains_key(k) {
            auths.insert(k.clone(), v.clone());
        }
    }
    json!({"auths": auths}).to_string().into_bytes()
}

fn secret(name: &str, bytes: &[u8]) -> Value {
    json!({"metadata": {"name": name, "namespace": KUBE_SYSTEM},
           "type": "kubernetes.io/dockerconfigjson",
           "data": {DOCKER_CONFIG_JSON: b64(bytes)}})
}

/// Creates, replaces or removes an object; its event, if anything changed.
fn put(
    state: &mut State,
    kind: &str,
    ns: &str,
    name: &str,
    obj: Option<Value>,
) -> Option<Arc<Event>> {
    let r = res(kind);
    let old = state.store.get(r, ns, name).cloned();
    match (old, obj) {
        (None, None) => None,
        (Some(_), None) => state.store.remove(r, ns, name, false).and_then(|(_, e)| e),
        (None, Some(new)) => state.store.insert_new(r, ns, new, false).1,
        (Some(old), Some(mut new)) => {
            if let Some(status) = old.get("status").filter(|_| new.get("status").is_none()) {
                new["status"] = status.clone();
            }
            state.store.replace(r, ns, &old, new, false).1
        }
    }
}

/// The DaemonSet as HCCO writes it: the pod template carries the hash of
/// what the nodes get, and mounts `global-pull-secret` only when merging.
fn daemon_set(config_hash: &str, with_global: bool) -> Value {
    let mut volumes = vec![
        json!({"name": "kubelet-config", "hostPath": {"path": "/var/lib/kubelet", "type": "Directory"}}),
        json!({"name": "dbus", "hostPath": {"path": "/var/run/dbus", "type": "Directory"}}),
        json!({"name": ORIGINAL, "secret": {"secretName": ORIGINAL}}),
    ];
    if with_global {
        volumes.push(json!({"name": GLOBAL, "secret": {"secretName": GLOBAL}}));
    }
    json!({
        "metadata": {"name": SYNCER, "namespace": KUBE_SYSTEM},
        "spec": {
            "selector": {"matchLabels": {"name": SYNCER}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"name": SYNCER, CONFIG_HASH: config_hash}},
                "spec": {
                    "serviceAccountName": SYNCER,
                    "nodeSelector": {ELIGIBLE: "true"},
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": SYNCER, "image": "quay.io/hypershift/hypershift:latest",
                                    "command": ["/usr/bin/control-plane-operator"],
                                    "args": ["sync-global-pullsecret"]}],
                    "volumes": volumes,
                },
            },
        },
    })
}

/// What `globalps` does on a reconcile; true when the DaemonSet's
/// template changed (a rollout is due).
fn reconcile(state: &mut State, events: &mut Vec<Arc<Event>>) -> bool {
    let Some(original) =
        (state.store.get(res("Secret"), KUBE_SYSTEM, ORIGINAL)).and_then(config_bytes)
    else {
        return false;
    };
    let additional = state
        .store
        .get(res("Secret"), KUBE_SYSTEM, ADDITIONAL)
        .cloned();
    let (global, nodes_get) = match additional.as_ref().and_then(config_bytes) {
        None => (None, original.clone()),
        Some(bytes) => match valid_additional(&bytes) {
            // "failed to validate user provided pull secret": nothing changes.
            None => return false,
            Some(auths) => {
                let bytes = merged(&original, auths, state.config.hosted_merge);
                (Some(secret(GLOBAL, &bytes)), bytes)
            }
        },
    };
    let with_global = global.is_some();
    events.extend(put(state, "Secret", KUBE_SYSTEM, GLOBAL, global));
    let ds = daemon_set(&hash_of(&nodes_get), with_global);
    let event = put(state, "DaemonSet", KUBE_SYSTEM, SYNCER, Some(ds));
    let changed = event.is_some();
    events.extend(event);
    changed
}

/// The eligible nodes, by name.
fn eligible(state: &State) -> Vec<String> {
    state
        .store
        .list(res("Node"), None)
        .filter(|(_, n)| {
            n.pointer(&format!("/metadata/labels/{}", ELIGIBLE.replace('/', "~1")))
                == Some(&json!("true"))
        })
        .filter_map(|(_, n)| n.pointer("/metadata/name")?.as_str().map(str::to_string))
        .collect()
}

/// The syncer's pods, as (node, pod).
fn pods(state: &State) -> Vec<(String, Value)> {
    state
        .store
        .list(res("Pod"), Some(KUBE_SYSTEM))
        .filter(|(_, p)| p.pointer("/metadata/labels/name") == Some(&json!(SYNCER)))
        .map(|(_, p)| {
            let node = p
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (node.to_string(), p.clone())
        })
        .collect()
}

fn generation(ds: &Value) -> i64 {
    ds.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn pod_generation(pod: &Value) -> i64 {
    (pod.pointer(&format!("/metadata/labels/{TEMPLATE_GENERATION}")))
        .and_then(Value::as_str)
        .and_then(|g| g.parse().ok())
        .unwrap_or(0)
}

fn ready(pod: &Value) -> bool {
    pod.pointer("/status/containerStatuses/0/ready") == Some(&json!(true))
}

/// A new pod for `node` at the DaemonSet's generation: starting, ready,
/// or crash-looping (the syncer failing on that node).
fn pod(ds: &Value, node: &str, phase: PodPhase) -> Value {
    let generation = generation(ds).to_string();
    let mut labels = ds
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or_default();
    labels[TEMPLATE_GENERATION] = json!(generation);
    let state = match phase {
        PodPhase::Starting => json!({"waiting": {"reason": "ContainerCreating"}}),
        PodPhase::Ready => json!({"running": {"startedAt": now_rfc3339()}}),
        PodPhase::Failing => json!({"waiting": {"reason": "CrashLoopBackOff",
            "message": "back-off 40s restarting failed container"}}),
    };
    let ready = phase == PodPhase::Ready;
    json!({
        "metadata": {"name": format!("{SYNCER}-{}", random_suffix(5)), "namespace": KUBE_SYSTEM,
                     "labels": labels,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": SYNCER,
                         "uid": ds.pointer("/metadata/uid").cloned().unwrap_or_default(),
                         "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": node, "serviceAccountName": SYNCER,
                 "containers": ds.pointer("/spec/template/spec/containers").cloned().unwrap_or_default()},
        "status": {
            "phase": if phase == PodPhase::Starting { "Pending" } else { "Running" },
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": SYNCER, "ready": ready,
                "restartCount": if phase == PodPhase::Failing { 3 } else { 0 },
                "image": "quay.io/hypershift/hypershift:latest", "imageID": "", "state": state}],
        },
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PodPhase {
    Starting,
    Ready,
    Failing,
}

/// The DaemonSet controller's status for the pods as they are.
fn sync_status(state: &mut State) -> Option<Arc<Event>> {
    let r = res("DaemonSet");
    let ds = state.store.get(r, KUBE_SYSTEM, SYNCER)?.clone();
    let current = generation(&ds);
    let nodes = eligible(state);
    let pods: Vec<Value> = (pods(state).into_iter())
        .filter(|(n, _)| nodes.contains(n))
        .map(|(_, p)| p)
        .collect();
    let count = |f: &dyn Fn(&Value) -> bool| pods.iter().filter(|p| f(p)).count();
    let ready_pods = count(&ready);
    let status = json!({
        "observedGeneration": current,
        "desiredNumberScheduled": nodes.len(),
        "currentNumberScheduled": pods.len(),
        "updatedNumberScheduled": count(&|p| pod_generation(p) == current),
        "numberReady": ready_pods,
        "numberAvailable": ready_pods,
        "numberUnavailable": nodes.len().saturating_sub(ready_pods),
        "numberMisscheduled": 0,
    });
    let mut updated = ds.clone();
    updated["status"] = status;
    state.store.replace(r, KUBE_SYSTEM, &ds, updated, false).1
}

/// One step of the DaemonSet controller under the lock: the next node
/// whose pod is not at the current generation gets a new one. `Some`
/// (node, pod) when that pod must be made ready after the delay.
fn next_step(state: &mut State, events: &mut Vec<Arc<Event>>) -> Option<(String, String)> {
    let ds = state
        .store
        .get(res("DaemonSet"), KUBE_SYSTEM, SYNCER)?
        .clone();
    let current = generation(&ds);
    let nodes = eligible(state);
    let pods = pods(state);
    // maxUnavailable 1: a pod of this generation not ready stops the rollout.
    if pods
        .iter()
        .any(|(_, p)| pod_generation(p) == current && !ready(p))
    {
        events.extend(sync_status(state));
        return None;
    }
    let behind = nodes.iter().find(|n| {
        !pods
            .iter()
            .any(|(node, p)| node == *n && pod_generation(p) == current)
    })?;
    let node = behind.clone();
    for (_, old) in pods.iter().filter(|(n, _)| *n == node) {
        let name = old
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        events.extend(put(state, "Pod", KUBE_SYSTEM, name, None));
    }
    let phase = if state.syncer.failing.contains(&node) {
        PodPhase::Failing
    } else {
        PodPhase::Starting
    };
    let new = pod(&ds, &node, phase);
    let name = new["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    events.extend(
        state
            .store
            .insert_new(res("Pod"), KUBE_SYSTEM, new, false)
            .1,
    );
    events.extend(sync_status(state));
    (phase == PodPhase::Starting).then_some((node, name))
}

/// Rolls the syncer one node at a time until every eligible node runs
/// the current template, or a node's syncer fails. One task at a time.
async fn roll(shared: Shared) {
    loop {
        let mut events = Vec::new();
        let step = {
            let mut s = shared.lock();
            let step = next_step(&mut s, &mut events);
            if step.is_none() {
                s.syncer.rolling = false;
            }
            step
        };
        publish(&shared, events);
        let Some((node, name)) = step else {
            return;
        };
        let delay = shared.lock().config.machines.delay;
        tokio::time::sleep(delay).await;
        let mut events = Vec::new();
        {
            let mut s = shared.lock();
            let current = s.store.get(res("Pod"), KUBE_SYSTEM, &name).cloned();
            let ds = s.store.get(res("DaemonSet"), KUBE_SYSTEM, SYNCER).cloned();
            if let (Some(old), Some(ds)) = (current, ds) {
                // The syncer writes the node's kubelet config.json: the
                // merged secret, or the original when there is none.
                let file = [GLOBAL, ORIGINAL].iter().find_map(|n| {
                    let secret = s.store.get(res("Secret"), KUBE_SYSTEM, n)?;
                    config_bytes(secret)
                });
                if let Some(bytes) = file {
                    s.kubelets.node_files.insert(node.clone(), bytes);
                }
                let mut ready = pod(&ds, &node, PodPhase::Ready);
                ready["metadata"] = old["metadata"].clone();
                events.extend(
                    s.store
                        .replace(res("Pod"), KUBE_SYSTEM, &old, ready, false)
                        .1,
                );
            }
            events.extend(sync_status(&mut s));
        }
        publish(&shared, events);
    }
}

fn publish(shared: &Shared, events: Vec<Arc<Event>>) {
    for e in events {
        shared.publish(e);
    }
}

fn start(shared: &Shared) {
    let mut s = shared.lock();
    if !s.syncer.rolling {
        s.syncer.rolling = true;
        drop(s);
        tokio::spawn(roll(shared.clone()));
    }
}

/// `kube-system/additional-pull-secret` was written or deleted: merge,
/// then roll the syncer if what the nodes get changed.
pub fn on_additional(shared: &Shared) {
    let mut events = Vec::new();
    let rollout = reconcile(&mut shared.lock(), &mut events);
    publish(shared, events);
    if rollout {
        start(shared);
    }
}

/// `openshift-config/pull-secret` was edited: HCCO writes the HostedCluster's
/// pull secret back over it.
pub fn on_openshift_config(shared: &Shared) {
    let mut s = shared.lock();
    let Some(original) = s.store.get(res("Secret"), KUBE_SYSTEM, ORIGINAL).cloned() else {
        return;
    };
    let Some(current) = s
        .store
        .get(res("Secret"), "openshift-config", "pull-secret")
        .cloned()
    else {
        return;
    };
    if current.pointer("/data") == original.pointer("/data") {
        return;
    }
    let mut restored = current.clone();
    restored["data"] = original["data"].clone();
    let event = s
        .store
        .replace(res("Secret"), "openshift-config", &current, restored, false)
        .1;
    drop(s);
    publish(shared, event.into_iter().collect());
}

/// The next syncer pod on `node` fails (the kubelet restart fails and the
/// container crash-loops), and the rollout stops there.
pub fn fail_node(shared: &Shared, node: &str) {
    shared.lock().syncer.failing.insert(node.to_string());
}

/// Worker nodes (all eligible), the original pull secret copied into
/// `kube-system`, the syncer's service account, DaemonSet and ready pods.
pub fn seed(state: &mut State) {
    let workers = state.config.machines.workers;
    for i in 0..workers {
        let name = format!("worker-{i}");
        let labels = [
            ("hypershift.openshift.io/nodePool", "workers"),
            (ELIGIBLE, "true"),
        ];
        let node = super::kubelet::node(&name, "worker", &labels);
        state.store.insert_new(res("Node"), "", node, false);
    }
    let Some(bytes) = (state
        .store
        .get(res("Secret"), "openshift-config", "pull-secret"))
    .and_then(config_bytes) else {
        return;
    };
    state
        .store
        .insert_new(res("Secret"), KUBE_SYSTEM, secret(ORIGINAL, &bytes), false);
    state.store.insert_new(
        res("ServiceAccount"),
        KUBE_SYSTEM,
        json!({"metadata": {"name": SYNCER}}),
        false,
    );
    let mut events = Vec::new();
    reconcile(state, &mut events);
    let Some(ds) = state
        .store
        .get(res("DaemonSet"), KUBE_SYSTEM, SYNCER)
        .cloned()
    else {
        return;
    };
    for node in eligible(state) {
        state.store.insert_new(
            res("Pod"),
            KUBE_SYSTEM,
            pod(&ds, &node, PodPhase::Ready),
            false,
        );
    }
    sync_status(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auths(v: Value) -> serde_json::Map<String, Value> {
        v["auths"].as_object().unwrap().clone()
    }

    #[test]
    fn the_original_wins_a_key_both_have_unless_the_older_merge_is_played() {
        let original = br#"{"auths": {"quay.io": {"auth": "b3JpZw=="}}}"#;
        let additional =
            json!({"auths": {"quay.io": {"auth": "YWRk"}, "quay.io/team": {"auth": "dGVhbQ=="}}});
        let now: Value = serde_json::from_slice(&merged(
            original,
            auths(additional.clone()),
            Merge::OriginalWins,
        ))
        .unwrap();
        assert_eq!(now["auths"]["quay.io"]["auth"], "b3JpZw==");
        assert_eq!(now["auths"]["quay.io/team"]["auth"], "dGVhbQ==");
        let then: Value =
            serde_json::from_slice(&merged(original, auths(additional), Merge::AdditionalWins))
                .unwrap();
        assert_eq!(then["auths"]["quay.io"]["auth"], "YWRk");
    }

    #[test]
    fn an_additional_secret_without_entries_is_not_valid() {
        assert!(valid_additional(br#"{"auths": {}}"#).is_none());
        assert!(valid_additional(b"not json").is_none());
        assert!(valid_additional(br#"{"auths": {"r.example": {"auth": "eA=="}}}"#).is_some());
    }
}
