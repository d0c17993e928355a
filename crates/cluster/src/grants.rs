//! Cross-project pulls as OpenShift grants them: a RoleBinding in project B
//! to the ClusterRole `system:image-puller` for `system:serviceaccount:A:SA`
//! (one or more service accounts) or for the group
//! `system:serviceaccounts:A` (all of A's service accounts) — what
//! `oc policy add-role-to-user system:image-puller … -n B` does. Granting is
//! idempotent; revoking removes only that subject from any binding to the
//! role, deleting a binding it leaves empty.

use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding, RoleRef, Subject};
use kube::api::{Api, ListParams, ObjectMeta};

use crate::access::{Need, Verb};
use crate::error::{ClusterError, is_conflict};
use crate::{Cluster, DryRun, MANAGED_BY, MANAGED_BY_LABEL, retry};

pub const IMAGE_PULLER: &str = "system:image-puller";
const RBAC: &str = "rbac.authorization.k8s.io";

/// Who in project A gets to pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantee {
    ServiceAccounts(Vec<String>),
    AllServiceAccounts,
}

/// What a grant or revoke changed in project B.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GrantChange {
    pub namespace: String,
    pub binding: String,
    /// Every subject of the binding once written, as `status` lists them
    /// (as RBAC names them: `system:serviceaccount:a:default`).
    pub subjects: Vec<String>,
    /// The subjects this run added (grant) or took away (revoke).
    pub changed: Vec<String>,
    pub outcome: BindingOutcome,
}

/// What a grant or revoke did to one binding, in kubectl's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingOutcome {
    Created,
    Configured,
    Unchanged,
    /// A revoke took the binding's last subject: the binding went.
    Deleted,
}

/// The binding rhpull keeps in B for pulls from A.
pub fn binding_name(from: &str) -> String {
    format!("image-puller-from-{from}")
}

pub fn subjects(from: &str, grantee: &Grantee) -> Vec<Subject> {
    match grantee {
        Grantee::AllServiceAccounts => vec![Subject {
            kind: "Group".into(),
            api_group: Some(RBAC.into()),
            name: format!("system:serviceaccounts:{from}"),
            namespace: None,
        }],
        Grantee::ServiceAccounts(names) => names
            .iter()
            .map(|n| Subject {
                kind: "ServiceAccount".into(),
                api_group: None,
                name: n.clone(),
                namespace: Some(from.to_string()),
            })
            .collect(),
    }
}

/// `system:serviceaccount:a:default` or `system:serviceaccounts:a`.
pub fn subject_name(s: &Subject) -> String {
    match (s.kind.as_str(), &s.namespace) {
        ("ServiceAccount", Some(ns)) => format!("system:serviceaccount:{ns}:{}", s.name),
        _ => s.name.clone(),
    }
}

fn same_subject(a: &Subject, b: &Subject) -> bool {
    a.kind == b.kind
        && a.name == b.name
        && (a.kind != "ServiceAccount" || a.namespace == b.namespace)
}

fn is_image_puller(rb: &RoleBinding) -> bool {
    rb.role_ref.kind == "ClusterRole" && rb.role_ref.name == IMAGE_PULLER
}

/// Fails with a clear cause when the cluster has no `system:image-puller`.
pub async fn require_role(cluster: &Cluster) -> Result<(), ClusterError> {
    let api: Api<ClusterRole> = Api::all(cluster.client.clone());
    match api
        .get_opt(IMAGE_PULLER)
        .await
        .map_err(|e| ClusterError::from_kube::<ClusterRole>(e, "", IMAGE_PULLER))?
    {
        Some(_) => Ok(()),
        None => Err(ClusterError::NoImagePullerRole),
    }
}

/// One RoleBinding write a grant or revoke makes.
#[derive(Clone, Debug)]
enum BindingWrite {
    Create(RoleBinding),
    /// The binding with its new subjects (and the resourceVersion read).
    Replace(RoleBinding),
    Delete(String),
}

impl BindingWrite {
    fn need(&self, namespace: &str) -> Need {
        let verb = match self {
            Self::Create(_) => Verb::Create,
            Self::Replace(_) => Verb::Update,
            Self::Delete(_) => Verb::Delete,
        };
        Need::on::<RoleBinding>(verb, Some(namespace))
    }
}

/// What a grant or revoke will change in one project.
#[derive(Clone, Debug)]
pub struct GrantPlan {
    /// Changes per binding (a grant has one at most).
    pub changes: Vec<GrantChange>,
    to: String,
    writes: Vec<BindingWrite>,
}

impl GrantPlan {
    pub fn needs(&self) -> Vec<Need> {
        self.writes.iter().map(|w| w.need(&self.to)).collect()
    }

    /// True when nothing will be written.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Whether a plan adds or takes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Grant,
    Revoke,
}

/// Plans letting `grantee` of `from` pull images from `to` (or, revoking,
/// no longer): one list of `to`'s RoleBindings.
pub async fn plan(
    cluster: &Cluster,
    direction: Direction,
    from: &str,
    to: &str,
    grantee: &Grantee,
) -> Result<GrantPlan, ClusterError> {
    let api: Api<RoleBinding> = Api::namespaced(cluster.client.clone(), to);
    let all = api
        .list(&ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube::<RoleBinding>(e, to, ""))?
        .items;
    let subjects = subjects(from, grantee);
    Ok(match direction {
        Direction::Grant => plan_grant(all, from, to, &subjects),
        Direction::Revoke => plan_revoke(all, to, &subjects),
    })
}

fn plan_grant(all: Vec<RoleBinding>, from: &str, to: &str, wanted: &[Subject]) -> GrantPlan {
    let name = binding_name(from);
    let already = |s: &Subject| {
        all.iter()
            .filter(|rb| is_image_puller(rb))
            .any(|rb| rb.subjects.iter().flatten().any(|x| same_subject(x, s)))
    };
    let missing: Vec<Subject> = wanted.iter().filter(|s| !already(s)).cloned().collect();
    let existing = all
        .into_iter()
        .find(|rb| rb.metadata.name.as_deref() == Some(name.as_str()));
    let names = |rb: &RoleBinding| rb.subjects.iter().flatten().map(subject_name).collect();
    let mut plan = GrantPlan {
        changes: vec![GrantChange {
            namespace: to.to_string(),
            binding: name.clone(),
            subjects: existing.as_ref().map(names).unwrap_or_default(),
            changed: missing.iter().map(subject_name).collect(),
            outcome: BindingOutcome::Unchanged,
        }],
        to: to.to_string(),
        writes: Vec::new(),
    };
    if missing.is_empty() {
        // Granted already (by this binding or another image-puller one).
        if plan.changes[0].subjects.is_empty() {
            plan.changes[0].subjects = wanted.iter().map(subject_name).collect();
        }
        return plan;
    }
    let (write, outcome) = match existing {
        Some(mut rb) => {
            rb.subjects.get_or_insert_with(Vec::new).extend(missing);
            (BindingWrite::Replace(rb), BindingOutcome::Configured)
        }
        None => (
            BindingWrite::Create(new_binding(&name, to, missing)),
            BindingOutcome::Created,
        ),
    };
    let change = &mut plan.changes[0];
    change.outcome = outcome;
    change.subjects = match &write {
        BindingWrite::Create(rb) | BindingWrite::Replace(rb) => names(rb),
        BindingWrite::Delete(_) => Vec::new(),
    };
    plan.writes.push(write);
    plan
}

fn new_binding(name: &str, namespace: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some([(MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string())].into()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: RBAC.into(),
            kind: "ClusterRole".into(),
            name: IMAGE_PULLER.into(),
        },
        subjects: Some(subjects),
    }
}

fn plan_revoke(all: Vec<RoleBinding>, to: &str, unwanted: &[Subject]) -> GrantPlan {
    let mut plan = GrantPlan {
        changes: Vec::new(),
        to: to.to_string(),
        writes: Vec::new(),
    };
    for mut rb in all.into_iter().filter(is_image_puller) {
        let name = rb.metadata.name.clone().unwrap_or_default();
        let (gone, kept): (Vec<Subject>, Vec<Subject>) = rb
            .subjects
            .take()
            .unwrap_or_default()
            .into_iter()
            .partition(|s| unwanted.iter().any(|u| same_subject(s, u)));
        if gone.is_empty() {
            continue;
        }
        plan.changes.push(GrantChange {
            namespace: to.to_string(),
            binding: name.clone(),
            subjects: kept.iter().map(subject_name).collect(),
            changed: gone.iter().map(subject_name).collect(),
            outcome: if kept.is_empty() {
                BindingOutcome::Deleted
            } else {
                BindingOutcome::Configured
            },
        });
        plan.writes.push(if kept.is_empty() {
            BindingWrite::Delete(name)
        } else {
            rb.subjects = Some(kept);
            BindingWrite::Replace(rb)
        });
    }
    plan
}

/// Carries out a plan; when a binding changed meanwhile (409, or created
/// by someone else first), `again` plans anew from a fresh list.
pub async fn write(
    cluster: &Cluster,
    plan: GrantPlan,
    dry_run: DryRun,
    again: impl AsyncFn() -> Result<GrantPlan, ClusterError>,
) -> Result<Vec<GrantChange>, ClusterError> {
    let write = async |plan: GrantPlan| {
        write_once(cluster, &plan, dry_run).await?;
        Ok(plan.changes)
    };
    retry::planned(plan, again, write).await
}

async fn write_once(
    cluster: &Cluster,
    plan: &GrantPlan,
    dry_run: DryRun,
) -> Result<(), ClusterError> {
    if dry_run == DryRun::Client {
        return Ok(());
    }
    let api: Api<RoleBinding> = Api::namespaced(cluster.client.clone(), &plan.to);
    for w in &plan.writes {
        let (result, name) = match w {
            BindingWrite::Create(rb) => (
                api.create(&dry_run.post_params(), rb).await.map(|_| ()),
                rb.metadata.name.clone().unwrap_or_default(),
            ),
            BindingWrite::Replace(rb) => {
                let name = rb.metadata.name.clone().unwrap_or_default();
                (
                    api.replace(&name, &dry_run.post_params(), rb)
                        .await
                        .map(|_| ()),
                    name,
                )
            }
            BindingWrite::Delete(name) => (
                api.delete(name, &dry_run.delete_params()).await.map(|_| ()),
                name.clone(),
            ),
        };
        result.map_err(|e| conflict_or(e, &plan.to, &name))?;
    }
    Ok(())
}

fn conflict_or(e: kube::Error, ns: &str, name: &str) -> ClusterError {
    if is_conflict(&e) || matches!(&e, kube::Error::Api(s) if s.reason == "AlreadyExists") {
        ClusterError::Conflict {
            kind: "rolebinding",
            namespace: ns.to_string(),
            name: name.to_string(),
            attempts: 1,
        }
    } else {
        ClusterError::from_kube::<RoleBinding>(e, ns, name)
    }
}

/// Lets `grantee` of project `from` pull images from project `to`.
pub async fn grant(
    cluster: &Cluster,
    from: &str,
    to: &str,
    grantee: &Grantee,
    dry_run: DryRun,
) -> Result<GrantChange, ClusterError> {
    require_role(cluster).await?;
    let again = async || plan(cluster, Direction::Grant, from, to, grantee).await;
    let first = again().await?;
    let mut changes = write(cluster, first, dry_run, again).await?;
    Ok(changes.remove(0))
}

/// Takes `grantee` of `from` out of every image-puller binding in `to`.
pub async fn revoke(
    cluster: &Cluster,
    from: &str,
    to: &str,
    grantee: &Grantee,
    dry_run: DryRun,
) -> Result<Vec<GrantChange>, ClusterError> {
    let again = async || plan(cluster, Direction::Revoke, from, to, grantee).await;
    let first = again().await?;
    write(cluster, first, dry_run, again).await
}
