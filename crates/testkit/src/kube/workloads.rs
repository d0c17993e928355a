//! The workload controllers, enough for real workloads and real
//! `kubectl rollout status` / `rollout restart` (kubernetes
//! `pkg/controller/{deployment,replicaset,statefulset,daemon}` and
//! `pkg/controller/garbagecollector`, read for what they write):
//!
//! - Deployment → one ReplicaSet per pod template, named
//!   `NAME-<pod-template-hash>` and labelled with that hash; the new one
//!   is scaled to `spec.replicas`, the old ones to 0 once the new one's
//!   pods are available (a rolling update with no unavailable pod: the
//!   default 25 % / 25 % rounds to exactly that for small replica
//!   counts); `status` and the `Available` / `Progressing` conditions as
//!   `kubectl rollout status` reads them.
//! - ReplicaSet → pods `NAME-xxxxx`, admitted as the API server admits a
//!   pod (the service account's pull secrets copied in), made again when
//!   one is deleted.
//! - StatefulSet → pods `NAME-0…`, one at a time, each once the previous
//!   is ready (`OrderedReady`); an update replaces them from the highest
//!   ordinal down; `controller-revision-hash` and the revisions.
//! - DaemonSet → one pod per ready node its template selects, rolled one
//!   node at a time (HyperShift's own syncer DaemonSet is left to
//!   [`super::hypershift`]).
//! - Deleting an owner deletes what it owns (background propagation).
//!
//! Each reconcile runs under the state lock, so two never race.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::resources::{Resource, res};
use super::state::{Shared, State};
use super::store::{Event, now_rfc3339, random_suffix};

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn replicas(o: &Value) -> u64 {
    o.pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

/// The controller owner of `o`: `(kind, name, uid)`.
fn controller_of(o: &Value) -> Option<(String, String, String)> {
    (o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .find(|r| r.get("controller") == Some(&json!(true)))
    .map(|r| {
        (
            text(r, "/kind").into(),
            text(r, "/name").into(),
            text(r, "/uid").into(),
        )
    })
}

fn owner_ref(kind: &str, owner: &Value) -> Value {
    json!([{"apiVersion": "apps/v1", "kind": kind, "name": text(owner, "/metadata/name"),
            "uid": text(owner, "/metadata/uid"), "controller": true, "blockOwnerDeletion": true}])
}

/// The objects of `r` in `ns` whose controller is `uid`.
fn owned(s: &State, r: &Resource, ns: &str, uid: &str) -> Vec<Value> {
    s.store
        .list(r, Some(ns))
        .map(|(_, o)| o)
        .filter(|o| controller_of(o).is_some_and(|(_, _, u)| u == uid))
        .cloned()
        .collect()
}

fn pod_ready(p: &Value) -> bool {
    (p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// A short, stable hash of a pod template in the API's safe alphabet.
fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(template.to_string().as_bytes());
    let mut n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (0..10)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

type Events = Vec<Arc<Event>>;

fn write(s: &mut State, kind: &str, ns: &str, old: &Value, new: Value, events: &mut Events) {
    events.extend(s.store.replace(res(kind), ns, old, new, false).1);
}

fn set_status(
    s: &mut State,
    kind: &str,
    ns: &str,
    old: &Value,
    status: Value,
    events: &mut Events,
) {
    let mut new = old.clone();
    let mut status = status;
    keep_transition_times(old.pointer("/status/conditions"), &mut status);
    new["status"] = status;
    write(s, kind, ns, old, new, events);
}

/// Conditions whose status and reason did not change keep their times,
/// so an unchanged status writes nothing.
fn keep_transition_times(old: Option<&Value>, status: &mut Value) {
    let now = now_rfc3339();
    let Some(conds) = status.get_mut("conditions").and_then(Value::as_array_mut) else {
        return;
    };
    for c in conds {
        let before =
            (old.and_then(Value::as_array).into_iter().flatten()).find(|o| o["type"] == c["type"]);
        match before {
            Some(b) if b["status"] == c["status"] && b["reason"] == c["reason"] => {
                c["lastTransitionTime"] = b["lastTransitionTime"].clone();
                c["lastUpdateTime"] = b["lastUpdateTime"].clone();
            }
            _ => {
                c["lastTransitionTime"] = json!(now);
                c["lastUpdateTime"] = json!(now);
            }
        }
    }
}

/// A pod made from `template`, admitted as the API server would.
fn new_pod(
    s: &State,
    ns: &str,
    name: &str,
    template: &Value,
    owner: Value,
    extra_labels: &[(&str, String)],
) -> Result<Value, String> {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut pod = json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner,
                     "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or_else(|| json!({}))},
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    });
    super::admission::defaults("Pod", &mut pod);
    super::admission::pod(s, ns, &mut pod)?;
    Ok(pod)
}

/// An event about a workload, as its controller records one:
/// `[type, reason, message]`.
fn event(s: &mut State, about: &Value, kind: &str, what: [&str; 3], events: &mut Events) {
    let [type_, reason, message] = what;
    let now = now_rfc3339();
    let ns = text(about, "/metadata/namespace").to_string();
    let name = text(about, "/metadata/name");
    let e = json!({
        "metadata": {"name": format!("{name}.{}", random_suffix(16)), "namespace": ns},
        "involvedObject": {"kind": kind, "namespace": ns, "name": name, "apiVersion": "apps/v1",
                           "uid": text(about, "/metadata/uid")},
        "reason": reason, "message": message, "type": type_,
        "source": {"component": format!("{}-controller", kind.to_ascii_lowercase())},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    });
    events.extend(s.store.insert_new(res("Event"), &ns, e, false).1);
}

/// Something changed: reconcile whatever controls it, and what it controls.
pub fn on_event(shared: &Shared, e: &Event) {
    let o = &e.object;
    let ns = text(o, "/metadata/namespace").to_string();
    let name = text(o, "/metadata/name").to_string();
    let mut events = Vec::new();
    let retry;
    {
        let mut s = shared.lock();
        if e.kind == "DELETED" {
            collect_garbage(&mut s, e.resource.kind, o, &mut events);
        }
        retry = match e.resource.kind {
            "Deployment" => deployment(&mut s, &ns, &name, &mut events),
            "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
                let r = reconcile(&mut s, e.resource.kind, &ns, &name, &mut events);
                if let Some((kind, owner, _)) = controller_of(o) {
                    reconcile(&mut s, &kind, &ns, &owner, &mut events);
                }
                r
            }
            "Pod" => match controller_of(o) {
                Some((kind, owner, _)) => reconcile(&mut s, &kind, &ns, &owner, &mut events),
                None => false,
            },
            "Node" => {
                let all: Vec<(String, String)> = s
                    .store
                    .list(res("DaemonSet"), None)
                    .map(|(k, _)| (k.1.clone(), k.2.clone()))
                    .collect();
                all.iter()
                    .any(|(n, d)| daemonset(&mut s, n, d, &mut events))
            }
            _ => false,
        };
    }
    for e in events {
        shared.publish(e);
    }
    if retry {
        // A pod could not be admitted yet (its service account is not
        // made): the controller tries again, as the real one requeues.
        let (shared, e) = (shared.clone(), e.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            on_event(&shared, &e);
        });
    }
}

/// Reconciles one controller by kind; true when it must be tried again.
fn reconcile(s: &mut State, kind: &str, ns: &str, name: &str, events: &mut Events) -> bool {
    match kind {
        "Deployment" => deployment(s, ns, name, events),
        "ReplicaSet" => {
            let again = replicaset(s, ns, name, events);
            let owner = s
                .store
                .get(res("ReplicaSet"), ns, name)
                .and_then(controller_of);
            if let Some((k, n, _)) = owner.filter(|(k, ..)| k == "Deployment") {
                deployment(s, ns, &n, events);
                let _ = k;
            }
            again
        }
        "StatefulSet" => statefulset(s, ns, name, events),
        "DaemonSet" => daemonset(s, ns, name, events),
        _ => false,
    }
}

fn deployment(s: &mut State, ns: &str, name: &str, events: &mut Events) -> bool {
    let Some(d) = s.store.get(res("Deployment"), ns, name).cloned() else {
        return false;
    };
    let uid = text(&d, "/metadata/uid").to_string();
    let template = d.pointer("/spec/template").cloned().unwrap_or_default();
    let hash = template_hash(&template);
    let desired = replicas(&d);
    let sets = owned(s, res("ReplicaSet"), ns, &uid);
    let is_new = |rs: &Value| text(rs, "/metadata/labels/pod-template-hash") == hash;
    let revision = |rs: &Value| -> u64 {
        text(
            rs,
            "/metadata/annotations/deployment.kubernetes.io~1revision",
        )
        .parse()
        .unwrap_or(0)
    };
    let new_rs = match sets.iter().find(|rs| is_new(rs)) {
        Some(rs) => {
            if replicas(rs) != desired {
                let mut scaled = rs.clone();
                scaled["spec"]["replicas"] = json!(desired);
                write(s, "ReplicaSet", ns, rs, scaled, events);
            }
            s.store
                .get(res("ReplicaSet"), ns, text(rs, "/metadata/name"))
                .cloned()
                .unwrap_or_default()
        }
        None => {
            let next = sets.iter().map(revision).max().unwrap_or(0) + 1;
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = d
                .pointer("/spec/selector")
                .cloned()
                .unwrap_or_else(|| json!({}));
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let rs = json!({
                "metadata": {"name": format!("{name}-{hash}"), "namespace": ns,
                             "labels": t.pointer("/metadata/labels").cloned().unwrap_or_default(),
                             "annotations": {"deployment.kubernetes.io/revision": next.to_string(),
                                             "deployment.kubernetes.io/desired-replicas": desired.to_string()},
                             "ownerReferences": owner_ref("Deployment", &d)},
                "spec": {"replicas": desired, "selector": selector, "template": t},
            });
            let (rs, e) = s.store.insert_new(res("ReplicaSet"), ns, rs, false);
            events.extend(e);
            event(
                s,
                &d,
                "Deployment",
                [
                    "Normal",
                    "ScalingReplicaSet",
                    &format!("Scaled up replica set {name}-{hash} from 0 to {desired}"),
                ],
                events,
            );
            replicaset(s, ns, &format!("{name}-{hash}"), events);
            rs
        }
    };
    let available = |rs: &Value| {
        rs.pointer("/status/availableReplicas")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let new_available = available(&new_rs);
    if new_available >= desired {
        for old in sets.iter().filter(|rs| !is_new(rs) && replicas(rs) > 0) {
            let mut scaled = old.clone();
            scaled["spec"]["replicas"] = json!(0);
            let old_name = text(old, "/metadata/name").to_string();
            write(s, "ReplicaSet", ns, old, scaled, events);
            event(
                s,
                &d,
                "Deployment",
                [
                    "Normal",
                    "ScalingReplicaSet",
                    &format!(
                        "Scaled down replica set {old_name} from {} to 0",
                        replicas(old)
                    ),
                ],
                events,
            );
            replicaset(s, ns, &old_name, events);
        }
    }
    let sets = owned(s, res("ReplicaSet"), ns, &uid);
    let sum = |p: &str| {
        sets.iter()
            .map(|rs| rs.pointer(p).and_then(Value::as_u64).unwrap_or(0))
            .sum::<u64>()
    };
    let total = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let avail = sum("/status/availableReplicas");
    let updated = sets
        .iter()
        .filter(|rs| is_new(rs))
        .map(|rs| {
            rs.pointer("/status/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        })
        .sum::<u64>();
    let new_name = text(&new_rs, "/metadata/name").to_string();
    let done = new_available >= desired && total == updated;
    let (progress_reason, progress_message) = if done {
        (
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{new_name}\" has successfully progressed."),
        )
    } else {
        (
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{new_name}\" is progressing."),
        )
    };
    let (avail_status, avail_reason, avail_message) = if avail >= desired {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let mut status = json!({
        "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": total, "updatedReplicas": updated, "readyReplicas": ready,
        "availableReplicas": avail,
        "conditions": [
            {"type": "Available", "status": avail_status, "reason": avail_reason, "message": avail_message},
            {"type": "Progressing", "status": "True", "reason": progress_reason, "message": progress_message},
        ],
    });
    let unavailable = total.max(desired).saturating_sub(avail);
    if unavailable > 0 {
        status["unavailableReplicas"] = json!(unavailable);
    }
    let current = s
        .store
        .get(res("Deployment"), ns, name)
        .cloned()
        .unwrap_or(d);
    set_status(s, "Deployment", ns, &current, status, events);
    false
}

fn replicaset(s: &mut State, ns: &str, name: &str, events: &mut Events) -> bool {
    let Some(rs) = s.store.get(res("ReplicaSet"), ns, name).cloned() else {
        return false;
    };
    let uid = text(&rs, "/metadata/uid").to_string();
    let desired = replicas(&rs) as usize;
    let mut pods = owned(s, res("Pod"), ns, &uid);
    let mut retry = false;
    while pods.len() < desired {
        let pod_name = format!("{name}-{}", random_suffix(5));
        let template = rs.pointer("/spec/template").cloned().unwrap_or_default();
        match new_pod(
            s,
            ns,
            &pod_name,
            &template,
            owner_ref("ReplicaSet", &rs),
            &[],
        ) {
            Ok(pod) => {
                let (pod, e) = s.store.insert_new(res("Pod"), ns, pod, false);
                events.extend(e);
                event(
                    s,
                    &rs,
                    "ReplicaSet",
                    [
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {pod_name}"),
                    ],
                    events,
                );
                pods.push(pod);
            }
            Err(why) => {
                event(
                    s,
                    &rs,
                    "ReplicaSet",
                    [
                        "Warning",
                        "FailedCreate",
                        &format!("Error creating: pods \"{pod_name}\" is forbidden: {why}"),
                    ],
                    events,
                );
                retry = true;
                break;
            }
        }
    }
    // Scale down: pods not ready first, then the newest.
    pods.sort_by_key(|p| {
        (
            pod_ready(p),
            std::cmp::Reverse(text(p, "/metadata/creationTimestamp").to_string()),
        )
    });
    while pods.len() > desired {
        let p = pods.remove(0);
        let pod_name = text(&p, "/metadata/name").to_string();
        if let Some((_, Some(e))) = s.store.remove(res("Pod"), ns, &pod_name, false) {
            events.push(e);
        }
        event(
            s,
            &rs,
            "ReplicaSet",
            [
                "Normal",
                "SuccessfulDelete",
                &format!("Deleted pod: {pod_name}"),
            ],
            events,
        );
    }
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let status = json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(), "readyReplicas": ready,
                        "availableReplicas": ready,
                        "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1))});
    let current = s
        .store
        .get(res("ReplicaSet"), ns, name)
        .cloned()
        .unwrap_or(rs);
    set_status(s, "ReplicaSet", ns, &current, status, events);
    retry
}

fn statefulset(s: &mut State, ns: &str, name: &str, events: &mut Events) -> bool {
    let Some(sts) = s.store.get(res("StatefulSet"), ns, name).cloned() else {
        return false;
    };
    let uid = text(&sts, "/metadata/uid").to_string();
    let template = sts.pointer("/spec/template").cloned().unwrap_or_default();
    let update = format!("{name}-{}", template_hash(&template));
    let desired = replicas(&sts) as usize;
    let pods = owned(s, res("Pod"), ns, &uid);
    let by_ordinal = |i: usize| {
        pods.iter()
            .find(|p| text(p, "/metadata/name") == format!("{name}-{i}"))
    };
    let revision_of = |p: &Value| text(p, "/metadata/labels/controller-revision-hash").to_string();
    let mut retry = false;
    // Scale up in order, each once the one before is ready.
    for i in 0..desired {
        match by_ordinal(i) {
            Some(p) if pod_ready(p) => continue,
            Some(_) => break,
            None => {
                let pod_name = format!("{name}-{i}");
                let labels = [
                    ("controller-revision-hash", update.clone()),
                    ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
                    ("apps.kubernetes.io/pod-index", i.to_string()),
                ];
                match new_pod(
                    s,
                    ns,
                    &pod_name,
                    &template,
                    owner_ref("StatefulSet", &sts),
                    &labels,
                ) {
                    Ok(mut pod) => {
                        pod["spec"]["hostname"] = json!(pod_name);
                        events.extend(s.store.insert_new(res("Pod"), ns, pod, false).1);
                        event(
                            s,
                            &sts,
                            "StatefulSet",
                            [
                                "Normal",
                                "SuccessfulCreate",
                                &format!("create Pod {pod_name} in StatefulSet {name} successful"),
                            ],
                            events,
                        );
                    }
                    Err(_) => retry = true,
                }
                break;
            }
        }
    }
    // Scale down from the highest ordinal; then replace outdated pods,
    // highest first, one at a time, when all are ready.
    let all_ready = (0..desired).all(|i| by_ordinal(i).is_some_and(pod_ready));
    let surplus = pods.iter().filter(|p| {
        text(p, "/metadata/name")
            .rsplit('-')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= desired)
    });
    let victim = surplus
        .max_by_key(|p| text(p, "/metadata/name").len())
        .cloned()
        .or_else(|| {
            all_ready
                .then(|| {
                    (0..desired)
                        .rev()
                        .filter_map(by_ordinal)
                        .find(|p| revision_of(p) != update)
                        .cloned()
                })
                .flatten()
        });
    if let Some(p) = victim {
        let pod_name = text(&p, "/metadata/name").to_string();
        if let Some((_, Some(e))) = s.store.remove(res("Pod"), ns, &pod_name, false) {
            events.push(e);
        }
    }
    let pods = owned(s, res("Pod"), ns, &uid);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods.iter().filter(|p| revision_of(p) == update).count();
    let previous = text(&sts, "/status/currentRevision").to_string();
    let current_revision = if updated == desired && ready == desired || previous.is_empty() {
        update.clone()
    } else {
        previous
    };
    let current_count = pods
        .iter()
        .filter(|p| revision_of(p) == current_revision)
        .count();
    let status = json!({"observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
        "currentReplicas": current_count, "updatedReplicas": updated,
        "currentRevision": current_revision, "updateRevision": update, "collisionCount": 0});
    let current = s
        .store
        .get(res("StatefulSet"), ns, name)
        .cloned()
        .unwrap_or(sts);
    set_status(s, "StatefulSet", ns, &current, status, events);
    retry
}

fn daemonset(s: &mut State, ns: &str, name: &str, events: &mut Events) -> bool {
    if ns == super::hypershift::KUBE_SYSTEM && name == super::hypershift::SYNCER {
        return false;
    }
    let Some(ds) = s.store.get(res("DaemonSet"), ns, name).cloned() else {
        return false;
    };
    let uid = text(&ds, "/metadata/uid").to_string();
    let template = ds.pointer("/spec/template").cloned().unwrap_or_default();
    let generation = ds
        .pointer("/metadata/generation")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .to_string();
    let probe = json!({"spec": template.get("spec").cloned().unwrap_or_default()});
    let nodes: Vec<String> = s
        .store
        .list(res("Node"), None)
        .map(|(_, n)| n)
        .filter(|n| super::scheduler::fits(&probe, n))
        .map(|n| text(n, "/metadata/name").to_string())
        .collect();
    let pods = owned(s, res("Pod"), ns, &uid);
    let on = |node: &str| pods.iter().find(|p| text(p, "/spec/nodeName") == node);
    let mut retry = false;
    for node in &nodes {
        if on(node).is_none() {
            let pod_name = format!("{name}-{}", random_suffix(5));
            let labels = [("pod-template-generation", generation.clone())];
            match new_pod(
                s,
                ns,
                &pod_name,
                &template,
                owner_ref("DaemonSet", &ds),
                &labels,
            ) {
                Ok(mut pod) => {
                    pod["spec"]["nodeName"] = json!(node);
                    events.extend(s.store.insert_new(res("Pod"), ns, pod, false).1);
                    event(
                        s,
                        &ds,
                        "DaemonSet",
                        [
                            "Normal",
                            "SuccessfulCreate",
                            &format!("Created pod: {pod_name}"),
                        ],
                        events,
                    );
                }
                Err(_) => retry = true,
            }
        }
    }
    let generation_of = |p: &Value| text(p, "/metadata/labels/pod-template-generation").to_string();
    let all_ready = nodes.iter().all(|n| on(n).is_some_and(pod_ready));
    if all_ready && let Some(old) = pods.iter().find(|p| generation_of(p) != generation) {
        let pod_name = text(old, "/metadata/name").to_string();
        if let Some((_, Some(e))) = s.store.remove(res("Pod"), ns, &pod_name, false) {
            events.push(e);
        }
    }
    let pods = owned(s, res("Pod"), ns, &uid);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| generation_of(p) == generation)
        .count();
    let status = json!({"observedGeneration": ds.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "desiredNumberScheduled": nodes.len(), "currentNumberScheduled": pods.len(),
        "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": updated,
        "numberUnavailable": nodes.len().saturating_sub(ready), "numberMisscheduled": 0});
    let current = s
        .store
        .get(res("DaemonSet"), ns, name)
        .cloned()
        .unwrap_or(ds);
    set_status(s, "DaemonSet", ns, &current, status, events);
    retry
}

/// Background propagation: what a deleted owner owned goes too.
fn collect_garbage(s: &mut State, kind: &str, owner: &Value, events: &mut Events) {
    if !matches!(
        kind,
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
    ) {
        return;
    }
    let ns = text(owner, "/metadata/namespace").to_string();
    let uid = text(owner, "/metadata/uid").to_string();
    for child_kind in ["ReplicaSet", "Pod"] {
        for child in owned(s, res(child_kind), &ns, &uid) {
            let name = text(&child, "/metadata/name").to_string();
            if let Some((gone, Some(e))) = s.store.remove(res(child_kind), &ns, &name, false) {
                events.push(e);
                collect_garbage(s, child_kind, &gone, events);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_are_stable_and_follow_the_template() {
        let a = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}});
        assert_eq!(template_hash(&a), template_hash(&a.clone()));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }
}
