//! Cluster errors as a person reads them: each variant has its catalogue
//! entry (`error.cluster.*`) with what failed, why, and the next command.

use rhpull_cluster::ClusterError;

use super::{CliError, Exit};

impl From<ClusterError> for CliError {
    fn from(err: ClusterError) -> Self {
        Self::from(&err)
    }
}

impl From<&ClusterError> for CliError {
    fn from(err: &ClusterError) -> Self {
        let (base, args) = entry(err);
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Self::from_catalogue(Exit::Failed, base, &args)
    }
}

type Entry = (&'static str, Vec<(&'static str, String)>);

/// The catalogue entry of an error and its placeholders.
fn entry(err: &ClusterError) -> Entry {
    use ClusterError as E;
    let s = |v: &str| v.to_string();
    match err {
        E::Kubeconfig(r) => ("error.cluster.kubeconfig", vec![("reason", s(r))]),
        E::KubeconfigFile { path, reason } => (
            "error.cluster.kubeconfig_file",
            vec![("path", path.display().to_string()), ("reason", s(reason))],
        ),
        E::NoKubeconfig(files) => ("error.cluster.no_kubeconfig", vec![("files", s(files))]),
        E::NoSuchContext(name) => ("error.cluster.no_context", vec![("context", s(name))]),
        E::Connection(r) => ("error.cluster.connection", vec![("reason", s(r))]),
        E::UntrustedServer(r) => ("error.cluster.untrusted", vec![("reason", s(r))]),
        E::Forbidden { message } => ("error.cluster.forbidden", vec![("message", s(message))]),
        E::Denied {
            verb,
            group,
            resource,
            namespace,
        } => denied(verb, group, resource, namespace.as_deref()),
        E::NotFound {
            kind,
            namespace,
            name,
        } => (
            "error.cluster.not_found",
            vec![
                ("kind", s(kind)),
                ("namespace", s(namespace)),
                ("name", s(name)),
            ],
        ),
        E::NamespaceNotFound(ns) => (
            "error.cluster.namespace_not_found",
            vec![("namespace", s(ns))],
        ),
        E::SecretsMissing { namespace, names } => (
            "error.cluster.secrets_missing",
            vec![("namespace", s(namespace)), ("names", names.join(", "))],
        ),
        E::SecretNotManaged { namespace, name } => (
            "error.cluster.not_managed",
            vec![("namespace", s(namespace)), ("name", s(name))],
        ),
        E::SecretTypeDiffers { .. } | E::Conflict { .. } | E::ServiceAccountTimeout { .. } => {
            object_state(err)
        }
        E::NoImagePullerRole => ("error.cluster.no_image_puller", Vec::new()),
        E::HostedControlPlane => ("error.cluster.hosted", Vec::new()),
        E::NotOpenShift4(what) => ("error.cluster.not_openshift4", vec![("what", s(what))]),
        E::BadPullSecret {
            namespace,
            name,
            reason,
        } => (
            "error.cluster.bad_pull_secret",
            vec![
                ("namespace", s(namespace)),
                ("name", s(name)),
                ("reason", s(reason)),
            ],
        ),
        E::Invalid {
            kind,
            name,
            message,
        } => (
            "error.cluster.invalid",
            vec![
                ("kind", s(kind)),
                ("name", s(name)),
                ("message", s(message)),
            ],
        ),
        E::Api {
            code,
            reason,
            message,
        } => api(*code, reason, message),
    }
}

/// A right the access review denied, in a namespace or in all of them.
fn denied(verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Entry {
    let group = if group.is_empty() { "\"\"" } else { group };
    let (key, ns) = match namespace {
        Some(ns) => ("error.cluster.denied", ns),
        None => ("error.cluster.denied_everywhere", "-"),
    };
    let args = [
        ("verb", verb),
        ("group", group),
        ("resource", resource),
        ("namespace", ns),
    ];
    (key, args.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

/// An object in the way: of another type, changing under us, or never
/// appearing.
fn object_state(err: &ClusterError) -> Entry {
    match err {
        ClusterError::SecretTypeDiffers {
            namespace,
            name,
            existing,
            wanted,
        } => (
            "error.cluster.type_differs",
            vec![
                ("namespace", namespace.clone()),
                ("name", name.clone()),
                ("existing", existing.clone()),
                ("wanted", wanted.clone()),
            ],
        ),
        ClusterError::Conflict {
            kind,
            namespace,
            name,
            attempts,
        } => (
            "error.cluster.conflict",
            vec![
                ("kind", kind.to_string()),
                ("namespace", namespace.clone()),
                ("name", name.clone()),
                ("attempts", attempts.to_string()),
            ],
        ),
        ClusterError::ServiceAccountTimeout {
            namespace,
            name,
            waited,
        } => (
            "error.cluster.sa_timeout",
            vec![
                ("namespace", namespace.clone()),
                ("name", name.clone()),
                ("waited", format!("{}s", waited.as_secs())),
            ],
        ),
        _ => ("error.cluster.api", Vec::new()),
    }
}

/// Any other answer of the API server; a throttled or failing server says
/// what was retried and that a re-run is safe.
fn api(code: u16, reason: &str, message: &str) -> Entry {
    let mut args = vec![
        ("code", code.to_string()),
        ("reason", reason.to_string()),
        ("message", message.to_string()),
    ];
    if code == 429 || code >= 500 {
        let attempts = rhpull_cluster::transient::MAX_ATTEMPTS.to_string();
        args.push(("attempts", attempts));
        return ("error.cluster.server", args);
    }
    ("error.cluster.api", args)
}
