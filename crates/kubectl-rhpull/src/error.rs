//! The one error type the binary shows: what failed, why, and the next step,
//! each already in the user's language, plus the exit code (1 failed, 2 bad
//! usage). Typed errors from `core` and `cluster` are turned into it here.

use crate::i18n::text;

/// kubectl's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub what: String,
    pub why: Option<String>,
    pub next: Option<String>,
}

impl CliError {
    /// A failure whose texts come from the catalogue keys `<base>.what`,
    /// `<base>.why` and `<base>.next` (the last two when present).
    pub fn from_catalogue(exit: Exit, base: &str, args: &[(&str, &str)]) -> Self {
        let optional = |part: &str| {
            let key = format!("{base}.{part}");
            crate::i18n::has(&key, "en").then(|| text(&key, args))
        };
        Self {
            exit,
            what: text(&format!("{base}.what"), args),
            why: optional("why"),
            next: optional("next"),
        }
    }

    /// A failure already reported in the command's own output (a failed
    /// check prints its steps): only the exit code remains.
    pub fn silent(exit: Exit) -> Self {
        Self {
            exit,
            what: String::new(),
            why: None,
            next: None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit as u8
    }
}

impl From<rhpull_core::authfile::AuthFileError> for CliError {
    fn from(err: rhpull_core::authfile::AuthFileError) -> Self {
        use rhpull_core::authfile::AuthFileError as E;
        let path = err.path().display().to_string();
        let p = path.as_str();
        match &err {
            E::Read { source, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.read",
                &[("path", p), ("reason", &source.to_string())],
            ),
            E::Write { source, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.write",
                &[("path", p), ("reason", &source.to_string())],
            ),
            E::ChangedMeanwhile { .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.changed",
                &[
                    ("path", p),
                    (
                        "attempts",
                        &rhpull_core::authfile::store::MAX_ATTEMPTS.to_string(),
                    ),
                ],
            ),
            E::Empty { .. } => {
                Self::from_catalogue(Exit::Failed, "error.authfile.empty", &[("path", p)])
            }
            E::NotJson { line, column, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.not_json",
                &[
                    ("path", p),
                    ("line", &line.to_string()),
                    ("column", &column.to_string()),
                ],
            ),
            E::NotAnObject { what, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.not_object",
                &[("path", p), ("what", what)],
            ),
            E::BadBase64 { key, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.bad_base64",
                &[("path", p), ("key", key)],
            ),
            E::AuthWithoutColon { key, .. } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.no_colon",
                &[("path", p), ("key", key)],
            ),
            E::Helper {
                registry, source, ..
            } => Self::from_catalogue(
                Exit::Failed,
                "error.authfile.helper",
                &[
                    ("path", p),
                    ("registry", registry),
                    ("reason", &source.to_string()),
                ],
            ),
        }
    }
}

impl From<rhpull_cluster::ClusterError> for CliError {
    fn from(err: rhpull_cluster::ClusterError) -> Self {
        Self::from(&err)
    }
}

impl From<&rhpull_cluster::ClusterError> for CliError {
    fn from(err: &rhpull_cluster::ClusterError) -> Self {
        use rhpull_cluster::ClusterError as E;
        let f = |base: &str, args: &[(&str, &str)]| Self::from_catalogue(Exit::Failed, base, args);
        match err {
            E::Kubeconfig(reason) => f("error.cluster.kubeconfig", &[("reason", reason)]),
            E::Connection(reason) => f("error.cluster.connection", &[("reason", reason)]),
            E::UntrustedServer(reason) => f("error.cluster.untrusted", &[("reason", reason)]),
            E::Forbidden { message } => f("error.cluster.forbidden", &[("message", message)]),
            E::Denied {
                verb,
                group,
                resource,
                namespace,
            } => {
                let ns = namespace.clone().unwrap_or_else(|| "-".into());
                let group = if group.is_empty() {
                    "\"\"".to_string()
                } else {
                    group.clone()
                };
                f(
                    "error.cluster.denied",
                    &[
                        ("verb", verb),
                        ("group", &group),
                        ("resource", resource),
                        ("namespace", &ns),
                    ],
                )
            }
            E::NotFound {
                kind,
                namespace,
                name,
            } => f(
                "error.cluster.not_found",
                &[("kind", kind), ("namespace", namespace), ("name", name)],
            ),
            E::NamespaceNotFound(ns) => {
                f("error.cluster.namespace_not_found", &[("namespace", ns)])
            }
            E::SecretsMissing { namespace, names } => f(
                "error.cluster.secrets_missing",
                &[("namespace", namespace), ("names", &names.join(", "))],
            ),
            E::SecretNotManaged { namespace, name } => f(
                "error.cluster.not_managed",
                &[("namespace", namespace), ("name", name)],
            ),
            E::SecretTypeDiffers {
                namespace,
                name,
                existing,
                wanted,
            } => f(
                "error.cluster.type_differs",
                &[
                    ("namespace", namespace),
                    ("name", name),
                    ("existing", existing),
                    ("wanted", wanted),
                ],
            ),
            E::Conflict {
                kind,
                namespace,
                name,
                attempts,
            } => f(
                "error.cluster.conflict",
                &[
                    ("kind", kind),
                    ("namespace", namespace),
                    ("name", name),
                    ("attempts", &attempts.to_string()),
                ],
            ),
            E::ServiceAccountTimeout {
                namespace,
                name,
                waited,
            } => f(
                "error.cluster.sa_timeout",
                &[
                    ("namespace", namespace),
                    ("name", name),
                    ("waited", &format!("{}s", waited.as_secs())),
                ],
            ),
            E::NoImagePullerRole => f("error.cluster.no_image_puller", &[]),
            E::NotOpenShift4(what) => f("error.cluster.not_openshift4", &[("what", what)]),
            E::BadPullSecret {
                namespace,
                name,
                reason,
            } => f(
                "error.cluster.bad_pull_secret",
                &[("namespace", namespace), ("name", name), ("reason", reason)],
            ),
            E::Invalid {
                kind,
                name,
                message,
            } => f(
                "error.cluster.invalid",
                &[("kind", kind), ("name", name), ("message", message)],
            ),
            // Throttled or failing server: say what was retried and that a
            // re-run is safe.
            E::Api {
                code,
                reason,
                message,
            } if *code == 429 || *code >= 500 => f(
                "error.cluster.server",
                &[
                    ("code", &code.to_string()),
                    ("reason", reason),
                    ("message", message),
                    (
                        "attempts",
                        &rhpull_cluster::transient::MAX_ATTEMPTS.to_string(),
                    ),
                ],
            ),
            E::Api {
                code,
                reason,
                message,
            } => f(
                "error.cluster.api",
                &[
                    ("code", &code.to_string()),
                    ("reason", reason),
                    ("message", message),
                ],
            ),
        }
    }
}
