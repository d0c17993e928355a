//! rhpull's prediction held against a real pull, in generated worlds.
//!
//! Each world is drawn from a seed: the pod's own secrets and its service
//! account's (right, wrong or unentitled logins, host or path-scoped keys,
//! both secret types, a name that does not exist), the nodes' file (the
//! global pull secret, rolled out by the Machine Config Operator's
//! stand-in), mirror sets (tag or digest, with or without
//! `NeverContactSource`), the cluster's image policy, and a copy of the
//! image cached on the node under each verification policy. The pod is
//! made with real kubectl; the world's kubelet pulls it through the real
//! `skopeo`; then `kubectl rhpull check --pod -o json` is asked what the
//! node does. They must agree: pull or not, from which endpoint, with
//! which credential. A disagreement names the seed:
//! `RHPULL_DIFF_SEED=N cargo xtask test differential` replays that world
//! alone; `RHPULL_DIFF_WORLDS=N` draws more.

use std::time::Duration;

use base64::Engine as _;
use rhpull_e2e::env::{Env, registry};
use rhpull_e2e::oracle::disagreement;
use rhpull_testkit::kube::Options;
use rhpull_testkit::kube::kubelet::types::PullLog;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::world;
use serde_json::{Value, json};

/// SplitMix64: a world is its seed.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[(self.next() % from.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Which login a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Login {
    Good,
    WrongToken,
    Unentitled,
}

/// Where the key points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Host,
    Rhel9,
    OtherPath,
    Source,
}

/// What the nodes share: applied once for every world that shares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Cluster {
    node_file: Option<(Key, Login)>,
    /// 0: none, 1: tag mirror, 2: tag mirror with NeverContactSource,
    /// 3: digest mirror (not for a tag).
    mirrors: u8,
    /// 0: none, 1: the world registry blocked, 2: only the world registry
    /// allowed, 3: the mirrored source blocked.
    policy: u8,
    /// None: not cached; else the kubelet's verification policy.
    cache: Option<&'static str>,
}

#[derive(Clone, Debug)]
struct World {
    seed: u64,
    cluster: Cluster,
    via_mirror: bool,
    /// `(name, dockercfg?, key, login)`.
    secrets: Vec<(String, bool, Key, Login)>,
    pod_secrets: Vec<String>,
    sa_secrets: Vec<String>,
    always: bool,
}

const MIRRORED: &str = "localhost:1/acme";

fn host() -> String {
    registry().registry.host()
}

fn key_text(k: Key) -> String {
    match k {
        Key::Host => host(),
        Key::Rhel9 => format!("{}/rhel9", host()),
        Key::OtherPath => format!("{}/other", host()),
        Key::Source => MIRRORED.to_string(),
    }
}

fn login(l: Login) -> (&'static str, &'static str) {
    match l {
        Login::Good => (world::USERNAME, world::TOKEN),
        Login::WrongToken => (world::USERNAME, "eyJ.wrong.token"),
        Login::Unentitled => (world::UNENTITLED_USERNAME, world::TOKEN),
    }
}

fn entry(l: Login) -> Value {
    let (u, p) = login(l);
    json!({"auth": base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))})
}

impl World {
    fn draw(seed: u64) -> Self {
        let mut d = Draw(seed);
        let keys = [Key::Host, Key::Rhel9, Key::OtherPath, Key::Source];
        let logins = [Login::Good, Login::WrongToken, Login::Unentitled];
        let node_file = d
            .chance(50)
            .then(|| (*d.pick(&[Key::Host, Key::Rhel9]), *d.pick(&logins)));
        let cluster = Cluster {
            node_file,
            mirrors: (d.next() % 4) as u8,
            policy: if d.chance(70) {
                0
            } else {
                1 + (d.next() % 3) as u8
            },
            cache: d
                .chance(25)
                .then(|| *d.pick(&["NeverVerify", "NeverVerifyPreloadedImages", "AlwaysVerify"])),
        };
        let n = (d.next() % 4) as usize;
        let secrets: Vec<(String, bool, Key, Login)> = (0..n)
            .map(|i| {
                (
                    format!("s{i}"),
                    d.chance(20),
                    *d.pick(&keys),
                    *d.pick(&logins),
                )
            })
            .collect();
        let mut names: Vec<String> = secrets.iter().map(|s| s.0.clone()).collect();
        if d.chance(15) {
            names.push("missing".into());
        }
        let mut pod_secrets = Vec::new();
        let mut sa_secrets = Vec::new();
        for name in names {
            match d.next() % 3 {
                0 => pod_secrets.push(name),
                1 => sa_secrets.push(name),
                _ => {}
            }
        }
        Self {
            seed,
            via_mirror: cluster.mirrors > 0 && d.chance(70),
            cluster,
            secrets,
            pod_secrets,
            sa_secrets,
            always: d.chance(30),
        }
    }

    fn image(&self) -> String {
        if self.via_mirror {
            format!("{MIRRORED}/rhpull-demo:1")
        } else {
            registry().image()
        }
    }

    fn ns(&self) -> String {
        format!("w{}", self.seed)
    }
}

/// The cluster-wide state for `c`: the global pull secret (then its
/// rollout), mirror sets, the image policy, the node's cache.
fn apply_cluster(env: &Env, c: &Cluster, previous: Option<&Cluster>) {
    if previous.is_none_or(|p| p.node_file != c.node_file) {
        let mut auths = json!({"cloud.openshift.com": entry(Login::Good)});
        if let Some((k, l)) = c.node_file {
            auths[key_text(k)] = entry(l);
        }
        let config = json!({"auths": auths}).to_string();
        let mut secret = env
            .emulator
            .get("Secret", "openshift-config", "pull-secret")
            .expect("global");
        secret["data"][".dockerconfigjson"] =
            json!(base64::engine::general_purpose::STANDARD.encode(config));
        env.emulator.put("Secret", "openshift-config", secret);
        wait_for_pools(env);
    }
    for kind in ["ImageTagMirrorSet", "ImageDigestMirrorSet"] {
        env.kubectl(&["delete", kind, "--all"], None);
    }
    let mirror = json!([{"source": MIRRORED, "mirrors": [format!("{}/rhel9", host())]}]);
    match c.mirrors {
        1 => put_mirrors(env, "ImageTagMirrorSet", "imageTagMirrors", mirror),
        2 => {
            let mut m = mirror;
            m[0]["mirrorSourcePolicy"] = json!("NeverContactSource");
            put_mirrors(env, "ImageTagMirrorSet", "imageTagMirrors", m);
        }
        3 => put_mirrors(env, "ImageDigestMirrorSet", "imageDigestMirrors", mirror),
        _ => {}
    }
    let sources = match c.policy {
        1 => json!({"blockedRegistries": [host()]}),
        2 => json!({"allowedRegistries": [host()]}),
        3 => json!({"blockedRegistries": [MIRRORED]}),
        _ => json!({}),
    };
    let mut image = env
        .emulator
        .get("Image", "", "cluster")
        .expect("images.config");
    image["spec"] = json!({"registrySources": sources});
    env.emulator.put("Image", "", image);
    let policy = c.cache.unwrap_or("NeverVerifyPreloadedImages");
    env.emulator.set_kubelet_config(
        "worker-0",
        &json!({"imagePullCredentialsVerificationPolicy": policy}),
    );
}

fn put_mirrors(env: &Env, kind: &str, field: &str, list: Value) {
    env.kubectl(
        &["apply", "-f", "-"],
        Some(
            &json!({"apiVersion": "config.openshift.io/v1", "kind": kind,
                     "metadata": {"name": "diff"}, "spec": {field: list}}),
        ),
    );
}

/// Until every pool runs its rendered configuration.
fn wait_for_pools(env: &Env) {
    env.wait_until("the pools to roll the pull secret out", || {
        let pools = env.emulator.list("MachineConfigPool", "");
        pools
            .iter()
            .all(|p| {
                p["spec"]["configuration"]["name"] == p["status"]["configuration"]["name"]
                    && p["status"]["updatedMachineCount"] == p["status"]["machineCount"]
            })
            .then_some(())
    });
}

/// The node holds the image (preloaded) or nothing; the kubelet forgets
/// what it pulled before (image garbage collection), so every world starts
/// from what it says.
fn set_cache(env: &Env, w: &World) {
    let mut node = env.emulator.get("Node", "", "worker-0").expect("worker-0");
    node["status"]["images"] = match w.cluster.cache {
        Some(_) => json!([{"names": [w.image()], "sizeBytes": 1000}]),
        None => json!([]),
    };
    env.emulator.put("Node", "", node);
    env.emulator.forget_pulled_images("worker-0");
}

fn make(env: &Env, w: &World) {
    let ns = w.ns();
    env.emulator.create_namespace(&ns, &[]);
    env.wait_for_service_account(&ns, "default");
    for (name, legacy, key, l) in &w.secrets {
        let auths = json!({key_text(*key): entry(*l)});
        let (type_, data_key, doc) = if *legacy {
            ("kubernetes.io/dockercfg", ".dockercfg", auths)
        } else {
            (
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                json!({"auths": auths}),
            )
        };
        env.emulator.put(
            "Secret",
            &ns,
            json!({"metadata": {"name": name}, "type": type_,
                   "data": {data_key: base64::engine::general_purpose::STANDARD.encode(doc.to_string())}}),
        );
    }
    if !w.sa_secrets.is_empty() {
        let mut sa = env
            .emulator
            .get("ServiceAccount", &ns, "default")
            .expect("default");
        let mut list = sa["imagePullSecrets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.extend(w.sa_secrets.iter().map(|n| json!({"name": n})));
        sa["imagePullSecrets"] = json!(list);
        env.emulator.put("ServiceAccount", &ns, sa);
    }
    let mut container = json!({"name": "app", "image": w.image()});
    container["imagePullPolicy"] = json!(if w.always { "Always" } else { "IfNotPresent" });
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "app", "namespace": ns},
        "spec": {"nodeName": "worker-0", "containers": [container]}});
    if !w.pod_secrets.is_empty() {
        pod["spec"]["imagePullSecrets"] = json!(
            w.pod_secrets
                .iter()
                .map(|n| json!({"name": n}))
                .collect::<Vec<_>>()
        );
    }
    env.kubectl(&["create", "-f", "-"], Some(&pod));
}

/// The world's first pull of the pod.
fn first_pull(env: &Env, w: &World) -> PullLog {
    let ns = w.ns();
    env.wait_until(&format!("world {} to pull", w.seed), || {
        env.emulator
            .pulls()
            .into_iter()
            .find(|p| p.namespace == ns && p.pod == "app")
    })
}

fn seeds() -> Vec<u64> {
    if let Ok(one) = std::env::var("RHPULL_DIFF_SEED") {
        return vec![one.parse().expect("RHPULL_DIFF_SEED is a number")];
    }
    let n: u64 = std::env::var("RHPULL_DIFF_WORLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    (1..=n).collect()
}

#[test]
fn rhpull_predicts_what_the_worlds_kubelet_then_does() {
    let env = Env::pulling(Options {
        machines: Machines {
            masters: 1,
            workers: 1,
            delay: Duration::from_millis(5),
        },
        ..Options::openshift()
    });
    let ca = env.ca();
    let mut worlds: Vec<World> = seeds().into_iter().map(World::draw).collect();
    // The global pull secret's rollout takes a moment: worlds that share
    // the cluster's state run after one another.
    worlds.sort_by(|a, b| a.cluster.cmp(&b.cluster).then(a.seed.cmp(&b.seed)));
    let mut previous: Option<Cluster> = None;
    let mut disagreements = Vec::new();
    // (pulled, failed, cached, through a mirror): the worlds must vary.
    let mut seen = [0usize; 4];
    for w in &worlds {
        if previous.as_ref() != Some(&w.cluster) {
            apply_cluster(&env, &w.cluster, previous.as_ref());
        }
        set_cache(&env, w);
        previous = Some(w.cluster.clone());
        make(&env, w);
        let pull = first_pull(&env, w);
        let ns = w.ns();
        let doc = env.rhpull_json(&[
            "check",
            "--pod",
            "app",
            "-n",
            &ns,
            "--registry-ca",
            &ca,
            "-o",
            "json",
        ]);
        seen[usize::from(pull.error.is_some())] += 1;
        seen[2] += usize::from(pull.cached);
        seen[3] += usize::from(pull.endpoint.as_deref().is_some_and(|e| e != w.image()));
        if let Some(why) = disagreement(&pull, &doc["images"][0], &doc["caches"][0], w.always) {
            disagreements.push(format!(
                "seed {}: {why}\n  world: {w:?}\n  kubelet: {pull:?}\n  rhpull: {doc}",
                w.seed
            ));
        }
        // Its kubelet would go on retrying in the next world's cluster.
        env.kubectl(&["delete", "namespace", &ns, "--wait=false"], None);
    }
    #[allow(clippy::print_stderr)] // The spread of worlds, for whoever reads the log.
    let () = eprintln!(
        "{} worlds: {} pulled, {} failed, {} from the node's cache, {} through a mirror",
        worlds.len(),
        seen[0],
        seen[1],
        seen[2],
        seen[3]
    );
    if worlds.len() >= 100 {
        assert!(
            seen.iter().all(|n| *n > 0),
            "the worlds do not vary enough: {seen:?}"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} worlds disagree:\n{}",
        disagreements.len(),
        worlds.len(),
        disagreements.join("\n")
    );
}
