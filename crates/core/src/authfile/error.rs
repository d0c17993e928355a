//! Typed errors for reading and writing auth files. Every variant names the
//! file; none carries file content, so no secret can reach a message.

use std::path::PathBuf;

use crate::helper::HelperError;

#[derive(Debug, thiserror::Error)]
pub enum AuthFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty")]
    Empty { path: PathBuf },
    #[error("{path} is not JSON (line {line}, column {column})")]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{path}: {what} is not a JSON object")]
    NotAnObject { path: PathBuf, what: String },
    #[error("{path}: the \"auth\" field of {key} is not valid base64")]
    BadBase64 { path: PathBuf, key: String },
    #[error("{path}: the \"auth\" field of {key} has no ':' between username and password")]
    AuthWithoutColon { path: PathBuf, key: String },
    #[error("{path}: the \"{field}\" field of {key} is not a string")]
    NotAString {
        path: PathBuf,
        key: String,
        field: &'static str,
    },
    #[error("{path} kept changing while it was being written")]
    ChangedMeanwhile { path: PathBuf },
    /// A key the file's format may not hold, refused before anything is
    /// written, as containers/image's `SetCredentials` refuses it.
    #[error("{path}: {problem}")]
    InvalidKey {
        path: PathBuf,
        problem: super::keys::KeyProblem,
    },
    #[error("{path}: credential helper for {registry}: {source}")]
    Helper {
        path: PathBuf,
        registry: String,
        source: HelperError,
    },
}

impl AuthFileError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Read { path, .. }
            | Self::Write { path, .. }
            | Self::Empty { path }
            | Self::ChangedMeanwhile { path }
            | Self::NotJson { path, .. }
            | Self::NotAnObject { path, .. }
            | Self::BadBase64 { path, .. }
            | Self::AuthWithoutColon { path, .. }
            | Self::NotAString { path, .. }
            | Self::InvalidKey { path, .. }
            | Self::Helper { path, .. } => path,
        }
    }
}
