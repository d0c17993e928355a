//! Cross-project pulls as OpenShift grants them: a RoleBinding in project B
//! to the ClusterRole `system:image-puller` for `system:serviceaccount:A:SA`
//! (one or more service accounts) or for the group
//! `system:serviceaccounts:A` (all of A's service accounts) — what
//! `oc policy add-role-to-user system:image-puller … -n B` does. Granting is
//! idempotent; revoking removes only that subject from any binding to the
//! role, deleting a binding it leaves empty.

use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding, RoleRef, Subject};
use kube::api::{Api, ListParams, ObjectMeta};

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
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GrantChange {
    pub namespace: String,
    pub binding: String,
    /// Subjects as RBAC names them (`system:serviceaccount:a:default`).
    pub subjects: Vec<String>,
    pub deleted_binding: bool,
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
        .map_err(|e| ClusterError::from_kube(e, "clusterrole", "", IMAGE_PULLER))?
    {
        Some(_) => Ok(()),
        None => Err(ClusterError::NoImagePullerRole),
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
    let api: Api<RoleBinding> = Api::namespaced(cluster.client.clone(), to);
    let wanted = subjects(from, grantee);
    let name = binding_name(from);
    retry::on_conflict(|| async {
        let all = api
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::from_kube(e, "rolebinding", to, ""))?;
        let already = |s: &Subject| {
            all.items
                .iter()
                .filter(|rb| is_image_puller(rb))
                .any(|rb| rb.subjects.iter().flatten().any(|x| same_subject(x, s)))
        };
        let missing: Vec<Subject> = wanted.iter().filter(|s| !already(s)).cloned().collect();
        let mut change = GrantChange {
            namespace: to.to_string(),
            binding: name.clone(),
            ..GrantChange::default()
        };
        if missing.is_empty() {
            return Ok(change);
        }
        change.subjects = missing.iter().map(subject_name).collect();
        if dry_run == DryRun::Client {
            return Ok(change);
        }
        let existing = all
            .items
            .iter()
            .find(|rb| rb.metadata.name.as_deref() == Some(name.as_str()))
            .cloned();
        let result = match existing {
            Some(mut rb) => {
                rb.subjects.get_or_insert_with(Vec::new).extend(missing);
                api.replace(&name, &dry_run.post_params(), &rb).await
            }
            None => {
                let rb = RoleBinding {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(to.to_string()),
                        labels: Some(
                            [(MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string())].into(),
                        ),
                        ..ObjectMeta::default()
                    },
                    role_ref: RoleRef {
                        api_group: RBAC.into(),
                        kind: "ClusterRole".into(),
                        name: IMAGE_PULLER.into(),
                    },
                    subjects: Some(missing),
                };
                api.create(&dry_run.post_params(), &rb).await
            }
        };
        result
            .map(|_| change)
            .map_err(|e| conflict_or(e, to, &name))
    })
    .await
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
        ClusterError::from_kube(e, "rolebinding", ns, name)
    }
}

/// Takes `grantee` of `from` out of every image-puller binding in `to`.
pub async fn revoke(
    cluster: &Cluster,
    from: &str,
    to: &str,
    grantee: &Grantee,
    dry_run: DryRun,
) -> Result<Vec<GrantChange>, ClusterError> {
    let api: Api<RoleBinding> = Api::namespaced(cluster.client.clone(), to);
    let unwanted = subjects(from, grantee);
    retry::on_conflict(|| async {
        let all = api
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::from_kube(e, "rolebinding", to, ""))?;
        let mut changes = Vec::new();
        for mut rb in all.items.into_iter().filter(is_image_puller) {
            let name = rb.metadata.name.clone().unwrap_or_default();
            let before: Vec<Subject> = rb.subjects.clone().unwrap_or_default();
            let (gone, kept): (Vec<Subject>, Vec<Subject>) = before
                .into_iter()
                .partition(|s| unwanted.iter().any(|u| same_subject(s, u)));
            if gone.is_empty() {
                continue;
            }
            let change = GrantChange {
                namespace: to.to_string(),
                binding: name.clone(),
                subjects: gone.iter().map(subject_name).collect(),
                deleted_binding: kept.is_empty(),
            };
            if dry_run != DryRun::Client {
                let result = if kept.is_empty() {
                    api.delete(&name, &dry_run.delete_params())
                        .await
                        .map(|_| ())
                } else {
                    rb.subjects = Some(kept);
                    api.replace(&name, &dry_run.post_params(), &rb)
                        .await
                        .map(|_| ())
                };
                result.map_err(|e| conflict_or(e, to, &name))?;
            }
            changes.push(change);
        }
        Ok(changes)
    })
    .await
}
