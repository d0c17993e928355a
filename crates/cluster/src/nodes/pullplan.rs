//! What a pod's kubelet and CRI-O will try to pull one image — the one
//! model `check --pod` and `check --failing` share, so they cannot
//! disagree — and the registry checks that follow it.
//!
//! For each image, in order (README.md, "How a node pulls"):
//! 1. the cluster's image policy (policy.json): refused whatever the
//!    credentials;
//! 2. the mirrors of its mirror sets, each with the node's own
//!    credentials — or, where a CRIOCredentialProviderConfig matches the
//!    image, the logins in the pod's namespace that its service account
//!    may list (`pulls`);
//! 3. the source itself, unless blocked: the pod's own `imagePullSecrets`
//!    (as they are in the pod), then the node's credentials, each tried by
//!    the kubelet in turn (`pods`);
//! 4. a copy already on the node, used without any of these only where
//!    the kubelet does not re-verify credentials (`pulls::Verification`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rhpull_core::imageref::{ImageRef, ImageRefError};
use rhpull_core::mirrors::{EndpointBlock, Refusal, Rules};
use rhpull_core::sso::{CheckOptions, CheckSetupError};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Node, Secret};
use kube::api::{Api, ListParams};

use crate::access::{self, Verb};
use crate::error::ClusterError;
use crate::nodes::pods::{
    Attempt, ImageCheck, Keyed, NodeCredentials, PodView, SecretsByName, Source, Tried,
    in_kubelet_order,
};
use crate::nodes::pulls::{CredentialProvider, Kubelet, Verification};
use crate::{Cluster, list};

/// Whether the CRI-O credential provider fetches mirror logins for an
/// image from the pod's namespace.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Provider {
    /// No CRIOCredentialProviderConfig: mirrors get the node's logins only.
    NotConfigured,
    /// Configured, but its `matchImages` does not match this image.
    NotForThisImage,
    /// It runs; `may_list_secrets`: whether the pod's service account may
    /// list the namespace's secrets (`None`: not known, no right to ask).
    Runs { may_list_secrets: Option<bool> },
}

/// One mirror CRI-O asks, and with what.
#[derive(Clone, Debug)]
pub struct MirrorStep {
    pub reference: ImageRef,
    pub blocked: Option<EndpointBlock>,
    /// The node's logins for the mirror, most specific first.
    pub node: Vec<Keyed>,
    /// Logins for the mirror in the pod's namespace: where the credential
    /// provider runs, those of the secrets it lists (what it would hand
    /// CRI-O); elsewhere the pod's own secrets', which CRI-O ignores for
    /// a mirror.
    pub namespace: Vec<Keyed>,
    pub provider: Provider,
}

impl MirrorStep {
    /// True when the credential provider hands CRI-O the namespace's
    /// login for the mirror: it runs for the image, and the service
    /// account may list the secrets (or that is not known to be refused).
    pub fn uses_namespace_login(&self) -> bool {
        let provider_ok = matches!(
            self.provider,
            Provider::Runs {
                may_list_secrets: Some(true) | None
            }
        );
        provider_ok && !self.namespace.is_empty()
    }

    /// The one login CRI-O uses for the mirror: the provider's from the
    /// namespace where it runs and may list them, else the node's.
    pub fn login(&self) -> Option<&Keyed> {
        if self.uses_namespace_login() {
            return self.namespace.first();
        }
        self.node.first()
    }
}

/// The source, and the kubelet's candidates for it.
#[derive(Clone, Debug)]
pub struct SourceStep {
    pub blocked: Option<EndpointBlock>,
    /// The pod's secrets' matches, then the node's: the kubelet's order.
    pub candidates: Vec<Keyed>,
}

/// A copy of the image on the pod's node, and whether it helps.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Cache {
    /// Not on the node (or the pod has no node).
    Absent,
    /// On the node; whether its kubelet re-verifies credentials for it.
    Cached {
        node: String,
        verification: Verification,
    },
}

/// Everything a node will try for one image of one pod.
#[derive(Clone, Debug)]
pub struct PullPlan {
    pub image: ImageRef,
    pub refused: Option<Refusal>,
    pub mirrors: Vec<MirrorStep>,
    pub source: SourceStep,
    pub cache: Cache,
}

/// Nodes whose configz is read at once: each is a request the API server
/// proxies to a kubelet, so a few in flight, not one per node of a fleet.
const CONFIGZ_AT_ONCE: usize = 8;

/// What the nodes of a cluster pull with, read once for every pod.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub rules: Rules,
    pub provider: Option<CredentialProvider>,
    pub kubelets: BTreeMap<String, Kubelet>,
    /// Each node's credentials file, where it could be read.
    pub node_files: BTreeMap<String, NodeCredentials>,
    /// Every node's, where its own file is not known: the global pull
    /// secret (OpenShift 4), or unknown.
    pub every_node: NodeCredentials,
    /// The logins in each namespace's `kubernetes.io/dockerconfigjson`
    /// secrets (what the credential provider lists), by namespace.
    pub namespace_logins: HashMap<String, Vec<Keyed>>,
    /// `(namespace, service account)`: may it list secrets there?
    pub may_list_secrets: HashMap<(String, String), Option<bool>>,
}

impl World {
    /// Reads what the nodes of `views` pull with: the cluster's rules, the
    /// credential provider, the global pull secret; one list of the nodes,
    /// each node's configz and each distinct rendered config once; and,
    /// where the provider runs, the namespaces' logins (from `secrets`
    /// when given, else one list of a namespace's dockerconfigjson
    /// secrets) and whether each service account may list them.
    pub async fn read(
        cluster: &Cluster,
        views: &[&PodView],
        secrets: Option<&SecretsByName>,
    ) -> Result<Self, ClusterError> {
        let mut world = World {
            rules: crate::nodes::pulls::rules(cluster).await?,
            provider: crate::nodes::pulls::credential_provider(cluster).await?,
            every_node: crate::nodes::pods::node_credentials(cluster).await?,
            ..World::default()
        };
        world.read_nodes(cluster, views).await;
        for (ns, sa) in provider_subjects(&world, views) {
            if !world.namespace_logins.contains_key(&ns) {
                let logins = match secrets {
                    Some(read) => logins_of(
                        &(read.iter())
                            .filter(|((n, _), _)| *n == ns)
                            .map(|(_, s)| s.clone())
                            .collect::<Vec<_>>(),
                    ),
                    None => logins_of(&dockerconfigjson_in(cluster, &ns).await?),
                };
                world.namespace_logins.insert(ns.clone(), logins);
            }
            let user = format!("system:serviceaccount:{ns}:{sa}");
            let may = access::subject_allows::<Secret>(cluster, &user, Verb::List, &ns).await;
            world.may_list_secrets.insert((ns, sa), may);
        }
        Ok(world)
    }

    /// The credentials files of the nodes `views` run on (one list of the
    /// nodes, each distinct rendered config read once), and the kubelets
    /// of those holding one of their pods' images: one configz each,
    /// [`CONFIGZ_AT_ONCE`] at a time. A node holding none of them needs no
    /// configz: nothing cached there can decide a pull.
    async fn read_nodes(&mut self, cluster: &Cluster, views: &[&PodView]) {
        let mut images_on: BTreeMap<&str, Vec<ImageRef>> = BTreeMap::new();
        for v in views {
            if let Some(node) = v.node.as_deref() {
                let refs = v.images.iter().filter_map(|i| ImageRef::parse(i).ok());
                images_on.entry(node).or_default().extend(refs);
            }
        }
        if images_on.is_empty() {
            return;
        }
        let api: Api<Node> = Api::all(cluster.client.clone());
        let nodes = crate::list::filter_map(&api, ListParams::default(), |n: Node| {
            let name = n.metadata.name.as_deref()?;
            images_on.contains_key(name).then_some(n)
        })
        .await
        .unwrap_or_default();
        if cluster.hosted().await {
            self.read_hosted_nodes(cluster, &nodes).await;
        } else if let NodeCredentials::GlobalPullSecret(global) = &self.every_node {
            let mut files = crate::nodes::pods::Files::new();
            for node in &nodes {
                if let Some(file) =
                    crate::nodes::pods::node_file(cluster, node, global, &mut files).await
                {
                    self.node_files
                        .insert(file.node.clone(), NodeCredentials::NodeFile(file));
                }
            }
        }
        let holding = nodes.iter().filter(|n| {
            let cached = crate::nodes::pulls::cached_on(n);
            let name = n.metadata.name.as_deref().unwrap_or_default();
            (images_on.get(name).into_iter().flatten())
                .any(|i| crate::nodes::pulls::holds(&cached, i))
        });
        let kubelets: Vec<Kubelet> = futures::stream::iter(holding)
            .map(|n| crate::nodes::pulls::kubelet(cluster, n))
            .buffer_unordered(CONFIGZ_AT_ONCE)
            .collect()
            .await;
        self.kubelets
            .extend(kubelets.into_iter().map(|k| (k.node.clone(), k)));
    }

    /// A hosted control plane: HyperShift's syncer writes the merged
    /// secret only to nodes labelled for it, one at a time; a node it does
    /// not run on, or has not reached with the current template, keeps
    /// what its ignition gave it, `kube-system/original-pull-secret`. When
    /// the syncer's state cannot be read, the nodes are taken as synced.
    async fn read_hosted_nodes(&mut self, cluster: &Cluster, nodes: &[Node]) {
        let Ok(states) = crate::hosted::sync_states(cluster, nodes).await else {
            return;
        };
        let behind: Vec<&String> = (states.iter())
            .filter(|(_, s)| !matches!(s, crate::hosted::SyncState::Updated))
            .map(|(n, _)| n)
            .collect();
        if behind.is_empty() {
            return;
        }
        let Ok(Some(original)) = crate::hosted::original_secret(cluster).await else {
            return;
        };
        let source = crate::nodes::pods::Source::Node {
            secret: format!("{}/{}", crate::hosted::NAMESPACE, crate::hosted::ORIGINAL),
        };
        let keyed = crate::nodes::pods::keyed(&original, &source);
        for node in behind {
            self.node_files.insert(
                node.clone(),
                NodeCredentials::GlobalPullSecret(keyed.clone()),
            );
        }
    }

    /// The credentials `node`'s kubelet has.
    pub fn node_credentials(&self, node: Option<&str>) -> &NodeCredentials {
        node.and_then(|n| self.node_files.get(n))
            .unwrap_or(&self.every_node)
    }

    fn node_keyring(&self, node: Option<&str>) -> &[Keyed] {
        match self.node_credentials(node) {
            NodeCredentials::GlobalPullSecret(k) => k,
            NodeCredentials::NodeFile(f) => &f.keyed,
            NodeCredentials::Unknown => &[],
        }
    }

    fn provider_for(&self, view: &PodView, image: &ImageRef) -> Provider {
        match &self.provider {
            None => Provider::NotConfigured,
            Some(p) if !p.runs_for(&image.to_string()) => Provider::NotForThisImage,
            Some(_) => Provider::Runs {
                may_list_secrets: self
                    .may_list_secrets
                    .get(&(view.namespace.clone(), view.service_account.clone()))
                    .copied()
                    .flatten(),
            },
        }
    }

    /// What `view`'s node will try for `image`.
    pub fn plan(&self, view: &PodView, image: &str) -> Result<PullPlan, ImageRefError> {
        let parsed = ImageRef::parse(image)?;
        let route = self.rules.route(&parsed);
        let node = view.node.as_deref();
        let keyring = self.node_keyring(node);
        let provider = self.provider_for(view, &parsed);
        let provider_lists = matches!(provider, Provider::Runs { .. });
        let namespace_logins =
            (self.namespace_logins.get(&view.namespace)).map_or(&[][..], Vec::as_slice);
        let mut mirrors = Vec::new();
        let mut source = SourceStep {
            blocked: None,
            candidates: Vec::new(),
        };
        for endpoint in route.endpoints {
            if endpoint.mirror {
                let at = endpoint.reference.to_string();
                mirrors.push(MirrorStep {
                    node: in_kubelet_order(keyring, &at)
                        .into_iter()
                        .cloned()
                        .collect(),
                    namespace: if provider_lists {
                        in_kubelet_order(namespace_logins, &at)
                    } else {
                        view.candidates_with(&at, &[])
                    }
                    .into_iter()
                    .cloned()
                    .collect(),
                    provider: provider.clone(),
                    reference: endpoint.reference,
                    blocked: endpoint.blocked,
                });
            } else {
                source = SourceStep {
                    blocked: endpoint.blocked,
                    candidates: view
                        .candidates_with(image, keyring)
                        .into_iter()
                        .cloned()
                        .collect(),
                };
            }
        }
        let cache = match node.and_then(|n| self.kubelets.get(n)) {
            Some(k) if k.has(&parsed) => Cache::Cached {
                node: k.node.clone(),
                verification: k.verification.clone(),
            },
            _ => Cache::Absent,
        };
        Ok(PullPlan {
            image: parsed,
            refused: route.refused,
            mirrors,
            source,
            cache,
        })
    }
}

/// Reads the pod, its service account and its secrets, and what its
/// node pulls with.
pub async fn pod_view(
    cluster: &Cluster,
    ns: &str,
    pod: &str,
) -> Result<(PodView, World), ClusterError> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(cluster.client.clone(), ns);
    let pod = match pods.get(pod).await {
        Ok(p) => p,
        Err(e) => {
            let err = ClusterError::from_kube::<k8s_openapi::api::core::v1::Pod>(e, ns, pod);
            return Err(crate::namespaces::blame(cluster, err).await);
        }
    };
    let mut view = crate::nodes::pods::view_of(cluster, &pod).await?;
    let world = World::read(cluster, &[&view], None).await?;
    view.node_credentials = world.node_credentials(view.node.as_deref()).clone();
    Ok((view, world))
}

/// What a pull plan met, endpoint by endpoint, as the node would meet it:
/// a refused image asks no registry; each mirror not blocked is checked
/// with the one login CRI-O uses there, and the first that serves the
/// image ends it; then the source, if not blocked, with each candidate in
/// the kubelet's order until one works (anonymously when none matches).
pub async fn check(
    template: &CheckOptions,
    plan: &PullPlan,
) -> Result<ImageCheck, CheckSetupError> {
    let mut out = ImageCheck {
        image: plan.image.to_string(),
        tried: tried(&plan.source.candidates),
        attempts: Vec::new(),
        refused: plan.refused.clone(),
        blocked: Vec::new(),
        served_by: None,
        passed: false,
    };
    if plan.refused.is_some() {
        return Ok(out);
    }
    for m in &plan.mirrors {
        if let Some(b) = &m.blocked {
            out.blocked.push((m.reference.to_string(), b.clone()));
            continue;
        }
        let attempt = attempt(template, &m.reference, true, m.login()).await?;
        let passed = attempt.report.passed;
        out.attempts.push(attempt);
        if passed {
            out.served_by = Some(m.reference.to_string());
            out.passed = true;
            return Ok(out);
        }
    }
    if let Some(b) = &plan.source.blocked {
        out.blocked.push((plan.image.to_string(), b.clone()));
        return Ok(out);
    }
    let candidates: Vec<Option<&Keyed>> = if plan.source.candidates.is_empty() {
        vec![None]
    } else {
        plan.source.candidates.iter().map(Some).collect()
    };
    for k in candidates {
        let attempt = attempt(template, &plan.image, false, k).await?;
        let passed = attempt.report.passed;
        out.attempts.push(attempt);
        if passed {
            out.served_by = Some(plan.image.to_string());
            out.passed = true;
            break;
        }
    }
    Ok(out)
}

pub(crate) fn tried(candidates: &[Keyed]) -> Vec<Tried> {
    candidates
        .iter()
        .map(|k| Tried {
            source: k.source.clone(),
            key: k.key.clone(),
            username: k.credential.username.clone(),
        })
        .collect()
}

/// One registry check of one endpoint with one login (or none).
async fn attempt(
    template: &CheckOptions,
    at: &ImageRef,
    mirror: bool,
    login: Option<&Keyed>,
) -> Result<Attempt, CheckSetupError> {
    let mut options = template.clone();
    options.registry = at.registry.clone();
    options.image = Some(at.clone());
    options.credential = login.map(|k| k.credential.clone());
    Ok(Attempt {
        endpoint: at.to_string(),
        mirror,
        source: login.map(|k| k.source.clone()),
        key: login.map(|k| k.key.clone()),
        report: rhpull_core::sso::check(&options).await?,
    })
}

/// Namespaces and service accounts whose right to list secrets decides a
/// mirror's login: those of pods with an image the provider runs for.
pub fn provider_subjects(world: &World, views: &[&PodView]) -> BTreeSet<(String, String)> {
    let Some(provider) = &world.provider else {
        return BTreeSet::new();
    };
    views
        .iter()
        .filter(|v| v.images.iter().any(|i| provider.runs_for(i)))
        .map(|v| (v.namespace.clone(), v.service_account.clone()))
        .collect()
}

/// A namespace's `kubernetes.io/dockerconfigjson` secrets, as the
/// credential provider lists them.
async fn dockerconfigjson_in(cluster: &Cluster, ns: &str) -> Result<Vec<Secret>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    let params =
        ListParams::default().fields(&format!("type={}", crate::secret_types::DOCKER_CONFIG_JSON));
    list::filter_map(&api, params, Some)
        .await
        .map_err(|e| ClusterError::from_kube::<Secret>(e, ns, ""))
}

/// The mirror logins of a namespace's secrets, as `Source::PodSecret`.
pub fn logins_of(secrets: &[k8s_openapi::api::core::v1::Secret]) -> Vec<Keyed> {
    secrets
        .iter()
        .filter(|s| s.type_.as_deref() == Some(crate::secret_types::DOCKER_CONFIG_JSON))
        .flat_map(|s| {
            let source = Source::PodSecret {
                name: s.metadata.name.clone().unwrap_or_default(),
            };
            crate::nodes::pods::keyed(s, &source)
        })
        .collect()
}
