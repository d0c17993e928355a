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

use super::resources;
use super::state::Shared;
use super::store::{Event, random_suffix};

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
    let (delay, openshift, flavor, hosted) = {
        let s = shared.lock();
        (
            s.config.controller_delay,
            s.config.openshift,
            s.config.flavor,
            s.config.hosted,
        )
    };
    let namespace = e
        .object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let openshift4 = flavor == super::resources::Flavor::OpenShift4;
    let name = e
        .object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
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
        ("ServiceAccount", "ADDED" | "MODIFIED") if openshift => {
            let ns = e
                .object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if needs_dockercfg(&e.object) {
                tokio::time::sleep(delay).await;
                ensure_dockercfg(shared, &ns, &name);
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
    let (_, e) = s
        .store
        .insert_new(r, ns, json!({"metadata": {"name": name}}), false);
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
}

fn dockercfg_prefix(sa: &str) -> String {
    format!("{sa}-dockercfg-")
}

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

/// Creates the SA's dockercfg secret if it has none, and puts it back in the
/// SA's lists, with a fresh read each time so no concurrent change is lost.
pub(crate) fn ensure_dockercfg(shared: &Shared, ns: &str, sa_name: &str) {
    let sa_res = resources::by_kind("ServiceAccount").expect("serviceaccounts");
    let secret_res = resources::by_kind("Secret").expect("secrets");
    let mut s = shared.lock();
    let Some(sa) = s.store.get(sa_res, ns, sa_name).cloned() else {
        return;
    };
    if !needs_dockercfg(&sa) {
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
            let token = random_suffix(32);
            let cfg = json!({"image-registry.openshift-image-registry.svc:5000": {
                "username": "<token>", "password": token, "email": "serviceaccount@example.org",
                "auth": base64::engine::general_purpose::STANDARD.encode(format!("<token>:{token}")),
            }});
            let secret = json!({
                "metadata": {"name": n, "annotations": {
                    "kubernetes.io/service-account.name": sa_name,
                    "openshift.io/token-secret.name": format!("{sa_name}-token-{}", random_suffix(5)),
                }},
                "type": "kubernetes.io/dockercfg",
                "data": {".dockercfg": base64::engine::general_purpose::STANDARD.encode(cfg.to_string())},
            });
            let (_, e) = s.store.insert_new(secret_res, ns, secret, false);
            events.extend(e);
            n
        }
    };
    let mut updated = sa.clone();
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
    let (_, e) = s.store.replace(sa_res, ns, &sa, updated, false);
    events.extend(e);
    drop(s);
    for e in events {
        shared.publish(e);
    }
}
