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
