//! `cargo xtask world [--openshift] [--clusters N] [--openshift-clusters K]
//! [--hosted] [--hosted-clusters K] [--hub] [--kyverno]
//! [--external-secrets] [--image-registry] [--latency MS]
//! [--pull-backoff FIRST,CEILING] [--dir DIR]`:
//! the test world, standing, for hands-on use —
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
//!
//! Every cluster's nodes pull for real (`rhpull_testkit::kube::kubelet`):
//! `kubectl create deployment web --image=$RHPULL_WORLD_IMAGE` makes pods
//! that are scheduled, pulled through `skopeo` and go to Running or
//! ImagePullBackOff on their own, with the kubelet's back-off (10 s,
//! doubling to 5 min) unless `--pull-backoff` scales it.
//!
//! With `--image-registry` every OpenShift cluster runs the integrated
//! registry (`rhpull_testkit::kube::image_registry`) holding
//! `images/app:1` in project `images`: a pod in another project pulling
//! `$RHPULL_WORLD_INTERNAL_IMAGE` is refused until granted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::kubelet::types::Pulling;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::kube::{Emulator, Flavour, Options};
use rhpull_testkit::world::{self, RegistryWorld};

use crate::{cargo, workspace_root};

/// `cargo xtask world`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// How many clusters (1 to 50).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=50))]
    clusters: u16,
    /// Every cluster plays OpenShift 4.
    #[arg(long, conflicts_with = "openshift_clusters")]
    openshift: bool,
    /// How many of the clusters (the first ones) play OpenShift 4.
    #[arg(long, value_name = "K")]
    openshift_clusters: Option<u16>,
    /// Every OpenShift cluster has a hosted control plane (HyperShift /
    /// ROSA HCP); without --openshift or --openshift-clusters, every cluster
    /// is one.
    #[arg(long, conflicts_with = "hosted_clusters")]
    hosted: bool,
    /// How many of the OpenShift clusters (the first ones) have hosted
    /// control planes.
    #[arg(long, value_name = "K")]
    hosted_clusters: Option<u16>,
    /// The first cluster is also an Open Cluster Management hub.
    #[arg(long)]
    hub: bool,
    /// Every cluster runs Kyverno (1.17: ClusterPolicy and the CEL
    /// policies), its background controller played for rhpull's rules.
    #[arg(long)]
    kyverno: bool,
    /// Every cluster serves the External Secrets Operator's CRDs.
    #[arg(long)]
    external_secrets: bool,
    /// Every OpenShift cluster runs the integrated registry, holding
    /// images/app:1 in project `images`.
    #[arg(long)]
    image_registry: bool,
    /// Tests build first and run the binary behind `cargo xtask world`.
    #[arg(long, hide = true)]
    no_build: bool,
    /// Added to every API request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
    /// The kubelets' image back-off: the first wait and its ceiling
    /// (the kubelet's own: 10s,5m).
    #[arg(long, value_name = "FIRST,CEILING", default_value = "10s,5m", value_parser = backoff)]
    pull_backoff: (Duration, Duration),
    /// Where the env file goes (default target/world).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// `500ms`, `10s`, `5m`.
fn duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 500ms, 10s or 5m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?} is not a duration such as 500ms, 10s or 5m")),
    }
}

/// `FIRST,CEILING`, the first no longer than the ceiling.
fn backoff(s: &str) -> Result<(Duration, Duration), String> {
    let (first, ceiling) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?}: give the first wait and the ceiling, as 500ms,5s"))?;
    let (first, ceiling) = (duration(first.trim())?, duration(ceiling.trim())?);
    if first.is_zero() || first > ceiling {
        return Err(format!(
            "{s:?}: the first wait must be above zero and at most the ceiling"
        ));
    }
    Ok((first, ceiling))
}

/// With `--image-registry`: the project holding the integrated registry's
/// image, and the image.
const INTERNAL_PROJECT: &str = "images";
const INTERNAL_REPOSITORY: &str = "images/app:1";

/// The clusters to start, worked out from the flags.
struct Plan {
    clusters: usize,
    /// How many play OpenShift 4 (the first ones).
    openshift: usize,
    /// How many of those have hosted control planes (the first ones).
    hosted: usize,
    hub: bool,
    kyverno: bool,
    external_secrets: bool,
    image_registry: bool,
    no_build: bool,
    latency: Duration,
    pull_backoff: (Duration, Duration),
    dir: PathBuf,
}

/// The flags as clusters; a count larger than what it counts in is a usage
/// error, not silently cut.
fn plan(args: Args) -> Result<Plan, String> {
    let clusters = usize::from(args.clusters);
    let openshift = match (args.openshift, args.openshift_clusters) {
        (true, _) => clusters,
        (false, Some(k)) => usize::from(k),
        (false, None) if args.hosted || args.hosted_clusters.is_some() => clusters,
        (false, None) => 0,
    };
    if openshift > clusters {
        return Err(format!(
            "--openshift-clusters {openshift} is more than --clusters {clusters}"
        ));
    }
    let hosted = match (args.hosted, args.hosted_clusters) {
        (true, _) => openshift,
        (false, Some(k)) => usize::from(k),
        (false, None) => 0,
    };
    if hosted > openshift {
        return Err(format!(
            "--hosted-clusters {hosted} is more than the {openshift} OpenShift clusters"
        ));
    }
    Ok(Plan {
        clusters,
        openshift,
        hosted,
        hub: args.hub,
        kyverno: args.kyverno,
        external_secrets: args.external_secrets,
        image_registry: args.image_registry,
        no_build: args.no_build,
        latency: Duration::from_millis(args.latency),
        pull_backoff: args.pull_backoff,
        dir: args
            .dir
            .unwrap_or_else(|| workspace_root().join("target/world")),
    })
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

/// The emulators, each with its admin endpoint, and one kubeconfig for all;
/// their nodes pull from `registry`.
fn start_clusters(
    args: &Plan,
    registry: &RegistryWorld,
) -> (Vec<(Emulator, String)>, KubeconfigFile) {
    let (first, ceiling) = args.pull_backoff;
    let pulling = Pulling::new(registry.registry.cert_dir.clone()).with_backoff(first, ceiling);
    let mut file = KubeconfigFile::default();
    let mut clusters = Vec::new();
    for i in 0..args.clusters {
        let options = Options {
            flavour: if i < args.hosted {
                Flavour::Hosted
            } else if i < args.openshift {
                Flavour::OpenShift4
            } else {
                Flavour::Kubernetes
            },
            hub: args.hub && i == 0,
            kyverno: args.kyverno.then_some(rhpull_testkit::kube::Kyverno::V1_17),
            external_secrets: args.external_secrets,
            latency: args.latency,
            // Slow enough to watch a pull-secret rollout with `--wait`.
            machines: Machines {
                delay: Duration::from_secs(2),
                ..Machines::default()
            },
            kubelets: Some(pulling.clone()),
            image_registry: args.image_registry,
            ..Options::default()
        };
        let mut emulator = Emulator::start(options);
        if args.image_registry && emulator.openshift() {
            emulator.create_namespace(INTERNAL_PROJECT, &[]);
            emulator.push_to_image_registry(INTERNAL_REPOSITORY);
        }
        let admin = emulator.start_admin();
        let name = context_name(i, args.clusters);
        let viewer = (i == 0).then_some("viewer");
        file = emulator.kubeconfig_entries(file, &name, &name, viewer);
        clusters.push((emulator, admin));
    }
    (clusters, file)
}

/// Checks the flags against each other (counts no larger than what they
/// count in), as the run would.
pub fn check(args: &Args) -> Result<(), String> {
    plan(args.clone()).map(|_| ())
}

pub fn run(args: Args) -> Result<(), String> {
    let args = plan(args)?;
    crate::prereqs::ensure()?;
    if !args.no_build {
        cargo(&["build", "--quiet", "--package", "kubectl-rhpull"])?;
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir).map_err(|e| e.to_string())?;
    let env_path = dir.join("env");
    let _ = std::fs::remove_file(&env_path);

    let registry = RegistryWorld::start();
    let (clusters, kubeconfig_file) = start_clusters(&args, &registry);

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
    if args.image_registry && args.openshift > 0 {
        let host = rhpull_testkit::kube::image_registry::HOSTS[0];
        vars.push((
            "RHPULL_WORLD_INTERNAL_IMAGE",
            format!("{host}/{INTERNAL_REPOSITORY}"),
        ));
    }
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
    args: &Plan,
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
        let mode = match (i < args.hosted, emulator.openshift(), args.hub && i == 0) {
            (true, _, true) => "OpenShift mode, hosted control plane, hub",
            (true, _, false) => "OpenShift mode, hosted control plane",
            (false, true, true) => "OpenShift mode, hub",
            (false, true, false) => "OpenShift mode",
            (false, false, true) => "Kubernetes mode, hub",
            (false, false, false) => "Kubernetes mode",
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
        "  echo token | kubectl rhpull create -u x --password-stdin --context viewer   # denied, named, nothing written"
    );
    println!(
        "  kubectl create deployment web --image=\"$RHPULL_WORLD_IMAGE\"; kubectl get pods -w   # the nodes pull for real"
    );
    if args.image_registry && args.openshift > 0 {
        println!(
            "  kubectl create ns shop; kubectl create deployment app -n shop --image=\"$RHPULL_WORLD_INTERNAL_IMAGE\"; kubectl rhpull fix -n shop   # another project's image: refused until granted"
        );
    }
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    /// `Args` as the top-level parser gives them.
    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn planned(args: &[&str]) -> Result<Plan, String> {
        let all = std::iter::once("cargo xtask world").chain(args.iter().copied());
        plan(
            Cli::try_parse_from(all)
                .map_err(|e| e.kind().to_string())?
                .args,
        )
    }

    #[test]
    fn a_contradiction_is_a_usage_error_not_a_silent_choice() {
        let both = planned(&[
            "--openshift",
            "--clusters",
            "2",
            "--openshift-clusters",
            "1",
        ]);
        assert!(both.is_err(), "--openshift with a count");
        assert!(planned(&["--clusters", "2", "--openshift-clusters", "3"]).is_err());
        assert!(planned(&["--openshift-clusters", "1", "--hosted-clusters", "2"]).is_err());
        assert!(planned(&["--clusters", "51"]).is_err());
    }

    #[test]
    fn counts_say_which_clusters_play_what() {
        let p = planned(&[
            "--clusters",
            "3",
            "--openshift-clusters",
            "2",
            "--hosted-clusters",
            "1",
        ])
        .unwrap();
        assert_eq!((p.clusters, p.openshift, p.hosted), (3, 2, 1));
        let p = planned(&["--openshift", "--hosted"]).unwrap();
        assert_eq!((p.clusters, p.openshift, p.hosted), (1, 1, 1));
        let p = planned(&["--hosted", "--clusters", "2"]).unwrap();
        assert_eq!(
            (p.openshift, p.hosted),
            (2, 2),
            "hosted alone: every cluster"
        );
        let p = planned(&[]).unwrap();
        assert_eq!((p.clusters, p.openshift, p.hosted), (1, 0, 0));
        assert_eq!(
            p.pull_backoff,
            (Duration::from_secs(10), Duration::from_secs(300))
        );
    }

    #[test]
    fn the_pull_backoff_scales_and_is_checked() {
        let p = planned(&["--pull-backoff", "500ms,5s"]).unwrap();
        assert_eq!(
            p.pull_backoff,
            (Duration::from_millis(500), Duration::from_secs(5))
        );
        assert!(planned(&["--pull-backoff", "5s,500ms"]).is_err());
        assert!(planned(&["--pull-backoff", "5s"]).is_err());
        assert!(planned(&["--pull-backoff", "0s,1s"]).is_err());
        assert!(planned(&["--pull-backoff", "1h,2h"]).is_err());
    }
}
