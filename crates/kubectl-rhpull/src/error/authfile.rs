//! Auth-file errors as failures: the file, what is wrong with it, and how
//! to mend it. A file that is not there is said to be missing, not
//! unreadable.

use super::{CliError, Reason};

impl From<rhpull_core::authfile::AuthFileError> for CliError {
    fn from(err: rhpull_core::authfile::AuthFileError) -> Self {
        use rhpull_core::authfile::AuthFileError as E;
        let path = err.path().display().to_string();
        let failed = |reason, key| CliError::failed(reason, key).with("path", path.clone());
        match &err {
            E::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                failed(Reason::FileNotFound, "error.authfile.missing")
            }
            E::Read { source, .. } => failed(Reason::FileUnreadable, "error.authfile.read")
                .with("detail", source.to_string()),
            E::Write { source, .. } => failed(Reason::FileNotWritable, "error.authfile.write")
                .with("detail", source.to_string()),
            E::ChangedMeanwhile { .. } => {
                failed(Reason::FileChangedMeanwhile, "error.authfile.changed")
                    .with("attempts", rhpull_core::authfile::store::MAX_ATTEMPTS)
            }
            E::Empty { .. } => failed(Reason::FileEmpty, "error.authfile.empty"),
            E::NotJson { line, column, .. } => {
                failed(Reason::FileNotJson, "error.authfile.not_json")
                    .with("line", *line)
                    .with("column", *column)
            }
            E::NotAnObject { what, .. } => {
                failed(Reason::FileMalformed, "error.authfile.not_object")
                    .with("what", what.clone())
            }
            E::BadBase64 { key, .. } => {
                failed(Reason::FileMalformed, "error.authfile.bad_base64").with("key", key.clone())
            }
            E::AuthWithoutColon { key, .. } => {
                failed(Reason::FileMalformed, "error.authfile.no_colon").with("key", key.clone())
            }
            E::NotAString { key, field, .. } => {
                failed(Reason::FileMalformed, "error.authfile.not_a_string")
                    .with("key", key.clone())
                    .with("field", *field)
            }
            E::InvalidKey { problem, .. } => {
                super::key_problem(problem, &problem_key(problem)).with("path", path.clone())
            }
            E::Helper {
                registry, source, ..
            } => failed(Reason::CredentialHelperFailed, "error.authfile.helper")
                .with("registry", registry.clone())
                .with("detail", source.to_string()),
        }
    }
}

/// The key a problem is about.
fn problem_key(problem: &rhpull_core::authfile::keys::KeyProblem) -> String {
    use rhpull_core::authfile::keys::KeyProblem as P;
    match problem {
        P::Digest(k) | P::Tag(k) | P::NamespacedInDocker(k) => k.clone(),
    }
}

/// A key a file may not hold, in podman's words: a usage error (exit 2),
/// whether the command line or the write found it.
pub fn key_problem(problem: &rhpull_core::authfile::keys::KeyProblem, registry: &str) -> CliError {
    use rhpull_core::authfile::keys;
    let key = match problem {
        keys::KeyProblem::NamespacedInDocker(_) => "error.docker_namespaced_key",
        _ => "error.registry_key",
    };
    CliError::usage(Reason::InvalidValue, key)
        .with("problem", problem.to_string())
        .with("host", keys::host(&keys::normalize(registry)).to_string())
}
