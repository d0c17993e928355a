//! `docker-credential-<name>` helpers, spoken to with their real protocol:
//! `get` takes the server URL on stdin and prints
//! `{"ServerURL","Username","Secret"}`; `store` takes that JSON on stdin;
//! `erase` takes the server URL. A missing credential is the helper's
//! "credentials not found in native keychain" on a failing exit.

use std::io::Write as _;
use std::process::{Command, Stdio};

use secrecy::{ExposeSecret as _, SecretString};

/// The message helpers print when they hold nothing for a server.
const NOT_FOUND: &str = "credentials not found";

/// Failures talking to a helper. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("{program} is not installed or not on PATH")]
    NotInstalled { program: String },
    #[error("{program} {action} failed: {message}")]
    Failed {
        program: String,
        action: &'static str,
        message: String,
    },
    #[error("{program} {action} printed something that is not its JSON answer")]
    BadOutput {
        program: String,
        action: &'static str,
    },
}

/// A credential helper named in `credsStore` or `credHelpers`.
#[derive(Clone, Debug)]
pub struct Helper {
    program: String,
    /// PATH to search for the program; the process's own when `None`.
    search_path: Option<std::ffi::OsString>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

impl Helper {
    /// The helper `docker-credential-<name>`, looked up on PATH when run.
    pub fn new(name: &str) -> Self {
        Self {
            program: format!("docker-credential-{name}"),
            search_path: None,
        }
    }

    /// Searches `path` (a PATH value) for the program instead of the
    /// process's PATH; `Command` resolves a bare name with the child's PATH.
    pub fn with_search_path(mut self, path: Option<std::ffi::OsString>) -> Self {
        self.search_path = path;
        self
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// The username and secret stored for `server`; `None` when the helper
    /// holds nothing for it. An identity token comes back with username
    /// `<token>`, as docker's helpers report it.
    pub fn get(&self, server: &str) -> Result<Option<(String, SecretString)>, HelperError> {
        let out = self.run("get", server.as_bytes(), None)?;
        let Some(stdout) = out else {
            return Ok(None);
        };
        let answer: HelperAnswer =
            serde_json::from_slice(&stdout).map_err(|_| HelperError::BadOutput {
                program: self.program.clone(),
                action: "get",
            })?;
        Ok(Some((answer.username, SecretString::from(answer.secret))))
    }

    /// Stores `username` and `secret` for `server`.
    pub fn store(
        &self,
        server: &str,
        username: &str,
        secret: &SecretString,
    ) -> Result<(), HelperError> {
        let body = serde_json::json!({
            "ServerURL": server,
            "Username": username,
            "Secret": secret.expose_secret(),
        });
        let bytes = SecretString::from(body.to_string());
        self.run("store", bytes.expose_secret().as_bytes(), Some(secret))
            .map(|_| ())
    }

    /// Erases what is stored for `server`; erasing nothing is not an error.
    pub fn erase(&self, server: &str) -> Result<(), HelperError> {
        self.run("erase", server.as_bytes(), None).map(|_| ())
    }

    /// Runs the helper; `Ok(None)` when it reports "credentials not found".
    fn run(
        &self,
        action: &'static str,
        stdin: &[u8],
        secret: Option<&SecretString>,
    ) -> Result<Option<Vec<u8>>, HelperError> {
        let mut command = Command::new(&self.program);
        if let Some(path) = &self.search_path {
            command.env("PATH", path);
        }
        let mut child = command
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    HelperError::NotInstalled {
                        program: self.program.clone(),
                    }
                }
                _ => HelperError::Failed {
                    program: self.program.clone(),
                    action,
                    message: e.to_string(),
                },
            })?;
        if let Some(mut input) = child.stdin.take() {
            // A helper that exits without reading is reported by its status.
            let _ = input.write_all(stdin);
        }
        let out = child.wait_with_output().map_err(|e| HelperError::Failed {
            program: self.program.clone(),
            action,
            message: e.to_string(),
        })?;
        if out.status.success() {
            return Ok(Some(out.stdout));
        }
        let mut message = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if message.is_empty() {
            message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        }
        if message.contains(NOT_FOUND) {
            return Ok(None);
        }
        if let Some(secret) = secret.map(|s| s.expose_secret()).filter(|s| !s.is_empty()) {
            message = message.replace(secret, "[REDACTED]");
        }
        message.truncate(message.floor_char_boundary(300));
        Err(HelperError::Failed {
            program: self.program.clone(),
            action,
            message,
        })
    }
}
