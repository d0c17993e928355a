//! The container runtime's pull: Debian's real `skopeo copy`, which is
//! containers/image, the library CRI-O pulls with. It is called as CRI-O's
//! `server/image_pull.go` calls the library:
//!
//! - the credential the kubelet passed for this try as `DockerAuthConfig`
//!   (`--src-creds`), which containers/image uses for the image's own
//!   registry only, never for a mirror (`docker_image_src.go`,
//!   `newImageSourceAttempt`);
//! - CRI-O's auth file (`--src-authfile`) for everything else;
//! - the node's `registries.conf` (`--registries-conf`) and `policy.json`
//!   (`--policy`, which judges the image as the pod names it);
//! - the registries' CA (`--src-cert-dir`), and a bound on the time
//!   (`--command-timeout`, then a kill).
//!
//! `HOME` is an empty folder, so no login of the machine's user is read,
//! and `HTTPS_PROXY` is the world's refusing proxy ([`crate::egress`]).
//! What served the pull, and with which credential, is read from
//! containers/image's own debug lines ("Trying to access …",
//! "Returning credentials … from DockerAuthConfig", "Found credentials …
//! in file …").

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::tools::require;

/// One call of the runtime's PullImage.
#[derive(Clone)]
pub struct Request {
    pub image: String,
    /// `(username, password)` handed over by the kubelet for this try.
    pub creds: Option<(String, String)>,
    pub authfile: PathBuf,
    pub registries_conf: PathBuf,
    pub policy: PathBuf,
    pub cert_dir: PathBuf,
    pub proxy: String,
    pub timeout: Duration,
    /// A private folder for this pull (HOME, the copy's destination).
    pub workdir: PathBuf,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("image", &self.image)
            .field(
                "creds",
                &self.creds.as_ref().map(|(u, _)| (u, "[REDACTED]")),
            )
            .field("authfile", &self.authfile)
            .finish_non_exhaustive()
    }
}

/// Which credential containers/image used at the endpoint that served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Used {
    /// The one the kubelet passed (`DockerAuthConfig`).
    Passed,
    /// An entry of CRI-O's auth file.
    AuthFile,
    None,
}

/// What the runtime answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pulled {
        /// The reference that served the image.
        endpoint: String,
        used: Used,
        digest: String,
        size: u64,
    },
    /// The runtime's error, as CRI-O returns containers/image's.
    Failed(String),
}

/// Runs one pull.
pub async fn pull(req: &Request) -> Outcome {
    let program = require("skopeo", "skopeo");
    let home = req.workdir.join("home");
    let dest = req.workdir.join("image");
    let digestfile = req.workdir.join("digest");
    let _ = std::fs::create_dir_all(&home);
    let secs = req.timeout.as_secs().max(1);
    let mut args: Vec<String> = vec![
        "--debug".into(),
        "--command-timeout".into(),
        format!("{secs}s"),
        "--registries-conf".into(),
        s(&req.registries_conf),
        "--policy".into(),
        s(&req.policy),
        "copy".into(),
        "--src-authfile".into(),
        s(&req.authfile),
        "--src-cert-dir".into(),
        s(&req.cert_dir),
        "--digestfile".into(),
        s(&digestfile),
    ];
    if let Some((u, p)) = &req.creds {
        args.push("--src-creds".into());
        args.push(format!("{u}:{p}"));
    }
    args.push(format!("docker://{}", req.image));
    args.push(format!("dir:{}", dest.display()));
    let child = tokio::process::Command::new(program)
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("HTTPS_PROXY", &req.proxy)
        .env("HTTP_PROXY", &req.proxy)
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let Ok(child) = child else {
        return Outcome::Failed("cannot start skopeo".into());
    };
    let grace = req.timeout + Duration::from_secs(5);
    let output = match tokio::time::timeout(grace, child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Outcome::Failed(e.to_string()),
        Err(_) => return Outcome::Failed("context deadline exceeded".into()),
    };
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    let outcome = if output.status.success() {
        Outcome::Pulled {
            endpoint: served_by(&log).unwrap_or_else(|| req.image.clone()),
            used: used_at_last_try(&log),
            digest: std::fs::read_to_string(&digestfile)
                .unwrap_or_default()
                .trim()
                .to_string(),
            size: size_of(&dest),
        }
    } else {
        Outcome::Failed(fatal_message(&log).unwrap_or_else(|| format!("skopeo: {}", output.status)))
    };
    let _ = std::fs::remove_dir_all(&req.workdir);
    outcome
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// A logrus text field's value: `msg="…"` with Go's quoting undone.
fn field(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!("{name}=\""))? + name.len() + 2;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn messages<'a>(log: &'a str, level: &'a str) -> impl Iterator<Item = String> + 'a {
    log.lines()
        .filter(move |l| l.contains(&format!("level={level}")))
        .filter_map(|l| field(l, "msg"))
}

/// The last reference tried, which is the one that served a pull that
/// succeeded.
fn served_by(log: &str) -> Option<String> {
    messages(log, "debug")
        .filter_map(|m| {
            m.strip_prefix("Trying to access \"")
                .and_then(|r| r.strip_suffix('"'))
                .map(str::to_string)
        })
        .last()
}

fn used_at_last_try(log: &str) -> Used {
    let debug: Vec<String> = messages(log, "debug").collect();
    let last = debug
        .iter()
        .rposition(|m| m.starts_with("Trying to access \""))
        .unwrap_or(0);
    for m in &debug[last..] {
        if m.starts_with("Returning credentials") && m.ends_with("from DockerAuthConfig") {
            return Used::Passed;
        }
        if m.starts_with("Found credentials for") {
            return Used::AuthFile;
        }
    }
    Used::None
}

/// skopeo's fatal line, without skopeo's own prefix: the library's words.
fn fatal_message(log: &str) -> Option<String> {
    let msg = messages(log, "fatal").last()?;
    Some(match msg.strip_prefix("Error parsing image name \"") {
        Some(rest) => rest
            .split_once("\": ")
            .map_or(msg.clone(), |(_, m)| m.to_string()),
        None => msg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"time="t" level=debug msg="Trying to access \"127.0.0.1:1/rhel9/a:1\""
time="t" level=debug msg="Accessing \"127.0.0.1:1/rhel9/a:1\" failed: unauthorized"
time="t" level=debug msg="Trying to access \"localhost:1/acme/a:1\""
time="t" level=debug msg="Returning credentials for localhost:1/acme/a from DockerAuthConfig"
time="t" level=fatal msg="initializing source docker://localhost:1/acme/a:1: (Mirrors also failed: [x]): localhost:1/acme/a:1: pinging container registry localhost:1: Get \"https://localhost:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused"
"#;

    #[test]
    fn reads_the_library_own_lines() {
        assert_eq!(served_by(LOG).as_deref(), Some("localhost:1/acme/a:1"));
        assert_eq!(used_at_last_try(LOG), Used::Passed);
        let m = fatal_message(LOG).unwrap();
        assert!(
            m.starts_with(
                "initializing source docker://localhost:1/acme/a:1: (Mirrors also failed"
            ),
            "{m}"
        );
        assert!(m.contains("Get \"https://localhost:1/v2/\""), "{m}");
        let inspect = r#"time="t" level=fatal msg="Error parsing image name \"docker://r.io/a:1\": pinging container registry r.io: Forbidden""#;
        assert_eq!(
            fatal_message(inspect).as_deref(),
            Some("pinging container registry r.io: Forbidden")
        );
    }
}
