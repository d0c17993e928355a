//! Why are these pods not pulling? Every pod with a container (init and
//! ephemeral ones included) waiting in `ErrImagePull` or `ImagePullBackOff`,
//! in a namespace, a fleet's namespaces or the whole cluster, found with a
//! few lists (never a get per pod); grouped by what the kubelet would try
//! — the image's repository, the credentials it would use in its order,
//! the service account — and checked against the registry once per group,
//! so a thousand pods behind one revoked token cost one token request.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams};
use rhpull_core::imageref::kubelet_matches;
use rhpull_core::sso::{Cause, CheckOptions, CheckSetupError, Step};

use rhpull_core::mirrors::{EndpointBlock, Refusal};

use crate::error::ClusterError;
use crate::fleet::Scope;
use crate::list;
use crate::nodes::image_registry::{self, StreamAccess};
use crate::nodes::pods::{
    self, ImageCheck, Keyed, NodeCredentials, Owner, PodView, SecretsByName, Source,
};
use crate::nodes::pullplan::{self, Provider, PullPlan, World};
use crate::{Cluster, secret_types};

/// The waiting reasons of a failed pull.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];

/// One pod that cannot pull, as the kubelet sees it.
#[derive(Clone, Debug)]
pub struct FailingPod {
    pub view: PodView,
    /// The images of its containers waiting on a failed pull.
    pub images: Vec<String>,
    /// The kubelet's latest pull failure (its `Failed` event's message).
    pub kubelet_message: Option<String>,
    /// When the kubelet first reported it (its first `Failed` event), else
    /// when the pod was made: how long it has been backing off.
    pub failing_since: Option<String>,
    /// When the kubelet's next try is due (RFC 3339), by its back-off and
    /// the failures its events count.
    pub next_try: Option<String>,
    /// Credentials of the secrets its service account has and it lacks
    /// (linked after it was made): what a new pod would get.
    pub linked_since: Vec<Keyed>,
    /// Credentials of the pull secrets in its namespace that neither it
    /// nor its service account names: a link away.
    pub unlinked: Vec<Keyed>,
    /// Its uid, and its controller's: a replacement is told from the pod
    /// it replaces by these.
    pub uid: String,
    pub owner_uid: Option<String>,
    /// Its labels: pods of one controller's template share them.
    pub labels: BTreeMap<String, String>,
    /// For each of its images on the integrated registry, whether its
    /// service account may pull it, as the API server answers.
    pub stream_access: BTreeMap<String, StreamAccess>,
}

/// Where to look: `-n`'s namespace (`None`), some, or all.
#[derive(Clone, Debug)]
struct Where {
    /// The namespaces to list in one by one, or `None`: in all at once,
    /// keeping those of `only` (a selector's).
    each: Option<Vec<String>>,
    only: Option<BTreeSet<String>>,
}

impl Where {
    async fn of(cluster: &Cluster, scope: Option<&Scope>) -> Result<Self, ClusterError> {
        Ok(match scope {
            None => Self {
                each: Some(vec![cluster.namespace.clone()]),
                only: None,
            },
            Some(Scope::Namespaces(list)) => Self {
                each: Some(list.clone()),
                only: None,
            },
            Some(Scope::All) => Self {
                each: None,
                only: None,
            },
            Some(selector) => Self {
                each: None,
                only: Some(
                    crate::fleet::namespaces(cluster, selector)
                        .await?
                        .into_iter()
                        .collect(),
                ),
            },
        })
    }

    /// Keeps only the objects of namespaces in `set` (those with failing
    /// pods), whatever the scope.
    fn narrowed_to(&self, set: BTreeSet<String>) -> Self {
        Self {
            each: self.each.clone(),
            only: Some(set),
        }
    }

    /// What `keep` makes of each object listed, page by page.
    async fn list<K, T>(
        &self,
        cluster: &Cluster,
        params: &ListParams,
        mut keep: impl FnMut(K) -> Option<T>,
    ) -> Result<Vec<T>, ClusterError>
    where
        K: list::Namespaced,
    {
        let only = self.only.as_ref();
        let wanted = |o: &K| {
            only.is_none_or(|set| o.meta().namespace.as_ref().is_some_and(|n| set.contains(n)))
        };
        let mut keep = |o: K| if wanted(&o) { keep(o) } else { None };
        let err = |e, ns: &str| ClusterError::from_kube::<K>(e, ns, "");
        let Some(each) = &self.each else {
            let all = Api::<K>::all(cluster.client.clone());
            return list::filter_map(&all, params.clone(), keep)
                .await
                .map_err(|e| err(e, ""));
        };
        let mut out = Vec::new();
        for ns in each
            .iter()
            .filter(|n| only.is_none_or(|set| set.contains(*n)))
        {
            let api = Api::<K>::namespaced(cluster.client.clone(), ns);
            out.extend(
                list::filter_map(&api, params.clone(), &mut keep)
                    .await
                    .map_err(|e| err(e, ns))?,
            );
        }
        Ok(out)
    }
}

/// The images of a pod's containers waiting on a failed pull.
/// The pods of `namespace` run as `service_account` that fail to pull and
/// were made before `secret` was linked (their own `imagePullSecrets` lack
/// it): a link does not reach them; made again, they get it. One list.
pub async fn made_before_link(
    cluster: &Cluster,
    namespace: &str,
    service_account: &str,
    secret: &str,
) -> Result<Vec<String>, ClusterError> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let keep = |p: Pod| {
        let spec = p.spec.as_ref()?;
        let sa = spec.service_account_name.as_deref().unwrap_or("default");
        let has = (spec.image_pull_secrets.iter().flatten()).any(|r| r.name == secret);
        (sa == service_account && !has && !failing_images(&p).is_empty())
            .then(|| p.metadata.name.clone().unwrap_or_default())
    };
    list::filter_map(&api, ListParams::default(), keep)
        .await
        .map_err(|e| ClusterError::from_kube::<Pod>(e, namespace, ""))
}

fn failing_images(pod: &Pod) -> Vec<String> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let all = [
        &status.init_container_statuses,
        &status.container_statuses,
        &status.ephemeral_container_statuses,
    ];
    let waiting = |c: &&ContainerStatus| {
        let reason = c
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref()?.reason.as_deref());
        reason.is_some_and(|r| PULL_FAILURES.contains(&r))
    };
    let mut images: Vec<String> = Vec::new();
    for c in all.into_iter().flatten().flatten().filter(waiting) {
        if !images.contains(&c.image) {
            images.push(c.image.clone());
        }
    }
    images
}

/// Every failing pod in `scope`, and what their nodes pull with.
#[derive(Debug)]
pub struct Found {
    pub pods: Vec<FailingPod>,
    pub world: World,
}

/// Every failing pod in `scope`: pods that are not done (a field selector
/// on `status.phase`), then, when any fails, their namespaces' service
/// accounts, pull secrets and kubelet `Failed` events, one list each; and
/// what their nodes pull with (`World::read`: one list of the nodes, a
/// configz per node that has a failing pod, each rendered config once).
/// Requests do not grow with the number of pods.
pub async fn find(cluster: &Cluster, scope: Option<&Scope>) -> Result<Found, ClusterError> {
    let at = Where::of(cluster, scope).await?;
    // Named namespaces must be there: a list in one that is not answers
    // as an empty one.
    if let Some(named) = &at.each
        && let Some(first) = crate::namespaces::missing_of(cluster, named)
            .await
            .into_iter()
            .next()
    {
        return Err(ClusterError::NamespaceNotFound(first));
    }
    let live = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    // Page by page, only the pods that fail are kept.
    let failing: Vec<(Pod, Vec<String>)> = at
        .list(cluster, &live, |p: Pod| {
            let images = failing_images(&p);
            (!images.is_empty()).then_some((p, images))
        })
        .await?;
    if failing.is_empty() {
        return Ok(Found {
            pods: Vec::new(),
            world: World::default(),
        });
    }
    // Only the namespaces with failing pods matter from here on.
    let with_failures: BTreeSet<String> = (failing.iter())
        .filter_map(|(p, _)| p.metadata.namespace.clone())
        .collect();
    let at = at.narrowed_to(with_failures);
    let sas: HashMap<(String, String), ServiceAccount> = at
        .list(cluster, &ListParams::default(), |sa: ServiceAccount| {
            Some((key_of(&sa.metadata), sa))
        })
        .await?
        .into_iter()
        .collect();
    let mut secrets = SecretsByName::new();
    for ty in [secret_types::DOCKER_CONFIG_JSON, secret_types::DOCKERCFG] {
        let params = ListParams::default().fields(&format!("type={ty}"));
        let listed = at.list(cluster, &params, |s: Secret| Some((key_of(&s.metadata), s)));
        secrets.extend(listed.await?);
    }
    let uids: BTreeSet<String> = (failing.iter())
        .filter_map(|(p, _)| p.metadata.uid.clone())
        .collect();
    let pulls = ListParams::default().fields("involvedObject.kind=Pod,reason=Failed");
    let events = at
        .list(cluster, &pulls, |e: Event| {
            let uid = e.involved_object.uid.as_ref()?;
            uids.contains(uid).then_some(e)
        })
        .await?;
    let events = pull_failures(events);
    let views: Vec<(PodView, Pod, Vec<String>)> = failing
        .into_iter()
        .map(|(pod, images)| {
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let sa = sas.get(&(ns, pods::service_account_of(&pod)));
            (PodView::from_parts(&pod, sa, &secrets), pod, images)
        })
        .collect();
    let refs: Vec<&PodView> = views.iter().map(|(v, _, _)| v).collect();
    let world = World::read(cluster, &refs, Some(&secrets)).await?;
    // Each namespace's pull secrets, read once for all its pods.
    let mut by_namespace: HashMap<&str, Vec<&Secret>> = HashMap::new();
    for ((ns, _), secret) in &secrets {
        by_namespace.entry(ns).or_default().push(secret);
    }
    let by_namespace: HashMap<&str, Logins> = (by_namespace.into_iter())
        .map(|(ns, secrets)| (ns, logins_of(secrets)))
        .collect();
    let access = stream_accesses(cluster, &views).await;
    let pods = views
        .into_iter()
        .map(|(mut view, pod, images)| {
            view.node_credentials = world.node_credentials(view.node.as_deref()).clone();
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let failures = events.get(&uid);
            let owner_uid = (pod.metadata.owner_references.iter().flatten())
                .find(|o| o.controller == Some(true))
                .map(|o| o.uid.clone());
            FailingPod {
                uid: uid.clone(),
                owner_uid,
                labels: pod.metadata.labels.clone().unwrap_or_default(),
                kubelet_message: failures.map(|f| f.message.clone()),
                next_try: failures.and_then(Failures::next_try),
                failing_since: failures
                    .map(|f| f.first.clone())
                    .or_else(|| pod.metadata.creation_timestamp.map(|t| t.0.to_string())),
                linked_since: linked_since(&view, by_namespace.get(view.namespace.as_str())),
                unlinked: unlinked(&view, by_namespace.get(view.namespace.as_str())),
                stream_access: (images.iter())
                    .filter_map(|i| {
                        let key = (
                            view.namespace.clone(),
                            view.service_account.clone(),
                            i.clone(),
                        );
                        Some((i.clone(), access.get(&key)?.clone()))
                    })
                    .collect(),
                view,
                images,
            }
        })
        .collect();
    Ok(Found { pods, world })
}

/// Whether each service account may pull each image on the integrated
/// registry its failing pods name: one SubjectAccessReview per
/// `(namespace, service account, image)`, whatever the number of pods,
/// [`REVIEWS_AT_ONCE`] at a time.
async fn stream_accesses(
    cluster: &Cluster,
    views: &[(PodView, Pod, Vec<String>)],
) -> HashMap<(String, String, String), StreamAccess> {
    use futures::StreamExt as _;
    let asked: BTreeSet<(String, String, String)> = (views.iter())
        .flat_map(|(v, _, images)| {
            (images.iter())
                .filter(|i| image_registry::stream_of(i).is_some())
                .map(|i| (v.namespace.clone(), v.service_account.clone(), i.clone()))
        })
        .collect();
    futures::stream::iter(asked)
        .map(|key| async move {
            let (ns, sa, image) = (&key.0, &key.1, &key.2);
            let access = image_registry::access(cluster, ns, sa, image).await;
            access.map(|a| (key, a))
        })
        .buffer_unordered(REVIEWS_AT_ONCE)
        .filter_map(std::future::ready)
        .collect()
        .await
}

/// Access reviews in flight at once.
const REVIEWS_AT_ONCE: usize = 8;

fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// A pod's pull failures as its `Failed` events tell them.
#[derive(Clone, Debug, Default)]
struct Failures {
    /// The latest `Failed to pull image` message.
    message: String,
    latest: String,
    /// When the first of them was seen (RFC 3339).
    first: String,
    /// How many pulls failed (the events' `count`s).
    count: u32,
}

impl Failures {
    /// When the kubelet's next try is due, by its back-off.
    fn next_try(&self) -> Option<String> {
        let latest = self.latest.parse().ok()?;
        let now = k8s_openapi::jiff::Timestamp::now();
        crate::nodes::backoff::next_try(latest, self.count, now).map(|t| t.to_string())
    }
}

/// By pod uid, its pull failures: the latest message and the first time.
fn pull_failures(events: Vec<Event>) -> HashMap<String, Failures> {
    let mut by_uid: HashMap<String, Failures> = HashMap::new();
    for e in events {
        let Some(message) = e.message.filter(|m| m.starts_with("Failed to pull image")) else {
            continue;
        };
        let last = (e.last_timestamp.map(|t| t.0.to_string()))
            .or(e.event_time.as_ref().map(|t| t.0.to_string()))
            .unwrap_or_default();
        let first = (e.first_timestamp.map(|t| t.0.to_string()))
            .or(e.event_time.map(|t| t.0.to_string()))
            .unwrap_or_else(|| last.clone());
        let uid = e.involved_object.uid.unwrap_or_default();
        let f = by_uid.entry(uid).or_default();
        let count = e.count.and_then(|c| u32::try_from(c).ok()).unwrap_or(1);
        f.count = f.count.saturating_add(count.max(1));
        if f.latest <= last {
            f.latest = last;
            f.message = message;
        }
        if f.first.is_empty() || first < f.first {
            f.first = first;
        }
    }
    by_uid
}

/// A credential as the grouping sees it: what is filed where, and a digest
/// of the secret (never the secret).
fn fingerprint(k: &Keyed) -> String {
    use secrecy::ExposeSecret as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(k.credential.secret.expose_secret().as_bytes());
    let node = !matches!(k.source, Source::PodSecret { .. });
    format!("{node}|{}|{}|{digest:x}", k.key, k.credential.username)
}

fn fingerprints(keyed: &[Keyed]) -> String {
    keyed.iter().map(fingerprint).collect::<Vec<_>>().join(",")
}

/// What a plan will do, as the grouping sees it: the same policy, the
/// same endpoints with the same logins, the same candidates in order.
fn plan_fingerprint(plan: &PullPlan) -> String {
    let mirrors: Vec<String> = (plan.mirrors.iter())
        .map(|m| {
            format!(
                "{}|{:?}|{}|{}|{:?}",
                m.reference,
                m.blocked,
                fingerprints(&m.node),
                fingerprints(&m.namespace),
                m.provider
            )
        })
        .collect();
    // The whole reference: the check verifies one tag's (or digest's)
    // manifest, so `app:1` and `app:2` are checked apart.
    format!(
        "{}#{:?}#{}#{:?}#{}#{:?}",
        plan.image,
        plan.refused,
        mirrors.join(";"),
        plan.source.blocked,
        fingerprints(&plan.source.candidates),
        plan.cache
    )
}

/// One pod in a group.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
    pub image: String,
    pub node: Option<String>,
    /// Its controller, which makes it again when it is deleted; `None`: a
    /// bare pod, to be recreated from its manifest.
    pub owner: Option<Owner>,
    /// When the kubelet first reported the failure (or the pod was made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_message: Option<String>,
    /// When the kubelet's next try is due, by its back-off (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_try: Option<String>,
    /// Its uid and its controller's (not in machine output).
    #[serde(skip)]
    pub uid: String,
    #[serde(skip)]
    pub owner_uid: Option<String>,
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
}

/// Pods that fail for the same reason: the same image (tag or digest),
/// the same pull plan (policy, mirrors with their logins, candidates in
/// order, the node's cache), the same service account — and, where the
/// CRI-O credential provider runs, the same namespace.
#[derive(Clone, Debug)]
pub struct Group {
    /// `registry/repository`.
    pub repository: String,
    /// What the first pod's node will try (every pod's is the same).
    pub plan: PullPlan,
    pub service_account: String,
    /// The service account has, since the pods were made, secrets that
    /// match the image: what a new pod would try.
    pub linked_since: Vec<Keyed>,
    /// Pull secrets of the pods' namespace, linked to nothing, that match
    /// the image: what a link would give a new pod.
    pub unlinked: Vec<Keyed>,
    /// Registries of the image the pods' node has not yet got as the
    /// global pull secret has them (OpenShift 4 rollouts).
    pub node_behind: Vec<String>,
    /// On the integrated registry: whether the service account may pull
    /// the image stream (rhpull never contacts that registry).
    pub stream_access: Option<StreamAccess>,
    pub pods: Vec<PodRef>,
}

/// The failing pods grouped by what their nodes will try, most pods first.
pub fn group(found: &Found) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for pod in &found.pods {
        let later = &pod.linked_since;
        for image in &pod.images {
            let Ok(plan) = found.world.plan(&pod.view, image) else {
                continue;
            };
            let linked_since = matching(later, image);
            let unlinked = matching(&pod.unlinked, image);
            let node_behind: Vec<String> = match &pod.view.node_credentials {
                NodeCredentials::NodeFile(f) => (f.behind_for(image).into_iter())
                    .map(|a| a.registry.clone())
                    .collect(),
                _ => Vec::new(),
            };
            // Where the CRI-O credential provider runs, what a mirror gets
            // (and the fix: a Role) is the namespace's own.
            // So is the integrated registry's decision: the service
            // account's, of the pod's namespace.
            let stream_access = pod.stream_access.get(image).cloned();
            let per_namespace = stream_access.is_some()
                || (plan.mirrors.iter()).any(|m| matches!(m.provider, Provider::Runs { .. }));
            let namespace = if per_namespace {
                pod.view.namespace.as_str()
            } else {
                ""
            };
            let allowed = stream_access.as_ref().map(|a| a.allowed);
            let key = format!(
                "{}#{}#{}#{}#{}#{namespace}#{allowed:?}",
                plan_fingerprint(&plan),
                pod.view.service_account,
                fingerprints(&linked_since),
                fingerprints(&unlinked),
                node_behind.join(","),
            );
            let group = groups.entry(key).or_insert_with(|| Group {
                repository: plan.image.name(),
                plan,
                service_account: pod.view.service_account.clone(),
                linked_since,
                unlinked,
                node_behind,
                stream_access,
                pods: Vec::new(),
            });
            group.pods.push(PodRef {
                namespace: pod.view.namespace.clone(),
                name: pod.view.name.clone(),
                image: image.clone(),
                node: pod.view.node.clone(),
                owner: pod.view.owner.clone(),
                failing_since: pod.failing_since.clone(),
                kubelet_message: pod.kubelet_message.clone(),
                next_try: pod.next_try.clone(),
                uid: pod.uid.clone(),
                owner_uid: pod.owner_uid.clone(),
                labels: pod.labels.clone(),
            });
        }
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.pods
            .len()
            .cmp(&a.pods.len())
            .then(a.repository.cmp(&b.repository))
    });
    out
}

/// The credentials of `keyed` whose keys the kubelet matches with `image`.
fn matching(keyed: &[Keyed], image: &str) -> Vec<Keyed> {
    let keys: Vec<&str> = keyed.iter().map(|k| k.key.as_str()).collect();
    let matched = kubelet_matches(keys, image);
    (keyed.iter())
        .filter(|k| matched.contains(&k.key.as_str()))
        .cloned()
        .collect()
}

/// The credentials of the secrets a pod's service account has and the pod
/// lacks (`view.recreate_needed`, in its order), as its namespace's
/// `in_namespace` hold them.
fn linked_since(view: &PodView, in_namespace: Option<&Logins>) -> Vec<Keyed> {
    let logins = in_namespace.map_or(&[][..], Vec::as_slice);
    (view.recreate_needed.iter())
        .filter_map(|name| logins.iter().find(|(n, _)| n == name))
        .flat_map(|(_, keyed)| keyed.iter().cloned())
        .collect()
}

/// A namespace's pull secrets by name (sorted), each with its logins.
type Logins = Vec<(String, Vec<Keyed>)>;

/// The logins of `secrets`, each read once.
fn logins_of<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Logins {
    let mut out: Logins = (secrets.into_iter())
        .map(|s| {
            let name = s.metadata.name.clone().unwrap_or_default();
            let source = Source::PodSecret { name: name.clone() };
            (name, pods::keyed(s, &source))
        })
        .collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The credentials of the pull secrets of `view`'s namespace (`in_namespace`)
/// that neither the pod nor its service account names. None where the pod
/// names its own secrets: a link would not reach it.
fn unlinked(view: &PodView, in_namespace: Option<&Logins>) -> Vec<Keyed> {
    if !view.from_service_account {
        return Vec::new();
    }
    let named = |n: &str| (view.pod_secrets.iter().chain(&view.recreate_needed)).any(|s| s == n);
    (in_namespace.into_iter().flatten())
        .filter(|(name, _)| !named(name))
        .flat_map(|(_, keyed)| keyed.iter().cloned())
        .collect()
}

/// Why a group's pods cannot pull.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupCause {
    /// The cluster's image policy refuses the image.
    Refused { refusal: Refusal },
    /// A mirror refused its login (or had none) while the pod's namespace
    /// holds one for it, which CRI-O does not use there (or the credential
    /// provider may not read).
    MirrorLogin {
        mirror: String,
        secrets: Vec<String>,
        provider: Provider,
        cause: Cause,
    },
    /// No mirror served the image and the source may not be contacted.
    SourceBlocked { block: EndpointBlock },
    /// The registry flow fails with what the kubelet tries.
    Check { cause: Cause },
    /// Nothing the kubelet has matches the image, and an anonymous pull fails.
    NoCredentialMatches { cause: Cause },
    /// The service account has a working secret now; the pods were made
    /// before it was linked and must be made again.
    PredatesLink { secrets: Vec<String> },
    /// The namespace holds a pull secret that works, linked to nothing:
    /// the service account needs it, and the pods made again.
    Unlinked { secrets: Vec<String> },
    /// The integrated registry refuses the service account: it may not
    /// pull from the image's project (`system:image-puller` there).
    NotGranted { project: String, subject: String },
    /// Whether the integrated registry lets the service account pull is
    /// not known: the API server could not be asked (no right to create
    /// SubjectAccessReviews).
    AccessUnknown { project: String, subject: String },
}

/// A group, checked.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub group: Group,
    pub check: ImageCheck,
    /// `None`: the check from here passes.
    pub cause: Option<GroupCause>,
    /// The kubelet reports a network, DNS or TLS failure this machine's
    /// check got past: the node reaches the registry differently.
    pub network_differs: bool,
}

impl PodRef {
    /// How long its back-off still runs, by the kubelet's events (`None`
    /// when they do not tell).
    pub fn backoff_left(&self) -> Option<std::time::Duration> {
        crate::nodes::backoff::left(self.next_try.as_deref()?)
    }
}

impl Group {
    /// How long the longest back-off of its pods still runs.
    pub fn backoff_left(&self) -> Option<std::time::Duration> {
        self.pods.iter().filter_map(PodRef::backoff_left).max()
    }
}

impl Diagnosis {
    /// True when a new pod would pull: what a controller makes again after
    /// a delete works (`check --failing --recreate`).
    pub fn new_pods_pull(&self) -> bool {
        matches!(self.cause, None | Some(GroupCause::PredatesLink { .. }))
    }
}

/// Checks every group once (groups that would try the same for the same
/// repository share a check). A group whose pods predate a link is also
/// checked as a new pod would pull.
pub async fn diagnose(
    template: &CheckOptions,
    groups: Vec<Group>,
) -> Result<Vec<Diagnosis>, CheckSetupError> {
    let mut done: HashMap<String, ImageCheck> = HashMap::new();
    let mut out = Vec::new();
    for group in groups {
        let check = match &group.stream_access {
            Some(access) => image_registry::check_of(&group.plan, access),
            None => checked(template, &group.plan, &mut done).await?,
        };
        out.push(diagnosis_of(template, group, check, &mut done).await?);
    }
    Ok(out)
}

/// What a pull of `plan` meets: on the integrated registry, the API
/// server's answer (`access`); elsewhere the registries checked from here.
/// `check --pod` and `check --failing` check through this one door.
pub async fn check_pull(
    template: &CheckOptions,
    plan: &PullPlan,
    access: Option<&StreamAccess>,
) -> Result<ImageCheck, CheckSetupError> {
    match access {
        Some(a) => Ok(image_registry::check_of(plan, a)),
        None => pullplan::check(template, plan).await,
    }
}

/// Why the integrated registry refuses: the service account may not pull
/// from the project (the policy's refusal is the policy's).
fn stream_cause(check: &ImageCheck, access: &StreamAccess) -> Option<GroupCause> {
    if let Some(refusal) = &check.refused {
        return Some(GroupCause::Refused {
            refusal: refusal.clone(),
        });
    }
    let (project, subject) = (access.project.clone(), access.subject());
    match access.allowed {
        Some(true) => None,
        Some(false) => Some(GroupCause::NotGranted { project, subject }),
        None => Some(GroupCause::AccessUnknown { project, subject }),
    }
}

/// One group's diagnosis from its check: the cause, and whether a new
/// pod would pull (the linked secrets first).
async fn diagnosis_of(
    template: &CheckOptions,
    group: Group,
    check: ImageCheck,
    done: &mut HashMap<String, ImageCheck>,
) -> Result<Diagnosis, CheckSetupError> {
    if let Some(access) = &group.stream_access {
        // Any secret a link could add holds the same service account
        // tokens: only a grant changes the registry's answer.
        return Ok(Diagnosis {
            cause: stream_cause(&check, access),
            group,
            check,
            network_differs: false,
        });
    }
    let failed = check
        .attempts
        .last()
        .and_then(|a| a.report.cause().cloned());
    let mut cause = cause_of(&group, &check, failed.clone());
    // As a new pod would pull: the linked secrets first; then, if those
    // do not do it, with the namespace's unlinked ones linked too.
    let with_linked = group.linked_since.clone();
    let mut with_unlinked = with_linked.clone();
    with_unlinked.extend(group.unlinked.iter().cloned());
    let tries = [
        (with_linked, false),
        (with_unlinked, !group.unlinked.is_empty()),
    ];
    for (first, link) in tries {
        let fixable = cause.is_some() && !matches!(cause, Some(GroupCause::PredatesLink { .. }));
        if !fixable || first.is_empty() {
            continue;
        }
        let mut new_pod = group.plan.clone();
        let mut candidates = first;
        candidates.extend(
            (group.plan.source.candidates.iter())
                .filter(|k| !matches!(k.source, Source::PodSecret { .. }))
                .cloned(),
        );
        new_pod.source.candidates = candidates;
        if checked(template, &new_pod, done).await?.passed {
            cause = Some(if link {
                GroupCause::Unlinked {
                    secrets: names_of(&group.unlinked),
                }
            } else {
                GroupCause::PredatesLink {
                    secrets: names_of(&group.linked_since),
                }
            });
        }
    }
    let network_differs = network_differs(&group, &check);
    Ok(Diagnosis {
        group,
        check,
        cause,
        network_differs,
    })
}

/// What a pod made again would get beside its own secrets, as `find`
/// reads it for `check --failing`: the logins of the secrets its service
/// account has since it was made, and of the namespace's pull secrets
/// nothing names — one list per pull-secret type. Where those may not be
/// listed, the service account's secrets are read by name and no unlinked
/// one is known.
pub async fn new_pod_logins(
    cluster: &Cluster,
    view: &PodView,
) -> Result<(Vec<Keyed>, Vec<Keyed>), ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &view.namespace);
    let mut listed: Vec<Secret> = Vec::new();
    for ty in [secret_types::DOCKER_CONFIG_JSON, secret_types::DOCKERCFG] {
        let params = ListParams::default().fields(&format!("type={ty}"));
        match api.list(&params).await {
            Ok(l) => listed.extend(l.items),
            Err(e) if crate::error::is_forbidden(&e) => {
                listed.clear();
                for name in &view.recreate_needed {
                    listed.extend(crate::pullsecret::get(cluster, &view.namespace, name).await?);
                }
                let logins = logins_of(&listed);
                return Ok((linked_since(view, Some(&logins)), Vec::new()));
            }
            Err(e) => return Err(ClusterError::from_kube::<Secret>(e, &view.namespace, "")),
        }
    }
    let logins = logins_of(&listed);
    Ok((
        linked_since(view, Some(&logins)),
        unlinked(view, Some(&logins)),
    ))
}

/// `check --pod`'s image as a group of one, through the path `check
/// --failing` takes (so the two cannot disagree): `check` is the pod's
/// check of `plan`, already run; `linked_since` and `unlinked` as
/// [`new_pod_logins`] reads them.
pub async fn diagnose_pod(
    template: &CheckOptions,
    view: &PodView,
    linked_since: &[Keyed],
    unlinked: &[Keyed],
    plan: PullPlan,
    check: ImageCheck,
    stream_access: Option<StreamAccess>,
) -> Result<Diagnosis, CheckSetupError> {
    let image = check.image.clone();
    let node_behind = match &view.node_credentials {
        NodeCredentials::NodeFile(f) => (f.behind_for(&image).into_iter())
            .map(|a| a.registry.clone())
            .collect(),
        _ => Vec::new(),
    };
    let group = Group {
        repository: plan.image.name(),
        plan,
        service_account: view.service_account.clone(),
        linked_since: matching(linked_since, &image),
        unlinked: matching(unlinked, &image),
        node_behind,
        stream_access,
        pods: vec![PodRef {
            namespace: view.namespace.clone(),
            name: view.name.clone(),
            image,
            node: view.node.clone(),
            owner: view.owner.clone(),
            failing_since: None,
            kubelet_message: None,
            next_try: None,
            uid: String::new(),
            owner_uid: None,
            labels: BTreeMap::new(),
        }],
    };
    diagnosis_of(template, group, check, &mut HashMap::new()).await
}

/// A plan's check, once per fingerprint.
async fn checked(
    template: &CheckOptions,
    plan: &PullPlan,
    done: &mut HashMap<String, ImageCheck>,
) -> Result<ImageCheck, CheckSetupError> {
    let key = plan_fingerprint(plan);
    if let Some(c) = done.get(&key) {
        return Ok(c.clone());
    }
    let c = pullplan::check(template, plan).await?;
    done.insert(key, c.clone());
    Ok(c)
}

/// The cause a check names, in the order a node meets it.
fn cause_of(group: &Group, check: &ImageCheck, failed: Option<Cause>) -> Option<GroupCause> {
    if check.passed {
        return None;
    }
    if let Some(refusal) = &check.refused {
        return Some(GroupCause::Refused {
            refusal: refusal.clone(),
        });
    }
    for (attempt, step) in mirror_attempts(group, check) {
        let cause = attempt.report.cause().cloned();
        let login_problem = cause.as_ref().is_some_and(is_login_problem);
        if login_problem && !step.namespace.is_empty() && !step.uses_namespace_login() {
            return Some(GroupCause::MirrorLogin {
                mirror: step.reference.to_string(),
                secrets: names_of(&step.namespace),
                provider: step.provider.clone(),
                cause: cause?,
            });
        }
    }
    if let Some((_, block)) = check.blocked.iter().find(|(r, _)| *r == check.image) {
        return Some(GroupCause::SourceBlocked {
            block: block.clone(),
        });
    }
    let cause = failed?;
    Some(if group.plan.source.candidates.is_empty() {
        GroupCause::NoCredentialMatches { cause }
    } else {
        GroupCause::Check { cause }
    })
}

/// Each mirror attempt with the step it checked.
fn mirror_attempts<'a>(
    group: &'a Group,
    check: &'a ImageCheck,
) -> impl Iterator<Item = (&'a pods::Attempt, &'a pullplan::MirrorStep)> {
    (check.attempts.iter().filter(|a| a.mirror)).filter_map(|a| {
        let step = (group.plan.mirrors.iter()).find(|m| m.reference.to_string() == a.endpoint)?;
        Some((a, step))
    })
}

/// A cause about the login, not the network or the image.
pub fn is_login_problem(cause: &Cause) -> bool {
    matches!(
        cause,
        Cause::NoCredentials { .. }
            | Cause::InvalidCredentials { .. }
            | Cause::NotEntitled { .. }
            | Cause::TokenRejected { .. }
            | Cause::PasteMistake { .. }
            | Cause::IdentityTokenOnly { .. }
    )
}

fn names_of(keyed: &[Keyed]) -> Vec<String> {
    let mut names: Vec<String> = keyed
        .iter()
        .map(|k| match &k.source {
            Source::PodSecret { name } => name.clone(),
            Source::Node { secret } => secret.clone(),
            Source::NodeFile { node, .. } => format!("node/{node}"),
        })
        .collect();
    names.dedup();
    names
}

/// The kubelet's words name a network, DNS or TLS failure while this
/// machine's check got past those steps.
fn network_differs(group: &Group, check: &ImageCheck) -> bool {
    let kubelet_network = group
        .pods
        .iter()
        .filter_map(|p| p.kubelet_message.as_deref())
        .any(|m| {
            let m = m.to_ascii_lowercase();
            [
                "x509",
                "tls:",
                "certificate",
                "no such host",
                "i/o timeout",
                "connection refused",
                "dial tcp",
                "network is unreachable",
            ]
            .iter()
            .any(|w| m.contains(w))
        });
    let ours_failed_there = check.attempts.iter().any(|a| {
        a.report
            .failure()
            .is_some_and(|s| matches!(s.step, Step::Dns | Step::Connect | Step::Proxy | Step::Tls))
    });
    kubelet_network && !ours_failed_there
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhpull_core::Credential;

    #[test]
    fn unlinked_secrets_are_those_neither_the_pod_nor_its_service_account_names() {
        let mut view = pod("ns", "p", Some("mine"), "t").view;
        view.recreate_needed = vec!["linked".into()];
        let secret = |name: &str| {
            let login = Credential::new("quay.io", name, "t");
            let format = crate::pullsecret::Format::DockerConfigJson;
            crate::pullsecret::build(name, "ns", format, &[login])
        };
        let all = [secret("mine"), secret("linked"), secret("spare")];
        let in_namespace = logins_of(&all);
        let found = unlinked(&view, Some(&in_namespace));
        assert_eq!(names_of(&found), ["spare"]);
        assert_eq!(found[0].credential.username, "spare");
        assert!(unlinked(&view, None).is_empty());
        // A pod that names its own secrets keeps them when made again.
        view.from_service_account = false;
        assert!(unlinked(&view, Some(&in_namespace)).is_empty());
    }

    fn pod(ns: &str, name: &str, secret: Option<&str>, token: &str) -> FailingPod {
        let pod_credentials = secret
            .map(|s| Keyed {
                source: Source::PodSecret { name: s.into() },
                key: "quay.io".into(),
                credential: Credential::new("quay.io", "bot", token),
            })
            .into_iter()
            .collect();
        FailingPod {
            view: PodView {
                name: name.into(),
                namespace: ns.into(),
                service_account: "default".into(),
                node: None,
                owner: None,
                pod_secrets: secret.map(String::from).into_iter().collect(),
                missing_secrets: Vec::new(),
                recreate_needed: Vec::new(),
                from_service_account: true,
                images: vec!["quay.io/acme/app:1".into()],
                pod_credentials,
                node_credentials: pods::NodeCredentials::Unknown,
            },
            images: vec!["quay.io/acme/app:1".into()],
            kubelet_message: None,
            failing_since: None,
            next_try: None,
            linked_since: Vec::new(),
            unlinked: Vec::new(),
            uid: format!("uid-{name}"),
            owner_uid: None,
            labels: BTreeMap::new(),
            stream_access: BTreeMap::new(),
        }
    }

    fn found(pods: Vec<FailingPod>) -> Found {
        Found {
            pods,
            world: World::default(),
        }
    }

    fn checked(failed_at: Option<Step>) -> ImageCheck {
        use rhpull_core::sso::{CheckReport, Status, StepReport};
        let steps = failed_at.map_or_else(Vec::new, |step| {
            vec![StepReport {
                step,
                status: Status::Failed,
                elapsed_ms: 0,
                detail: None,
                cause: Some(Cause::NoCredentials {
                    registry: "quay.io".into(),
                }),
            }]
        });
        let report = CheckReport {
            registry: "quay.io".into(),
            image: None,
            passed: failed_at.is_none(),
            steps,
        };
        ImageCheck {
            image: "quay.io/acme/app:1".into(),
            tried: Vec::new(),
            attempts: vec![pods::Attempt {
                endpoint: "quay.io/acme/app:1".into(),
                mirror: false,
                source: None,
                key: None,
                report,
            }],
            refused: None,
            blocked: Vec::new(),
            served_by: None,
            passed: failed_at.is_none(),
        }
    }

    #[test]
    fn a_kubelet_network_failure_this_machine_gets_past_says_the_networks_differ() {
        let mut p = pod("a", "p", None, "");
        p.kubelet_message = Some(
            "Failed to pull image \"quay.io/acme/app:1\": tls: failed to verify certificate: x509: certificate signed by unknown authority".into(),
        );
        let g = group(&found(vec![p])).remove(0);
        assert!(network_differs(&g, &checked(Some(Step::Token))));
        assert!(network_differs(&g, &checked(None)));
        assert!(
            !network_differs(&g, &checked(Some(Step::Tls))),
            "both fail at TLS"
        );
        let mut quiet = g.clone();
        quiet.pods[0].kubelet_message = Some("Failed to pull image: unauthorized".into());
        assert!(!network_differs(&quiet, &checked(Some(Step::Token))));
    }

    #[test]
    fn pods_group_by_what_the_kubelet_tries_not_by_namespace() {
        let failing = vec![
            pod("a", "p1", Some("s"), "revoked"),
            pod("b", "p2", Some("other-name"), "revoked"),
            pod("a", "p3", Some("s"), "revoked"),
            pod("c", "p4", None, ""),
            pod("a", "p5", Some("s"), "good"),
        ];
        let groups = group(&found(failing));
        let sizes: Vec<usize> = groups.iter().map(|g| g.pods.len()).collect();
        assert_eq!(
            sizes,
            [3, 1, 1],
            "the same token under any name is one group"
        );
        assert_eq!(groups[0].repository, "quay.io/acme/app");
    }

    #[test]
    fn the_integrated_registry_is_judged_per_namespace_and_a_refusal_is_a_grant() {
        let image = format!("{}/images/app:1", image_registry::HOSTS[0]);
        let on_registry = |ns: &str, allowed: bool| {
            let mut p = pod(ns, &format!("{ns}-pod"), None, "");
            p.images = vec![image.clone()];
            p.view.images = vec![image.clone()];
            let access = StreamAccess {
                project: "images".into(),
                stream: "app".into(),
                namespace: ns.into(),
                service_account: "default".into(),
                allowed: Some(allowed),
            };
            p.stream_access.insert(image.clone(), access);
            p
        };
        let groups = group(&found(vec![
            on_registry("shop", false),
            on_registry("cart", false),
        ]));
        assert_eq!(groups.len(), 2, "the registry answers each namespace apart");
        let g = groups
            .into_iter()
            .find(|g| g.pods[0].namespace == "shop")
            .unwrap();
        let access = g.stream_access.clone().unwrap();
        let check = image_registry::check_of(&g.plan, &access);
        assert!(
            !check.passed && check.attempts.is_empty(),
            "nothing contacted"
        );
        let d = Diagnosis {
            cause: stream_cause(&check, &access),
            group: g,
            check,
            network_differs: false,
        };
        assert_eq!(
            crate::nodes::remedy::remedy_of(&d),
            Some(crate::nodes::remedy::Remedy::Grant {
                from: "shop".into(),
                to: "images".into(),
                service_account: "default".into(),
            })
        );
        let allowed = StreamAccess {
            allowed: Some(true),
            ..access
        };
        let check = image_registry::check_of(&d.group.plan, &allowed);
        assert!(check.passed);
        assert_eq!(stream_cause(&check, &allowed), None);
    }
}
