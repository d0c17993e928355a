//! What the cluster holds, for `status` and `rotate`: every pull secret with
//! the registries and usernames in it, the service accounts that link it,
//! and the image-puller grants. Lists are paged.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ListParams};

use crate::error::ClusterError;
use crate::grants::{IMAGE_PULLER, subject_name};
use crate::list::list_all;
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
    /// The logins it holds; empty when unreadable.
    pub logins: Vec<Login>,
    /// Service accounts that have it in `imagePullSecrets`.
    pub pull: Vec<String>,
    /// Service accounts that have it in `secrets`.
    pub mount: Vec<String>,
    /// Why its content could not be read, if it could not.
    pub problem: Option<String>,
}

/// One registry login in a secret (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Login {
    pub registry: String,
    pub username: String,
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
                    .map(|c| Login {
                        registry: c.registry,
                        username: c.username,
                    })
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

/// The inventory of a fleet's namespaces, or of the cluster's namespace
/// (`-n`) without a scope.
pub async fn collect_in(
    cluster: &Cluster,
    scope: Option<&crate::fleet::Scope>,
) -> Result<Inventory, ClusterError> {
    use crate::fleet::Scope;
    match scope {
        None => collect(cluster, Some(&cluster.namespace)).await,
        Some(Scope::All) => collect(cluster, None).await,
        Some(s) => {
            let only = crate::fleet::namespaces(cluster, s).await?;
            let mut inv = collect(cluster, None).await?;
            inv.secrets.retain(|s| only.contains(&s.namespace));
            inv.grants.retain(|g| only.contains(&g.namespace));
            Ok(inv)
        }
    }
}

/// Where OpenShift's image imports read registry credentials, and the
/// registries there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImageImports {
    /// `namespace/name` of the secret.
    pub source: String,
    pub registries: Vec<String>,
}

/// The secret image imports use: the global pull secret on OpenShift 4,
/// `openshift/imagestreamsecret` on 3.x; `None` on Kubernetes.
pub async fn image_imports(cluster: &Cluster) -> Result<Option<ImageImports>, ClusterError> {
    use crate::discovery::ClusterKind;
    let (ns, name) = match cluster.kind().await? {
        ClusterKind::Kubernetes => return Ok(None),
        ClusterKind::OpenShift4 => (crate::global::NAMESPACE, crate::global::NAME),
        ClusterKind::OpenShift3 => (IMAGESTREAM_NAMESPACE, IMAGESTREAM_SECRET),
    };
    let registries = crate::pullsecret::get(cluster, ns, name)
        .await?
        .and_then(|s| credentials_of(&s).ok())
        .map(|creds| creds.into_iter().map(|c| c.registry).collect())
        .unwrap_or_default();
    Ok(Some(ImageImports {
        source: format!("{ns}/{name}"),
        registries,
    }))
}

/// Where OKD / OpenShift 3.11 image imports find registry credentials.
pub const IMAGESTREAM_NAMESPACE: &str = "openshift";
pub const IMAGESTREAM_SECRET: &str = "imagestreamsecret";
