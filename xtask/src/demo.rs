//! `cargo xtask demo`: rhpull end to end on the embedded test world, each
//! step printed as the command a user types and what it answers.
//!
//! Today's story: a real registry on loopback, a real `skopeo login` into the
//! user's auth file (as `podman login` would), then `kubectl rhpull` through
//! real kubectl plugin dispatch reading that login back. Each later capability
//! (check, create, link, grant, status) adds its step here.

use std::path::Path;
use std::process::Command;

use rhpull_testkit::{oci, registry::Registry, skopeo};

use crate::{cargo, workspace_root};

fn step(title: &str) {
    println!("\n\x1b[1m## {title}\x1b[0m");
}

fn show(cmd: &str) {
    println!("$ {cmd}");
}

/// Runs `kubectl rhpull …` as a user would, printing its output.
fn kubectl(home: &Path, path: &std::ffi::OsStr, args: &[&str]) -> Result<(), String> {
    show(&format!("kubectl {}", args.join(" ")));
    let out = Command::new("kubectl")
        .args(args)
        .env("HOME", home)
        .env("PATH", path)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .map_err(|e| format!("cannot run kubectl: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`kubectl {}` failed ({})",
            args.join(" "),
            out.status
        ))
    }
}

pub fn run() -> Result<(), String> {
    crate::prereqs::ensure()?;
    cargo(&["build", "--quiet", "--package", "kubectl-rhpull"])?;
    let bin_dir = workspace_root().join("target/debug");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&rest)))
        .map_err(|e| e.to_string())?;
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;

    step("The plugin, found by kubectl on PATH");
    kubectl(home.path(), &path, &["rhpull", "version"])?;

    step("A registry with token-protected images (Debian's docker-registry on 127.0.0.1, TLS)");
    let registry = Registry::start_htpasswd("1234567|demo-sa", "demo-token");
    let layout = home.path().join("image");
    oci::write_layout(&layout);
    let push_auth = home.path().join("push-auth.json");
    skopeo::login(
        &push_auth,
        &registry.cert_dir,
        &registry.host(),
        "1234567|demo-sa",
        "demo-token",
    );
    let image = format!("{}/ubi9/demo:1", registry.host());
    let pushed = skopeo::push_oci(&layout, &image, &push_auth, &registry.cert_dir);
    if !pushed.status.success() {
        return Err(format!(
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&pushed.stderr)
        ));
    }
    println!("registry {} serves {image}", registry.host());

    step("Log in as podman would (real skopeo writes ~/.config/containers/auth.json)");
    let authfile = home.path().join(".config/containers/auth.json");
    show(&format!(
        "skopeo login -u '1234567|demo-sa' --password-stdin {}",
        registry.host()
    ));
    let login = skopeo::login(
        &authfile,
        &registry.cert_dir,
        &registry.host(),
        "1234567|demo-sa",
        "demo-token",
    );
    print!("{}", String::from_utf8_lossy(&login.stdout));
    if !login.status.success() {
        return Err(format!(
            "skopeo login failed: {}",
            String::from_utf8_lossy(&login.stderr)
        ));
    }

    step("Which Red Hat registries need a login, and who you are logged in as");
    kubectl(home.path(), &path, &["rhpull", "registries"])?;

    step("The same, for scripts (never a secret in the output)");
    kubectl(home.path(), &path, &["rhpull", "registries", "-o", "json"])?;

    println!("\ndemo finished: every step above ran for real on this machine.");
    Ok(())
}
