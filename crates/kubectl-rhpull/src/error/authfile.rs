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
            E::Helper {
                registry, source, ..
            } => failed(Reason::CredentialHelperFailed, "error.authfile.helper")
                .with("registry", registry.clone())
                .with("detail", source.to_string()),
        }
    }
}
