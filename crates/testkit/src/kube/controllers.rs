//! Controllers, each acting a configurable moment after the event that
//! wakes it: a `default` ServiceAccount in every new namespace (OpenShift:
//! also `builder` and `deployer`), and in OpenShift mode a
//! `<sa>-dockercfg-xxxxx` secret for every ServiceAccount, added to its
//! `imagePullSecrets` and `secrets` — and added back if someone removes it.
//! On OpenShift 4 a change of the global pull secret, or of a pool, wakes
//! the Machine Config Operator's stand-in ([`super::mco`]).

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use super::image_registry::{AUTH_TOKEN_BINDING, AUTH_TOKEN_SA, PULL_SECRET_REF};
use super::resources;
use super::state::Shared;
use super::store::{Event, name_of, namespace_of, random_suffix};

/// Runs the controllers until the event channel closes. `rx` is
/// subscribed by the caller before the server starts, so no event published
/// between start-up and this task's first poll is missed.
pub async fn run(shared: Shared, mut rx: tokio::sync::broadcast::Receiver<Arc<Event>>) {
    loop {
        match rx.recv().await {
            Ok(e) => {
                let s = shared.clone();
                tokio::spawn(async move { react(&s, &e).await });
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        }
    }
}

async fn react(shared: &Shared, e: &Arc<Event>) {
    super::kyverno::on_event(shared, e).await;
    let (delay, flavour) = {
        let s = shared.lock();
        (s.config.controller_delay, s.config.flavour)
    };
    let (openshift, hosted) = (flavour.is_openshift(), flavour.is_hosted());
    let namespace = namespace_of(&e.object);
    let namespace = namespace.as_str();
    let openshift4 = flavour.is_openshift4();
    let name = name_of(&e.object);
    match (e.resource.kind, e.kind) {
        ("Namespace", "ADDED") => {
            tokio::time::sleep(delay).await;
            let names: &[&str] = if openshift {
                &["default", "builder", "deployer"]
            } else {
                &["default"]
            };
            for sa in names {
                ensure_service_account(shared, &name, sa);
            }
            super::image_registry::ensure_image_pullers(shared, &name);
        }
        ("Secret", "ADDED" | "MODIFIED" | "DELETED")
            if hosted
                && namespace == super::hypershift::KUBE_SYSTEM
                && name == super::hypershift::ADDITIONAL =>
        {
            tokio::time::sleep(delay).await;
            super::hypershift::on_additional(shared);
        }
        ("Secret", "ADDED" | "MODIFIED")
            if hosted && name == "pull-secret" && namespace == "openshift-config" =>
        {
            tokio::time::sleep(delay).await;
            super::hypershift::on_openshift_config(shared);
        }
        ("Secret", "ADDED" | "MODIFIED")
            if openshift4 && name == "pull-secret" && namespace == "openshift-config" =>
        {
            tokio::time::sleep(delay).await;
            super::mco::on_pull_secret(shared);
        }
        ("MachineConfigPool", "MODIFIED") => super::mco::on_pool(shared, &name),
        ("Pod", kind) => {
            if kind == "ADDED" {
                super::scheduler::on_pod(shared, &e.object);
            }
            if kind != "DELETED" {
                super::kubelet::sync::on_pod(shared, &e.object);
            }
            super::workloads::on_event(shared, e);
        }
        ("Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Node", _) => {
            super::workloads::on_event(shared, e);
        }
        ("ServiceAccount", "ADDED" | "MODIFIED") if openshift => {
            let unannotated = e
                .object
                .pointer(&format!(
                    "/metadata/annotations/{}",
                    PULL_SECRET_REF.replace('/', "~1")
                ))
                .is_none();
            let legacy = shared.lock().config.legacy_registry_secrets;
            if needs_dockercfg(&e.object) || (!legacy && unannotated) {
                tokio::time::sleep(delay).await;
                ensure_dockercfg(shared, namespace, &name);
            }
        }
        _ => {}
    }
}

pub(crate) fn ensure_service_account(shared: &Shared, ns: &str, name: &str) {
    let r = resources::by_kind("ServiceAccount").expect("serviceaccounts");
    let ns_res = resources::by_kind("Namespace").expect("namespaces");
    let mut s = shared.lock();
    if s.store.get(ns_res, "", ns).is_none() || s.store.get(r, ns, name).is_some() {
        return;
    }
    // Made through the API server: its mutating webhooks see it.
    let mut sa = json!({"metadata": {"name": name}});
    super::kyverno::admit(&s, ns, &mut sa);
    let (_, e) = s.store.insert_new(r, ns, sa, false);
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
}

fn dockercfg_prefix(sa: &str) -> String {
    format!("{sa}-dockercfg-")
}

/// The internal registry's names, as `registry_urls_observation_controller`
/// finds them.
const REGISTRY_URLS: [&str; 2] = [
    "image-registry.openshift-image-registry.svc:5000",
    "image-registry.openshift-image-registry.svc.cluster.local:5000",
];

fn needs_dockercfg(sa: &Value) -> bool {
    let name = sa
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let prefix = dockercfg_prefix(name);
    let has = |field: &str| {
        sa.get(field).and_then(Value::as_array).is_some_and(|list| {
            list.iter().any(|i| {
                i.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with(&prefix))
            })
        })
    };
    !(has("imagePullSecrets") && has("secrets"))
}

/// The SA's managed pull secret as OpenShift makes it: 4.16+ a dockercfg
/// secret owned by the SA, annotated with it, holding a bound token for the
/// internal registry's names (`image_pull_secret_controller.dockerConfig`:
/// `auth` only), and no token secret; before 4.16 one annotated
/// `kubernetes.io/service-account.name` beside a long-lived token secret.
fn managed_secret(sa: &Value, name: &str, legacy: bool) -> Value {
    let sa_name = sa
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let token = format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.{}",
        b64(sa_name),
        random_suffix(32)
    );
    if legacy {
        let cfg = json!({REGISTRY_URLS[0]: {
            "username": "<token>", "password": token, "email": "serviceaccount@example.org",
            "auth": b64(&format!("<token>:{token}")),
        }});
        return json!({
            "metadata": {"name": name, "annotations": {
                "kubernetes.io/service-account.name": sa_name,
                "openshift.io/token-secret.name": format!("{sa_name}-token-{}", random_suffix(5)),
            }},
            "type": "kubernetes.io/dockercfg",
            "data": {".dockercfg": b64(&cfg.to_string())},
        });
    }
    let entry = json!({"auth": b64(&format!("<token>:{token}"))});
    let cfg: serde_json::Map<String, Value> = REGISTRY_URLS
        .iter()
        .map(|u| (u.to_string(), entry.clone()))
        .collect();
    json!({
        "metadata": {"name": name,
            "annotations": {AUTH_TOKEN_SA: sa_name, AUTH_TOKEN_BINDING: "bound"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "ServiceAccount", "name": sa_name,
                                 "uid": sa.pointer("/metadata/uid").cloned().unwrap_or_default()}]},
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64(&Value::Object(cfg).to_string())},
    })
}

/// Creates the SA's dockercfg secret if it has none, and puts it back in the
/// SA's lists (4.16+: and its annotation), with a fresh read each time so
/// no concurrent change is lost.
pub(crate) fn ensure_dockercfg(shared: &Shared, ns: &str, sa_name: &str) {
    let sa_res = resources::by_kind("ServiceAccount").expect("serviceaccounts");
    let secret_res = resources::by_kind("Secret").expect("secrets");
    let mut s = shared.lock();
    let legacy = s.config.legacy_registry_secrets;
    let Some(sa) = s.store.get(sa_res, ns, sa_name).cloned() else {
        return;
    };
    let annotated = sa.pointer(&format!(
        "/metadata/annotations/{}",
        PULL_SECRET_REF.replace('/', "~1")
    ));
    if !needs_dockercfg(&sa) && (legacy || annotated.is_some()) {
        return;
    }
    let mut events = Vec::new();
    let prefix = dockercfg_prefix(sa_name);
    let existing = s
        .store
        .list(secret_res, Some(ns))
        .find(|(_, v)| {
            v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with(&prefix))
                && v.get("type").and_then(Value::as_str) == Some("kubernetes.io/dockercfg")
        })
        .map(|(_, v)| {
            v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        });
    let secret_name = match existing {
        Some(n) => n,
        None => {
            let n = format!("{prefix}{}", random_suffix(5));
            let (_, e) = s
                .store
                .insert_new(secret_res, ns, managed_secret(&sa, &n, legacy), false);
            events.extend(e);
            n
        }
    };
    let mut updated = sa.clone();
    if !legacy {
        updated["metadata"]["annotations"][PULL_SECRET_REF] = json!(secret_name);
    }
    for field in ["imagePullSecrets", "secrets"] {
        let list = updated[field].as_array().cloned().unwrap_or_default();
        if !list
            .iter()
            .any(|i| i.get("name").and_then(Value::as_str) == Some(&secret_name))
        {
            let mut list = list;
            list.push(json!({"name": secret_name}));
            updated[field] = Value::Array(list);
        }
    }
    super::kyverno::admit(&s, ns, &mut updated);
    let (_, e) = s.store.replace(sa_res, ns, &sa, updated, false);
    events.extend(e);
    drop(s);
    for e in events {
        shared.publish(e);
    }
}
