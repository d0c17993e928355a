//! Server-side printing, as the API server answers kubectl's `Accept:
//! application/json;as=Table;v=v1;g=meta.k8s.io` for the workloads the
//! world runs (`kubectl get pods`, `get pods -w`, `get deploy`…): a
//! `meta.k8s.io/v1` Table whose columns and cells are those of kubernetes
//! `pkg/printers/internalversion/printers.go` (`printPod`'s Ready, Status
//! and Restarts; `printDeployment`, `printReplicaSet`, `printStatefulSet`,
//! `printDaemonSet`), each row carrying the object's metadata
//! (`PartialObjectMetadata`). Other kinds answer as before, and kubectl
//! prints their names and ages.

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

/// kubectl asked for a Table.
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

fn column(name: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": "string", "format": format, "description": name, "priority": priority})
}

fn columns(kind: &str) -> Option<Vec<Value>> {
    let (shown, wide): (&[&str], &[&str]) = match kind {
        "Pod" => (
            &["Name", "Ready", "Status", "Restarts", "Age"],
            &["IP", "Node", "Nominated Node", "Readiness Gates"],
        ),
        "Deployment" => (
            &["Name", "Ready", "Up-to-date", "Available", "Age"],
            &["Containers", "Images", "Selector"],
        ),
        "ReplicaSet" => (
            &["Name", "Desired", "Current", "Ready", "Age"],
            &["Containers", "Images", "Selector"],
        ),
        "StatefulSet" => (&["Name", "Ready", "Age"], &["Containers", "Images"]),
        "DaemonSet" => (
            &[
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
            ],
            &["Containers", "Images", "Selector"],
        ),
        _ => return None,
    };
    Some(
        shown
            .iter()
            .map(|n| column(n, 0))
            .chain(wide.iter().map(|n| column(n, 1)))
            .collect(),
    )
}

/// A list (or one object) as a Table, when kubectl prints its kind so.
pub fn of(kind: &str, answer: &Value) -> Option<Value> {
    let columns = columns(kind)?;
    let items: Vec<&Value> = match answer.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None => vec![answer],
    };
    let mut metadata = json!({});
    for k in ["resourceVersion", "continue", "remainingItemCount"] {
        if let Some(v) = answer.pointer(&format!("/metadata/{k}")) {
            metadata[k] = v.clone();
        }
    }
    Some(json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
        "columnDefinitions": columns,
        "rows": items.into_iter().map(|o| row(kind, o)).collect::<Vec<_>>(),
    }))
}

fn row(kind: &str, o: &Value) -> Value {
    let text = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let int = |p: &str| o.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let name = text("/metadata/name");
    let age = age(&text("/metadata/creationTimestamp"));
    let containers = |p: &str| -> (String, String) {
        let list: Vec<&Value> = o
            .pointer(p)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let names: Vec<&str> = list
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        let images: Vec<&str> = list
            .iter()
            .filter_map(|c| c.get("image").and_then(Value::as_str))
            .collect();
        (names.join(","), images.join(","))
    };
    let selector = || {
        (o.pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten())
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
    };
    let cells: Vec<Value> = match kind {
        "Pod" => {
            let (ready, status, restarts) = pod_status(o);
            let or_none = |s: String| {
                if s.is_empty() {
                    "<none>".to_string()
                } else {
                    s
                }
            };
            vec![
                json!(name),
                json!(ready),
                json!(status),
                json!(restarts.to_string()),
                json!(age),
                json!(or_none(text("/status/podIP"))),
                json!(or_none(text("/spec/nodeName"))),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        "Deployment" => {
            let (c, i) = containers("/spec/template/spec/containers");
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    int("/status/readyReplicas"),
                    int("/spec/replicas")
                )),
                json!(int("/status/updatedReplicas")),
                json!(int("/status/availableReplicas")),
                json!(age),
                json!(c),
                json!(i),
                json!(selector()),
            ]
        }
        "ReplicaSet" => {
            let (c, i) = containers("/spec/template/spec/containers");
            vec![
                json!(name),
                json!(int("/spec/replicas")),
                json!(int("/status/replicas")),
                json!(int("/status/readyReplicas")),
                json!(age),
                json!(c),
                json!(i),
                json!(selector()),
            ]
        }
        "StatefulSet" => {
            let (c, i) = containers("/spec/template/spec/containers");
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    int("/status/readyReplicas"),
                    int("/spec/replicas")
                )),
                json!(age),
                json!(c),
                json!(i),
            ]
        }
        _ => {
            let (c, i) = containers("/spec/template/spec/containers");
            let node_selector = (o
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object))
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "<none>".into());
            vec![
                json!(name),
                json!(int("/status/desiredNumberScheduled")),
                json!(int("/status/currentNumberScheduled")),
                json!(int("/status/numberReady")),
                json!(int("/status/updatedNumberScheduled")),
                json!(int("/status/numberAvailable")),
                json!(node_selector),
                json!(age),
                json!(c),
                json!(i),
                json!(selector()),
            ]
        }
    };
    json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                      "metadata": o.get("metadata").cloned().unwrap_or_default()}})
}

/// `printPod`: READY, STATUS and RESTARTS as kubectl shows them.
fn pod_status(pod: &Value) -> (String, String, i64) {
    let list = |p: &str| -> Vec<Value> {
        pod.pointer(p)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let total = list("/spec/containers").len();
    let mut reason = pod
        .pointer("/status/reason")
        .or_else(|| pod.pointer("/status/phase"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let inits = list("/status/initContainerStatuses");
    let init_total = list("/spec/initContainers").len();
    let mut restarts = 0;
    let mut initializing = false;
    for (i, c) in inits.iter().enumerate() {
        restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        let state = &c["state"];
        let waiting = state
            .pointer("/waiting/reason")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if state.pointer("/terminated/exitCode") == Some(&json!(0)) {
            continue;
        }
        reason = if let Some(t) = state.get("terminated") {
            format!(
                "Init:{}",
                t.get("reason").and_then(Value::as_str).unwrap_or("Error")
            )
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{i}/{init_total}")
        };
        initializing = true;
        break;
    }
    let mut ready = 0;
    if !initializing {
        restarts = 0;
        for c in list("/status/containerStatuses").iter().rev() {
            restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let state = &c["state"];
            if let Some(w) = state
                .pointer("/waiting/reason")
                .and_then(Value::as_str)
                .filter(|w| !w.is_empty())
            {
                reason = w.to_string();
            } else if let Some(t) = state.pointer("/terminated/reason").and_then(Value::as_str) {
                reason = t.to_string();
            } else if c.get("ready") == Some(&json!(true)) && state.get("running").is_some() {
                ready += 1;
            }
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    (format!("{ready}/{total}"), reason, restarts)
}

/// `duration.HumanDuration` of the time since `rfc3339`.
fn age(rfc3339: &str) -> String {
    let Some(then) = parse_rfc3339(rfc3339) else {
        return "<unknown>".into();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    human(now.saturating_sub(then))
}

fn human(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        s if s < 120 => format!("{s}s"),
        _ if m < 10 && secs.is_multiple_of(60) => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", secs % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 && m.is_multiple_of(60) => format!("{h}h"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 && h.is_multiple_of(24) => format!("{d}d"),
        _ if h < 24 * 8 => format!("{d}d{}h", h % 24),
        _ if d < 365 * 2 => format!("{d}d"),
        _ => format!("{}y", d / 365),
    }
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ`.
fn parse_rfc3339(s: &str) -> Option<u64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, mo) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_read_as_kubectl_prints_them() {
        let backing_off = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(
            pod_status(&backing_off),
            ("0/1".into(), "ImagePullBackOff".into(), 0)
        );
        let running = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{"ready": true, "restartCount": 0,
                "state": {"running": {}}}]}});
        assert_eq!(pod_status(&running), ("1/1".into(), "Running".into(), 0));
        let init = json!({"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "i"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"restartCount": 0,
                "state": {"waiting": {"reason": "ErrImagePull"}}}]}});
        assert_eq!(pod_status(&init).1, "Init:ErrImagePull");
    }

    #[test]
    fn ages_as_kubectl_says_them() {
        assert_eq!(human(5), "5s");
        assert_eq!(human(150), "2m30s");
        assert_eq!(human(3600 * 5 + 60 * 3), "5h3m");
        assert_eq!(human(86_400 * 3), "3d");
        assert_eq!(parse_rfc3339("1970-01-02T00:00:10Z"), Some(86_410));
    }
}
