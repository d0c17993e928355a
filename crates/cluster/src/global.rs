//! OpenShift 4's cluster-wide pull secret, `openshift-config/pull-secret`:
//! show it redacted, add or replace one registry's entry, or remove one —
//! never dropping another registry's entry, with a conditional update that
//! starts over on a conflict.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, Change, keys};

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

async fn read(api: &Api<Secret>) -> Result<(Secret, AuthFile), ClusterError> {
    let secret = match api.get(NAME).await {
        Ok(s) => s,
        Err(e) if is_not_found(&e) => {
            return Err(ClusterError::NotOpenShift4("openshift-config/pull-secret"));
        }
        Err(e) => return Err(ClusterError::from_kube(e, "secret", NAMESPACE, NAME)),
    };
    let (_, file) = crate::pullsecret::auth_file_of(&secret)?;
    Ok((secret, file))
}

/// The registries and usernames in the global pull secret.
pub async fn show(cluster: &Cluster) -> Result<Vec<Entry>, ClusterError> {
    Ok(credentials(cluster)
        .await?
        .into_iter()
        .map(|c| Entry {
            registry: c.registry,
            username: c.username,
        })
        .collect())
}

/// Every credential in the global pull secret (for `global check`).
pub async fn credentials(cluster: &Cluster) -> Result<Vec<Credential>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let (secret, _) = read(&api).await?;
    crate::pullsecret::credentials_of(&secret)
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
