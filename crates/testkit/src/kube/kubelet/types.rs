//! What the world's kubelets are told at start ([`Pulling`]) and what they
//! remember between pulls ([`Memory`]): plain data, below everything that
//! uses it, so that the emulator's state can hold it without looking back
//! at the kubelet's code.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::Arc;

use super::keyring::Origin;
use super::runtime::Outcome;

/// How the world's nodes pull. `Options::kubelets: None` leaves bound
/// pods Pending, as a cluster whose kubelets are down would.
#[derive(Clone, Debug)]
pub struct Pulling {
    /// CA certificates the nodes trust for registries (`ca.crt`), as
    /// `/etc/containers/certs.d` would hold them.
    pub cert_dir: PathBuf,
    /// The kubelet's image back-off: first wait, and its ceiling
    /// (`flowcontrol.NewBackOff(10s, 300s)` in `pkg/kubelet/kubelet.go`).
    pub backoff: (Duration, Duration),
    /// The most one pull may take before it is cancelled.
    pub timeout: Duration,
    /// How long the outcome of a pull of one image with the same
    /// credentials and node configuration is reused (0: never).
    pub reuse: Duration,
    /// `skopeo` processes at once, at most.
    pub parallel: usize,
    /// The world's refusing proxy (set by the emulator at start).
    pub proxy: String,
    /// Where pulls write (set by the emulator at start).
    pub workdir: PathBuf,
}

impl Pulling {
    /// The kubelet's own pace, trusting `cert_dir`.
    pub fn new(cert_dir: PathBuf) -> Self {
        Self {
            cert_dir,
            backoff: (Duration::from_secs(10), Duration::from_secs(300)),
            timeout: Duration::from_secs(120),
            reuse: Duration::from_secs(2),
            parallel: 4,
            proxy: String::new(),
            workdir: PathBuf::new(),
        }
    }

    /// With the back-off scaled (tests, `cargo xtask world --pull-backoff`).
    pub fn with_backoff(mut self, first: Duration, ceiling: Duration) -> Self {
        self.backoff = (first, ceiling);
        self
    }
}

/// How a node got an image it holds: the kubelet's pull records
/// (KEP-2535), which decide whether another pod may use it unverified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PulledWith {
    /// Pulled with no credential, or the node's own: any pod may use it.
    NodeWide,
    /// Pulled with a pod secret's credential: only a pod holding the same
    /// login (username and password, compared by hash, as the kubelet's
    /// pull records keep it) uses the copy unverified.
    Secret { login: u64 },
}

/// One pull the world's runtime did, for tests to hold rhpull's
/// prediction against.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PullLog {
    pub namespace: String,
    pub pod: String,
    pub node: String,
    pub image: String,
    /// The reference that served it (a mirror's, or the image itself).
    pub endpoint: Option<String>,
    /// The credential CRI-O used at that endpoint: a pod secret, the
    /// node's file, or none.
    pub credential: Option<Origin>,
    /// The kubelet's message when it failed.
    pub error: Option<String>,
    /// A copy already on the node was used without pulling.
    pub cached: bool,
}

/// What the kubelets remember.
#[derive(Debug, Default)]
pub struct Memory {
    /// Pods a kubelet has taken on (by uid).
    pub taken: HashSet<String>,
    /// Pods whose status a test writes itself: the kubelet leaves them.
    pub hands_off: HashSet<String>,
    /// `(pod uid, image)` → when the back-off ends, how long it was, and
    /// the error of the pull that started it.
    pub backoff: HashMap<(String, String), (Instant, Duration, String)>,
    /// `(node, image)` → how it was pulled.
    pub records: HashMap<(String, String), PulledWith>,
    /// `/var/lib/kubelet/config.json` on nodes where something wrote it
    /// (the admin endpoint; HyperShift's syncer).
    pub node_files: BTreeMap<String, Vec<u8>>,
    pub pulls: Vec<PullLog>,
    /// Outcomes of recent pulls by what decides them, shared by pods
    /// pulling the same image with the same credentials at once.
    pub cache: HashMap<u64, (Instant, Arc<tokio::sync::OnceCell<Outcome>>)>,
    /// `skopeo` processes started so far.
    pub runs: u64,
    /// Bounds the `skopeo` processes running at once.
    pub slots: Option<Arc<tokio::sync::Semaphore>>,
}

/// When a node's back-off for one image ends.
pub fn backoff_until(memory: &Memory, pod_uid: &str, image: &str) -> Option<Instant> {
    memory
        .backoff
        .get(&(pod_uid.to_string(), image.to_string()))
        .map(|(until, ..)| *until)
        .filter(|until| *until > Instant::now())
}
