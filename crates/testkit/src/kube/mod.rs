//! A Kubernetes API emulator that real `kubectl` and kube-rs talk to: HTTPS
//! on 127.0.0.1 with a test CA, bearer tokens, discovery, and the real REST
//! semantics for namespaces, secrets, service accounts, pods, events, nodes,
//! RBAC objects and SelfSubjectAccessReviews (plus image streams, build
//! configs, projects, cluster versions, infrastructures, machine config
//! pools and machine configs in OpenShift mode). Controllers run with a
//! configurable delay; faults can be injected per verb and resource; every
//! request is counted.
//!
//! - [`resources`]: what is served; discovery documents.
//! - [`api`]: routing and the verbs. [`patch`], [`validate`], [`selectors`],
//!   [`status`]: their rules. [`store`]: objects, resourceVersions, events.
//! - [`authz`]: tokens and rules. [`admission`]: pods get their SA's pull
//!   secrets. [`controllers`]: default SAs, OpenShift dockercfg secrets.
//!   [`mco`]: the Machine Config Operator's pull-secret rollout.
//! - [`admin`]: counters and faults over plain HTTP. [`kubeconfig`].

pub mod admin;
pub mod admission;
pub mod api;
pub mod authz;
pub mod controllers;
pub mod crds;
pub mod hypershift;
pub mod image_registry;
pub mod kubeconfig;
pub mod kubelet;
pub mod kyverno;
pub mod mco;
pub mod openapi;
pub mod patch;
pub mod proto;
pub mod rbac;
pub mod resources;
pub mod scheduler;
pub mod schema;
pub mod selectors;
pub mod state;
pub mod status;
pub mod store;
pub mod table;
pub mod validate;
pub mod workloads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use authz::{Rule, User};
pub use state::Fault;
use state::{Config, Shared};
use status::ApiError;

pub use crate::server::Protocols;
use crate::server::{Running, serve, serve_with};
use crate::tls::TestCa;

/// The token of the built-in cluster-admin user.
pub const ADMIN_TOKEN: &str = "rhpull-emulator-admin-token";
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The token of the built-in viewer: may get, list and watch everything,
/// and write nothing (to try the denied paths by hand).
pub const VIEWER_TOKEN: &str = "rhpull-emulator-viewer-token";
pub const VIEWER_USER: &str = "viewer";

pub use resources::{Flavour, Kyverno};

/// How to start the emulator.
#[derive(Clone, Debug)]
pub struct Options {
    pub flavour: Flavour,
    pub latency: Duration,
    pub controller_delay: Duration,
    /// OpenShift 4: machine config pools, machine counts and how long each
    /// machine takes to get a new config.
    pub machines: mco::Machines,
    /// Hosted control planes: which entry the merge of the additional pull
    /// secret keeps when the original has the same key.
    pub hosted_merge: hypershift::Merge,
    /// OpenShift: service accounts' registry secrets as before 4.16 (a
    /// long-lived token), not 4.16's (a bound token, annotations, no token
    /// secret). OKD 3.11 mode always plays the old form.
    pub legacy_registry_secrets: bool,
    /// A hub: serves Open Cluster Management's Policy,
    /// ConfigurationPolicy, PlacementBinding and Placement, checked against
    /// their CRDs' schemas.
    pub hub: bool,
    /// Kyverno installed, at a release (`None`: not installed): its CRDs
    /// served and checked, and its background controller played for the
    /// rule shapes rhpull writes (`kube/kyverno.rs`).
    pub kyverno: Option<resources::Kyverno>,
    /// The External Secrets Operator's CRDs served and checked.
    pub external_secrets: bool,
    /// What it offers over ALPN: HTTP/2 and HTTP/1.1 as an API server does,
    /// or HTTP/1.1 only, as one behind a proxy or load balancer that does
    /// not speak HTTP/2.
    pub protocols: Protocols,
    /// Worker threads of the emulator's runtime. The bench runs ten
    /// emulators at once on two cores with one each: more threads than
    /// cores only add switching between them.
    pub workers: usize,
    /// The nodes' kubelets pull images for real, through `skopeo`, trusting
    /// the registries' CA (`None`: bound pods stay Pending). Kubernetes and
    /// OKD 3.11 then get a node, `node-1`.
    pub kubelets: Option<kubelet::types::Pulling>,
    /// OpenShift with pulling nodes: the integrated registry runs
    /// (`kube/image_registry.rs`), reached on its Service's names.
    pub image_registry: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            flavour: Flavour::Kubernetes,
            latency: Duration::ZERO,
            controller_delay: Duration::from_millis(100),
            machines: mco::Machines::default(),
            hosted_merge: hypershift::Merge::default(),
            legacy_registry_secrets: false,
            hub: false,
            kyverno: None,
            external_secrets: false,
            protocols: Protocols::Both,
            workers: crate::server::WORKERS,
            kubelets: None,
            image_registry: false,
        }
    }
}

impl Options {
    /// Kubernetes, or with `flavour` another kind of cluster.
    pub fn of(flavour: Flavour) -> Self {
        Self {
            flavour,
            ..Self::default()
        }
    }

    pub fn openshift() -> Self {
        Self::of(Flavour::OpenShift4)
    }

    pub fn openshift3() -> Self {
        Self::of(Flavour::OpenShift3)
    }

    pub fn hosted() -> Self {
        Self::of(Flavour::Hosted)
    }
}

/// A running emulator; stopped on drop.
#[derive(Debug)]
pub struct Emulator {
    shared: Shared,
    running: Running,
    admin: Option<Running>,
    egress: Option<crate::egress::Egress>,
    image_registry: Option<image_registry::ImageRegistry>,
    ca: TestCa,
    dir: tempfile::TempDir,
    /// Kubeconfig for the cluster-admin user, namespace `default`.
    pub kubeconfig: PathBuf,
    /// PEM of the CA that signs the API server's certificate.
    pub ca_file: PathBuf,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn handler(
    AxumState(shared): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let serves = shared.lock().config.serves();
    let user = bearer(&headers).and_then(|t| shared.lock().users.get(t).cloned());
    let Some(user) = user else {
        return ApiError::unauthorized().into_response();
    };
    let route = api::route(serves, uri.path());
    if let Some(resp) = api::discovery(&route, serves) {
        let (latency, _) = shared.count_and_fault("get", "discovery");
        tokio::time::sleep(latency).await;
        return resp;
    }
    let api::Route::Resource(target) = route else {
        return ApiError::path_not_found().into_response();
    };
    let q = api::Query::parse(&uri);
    let verb = api::verb(&method, &target, &q);
    let (latency, fault) = shared.count_and_fault(verb, target.resource.plural);
    let extra = fault
        .as_ref()
        .and_then(|f| f.latency_ms)
        .map(Duration::from_millis)
        .unwrap_or_default();
    tokio::time::sleep(latency + extra).await;
    if let Some(f) = &fault {
        if f.drop_connection {
            return api::dropped();
        }
        if let Some(code) = f.status {
            let mut resp = ApiError::injected(code).into_response();
            if let Some(secs) = f.retry_after {
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    secs.to_string().parse().expect("header value"),
                );
            }
            return resp;
        }
    }
    // kubectl's typed clients send protobuf; the rest of the emulator speaks JSON.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        match proto::decode(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e) => {
                return ApiError::unsupported_media(&format!("{content_type} ({e})"))
                    .into_response();
            }
        }
    } else {
        body
    };
    let ns = if target.resource.namespaced {
        target.namespace.as_deref()
    } else {
        None
    };
    // The kubelet's configuration through the API server's node proxy.
    if target.resource.plural == "nodes" && target.subresource.as_deref() == Some("proxy") {
        let name = target.name.as_deref().unwrap_or_default();
        if !user.allows("get", "", "nodes/proxy", None) {
            return ApiError::forbidden(&user.name, "get", target.resource, None, Some(name))
                .into_response();
        }
        if target.rest.as_deref() != Some("configz") {
            return ApiError::path_not_found().into_response();
        }
        return kubelet::configz(&shared, name);
    }
    if !target.resource.create_only
        && !user.allows(verb, target.resource.group, target.resource.plural, ns)
    {
        return ApiError::forbidden(
            &user.name,
            verb,
            target.resource,
            ns,
            target.name.as_deref(),
        )
        .into_response();
    }
    api::handle(&shared, &user, &method, &target, &q, &headers, body).await
}

impl Emulator {
    pub fn start(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = TestCa::new("rhpull Kubernetes API emulator CA");
        let ca_file = ca.write_ca(&dir.path().join("ca"));
        let cert = ca.server_cert(&dir.path().join("tls"), "apiserver");
        let egress = options
            .kubelets
            .as_ref()
            .map(|_| crate::egress::Egress::start());
        let with_registry = options.image_registry && options.flavour.is_openshift();
        let pulling = options.kubelets.clone().map(|mut p| {
            p.proxy = egress
                .as_ref()
                .map(crate::egress::Egress::url)
                .unwrap_or_default();
            p.workdir = dir.path().join("kubelet");
            if with_registry {
                let trust = dir.path().join("node-certs");
                image_registry::node_trust(&p.cert_dir, &ca, &trust);
                p.cert_dir = trust;
            }
            p
        });
        let shared = Shared::new(Config {
            pulling,
            flavour: options.flavour,
            latency: options.latency,
            controller_delay: options.controller_delay,
            machines: options.machines.clone(),
            hub: options.hub,
            kyverno: options.kyverno,
            external_secrets: options.external_secrets,
            hosted_merge: options.hosted_merge,
            legacy_registry_secrets: options.legacy_registry_secrets
                || options.flavour == Flavour::OpenShift3,
            image_registry: with_registry && egress.is_some(),
        });
        shared.lock().users.extend([
            (
                ADMIN_TOKEN.to_string(),
                User {
                    name: ADMIN_USER.into(),
                    groups: vec!["system:masters".into()],
                    rules: vec![Rule::all()],
                },
            ),
            (
                VIEWER_TOKEN.to_string(),
                User {
                    name: VIEWER_USER.into(),
                    groups: vec!["system:authenticated".into()],
                    rules: vec![Rule::new(&["get", "list", "watch"], &["*"], &["*"], None)],
                },
            ),
        ]);
        let image_registry = (egress.as_ref()).filter(|_| with_registry).map(|egress| {
            let r = image_registry::ImageRegistry::start(&ca, &shared);
            for host in image_registry::HOSTS {
                egress.tunnel(host, r.registry.port);
            }
            r
        });
        seed(&shared, &options);
        let app = axum::Router::new()
            .fallback(handler)
            .with_state(shared.clone());
        let running = serve_with(
            app,
            Some(&cert),
            Some(Box::pin(controllers::run(
                shared.clone(),
                shared.subscribe(),
            ))),
            options.protocols,
            options.workers,
        );
        let kubeconfig = dir.path().join("kubeconfig");
        let server = format!("https://127.0.0.1:{}", running.port());
        kubeconfig::write(
            &kubeconfig,
            &server,
            &ca.cert_pem,
            "admin",
            ADMIN_TOKEN,
            "default",
        )
        .expect("write kubeconfig");
        Self {
            shared,
            running,
            admin: None,
            egress,
            image_registry,
            ca,
            dir,
            kubeconfig,
            ca_file,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.running.port())
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca.cert_pem
    }

    /// Starts the plain-HTTP admin endpoint; returns its base URL.
    pub fn start_admin(&mut self) -> String {
        let running = serve(admin::router(self.shared.clone()), None);
        let url = format!("http://127.0.0.1:{}", running.port());
        self.admin = Some(running);
        url
    }

    /// This emulator as a cluster of a kubeconfig, with its admin context
    /// named `context` and its viewer's `viewer_context`.
    pub fn kubeconfig_entries(
        &self,
        file: kubeconfig::KubeconfigFile,
        cluster: &str,
        context: &str,
        viewer_context: Option<&str>,
    ) -> kubeconfig::KubeconfigFile {
        let file = file
            .cluster(cluster, &self.url(), &self.ca.cert_pem)
            .context(
                context,
                cluster,
                &format!("admin@{cluster}"),
                ADMIN_TOKEN,
                "default",
            );
        match viewer_context {
            Some(v) => file.context(
                v,
                cluster,
                &format!("viewer@{cluster}"),
                VIEWER_TOKEN,
                "default",
            ),
            None => file,
        }
    }

    /// Adds a user with `token` and writes a kubeconfig for it.
    pub fn add_user(&self, token: &str, name: &str, rules: Vec<Rule>) -> PathBuf {
        self.shared.lock().users.insert(
            token.to_string(),
            User {
                name: name.into(),
                groups: vec!["system:authenticated".into()],
                rules,
            },
        );
        let path = self.dir.path().join(format!("kubeconfig-{name}"));
        kubeconfig::write(
            &path,
            &self.url(),
            &self.ca.cert_pem,
            name,
            token,
            "default",
        )
        .expect("write kubeconfig");
        path
    }

    /// Requests so far: `{"total": N, "by": {"create secrets": 5, …}}`.
    pub fn counters(&self) -> Value {
        admin::counters_json(&self.shared)
    }

    /// Requests so far with `verb resource`, e.g. `("create", "secrets")`.
    pub fn count(&self, verb: &str, resource: &str) -> u64 {
        self.shared
            .lock()
            .counters
            .get(&format!("{verb} {resource}"))
            .copied()
            .unwrap_or(0)
    }

    /// Every write request so far (create, update, patch, delete,
    /// deletecollection), access reviews aside.
    pub fn writes(&self) -> u64 {
        let s = self.shared.lock();
        s.counters
            .iter()
            .filter(|(k, _)| {
                [
                    "create ",
                    "update ",
                    "patch ",
                    "delete ",
                    "deletecollection ",
                ]
                .iter()
                .any(|v| k.starts_with(v))
            })
            // Access reviews (self or of another subject) store nothing.
            .filter(|(k, _)| !k.ends_with("subjectaccessreviews"))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.shared.lock().total
    }

    /// Connections accepted so far: (HTTP/2, HTTP/1.x).
    pub fn connections(&self) -> (u64, u64) {
        self.running.connections.counts()
    }

    pub fn reset_counters(&self) {
        self.running.connections.reset();
        let mut s = self.shared.lock();
        s.total = 0;
        s.counters.clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// An object as stored, or `None`.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let r = resources::by_kind(kind).expect("known kind");
        let ns = if r.namespaced { namespace } else { "" };
        self.shared.lock().store.get(r, ns, name).cloned()
    }

    /// Deletes an object directly, as a controller would (no event if absent).
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) {
        let r = resources::by_kind(kind).expect("known kind");
        let ns = if r.namespaced { namespace } else { "" };
        let removed = self.shared.lock().store.remove(r, ns, name, false);
        if let Some((_, Some(e))) = removed {
            self.shared.publish(e);
        }
    }

    /// Every object of `kind` in `namespace` (all namespaces: `""`), as stored.
    pub fn list(&self, kind: &str, namespace: &str) -> Vec<Value> {
        let r = resources::by_kind(kind).expect("known kind");
        let ns = (r.namespaced && !namespace.is_empty()).then_some(namespace);
        self.shared
            .lock()
            .store
            .list(r, ns)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Creates or replaces an object directly (a concurrent writer in tests).
    pub fn put(&self, kind: &str, namespace: &str, object: Value) -> Value {
        let r = resources::by_kind(kind).expect("known kind");
        let ns = if r.namespaced { namespace } else { "" };
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .expect("metadata.name")
            .to_string();
        let mut obj = object;
        if kind == "Secret" {
            validate::fold_string_data(&mut obj);
        }
        let mut s = self.shared.lock();
        let (out, e) = match s.store.get(r, ns, &name).cloned() {
            Some(old) => s.store.replace(r, ns, &old, obj, false),
            None => s.store.insert_new(r, ns, obj, false),
        };
        drop(s);
        if let Some(e) = e {
            self.shared.publish(e);
        }
        out
    }

    /// Sets a pod's status as the kubelet does, through the status
    /// subresource's rules: only `status` changes.
    /// The kubelet leaves such a pod alone from then on.
    pub fn set_pod_status(&self, namespace: &str, name: &str, status: Value) {
        let r = resources::by_kind("Pod").expect("pods");
        let mut s = self.shared.lock();
        let Some(old) = s.store.get(r, namespace, name).cloned() else {
            return;
        };
        if let Some(uid) = old.pointer("/metadata/uid").and_then(Value::as_str) {
            s.kubelets.hands_off.insert(uid.to_string());
        }
        let mut updated = old.clone();
        updated["status"] = status;
        let (_, e) = s.store.replace(r, namespace, &old, updated, false);
        drop(s);
        if let Some(e) = e {
            self.shared.publish(e);
        }
    }

    /// Records an event about a pod as the kubelet reports one (core/v1,
    /// `source.component: kubelet`): `reason` Failed with the pull error's
    /// message, say.
    pub fn add_pod_event(
        &self,
        namespace: &str,
        pod: &str,
        type_: &str,
        reason: &str,
        message: &str,
    ) {
        let uid = self
            .get("Pod", namespace, pod)
            .and_then(|p| {
                p.pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let now = store::now_rfc3339();
        let event = json!({
            "metadata": {"name": format!("{pod}.{}", store::random_suffix(16))},
            "involvedObject": {"kind": "Pod", "namespace": namespace, "name": pod, "uid": uid,
                               "apiVersion": "v1", "fieldPath": "spec.containers{app}"},
            "reason": reason, "message": message, "type": type_,
            "source": {"component": "kubelet", "host": "node-1"},
            "reportingComponent": "kubelet", "reportingInstance": "node-1",
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        });
        self.put("Event", namespace, event);
    }

    /// Creates a namespace (its controllers follow after their delay).
    pub fn create_namespace(&self, name: &str, labels: &[(&str, &str)]) {
        let labels: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| ((*k).into(), json!(v)))
            .collect();
        self.put(
            "Namespace",
            "",
            json!({"metadata": {"name": name, "labels": labels}}),
        );
    }

    /// Creates namespaces with their service accounts at once, as if the
    /// controllers had already run (for large seeds in benchmarks).
    pub fn seed_namespaces(&self, names: &[String]) {
        for n in names {
            self.put("Namespace", "", json!({"metadata": {"name": n}}));
        }
        let openshift = self.shared.lock().config.flavour.is_openshift();
        for n in names {
            seed_service_accounts(&self.shared, n, openshift);
        }
    }

    /// Sets fields of `node`'s kubelet configuration (merged over 1.35's
    /// defaults), as configz will show them.
    pub fn set_kubelet_config(&self, node: &str, config: &Value) {
        kubelet::set(&self.shared, node, config);
    }

    /// OpenShift 4: the next node update in `pool` fails with `message`
    /// and the pool goes Degraded.
    pub fn degrade_next_update(&self, pool: &str, message: &str) {
        mco::degrade_next(&self.shared, pool, message);
    }

    /// With pulling nodes: what each pod pull did, in order.
    pub fn pulls(&self) -> Vec<kubelet::types::PullLog> {
        self.shared.lock().kubelets.pulls.clone()
    }

    /// With pulling nodes: how many `skopeo` processes they started.
    pub fn skopeo_runs(&self) -> u64 {
        self.shared.lock().kubelets.runs
    }

    /// With pulling nodes: every request for a host outside loopback that
    /// the world's refusing proxy turned away (`registry.redhat.io:443`).
    pub fn refused_egress(&self) -> Vec<String> {
        self.egress
            .as_ref()
            .map(crate::egress::Egress::refused)
            .unwrap_or_default()
    }

    /// Pushes a small image into the integrated registry as
    /// `PROJECT/NAME:TAG`; pods name it on its Service
    /// (`image-registry.openshift-image-registry.svc:5000/PROJECT/NAME:TAG`).
    /// Panics unless started with `image_registry`.
    pub fn push_to_image_registry(&self, repository_tag: &str) {
        (self.image_registry.as_ref())
            .expect("the world runs the integrated registry (Options::image_registry)")
            .push(repository_tag);
    }

    /// The kubelet on `node` forgets how it got the images it pulled, as
    /// when image garbage collection removes them: a copy listed in the
    /// node's status from then on counts as preloaded.
    pub fn forget_pulled_images(&self, node: &str) {
        self.shared
            .lock()
            .kubelets
            .records
            .retain(|(n, _), _| n != node);
    }

    /// Sets `/var/lib/kubelet/config.json` on `node` (Kubernetes, OKD
    /// 3.11): the node's own logins, after the pod's.
    pub fn set_node_file(&self, node: &str, config: &Value) {
        kubelet::set_node_file(&self.shared, node, config);
    }

    /// Hosted control plane: the pull secret syncer fails on `node` from
    /// its next pod on, and the rollout stops there.
    pub fn fail_syncer(&self, node: &str) {
        hypershift::fail_node(&self.shared, node);
    }

    pub fn openshift(&self) -> bool {
        self.shared.lock().config.flavour.is_openshift()
    }
}

fn seed_service_accounts(shared: &Shared, ns: &str, openshift: bool) {
    let sas: &[&str] = if openshift {
        &["default", "builder", "deployer"]
    } else {
        &["default"]
    };
    for sa in sas {
        controllers::ensure_service_account(shared, ns, sa);
        if openshift {
            controllers::ensure_dockercfg(shared, ns, sa);
        }
    }
    image_registry::ensure_image_pullers(shared, ns);
}

/// The state a new cluster has: system namespaces with their service
/// accounts; in OpenShift mode also `openshift`, `openshift-config` with the
/// global `pull-secret`, and the `system:image-puller` ClusterRole; on
/// OpenShift 4 the ClusterVersion, the Infrastructure and (unless hosted)
/// the Machine Config Operator's pools, nodes and rendered configs.
fn seed(shared: &Shared, options: &Options) {
    let openshift = options.flavour.is_openshift();
    let mut namespaces = vec!["default", "kube-system", "kube-public"];
    if openshift {
        namespaces.extend(["openshift", "openshift-config"]);
    }
    let ns_res = resources::by_kind("Namespace").expect("namespaces");
    {
        let mut s = shared.lock();
        for n in &namespaces {
            s.store
                .insert_new(ns_res, "", json!({"metadata": {"name": n}}), false);
        }
        // OpenShift 4's nodes come with its pools; elsewhere one node, as
        // kind has, where the kubelets pull.
        let pools = matches!(options.flavour, Flavour::OpenShift4 | Flavour::Hosted);
        if options.kubelets.is_some() && !pools {
            let node = resources::by_kind("Node").expect("nodes");
            s.store
                .insert_new(node, "", kubelet::node("node-1", "worker", &[]), false);
        }
    }
    for n in &namespaces {
        seed_service_accounts(shared, n, openshift);
    }
    if openshift {
        let mut s = shared.lock();
        let cr = resources::by_kind("ClusterRole").expect("clusterroles");
        s.store.insert_new(
            cr,
            "",
            json!({
                "metadata": {"name": "system:image-puller", "annotations": {"openshift.io/description": "Grants the right to pull images from within a project."}},
                "rules": [{"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]}],
            }),
            false,
        );
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let pull = json!({"auths": {
            "cloud.openshift.com": {"auth": b64("cloud-user:cloud-token"), "email": "ops@example.com"},
            "quay.io": {"auth": b64("quay-user:quay-token"), "email": "ops@example.com"},
        }});
        if options.flavour == Flavour::OpenShift3 {
            // OKD 3.11 has no cluster-wide pull secret object.
            return;
        }
        let secret = resources::by_kind("Secret").expect("secrets");
        s.store.insert_new(
            secret,
            "openshift-config",
            json!({"metadata": {"name": "pull-secret"}, "type": "kubernetes.io/dockerconfigjson",
                   "data": {".dockerconfigjson": b64(&pull.to_string())}}),
            false,
        );
        let cv = resources::by_kind("ClusterVersion").expect("clusterversions");
        s.store.insert_new(
            cv,
            "",
            // 4.22 runs Kubernetes 1.35, as the emulated kubelets do.
            json!({"metadata": {"name": "version"}, "status": {"desired": {"version": "4.22.0"}}}),
            false,
        );
        // The cluster's image configuration, present (empty) on every
        // OpenShift 4 cluster: `spec.registrySources` is set by admins.
        let image = resources::by_kind("Image").expect("images");
        s.store.insert_new(
            image,
            "",
            json!({"metadata": {"name": "cluster"}, "spec": {}}),
            false,
        );
        let hosted = options.flavour == Flavour::Hosted;
        let topology = if hosted {
            "External"
        } else {
            "HighlyAvailable"
        };
        let infra = resources::by_kind("Infrastructure").expect("infrastructures");
        s.store.insert_new(
            infra,
            "",
            json!({"metadata": {"name": "cluster"}, "spec": {"platformSpec": {"type": "None"}},
                   "status": {"controlPlaneTopology": topology, "infrastructureTopology": "HighlyAvailable",
                              "platform": "None"}}),
            false,
        );
        if hosted {
            hypershift::seed(&mut s);
        } else {
            mco::seed(&mut s);
        }
    }
}
