//! OpenShift 4: the global pull secret reaches the nodes through the
//! Machine Config Operator. It renders the secret into a MachineConfig and
//! moves each MachineConfigPool's nodes to it one at a time; until a node
//! has the new file, pods there pull with the old credentials. Here: what
//! each pool's nodes have ([`status`]), and following a change until every
//! pool has it ([`wait`], with a watch on the pools, not a poll).
//!
//! A pool is done with a change when the operator reports it `Updated`,
//! every machine is updated, `observedGeneration` has caught up with the
//! pool's generation (so the status speaks of the latest rendered config),
//! and the rendered config every machine now runs (`status.configuration`)
//! holds the change, read from the MachineConfig itself.
//!
//! Hosted control planes (HyperShift, ROSA HCP; `Infrastructure`
//! `status.controlPlaneTopology: External`) have no pools: the pull secret
//! is the HostedCluster's, on the management cluster, and the hosted
//! cluster's copy is overwritten from it ([`crate::discovery::hosted`]).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, ListParams};
use kube::runtime::watcher;
use rhpull_core::Credential;

use crate::Cluster;
use crate::error::{ClusterError, is_not_found};
pub use crate::global_edit::Expected;
use crate::kinds::MachineConfigPool;
use crate::nodes::machineconfig::{self, Agreement, FileFault, NodeFile, RegistryAgreement};
use crate::watch::Step;

/// The node annotations the Machine Config Daemon keeps.
pub const CURRENT_CONFIG: &str = "machineconfiguration.openshift.io/currentConfig";
pub const STATE: &str = "machineconfiguration.openshift.io/state";

/// One pool, as far as a rollout goes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pool {
    pub name: String,
    pub machines: i64,
    pub updated: i64,
    pub degraded: i64,
    pub paused: bool,
    /// The rendered config the pool moves to (`spec.configuration`).
    pub target: String,
    /// The rendered config every machine has (`status.configuration`).
    pub current: String,
    /// The `NodeDegraded` (else `Degraded`) condition's message, when true.
    pub degraded_message: Option<String>,
    #[serde(skip)]
    generation: i64,
    #[serde(skip)]
    observed_generation: i64,
    #[serde(skip)]
    updated_condition: bool,
    #[serde(skip)]
    node_labels: BTreeMap<String, String>,
}

impl Pool {
    pub fn of(p: &MachineConfigPool) -> Self {
        let s = &p.status;
        let degraded = s
            .true_condition("NodeDegraded")
            .or_else(|| s.true_condition("Degraded"));
        Self {
            name: p.metadata.name.clone().unwrap_or_default(),
            machines: s.machine_count,
            updated: s.updated_machine_count,
            degraded: s.degraded_machine_count,
            paused: p.spec.paused,
            target: p.spec.configuration.name.clone(),
            current: s.configuration.name.clone(),
            degraded_message: degraded.map(|c| {
                c.message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or_else(|| c.reason.clone())
                    .unwrap_or_default()
            }),
            generation: p.metadata.generation.unwrap_or_default(),
            observed_generation: s.observed_generation,
            updated_condition: s.true_condition("Updated").is_some(),
            node_labels: p
                .spec
                .node_selector
                .as_ref()
                .and_then(|s| s.match_labels.clone())
                .unwrap_or_default(),
        }
    }

    /// Every machine runs the target, and the status is about the latest
    /// spec.
    pub fn settled(&self) -> bool {
        self.updated_condition
            && self.updated == self.machines
            && self.observed_generation >= self.generation
            && !self.current.is_empty()
            && self.current == self.target
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded_message.is_some() || self.degraded > 0
    }

    /// `node-role.kubernetes.io/worker=` for the pool's nodes.
    fn node_selector(&self) -> String {
        let labels: Vec<String> = self
            .node_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.join(",")
    }
}

/// Every pool; a cluster without any says why.
pub async fn pools(cluster: &Cluster) -> Result<Vec<Pool>, ClusterError> {
    let api: Api<MachineConfigPool> = Api::all(cluster.client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) if !list.items.is_empty() => Ok(list.items.iter().map(Pool::of).collect()),
        Ok(_) => Err(no_pools(cluster).await),
        Err(e) if is_not_found::<MachineConfigPool>(&e) => Err(no_pools(cluster).await),
        Err(e) => Err(ClusterError::from_kube::<MachineConfigPool>(e, "", "")),
    }
}

async fn no_pools(cluster: &Cluster) -> ClusterError {
    if crate::discovery::hosted(&cluster.client).await {
        ClusterError::HostedControlPlane
    } else {
        ClusterError::NotOpenShift4("MachineConfigPools")
    }
}

/// What one pool's machines have of the global pull secret.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Holds {
    /// Every machine has the current global pull secret.
    Current,
    /// The target has it; the machines are moving to it.
    RollingOut,
    /// Neither what the machines run nor the target has it yet (the
    /// operator has not rendered the change, or cannot).
    Behind,
    /// The rendered config cannot be read.
    Unknown {
        config: String,
        #[serde(flatten)]
        why: FileFault,
    },
}

/// One pool and what its machines hold.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PoolHolding {
    #[serde(flatten)]
    pub pool: Pool,
    pub holds: Holds,
    /// Registry by registry, what the machines run against the global
    /// pull secret (no secrets).
    pub registries: Vec<RegistryAgreement>,
}

/// `global status`: every pool, and the registries not yet on all.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RolloutStatus {
    pub pools: Vec<PoolHolding>,
    /// Registries whose entry some pool's machines lack or hold differently.
    pub not_everywhere: Vec<NotEverywhere>,
}

/// A registry and the pools whose machines do not have it as the global
/// pull secret has it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NotEverywhere {
    pub registry: String,
    pub pools: Vec<String>,
}

/// Reads the pools, the global pull secret and each pool's rendered
/// configs, and compares them registry by registry.
pub async fn status(cluster: &Cluster) -> Result<RolloutStatus, ClusterError> {
    let pools = pools(cluster).await?;
    let global = crate::global::credentials(cluster).await?;
    let mut files = Files::default();
    let mut out = Vec::new();
    for pool in pools {
        let current = files.get(cluster, &pool.current).await?;
        let (holds, registries) = match current {
            NodeFile::Credentials(c) => {
                let registries = machineconfig::compare(&global, &c);
                let holds = if machineconfig::all_same(&registries) {
                    Holds::Current
                } else if pool.target != pool.current
                    && files.agrees(cluster, &pool.target, &global).await?
                {
                    Holds::RollingOut
                } else {
                    Holds::Behind
                };
                (holds, registries)
            }
            NodeFile::Missing => (
                Holds::Unknown {
                    config: pool.current.clone(),
                    why: FileFault::NoKubeletFile,
                },
                Vec::new(),
            ),
            NodeFile::Unreadable(why) => (
                Holds::Unknown {
                    config: pool.current.clone(),
                    why,
                },
                Vec::new(),
            ),
        };
        out.push(PoolHolding {
            pool,
            holds,
            registries,
        });
    }
    Ok(RolloutStatus {
        not_everywhere: not_everywhere(&out),
        pools: out,
    })
}

fn not_everywhere(pools: &[PoolHolding]) -> Vec<NotEverywhere> {
    let mut by_registry: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in pools {
        for r in p
            .registries
            .iter()
            .filter(|r| r.agreement != Agreement::Same)
        {
            by_registry
                .entry(r.registry.clone())
                .or_default()
                .push(p.pool.name.clone());
        }
    }
    by_registry
        .into_iter()
        .map(|(registry, pools)| NotEverywhere { registry, pools })
        .collect()
}

/// Rendered configs read once each (they never change once rendered).
#[derive(Debug, Default)]
struct Files(BTreeMap<String, NodeFile>);

impl Files {
    async fn get(&mut self, cluster: &Cluster, name: &str) -> Result<NodeFile, ClusterError> {
        if name.is_empty() {
            return Ok(NodeFile::Unreadable(FileFault::NoRenderedConfig));
        }
        if let Some(f) = self.0.get(name) {
            return Ok(f.clone());
        }
        let file = match machineconfig::get(cluster, name).await? {
            Some(mc) => machineconfig::kubelet_file(&mc),
            None => NodeFile::Unreadable(FileFault::ConfigNotFound),
        };
        self.0.insert(name.to_string(), file.clone());
        Ok(file)
    }

    async fn agrees(
        &mut self,
        cluster: &Cluster,
        name: &str,
        global: &[Credential],
    ) -> Result<bool, ClusterError> {
        Ok(match self.get(cluster, name).await? {
            NodeFile::Credentials(c) => {
                machineconfig::all_same(&machineconfig::compare(global, &c))
            }
            _ => false,
        })
    }
}

impl Expected {
    fn met_by(&self, file: &NodeFile) -> bool {
        let NodeFile::Credentials(on_nodes) = file else {
            return false;
        };
        let find = |r: &str| on_nodes.iter().find(|c| c.registry == r);
        self.present
            .iter()
            .all(|p| find(&p.registry).is_some_and(|n| n.same_login(p)))
            && self.absent.iter().all(|a| find(a).is_none())
    }
}

/// How following one pool ended.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PoolOutcome {
    /// Every machine has the change.
    Done { config: String },
    /// A node failed; the operator stops the pool there.
    Degraded { message: String, nodes: Vec<String> },
    /// The pool is paused: it will not update until unpaused.
    Paused,
    /// Still going when the time was up: `updated` of `machines` have the
    /// change — none while the operator had not rendered it yet
    /// (`rendered` false: the pool's counts are then about the previous
    /// config).
    TimedOut {
        updated: i64,
        machines: i64,
        rendered: bool,
    },
}

/// One pool and how following it ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PoolEnd {
    pub pool: String,
    #[serde(flatten)]
    pub outcome: PoolOutcome,
}

/// Each pool and how following it ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Waited {
    pub pools: Vec<PoolEnd>,
    /// The wait ended before the pools could be read at all: nothing is
    /// known of the rollout (never "no pools").
    pub ended_before_reading: bool,
}

impl Waited {
    pub fn all_done(&self) -> bool {
        !self.ended_before_reading
            && self
                .pools
                .iter()
                .all(|p| matches!(p.outcome, PoolOutcome::Done { .. }))
    }
}

/// Follows every pool until it has `expected`, is degraded or paused, or
/// `timeout` passes; `progress` hears each pool's news. One list and one
/// watch of the pools, plus a read of each new rendered config and, for a
/// degraded pool, of its nodes.
pub async fn wait(
    cluster: &Cluster,
    expected: &Expected,
    timeout: Duration,
    progress: &(dyn Fn(&Pool) + Sync),
) -> Result<Waited, ClusterError> {
    let mut follow = Follow {
        cluster,
        expected,
        files: Files::default(),
        pools: BTreeMap::new(),
        ended: BTreeMap::new(),
    };
    let finished = tokio::time::timeout(timeout, follow.run(progress)).await;
    let timed_out = match finished {
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => false,
        Err(_) => true,
    };
    if timed_out && follow.pools.is_empty() {
        // Cut short before the first list answered: that says nothing of
        // whether the cluster has pools.
        return Ok(Waited {
            pools: Vec::new(),
            ended_before_reading: true,
        });
    }
    if timed_out {
        follow.end_the_rest().await;
    }
    if follow.pools.is_empty() && follow.ended.is_empty() {
        return Err(no_pools(cluster).await);
    }
    let pools = follow.ended.into_iter();
    Ok(Waited {
        pools: pools
            .map(|(pool, outcome)| PoolEnd { pool, outcome })
            .collect(),
        ended_before_reading: false,
    })
}

/// The state of a [`wait`]: the pools as last seen, and those that ended.
struct Follow<'a> {
    cluster: &'a Cluster,
    expected: &'a Expected,
    files: Files,
    pools: BTreeMap<String, Pool>,
    ended: BTreeMap<String, PoolOutcome>,
}

impl Follow<'_> {
    async fn run(&mut self, progress: &(dyn Fn(&Pool) + Sync)) -> Result<(), ClusterError> {
        let api: Api<MachineConfigPool> = Api::all(self.cluster.client.clone());
        let mut watches = crate::watch::Watches::default();
        watches.watch(api, "", watcher::Config::default(), |p| Pool::of(&p));
        let mut steps = watches.follow();
        while let Some(step) = steps.next().await {
            let pool = match step?.1 {
                Step::Applied(pool) => pool,
                Step::Listed => {
                    if self.pools.is_empty() || self.all_ended() {
                        return Ok(());
                    }
                    continue;
                }
                _ => continue,
            };
            progress(&pool);
            self.see(pool).await?;
            if steps.all_listed() && self.all_ended() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// True when the pool's target already holds the change: a pool
    /// degraded before the operator rendered it may recover once it does.
    async fn targets_change(&mut self, pool: &Pool) -> Result<bool, ClusterError> {
        let target = self.files.get(self.cluster, &pool.target).await?;
        Ok(self.expected.met_by(&target))
    }

    /// The pools still going when the time was up: how many machines have
    /// the change, which is none while the operator has not rendered it.
    async fn end_the_rest(&mut self) {
        let going: Vec<Pool> = (self.pools.values())
            .filter(|p| !self.ended.contains_key(&p.name))
            .cloned()
            .collect();
        for pool in going {
            let rendered = self.targets_change(&pool).await.unwrap_or(false);
            let outcome = PoolOutcome::TimedOut {
                updated: if rendered { pool.updated } else { 0 },
                machines: pool.machines,
                rendered,
            };
            self.ended.insert(pool.name.clone(), outcome);
        }
    }

    fn all_ended(&self) -> bool {
        self.pools.keys().all(|k| self.ended.contains_key(k))
    }

    /// Decides whether a pool's news ends following it.
    async fn see(&mut self, pool: Pool) -> Result<(), ClusterError> {
        let name = pool.name.clone();
        self.pools.insert(name.clone(), pool.clone());
        if self.ended.contains_key(&name) {
            return Ok(());
        }
        let outcome = if pool.settled()
            && self
                .expected
                .met_by(&self.files.get(self.cluster, &pool.current).await?)
        {
            Some(PoolOutcome::Done {
                config: pool.current.clone(),
            })
        } else if pool.is_degraded() && self.targets_change(&pool).await? {
            Some(PoolOutcome::Degraded {
                message: pool.degraded_message.clone().unwrap_or_default(),
                nodes: degraded_nodes(self.cluster, &pool).await,
            })
        } else if pool.paused {
            Some(PoolOutcome::Paused)
        } else {
            None
        };
        if let Some(o) = outcome {
            self.ended.insert(name, o);
        }
        Ok(())
    }
}

/// The pool's nodes whose daemon reports a failure (best effort: a node
/// list that cannot be read leaves the names out, not the outcome).
async fn degraded_nodes(cluster: &Cluster, pool: &Pool) -> Vec<String> {
    let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(cluster.client.clone());
    let params = ListParams::default().labels(&pool.node_selector());
    let Ok(list) = api.list(&params).await else {
        return Vec::new();
    };
    list.items
        .iter()
        .filter(|n| {
            n.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(STATE))
                .is_some_and(|s| s == "Degraded" || s == "Unreconcilable")
        })
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pool(v: serde_json::Value) -> Pool {
        Pool::of(&serde_json::from_value(v).unwrap())
    }

    fn base() -> serde_json::Value {
        json!({
            "metadata": {"name": "worker", "generation": 5},
            "spec": {"configuration": {"name": "rendered-worker-b"},
                     "nodeSelector": {"matchLabels": {"node-role.kubernetes.io/worker": ""}}},
            "status": {"observedGeneration": 5, "machineCount": 3, "updatedMachineCount": 3,
                       "configuration": {"name": "rendered-worker-b"},
                       "conditions": [{"type": "Updated", "status": "True"},
                                      {"type": "Degraded", "status": "False"}]},
        })
    }

    #[test]
    fn a_pool_is_settled_only_when_the_status_is_about_its_latest_spec() {
        assert!(pool(base()).settled());
        let mut old_status = base();
        old_status["metadata"]["generation"] = json!(6);
        assert!(!pool(old_status).settled(), "observedGeneration behind");
        let mut midway = base();
        midway["status"]["updatedMachineCount"] = json!(2);
        assert!(!pool(midway).settled());
        let mut moving = base();
        moving["status"]["configuration"]["name"] = json!("rendered-worker-a");
        assert!(!pool(moving).settled());
        let mut not_updated = base();
        not_updated["status"]["conditions"][0]["status"] = json!("False");
        assert!(!pool(not_updated).settled());
    }

    #[test]
    fn degraded_pools_carry_the_operators_message() {
        let mut v = base();
        v["status"]["conditions"] = json!([
            {"type": "NodeDegraded", "status": "True", "reason": "1 nodes are reporting degraded status on sync",
             "message": "Node worker-0 is reporting: \"boom\""},
            {"type": "Degraded", "status": "True", "reason": "", "message": ""},
        ]);
        let p = pool(v);
        assert!(p.is_degraded());
        assert_eq!(
            p.degraded_message.as_deref(),
            Some("Node worker-0 is reporting: \"boom\"")
        );
        assert_eq!(p.node_selector(), "node-role.kubernetes.io/worker=");
    }

    #[test]
    fn a_change_is_met_by_logins_and_absences() {
        let c = |r: &str, p: &str| Credential::new(r, "u", p);
        let expected = Expected {
            present: vec![c("quay.io", "new")],
            absent: vec!["gone.example".into()],
        };
        let file = |v: Vec<Credential>| NodeFile::Credentials(v);
        assert!(expected.met_by(&file(vec![c("quay.io", "new"), c("x.example", "p")])));
        assert!(!expected.met_by(&file(vec![c("quay.io", "old")])));
        assert!(!expected.met_by(&file(vec![c("quay.io", "new"), c("gone.example", "p")])));
        assert!(!expected.met_by(&NodeFile::Missing));
    }
}
