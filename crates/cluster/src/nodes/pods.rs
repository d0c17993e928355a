//! A pod as the kubelet sees it when it pulls an image.
//!
//! The ServiceAccount admission plugin copies the service account's
//! `imagePullSecrets` into a pod when the pod is created (only when the pod
//! names none itself); from then on the kubelet reads the pod's own list,
//! so linking a secret later fixes new pods, not this one. For each image
//! the kubelet builds one keyring from all of the pod's secrets and a
//! second from the node's own credentials, and tries every matching
//! credential of the first, then of the second (kubernetes
//! `pkg/credentialprovider/secrets.MakeDockerKeyring`: a
//! `UnionDockerKeyring{podSecrets, node}`; each keyring returns matches
//! most specific key first, and for one key, in the order the secrets were
//! added). With no match at all it pulls anonymously.
//!
//! The node's credentials: on OpenShift 4 the Machine Config Operator
//! writes the global pull secret (`openshift-config/pull-secret`) to
//! `/var/lib/kubelet/config.json` on every node, pool by pool. What a node
//! has now is in the MachineConfig its daemon last applied (the node's
//! `currentConfig` annotation), so that is read when it can be; a node the
//! rollout has not reached yet still has the previous credentials. On
//! Kubernetes and OpenShift 3.11 they are the kubelet's own `config.json`
//! and credential provider plugins, which the API does not show.

use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams};
use rhpull_core::Credential;
use rhpull_core::imageref::kubelet_matches;
use rhpull_core::sso::CheckReport;

use crate::Cluster;
use crate::discovery::ClusterKind;
use crate::error::ClusterError;
use crate::nodes::machineconfig::{self, RegistryAgreement};
use crate::pullsecret;

/// Where a credential the kubelet tries comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// One of the pod's `imagePullSecrets`.
    PodSecret { name: String },
    /// The node's credentials: the global pull secret, on OpenShift 4.
    Node { secret: String },
    /// The node's credentials file as its current rendered config wrote it.
    NodeFile { node: String, config: String },
}

/// One credential with where it is and the key it is filed under.
#[derive(Clone, Debug)]
pub struct Keyed {
    pub source: Source,
    pub key: String,
    pub credential: Credential,
}

/// The node's credentials, as far as the API shows them.
#[derive(Clone, Debug, Default)]
pub enum NodeCredentials {
    /// OpenShift 4: the global pull secret, on every node (when the node's
    /// own file cannot be read).
    GlobalPullSecret(Vec<Keyed>),
    /// OpenShift 4: the node's file, from its current rendered config.
    NodeFile(NodeFile),
    /// Kubernetes and OpenShift 3.11: not readable through the API.
    #[default]
    Unknown,
}

/// What one node's kubelet has, and where that differs from the global
/// pull secret.
#[derive(Clone, Debug)]
pub struct NodeFile {
    pub node: String,
    /// The rendered MachineConfig the node runs.
    pub config: String,
    pub keyed: Vec<Keyed>,
    /// Registries whose entry on the node is not the global pull secret's.
    pub behind: Vec<RegistryAgreement>,
}

impl NodeFile {
    /// The registries behind on this node that `image` would use.
    pub fn behind_for(&self, image: &str) -> Vec<&RegistryAgreement> {
        let keys: Vec<&str> = self.behind.iter().map(|a| a.registry.as_str()).collect();
        let matching = kubelet_matches(keys, image);
        self.behind
            .iter()
            .filter(|a| matching.contains(&a.registry.as_str()))
            .collect()
    }
}

/// The controller that makes a pod again when it is deleted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Owner {
    pub kind: String,
    pub name: String,
}

/// Kinds whose controller makes a deleted pod again.
const REMAKERS: &[&str] = &[
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicationController",
];

/// A pod, its service account, and every credential the kubelet could use.
#[derive(Clone, Debug)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    pub node: Option<String>,
    /// Its controller (`ownerReferences` with `controller: true`) when that
    /// makes a deleted pod again; `None`: a bare pod.
    pub owner: Option<Owner>,
    /// The pod's own `imagePullSecrets`, in order.
    pub pod_secrets: Vec<String>,
    /// Pod secrets that do not exist.
    pub missing_secrets: Vec<String>,
    /// Secrets the service account has and the pod lacks: linked after the
    /// pod was created, so only a new pod gets them.
    pub recreate_needed: Vec<String>,
    /// True when the pod's secrets are its service account's (none, or
    /// each one the service account holds): a pod made again gets the
    /// service account's list, so a link reaches it.
    pub from_service_account: bool,
    /// Images of the init containers, then of the containers, each once.
    pub images: Vec<String>,
    pub pod_credentials: Vec<Keyed>,
    pub node_credentials: NodeCredentials,
}

impl PodView {
    /// What the kubelet tries for `image`, in its order: the pod secrets'
    /// matches, then the node's.
    pub fn candidates(&self, image: &str) -> Vec<&Keyed> {
        let node: &[Keyed] = match &self.node_credentials {
            NodeCredentials::GlobalPullSecret(node) => node,
            NodeCredentials::NodeFile(file) => &file.keyed,
            NodeCredentials::Unknown => &[],
        };
        self.candidates_with(image, node)
    }

    /// The pod secrets' matches for `image`, then those of `node`'s keyring.
    pub fn candidates_with<'a>(&'a self, image: &str, node: &'a [Keyed]) -> Vec<&'a Keyed> {
        let mut out = in_kubelet_order(&self.pod_credentials, image);
        out.extend(in_kubelet_order(node, image));
        out
    }
}

/// The controller that remakes `pod`, if any.
fn owner_of(pod: &Pod) -> Option<Owner> {
    (pod.metadata.owner_references.iter().flatten())
        .find(|o| o.controller == Some(true) && REMAKERS.contains(&o.kind.as_str()))
        .map(|o| Owner {
            kind: o.kind.clone(),
            name: o.name.clone(),
        })
}

/// One keyring's matches for `image`: most specific key first; for one
/// key, every credential filed under it, in the order given.
pub(crate) fn in_kubelet_order<'a>(keyring: &'a [Keyed], image: &str) -> Vec<&'a Keyed> {
    let mut keys: Vec<&str> = keyring.iter().map(|k| k.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    kubelet_matches(keys, image)
        .into_iter()
        .flat_map(|key| keyring.iter().filter(move |k| k.key == key))
        .collect()
}

/// Every credential in a pull secret, filed under its key, as from `source`.
pub(crate) fn keyed(secret: &Secret, source: &Source) -> Vec<Keyed> {
    keyed_credentials(
        pullsecret::credentials_of(secret).unwrap_or_default(),
        source,
    )
}

/// Credentials filed under their keys, as from `source`.
pub fn keyed_credentials(credentials: Vec<Credential>, source: &Source) -> Vec<Keyed> {
    credentials
        .into_iter()
        .map(|c| Keyed {
            source: source.clone(),
            key: c.registry.clone(),
            credential: c,
        })
        .collect()
}

/// Rendered configs' credentials files, each read once.
pub type Files = std::collections::BTreeMap<String, Option<Vec<Credential>>>;

/// What `node`'s kubelet has: the credentials file of the rendered config
/// its daemon last applied (its `currentConfig`), compared with the global
/// pull secret. `None` when that cannot be read (no annotation, no
/// permission): the caller keeps the global pull secret.
pub async fn node_file(
    cluster: &Cluster,
    node: &k8s_openapi::api::core::v1::Node,
    global: &[Keyed],
    files: &mut Files,
) -> Option<NodeFile> {
    let name = node.metadata.name.clone()?;
    let config = (node.metadata.annotations.as_ref()?)
        .get(crate::rollout::CURRENT_CONFIG)?
        .clone();
    if !files.contains_key(&config) {
        let read = match machineconfig::get(cluster, &config).await {
            Ok(Some(mc)) => match machineconfig::kubelet_file(&mc) {
                machineconfig::NodeFile::Credentials(c) => Some(c),
                _ => None,
            },
            _ => None,
        };
        files.insert(config.clone(), read);
    }
    let on_node = files.get(&config)?.clone()?;
    let global: Vec<Credential> = global.iter().map(|k| k.credential.clone()).collect();
    let behind = machineconfig::compare(&global, &on_node)
        .into_iter()
        .filter(|a| a.agreement != machineconfig::Agreement::Same)
        .collect();
    let source = Source::NodeFile {
        node: name.clone(),
        config: config.clone(),
    };
    Some(NodeFile {
        node: name,
        config,
        keyed: keyed_credentials(on_node, &source),
        behind,
    })
}

/// The pod's side of [`crate::pullplan::pod_view`], for a pod already read: its service account
/// and secrets read one by one. The node's credentials are left
/// [`NodeCredentials::Unknown`] for the caller to fill in once.
pub async fn view_of(cluster: &Cluster, pod: &Pod) -> Result<PodView, ClusterError> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let sa_name = service_account_of(pod);
    let sas: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &ns);
    let sa = sas
        .get_opt(&sa_name)
        .await
        .map_err(|e| ClusterError::from_kube::<ServiceAccount>(e, &ns, &sa_name))?;
    let mut secrets = std::collections::HashMap::new();
    for name in pod_secret_names(pod) {
        if let Some(s) = pullsecret::get(cluster, &ns, &name).await? {
            secrets.insert((ns.clone(), name), s);
        }
    }
    Ok(PodView::from_parts(pod, sa.as_ref(), &secrets))
}

/// `spec.serviceAccountName`, `default` when unset.
pub fn service_account_of(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into())
}

fn pod_secret_names(pod: &Pod) -> Vec<String> {
    let refs = pod
        .spec
        .iter()
        .flat_map(|s| s.image_pull_secrets.iter().flatten());
    refs.map(|r| r.name.clone()).collect()
}

/// The permission deleting pods in `namespace` needs.
pub fn delete_need(namespace: &str) -> crate::access::Need {
    crate::access::Need::on::<Pod>(crate::access::Verb::Delete, Some(namespace))
}

/// The right [`delete_alike`] needs in `namespace`.
pub fn delete_alike_need(namespace: &str) -> crate::access::Need {
    crate::access::Need::on::<Pod>(crate::access::Verb::DeleteCollection, Some(namespace))
}

/// Labels a controller sets on each pod it makes, apart for each of its
/// templates (`pod-template-hash`: a Deployment's ReplicaSet;
/// `controller-revision-hash`: a StatefulSet's or DaemonSet's revision;
/// `batch.kubernetes.io/controller-uid`, or `controller-uid` before
/// Kubernetes 1.27: a Job). Pods with the same labels and one of these
/// come from one template of one controller.
const TEMPLATE_LABELS: [&str; 4] = [
    "pod-template-hash",
    "controller-revision-hash",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
];

/// The label selector that picks out the pods of one controller's
/// template with exactly `labels`; `None` when `labels` do not tell one
/// template from another (then only a delete by name is safe).
pub fn template_selector(labels: &std::collections::BTreeMap<String, String>) -> Option<String> {
    if !TEMPLATE_LABELS.iter().any(|l| labels.contains_key(*l)) {
        return None;
    }
    let terms: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(terms.join(","))
}

/// Deletes, in one request, the pods of `namespace` still `Pending` whose
/// labels are `selector` (a [`template_selector`]): the failing pods of
/// one controller's template, for it to make again. The names deleted.
pub async fn delete_alike(
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    dry_run: crate::DryRun,
) -> Result<Vec<String>, ClusterError> {
    let params = ListParams::default()
        .labels(selector)
        .fields("status.phase=Pending");
    if dry_run == crate::DryRun::Client {
        return Ok(Vec::new());
    }
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    match api
        .delete_collection(&dry_run.delete_params(), &params)
        .await
    {
        Ok(either) => Ok(either
            .left()
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|p| p.metadata.name)
                    .collect()
            })
            .unwrap_or_default()),
        Err(e) => Err(ClusterError::from_kube::<Pod>(e, namespace, "")),
    }
}

/// Deletes a pod so that its controller makes it again; a pod already
/// gone is done.
pub async fn delete(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    dry_run: crate::DryRun,
) -> Result<(), ClusterError> {
    if dry_run == crate::DryRun::Client {
        return Ok(());
    }
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    match api.delete(name, &dry_run.delete_params()).await {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_not_found::<Pod>(&e) => Ok(()),
        Err(e) => Err(ClusterError::from_kube::<Pod>(e, namespace, name)),
    }
}

/// Secrets already read, by `(namespace, name)`.
pub type SecretsByName = std::collections::HashMap<(String, String), Secret>;

impl PodView {
    /// The view of a pod from objects already read: its service account (if
    /// it exists) and the pull secrets of its namespace. The node's
    /// credentials are left [`NodeCredentials::Unknown`].
    pub fn from_parts(pod: &Pod, sa: Option<&ServiceAccount>, secrets: &SecretsByName) -> Self {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let pod_secrets = pod_secret_names(pod);
        let sa_secrets: Vec<String> = (sa.iter())
            .flat_map(|s| s.image_pull_secrets.iter().flatten())
            .map(|r| r.name.clone())
            .collect();
        // The ServiceAccount admission plugin copies the service account's
        // list only into a pod that names none of its own (kubernetes
        // `plugin/pkg/admission/serviceaccount/admission.go`): a pod whose
        // secrets the service account does not hold named them itself, and
        // one made again will name them again.
        let from_service_account = pod_secrets.iter().all(|s| sa_secrets.contains(s));
        let recreate_needed = if from_service_account {
            (sa_secrets.into_iter())
                .filter(|s| !pod_secrets.contains(s))
                .collect()
        } else {
            Vec::new()
        };
        let (mut pod_credentials, mut missing_secrets) = (Vec::new(), Vec::new());
        for name in &pod_secrets {
            match secrets.get(&(ns.clone(), name.clone())) {
                None => missing_secrets.push(name.clone()),
                Some(secret) => {
                    let source = Source::PodSecret { name: name.clone() };
                    pod_credentials.extend(keyed(secret, &source));
                }
            }
        }
        let mut images: Vec<String> = Vec::new();
        let containers = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers);
        for image in containers.filter_map(|c| c.image.clone()) {
            if !images.contains(&image) {
                images.push(image);
            }
        }
        Self {
            name: pod.metadata.name.clone().unwrap_or_default(),
            namespace: ns,
            service_account: service_account_of(pod),
            node: spec.node_name.clone(),
            owner: owner_of(pod),
            pod_secrets,
            missing_secrets,
            recreate_needed,
            from_service_account,
            images,
            pod_credentials,
            node_credentials: NodeCredentials::Unknown,
        }
    }
}

/// The node's credentials as the API shows them.
pub async fn node_credentials(cluster: &Cluster) -> Result<NodeCredentials, ClusterError> {
    if cluster.kind().await? != ClusterKind::OpenShift4 {
        return Ok(NodeCredentials::Unknown);
    }
    // Hosted: what HyperShift's syncer writes to the nodes, the merged
    // secret when there is one (`crate::hosted::nodes_secret`).
    let secret = if cluster.hosted().await {
        crate::hosted::nodes_secret(cluster).await?
    } else {
        pullsecret::get(cluster, crate::global::NAMESPACE, crate::global::NAME).await?
    };
    Ok(match secret {
        Some(secret) => {
            let (ns, name) = (&secret.metadata.namespace, &secret.metadata.name);
            let source = Source::Node {
                secret: format!(
                    "{}/{}",
                    ns.as_deref().unwrap_or_default(),
                    name.as_deref().unwrap_or_default()
                ),
            };
            NodeCredentials::GlobalPullSecret(keyed(&secret, &source))
        }
        None => NodeCredentials::Unknown,
    })
}

/// One endpoint checked with one login, and how it went.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attempt {
    /// The reference asked for: a mirror's, or the image itself.
    pub endpoint: String,
    pub mirror: bool,
    pub source: Option<Source>,
    pub key: Option<String>,
    pub report: CheckReport,
}

/// What the node's pull of one image would meet.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImageCheck {
    pub image: String,
    /// Every credential the kubelet would try at the source, in its order.
    pub tried: Vec<Tried>,
    /// The checks run: mirrors, then the source's candidates, until one
    /// serves the image (one anonymous check when nothing matches).
    pub attempts: Vec<Attempt>,
    /// The cluster's image policy refuses the image: nothing was asked.
    pub refused: Option<rhpull_core::mirrors::Refusal>,
    /// Endpoints not contacted, and why.
    pub blocked: Vec<(String, rhpull_core::mirrors::EndpointBlock)>,
    /// The reference the node would pull from, when one works.
    pub served_by: Option<String>,
    pub passed: bool,
}

/// A candidate named for reports (never its secret).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tried {
    pub source: Source,
    pub key: String,
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(secret: &str, key: &str, user: &str) -> Keyed {
        Keyed {
            source: Source::PodSecret {
                name: secret.into(),
            },
            key: key.into(),
            credential: Credential::new(key, user, "t"),
        }
    }

    #[test]
    fn only_a_pod_with_its_service_accounts_secrets_gets_a_later_link_when_made_again() {
        let pod_with = |secrets: &[&str]| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "p", "namespace": "ns"},
                "spec": {"serviceAccountName": "default", "containers": [{"name": "c", "image": "quay.io/a/b"}],
                         "imagePullSecrets": secrets.iter().map(|s| serde_json::json!({"name": s})).collect::<Vec<_>>()}
            }))
            .expect("pod")
        };
        let sa: ServiceAccount = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "default", "namespace": "ns"},
            "imagePullSecrets": [{"name": "old"}, {"name": "new"}]
        }))
        .expect("sa");
        let none = SecretsByName::new();
        // Copied from the service account at creation (or none at all).
        for secrets in [&["old"][..], &[]] {
            let view = PodView::from_parts(&pod_with(secrets), Some(&sa), &none);
            assert!(view.from_service_account);
            assert!(view.recreate_needed.contains(&"new".to_string()));
        }
        // Named by the pod itself: the admission plugin leaves it so.
        let view = PodView::from_parts(&pod_with(&["own"]), Some(&sa), &none);
        assert!(!view.from_service_account);
        assert!(view.recreate_needed.is_empty());
    }

    #[test]
    fn the_kubelet_tries_the_most_specific_key_first_and_every_secret_with_it() {
        let pod = [
            k("a", "quay.io", "host-a"),
            k("b", "quay.io/org", "org-b"),
            k("c", "quay.io", "host-c"),
            k("d", "registry.redhat.io", "rh"),
        ];
        let order: Vec<&str> = in_kubelet_order(&pod, "quay.io/org/app:1")
            .iter()
            .map(|k| k.credential.username.as_str())
            .collect();
        assert_eq!(order, ["org-b", "host-a", "host-c"]);
        assert!(in_kubelet_order(&pod, "docker.io/library/x").is_empty());
    }

    #[test]
    fn node_credentials_come_after_the_pods_own() {
        let node = Keyed {
            source: Source::Node {
                secret: "openshift-config/pull-secret".into(),
            },
            ..k("-", "quay.io", "node")
        };
        let view = PodView {
            name: "p".into(),
            namespace: "ns".into(),
            service_account: "default".into(),
            node: None,
            owner: None,
            pod_secrets: vec!["a".into()],
            missing_secrets: Vec::new(),
            recreate_needed: Vec::new(),
            from_service_account: true,
            images: vec!["quay.io/org/app".into()],
            pod_credentials: vec![k("a", "quay.io/org", "pod")],
            node_credentials: NodeCredentials::GlobalPullSecret(vec![node]),
        };
        let users: Vec<&str> = view
            .candidates("quay.io/org/app")
            .iter()
            .map(|k| k.credential.username.as_str())
            .collect();
        assert_eq!(users, ["pod", "node"]);
    }
}
