//! Typed errors of the cluster layer. The binary turns each into what
//! failed, why, and the next command; variants carry names, never secrets.

use std::time::Duration;

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the API server: {0}")]
    Connection(String),
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
            other => Self::Connection(other.to_string()),
        }
    }

    /// True for a 409 Conflict (stale resourceVersion): worth a fresh read.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}

/// True when a kube error is the API's 404.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

/// True for a 409 Conflict on a stale resourceVersion.
pub(crate) fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict")
}
