//! `cargo xtask world [--openshift] [--clusters N] [--openshift-clusters K]
//! [--hub] [--latency MS] [--dir DIR]`: the test world, standing, for hands-on use —
//! Kubernetes API emulators, the SSO-like token server and the real
//! registry with token auth (one image pushed with skopeo), the same parts
//! the tests use. It writes `DIR/env` (default `target/world/env`) once
//! everything answers, stays in the foreground, and on Ctrl-C or SIGTERM
//! stops everything and removes the file.
//!
//! The kubeconfig has a context per cluster (`rhpull-emulator` for one,
//! `cluster-1`… for several; the first is current) and a `viewer` context
//! on the first cluster whose token may read everything and write nothing.
//! With `--hub` the first cluster also serves Open Cluster Management's
//! Policy, ConfigurationPolicy, PlacementBinding and Placement, checked
//! against their schemas, to apply `export acm-policy` output to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::kube::{Emulator, Flavour, Options};
use rhpull_testkit::world::{self, RegistryWorld};

use crate::{cargo, workspace_root};

const USAGE: &str = "usage: cargo xtask world [--openshift] [--clusters N] [--openshift-clusters K] [--hub] [--latency MS] [--dir DIR]";

struct Args {
    clusters: usize,
    /// How many of the clusters play OpenShift 4 (the first ones).
    openshift: usize,
    /// The first cluster is also a hub.
    hub: bool,
    /// Tests build first and run the binary behind `cargo xtask world`.
    no_build: bool,
    latency: Duration,
    dir: PathBuf,
}

fn number(it: &mut std::slice::Iter<'_, String>, flag: &str) -> Result<u64, String> {
    let v = it
        .next()
        .ok_or_else(|| format!("{flag} needs a number; {USAGE}"))?;
    v.parse()
        .map_err(|_| format!("{flag} {v}: not a number; {USAGE}"))
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        clusters: 1,
        openshift: 0,
        hub: false,
        no_build: false,
        latency: Duration::ZERO,
        dir: workspace_root().join("target/world"),
    };
    let mut all_openshift = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--openshift" => all_openshift = true,
            "--hub" => out.hub = true,
            "--no-build" => out.no_build = true,
            "--clusters" => out.clusters = number(&mut it, a)? as usize,
            "--openshift-clusters" => out.openshift = number(&mut it, a)? as usize,
            "--latency" => out.latency = Duration::from_millis(number(&mut it, a)?),
            "--dir" => out.dir = PathBuf::from(it.next().ok_or("--dir needs a directory")?),
            other => return Err(format!("unknown argument {other}; {USAGE}")),
        }
    }
    if !(1..=50).contains(&out.clusters) || out.openshift > out.clusters {
        return Err(format!(
            "--clusters takes 1 to 50, --openshift-clusters at most as many; {USAGE}"
        ));
    }
    if all_openshift {
        out.openshift = out.clusters;
    }
    Ok(out)
}

/// `KEY='value'` lines that `source` (with `set -a`) reads.
fn env_file(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', "'\\''")))
        .collect()
}

/// The context name of cluster `i` (0-based) of `n`.
fn context_name(i: usize, n: usize) -> String {
    if n == 1 {
        "rhpull-emulator".into()
    } else {
        format!("cluster-{}", i + 1)
    }
}

/// The emulators, each with its admin endpoint, and one kubeconfig for all.
fn start_clusters(args: &Args) -> (Vec<(Emulator, String)>, KubeconfigFile) {
    let mut file = KubeconfigFile::default();
    let mut clusters = Vec::new();
    for i in 0..args.clusters {
        let options = Options {
            flavour: if i < args.openshift {
                Flavour::OpenShift4
            } else {
                Flavour::Kubernetes
            },
            hub: args.hub && i == 0,
            latency: args.latency,
            // Slow enough to watch a pull-secret rollout with `--wait`.
            machines: Machines {
                delay: Duration::from_secs(2),
                ..Machines::default()
            },
            ..Options::default()
        };
        let mut emulator = Emulator::start(options);
        let admin = emulator.start_admin();
        let name = context_name(i, args.clusters);
        let viewer = (i == 0).then_some("viewer");
        file = emulator.kubeconfig_entries(file, &name, &name, viewer);
        clusters.push((emulator, admin));
    }
    (clusters, file)
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

    let (clusters, kubeconfig_file) = start_clusters(&args);
    let registry = RegistryWorld::start();

    // Copies that outlive nothing: they live in DIR and go when we stop.
    let kubeconfig = dir.join("kubeconfig");
    kubeconfig_file
        .write(&kubeconfig)
        .map_err(|e| e.to_string())?;
    let ca = dir.join("ca.crt");
    std::fs::copy(&registry.ca_file, &ca).map_err(|e| e.to_string())?;
    let files = [kubeconfig.clone(), ca.clone()];

    let mut vars = vec![
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("RHPULL_WORLD_REGISTRY", registry.registry.host()),
        ("RHPULL_WORLD_SSO", registry.sso.base_url()),
        ("RHPULL_WORLD_CA", ca.display().to_string()),
        ("RHPULL_WORLD_USERNAME", world::USERNAME.to_string()),
        ("RHPULL_WORLD_TOKEN", world::TOKEN.to_string()),
        ("RHPULL_WORLD_IMAGE", registry.image()),
        ("RHPULL_WORLD_ADMIN", clusters[0].1.clone()),
    ];
    if clusters.len() > 1 {
        let admins: Vec<String> = (clusters.iter().enumerate())
            .map(|(i, (_, admin))| format!("{}={admin}", context_name(i, clusters.len())))
            .collect();
        vars.push(("RHPULL_WORLD_CLUSTER_ADMINS", admins.join(" ")));
    }
    // Written atomically, and only now that everything answers.
    let tmp = dir.join(".env.tmp");
    std::fs::write(&tmp, env_file(&vars)).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &env_path).map_err(|e| e.to_string())?;

    describe(&args, &clusters, &registry, &kubeconfig, &env_path);
    wait_for_stop()?;
    println!("stopping the test world");
    let _ = std::fs::remove_file(&env_path);
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    drop(registry);
    drop(clusters);
    Ok(())
}

/// What is up, and how to use it from another shell.
fn describe(
    args: &Args,
    clusters: &[(Emulator, String)],
    registry: &RegistryWorld,
    kubeconfig: &Path,
    env_path: &Path,
) {
    let rel = env_path
        .strip_prefix(workspace_root())
        .map_or(env_path.to_path_buf(), PathBuf::from);
    println!(
        "The test world is up (kubeconfig {}):",
        kubeconfig.display()
    );
    for (i, (emulator, admin)) in clusters.iter().enumerate() {
        let mode = match (emulator.openshift(), args.hub && i == 0) {
            (true, true) => "OpenShift mode, hub",
            (true, false) => "OpenShift mode",
            (false, true) => "Kubernetes mode, hub",
            (false, false) => "Kubernetes mode",
        };
        println!(
            "  context {:<16} {}  ({mode}; admin {admin}/counters, {admin}/faults)",
            context_name(i, args.clusters),
            emulator.url(),
        );
    }
    println!("  context viewer           reads everything on the first cluster, writes nothing");
    println!(
        "  registry        https://{}  serving {}",
        registry.registry.host(),
        registry.image()
    );
    println!("  token server    {}", registry.sso.realm());
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
        "  kubectl rhpull create -u x --password-stdin --context viewer   # denied, named, nothing written"
    );
    println!(
        "\nCtrl-C (or SIGTERM) stops everything and removes {}.",
        env_path.display()
    );
}

/// Until Ctrl-C, SIGTERM, or the servers' own lifetime ends.
fn wait_for_stop() -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            // The servers stop by themselves after their lifetime; so does the world.
            () = tokio::time::sleep(Duration::from_secs(u64::from(rhpull_testkit::SERVER_LIFETIME_SECS))) => {}
        }
        Ok::<(), String>(())
    })
}
