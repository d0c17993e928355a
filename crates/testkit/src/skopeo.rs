//! The real `skopeo` (Debian), with an explicit auth file and the test CA.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::tools::require;

/// Runs skopeo with `args`; `stdin` is written to it when given.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let program = require("skopeo", "skopeo");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run skopeo");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for skopeo")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `skopeo login --authfile F --cert-dir D -u USER --password-stdin HOST`.
pub fn login(authfile: &Path, cert_dir: &Path, host: &str, user: &str, password: &str) -> Output {
    run(
        &[
            "login",
            "--authfile",
            s(authfile),
            "--cert-dir",
            s(cert_dir),
            "-u",
            user,
            "--password-stdin",
            host,
        ],
        Some(password),
    )
}

/// `skopeo copy oci:SRC docker://DEST` with the destination's auth file.
pub fn push_oci(layout: &Path, dest: &str, authfile: &Path, cert_dir: &Path) -> Output {
    let src = format!("oci:{}:latest", s(layout));
    let dst = format!("docker://{dest}");
    run(
        &[
            "copy",
            "--dest-authfile",
            s(authfile),
            "--dest-cert-dir",
            s(cert_dir),
            &src,
            &dst,
        ],
        None,
    )
}

/// `skopeo inspect --authfile F --cert-dir D docker://IMAGE`.
pub fn inspect(image: &str, authfile: &Path, cert_dir: &Path) -> Output {
    let reference = format!("docker://{image}");
    run(
        &[
            "inspect",
            "--authfile",
            s(authfile),
            "--cert-dir",
            s(cert_dir),
            &reference,
        ],
        None,
    )
}

/// Pushes the small test image ([`crate::oci::write_layout`], laid out
/// once in `work`) to `registry` as `dest` (`HOST/REPOSITORY:TAG`), logged
/// in as `user`; a failure panics with skopeo's words and the registry's
/// log.
pub fn push_test_image(
    work: &Path,
    registry: &crate::registry::Registry,
    dest: &str,
    (user, password): (&str, &str),
) {
    let layout = work.join("layout");
    if !layout.exists() {
        crate::oci::write_layout(&layout);
    }
    let auth = work.join("pusher-auth.json");
    let cert_dir = &registry.cert_dir;
    let out = login(&auth, cert_dir, &registry.host(), user, password);
    assert!(
        out.status.success(),
        "skopeo login: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = push_oci(&layout, dest, &auth, cert_dir);
    assert!(
        out.status.success(),
        "skopeo copy: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        registry.log()
    );
}
