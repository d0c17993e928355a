//! Auth-file errors as a person reads them: the file, what is wrong with
//! it, and how to mend it.

use super::{CliError, Exit};

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
