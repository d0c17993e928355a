//! The kubelet's pod worker on the world's nodes: for a pod bound to its
//! node, each container's image is made present — init containers first,
//! one after another, then the others side by side — as kubernetes
//! `pkg/kubelet/images/image_manager.go` (`EnsureImageExists`) and
//! `pkg/kubelet/kuberuntime/kuberuntime_image.go` (`PullImage`: every
//! credential of the keyring in turn, the first that works wins, the
//! errors aggregated) do it, worded as they and `pkg/kubelet/events` word
//! it (Kubernetes 1.35, the version the world's nodes report):
//!
//! - `Pulling` "Pulling image "X""; `Pulled` "Successfully pulled image
//!   "X" in …"; `Failed` "Failed to pull image "X": <the runtime's
//!   error>", then `Failed` "Error: ErrImagePull" and the container
//!   waiting in `ErrImagePull` with the runtime's error;
//! - while the back-off runs (10 s, doubling to 300 s, per pod and image;
//!   `flowcontrol.Backoff`): `BackOff` "Back-off pulling image "X"",
//!   `Failed` "Error: ImagePullBackOff", and the container waiting in
//!   `ImagePullBackOff` with "Back-off pulling image "X": ErrImagePull:
//!   <the last error>" (the previous error kept since 1.30);
//! - a missing `imagePullSecrets` entry: `FailedToRetrieveImagePullSecret`
//!   ("Unable to retrieve some image pull secrets (…); attempting to pull
//!   the image may not succeed.", `kubelet_pods.go`
//!   `getPullSecretsForPod`), and the pull goes on without it; a pull
//!   secret whose JSON cannot be read fails the pull with the parse error
//!   (`MakeDockerKeyring` returns it);
//! - a copy on the node (`status.images`) under `IfNotPresent` is used
//!   without pulling where KEP-2535's `imagePullCredentialsVerification
//!   Policy` (configz) allows it: preloaded copies unless `AlwaysVerify`
//!   (or not allow-listed), copies the kubelet pulled node-wide always,
//!   copies pulled with a pod secret only by a pod holding that login;
//!   otherwise the pull is done again to verify.
//!
//! Pods whose status a test writes itself are left alone, as are pods
//! that already had container statuses when the kubelet first saw them.

use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::super::admission::default_pull_policy;
use super::super::rbac::{self, Attributes, Subject};
use super::super::resources;
use super::super::state::{Shared, State};
use super::super::store::{now_rfc3339, random_suffix};
use super::keyring::{self, Cred, Keyring, Origin};
use super::runtime::{self, Outcome, Used};
use super::types::{PullLog, PulledWith, Pulling, backoff_until};
use super::{crio, node_file};

/// The kubelet's own cap on images listed in a node's status
/// (`nodeStatusMaxImages`).
const MAX_IMAGES: usize = 50;

#[derive(Clone, Debug)]
struct PodRef {
    ns: String,
    name: String,
    uid: String,
    node: String,
    service_account: String,
}

#[derive(Clone, Debug)]
struct Spec {
    name: String,
    image: String,
    policy: String,
    init: bool,
}

impl Spec {
    fn field_path(&self) -> String {
        let list = if self.init {
            "initContainers"
        } else {
            "containers"
        };
        format!("spec.{list}{{{}}}", self.name)
    }
}

/// A pod was added or changed: its node's kubelet takes it on when it is
/// bound, new to the kubelet, and not a pod whose status a test writes.
pub fn on_pod(shared: &Shared, pod: &Value) {
    let text = |p: &str| {
        pod.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let r = PodRef {
        ns: text("/metadata/namespace"),
        name: text("/metadata/name"),
        uid: text("/metadata/uid"),
        node: text("/spec/nodeName"),
        service_account: text("/spec/serviceAccountName"),
    };
    if r.node.is_empty() || pod.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    {
        let mut s = shared.lock();
        if s.config.pulling.is_none()
            || s.kubelets.taken.contains(&r.uid)
            || s.kubelets.hands_off.contains(&r.uid)
            || pod.pointer("/status/containerStatuses").is_some()
            || !node_exists(&s, &r.node)
        {
            return;
        }
        s.kubelets.taken.insert(r.uid.clone());
    }
    let specs = |field: &str, init: bool| -> Vec<Spec> {
        (pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten())
        .map(|c| {
            let image = c
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let policy = c
                .get("imagePullPolicy")
                .and_then(Value::as_str)
                .map_or_else(|| default_pull_policy(&image).to_string(), str::to_string);
            Spec {
                name: c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                image,
                policy,
                init,
            }
        })
        .collect()
    };
    let inits = specs("initContainers", true);
    let mains = specs("containers", false);
    tokio::spawn(work(shared.clone(), r, inits, mains));
}

fn node_exists(s: &State, node: &str) -> bool {
    resources::by_kind("Node").is_some_and(|r| s.store.get(r, "", node).is_some())
}

/// `applyDefaultImageTag`.
fn with_default_tag(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// What each container is doing, for the pod's status.
#[derive(Debug)]
struct Progress {
    started: String,
    init: Vec<(String, String, Value)>,
    main: Vec<(String, String, Value)>,
    image_ids: std::collections::HashMap<String, String>,
}

impl Progress {
    fn new(inits: &[Spec], mains: &[Spec]) -> Self {
        let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
        Self {
            started: now_rfc3339(),
            init: inits
                .iter()
                .map(|c| (c.name.clone(), c.image.clone(), waiting("PodInitializing")))
                .collect(),
            main: mains
                .iter()
                .map(|c| {
                    let first = if inits.is_empty() {
                        "ContainerCreating"
                    } else {
                        "PodInitializing"
                    };
                    (c.name.clone(), c.image.clone(), waiting(first))
                })
                .collect(),
            image_ids: std::collections::HashMap::new(),
        }
    }

    fn set(&mut self, c: &Spec, state: Value) {
        let list = if c.init {
            &mut self.init
        } else {
            &mut self.main
        };
        if let Some(entry) = list.iter_mut().find(|(n, ..)| *n == c.name) {
            entry.2 = state;
        }
    }

    fn status(&self) -> Value {
        let status_of = |(name, image, state): &(String, String, Value)| {
            let running = state.get("running").is_some();
            let done = state.get("terminated").is_some();
            json!({"name": name, "image": image,
                   "imageID": self.image_ids.get(name).cloned().unwrap_or_default(),
                   "ready": running || done, "started": running, "restartCount": 0, "state": state})
        };
        let inits_done = self
            .init
            .iter()
            .all(|(.., s)| s.get("terminated").is_some());
        let all_running = self.main.iter().all(|(.., s)| s.get("running").is_some());
        let cond = |t: &str, ok: bool, reason: &str| {
            let mut c = json!({"type": t, "status": if ok { "True" } else { "False" },
                               "lastTransitionTime": now_rfc3339()});
            if !ok && !reason.is_empty() {
                c["reason"] = json!(reason);
            }
            c
        };
        let mut status = json!({
            "phase": if inits_done && all_running { "Running" } else { "Pending" },
            "hostIP": "127.0.0.1",
            "startTime": self.started,
            "qosClass": "BestEffort",
            "conditions": [
                cond("PodReadyToStartContainers", true, ""),
                cond("Initialized", inits_done, "ContainersNotInitialized"),
                cond("Ready", inits_done && all_running, "ContainersNotReady"),
                cond("ContainersReady", inits_done && all_running, "ContainersNotReady"),
                cond("PodScheduled", true, ""),
            ],
            "containerStatuses": self.main.iter().map(status_of).collect::<Vec<_>>(),
        });
        if !self.init.is_empty() {
            status["initContainerStatuses"] =
                json!(self.init.iter().map(status_of).collect::<Vec<_>>());
        }
        status
    }
}

async fn work(shared: Shared, pod: PodRef, inits: Vec<Spec>, mains: Vec<Spec>) {
    let progress = Arc::new(Mutex::new(Progress::new(&inits, &mains)));
    if !write_status(&shared, &pod, &progress) {
        return;
    }
    for c in &inits {
        if !run_container(&shared, &pod, c, &progress).await {
            return;
        }
        lock(&progress).set(
            c,
            json!({"terminated": {"exitCode": 0, "reason": "Completed",
            "startedAt": now_rfc3339(), "finishedAt": now_rfc3339()}}),
        );
        if !write_status(&shared, &pod, &progress) {
            return;
        }
    }
    futures::future::join_all(
        mains
            .iter()
            .map(|c| run_container(&shared, &pod, c, &progress)),
    )
    .await;
}

fn lock(p: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

enum Step {
    Ready(String),
    Waiting {
        reason: &'static str,
        message: String,
        retry_at: Instant,
    },
    Gone,
}

/// Until the image is there (true) or the pod is gone (false).
async fn run_container(
    shared: &Shared,
    pod: &PodRef,
    c: &Spec,
    progress: &Mutex<Progress>,
) -> bool {
    loop {
        match ensure(shared, pod, c).await {
            Step::Gone => return false,
            Step::Ready(image_id) => {
                {
                    let mut p = lock(progress);
                    p.image_ids.insert(c.name.clone(), image_id);
                    p.set(c, json!({"running": {"startedAt": now_rfc3339()}}));
                }
                event(
                    shared,
                    pod,
                    c,
                    "Normal",
                    "Created",
                    &format!("Created container: {}", c.name),
                );
                event(
                    shared,
                    pod,
                    c,
                    "Normal",
                    "Started",
                    &format!("Started container {}", c.name),
                );
                return write_status(shared, pod, progress);
            }
            Step::Waiting {
                reason,
                message,
                retry_at,
            } => {
                lock(progress).set(
                    c,
                    json!({"waiting": {"reason": reason, "message": message}}),
                );
                if !write_status(shared, pod, progress) {
                    return false;
                }
                tokio::time::sleep_until(retry_at.into()).await;
            }
        }
    }
}

/// The pod as stored, if it is still the one the kubelet took on and no
/// test writes its status.
fn current(s: &State, pod: &PodRef) -> Option<Value> {
    let r = resources::by_kind("Pod")?;
    let obj = s.store.get(r, &pod.ns, &pod.name)?;
    let same = obj.pointer("/metadata/uid").and_then(Value::as_str) == Some(pod.uid.as_str());
    (same && !s.kubelets.hands_off.contains(&pod.uid)).then(|| obj.clone())
}

fn write_status(shared: &Shared, pod: &PodRef, progress: &Mutex<Progress>) -> bool {
    let status = lock(progress).status();
    let mut s = shared.lock();
    let Some(old) = current(&s, pod) else {
        return false;
    };
    let mut updated = old.clone();
    updated["status"] = status;
    let r = resources::by_kind("Pod").expect("pods");
    let (_, e) = s.store.replace(r, &pod.ns, &old, updated, false);
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
    true
}

/// Records an event as the kubelet's recorder does: the same reason and
/// message again raise the count of the one event.
fn event(shared: &Shared, pod: &PodRef, c: &Spec, type_: &str, reason: &str, message: &str) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (reason, message, &c.name).hash(&mut hasher);
    let name = format!("{}.{:016x}", pod.name, hasher.finish());
    let r = resources::by_kind("Event").expect("events");
    let now = now_rfc3339();
    let mut s = shared.lock();
    if current(&s, pod).is_none() {
        return;
    }
    let e = match s.store.get(r, &pod.ns, &name).cloned() {
        Some(old) => {
            let mut again = old.clone();
            let count = old.get("count").and_then(Value::as_i64).unwrap_or(1);
            again["count"] = json!(count + 1);
            again["lastTimestamp"] = json!(now);
            s.store.replace(r, &pod.ns, &old, again, false).1
        }
        None => {
            let obj = json!({
                "metadata": {"name": name, "namespace": pod.ns},
                "involvedObject": {"kind": "Pod", "namespace": pod.ns, "name": pod.name, "uid": pod.uid,
                                   "apiVersion": "v1", "fieldPath": c.field_path()},
                "reason": reason, "message": message, "type": type_,
                "source": {"component": "kubelet", "host": pod.node},
                "reportingComponent": "kubelet", "reportingInstance": pod.node,
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            });
            s.store.insert_new(r, &pod.ns, obj, false).1
        }
    };
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
}

/// The node's kubelet configuration (1.35's defaults with its own over them).
fn kubelet_config(s: &State, node: &str) -> Value {
    let mut config = super::defaults();
    if let Some(own) = s.kubelet_configs.get(node) {
        super::merge(&mut config, own);
    }
    config
}

/// Whether the node holds the image, and whether KEP-2535 lets this pod
/// use that copy without pulling.
fn cached(s: &State, pod: &PodRef, image: &str, pod_logins: &[Cred]) -> (bool, bool) {
    let Some(node) = resources::by_kind("Node").and_then(|r| s.store.get(r, "", &pod.node)) else {
        return (false, false);
    };
    let present = (node
        .pointer("/status/images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .flat_map(|i| {
        i.get("names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    })
    .any(|n| n.as_str() == Some(image));
    if !present {
        return (false, false);
    }
    let config = kubelet_config(s, &pod.node);
    if config.pointer("/featureGates/KubeletEnsureSecretPulledImages") != Some(&json!(true)) {
        return (true, true);
    }
    let policy = config
        .get("imagePullCredentialsVerificationPolicy")
        .and_then(Value::as_str)
        .unwrap_or("NeverVerifyPreloadedImages");
    let usable = match s
        .kubelets
        .records
        .get(&(pod.node.clone(), image.to_string()))
    {
        _ if policy == "NeverVerify" => true,
        Some(PulledWith::NodeWide) => true,
        Some(PulledWith::Secret { login }) => pod_logins.iter().any(|c| login_hash(c) == *login),
        None => match policy {
            "NeverVerifyPreloadedImages" => true,
            "NeverVerifyAllowlistedImages" => (config
                .get("preloadedImagesVerificationAllowlist")
                .and_then(Value::as_array)
                .into_iter()
                .flatten())
            .filter_map(Value::as_str)
            .any(|a| match a.strip_suffix("/*") {
                Some(prefix) => image.starts_with(&format!("{prefix}/")),
                None => keyring::repository(image) == a,
            }),
            _ => false,
        },
    };
    (true, usable)
}

/// Everything a pull of one image for this pod reads, read at once.
struct Inputs {
    pod_ring: Keyring,
    node_ring: Keyring,
    missing: Vec<String>,
    broken: Option<String>,
    registries_conf: String,
    policy: String,
    authfile: String,
    namespace_logins: serde_json::Map<String, Value>,
    setup: Pulling,
}

fn inputs(s: &State, pod: &PodRef, obj: &Value, image: &str, setup: Pulling) -> Inputs {
    let secrets = resources::by_kind("Secret").expect("secrets");
    let mut pod_ring = Keyring::default();
    let (mut missing, mut broken) = (Vec::new(), None);
    let names = (obj
        .pointer("/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .filter_map(|r| r.get("name").and_then(Value::as_str))
    .filter(|n| !n.is_empty());
    for name in names {
        match s.store.get(secrets, &pod.ns, name) {
            None => missing.push(name.to_string()),
            Some(secret) => {
                let origin = Origin::PodSecret {
                    name: name.to_string(),
                };
                let read = keyring::secret_entries(secret)
                    .and_then(|e| e.map_or(Ok(()), |e| pod_ring.add(&e, &origin)));
                if let Err(e) = read {
                    broken.get_or_insert(e.0);
                }
            }
        }
    }
    let file = node_file::read(s, &pod.node);
    let mut node_ring = Keyring::default();
    // A node file the kubelet cannot read is logged and left out.
    let _ = node_ring.add(&keyring::file_entries(&file), &Origin::Node);
    let openshift4 = s.config.flavour.is_openshift4();
    let rules = if openshift4 {
        crio::Rules::read(s)
    } else {
        crio::Rules::default()
    };
    let repo = keyring::repository(image);
    let provider_runs = openshift4
        && crio::provider_match_images(s)
            .is_some_and(|m| m.iter().any(|g| keyring::urls_match(g, &repo)))
        && rbac::allows(
            &s.store,
            &Subject::of(
                &format!("system:serviceaccount:{}:{}", pod.ns, pod.service_account),
                Vec::new(),
            ),
            &Attributes {
                verb: "list".into(),
                resource: "secrets".into(),
                namespace: pod.ns.clone(),
                ..Attributes::default()
            },
        );
    let namespace_logins = if provider_runs {
        crio::namespace_logins(s, &pod.ns)
    } else {
        serde_json::Map::new()
    };
    Inputs {
        pod_ring,
        node_ring,
        missing,
        broken,
        registries_conf: rules.registries_conf(),
        policy: rules.policy_json(),
        authfile: crio::auth_file(&file, &namespace_logins),
        namespace_logins,
        setup,
    }
}

async fn ensure(shared: &Shared, pod: &PodRef, c: &Spec) -> Step {
    let image = with_default_tag(&c.image);
    let quoted = format!("\"{}\"", c.image);
    // Everything this try reads (the pod's secrets, the node's file, the
    // files CRI-O reads), read once, as the kubelet reads them at a pull.
    let ins = {
        let s = shared.lock();
        let Some(obj) = current(&s, pod) else {
            return Step::Gone;
        };
        let Some(setup) = s.config.pulling.clone() else {
            return Step::Gone;
        };
        inputs(&s, pod, &obj, &image, setup)
    };
    let setup = ins.setup.clone();
    let pod_logins = ins.pod_ring.lookup(&keyring::repository(&image));
    let (present, usable) = cached(&shared.lock(), pod, &image, &pod_logins);
    if c.policy == "Never" && !present {
        let msg = format!("Container image {quoted} is not present with pull policy of Never");
        event(shared, pod, c, "Warning", "ErrImageNeverPull", &msg);
        return Step::Waiting {
            reason: "ErrImageNeverPull",
            message: msg,
            retry_at: Instant::now() + setup.backoff.1,
        };
    }
    if present && (c.policy == "Never" || (c.policy == "IfNotPresent" && usable)) {
        let msg = format!(
            "Container image {quoted} already present on machine and can be accessed by the pod"
        );
        event(shared, pod, c, "Normal", "Pulled", &msg);
        log(shared, pod, &image, None, None, None, true);
        return Step::Ready(image.clone());
    }
    let prior = {
        let s = shared.lock();
        backoff_until(&s.kubelets, &pod.uid, &image).map(|until| {
            let (.., last) = &s.kubelets.backoff[&(pod.uid.clone(), image.clone())];
            (until, last.clone())
        })
    };
    if let Some((until, last)) = prior {
        event(
            shared,
            pod,
            c,
            "Normal",
            "BackOff",
            &format!("Back-off pulling image {quoted}"),
        );
        event(
            shared,
            pod,
            c,
            "Warning",
            "Failed",
            "Error: ImagePullBackOff",
        );
        return Step::Waiting {
            reason: "ImagePullBackOff",
            message: format!("Back-off pulling image {quoted}: ErrImagePull: {last}"),
            retry_at: until,
        };
    }
    event(
        shared,
        pod,
        c,
        "Normal",
        "Pulling",
        &format!("Pulling image {quoted}"),
    );
    let started = Instant::now();
    if !ins.missing.is_empty() {
        let msg = format!(
            "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
            ins.missing.join(", ")
        );
        event(
            shared,
            pod,
            c,
            "Warning",
            "FailedToRetrieveImagePullSecret",
            &msg,
        );
    }
    match pull(shared, &image, &ins).await {
        Ok(Served {
            endpoint,
            origin,
            login,
            digest,
            size,
        }) => {
            let took = started.elapsed();
            let msg = format!(
                "Successfully pulled image {quoted} in {took:.3?} ({took:.3?} including waiting). Image size: {size} bytes."
            );
            event(shared, pod, c, "Normal", "Pulled", &msg);
            let image_id = format!("{}@{digest}", keyring::repository(&image));
            remember(shared, pod, &image, &image_id, size, login);
            log(shared, pod, &image, Some(endpoint), origin, None, false);
            Step::Ready(image_id)
        }
        Err(err) => {
            event(
                shared,
                pod,
                c,
                "Warning",
                "Failed",
                &format!("Failed to pull image {quoted}: {err}"),
            );
            let wait = {
                let mut s = shared.lock();
                let key = (pod.uid.clone(), image.clone());
                let wait = match s.kubelets.backoff.get(&key) {
                    Some((_, d, _)) => (*d * 2).min(setup.backoff.1),
                    None => setup.backoff.0,
                };
                s.kubelets
                    .backoff
                    .insert(key, (Instant::now() + wait, wait, err.clone()));
                wait
            };
            event(shared, pod, c, "Warning", "Failed", "Error: ErrImagePull");
            log(shared, pod, &image, None, None, Some(err.clone()), false);
            Step::Waiting {
                reason: "ErrImagePull",
                message: err,
                retry_at: Instant::now() + (wait / 2).min(Duration::from_secs(1)),
            }
        }
    }
}

/// `PullImage`: the keyring's credentials for the image in turn (or none),
/// the first that works wins; the runtime's errors aggregated.
/// What served a pull.
struct Served {
    endpoint: String,
    /// Where the credential used there came from.
    origin: Option<Origin>,
    /// The pod secret's login that served it, as the pull records keep it.
    login: Option<u64>,
    digest: String,
    size: u64,
}

async fn pull(shared: &Shared, image: &str, ins: &Inputs) -> Result<Served, String> {
    if let Some(e) = &ins.broken {
        return Err(e.clone());
    }
    let repo = keyring::repository(image);
    let creds: Vec<Cred> = ins
        .pod_ring
        .lookup(&repo)
        .into_iter()
        .chain(ins.node_ring.lookup(&repo))
        .collect();
    let tries: Vec<Option<Cred>> = if creds.is_empty() {
        vec![None]
    } else {
        creds.into_iter().map(Some).collect()
    };
    let mut errors: Vec<String> = Vec::new();
    for cred in tries {
        match run(shared, image, cred.as_ref(), ins).await {
            Outcome::Pulled {
                endpoint,
                used,
                digest,
                size,
            } => {
                let login = match (&used, &cred) {
                    (Used::Passed, Some(c)) if matches!(c.origin, Origin::PodSecret { .. }) => {
                        Some(login_hash(c))
                    }
                    _ => None,
                };
                let origin = match used {
                    Used::Passed => cred.map(|c| c.origin),
                    Used::AuthFile => {
                        let from_namespace = ins.namespace_logins.keys().any(|k| {
                            keyring::urls_match(
                                k.trim_start_matches("https://"),
                                &keyring::repository(&endpoint),
                            )
                        });
                        Some(if from_namespace {
                            Origin::Namespace
                        } else {
                            Origin::Node
                        })
                    }
                    Used::None => None,
                };
                return Ok(Served {
                    endpoint,
                    origin,
                    login,
                    digest,
                    size,
                });
            }
            Outcome::Failed(m) => {
                let m = format!("rpc error: code = Unknown desc = {m}");
                if !errors.contains(&m) {
                    errors.push(m);
                }
            }
        }
    }
    Err(if errors.len() == 1 {
        errors.remove(0)
    } else {
        format!("[{}]", errors.join(", "))
    })
}

/// One runtime call, shared with pods asking the same thing at the same
/// time and reused for a moment.
async fn run(shared: &Shared, image: &str, cred: Option<&Cred>, ins: &Inputs) -> Outcome {
    let setup = &ins.setup;
    // The integrated registry decides by the cluster's RBAC: its answer
    // is reused only while that is unchanged.
    let rbac = (super::super::image_registry::serves(image))
        .then(|| super::super::image_registry::rbac_fingerprint(&shared.lock().store));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        image,
        cred.map(|c| (&c.username, &c.password)),
        &ins.authfile,
        &ins.registries_conf,
        &ins.policy,
        rbac,
    )
        .hash(&mut h);
    let key = h.finish();
    let files = setup.workdir.join(format!("node-{key:016x}"));
    let (cell, slots) = {
        let mut s = shared.lock();
        let now = Instant::now();
        s.kubelets
            .cache
            .retain(|_, (at, _)| now.duration_since(*at) < setup.reuse);
        let cell = if setup.reuse.is_zero() {
            Arc::new(tokio::sync::OnceCell::new())
        } else {
            s.kubelets
                .cache
                .entry(key)
                .or_insert_with(|| (now, Arc::new(tokio::sync::OnceCell::new())))
                .1
                .clone()
        };
        let slots = s
            .kubelets
            .slots
            .get_or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(setup.parallel.max(1))))
            .clone();
        (cell, slots)
    };
    cell.get_or_init(|| async {
        let _slot = slots.acquire().await;
        shared.lock().kubelets.runs += 1;
        let _ = std::fs::create_dir_all(&files);
        let write = |name: &str, body: &str| {
            let path = files.join(name);
            let _ = std::fs::write(&path, body);
            path
        };
        let req = runtime::Request {
            image: image.to_string(),
            creds: cred.map(|c| (c.username.clone(), c.password.clone())),
            authfile: write("auth.json", &ins.authfile),
            registries_conf: write("registries.conf", &ins.registries_conf),
            policy: write("policy.json", &ins.policy),
            cert_dir: setup.cert_dir.clone(),
            proxy: setup.proxy.clone(),
            timeout: setup.timeout,
            workdir: setup.workdir.join(format!("pull-{}", random_suffix(10))),
        };
        runtime::pull(&req).await
    })
    .await
    .clone()
}

/// A login as the pull records keep it: a hash, never the secret.
fn login_hash(c: &Cred) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&c.username, &c.password).hash(&mut h);
    h.finish()
}

/// The kubelet's record of how the node got the image (with a pod
/// secret's `login`, or node-wide), and the node's `status.images`
/// (largest first, at most fifty).
fn remember(
    shared: &Shared,
    pod: &PodRef,
    image: &str,
    image_id: &str,
    size: u64,
    login: Option<u64>,
) {
    let with = login.map_or(PulledWith::NodeWide, |login| PulledWith::Secret { login });
    let r = resources::by_kind("Node").expect("nodes");
    let mut s = shared.lock();
    s.kubelets
        .records
        .insert((pod.node.clone(), image.to_string()), with);
    s.kubelets
        .backoff
        .remove(&(pod.uid.clone(), image.to_string()));
    let Some(old) = s.store.get(r, "", &pod.node).cloned() else {
        return;
    };
    let mut images: Vec<Value> = old
        .pointer("/status/images")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    images.retain(|i| {
        !(i.get("names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten())
        .any(|n| n.as_str() == Some(image))
    });
    images.push(json!({"names": [image_id, image], "sizeBytes": size}));
    images.sort_by_key(|i| {
        std::cmp::Reverse(i.get("sizeBytes").and_then(Value::as_u64).unwrap_or(0))
    });
    images.truncate(MAX_IMAGES);
    let mut updated = old.clone();
    updated["status"]["images"] = json!(images);
    let (_, e) = s.store.replace(r, "", &old, updated, false);
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
}

fn log(
    shared: &Shared,
    pod: &PodRef,
    image: &str,
    endpoint: Option<String>,
    credential: Option<Origin>,
    error: Option<String>,
    cached: bool,
) {
    shared.lock().kubelets.pulls.push(PullLog {
        namespace: pod.ns.clone(),
        pod: pod.name.clone(),
        node: pod.node.clone(),
        image: image.to_string(),
        endpoint,
        credential,
        error,
        cached,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_and_tag_defaults() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("127.0.0.1:5000/a/b"), "Always");
        assert_eq!(default_pull_policy("127.0.0.1:5000/a/b:1"), "IfNotPresent");
        assert_eq!(default_pull_policy("a/b@sha256:00"), "IfNotPresent");
        assert_eq!(
            with_default_tag("127.0.0.1:5000/a/b"),
            "127.0.0.1:5000/a/b:latest"
        );
        assert_eq!(with_default_tag("a/b:1"), "a/b:1");
    }
}
