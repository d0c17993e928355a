//! OpenShift 4's cluster-wide pull secret, `openshift-config/pull-secret`:
//! show it redacted, add or replace one registry's entry, or remove one —
//! never dropping another registry's entry, with a conditional update that
//! starts over on a conflict. On a hosted control plane the same edits go
//! to `kube-system/additional-pull-secret` instead ([`crate::hosted`]),
//! and what the nodes get is read from the merge.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, Change};

use crate::access::{Need, Verb};
use crate::error::{ClusterError, is_not_found};
use crate::{Cluster, DryRun, retry};

pub use crate::global_edit::{Entry, Expected, GlobalEdit, NAME, NAMESPACE, RegistryChange};
const KEY: &str = ".dockerconfigjson";

async fn read(api: &Api<Secret>) -> Result<(Secret, AuthFile), ClusterError> {
    let secret = match api.get(NAME).await {
        Ok(s) => s,
        Err(e) if is_not_found::<Secret>(&e) => {
            return Err(ClusterError::NotOpenShift4("openshift-config/pull-secret"));
        }
        Err(e) => return Err(ClusterError::from_kube::<Secret>(e, NAMESPACE, NAME)),
    };
    let (_, file) = crate::pullsecret::auth_file_of(&secret)?;
    Ok((secret, file))
}

/// What the nodes get: on a hosted control plane the merged secret (or
/// the HostedCluster's, without one), else `openshift-config/pull-secret`.
async fn nodes_secret(cluster: &Cluster) -> Result<Secret, ClusterError> {
    if cluster.hosted().await {
        return crate::hosted::nodes_secret(cluster)
            .await?
            .ok_or(ClusterError::NotOpenShift4("openshift-config/pull-secret"));
    }
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    Ok(read(&api).await?.0)
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
    crate::pullsecret::credentials_of(&nodes_secret(cluster).await?)
}

/// What an edit will change, against the pull secret as read.
#[derive(Clone, Debug)]
pub struct GlobalPlan {
    pub changes: Vec<RegistryChange>,
    edit: GlobalEdit,
    force: bool,
    target: Target,
}

/// Where the edit goes.
#[derive(Clone, Debug)]
enum Target {
    /// `openshift-config/pull-secret` with the edit made (and the
    /// resourceVersion read).
    Standalone(Box<Secret>),
    /// `kube-system/additional-pull-secret` (hosted control plane).
    Hosted(Box<crate::hosted::HostedPlan>),
}

impl GlobalPlan {
    /// True when some entry changes.
    pub fn changes_anything(&self) -> bool {
        self.changes.iter().any(|c| c.change != Change::Unchanged)
    }

    pub fn edit(&self) -> &GlobalEdit {
        &self.edit
    }

    /// The hosted control plane's plan, when the edit goes there.
    pub fn hosted(&self) -> Option<&crate::hosted::HostedPlan> {
        match &self.target {
            Target::Hosted(h) => Some(h),
            Target::Standalone(_) => None,
        }
    }

    /// The secret written: `namespace/name`.
    pub fn secret(&self) -> (&'static str, &'static str) {
        match self.target {
            Target::Standalone(_) => (NAMESPACE, NAME),
            Target::Hosted(_) => (crate::hosted::NAMESPACE, crate::hosted::ADDITIONAL),
        }
    }

    /// The permission the write needs, if there is a write.
    pub fn need(&self) -> Option<Need> {
        match &self.target {
            Target::Hosted(h) => h.need(),
            Target::Standalone(_) => self
                .changes_anything()
                .then(|| Need::on::<Secret>(Verb::Update, Some(NAMESPACE))),
        }
    }
}

/// Reads the global pull secret and plans `edit` on it. On a hosted
/// control plane, `openshift-config/pull-secret` is overwritten from the
/// HostedCluster, so the edit goes to the additional pull secret
/// ([`crate::hosted::plan`]; `force`: write a key the original also has).
pub async fn plan(cluster: &Cluster, edit: GlobalEdit) -> Result<GlobalPlan, ClusterError> {
    plan_with(cluster, edit, false).await
}

/// [`plan`], writing keys the HostedCluster's pull secret has when `force`.
pub async fn plan_with(
    cluster: &Cluster,
    edit: GlobalEdit,
    force: bool,
) -> Result<GlobalPlan, ClusterError> {
    plan_read(cluster, edit, force, None).await
}

/// [`plan_with`]; on a hosted control plane from HyperShift's secrets as
/// the caller already read them, when it did (never read twice).
pub async fn plan_read(
    cluster: &Cluster,
    edit: GlobalEdit,
    force: bool,
    hosted_read: Option<crate::hosted::Secrets>,
) -> Result<GlobalPlan, ClusterError> {
    if cluster.hosted().await {
        let hosted = match hosted_read {
            Some(read) => crate::hosted::plan_read(cluster, read, &edit, force).await?,
            None => crate::hosted::plan(cluster, &edit, force).await?,
        };
        return Ok(GlobalPlan {
            changes: hosted.changes.clone(),
            edit,
            force,
            target: Target::Hosted(Box::new(hosted)),
        });
    }
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let (mut updated, mut file) = read(&api).await?;
    let changes = edit.apply_to(&mut file);
    updated
        .data
        .get_or_insert_with(Default::default)
        .insert(KEY.into(), ByteString(file.to_secret_bytes()));
    Ok(GlobalPlan {
        changes,
        edit,
        force,
        target: Target::Standalone(Box::new(updated)),
    })
}

/// Carries out a plan with a conditional update; when someone else changed
/// the secret meanwhile, the edit is planned again on a fresh read.
pub async fn write(
    cluster: &Cluster,
    plan: GlobalPlan,
    dry_run: DryRun,
) -> Result<Vec<RegistryChange>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let (edit, force) = (plan.edit.clone(), plan.force);
    let again = async || self::plan_with(cluster, edit.clone(), force).await;
    let write = async |plan: GlobalPlan| {
        if !plan.changes_anything() || dry_run == DryRun::Client {
            return Ok(plan.changes);
        }
        match &plan.target {
            Target::Standalone(updated) => {
                api.replace(NAME, &dry_run.post_params(), updated)
                    .await
                    .map_err(|e| ClusterError::from_kube::<Secret>(e, NAMESPACE, NAME))?;
            }
            Target::Hosted(hosted) => crate::hosted::write(cluster, hosted, dry_run).await?,
        }
        Ok(plan.changes)
    };
    retry::planned(plan, again, write).await
}

/// Adds or replaces one registry's entry, keeping all others.
pub async fn set(
    cluster: &Cluster,
    credential: &Credential,
    dry_run: DryRun,
) -> Result<Change, ClusterError> {
    let edit = GlobalEdit::Set(vec![credential.clone()]);
    one_change(write(cluster, plan(cluster, edit).await?, dry_run).await?)
}

/// Removes one registry's entry; `Unchanged` when it was not there.
pub async fn remove(
    cluster: &Cluster,
    registry: &str,
    dry_run: DryRun,
) -> Result<Change, ClusterError> {
    let edit = GlobalEdit::Remove(registry.to_string());
    one_change(write(cluster, plan(cluster, edit).await?, dry_run).await?)
}

fn one_change(changes: Vec<RegistryChange>) -> Result<Change, ClusterError> {
    Ok(changes.first().map_or(Change::Unchanged, |c| c.change))
}
