//! The emulator's shared state: objects, users, faults, request counters and
//! the event broadcast that watches and controllers listen to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::broadcast;

use super::authz::User;
use super::store::{Event, Store};

/// A fault to inject on matching requests, `remaining` times.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct Fault {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`; any when absent.
    #[serde(default)]
    pub verb: Option<String>,
    /// Plural resource name (`secrets`); any when absent.
    #[serde(default)]
    pub resource: Option<String>,
    /// Added latency before answering.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Answer with this status (a `Status` body) instead of serving.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Cut the connection instead of answering.
    #[serde(default)]
    pub drop_connection: bool,
    #[serde(default = "one")]
    pub remaining: u32,
}

fn one() -> u32 {
    1
}

impl Default for Fault {
    /// Matches everything, once, and does nothing until a field says what.
    fn default() -> Self {
        Self {
            verb: None,
            resource: None,
            latency_ms: None,
            status: None,
            retry_after: None,
            drop_connection: false,
            remaining: one(),
        }
    }
}

/// The pools a new cluster has, and how many machines each.
#[derive(Clone, Debug)]
pub struct Machines {
    pub masters: u32,
    pub workers: u32,
    /// How long the daemon takes to apply a config on one node.
    pub delay: Duration,
}

impl Default for Machines {
    fn default() -> Self {
        Self {
            masters: 3,
            workers: 3,
            delay: Duration::from_millis(50),
        }
    }
}

/// What the operator is doing: pools being rolled out, and pools whose next
/// node update fails with a message.
#[derive(Debug, Default)]
pub struct Operator {
    pub rolling: BTreeSet<String>,
    pub degrade: BTreeMap<String, String>,
}

/// Hosted control planes: which entry HyperShift's merge keeps when both
/// secrets have a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Merge {
    /// HyperShift today: "If an auth entry already exists, the original
    /// pull secret will be kept".
    #[default]
    OriginalWins,
    /// HyperShift's first release of the feature (July 2025).
    AdditionalWins,
}

/// HyperShift's pull secret syncer: rolling out, and the nodes whose
/// syncer fails (its runtime state, as the MCO's is [`Operator`]).
#[derive(Debug, Default)]
pub struct Syncer {
    pub rolling: bool,
    pub failing: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub flavour: super::resources::Flavour,
    /// Serves Open Cluster Management's hub CRDs.
    pub hub: bool,
    /// Kyverno's CRDs, at a release's versions, and its background
    /// controller for the rules rhpull writes.
    pub kyverno: Option<super::resources::Kyverno>,
    /// The External Secrets Operator's CRDs.
    pub external_secrets: bool,
    /// Added to every API request (the benchmark's setting).
    pub latency: Duration,
    /// How long controllers wait before acting.
    pub controller_delay: Duration,
    /// OpenShift 4: the Machine Config Operator's pools and pace (hosted:
    /// the workers, and the pace of the pull secret syncer).
    pub machines: Machines,
    pub hosted_merge: Merge,
    /// OpenShift before 4.16 (and OKD 3.11): service accounts' registry
    /// secrets carry a long-lived token and no 4.16 annotations.
    pub legacy_registry_secrets: bool,
    /// OpenShift's integrated registry runs (`image_registry`): projects
    /// get their `system:image-pullers` binding.
    pub image_registry: bool,
    /// The nodes' kubelets pull for real, so (`None`: pods stay Pending).
    pub pulling: Option<super::kubelet::types::Pulling>,
}

impl Config {
    pub fn serves(&self) -> super::resources::Serves {
        super::resources::Serves {
            flavour: self.flavour,
            hub: self.hub,
            kyverno: self.kyverno,
            external_secrets: self.external_secrets,
        }
    }
}

#[derive(Debug)]
pub struct State {
    pub store: Store,
    pub users: HashMap<String, User>,
    pub faults: Vec<Fault>,
    pub counters: BTreeMap<String, u64>,
    pub total: u64,
    pub config: Config,
    pub mco: Operator,
    pub syncer: Syncer,
    /// What each node's kubelet configuration sets over the defaults.
    pub kubelet_configs: HashMap<String, serde_json::Value>,
    /// What the kubelets remember between pulls.
    pub kubelets: super::kubelet::types::Memory,
}

#[derive(Clone, Debug)]
pub struct Shared {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<Arc<Event>>,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        let (events, _) = broadcast::channel(65_536);
        Self {
            state: Arc::new(Mutex::new(State {
                store: Store::default(),
                users: HashMap::new(),
                faults: Vec::new(),
                counters: BTreeMap::new(),
                total: 0,
                config,
                mco: Operator::default(),
                syncer: Syncer::default(),
                kubelet_configs: HashMap::new(),
                kubelets: super::kubelet::types::Memory::default(),
            })),
            events,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn publish(&self, e: Arc<Event>) {
        let _ = self.events.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Counts a request and returns the fault to apply to it, if any.
    pub fn count_and_fault(&self, verb: &str, resource: &str) -> (Duration, Option<Fault>) {
        let mut s = self.lock();
        s.total += 1;
        *s.counters.entry(format!("{verb} {resource}")).or_insert(0) += 1;
        let latency = s.config.latency;
        let pos = s.faults.iter().position(|f| {
            f.remaining > 0
                && f.verb.as_deref().is_none_or(|v| v == verb)
                && f.resource.as_deref().is_none_or(|r| r == resource)
        });
        let fault = pos.map(|i| {
            s.faults[i].remaining -= 1;
            let f = s.faults[i].clone();
            if s.faults[i].remaining == 0 {
                s.faults.remove(i);
            }
            f
        });
        (latency, fault)
    }
}
