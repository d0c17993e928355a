//! `rhpull-cluster`: everything rhpull asks of the Kubernetes API server,
//! with kube-rs and k8s-openapi. It never prints; results are values and
//! failures are [`ClusterError`]s the binary turns into words.
//!
//! - [`kubeconfig`]: the files merged as kubectl merges them; contexts.
//! - [`connect`]: a client for one context, its namespace, retries, traces;
//!   [`transport`]: HTTP/2 to the API server where it is offered.
//! - [`discovery`]: Kubernetes, OpenShift 3 or OpenShift 4.
//! - [`kinds`]: OpenShift's resources as typed as k8s-openapi's.
//! - [`pullsecret`]: build and apply pull secrets from `core` credentials.
//! - [`link`]: service accounts' `imagePullSecrets` / `secrets`, kept whole.
//! - [`grants`]: `system:image-puller` RoleBindings across projects.
//! - [`global`]: OpenShift 4's `openshift-config/pull-secret`;
//!   [`rollout`]: how far the Machine Config Operator has taken it to the
//!   nodes, pool by pool, and waiting for it; [`watch`]: several watches
//!   followed as one.
//! - [`delegated`]: the auth-server + registry secret pair.
//! - [`inventory`]: what holds which credential (status, rotate), and
//!   where image imports read theirs.
//! - [`nodes`]: how a node pulls (a pod as the kubelet sees it, the one
//!   model of what a node tries), every pod that cannot pull grouped and
//!   diagnosed, the remedy, and `fix`'s writes and watch.
//! - [`acm`]: a Policy, Placement and PlacementBinding that distribute a
//!   pull secret from a hub; [`selector`]: kubectl's label selector syntax
//!   spelled out as a `LabelSelector`.
//! - [`access`]: what a plan will write ([`access::Need`]), asked of the
//!   API server (SelfSubjectAccessReview) before writing.
//! - [`buildconfig`]: a BuildConfig's pull or push secret.
//! - [`rotate`]: put a regenerated token into every secret holding it.
//! - [`fleet`]: the same job across many namespaces, fewest requests;
//!   [`list`]: lists read page by page; [`namespaces`]: a missing
//!   namespace named as one.
//!
//! Every change is a plan first (reads only: what will be created,
//! changed or left alone, and the permissions that takes), then a write of
//! that plan that is conditional on what was read; a conflict plans again
//! from a fresh read ([`retry`]).
//! - [`transient`]: 429s, 5xx answers to reads and cut connections retried.
// What ships never panics on a missing value: an invariant is stated
// with `expect` and an `#[allow]` that says why, where there is one.
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod access;
pub mod acm;
pub mod buildconfig;
pub mod connect;
pub mod delegated;
pub mod discovery;
pub mod error;
pub mod fleet;
pub mod global;
pub mod global_edit;
pub mod grants;
pub mod hosted;
pub mod inventory;
pub mod keepers;
pub mod kinds;
pub mod kubeconfig;
pub mod link;
pub mod list;
pub mod namespaces;
pub mod nodes;
pub mod pullsecret;
pub mod retry;
pub mod rollout;
pub mod rotate;
pub mod selector;
pub mod trace;
pub mod transient;
pub mod transport;
pub mod watch;

pub use connect::{Cluster, ConnectOptions};
pub use error::ClusterError;

/// How a node pulls, at the paths the binary and the tests use.
pub use nodes::{
    backoff, failing, fix, image_registry, machineconfig, pods, pullplan, pulls, remedy,
};

/// Secret types the kubelet reads pull credentials from.
pub mod secret_types {
    /// `.dockerconfigjson`: `{"auths": {...}}`.
    pub const DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";
    /// `.dockercfg`: the legacy flat map.
    pub const DOCKERCFG: &str = "kubernetes.io/dockercfg";
}

/// kubectl's `--dry-run`: `Client` sends no write at all, `Server` sends
/// writes with `dryRun=All` so the server validates without storing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

impl DryRun {
    pub(crate) fn post_params(self) -> kube::api::PostParams {
        kube::api::PostParams {
            dry_run: self == Self::Server,
            field_manager: Some("kubectl-rhpull".into()),
        }
    }

    pub(crate) fn patch_params(self) -> kube::api::PatchParams {
        kube::api::PatchParams {
            dry_run: self == Self::Server,
            field_manager: Some("kubectl-rhpull".into()),
            ..kube::api::PatchParams::default()
        }
    }

    pub(crate) fn delete_params(self) -> kube::api::DeleteParams {
        kube::api::DeleteParams {
            dry_run: self == Self::Server,
            ..kube::api::DeleteParams::default()
        }
    }
}

/// What a write did (or, in a dry run, would do), in kubectl's words:
/// `created`, `configured`, `unchanged`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    #[serde(rename = "configured")]
    Updated,
    Unchanged,
}

/// The label rhpull puts on what it creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "kubectl-rhpull";

/// A typed object as JSON with its `apiVersion` and `kind`, as kubectl
/// prints it.
pub fn to_json<K: k8s_openapi::Resource + serde::Serialize>(obj: &K) -> serde_json::Value {
    let mut v = serde_json::to_value(obj).unwrap_or(serde_json::Value::Null);
    v["apiVersion"] = serde_json::Value::String(K::API_VERSION.to_string());
    v["kind"] = serde_json::Value::String(K::KIND.to_string());
    v
}
