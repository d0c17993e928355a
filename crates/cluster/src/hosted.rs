//! A hosted control plane's cluster-wide pull secret (HyperShift, ROSA with
//! HCP: `Infrastructure` `status.controlPlaneTopology: External`), after
//! openshift/hypershift at commit 3ee9615 (August 2026):
//! `docs/content/how-to/common/global-pull-secret.md` and the Hosted
//! Cluster Config Operator's `controllers/globalps/globalps.go`.
//!
//! - The pull secret the nodes start from is the HostedCluster's
//!   (`spec.pullSecret`, on the management cluster). HCCO copies it into
//!   `kube-system/original-pull-secret` here (and into
//!   `openshift-config/pull-secret`, which it puts back when edited: never
//!   written here).
//! - The hosted cluster's administrator may add entries in
//!   `kube-system/additional-pull-secret` (type
//!   `kubernetes.io/dockerconfigjson`). HCCO validates it (JSON with at
//!   least one `auths` entry; an invalid one is only logged) and merges it
//!   with the original into `kube-system/global-pull-secret`.
//! - **Precedence changed between versions.** The first release (commit
//!   a60afa7, July 2025) let the additional entry overwrite the original's;
//!   since commit 5644ef2 (October 2025) `mergePullSecrets` says "If an auth
//!   entry already exists, the original pull secret will be kept" and
//!   suggests a namespaced (path-scoped) key instead. rhpull follows the
//!   current rule when planning (a key the original has is refused unless
//!   `--force`) and never assumes it afterwards: what the nodes get is read
//!   from `global-pull-secret` ([`merge_of`]).
//! - DaemonSet `kube-system/global-pull-secret-syncer` writes the merged
//!   secret (or, without an additional one, the original) to
//!   `/var/lib/kubelet/config.json` on every node it runs on, restarting
//!   the kubelet and rolling the file back after 3 failed restarts. Its pod
//!   template carries a hash of that content, so a change rolls its pods
//!   node by node. It runs only on nodes labelled
//!   `hypershift.openshift.io/nodepool-globalps-enabled=true`, which the
//!   HyperShift operator sets for AWS and Azure NodePools with the Replace
//!   upgrade type — not InPlace NodePools (to keep clear of the Machine
//!   Config Daemon), nor other platforms: those nodes keep what their
//!   ignition gave them.
//! - Deleting the additional secret deletes `global-pull-secret`; the
//!   DaemonSet stays and syncs the original alone ("If at some point the
//!   user deletes the additional pull secret, the daemonSet will not be
//!   removed"; the issue that asked for this said it went too, which was
//!   the first release).
//! - The syncer logs a failed sync and keeps running; only a pod that is
//!   not ready (crash-looping, say) shows in the API. So "every node has
//!   it" is what the DaemonSet's status says, and a failed kubelet restart
//!   that was rolled back is in the pod's log only.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, Preconditions};
use kube::runtime::watcher;
use rhpull_core::authfile::{AuthFile, AuthFormat, Change, keys};
use secrecy::ExposeSecret as _;

use crate::access::{Need, Verb};
use crate::error::{ClusterError, is_not_found};
use crate::global_edit::{Entry, Expected, GlobalEdit, RegistryChange};
use crate::watch::Step;
use crate::{Cluster, DryRun, pullsecret};

pub const NAMESPACE: &str = "kube-system";
pub const ADDITIONAL: &str = "additional-pull-secret";
pub const GLOBAL: &str = "global-pull-secret";
pub const ORIGINAL: &str = "original-pull-secret";
pub const SYNCER: &str = "global-pull-secret-syncer";
/// The label a node needs for the syncer to run there.
pub const ELIGIBLE: &str = "hypershift.openshift.io/nodepool-globalps-enabled";
/// The DaemonSet controller's label: the generation a pod was made for.
const TEMPLATE_GENERATION: &str = "pod-template-generation";
const KEY: &str = ".dockerconfigjson";

/// The three secrets, as read.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// The HostedCluster's (`original-pull-secret`, or the older
    /// `openshift-config/pull-secret` copy).
    pub original: AuthFile,
    /// `additional-pull-secret`, when there is one.
    pub additional: Option<(Secret, AuthFile)>,
    /// `global-pull-secret`, when HCCO has merged one.
    pub merged: Option<(Secret, AuthFile)>,
}

async fn file_of(
    cluster: &Cluster,
    name: &str,
) -> Result<Option<(Secret, AuthFile)>, ClusterError> {
    let Some(secret) = pullsecret::get(cluster, NAMESPACE, name).await? else {
        return Ok(None);
    };
    let (_, file) = pullsecret::auth_file_of(&secret)?;
    Ok(Some((secret, file)))
}

/// Reads the original, additional and merged pull secrets.
pub async fn secrets(cluster: &Cluster) -> Result<Secrets, ClusterError> {
    let original = match file_of(cluster, ORIGINAL).await? {
        Some((_, f)) => f,
        None => {
            let (ns, name) = (crate::global_edit::NAMESPACE, crate::global_edit::NAME);
            let secret = pullsecret::get(cluster, ns, name)
                .await?
                .ok_or(ClusterError::NotOpenShift4("openshift-config/pull-secret"))?;
            pullsecret::auth_file_of(&secret)?.1
        }
    };
    Ok(Secrets {
        original,
        additional: file_of(cluster, ADDITIONAL).await?,
        merged: file_of(cluster, GLOBAL).await?,
    })
}

/// What the syncer writes to the nodes: the merged secret, else the
/// original (`sync-global-pullsecret`: "global-pull-secret when present,
/// otherwise original-pull-secret", both in kube-system).
pub async fn nodes_secret(cluster: &Cluster) -> Result<Option<Secret>, ClusterError> {
    if let Some(s) = pullsecret::get(cluster, NAMESPACE, GLOBAL).await? {
        return Ok(Some(s));
    }
    original_secret(cluster).await
}

/// `kube-system/original-pull-secret`: the HostedCluster's pull secret,
/// which every node's ignition wrote, and which a node the syncer does not
/// run on (or has not reached) still has.
pub async fn original_secret(cluster: &Cluster) -> Result<Option<Secret>, ClusterError> {
    pullsecret::get(cluster, NAMESPACE, ORIGINAL).await
}

/// Where the syncer stands on each of `nodes`: only a node whose syncer
/// pod runs the current template has the merged secret.
pub async fn sync_states(
    cluster: &Cluster,
    nodes: &[Node],
) -> Result<BTreeMap<String, SyncState>, ClusterError> {
    let ds = syncer(cluster).await?;
    let pods = syncer_pods(cluster).await?;
    let status = syncer_status(ds.as_ref(), &pods, nodes);
    Ok(status
        .nodes
        .into_iter()
        .map(|n| (n.node, n.state))
        .collect())
}

fn entries(file: &AuthFile) -> Vec<rhpull_core::authfile::AuthEntry> {
    file.entries().unwrap_or_default()
}

/// True when `file` has an entry under `registry`'s key (normalised: HCCO
/// compares keys as written, but two spellings of one key would reach the
/// node as one registry).
fn has_key(file: &AuthFile, registry: &str) -> bool {
    let wanted = keys::normalize(registry);
    entries(file).iter().any(|e| e.registry == wanted)
}

/// An edit of the additional pull secret, planned against what was read.
#[derive(Clone, Debug)]
pub struct HostedPlan {
    pub changes: Vec<RegistryChange>,
    /// Keys the original also has: the original's entry is what nodes get
    /// (current HyperShift), whatever is written here.
    pub conflicts: Vec<String>,
    /// The edit empties the secret: it is deleted (HCCO refuses one
    /// without entries), and nodes go back to the original alone.
    pub deletes: bool,
    /// The secret as it will be written (`None`: created).
    existing: Option<Secret>,
    file: AuthFile,
    /// The HostedCluster's pull secret as read: which keys the merge lets
    /// it win.
    original: AuthFile,
    /// What the nodes get now, to tell a merge that changed it.
    pub merged_before: Option<Vec<u8>>,
    pub syncer_generation: Option<i64>,
}

impl HostedPlan {
    pub fn changes_anything(&self) -> bool {
        self.changes.iter().any(|c| c.change != Change::Unchanged)
    }

    /// The permission the write needs, if there is a write.
    pub fn need(&self) -> Option<Need> {
        if !self.changes_anything() {
            return None;
        }
        let verb = match (&self.existing, self.deletes) {
            (_, true) => Verb::Delete,
            (Some(_), false) => Verb::Update,
            (None, false) => Verb::Create,
        };
        Some(Need::on::<Secret>(verb, Some(NAMESPACE)))
    }
}

/// Plans `edit` on `kube-system/additional-pull-secret`. A set of a key
/// the original has is refused unless `force` (the original's entry wins
/// the merge today); a remove of a key only the original has is refused
/// (it is the HostedCluster's).
pub async fn plan(
    cluster: &Cluster,
    edit: &GlobalEdit,
    force: bool,
) -> Result<HostedPlan, ClusterError> {
    plan_read(cluster, secrets(cluster).await?, edit, force).await
}

/// [`plan`] from the secrets as already read (`rotate` reads them once,
/// for the entries it rotates and for the plan).
pub async fn plan_read(
    cluster: &Cluster,
    read: Secrets,
    edit: &GlobalEdit,
    force: bool,
) -> Result<HostedPlan, ClusterError> {
    let (existing, mut file) = match read.additional {
        Some((s, f)) => (Some(s), f),
        None => (
            None,
            AuthFile::new_empty(
                std::path::Path::new("secret kube-system/additional-pull-secret"),
                AuthFormat::Docker,
            ),
        ),
    };
    let conflicts: Vec<String> = match edit {
        GlobalEdit::Set(creds) => (creds.iter())
            .map(|c| keys::normalize(&c.registry))
            .filter(|r| has_key(&read.original, r))
            .collect(),
        GlobalEdit::Remove(_) => Vec::new(),
    };
    if !conflicts.is_empty() && !force {
        return Err(ClusterError::OriginalPullSecretWins {
            registries: conflicts,
        });
    }
    if let GlobalEdit::Remove(registry) = edit
        && !has_key(&file, registry)
        && has_key(&read.original, registry)
    {
        return Err(ClusterError::HostedClusterEntry {
            registry: keys::normalize(registry),
        });
    }
    let changes = edit.apply_to(&mut file);
    let deletes = existing.is_some() && entries(&file).is_empty();
    Ok(HostedPlan {
        changes,
        conflicts,
        deletes,
        existing,
        file,
        merged_before: read.merged.map(|(_, f)| f.to_compact_bytes()),
        original: read.original,
        syncer_generation: syncer(cluster)
            .await
            .ok()
            .flatten()
            .and_then(|d| d.metadata.generation),
    })
}

/// Writes the plan: create, conditional replace, or conditional delete
/// of the additional pull secret.
pub async fn write(
    cluster: &Cluster,
    plan: &HostedPlan,
    dry_run: DryRun,
) -> Result<(), ClusterError> {
    if !plan.changes_anything() || dry_run == DryRun::Client {
        return Ok(());
    }
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let at = |e| ClusterError::from_kube::<Secret>(e, NAMESPACE, ADDITIONAL);
    let data = ByteString(plan.file.to_secret_bytes());
    match (&plan.existing, plan.deletes) {
        (Some(existing), true) => {
            let params = DeleteParams {
                dry_run: dry_run == DryRun::Server,
                preconditions: Some(Preconditions {
                    resource_version: existing.metadata.resource_version.clone(),
                    uid: existing.metadata.uid.clone(),
                }),
                ..DeleteParams::default()
            };
            api.delete(ADDITIONAL, &params).await.map_err(at)?;
        }
        (Some(existing), false) => {
            let mut updated = existing.clone();
            updated
                .data
                .get_or_insert_with(Default::default)
                .insert(KEY.into(), data);
            api.replace(ADDITIONAL, &dry_run.post_params(), &updated)
                .await
                .map_err(at)?;
        }
        (None, _) => {
            let secret = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(ADDITIONAL.into()),
                    namespace: Some(NAMESPACE.into()),
                    ..Default::default()
                },
                type_: Some(crate::secret_types::DOCKER_CONFIG_JSON.into()),
                data: Some([(KEY.to_string(), data)].into()),
                ..Default::default()
            };
            // Made meanwhile by someone else: plan again on a fresh read.
            api.create(&dry_run.post_params(), &secret)
                .await
                .map_err(at)
                .map_err(|e| match e {
                    ClusterError::AlreadyExists { .. } => ClusterError::Conflict {
                        kind: "secret",
                        namespace: NAMESPACE.into(),
                        name: ADDITIONAL.into(),
                        attempts: 0,
                    },
                    other => other,
                })?;
        }
    }
    Ok(())
}

/// Where a merged entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Original,
    Additional,
}

/// One registry of what the nodes get (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MergedEntry {
    pub registry: String,
    pub username: String,
    pub from: Origin,
    /// Both secrets have the key; `from` says which one won.
    pub conflict: bool,
}

/// The merge as it stands: the additional entries, what the nodes get
/// registry by registry, and the additional entries the merge did not
/// take (the original's won, or it has not merged yet).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MergeState {
    pub additional: Vec<Entry>,
    pub merged: Vec<MergedEntry>,
    pub not_taken: Vec<String>,
    /// `global-pull-secret` exists.
    pub merged_secret: bool,
}

fn same(a: &rhpull_core::authfile::AuthEntry, b: &rhpull_core::authfile::AuthEntry) -> bool {
    a.username == b.username && a.secret.expose_secret() == b.secret.expose_secret()
}

/// Compares the merged secret (or, without one, the original) with the
/// original and additional secrets, registry by registry.
pub fn merge_of(read: &Secrets) -> MergeState {
    let original = entries(&read.original);
    let additional = read
        .additional
        .as_ref()
        .map(|(_, f)| entries(f))
        .unwrap_or_default();
    let nodes = match &read.merged {
        Some((_, f)) => entries(f),
        None => original.clone(),
    };
    let find = |list: &[rhpull_core::authfile::AuthEntry], r: &str| {
        list.iter().find(|e| e.registry == r).cloned()
    };
    let merged = nodes
        .iter()
        .map(|e| {
            let o = find(&original, &e.registry);
            let a = find(&additional, &e.registry);
            let from = match (&o, &a) {
                (_, Some(a)) if same(a, e) => Origin::Additional,
                _ => Origin::Original,
            };
            MergedEntry {
                registry: e.registry.clone(),
                username: e.username.clone(),
                from,
                conflict: o.is_some() && a.is_some(),
            }
        })
        .collect();
    let not_taken = additional
        .iter()
        .filter(|a| !find(&nodes, &a.registry).is_some_and(|n| same(a, &n)))
        .map(|a| a.registry.clone())
        .collect();
    MergeState {
        additional: (additional.iter())
            .map(|e| Entry {
                registry: e.registry.clone(),
                username: e.username.clone(),
            })
            .collect(),
        merged,
        not_taken,
        merged_secret: read.merged.is_some(),
    }
}

/// One node and its syncer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NodeSync {
    pub node: String,
    pub pod: Option<String>,
    pub state: SyncState,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Its pod runs the current template and is ready.
    Updated,
    /// Its pod is older, or starting.
    Updating,
    /// Its pod is not ready and failing (crash-looping, say).
    Failing { reason: String },
    /// Eligible, but no pod yet.
    NoPod,
    /// Not labelled for the syncer: it keeps what its ignition gave it.
    NotEligible,
}

/// The syncer DaemonSet's progress, node by node.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SyncerStatus {
    pub present: bool,
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub generation: i64,
    pub observed_generation: i64,
    pub nodes: Vec<NodeSync>,
}

impl SyncerStatus {
    /// The DaemonSet controller reports every eligible node updated and
    /// ready, about its latest spec (what `kubectl rollout status` waits for).
    pub fn settled(&self) -> bool {
        self.present
            && self.observed_generation >= self.generation
            && self.updated == self.desired
            && self.ready == self.desired
    }

    pub fn failing(&self) -> Vec<&NodeSync> {
        (self.nodes.iter())
            .filter(|n| matches!(n.state, SyncState::Failing { .. }))
            .collect()
    }
}

async fn syncer(cluster: &Cluster) -> Result<Option<DaemonSet>, ClusterError> {
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    match api.get(SYNCER).await {
        Ok(d) => Ok(Some(d)),
        Err(e) if is_not_found::<DaemonSet>(&e) => Ok(None),
        Err(e) => Err(ClusterError::from_kube::<DaemonSet>(e, NAMESPACE, SYNCER)),
    }
}

/// Why a syncer pod is failing, if it is.
fn failing_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let c = status.container_statuses.as_ref()?.first()?;
    if c.ready {
        return None;
    }
    let state = c.state.as_ref()?;
    if let Some(w) = &state.waiting {
        let reason = w.reason.clone().unwrap_or_default();
        const FAILING: &[&str] = &[
            "CrashLoopBackOff",
            "Error",
            "CreateContainerError",
            "CreateContainerConfigError",
            "RunContainerError",
            "ImagePullBackOff",
            "ErrImagePull",
        ];
        return FAILING.contains(&reason.as_str()).then_some(reason);
    }
    state
        .terminated
        .as_ref()
        .filter(|t| t.exit_code != 0)
        .map(|t| {
            t.reason
                .clone()
                .unwrap_or_else(|| format!("exit code {}", t.exit_code))
        })
}

fn pod_generation(pod: &Pod) -> Option<i64> {
    pod.metadata
        .labels
        .as_ref()?
        .get(TEMPLATE_GENERATION)?
        .parse()
        .ok()
}

fn pod_ready(pod: &Pod) -> bool {
    (pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref()))
    .and_then(|c| c.first())
    .is_some_and(|c| c.ready)
}

/// The syncer's status from its DaemonSet, pods and the nodes.
fn syncer_status(ds: Option<&DaemonSet>, pods: &[Pod], nodes: &[Node]) -> SyncerStatus {
    let Some(ds) = ds else {
        return SyncerStatus::default();
    };
    let generation = ds.metadata.generation.unwrap_or_default();
    let s = ds.status.clone().unwrap_or_default();
    let mut by_node: BTreeMap<String, &Pod> = BTreeMap::new();
    for p in pods {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
            // The newest generation's pod speaks for the node.
            let keep = by_node
                .get(&n)
                .is_none_or(|old| pod_generation(old) < pod_generation(p));
            if keep {
                by_node.insert(n, p);
            }
        }
    }
    let nodes = nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone().map(|name| (name, n)))
        .map(|(name, n)| {
            let eligible = (n.metadata.labels.as_ref())
                .and_then(|l| l.get(ELIGIBLE))
                .is_some_and(|v| v == "true");
            let pod = by_node.get(&name);
            let state = match pod {
                _ if !eligible => SyncState::NotEligible,
                None => SyncState::NoPod,
                Some(p) => match failing_reason(p) {
                    Some(reason) => SyncState::Failing { reason },
                    None if pod_generation(p) == Some(generation) && pod_ready(p) => {
                        SyncState::Updated
                    }
                    None => SyncState::Updating,
                },
            };
            NodeSync {
                node: name,
                pod: pod.and_then(|p| p.metadata.name.clone()),
                state,
            }
        })
        .collect();
    SyncerStatus {
        present: true,
        desired: s.desired_number_scheduled,
        updated: s.updated_number_scheduled.unwrap_or_default(),
        ready: s.number_ready,
        generation,
        observed_generation: s.observed_generation.unwrap_or_default(),
        nodes,
    }
}

async fn syncer_pods(cluster: &Cluster) -> Result<Vec<Pod>, ClusterError> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let params = ListParams::default().labels(&format!("name={SYNCER}"));
    crate::list::filter_map(&api, params, Some)
        .await
        .map_err(|e| ClusterError::from_kube::<Pod>(e, NAMESPACE, ""))
}

async fn all_nodes(cluster: &Cluster) -> Result<Vec<Node>, ClusterError> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    crate::list::filter_map(&api, ListParams::default(), Some)
        .await
        .map_err(|e| ClusterError::from_kube::<Node>(e, "", ""))
}

/// `global status` on a hosted cluster: the merge and the syncer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HostedStatus {
    pub merge: MergeState,
    pub syncer: SyncerStatus,
}

pub async fn status(cluster: &Cluster) -> Result<HostedStatus, ClusterError> {
    let read = secrets(cluster).await?;
    let ds = syncer(cluster).await?;
    let (pods, nodes) = futures::try_join!(syncer_pods(cluster), all_nodes(cluster))?;
    Ok(HostedStatus {
        merge: merge_of(&read),
        syncer: syncer_status(ds.as_ref(), &pods, &nodes),
    })
}

/// How following a hosted change ended.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum HostedOutcome {
    /// Merged, and every eligible node's syncer runs it.
    Done { nodes: i32 },
    /// A node's syncer fails: the rollout stops there.
    Failing {
        node: String,
        pod: String,
        reason: String,
    },
    /// Time ran out: how far it got.
    TimedOut {
        merged: bool,
        updated: i32,
        desired: i32,
    },
}

/// A followed change: how it ended, and the merge as last read.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HostedWaited {
    #[serde(flatten)]
    pub outcome: HostedOutcome,
    /// Registries asked for that the merge did not take (the original's
    /// entry won).
    pub overridden: Vec<String>,
}

impl HostedWaited {
    pub fn done(&self) -> bool {
        matches!(self.outcome, HostedOutcome::Done { .. })
    }
}

/// How long a forced key's merge is given to show the additional entry
/// before the original's is taken as the winner.
const FORCED_GRACE: Duration = Duration::from_secs(5);
/// How often a wait looks again without news (for that grace).
const TICK: Duration = Duration::from_millis(500);

/// The latest of what a wait watches.
#[derive(Default)]
struct Seen {
    merged: Option<Secret>,
    ds: Option<DaemonSet>,
    pods: BTreeMap<String, Pod>,
    nodes: Vec<Node>,
}

/// What a wait's watches bring.
enum Watched {
    Merged(Secret),
    Ds(DaemonSet),
    Pod(Pod),
}

/// Follows a change of the additional pull secret to the nodes, with
/// watches on `global-pull-secret`, the syncer DaemonSet and its pods (no
/// polling): first until the merge shows `expected` (a registry whose
/// original entry won counts as merged, and is reported), then — when
/// what the nodes get changed — until the DaemonSet has a newer
/// generation and reports every eligible node updated and ready. A node
/// whose syncer fails ends it at once; so does `timeout`.
pub async fn wait(
    cluster: &Cluster,
    plan: &HostedPlan,
    expected: &Expected,
    timeout: Duration,
    progress: &(dyn Fn(&SyncerStatus) + Sync),
) -> Result<HostedWaited, ClusterError> {
    let nodes = all_nodes(cluster).await?;
    let mut seen = Seen {
        nodes,
        ..Seen::default()
    };
    let secrets_api: Api<Secret> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let ds_api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let pods_api: Api<Pod> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let by_name = |name: &str| watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut watches = crate::watch::Watches::default();
    let merged = watches.watch(secrets_api, NAMESPACE, by_name(GLOBAL), Watched::Merged);
    let ds = watches.watch(ds_api, NAMESPACE, by_name(SYNCER), Watched::Ds);
    let pod_config = watcher::Config::default().labels(&format!("name={SYNCER}"));
    let pods = watches.watch(pods_api, NAMESPACE, pod_config, Watched::Pod);
    watches.tick(TICK);
    let mut events = watches.follow();
    let started = tokio::time::Instant::now();
    let mut result = None;
    let follow = async {
        while let Some(step) = events.next().await {
            let (index, step) = step?;
            match step {
                Step::Applied(Watched::Merged(s)) => seen.merged = Some(s),
                Step::Applied(Watched::Ds(d)) => seen.ds = Some(d),
                Step::Applied(Watched::Pod(p)) => {
                    seen.pods
                        .insert(p.metadata.name.clone().unwrap_or_default(), p);
                }
                Step::Deleted(Watched::Merged(_)) => seen.merged = None,
                Step::Deleted(Watched::Ds(_)) => seen.ds = None,
                Step::Deleted(Watched::Pod(p)) => {
                    seen.pods
                        .remove(&p.metadata.name.clone().unwrap_or_default());
                }
                // Listed again: what it had seen may be gone.
                Step::Relisting if index == merged => seen.merged = None,
                Step::Relisting if index == ds => seen.ds = None,
                Step::Relisting if index == pods => seen.pods.clear(),
                _ => {}
            }
            if !events.all_listed() {
                continue;
            }
            let pods: Vec<Pod> = seen.pods.values().cloned().collect();
            let status = syncer_status(seen.ds.as_ref(), &pods, &seen.nodes);
            progress(&status);
            let grace_over = started.elapsed() >= FORCED_GRACE;
            let judged = judge(plan, expected, &seen, &status, grace_over);
            if let Some(outcome) = judged.end {
                result = Some(HostedWaited {
                    outcome,
                    overridden: judged.overridden,
                });
                return Ok(());
            }
        }
        Ok(())
    };
    if let Ok(Err(e)) = tokio::time::timeout(timeout, follow).await {
        return Err(e);
    }
    if let Some(done) = result {
        return Ok(done);
    }
    let pods: Vec<Pod> = seen.pods.values().cloned().collect();
    let status = syncer_status(seen.ds.as_ref(), &pods, &seen.nodes);
    let judged = judge(plan, expected, &seen, &status, true);
    Ok(HostedWaited {
        outcome: HostedOutcome::TimedOut {
            merged: judged.merged,
            updated: status.updated,
            desired: status.desired,
        },
        overridden: judged.overridden,
    })
}

struct Judged {
    merged: bool,
    overridden: Vec<String>,
    end: Option<HostedOutcome>,
}

/// Where a followed change stands.
/// `plan.original` is the HostedCluster's pull secret as the plan read
/// it: this edit does not change it.
fn judge(
    plan: &HostedPlan,
    expected: &Expected,
    seen: &Seen,
    status: &SyncerStatus,
    grace_over: bool,
) -> Judged {
    let original = &plan.original;
    let merged_file = seen
        .merged
        .as_ref()
        .and_then(|s| pullsecret::auth_file_of(s).ok())
        .map(|(_, f)| f);
    let nodes_get = entries(merged_file.as_ref().unwrap_or(original));
    let got = |r: &str| {
        let wanted = keys::normalize(r);
        nodes_get.iter().find(|e| e.registry == wanted)
    };
    let mut overridden = Vec::new();
    let mut merged = true;
    for c in &expected.present {
        match got(&c.registry) {
            Some(e)
                if e.username == c.username
                    && e.secret.expose_secret() == c.secret.expose_secret() => {}
            // The original's entry still there: the merge let it win — or
            // has not run yet, which looks the same (HCCO writes nothing
            // when the merge does not change). So it counts only once the
            // merge has had its grace.
            Some(_) if has_key(original, &c.registry) && grace_over => {
                overridden.push(keys::normalize(&c.registry));
            }
            _ => merged = false,
        }
    }
    for r in &expected.absent {
        if got(r).is_some() && !has_key(original, r) {
            merged = false;
        }
    }
    if plan.deletes && seen.merged.is_some() {
        merged = false;
    }
    let mut end = None;
    if let Some(f) = status.failing().first() {
        end = Some(HostedOutcome::Failing {
            node: f.node.clone(),
            pod: f.pod.clone().unwrap_or_default(),
            reason: match &f.state {
                SyncState::Failing { reason } => reason.clone(),
                _ => String::new(),
            },
        });
    } else if merged {
        let now = merged_file.as_ref().map(AuthFile::to_compact_bytes);
        let nodes_change = now != plan.merged_before;
        let moved = !nodes_change || status.generation > plan.syncer_generation.unwrap_or_default();
        if moved && status.settled() {
            end = Some(HostedOutcome::Done {
                nodes: status.desired,
            });
        }
    }
    Judged {
        merged,
        overridden,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> AuthFile {
        AuthFile::parse(
            std::path::Path::new("t"),
            AuthFormat::Docker,
            json.as_bytes(),
        )
        .unwrap()
    }

    fn secret() -> Secret {
        Secret::default()
    }

    #[test]
    fn the_merge_says_where_each_entry_came_from_and_what_it_did_not_take() {
        // base64 of "o:orig", "a:add", "r:robot"
        let read = Secrets {
            original: file(r#"{"auths": {"quay.io": {"auth": "bzpvcmln"}}}"#),
            additional: Some((
                secret(),
                file(
                    r#"{"auths": {"quay.io": {"auth": "YTphZGQ="}, "r.example": {"auth": "cjpyb2JvdA=="}}}"#,
                ),
            )),
            merged: Some((
                secret(),
                file(
                    r#"{"auths": {"quay.io": {"auth": "bzpvcmln"}, "r.example": {"auth": "cjpyb2JvdA=="}}}"#,
                ),
            )),
        };
        let m = merge_of(&read);
        let quay = m.merged.iter().find(|e| e.registry == "quay.io").unwrap();
        assert_eq!((quay.from, quay.conflict), (Origin::Original, true));
        let r = m.merged.iter().find(|e| e.registry == "r.example").unwrap();
        assert_eq!((r.from, r.conflict), (Origin::Additional, false));
        assert_eq!(m.not_taken, vec!["quay.io".to_string()]);
        assert!(m.merged_secret);
    }

    #[test]
    fn without_a_merged_secret_the_nodes_get_the_original_and_nothing_is_taken_yet() {
        let read = Secrets {
            original: file(r#"{"auths": {"quay.io": {"auth": "bzpvcmln"}}}"#),
            additional: Some((
                secret(),
                file(r#"{"auths": {"r.example": {"auth": "cjpyb2JvdA=="}}}"#),
            )),
            merged: None,
        };
        let m = merge_of(&read);
        assert_eq!(m.merged.len(), 1);
        assert_eq!(m.merged[0].from, Origin::Original);
        assert_eq!(m.not_taken, vec!["r.example".to_string()]);
    }

    #[test]
    fn a_settled_syncer_is_about_its_latest_generation() {
        let mut s = SyncerStatus {
            present: true,
            desired: 3,
            updated: 3,
            ready: 3,
            generation: 4,
            observed_generation: 4,
            nodes: Vec::new(),
        };
        assert!(s.settled());
        s.observed_generation = 3;
        assert!(!s.settled(), "status about an older spec");
        s.observed_generation = 4;
        s.ready = 2;
        assert!(!s.settled());
    }
}
