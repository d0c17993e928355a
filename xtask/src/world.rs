//! `cargo xtask world [--openshift] [--latency MS] [--dir DIR]`: the test
//! world, standing, for hands-on use — the Kubernetes API emulator, the
//! SSO-like token server and the real registry with token auth (one image
//! pushed with skopeo), the same parts the tests use. It writes `DIR/env`
//! (default `target/world/env`) once everything answers, stays in the
//! foreground, and on Ctrl-C or SIGTERM stops everything and removes the file.

use std::path::PathBuf;
use std::time::Duration;

use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world::{self, RegistryWorld};

use crate::{cargo, workspace_root};

struct Args {
    openshift: bool,
    /// Tests build first and run the binary behind `cargo xtask world`.
    no_build: bool,
    latency: Duration,
    dir: PathBuf,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        openshift: false,
        no_build: false,
        latency: Duration::ZERO,
        dir: workspace_root().join("target/world"),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--openshift" => out.openshift = true,
            "--no-build" => out.no_build = true,
            "--latency" => {
                let ms = it
                    .next()
                    .ok_or("--latency needs a number of milliseconds")?;
                out.latency = Duration::from_millis(
                    ms.parse()
                        .map_err(|_| format!("--latency {ms}: not a number"))?,
                );
            }
            "--dir" => out.dir = PathBuf::from(it.next().ok_or("--dir needs a directory")?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: cargo xtask world [--openshift] [--latency MS] [--dir DIR]"
                ));
            }
        }
    }
    Ok(out)
}

/// `KEY='value'` lines that `source` (with `set -a`) reads.
fn env_file(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', "'\\''")))
        .collect()
}

pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    crate::prereqs::ensure()?;
    if !args.no_build {
        cargo(&["build", "--quiet", "--package", "kubectl-rhpull"])?;
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir).map_err(|e| e.to_string())?;
    let env_path = dir.join("env");
    let _ = std::fs::remove_file(&env_path);

    let options = Options {
        openshift: args.openshift,
        latency: args.latency,
        ..Options::default()
    };
    let mut emulator = Emulator::start(options);
    let admin = emulator.start_admin();
    let registry = RegistryWorld::start();

    // Copies that outlive nothing: they live in DIR and go when we stop.
    let kubeconfig = dir.join("kubeconfig");
    std::fs::copy(&emulator.kubeconfig, &kubeconfig).map_err(|e| e.to_string())?;
    let ca = dir.join("ca.crt");
    std::fs::copy(&registry.ca_file, &ca).map_err(|e| e.to_string())?;
    let api_ca = dir.join("apiserver-ca.crt");
    std::fs::copy(&emulator.ca_file, &api_ca).map_err(|e| e.to_string())?;

    let vars = [
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("RHPULL_WORLD_REGISTRY", registry.registry.host()),
        ("RHPULL_WORLD_SSO", registry.sso.base_url()),
        ("RHPULL_WORLD_CA", ca.display().to_string()),
        ("RHPULL_WORLD_USERNAME", world::USERNAME.to_string()),
        ("RHPULL_WORLD_TOKEN", world::TOKEN.to_string()),
        ("RHPULL_WORLD_IMAGE", registry.image()),
        ("RHPULL_WORLD_ADMIN", admin.clone()),
    ];
    // Written atomically, and only now that everything answers.
    let tmp = dir.join(".env.tmp");
    std::fs::write(&tmp, env_file(&vars)).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &env_path).map_err(|e| e.to_string())?;

    let rel = env_path
        .strip_prefix(workspace_root())
        .map_or(env_path.clone(), PathBuf::from);
    println!(
        "The test world is up ({}):",
        if args.openshift {
            "OpenShift mode"
        } else {
            "Kubernetes mode"
        }
    );
    println!(
        "  Kubernetes API  {}  (kubeconfig {})",
        emulator.url(),
        kubeconfig.display()
    );
    println!(
        "  registry        https://{}  serving {}",
        registry.registry.host(),
        registry.image()
    );
    println!("  token server    {}", registry.sso.realm());
    println!("  admin           {admin}/counters, {admin}/faults");
    println!("\nUse it from another shell:\n");
    println!("  set -a; . {}; set +a", rel.display());
    println!(
        "  export PATH=\"{}:$PATH\"",
        workspace_root().join("target/debug").display()
    );
    println!("  kubectl get ns");
    println!(
        "  echo \"$RHPULL_WORLD_TOKEN\" | kubectl rhpull login \"$RHPULL_WORLD_REGISTRY\" -u \"$RHPULL_WORLD_USERNAME\" --password-stdin --registry-ca \"$RHPULL_WORLD_CA\""
    );
    println!(
        "  kubectl rhpull check \"$RHPULL_WORLD_REGISTRY\" --image \"$RHPULL_WORLD_IMAGE\" --registry-ca \"$RHPULL_WORLD_CA\""
    );
    println!(
        "\nCtrl-C (or SIGTERM) stops everything and removes {}.",
        env_path.display()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            // The servers stop by themselves after their lifetime; so does the world.
            () = tokio::time::sleep(Duration::from_secs(u64::from(rhpull_testkit::SERVER_LIFETIME_SECS))) => {}
        }
        Ok::<(), String>(())
    })?;
    println!("stopping the test world");
    let _ = std::fs::remove_file(&env_path);
    for f in [&kubeconfig, &ca, &api_ca] {
        let _ = std::fs::remove_file(f);
    }
    drop(registry);
    drop(emulator);
    Ok(())
}
