//! OpenShift 4's cluster-wide pull secret, `openshift-config/pull-secret`:
//! show it redacted, add or replace one registry's entry, or remove one —
//! never dropping another registry's entry, with a conditional update that
//! starts over on a conflict.

use std::path::Path;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, AuthFormat, Change, keys};

use crate::error::{ClusterError, is_conflict, is_not_found};
use crate::{Cluster, DryRun, retry};

pub const NAMESPACE: &str = "openshift-config";
pub const NAME: &str = "pull-secret";
const KEY: &str = ".dockerconfigjson";

/// One registry in the global pull secret (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub registry: String,
    pub username: String,
}

fn label() -> &'static Path {
    Path::new("secret openshift-config/pull-secret")
}

async fn read(api: &Api<Secret>) -> Result<(Secret, AuthFile), ClusterError> {
    let secret = match api.get(NAME).await {
        Ok(s) => s,
        Err(e) if is_not_found(&e) => {
            return Err(ClusterError::NotOpenShift4("openshift-config/pull-secret"));
        }
        Err(e) => return Err(ClusterError::from_kube(e, "secret", NAMESPACE, NAME)),
    };
    let bad = |reason: String| ClusterError::BadPullSecret {
        namespace: NAMESPACE.into(),
        name: NAME.into(),
        reason,
    };
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KEY))
        .ok_or_else(|| bad(format!("no {KEY} key")))?;
    let file =
        AuthFile::parse(label(), AuthFormat::Docker, &bytes.0).map_err(|e| bad(e.to_string()))?;
    Ok((secret, file))
}

/// The registries and usernames in the global pull secret.
pub async fn show(cluster: &Cluster) -> Result<Vec<Entry>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let (_, file) = read(&api).await?;
    let entries = file.entries().map_err(|e| ClusterError::BadPullSecret {
        namespace: NAMESPACE.into(),
        name: NAME.into(),
        reason: e.to_string(),
    })?;
    Ok(entries
        .into_iter()
        .map(|e| Entry {
            registry: e.registry,
            username: e.username,
        })
        .collect())
}

/// Every credential in the global pull secret (for `global check`).
pub async fn credentials(cluster: &Cluster) -> Result<Vec<Credential>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let (_, file) = read(&api).await?;
    let entries = file.entries().map_err(|e| ClusterError::BadPullSecret {
        namespace: NAMESPACE.into(),
        name: NAME.into(),
        reason: e.to_string(),
    })?;
    Ok(entries.iter().map(|e| e.credential()).collect())
}

async fn modify(
    cluster: &Cluster,
    dry_run: DryRun,
    edit: impl Fn(&mut AuthFile) -> Change,
) -> Result<Change, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    retry::on_conflict(|| async {
        let (mut secret, mut file) = read(&api).await?;
        let change = edit(&mut file);
        if change == Change::Unchanged || dry_run == DryRun::Client {
            return Ok(change);
        }
        secret
            .data
            .get_or_insert_with(Default::default)
            .insert(KEY.into(), ByteString(file.to_compact_bytes()));
        match api.replace(NAME, &dry_run.post_params(), &secret).await {
            Ok(_) => Ok(change),
            Err(e) if is_conflict(&e) => Err(ClusterError::Conflict {
                kind: "secret",
                namespace: NAMESPACE.into(),
                name: NAME.into(),
                attempts: 1,
            }),
            Err(e) => Err(ClusterError::from_kube(e, "secret", NAMESPACE, NAME)),
        }
    })
    .await
}

/// Adds or replaces one registry's entry, keeping all others.
pub async fn set(
    cluster: &Cluster,
    credential: &Credential,
    dry_run: DryRun,
) -> Result<Change, ClusterError> {
    modify(cluster, dry_run, |file| file.set(credential)).await
}

/// Removes one registry's entry; `Unchanged` when it was not there.
pub async fn remove(
    cluster: &Cluster,
    registry: &str,
    dry_run: DryRun,
) -> Result<Change, ClusterError> {
    let registry = keys::normalize(registry);
    modify(cluster, dry_run, |file| {
        if file.remove(&registry) {
            Change::Updated
        } else {
            Change::Unchanged
        }
    })
    .await
}
