//! What the cluster holds, for `status` and `rotate`: every pull secret with
//! the registries and usernames in it, the service accounts that link it,
//! and the image-puller grants. Lists are paged.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use crate::error::ClusterError;
use crate::grants::{IMAGE_PULLER, subject_name};
use crate::pullsecret::{credentials_of, is_managed};
use crate::{Cluster, secret_types};

/// One pull secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PullSecretInfo {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub managed: bool,
    /// `(registry, username)` pairs; empty when unreadable.
    pub logins: Vec<(String, String)>,
    /// Service accounts that have it in `imagePullSecrets`.
    pub pull: Vec<String>,
    /// Service accounts that have it in `secrets`.
    pub mount: Vec<String>,
    /// Why its content could not be read, if it could not.
    pub problem: Option<String>,
}

/// One image-puller grant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GrantInfo {
    pub namespace: String,
    pub binding: String,
    pub subjects: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Inventory {
    pub secrets: Vec<PullSecretInfo>,
    pub grants: Vec<GrantInfo>,
}

/// Lists `api` page by page: 500 at a time, as kubectl does, unless the
/// caller's params carry a limit of their own.
pub async fn list_all<K>(api: &Api<K>, params: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut params = if params.limit.is_some() {
        params
    } else {
        params.limit(500)
    };
    loop {
        let page = api.list(&params).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}

fn api<K>(cluster: &Cluster, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    }
}

/// The inventory of one namespace, or of all when `namespace` is `None`.
pub async fn collect(
    cluster: &Cluster,
    namespace: Option<&str>,
) -> Result<Inventory, ClusterError> {
    let where_ = namespace.unwrap_or("");
    let secrets: Vec<Secret> = list_all(&api(cluster, namespace), ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube(e, "secret", where_, ""))?;
    let sas: Vec<ServiceAccount> = list_all(&api(cluster, namespace), ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube(e, "serviceaccount", where_, ""))?;
    let bindings: Vec<RoleBinding> = list_all(&api(cluster, namespace), ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube(e, "rolebinding", where_, ""))?;

    let mut inv = Inventory::default();
    for s in secrets {
        let ty = s.type_.clone().unwrap_or_default();
        if ty != secret_types::DOCKER_CONFIG_JSON && ty != secret_types::DOCKERCFG {
            continue;
        }
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        let name = s.metadata.name.clone().unwrap_or_default();
        let linking = |pick: fn(&ServiceAccount) -> Vec<String>| -> Vec<String> {
            sas.iter()
                .filter(|sa| {
                    sa.metadata.namespace.as_deref() == Some(ns.as_str())
                        && pick(sa).contains(&name)
                })
                .filter_map(|sa| sa.metadata.name.clone())
                .collect()
        };
        let (logins, problem) = match credentials_of(&s) {
            Ok(creds) => (
                creds
                    .into_iter()
                    .map(|c| (c.registry, c.username))
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        inv.secrets.push(PullSecretInfo {
            managed: is_managed(&s),
            pull: linking(|sa| {
                sa.image_pull_secrets
                    .iter()
                    .flatten()
                    .map(|r| r.name.clone())
                    .collect()
            }),
            mount: linking(|sa| {
                sa.secrets
                    .iter()
                    .flatten()
                    .filter_map(|r| r.name.clone())
                    .collect()
            }),
            namespace: ns,
            name,
            type_: ty,
            logins,
            problem,
        });
    }
    for rb in bindings
        .into_iter()
        .filter(|rb| rb.role_ref.kind == "ClusterRole" && rb.role_ref.name == IMAGE_PULLER)
    {
        inv.grants.push(GrantInfo {
            namespace: rb.metadata.namespace.clone().unwrap_or_default(),
            binding: rb.metadata.name.clone().unwrap_or_default(),
            subjects: rb.subjects.iter().flatten().map(subject_name).collect(),
        });
    }
    Ok(inv)
}
