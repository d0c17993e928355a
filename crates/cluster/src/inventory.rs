//! What the cluster holds, for `status` and `rotate`: every pull secret with
//! the registries and usernames in it, the service accounts that link it,
//! and the image-puller grants. Lists are paged.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ListParams};

use crate::error::ClusterError;
use crate::grants::{IMAGE_PULLER, subject_name};
use crate::list;
use crate::pullsecret::{credentials_of, is_managed};
use crate::{Cluster, MANAGED_BY, MANAGED_BY_LABEL, secret_types};

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
    pub problem: Option<crate::error::PullSecretFault>,
    /// OpenShift's own registry secret for a service account: no login of
    /// anyone's, never rotated, unlinked or called unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_registry: Option<crate::pullsecret::InternalRegistrySecret>,
    /// A copy a keeper makes and puts back (Kyverno's generate, ESO's
    /// ExternalSecret): written by it, not by hand or by rhpull.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_by: Option<crate::keepers::KeptBy>,
}

/// One registry login in a secret (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Login {
    pub registry: String,
    pub username: String,
    /// A SHA-256 of the secret, to tell whether a new one differs without
    /// keeping the secret (`rotate` lists only the secrets that change).
    #[serde(skip)]
    pub digest: SecretDigest,
}

/// The SHA-256 of a login's secret. Not the secret, and not printed.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    pub fn of(secret: &secrecy::SecretString) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(secrecy::ExposeSecret::expose_secret(secret).as_bytes()).into())
    }
}

impl std::fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretDigest(..)")
    }
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

/// Service accounts by the secrets they name: `(namespace, secret)` →
/// (those pulling with it, those mounting it). Only names are kept.
#[derive(Debug, Default)]
struct Links(HashMap<(String, String), (Vec<String>, Vec<String>)>);

impl Links {
    fn add(&mut self, sa: ServiceAccount) {
        let ns = sa.metadata.namespace.unwrap_or_default();
        let name = sa.metadata.name.unwrap_or_default();
        for r in sa.image_pull_secrets.into_iter().flatten() {
            let entry = self.0.entry((ns.clone(), r.name)).or_default();
            entry.0.push(name.clone());
        }
        for r in sa.secrets.into_iter().flatten() {
            if let Some(secret) = r.name {
                let entry = self.0.entry((ns.clone(), secret)).or_default();
                entry.1.push(name.clone());
            }
        }
    }

    fn take(&mut self, ns: &str, secret: &str) -> (Vec<String>, Vec<String>) {
        (self.0)
            .remove(&(ns.to_string(), secret.to_string()))
            .unwrap_or_default()
    }
}

/// What status shows of one pull secret: its logins, never its data.
fn info(s: Secret, links: &mut Links) -> PullSecretInfo {
    let internal_registry = crate::pullsecret::internal_registry(&s);
    let (logins, problem) = match credentials_of(&s) {
        // OpenShift's, holding its own token (4.16+ starts it as `{}`).
        _ if internal_registry.is_some() => (Vec::new(), None),
        Ok(creds) => (
            creds
                .into_iter()
                .map(|c| Login {
                    digest: SecretDigest::of(&c.secret),
                    registry: c.registry,
                    username: c.username,
                })
                .collect(),
            None,
        ),
        Err(ClusterError::BadPullSecret { problem, .. }) => (Vec::new(), Some(problem.fault())),
        Err(_) => (Vec::new(), Some(crate::error::PullSecretFault::Malformed)),
    };
    let managed = is_managed(&s);
    let kept_by = crate::keepers::kept_by(&s.metadata);
    let namespace = s.metadata.namespace.unwrap_or_default();
    let name = s.metadata.name.unwrap_or_default();
    let (pull, mount) = links.take(&namespace, &name);
    PullSecretInfo {
        managed,
        pull,
        mount,
        namespace,
        name,
        type_: s.type_.unwrap_or_default(),
        logins,
        problem,
        internal_registry,
        kept_by,
    }
}

/// The inventory of one namespace, or of all when `namespace` is `None`
/// (of those in `only`, when given). Every list is read page by page and
/// only what the inventory shows is kept of each object; pull secrets are
/// asked for by type, so the server sends no other secret.
pub async fn collect(
    cluster: &Cluster,
    namespace: Option<&str>,
    only: Option<&BTreeSet<String>>,
) -> Result<Inventory, ClusterError> {
    let where_ = namespace.unwrap_or("");
    let wanted =
        |ns: &Option<String>| only.is_none_or(|set| ns.as_ref().is_some_and(|n| set.contains(n)));
    let mut links = Links::default();
    let sas: Api<ServiceAccount> = api(cluster, namespace);
    list::for_each(&sas, ListParams::default(), |sa: ServiceAccount| {
        if wanted(&sa.metadata.namespace) {
            links.add(sa);
        }
    })
    .await
    .map_err(|e| ClusterError::from_kube::<ServiceAccount>(e, where_, ""))?;

    let mut inv = Inventory::default();
    let secrets: Api<Secret> = api(cluster, namespace);
    for ty in [secret_types::DOCKER_CONFIG_JSON, secret_types::DOCKERCFG] {
        let params = ListParams::default().fields(&format!("type={ty}"));
        list::for_each(&secrets, params, |s: Secret| {
            if wanted(&s.metadata.namespace) {
                inv.secrets.push(info(s, &mut links));
            }
        })
        .await
        .map_err(|e| ClusterError::from_kube::<Secret>(e, where_, ""))?;
    }
    inv.secrets
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    let bindings: Api<RoleBinding> = api(cluster, namespace);
    list::for_each(&bindings, ListParams::default(), |rb: RoleBinding| {
        let puller = rb.role_ref.kind == "ClusterRole" && rb.role_ref.name == IMAGE_PULLER;
        if puller && wanted(&rb.metadata.namespace) {
            inv.grants.push(GrantInfo {
                namespace: rb.metadata.namespace.clone().unwrap_or_default(),
                binding: rb.metadata.name.clone().unwrap_or_default(),
                subjects: rb.subjects.iter().flatten().map(subject_name).collect(),
            });
        }
    })
    .await
    .map_err(|e| ClusterError::from_kube::<RoleBinding>(e, where_, ""))?;
    Ok(inv)
}

/// The names of the pull secrets rhpull made in `ns` (by its label, so
/// the server sends no other).
pub async fn managed_in(cluster: &Cluster, ns: &str) -> Result<Vec<String>, ClusterError> {
    let secrets: Api<Secret> = api(cluster, Some(ns));
    let params = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    let names = list::filter_map(&secrets, params, |s: Secret| {
        let pull = matches!(
            s.type_.as_deref(),
            Some(secret_types::DOCKER_CONFIG_JSON | secret_types::DOCKERCFG)
        );
        pull.then_some(s.metadata.name).flatten()
    });
    names
        .await
        .map_err(|e| ClusterError::from_kube::<Secret>(e, ns, ""))
}

/// The inventory of a fleet's namespaces, or of the cluster's namespace
/// (`-n`) without a scope.
pub async fn collect_in(
    cluster: &Cluster,
    scope: Option<&crate::fleet::Scope>,
) -> Result<Inventory, ClusterError> {
    use crate::fleet::Scope;
    match scope {
        None => collect(cluster, Some(&cluster.namespace), None).await,
        Some(Scope::All) => collect(cluster, None, None).await,
        Some(s) => {
            let only: BTreeSet<String> = crate::fleet::namespaces(cluster, s)
                .await?
                .into_iter()
                .collect();
            collect(cluster, None, Some(&only)).await
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
