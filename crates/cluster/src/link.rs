//! Linking secrets to a service account as `oc secrets link` does — for
//! `pull` (`imagePullSecrets`), `mount` (`secrets`) or both — keeping every
//! existing entry. Each change is a fresh read, the new lists, and a
//! conditional update; a 409 starts over (oc's plain update fails instead).
//! Nothing is written when nothing changes.

use std::time::Duration;

use k8s_openapi::api::core::v1::{LocalObjectReference, ObjectReference, Secret, ServiceAccount};
use kube::api::Api;

use crate::error::{ClusterError, is_conflict};
use crate::{Cluster, DryRun, retry};

/// Which list a secret goes into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkFor {
    #[default]
    Pull,
    Mount,
    Both,
}

impl LinkFor {
    fn pull(self) -> bool {
        matches!(self, Self::Pull | Self::Both)
    }
    fn mount(self) -> bool {
        matches!(self, Self::Mount | Self::Both)
    }
}

/// What a link or unlink changed (empty lists: nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkChange {
    pub namespace: String,
    pub service_account: String,
    pub pull: Vec<String>,
    pub mount: Vec<String>,
}

impl LinkChange {
    pub fn is_empty(&self) -> bool {
        self.pull.is_empty() && self.mount.is_empty()
    }
}

fn pull_names(sa: &ServiceAccount) -> Vec<String> {
    sa.image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect()
}

fn mount_names(sa: &ServiceAccount) -> Vec<String> {
    sa.secrets
        .iter()
        .flatten()
        .filter_map(|r| r.name.clone())
        .collect()
}

/// The service account with `secrets` added; `None` when already there.
pub fn with_links(
    sa: &ServiceAccount,
    secrets: &[String],
    for_: LinkFor,
) -> (ServiceAccount, LinkChange) {
    let mut out = sa.clone();
    let mut change = LinkChange {
        namespace: sa.metadata.namespace.clone().unwrap_or_default(),
        service_account: sa.metadata.name.clone().unwrap_or_default(),
        ..LinkChange::default()
    };
    for s in secrets {
        if for_.pull() && !pull_names(&out).contains(s) {
            out.image_pull_secrets
                .get_or_insert_with(Vec::new)
                .push(LocalObjectReference { name: s.clone() });
            change.pull.push(s.clone());
        }
        if for_.mount() && !mount_names(&out).contains(s) {
            out.secrets
                .get_or_insert_with(Vec::new)
                .push(ObjectReference {
                    name: Some(s.clone()),
                    ..ObjectReference::default()
                });
            change.mount.push(s.clone());
        }
    }
    (out, change)
}

/// The service account with `secrets` removed from both lists.
pub fn without_links(sa: &ServiceAccount, secrets: &[String]) -> (ServiceAccount, LinkChange) {
    let mut out = sa.clone();
    let mut change = LinkChange {
        namespace: sa.metadata.namespace.clone().unwrap_or_default(),
        service_account: sa.metadata.name.clone().unwrap_or_default(),
        ..LinkChange::default()
    };
    if let Some(list) = out.image_pull_secrets.as_mut() {
        list.retain(|r| {
            let drop = secrets.contains(&r.name);
            if drop {
                change.pull.push(r.name.clone());
            }
            !drop
        });
    }
    if let Some(list) = out.secrets.as_mut() {
        list.retain(|r| {
            let drop = r.name.as_ref().is_some_and(|n| secrets.contains(n));
            if drop {
                change.mount.push(r.name.clone().unwrap_or_default());
            }
            !drop
        });
    }
    (out, change)
}

/// Fails naming every secret of `names` that does not exist in `namespace`.
pub async fn require_secrets(
    cluster: &Cluster,
    namespace: &str,
    names: &[String],
) -> Result<(), ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let mut missing = Vec::new();
    for n in names {
        if api
            .get_opt(n)
            .await
            .map_err(|e| ClusterError::from_kube(e, "secret", namespace, n))?
            .is_none()
        {
            missing.push(n.clone());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ClusterError::SecretsMissing {
            namespace: namespace.to_string(),
            names: missing,
        })
    }
}

/// Writes `updated` over `current` (conditional on its resourceVersion).
async fn write(
    api: &Api<ServiceAccount>,
    name: &str,
    updated: &ServiceAccount,
    dry_run: DryRun,
) -> Result<(), ClusterError> {
    if dry_run == DryRun::Client {
        return Ok(());
    }
    let ns = updated.metadata.namespace.clone().unwrap_or_default();
    api.replace(name, &dry_run.post_params(), updated)
        .await
        .map(|_| ())
        .map_err(|e| {
            if is_conflict(&e) {
                ClusterError::Conflict {
                    kind: "serviceaccount",
                    namespace: ns.clone(),
                    name: name.to_string(),
                    attempts: 1,
                }
            } else {
                ClusterError::from_kube(e, "serviceaccount", &ns, name)
            }
        })
}

/// Adds `secrets` to service account `sa` (which must exist).
pub async fn link(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    secrets: &[String],
    for_: LinkFor,
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    modify(cluster, namespace, sa, dry_run, |current| {
        with_links(current, secrets, for_)
    })
    .await
}

/// As [`link`], starting from an already-read service account (from a
/// list); a conflict is for the caller to retry with [`link`].
pub async fn link_from(
    api: &Api<ServiceAccount>,
    current: &ServiceAccount,
    secrets: &[String],
    for_: LinkFor,
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    write_change(api, with_links(current, secrets, for_), dry_run).await
}

/// Removes `secrets` from both lists of `sa`.
pub async fn unlink(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    secrets: &[String],
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    modify(cluster, namespace, sa, dry_run, |current| {
        without_links(current, secrets)
    })
    .await
}

/// Fresh read, `edit`, conditional write when something changed; starts
/// over on a conflict.
async fn modify(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    dry_run: DryRun,
    edit: impl Fn(&ServiceAccount) -> (ServiceAccount, LinkChange),
) -> Result<LinkChange, ClusterError> {
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    retry::on_conflict(|| async {
        let current = api
            .get(sa)
            .await
            .map_err(|e| ClusterError::from_kube(e, "serviceaccount", namespace, sa))?;
        write_change(&api, edit(&current), dry_run).await
    })
    .await
}

/// Writes an edited service account, unless the edit changed nothing.
async fn write_change(
    api: &Api<ServiceAccount>,
    (updated, change): (ServiceAccount, LinkChange),
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    if !change.is_empty() {
        write(api, &change.service_account, &updated, dry_run).await?;
    }
    Ok(change)
}

/// True when OpenShift has put the SA's own `<sa>-dockercfg-…` pull secret in.
pub fn has_openshift_dockercfg(sa: &ServiceAccount) -> bool {
    let prefix = format!(
        "{}-dockercfg-",
        sa.metadata.name.as_deref().unwrap_or_default()
    );
    pull_names(sa).iter().any(|n| n.starts_with(&prefix))
}

/// Waits (with a watch) until service account `sa` exists — and, when
/// `openshift` is set, until its dockercfg secret has been provisioned, so a
/// link does not race OpenShift's controller.
pub async fn wait_for(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    timeout: Duration,
    openshift: bool,
) -> Result<ServiceAccount, ClusterError> {
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    let ready = move |obj: Option<&ServiceAccount>| {
        obj.is_some_and(|s| !openshift || has_openshift_dockercfg(s))
    };
    let waited = tokio::time::timeout(
        timeout,
        kube::runtime::wait::await_condition(api, sa, ready),
    )
    .await;
    let timed_out = || ClusterError::ServiceAccountTimeout {
        namespace: namespace.to_string(),
        name: sa.to_string(),
        waited: timeout,
    };
    match waited {
        Ok(Ok(Some(found))) => Ok(found),
        Ok(Ok(None)) => Err(timed_out()),
        Ok(Err(e)) => Err(ClusterError::Connection(e.to_string())),
        Err(_) => Err(timed_out()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa() -> ServiceAccount {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "default", "namespace": "ns"},
            "imagePullSecrets": [{"name": "default-dockercfg-abcde"}],
            "secrets": [{"name": "default-dockercfg-abcde"}],
        }))
        .unwrap()
    }

    #[test]
    fn linking_keeps_what_was_there_and_is_idempotent() {
        let s = vec!["mine".to_string()];
        let (once, change) = with_links(&sa(), &s, LinkFor::Pull);
        assert_eq!(change.pull, s);
        assert!(change.mount.is_empty());
        assert_eq!(pull_names(&once), ["default-dockercfg-abcde", "mine"]);
        let (_, again) = with_links(&once, &s, LinkFor::Both);
        assert!(again.pull.is_empty());
        assert_eq!(again.mount, s);
        let (twice, none) = with_links(&once, &s, LinkFor::Pull);
        assert!(none.is_empty());
        assert_eq!(pull_names(&twice), pull_names(&once));
    }

    #[test]
    fn unlinking_takes_only_what_was_named() {
        let (linked, _) = with_links(&sa(), &["mine".to_string()], LinkFor::Both);
        let (out, change) = without_links(&linked, &["mine".to_string()]);
        assert_eq!(change.pull, ["mine"]);
        assert_eq!(change.mount, ["mine"]);
        assert_eq!(pull_names(&out), ["default-dockercfg-abcde"]);
        assert_eq!(mount_names(&out), ["default-dockercfg-abcde"]);
        assert!(has_openshift_dockercfg(&out));
    }
}
