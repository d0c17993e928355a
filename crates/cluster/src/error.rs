//! Typed errors of the cluster layer, taken from the API server's own
//! answer: a 404's `Status.details` says which object is missing (a
//! missing namespace is a namespace, whatever was asked for), a failure
//! below HTTP keeps its whole cause chain as its source. The binary puts
//! each variant into words; variants carry names, never secrets, and no
//! sentence of ours.

use std::time::Duration;

use k8s_openapi::Resource as _;
use k8s_openapi::api::core::v1::Namespace;

/// A cause kept whole (`source()` walks its chain).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong below HTTP, read from the cause chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Nothing listens at the server's address.
    ConnectionRefused,
    /// The server's name does not resolve.
    DnsFailure,
    /// No answer within `--request-timeout` (or the wait's deadline).
    Timeout,
    /// The connection was cut.
    ConnectionReset,
    /// Anything else: the source says what.
    Other,
}

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// kube could not build a client from the context (bad certificate
    /// data, an exec plugin that failed, …).
    #[error("cannot load the kubeconfig")]
    Kubeconfig(#[source] Source),
    #[error("cannot read the kubeconfig {}", path.display())]
    KubeconfigFile {
        path: std::path::PathBuf,
        #[source]
        source: Source,
    },
    /// None of the kubeconfig files exists.
    #[error("no kubeconfig: none of {files:?} exists")]
    NoKubeconfig { files: Vec<String> },
    #[error("the kubeconfig has no context {0}")]
    NoSuchContext(String),
    /// The kubeconfig sets `proxy-url`, which rhpull does not speak.
    #[error("the kubeconfig sets proxy-url {proxy}")]
    ProxyUrl { proxy: String },
    #[error("cannot reach the API server ({kind:?})")]
    Unreachable {
        kind: Transport,
        #[source]
        source: Source,
    },
    /// The server's certificate is not signed by a CA the kubeconfig trusts
    /// (or has expired, or names another host).
    #[error("the API server's certificate is not trusted")]
    UntrustedServer(#[source] Source),
    /// 401: the credentials of the context are not accepted.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403 from the API server itself.
    #[error("forbidden: {message}")]
    Forbidden {
        group: String,
        resource: String,
        name: String,
        message: String,
    },
    /// An access review said no before anything was written.
    #[error("not permitted: {verb} {resource} in {namespace:?}")]
    Denied {
        verb: String,
        group: String,
        resource: String,
        namespace: Option<String>,
    },
    /// An object is missing; `resource` as the API names it (`secrets`).
    #[error("{resource} {name:?} not found")]
    NotFound {
        group: String,
        resource: String,
        namespace: Option<String>,
        name: String,
    },
    #[error("namespace {0} not found")]
    NamespaceNotFound(String),
    /// The server does not serve this kind at all (404 on a collection).
    #[error("the server does not serve {group}/{resource}")]
    NotServed { group: String, resource: String },
    #[error("secrets not found in {namespace}: {names:?}")]
    SecretsMissing {
        namespace: String,
        names: Vec<String>,
    },
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        resource: String,
        namespace: Option<String>,
        name: String,
    },
    #[error("secret {namespace}/{name} exists and was not created by rhpull")]
    SecretNotManaged { namespace: String, name: String },
    #[error("secret {namespace}/{name} has type {existing}, not {wanted}")]
    SecretTypeDiffers {
        namespace: String,
        name: String,
        existing: String,
        wanted: String,
    },
    #[error("{kind} {namespace}/{name} kept changing under us ({attempts} attempts)")]
    Conflict {
        kind: &'static str,
        namespace: String,
        name: String,
        attempts: u32,
    },
    #[error("service account {namespace}/{name} did not appear within {waited:?}")]
    ServiceAccountTimeout {
        namespace: String,
        name: String,
        waited: Duration,
    },
    /// The service account is missing and the cluster does not make it by
    /// itself: waiting would not help.
    #[error("service account {namespace}/{name} does not exist")]
    NoSuchServiceAccount {
        namespace: String,
        name: String,
        /// The service accounts the namespace has.
        existing: Vec<String>,
    },
    #[error("the cluster has no ClusterRole system:image-puller")]
    NoImagePullerRole,
    /// HyperShift / ROSA HCP: the pull secret is the HostedCluster's.
    #[error("this cluster's control plane is hosted; its pull secret is the HostedCluster's")]
    HostedControlPlane,
    /// Hosted control plane: the HostedCluster's pull secret has these
    /// keys, and its entry wins HyperShift's merge.
    #[error("the HostedCluster's pull secret already has {registries:?}; its entry wins the merge")]
    OriginalPullSecretWins { registries: Vec<String> },
    /// OpenShift's own registry secret of a service account.
    #[error(
        "secret {namespace}/{secret} is OpenShift's registry secret of service account {service_account}"
    )]
    OpenShiftManagedSecret {
        namespace: String,
        service_account: String,
        secret: String,
    },
    /// Hosted control plane: the entry is the HostedCluster's, not the
    /// additional pull secret's.
    #[error(
        "{registry} is in the HostedCluster's pull secret, not in kube-system/additional-pull-secret"
    )]
    HostedClusterEntry { registry: String },
    #[error("this is not an OpenShift 4 cluster (no {0})")]
    NotOpenShift4(&'static str),
    #[error("the secret {namespace}/{name} holds no readable registry credentials")]
    BadPullSecret {
        namespace: String,
        name: String,
        #[source]
        problem: Box<PullSecretProblem>,
    },
    #[error("the API server rejected {kind} {name}: {message}")]
    Invalid {
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error("the API server answered {code}: {message}")]
    Api {
        code: u16,
        reason: String,
        message: String,
    },
}

/// Why a pull secret's content cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PullSecretProblem {
    /// Not `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg`.
    #[error("type {0} is not a pull secret type")]
    NotAPullSecret(String),
    /// The type's data key (`.dockerconfigjson`) is absent.
    #[error("no {0} key")]
    NoDataKey(&'static str),
    /// The data is there but not a credential file.
    #[error(transparent)]
    Content(#[from] rhpull_core::authfile::AuthFileError),
}

impl PullSecretProblem {
    /// What is wrong, without the sources.
    pub fn fault(&self) -> PullSecretFault {
        match self {
            Self::NotAPullSecret(_) => PullSecretFault::NotAPullSecretType,
            Self::NoDataKey(_) => PullSecretFault::NoDataKey,
            Self::Content(e) => PullSecretFault::of(e),
        }
    }
}

/// What is wrong with a pull secret's content, as machine output names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum PullSecretFault {
    NotAPullSecretType,
    NoDataKey,
    Empty,
    NotJson,
    BadBase64,
    AuthWithoutColon,
    /// Valid JSON of the wrong shape.
    Malformed,
}

impl PullSecretFault {
    /// The fault of a credential file that cannot be read.
    pub fn of(e: &rhpull_core::authfile::AuthFileError) -> Self {
        use rhpull_core::authfile::AuthFileError as E;
        match e {
            E::Empty { .. } => Self::Empty,
            E::NotJson { .. } => Self::NotJson,
            E::BadBase64 { .. } => Self::BadBase64,
            E::AuthWithoutColon { .. } => Self::AuthWithoutColon,
            _ => Self::Malformed,
        }
    }
}

/// Where an API request was aimed: the resource, and the object's
/// namespace and name (`""` where there is none: a list, a cluster-scoped
/// object).
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    pub kind: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> At<'a> {
    /// An object (or, with `name` empty, a list) of type `K`.
    pub fn of<K: k8s_openapi::Resource>(namespace: &'a str, name: &'a str) -> Self {
        Self {
            kind: K::KIND,
            group: K::GROUP,
            resource: K::URL_PATH_SEGMENT,
            namespace,
            name,
        }
    }
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl ClusterError {
    /// Maps a kube error about an object of type `K` (`name` empty for a
    /// list; `namespace` empty for cluster-scoped objects or all
    /// namespaces) to a named cause, from the server's own answer.
    pub fn from_kube<K: k8s_openapi::Resource>(
        err: kube::Error,
        namespace: &str,
        name: &str,
    ) -> Self {
        Self::from_kube_at(err, At::of::<K>(namespace, name))
    }

    /// A watch of `K` (in `namespace`) that failed: the server's answer to
    /// its list or watch, named as [`ClusterError::from_kube`] names it;
    /// anything else as the connection failing.
    pub fn from_watch<K: k8s_openapi::Resource>(
        err: kube::runtime::watcher::Error,
        namespace: &str,
    ) -> Self {
        use kube::runtime::watcher::Error as W;
        match err {
            W::InitialListFailed(e) | W::WatchStartFailed(e) => {
                Self::from_kube::<K>(e, namespace, "")
            }
            other => Self::Unreachable {
                kind: Transport::Other,
                source: Box::new(other),
            },
        }
    }

    /// As [`from_kube`](Self::from_kube), where the target is not a typed
    /// resource (discovery).
    pub fn from_kube_at(err: kube::Error, at: At<'_>) -> Self {
        match err {
            kube::Error::Api(status) => Self::from_status(*status, at),
            other => Self::from_transport(other),
        }
    }

    fn from_status(status: kube::core::Status, at: At<'_>) -> Self {
        let details = Details::of(&status);
        match status.code {
            401 => Self::Unauthorized {
                message: status.message,
            },
            403 => Self::Forbidden {
                resource: details.resource_or(&at),
                group: details.group,
                name: details.name,
                message: status.message,
            },
            404 => Self::not_found(details, at),
            409 if status.reason == "Conflict" => Self::Conflict {
                kind: at.kind,
                namespace: at.namespace.to_string(),
                name: at.name.to_string(),
                attempts: 1,
            },
            409 if status.reason == "AlreadyExists" => Self::AlreadyExists {
                resource: details.resource_or(&at),
                namespace: some(at.namespace),
                name: details.name_or(&at),
            },
            422 => Self::Invalid {
                kind: at.kind,
                name: details.name_or(&at),
                message: status.message,
            },
            code => Self::Api {
                code,
                reason: status.reason,
                message: status.message,
            },
        }
    }

    /// A 404 names what is missing in its details (`kind` is the
    /// resource, `name` the object): creating a secret in a namespace
    /// that does not exist answers `namespaces "x" not found`. Without
    /// details (a 404 on a collection), the server does not serve the kind.
    fn not_found(details: Details, at: At<'_>) -> Self {
        let (resource, name) = (details.resource_or(&at), details.name_or(&at));
        if resource == Namespace::URL_PATH_SEGMENT && details.group.is_empty() {
            return Self::NamespaceNotFound(name);
        }
        if name.is_empty() {
            return Self::NotServed {
                group: at.group.to_string(),
                resource,
            };
        }
        Self::NotFound {
            group: details.group,
            resource,
            // The object is in the namespace asked about; a cluster-scoped
            // one (a namespace, a MachineConfig) has none.
            namespace: some(at.namespace),
            name,
        }
    }

    /// A failure below HTTP, classified by its cause chain, which stays
    /// its source; a certificate problem gets its own variant.
    pub fn from_transport(err: kube::Error) -> Self {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut kind = Transport::Other;
        while let Some(e) = cur {
            if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
                return Self::UntrustedServer(Box::new(err));
            }
            if kind == Transport::Other {
                kind = classify(e);
            }
            cur = e.source();
        }
        Self::Unreachable {
            kind,
            source: Box::new(err),
        }
    }

    /// True for a 409 Conflict (stale resourceVersion): worth a fresh read.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// What a `Status` says of the object it is about (empty where it says
/// nothing).
#[derive(Default)]
struct Details {
    name: String,
    group: String,
    /// The resource, as the API names it (`secrets`).
    kind: String,
}

impl Details {
    fn of(status: &kube::core::Status) -> Self {
        status
            .details
            .as_ref()
            .map_or_else(Self::default, |d| Self {
                name: d.name.clone(),
                group: d.group.clone(),
                kind: d.kind.clone(),
            })
    }

    /// The resource the answer names, else the one asked about.
    fn resource_or(&self, at: &At<'_>) -> String {
        let named = Some(&self.kind).filter(|k| !k.is_empty());
        named.map_or_else(|| at.resource.to_string(), Clone::clone)
    }

    /// The object the answer names, else the one asked about.
    fn name_or(&self, at: &At<'_>) -> String {
        let named = Some(&self.name).filter(|n| !n.is_empty());
        named.map_or_else(|| at.name.to_string(), Clone::clone)
    }
}

/// One link of a cause chain, as far as it says what happened.
fn classify(e: &(dyn std::error::Error + 'static)) -> Transport {
    use std::io::ErrorKind as K;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return match io.kind() {
            K::ConnectionRefused => Transport::ConnectionRefused,
            K::TimedOut => Transport::Timeout,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                Transport::ConnectionReset
            }
            _ => Transport::Other,
        };
    }
    if e.is::<tokio::time::error::Elapsed>() {
        return Transport::Timeout;
    }
    // An HTTP/2 stream reset or connection torn down: cut, as on HTTP/1.1.
    if let Some(h2) = e.downcast_ref::<h2::Error>()
        && (h2.is_reset() || h2.is_go_away() || h2.is_io())
    {
        return Transport::ConnectionReset;
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_timeout() {
            return Transport::Timeout;
        }
        if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
            return Transport::ConnectionReset;
        }
    }
    // hyper-util's connector says "dns error" for a name that does not
    // resolve (its ConnectError carries no type to match on).
    if e.to_string().starts_with("dns error") {
        return Transport::DnsFailure;
    }
    Transport::Other
}

/// True when a kube error is the API's 404 about an object of type `K`
/// (not about its namespace: creating in a missing namespace is a 404 that
/// names the namespace), or about `K`'s collection.
pub(crate) fn is_not_found<K: k8s_openapi::Resource>(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(s) if s.code == 404 => s
            .details
            .as_ref()
            .is_none_or(|d| d.kind.is_empty() || d.kind == K::URL_PATH_SEGMENT),
        _ => false,
    }
}

/// True for a 409 Conflict on a stale resourceVersion.
pub(crate) fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict")
}

/// True for a 403.
pub(crate) fn is_forbidden(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 403)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Secret;

    use super::*;

    fn status(code: u16, reason: &str, kind: &str, name: &str) -> kube::Error {
        let s: kube::core::Status = serde_json::from_value(serde_json::json!({
            "code": code, "reason": reason, "message": "m",
            "details": {"kind": kind, "name": name},
        }))
        .unwrap();
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn a_404_names_what_its_details_name() {
        let missing_ns = status(404, "NotFound", "namespaces", "nope");
        assert!(
            !is_not_found::<Secret>(&missing_ns),
            "the secret is not what is missing"
        );
        assert!(is_not_found::<Namespace>(&missing_ns));
        assert!(matches!(
            ClusterError::from_kube::<Secret>(missing_ns, "nope", "s"),
            ClusterError::NamespaceNotFound(n) if n == "nope"
        ));
        let missing = status(404, "NotFound", "secrets", "s");
        assert!(is_not_found::<Secret>(&missing));
        assert!(matches!(
            ClusterError::from_kube::<Secret>(missing, "a", "s"),
            ClusterError::NotFound { resource, namespace: Some(ns), name, .. }
                if resource == "secrets" && ns == "a" && name == "s"
        ));
        let collection = status(404, "NotFound", "", "");
        assert!(matches!(
            ClusterError::from_kube::<Secret>(collection, "", ""),
            ClusterError::NotServed { resource, .. } if resource == "secrets"
        ));
        let exists = status(409, "AlreadyExists", "secrets", "s");
        assert!(matches!(
            ClusterError::from_kube::<Secret>(exists, "a", "s"),
            ClusterError::AlreadyExists { .. }
        ));
    }

    #[test]
    fn transport_failures_are_classified_and_keep_their_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = kube::Error::Service(Box::new(io));
        let e = ClusterError::from_transport(err);
        assert!(matches!(
            e,
            ClusterError::Unreachable {
                kind: Transport::ConnectionRefused,
                ..
            }
        ));
        let source = std::error::Error::source(&e).unwrap();
        assert!(source.to_string().contains("refused"), "{source}");
    }
}
