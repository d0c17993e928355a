//! Typed errors of the cluster layer. The binary turns each into what
//! failed, why, and the next command; variants carry names, never secrets.

use std::time::Duration;

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot read the kubeconfig {}: {reason}", path.display())]
    KubeconfigFile {
        path: std::path::PathBuf,
        reason: String,
    },
    /// None of the kubeconfig files exists.
    #[error("no kubeconfig: none of {0} exists")]
    NoKubeconfig(String),
    #[error("the kubeconfig has no context {0}")]
    NoSuchContext(String),
    #[error("cannot reach the API server: {0}")]
    Connection(String),
    /// The server's certificate is not signed by a CA the kubeconfig trusts
    /// (or has expired, or names another host).
    #[error("the API server's certificate is not trusted: {0}")]
    UntrustedServer(String),
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    #[error("not permitted: {verb} {resource} in {namespace:?}")]
    Denied {
        verb: String,
        group: String,
        resource: String,
        namespace: Option<String>,
    },
    #[error("{kind} {namespace}/{name} not found")]
    NotFound {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("namespace {0} not found")]
    NamespaceNotFound(String),
    #[error("secrets not found in {namespace}: {names:?}")]
    SecretsMissing {
        namespace: String,
        names: Vec<String>,
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
    #[error("the cluster has no ClusterRole system:image-puller")]
    NoImagePullerRole,
    /// HyperShift / ROSA HCP: the pull secret is the HostedCluster's.
    #[error("this cluster's control plane is hosted; its pull secret is the HostedCluster's")]
    HostedControlPlane,
    #[error("this is not an OpenShift 4 cluster (no {0})")]
    NotOpenShift4(&'static str),
    #[error("the secret {namespace}/{name} holds no readable registry credentials: {reason}")]
    BadPullSecret {
        namespace: String,
        name: String,
        reason: String,
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

impl ClusterError {
    /// Maps a kube error about `kind name` in `namespace` to a named cause.
    pub fn from_kube(err: kube::Error, kind: &'static str, namespace: &str, name: &str) -> Self {
        match err {
            kube::Error::Api(status) => match status.code {
                403 => Self::Forbidden {
                    message: status.message.clone(),
                },
                404 => Self::NotFound {
                    kind,
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                },
                409 if status.reason == "Conflict" => Self::Conflict {
                    kind,
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    attempts: 1,
                },
                422 => Self::Invalid {
                    kind,
                    name: name.to_string(),
                    message: status.message.clone(),
                },
                code => Self::Api {
                    code,
                    reason: status.reason.clone(),
                    message: status.message.clone(),
                },
            },
            other => Self::from_transport(&other),
        }
    }

    /// A failure below HTTP: the whole chain of causes, so that "client
    /// error (Connect)" comes with the reason, and a certificate problem
    /// gets its own variant.
    pub fn from_transport(err: &kube::Error) -> Self {
        let start: &(dyn std::error::Error + 'static) = match err {
            // kube's wrapper adds only "ServiceError: ".
            kube::Error::Service(inner) => inner.as_ref(),
            other => other,
        };
        let reason = cause_chain(start);
        let mut cur = Some(start);
        while let Some(e) = cur {
            if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
                return Self::UntrustedServer(reason);
            }
            cur = e.source();
        }
        Self::Connection(reason)
    }

    /// True for a 409 Conflict (stale resourceVersion): worth a fresh read.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// Each cause's message once, outermost first: wrappers often repeat their
/// source's text in their own.
fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// True when a kube error is the API's 404.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

/// True for a 409 Conflict on a stale resourceVersion.
pub(crate) fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict")
}
