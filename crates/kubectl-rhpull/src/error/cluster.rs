//! Cluster errors as failures: each variant's reason (the API server's own
//! where it gave one), its fields, and its catalogue entry
//! (`error.cluster.*`) with what failed, why, and the next command.

use rhpull_cluster::ClusterError;
use rhpull_cluster::error::{PullSecretFault, Transport};
use serde_json::{Value, json};

use super::{CliError, Exit, Reason, cause_chain};

impl From<ClusterError> for CliError {
    fn from(err: ClusterError) -> Self {
        Self::from(&err)
    }
}

impl From<&ClusterError> for CliError {
    fn from(err: &ClusterError) -> Self {
        let (reason, key, fields) = entry(err);
        let mut out = CliError::new(Exit::Failed, reason, key);
        for (name, value) in fields {
            out = out.with(name, value);
        }
        if let ClusterError::BadPullSecret { problem, .. } = err {
            out = out.worded("problem_words", fault_key(problem.fault()));
        }
        out
    }
}

/// The words for what is wrong with a pull secret's content.
pub fn fault_key(fault: PullSecretFault) -> &'static str {
    match fault {
        PullSecretFault::NotAPullSecretType => "pull_secret.fault.not_a_pull_secret_type",
        PullSecretFault::NoDataKey => "pull_secret.fault.no_data_key",
        PullSecretFault::Empty => "pull_secret.fault.empty",
        PullSecretFault::NotJson => "pull_secret.fault.not_json",
        PullSecretFault::BadBase64 => "pull_secret.fault.bad_base64",
        PullSecretFault::AuthWithoutColon => "pull_secret.fault.auth_without_colon",
        PullSecretFault::Malformed => "pull_secret.fault.malformed",
    }
}

type Fields = Vec<(&'static str, Value)>;

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

/// The reason, catalogue entry and fields of an error.
fn entry(err: &ClusterError) -> (Reason, &'static str, Fields) {
    use ClusterError as E;
    match err {
        E::Kubeconfig(source) => (
            Reason::KubeconfigInvalid,
            "error.cluster.kubeconfig",
            vec![("detail", json!(cause_chain(source.as_ref())))],
        ),
        E::KubeconfigFile { path, source } => (
            Reason::KubeconfigInvalid,
            "error.cluster.kubeconfig_file",
            vec![
                ("path", json!(path.display().to_string())),
                ("detail", json!(cause_chain(source.as_ref()))),
            ],
        ),
        E::NoKubeconfig { files } => (
            Reason::NoKubeconfig,
            "error.cluster.no_kubeconfig",
            vec![("files", json!(files))],
        ),
        E::NoSuchContext(name) => (
            Reason::NoSuchContext,
            "error.cluster.no_context",
            vec![("context", json!(name))],
        ),
        E::ProxyUrl { proxy } => (
            Reason::ProxyUrlUnsupported,
            "error.cluster.proxy_url",
            vec![("proxy", json!(proxy))],
        ),
        E::Unreachable { kind, source } => unreachable(*kind, source.as_ref()),
        E::UntrustedServer(source) => (
            Reason::TlsUntrusted,
            "error.cluster.untrusted",
            vec![("detail", json!(cause_chain(source.as_ref())))],
        ),
        E::Unauthorized { message } => (
            Reason::Unauthorized,
            "error.cluster.unauthorized",
            vec![("message", json!(message))],
        ),
        E::Forbidden {
            group,
            resource,
            name,
            message,
        } => (
            Reason::Forbidden,
            "error.cluster.forbidden",
            vec![
                ("group", json!(group)),
                ("resource", json!(resource)),
                ("name", json!(name)),
                ("message", json!(message)),
            ],
        ),
        E::Denied {
            verb,
            group,
            resource,
            namespace,
        } => denied(verb, group, resource, namespace.as_deref()),
        E::NotFound {
            group,
            resource,
            namespace,
            name,
        } => (
            Reason::NotFound,
            if namespace.is_some() {
                "error.cluster.not_found"
            } else {
                "error.cluster.not_found_cluster"
            },
            vec![
                ("group", json!(group)),
                ("resource", json!(resource)),
                ("namespace", opt(namespace)),
                ("name", json!(name)),
            ],
        ),
        E::NamespaceNotFound(ns) => (
            Reason::NotFound,
            "error.cluster.namespace_not_found",
            vec![("resource", json!("namespaces")), ("name", json!(ns))],
        ),
        E::NotServed { group, resource } => (
            Reason::NotServed,
            "error.cluster.not_served",
            vec![("group", json!(group)), ("resource", json!(resource))],
        ),
        E::SecretsMissing { namespace, names } => (
            Reason::NotFound,
            "error.cluster.secrets_missing",
            vec![
                ("resource", json!("secrets")),
                ("namespace", json!(namespace)),
                ("names", json!(names)),
            ],
        ),
        E::AlreadyExists {
            resource,
            namespace,
            name,
        } => (
            Reason::AlreadyExists,
            "error.cluster.already_exists",
            vec![
                ("resource", json!(resource)),
                ("namespace", opt(namespace)),
                ("name", json!(name)),
            ],
        ),
        E::SecretNotManaged { namespace, name } => (
            Reason::SecretNotManaged,
            "error.cluster.not_managed",
            vec![("namespace", json!(namespace)), ("name", json!(name))],
        ),
        E::SecretTypeDiffers { .. }
        | E::Conflict { .. }
        | E::ServiceAccountTimeout { .. }
        | E::NoSuchServiceAccount { .. } => object_state(err),
        E::NoImagePullerRole => (
            Reason::NoImagePullerRole,
            "error.cluster.no_image_puller",
            Vec::new(),
        ),
        E::HostedControlPlane => (
            Reason::HostedControlPlane,
            "error.cluster.hosted",
            Vec::new(),
        ),
        E::OriginalPullSecretWins { registries } => (
            Reason::OriginalPullSecretWins,
            "error.cluster.original_wins",
            vec![
                ("registries", json!(registries)),
                (
                    "registry",
                    json!(registries.first().cloned().unwrap_or_default()),
                ),
            ],
        ),
        E::OpenShiftManagedSecret {
            namespace,
            service_account,
            secret,
        } => (
            Reason::OpenShiftManagedSecret,
            "error.cluster.openshift_managed",
            vec![
                ("namespace", json!(namespace)),
                ("sa", json!(service_account)),
                ("secret", json!(secret)),
            ],
        ),
        E::HostedClusterEntry { registry } => (
            Reason::HostedClusterEntry,
            "error.cluster.hosted_cluster_entry",
            vec![("registry", json!(registry))],
        ),
        E::NotOpenShift4(what) => (
            Reason::NotOpenShift4,
            "error.cluster.not_openshift4",
            vec![("what", json!(what))],
        ),
        E::BadPullSecret {
            namespace,
            name,
            problem,
        } => (
            Reason::BadPullSecret,
            "error.cluster.bad_pull_secret",
            vec![
                ("namespace", json!(namespace)),
                ("name", json!(name)),
                ("problem", json!(problem.fault())),
            ],
        ),
        E::Invalid {
            kind,
            name,
            message,
        } => (
            Reason::Invalid,
            "error.cluster.invalid",
            vec![
                ("kind", json!(kind)),
                ("name", json!(name)),
                ("message", json!(message)),
            ],
        ),
        E::Api {
            code,
            reason,
            message,
        } => api(*code, reason, message),
    }
}

/// A failure below HTTP: its kind, and the libraries' own words for it.
fn unreachable(
    kind: Transport,
    source: &(dyn std::error::Error + 'static),
) -> (Reason, &'static str, Fields) {
    let reason = match kind {
        Transport::ConnectionRefused => Reason::ConnectionRefused,
        Transport::DnsFailure => Reason::DnsFailure,
        Transport::Timeout => Reason::Timeout,
        Transport::ConnectionReset => Reason::ConnectionReset,
        Transport::Other => Reason::ConnectionFailed,
    };
    let key = if kind == Transport::Timeout {
        "error.cluster.timeout"
    } else {
        "error.cluster.connection"
    };
    (reason, key, vec![("detail", json!(cause_chain(source)))])
}

/// A right the access review denied, in a namespace or in all of them.
fn denied(
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> (Reason, &'static str, Fields) {
    let key = match namespace {
        Some(_) => "error.cluster.denied",
        None => "error.cluster.denied_everywhere",
    };
    let fields = vec![
        ("verb", json!(verb)),
        ("group", json!(group)),
        ("resource", json!(resource)),
        ("namespace", json!(namespace)),
    ];
    (Reason::AccessDenied, key, fields)
}

/// An object in the way: of another type, changing under us, or never
/// appearing.
fn object_state(err: &ClusterError) -> (Reason, &'static str, Fields) {
    match err {
        ClusterError::SecretTypeDiffers {
            namespace,
            name,
            existing,
            wanted,
        } => (
            Reason::SecretTypeDiffers,
            "error.cluster.type_differs",
            vec![
                ("namespace", json!(namespace)),
                ("name", json!(name)),
                ("existing", json!(existing)),
                ("wanted", json!(wanted)),
            ],
        ),
        ClusterError::Conflict {
            kind,
            namespace,
            name,
            attempts,
        } => (
            Reason::Conflict,
            "error.cluster.conflict",
            vec![
                ("kind", json!(kind)),
                ("namespace", json!(namespace)),
                ("name", json!(name)),
                ("attempts", json!(attempts)),
            ],
        ),
        ClusterError::ServiceAccountTimeout {
            namespace,
            name,
            waited,
        } => (
            Reason::ServiceAccountNotReady,
            "error.cluster.sa_timeout",
            vec![
                ("namespace", json!(namespace)),
                ("name", json!(name)),
                ("waited", json!(format!("{}s", waited.as_secs()))),
            ],
        ),
        ClusterError::NoSuchServiceAccount {
            namespace,
            name,
            existing,
        } => no_such_service_account(namespace, name, existing),
        other => api(0, "", &other.to_string()),
    }
}

/// A service account the cluster does not make by itself: named at once,
/// with the ones that exist and the closest of them.
fn no_such_service_account(
    namespace: &str,
    name: &str,
    existing: &[String],
) -> (Reason, &'static str, Fields) {
    let closest = crate::words::closest(name, existing.iter().map(String::as_str));
    let key = if closest.is_some() {
        "error.cluster.no_such_sa_closest"
    } else {
        "error.cluster.no_such_sa"
    };
    (
        Reason::NotFound,
        key,
        vec![
            ("resource", json!("serviceaccounts")),
            ("namespace", json!(namespace)),
            ("name", json!(name)),
            ("existing", json!(existing)),
            ("closest", json!(closest)),
        ],
    )
}

/// Any other answer of the API server; a throttled or failing server says
/// what was retried and that a re-run is safe.
fn api(code: u16, reason: &str, message: &str) -> (Reason, &'static str, Fields) {
    let mut fields = vec![
        ("code", json!(code)),
        ("api_reason", json!(reason)),
        ("message", json!(message)),
    ];
    let attempts = rhpull_cluster::transient::MAX_ATTEMPTS;
    match code {
        429 => {
            fields.push(("attempts", json!(attempts)));
            (Reason::TooManyRequests, "error.cluster.server", fields)
        }
        500.. => {
            fields.push(("attempts", json!(attempts)));
            (Reason::ServerError, "error.cluster.server", fields)
        }
        _ => (Reason::ApiError, "error.cluster.api", fields),
    }
}
