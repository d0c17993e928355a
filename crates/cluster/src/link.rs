//! Linking secrets to a service account as `oc secrets link` does — for
//! `pull` (`imagePullSecrets`), `mount` (`secrets`) or both — keeping every
//! existing entry. Each change is a fresh read, the new lists, and a write
//! of only those lists (a JSON merge patch) carrying the resourceVersion
//! read, which the API server takes as a precondition: a concurrent change
//! is a 409, and a 409 starts over from a fresh read (oc's plain update
//! fails instead). Nothing is written when nothing changed. A plan keeps
//! the patch, not the object: a fleet of 10,000 service accounts holds
//! 10,000 small patches.

use std::time::Duration;

use k8s_openapi::api::core::v1::{LocalObjectReference, ObjectReference, Secret, ServiceAccount};
use kube::api::{Api, ListParams, Patch};

use crate::access::{Need, Verb};
use crate::error::ClusterError;
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
            .map_err(|e| ClusterError::from_kube::<Secret>(e, namespace, n))?
            .is_none()
        {
            missing.push(n.clone());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    crate::namespaces::require(cluster, namespace).await?;
    Err(ClusterError::SecretsMissing {
        namespace: namespace.to_string(),
        names: missing,
    })
}

/// What to do to a service account's lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEdit {
    Add { secrets: Vec<String>, for_: LinkFor },
    Remove { secrets: Vec<String> },
}

impl LinkEdit {
    /// The service account edited, and what changed.
    pub fn apply_to(&self, sa: &ServiceAccount) -> (ServiceAccount, LinkChange) {
        match self {
            Self::Add { secrets, for_ } => with_links(sa, secrets, *for_),
            Self::Remove { secrets } => without_links(sa, secrets),
        }
    }
}

/// What a link or unlink will change on one service account.
#[derive(Clone, Debug)]
pub struct LinkPlan {
    pub change: LinkChange,
    edit: LinkEdit,
    /// The merge patch that writes the changed lists, with the
    /// resourceVersion read; `None` for a plan made without reading.
    patch: Option<ListsPatch>,
}

/// The lists of a service account that a link changes, as a JSON merge
/// patch conditional on the resourceVersion read. A merge patch replaces
/// a list whole: it holds every entry read, so none is dropped, and the
/// precondition makes sure nothing was added since.
#[derive(Clone, Debug, serde::Serialize)]
struct ListsPatch {
    metadata: Precondition,
    #[serde(rename = "imagePullSecrets", skip_serializing_if = "Option::is_none")]
    image_pull_secrets: Option<Vec<LocalObjectReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secrets: Option<Vec<ObjectReference>>,
}

#[derive(Clone, Debug, serde::Serialize)]
struct Precondition {
    #[serde(rename = "resourceVersion")]
    resource_version: Option<String>,
}

/// The lists of `updated` that `change` touches.
fn patch_of(updated: ServiceAccount, change: &LinkChange) -> ListsPatch {
    ListsPatch {
        metadata: Precondition {
            resource_version: updated.metadata.resource_version,
        },
        image_pull_secrets: (!change.pull.is_empty())
            .then_some(updated.image_pull_secrets)
            .flatten(),
        secrets: (!change.mount.is_empty())
            .then_some(updated.secrets)
            .flatten(),
    }
}

/// OpenShift's own registry secret of `sa`, when `secret` is it: 4.16+
/// names it in the service account's `openshift.io/internal-registry-pull-
/// secret-ref` annotation; before, it is `<sa>-dockercfg-…`. Either way
/// openshift-controller-manager puts it back in the lists when it goes.
pub fn openshift_managed(sa: &ServiceAccount, secret: &str) -> bool {
    let annotated = (sa.metadata.annotations.as_ref())
        .and_then(|a| a.get(crate::pullsecret::PULL_SECRET_REF))
        .is_some_and(|r| r == secret);
    let name = sa.metadata.name.as_deref().unwrap_or_default();
    annotated || secret.starts_with(&format!("{name}-dockercfg-"))
}

impl LinkPlan {
    /// As [`LinkPlan::from_read`], refusing to unlink OpenShift's own
    /// registry secret of the service account: the controller would put it
    /// back at once, and pulls from the internal registry need it.
    pub fn checked(current: &ServiceAccount, edit: LinkEdit) -> Result<Self, ClusterError> {
        if let LinkEdit::Remove { secrets } = &edit
            && let Some(s) = secrets.iter().find(|s| openshift_managed(current, s))
        {
            return Err(ClusterError::OpenShiftManagedSecret {
                namespace: current.metadata.namespace.clone().unwrap_or_default(),
                service_account: current.metadata.name.clone().unwrap_or_default(),
                secret: s.clone(),
            });
        }
        Ok(Self::from_read(current, edit))
    }

    /// Plans `edit` against a service account already read (from a list).
    pub fn from_read(current: &ServiceAccount, edit: LinkEdit) -> Self {
        let (updated, change) = edit.apply_to(current);
        let patch = (!change.is_empty()).then(|| patch_of(updated, &change));
        Self {
            change,
            edit,
            patch,
        }
    }

    /// A plan made without reading (`--dry-run=client` with no cluster):
    /// the change the edit makes to a service account with empty lists.
    pub fn unread(namespace: &str, service_account: &str, edit: LinkEdit) -> Self {
        let mut empty = ServiceAccount::default();
        empty.metadata.namespace = Some(namespace.to_string());
        empty.metadata.name = Some(service_account.to_string());
        let (_, change) = edit.apply_to(&empty);
        Self {
            change,
            edit,
            patch: None,
        }
    }

    /// The permission the write needs, if there is a write.
    pub fn need(&self) -> Option<Need> {
        (!self.change.is_empty())
            .then(|| Need::on::<ServiceAccount>(Verb::Patch, Some(&self.change.namespace)))
    }
}

/// Reads service account `sa` and plans `edit` on it.
pub async fn plan(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    edit: LinkEdit,
) -> Result<LinkPlan, ClusterError> {
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    let current = api
        .get_opt(sa)
        .await
        .map_err(|e| ClusterError::from_kube::<ServiceAccount>(e, namespace, sa))?;
    match current {
        Some(current) => LinkPlan::checked(&current, edit),
        None => Err(missing_service_account(cluster, namespace, sa).await),
    }
}

/// Waits for service account `sa` (on OpenShift, until its own dockercfg
/// secret is in, so the link does not race the controller that adds it),
/// then plans linking `secrets`: what `create --link`, `link` and
/// `delegated` all do.
pub async fn plan_link(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    secrets: &[String],
    for_: LinkFor,
    wait: SaWait,
) -> Result<LinkPlan, ClusterError> {
    let current = wait_for(cluster, namespace, sa, wait).await?;
    let edit = LinkEdit::Add {
        secrets: secrets.to_vec(),
        for_,
    };
    Ok(LinkPlan::from_read(&current, edit))
}

/// A service account read (and waited for), before the secrets to link
/// are chosen: a person picks one of several on a terminal, after every
/// cluster was planned.
#[derive(Clone, Debug)]
pub struct Pending {
    current: ServiceAccount,
    for_: LinkFor,
}

impl Pending {
    /// The plan once `secrets` are chosen.
    pub fn with(&self, secrets: Vec<String>) -> LinkPlan {
        let edit = LinkEdit::Add {
            secrets,
            for_: self.for_,
        };
        LinkPlan::from_read(&self.current, edit)
    }
}

/// Waits for service account `sa` as [`plan_link`] does, for secrets to
/// be chosen later.
pub async fn pending(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    for_: LinkFor,
    wait: SaWait,
) -> Result<Pending, ClusterError> {
    let current = wait_for(cluster, namespace, sa, wait).await?;
    Ok(Pending { current, for_ })
}

/// Carries out a plan with a conditional write; when the service account
/// changed meanwhile (409), the edit is made again on a fresh read.
pub async fn write(
    cluster: &Cluster,
    plan: &LinkPlan,
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    let c = &plan.change;
    if plan.patch.is_none() || c.is_empty() || dry_run == DryRun::Client {
        return Ok(c.clone());
    }
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &c.namespace);
    let again =
        async || self::plan(cluster, &c.namespace, &c.service_account, plan.edit.clone()).await;
    let write = async |p: LinkPlan| {
        if let (Some(patch), false) = (&p.patch, p.change.is_empty()) {
            send(&api, &p.change.service_account, patch, dry_run).await?;
        }
        Ok(p.change)
    };
    retry::planned(plan.clone(), again, write).await
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
    let edit = LinkEdit::Add {
        secrets: secrets.to_vec(),
        for_,
    };
    modify(cluster, namespace, sa, dry_run, &edit).await
}

/// Removes `secrets` from both lists of `sa`.
pub async fn unlink(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    secrets: &[String],
    dry_run: DryRun,
) -> Result<LinkChange, ClusterError> {
    let edit = LinkEdit::Remove {
        secrets: secrets.to_vec(),
    };
    modify(cluster, namespace, sa, dry_run, &edit).await
}

/// Fresh read, the edit, conditional write when something changed; starts
/// over on a conflict.
async fn modify(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    dry_run: DryRun,
    edit: &LinkEdit,
) -> Result<LinkChange, ClusterError> {
    let first = plan(cluster, namespace, sa, edit.clone()).await?;
    write(cluster, &first, dry_run).await
}

/// Sends the merge patch (conditional on the resourceVersion it carries).
async fn send(
    api: &Api<ServiceAccount>,
    name: &str,
    patch: &ListsPatch,
    dry_run: DryRun,
) -> Result<(), ClusterError> {
    let ns = api.namespace().unwrap_or_default().to_string();
    api.patch(name, &dry_run.patch_params(), &Patch::Merge(patch))
        .await
        .map(|_| ())
        .map_err(|e| ClusterError::from_kube::<ServiceAccount>(e, &ns, name))
}

/// True when OpenShift has put the SA's own registry secret in its
/// `imagePullSecrets` (either form: [`openshift_managed`]).
pub fn has_openshift_dockercfg(sa: &ServiceAccount) -> bool {
    pull_names(sa).iter().any(|n| openshift_managed(sa, n))
}

/// True for the service accounts the cluster makes in every namespace by
/// itself, a moment after the namespace: `default` (kube-controller-
/// manager's serviceaccounts controller), and on OpenShift `builder` and
/// `deployer` (openshift-controller-manager's
/// `serviceaccounts-default-rolebindings`/`DefaultServiceAccountsController`).
/// Only these are worth waiting for; any other is made by someone.
pub fn made_by_cluster(name: &str, openshift: bool) -> bool {
    name == "default" || (openshift && (name == "builder" || name == "deployer"))
}

/// Service account `sa` is not in `namespace`: the namespace named when it
/// is the namespace that is missing, else the service account, with those
/// the namespace has.
pub async fn missing_service_account(cluster: &Cluster, namespace: &str, sa: &str) -> ClusterError {
    if let Err(e) = crate::namespaces::require(cluster, namespace).await {
        return e;
    }
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    let existing = crate::list::filter_map(&api, ListParams::default(), |s: ServiceAccount| {
        s.metadata.name
    })
    .await
    .unwrap_or_default();
    ClusterError::NoSuchServiceAccount {
        namespace: namespace.to_string(),
        name: sa.to_string(),
        existing,
    }
}

/// How long to wait for a service account, and for which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaWait {
    pub timeout: Duration,
    /// A wait was asked for (`--wait`): any name is waited for. Without
    /// one, only a service account the cluster makes itself is, so a typo
    /// fails at once.
    pub any_name: bool,
}

impl SaWait {
    /// `--wait`'s default when it is not given.
    pub const DEFAULT: Duration = Duration::from_secs(30);

    /// From `--wait`, given or not.
    pub fn from_flag(given: Option<Duration>) -> Self {
        Self {
            timeout: given.unwrap_or(Self::DEFAULT),
            any_name: given.is_some(),
        }
    }
}

/// Waits (with a watch) until service account `sa` exists — and, on
/// OpenShift, until its dockercfg secret has been provisioned, so a link
/// does not race OpenShift's controller. Without an explicit wait only a
/// service account the cluster makes itself is waited for (a new
/// namespace's `default`); any other that is missing fails at once, as
/// `oc secrets link` does. A missing namespace always fails at once.
pub async fn wait_for(
    cluster: &Cluster,
    namespace: &str,
    sa: &str,
    wait: SaWait,
) -> Result<ServiceAccount, ClusterError> {
    let timeout = wait.timeout;
    let openshift = cluster.kind().await?.is_openshift();
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), namespace);
    let ready = move |obj: Option<&ServiceAccount>| {
        obj.is_some_and(|s| !openshift || has_openshift_dockercfg(s))
    };
    let now = api
        .get_opt(sa)
        .await
        .map_err(|e| ClusterError::from_kube::<ServiceAccount>(e, namespace, sa))?;
    match now {
        Some(found) if ready(Some(&found)) => return Ok(found),
        Some(_) => {}
        None if wait.any_name || made_by_cluster(sa, openshift) => {
            crate::namespaces::require(cluster, namespace).await?;
        }
        None => return Err(missing_service_account(cluster, namespace, sa).await),
    }
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
        Ok(Err(e)) => Err(ClusterError::Unreachable {
            kind: crate::error::Transport::Other,
            source: Box::new(e),
        }),
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
