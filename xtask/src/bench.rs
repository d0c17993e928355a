//! `cargo xtask bench`: speed, requests and memory against the emulator
//! with 5 ms of latency on every API request, written to
//! `target/bench/results.json` and `target/bench/results.md`.
//!
//! 1. create + link default across N = 100 and 1,000 namespaces: rhpull
//!    against a bash loop of real `kubectl create secret docker-registry` +
//!    `kubectl patch sa default --type json` (the fair hand-written way).
//! 2. API requests per rhpull run, against the 2N + 10 budget.
//! 3. Peak RSS of rhpull (`/usr/bin/time -f %M`) for `status -A` and
//!    create + link at N = 10,000.
//! 4. Start-up: `kubectl rhpull version` against `kubectl version --client`.
//! 5. Many clusters: create + link in 10 clusters × 100 namespaces, each its
//!    own emulator, against one cluster × 100 (target: at most 2× the wall
//!    time), with each cluster's requests within 2N + 10. Both timings are
//!    medians of five runs on fresh worlds, as are those of case 1.
//! 6. `check --failing -A` over 10,000 pods in 100 namespaces, 1,000 of
//!    them failing for two reasons: API requests (lists, never a get per
//!    pod), registry token requests (one per group), wall time, peak RSS.
//!    On OpenShift 4 with an ImageDigestMirrorSet of three mirrors, at
//!    1,000 and 10,000 pods: the requests must not grow with the pods
//!    (one list per kind, paged; one configz per node holding the image).
//! 7. `--from-file` with 1 MiB of pathological input (deep nesting that
//!    once made the parse quadratic): each must be refused in under 1 s.
//! 9. `fix -A --yes` over 1,000 pods failing in 100 namespaces for three
//!    causes (no secret; a secret linked after the pods were made; a
//!    mirror that needs the nodes' login), the world's back-off scaled to
//!    1 s doubling to 5 s: API requests, and the time until the kubelet's
//!    last confirmation.
//! 8. The test world's nodes pulling for real: a Deployment of 100 pods
//!    with no login (until every one backs off) and with one (until every
//!    one runs); the time to settle and the `skopeo` runs it took (pulls of
//!    one image with one credential are shared while they run).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rhpull_testkit::kube::{Emulator, Options};
use serde_json::{Value, json};

use crate::{cargo, workspace_root};

const LATENCY: Duration = Duration::from_millis(5);
const TOKEN: &str = "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJiZW5jaCJ9.YmVuY2gtc2lnbmF0dXJl";

fn world(n: usize) -> Emulator {
    world_with(n, Options::default().workers)
}

/// [`world`] on an emulator with `workers` threads.
fn world_with(n: usize, workers: usize) -> Emulator {
    let e = Emulator::start(Options {
        latency: LATENCY,
        workers,
        ..Options::default()
    });
    let names: Vec<String> = (0..n).map(|i| format!("bench-{i:05}")).collect();
    e.seed_namespaces(&names);
    e.reset_counters();
    e
}

/// rhpull create --link default across every bench namespace; (seconds, requests, peak KiB).
fn rhpull_create(bin: &Path, e: &Emulator) -> Result<(f64, u64, u64), String> {
    e.reset_counters();
    let (secs, peak) = create_in(bin, &e.kubeconfig, &bench_namespaces(e), &[])?;
    Ok((secs, e.total(), peak))
}

/// `rhpull create --link default --namespaces NAMES` with `extra` flags,
/// timed; (seconds, peak KiB).
fn create_in(
    bin: &Path,
    kubeconfig: &Path,
    names: &str,
    extra: &[&str],
) -> Result<(f64, u64), String> {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .args([
            "create",
            "-u",
            "1234567|bench",
            "--password-stdin",
            "--link",
            "default",
            "--concurrency",
            "32",
        ])
        .args(["--namespaces", names])
        .args(extra)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin
                .take()
                .expect("stdin")
                .write_all(format!("{TOKEN}\n").as_bytes())?;
            c.wait_with_output()
        })
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "rhpull create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((secs, peak_kib(&out.stderr)))
}

/// Case 5: `count` clusters of `n` namespaces each, in one kubeconfig;
/// the row compares the wall time with one cluster's (`one_cluster`).
fn many_clusters(bin: &Path, count: usize, n: usize, one_cluster: f64) -> Result<Value, String> {
    let (secs, (requests, peak)) = median_run(|| {
        // One thread each: ten emulators with two each would be twenty
        // threads on these two cores, switching between one another while
        // rhpull waits; the clusters they stand for have cores of their own.
        let emulators: Vec<Emulator> = (0..count).map(|_| world_with(n, 1)).collect();
        let mut file = rhpull_testkit::kube::kubeconfig::KubeconfigFile::default();
        for (i, e) in emulators.iter().enumerate() {
            let name = format!("cluster-{}", i + 1);
            file = e.kubeconfig_entries(file, &name, &name, None);
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let kubeconfig = dir.path().join("kubeconfig");
        file.write(&kubeconfig).map_err(|e| e.to_string())?;
        let concurrency = count.to_string();
        let extra = [
            "--all-contexts",
            "--cluster-concurrency",
            concurrency.as_str(),
        ];
        let names = bench_namespaces(&emulators[0]);
        let (secs, peak) = create_in(bin, &kubeconfig, &names, &extra)?;
        let requests = emulators.iter().map(Emulator::total).max().unwrap_or(0);
        Ok((secs, (requests, peak)))
    })?;
    Ok(json!({
        "case": format!("create+link {count} clusters × N={n}"), "table": "clusters",
        "rhpull_seconds": secs, "one_cluster_seconds": one_cluster, "ratio": secs / one_cluster,
        "requests": requests, "request_budget": 2 * n + 10, "peak_rss_kib": peak,
    }))
}

/// Runs under a second vary by tens of milliseconds on a shared machine,
/// so the short cases report the median of this many runs, each against a
/// fresh world (a second run on the same one would have nothing to write).
const SHORT_RUNS: usize = 5;

/// The run with the median wall time of [`SHORT_RUNS`] calls of `once`.
fn median_run<T>(mut once: impl FnMut() -> Result<(f64, T), String>) -> Result<(f64, T), String> {
    let mut runs = (0..SHORT_RUNS)
        .map(|_| once())
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(runs.swap_remove(SHORT_RUNS / 2))
}

/// Case 6: `check --failing -A` over `per_ns` pods in each of 100
/// namespaces, a tenth of them failing: half behind a revoked token, half
/// with no credential at all.
fn failing_pods(bin: &Path, per_ns: usize) -> Result<Value, String> {
    use base64::Engine as _;
    let registry = rhpull_testkit::world::RegistryWorld::start();
    let (host, image) = (registry.registry.host(), registry.image());
    let e = world(100);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let revoked = json!({"auths": {host.clone(): {"auth": b64("7654321|bench:revoked")}}});
    let secret = json!({"metadata": {"name": "revoked"}, "type": "kubernetes.io/dockerconfigjson",
                        "data": {".dockerconfigjson": b64(&revoked.to_string())}});
    let waiting = json!({"phase": "Pending", "containerStatuses": [{"name": "app", "image": image,
        "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]});
    let running = json!({"phase": "Running"});
    for n in 0..100 {
        let ns = format!("bench-{n:05}");
        e.put("Secret", &ns, secret.clone());
        for i in 0..per_ns {
            let failing = i < per_ns / 10;
            let secrets = if failing && i % 2 == 0 {
                json!([{"name": "revoked"}])
            } else {
                json!([])
            };
            e.put(
                "Pod",
                &ns,
                json!({"metadata": {"name": format!("pod-{i:04}")}, "spec": {
                "serviceAccountName": "default", "imagePullSecrets": secrets,
                "containers": [{"name": "app", "image": image}]}}),
            );
            let status = if failing { &waiting } else { &running };
            e.set_pod_status(&ns, &format!("pod-{i:04}"), status.clone());
        }
    }
    let run = check_failing(bin, &e, &registry)?;
    let failing = run.failing;
    let case = format!(
        "check --failing -A, {} pods, {failing} failing",
        100 * per_ns
    );
    Ok(run.row(&case))
}

/// One `check --failing -A -o json` run, measured.
struct FailingRun {
    secs: f64,
    requests: u64,
    groups: usize,
    failing: usize,
    token_requests: u64,
    peak_kib: u64,
}

impl FailingRun {
    fn row(&self, case: &str) -> Value {
        json!({"case": case, "table": "failing", "rhpull_seconds": self.secs,
               "requests": self.requests, "groups": self.groups,
               "token_requests": self.token_requests, "peak_rss_kib": self.peak_kib})
    }
}

/// Runs `check --failing -A -o json` against `e` (counters reset first),
/// under `/usr/bin/time` for the peak RSS.
fn check_failing(
    bin: &Path,
    e: &Emulator,
    registry: &rhpull_testkit::world::RegistryWorld,
) -> Result<FailingRun, String> {
    e.reset_counters();
    let tokens_before = registry.sso.requests();
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .args(["check", "--failing", "-A", "-o", "json", "--registry-ca"])
        .arg(&registry.ca_file)
        .env("KUBECONFIG", &e.kubeconfig)
        .output()
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let groups: Value = serde_json::from_slice(&out.stdout)
        .map_err(|err| format!("check --failing printed no JSON: {err}"))?;
    let failing = (groups.as_array().into_iter().flatten())
        .map(|g| g["pods"].as_array().map_or(0, Vec::len))
        .sum();
    Ok(FailingRun {
        secs,
        requests: e.total(),
        groups: groups.as_array().map_or(0, Vec::len),
        failing,
        token_requests: registry.sso.requests() - tokens_before,
        peak_kib: peak_kib(&out.stderr),
    })
}

/// Case 6b: `check --failing -A` on OpenShift 4 over `per_ns` pods in each
/// of 100 namespaces spread over three workers, a tenth failing, with an
/// ImageDigestMirrorSet of three mirrors for their repository and the
/// image cached on one worker. What must not grow with the pods: one list
/// per kind (paged at 500), one configz for the node holding the image,
/// one rendered config per node, one registry check per group.
fn failing_mirrored(bin: &Path, per_ns: usize) -> Result<Value, String> {
    let registry = rhpull_testkit::world::RegistryWorld::start();
    let host = registry.registry.host();
    let image = format!("{host}/rhel9/rhpull-demo@sha256:{}", "0f".repeat(32));
    let e = Emulator::start(Options {
        latency: LATENCY,
        ..Options::openshift()
    });
    let names: Vec<String> = (0..100).map(|i| format!("bench-{i:05}")).collect();
    e.seed_namespaces(&names);
    e.put(
        "ImageDigestMirrorSet",
        "",
        json!({"metadata": {"name": "bench"}, "spec": {"imageDigestMirrors": [{
            "source": format!("{host}/rhel9"),
            "mirrors": ["127.0.0.1:1/m1", "127.0.0.1:1/m2", "127.0.0.1:1/m3"]}]}}),
    );
    let mut node = e.get("Node", "", "worker-0").ok_or("no node worker-0")?;
    node["status"]["images"] = json!([{"names": [image], "sizeBytes": 1024}]);
    e.put("Node", "", node);
    let waiting = json!({"phase": "Pending", "containerStatuses": [{"name": "app", "image": image,
        "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]});
    let running = json!({"phase": "Running"});
    for (n, ns) in names.iter().enumerate() {
        for i in 0..per_ns {
            let name = format!("pod-{i:04}");
            e.put(
                "Pod",
                ns,
                json!({"metadata": {"name": name}, "spec": {"serviceAccountName": "default",
                    "nodeName": format!("worker-{}", (n + i) % 3),
                    "containers": [{"name": "app", "image": image}]}}),
            );
            let status = if i < per_ns / 10 { &waiting } else { &running };
            e.set_pod_status(ns, &name, status.clone());
        }
    }
    let run = check_failing(bin, &e, &registry)?;
    let failing = run.failing;
    // Only configz gets a node: the nodes themselves are listed.
    let configz = e.count("get", "nodes");
    let case = format!(
        "check --failing -A, OpenShift, 3 mirrors, {} pods, {failing} failing ({configz} configz)",
        100 * per_ns
    );
    Ok(run.row(&case))
}

/// Case 7: 1 MiB files that once parsed in quadratic time, each given to
/// `create --from-file --dry-run=client`; the slowest refusal, in seconds.
fn pathological_files(bin: &Path) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut slowest = 0f64;
    for (i, unit) in [r#"{"auths":{"#, "[", "{a: ", "- [", "a:\n "]
        .iter()
        .enumerate()
    {
        let path = dir.path().join(format!("bad-{i}"));
        let bytes = unit.repeat(1024 * 1024 / unit.len());
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let out = Command::new(bin)
            .args(["create", "--dry-run=client", "--from-file"])
            .arg(&path)
            .output()
            .map_err(|e| e.to_string())?;
        slowest = slowest.max(started.elapsed().as_secs_f64());
        if out.status.success() {
            return Err(format!("{unit:?} × 1 MiB was accepted"));
        }
    }
    Ok(
        json!({"case": "--from-file, 1 MiB pathological (slowest of 5)", "table": "inputs",
              "rhpull_seconds": slowest, "target_seconds": 1.0}),
    )
}

fn bench_namespaces(e: &Emulator) -> String {
    let mut names = Vec::new();
    for i in 0.. {
        let name = format!("bench-{i:05}");
        if e.get("Namespace", "", &name).is_none() {
            break;
        }
        names.push(name);
    }
    names.join(",")
}

/// The last line `/usr/bin/time -f %M` printed: peak RSS in KiB.
fn peak_kib(stderr: &[u8]) -> u64 {
    String::from_utf8_lossy(stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

/// The hand-written equivalent: two kubectl processes per namespace.
fn kubectl_loop(e: &Emulator, n: usize) -> Result<f64, String> {
    let script = format!(
        r#"set -e
for i in $(seq 0 {last}); do
  ns=$(printf 'bench-%05d' "$i")
  kubectl create secret docker-registry 1234567-bench-pull-secret -n "$ns" --docker-server=registry.redhat.io --docker-username='1234567|bench' --docker-password="$TOKEN" >/dev/null
  kubectl patch sa default -n "$ns" --type json -p '[{{"op":"add","path":"/imagePullSecrets","value":[{{"name":"1234567-bench-pull-secret"}}]}}]' >/dev/null
done"#,
        last = n - 1
    );
    let started = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("KUBECONFIG", &e.kubeconfig)
        .env("TOKEN", TOKEN)
        .env("HOME", e.dir())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the kubectl loop failed".into());
    }
    Ok(started.elapsed().as_secs_f64())
}

fn peak_status(bin: &Path, e: &Emulator) -> Result<u64, String> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .args(["status", "-A", "-o", "json"])
        .env("KUBECONFIG", &e.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "status -A failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(peak_kib(&out.stderr))
}

/// Mean wall time of `runs` runs of a command, in milliseconds.
fn mean_ms(program: &str, args: &[&str], path: &std::ffi::OsStr, runs: u32) -> f64 {
    let started = Instant::now();
    for _ in 0..runs {
        let _ = Command::new(program)
            .args(args)
            .env("PATH", path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
}

/// The cases `cargo xtask bench [CASE…]` knows; all without one.
pub const CASES: &[&str] = &[
    "fleet", "memory", "clusters", "failing", "inputs", "start-up", "world", "fix",
];

pub fn run(args: &[String]) -> Result<(), String> {
    // The emulators run in this process, on the same cores as rhpull: built
    // without optimisation they would be timed as much as rhpull is. So the
    // bench runs from an optimised build of itself (profile `bench`).
    if cfg!(debug_assertions) {
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "run",
                    "--quiet",
                    "--profile",
                    "bench",
                    "--package",
                    "xtask",
                    "--",
                    "bench",
                ])
                .args(args)
                .current_dir(workspace_root())
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
        return status
            .success()
            .then_some(())
            .ok_or_else(|| format!("the optimised bench failed ({status})"));
    }
    let wanted = |case: &str| args.is_empty() || args.iter().any(|a| a == case);
    crate::prereqs::ensure()?;
    crate::prereqs::ensure_packages(&[("/usr/bin/time", "time")])?;
    cargo(&[
        "build",
        "--release",
        "--quiet",
        "--package",
        "kubectl-rhpull",
    ])?;
    let bin: PathBuf = crate::target_dir().join("release/kubectl-rhpull");
    let out_dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    if wanted("fleet") || wanted("clusters") {
        rows.extend(fleet_rows(&bin, wanted("fleet"))?);
    } else if wanted("memory") {
        rows.extend(memory_rows(&bin)?);
    }
    if wanted("clusters") {
        eprintln!("bench: 10 clusters × 100 namespaces");
        let one = rows[0]["rhpull_seconds"].as_f64().unwrap_or(f64::NAN);
        rows.push(many_clusters(&bin, 10, 100, one)?);
    }
    if wanted("failing") {
        eprintln!("bench: check --failing across 10,000 pods");
        rows.push(failing_pods(&bin, 100)?);
        eprintln!("bench: check --failing with mirrors, 1,000 then 10,000 pods");
        rows.push(failing_mirrored(&bin, 10)?);
        rows.push(failing_mirrored(&bin, 100)?);
    }
    if wanted("inputs") {
        eprintln!("bench: pathological --from-file");
        rows.push(pathological_files(&bin)?);
    }
    if wanted("start-up") {
        rows.push(start_up(&bin)?);
    }
    if wanted("fix") {
        eprintln!("bench: fix -A over 1,000 failing pods, three causes");
        rows.push(fix_run(&bin, 100, 10)?);
    }
    if wanted("world") {
        eprintln!("bench: 100 pods pulled by the world's nodes");
        rows.extend(pulling_world(100)?);
    }
    let results = json!({"machine": machine(), "latency_ms": LATENCY.as_millis(), "results": rows});
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&results).expect("json"),
    )
    .map_err(|e| e.to_string())?;
    let md = markdown(&results);
    std::fs::write(out_dir.join("results.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}

/// Cases 1–3: one cluster, N namespaces, against the kubectl loop; memory.
/// Without `all`, only N = 100 (what the many-clusters case compares with).
fn fleet_rows(bin: &Path, all: bool) -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    let sizes: &[usize] = if all { &[100, 1000] } else { &[100] };
    for &n in sizes {
        eprintln!("bench: create + link across {n} namespaces");
        let (secs, (requests, peak)) = median_run(|| {
            rhpull_create(bin, &world(n)).map(|(secs, requests, peak)| (secs, (requests, peak)))
        })?;
        let manual = kubectl_loop(&world(n), n)?;
        rows.push(json!({
            "case": format!("create+link N={n}"), "namespaces": n,
            "rhpull_seconds": secs, "kubectl_loop_seconds": manual, "speedup": manual / secs,
            "requests": requests, "request_budget": 2 * n + 10, "peak_rss_kib": peak,
        }));
    }
    if all {
        rows.extend(memory_rows(bin)?);
    }
    Ok(rows)
}

/// Case 3: peak memory (and time, requests) at N = 10,000, for create +
/// link and for `status -A`.
fn memory_rows(bin: &Path) -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    eprintln!("bench: memory at N = 10000");
    let big = world(10_000);
    let (secs, requests, create_peak) = rhpull_create(bin, &big)?;
    let status_peak = peak_status(bin, &big)?;
    rows.push(json!({"case": "create+link N=10000", "namespaces": 10_000, "rhpull_seconds": secs, "requests": requests,
                     "request_budget": 2 * 10_000 + 10, "peak_rss_kib": create_peak}));
    rows.push(
        json!({"case": "status -A N=10000", "namespaces": 10_000, "peak_rss_kib": status_peak}),
    );
    Ok(rows)
}

/// Case 4: `kubectl rhpull version` against `kubectl version --client`.
fn start_up(bin: &Path) -> Result<Value, String> {
    eprintln!("bench: start-up");
    let dir = bin.parent().expect("target/release").to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest)))
        .map_err(|e| e.to_string())?;
    let plugin_ms = mean_ms("kubectl", &["rhpull", "version"], &path, 20);
    let kubectl_ms = mean_ms("kubectl", &["version", "--client"], &path, 20);
    Ok(
        json!({"case": "start-up", "kubectl_rhpull_version_ms": plugin_ms, "kubectl_version_client_ms": kubectl_ms}),
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn f(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::Number(n)) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-".into(),
    }
}

fn rows_of<'a>(results: &'a Value, table: Option<&'a str>) -> impl Iterator<Item = &'a Value> {
    results["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |r| r["table"].as_str() == table && r["case"] != "start-up")
}

fn rss(r: &Value) -> String {
    r["peak_rss_kib"]
        .as_u64()
        .map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn requests(r: &Value) -> String {
    match (r.get("requests"), r.get("request_budget")) {
        (Some(a), Some(b)) => format!("{a} ({b})"),
        _ => "-".into(),
    }
}

/// One table: its header and a row per result of `table`; nothing when no
/// case of it ran.
fn section(
    results: &Value,
    table: Option<&str>,
    header: &str,
    cells: impl Fn(&Value) -> Vec<String>,
) -> String {
    let rows: Vec<String> = rows_of(results, table)
        .map(|r| format!("| {} |\n", cells(r).join(" | ")))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let columns = header.matches('|').count() - 1;
    format!("\n{header}\n|{}\n{}", "---|".repeat(columns), rows.concat())
}

fn markdown(results: &Value) -> String {
    let case = |r: &Value| r["case"].as_str().unwrap_or("").to_string();
    let mut md = format!(
        "Machine: {}; {} ms injected latency per API request.\n",
        results["machine"].as_str().unwrap_or(""),
        results["latency_ms"]
    );
    md.push_str(&section(
        results,
        None,
        "| case | rhpull s | kubectl loop s | speed-up | API requests (budget 2N+10) | peak RSS MiB |",
        |r| {
            let speedup = r
                .get("speedup")
                .map_or_else(|| "-".to_string(), |_| format!("{}×", f(r, "speedup")));
            let loop_s = f(r, "kubectl_loop_seconds");
            vec![case(r), f(r, "rhpull_seconds"), loop_s, speedup, requests(r), rss(r)]
        },
    ));
    md.push_str(&section(
        results,
        Some("clusters"),
        "| many clusters | rhpull s | one cluster s | ratio (target ≤ 2) | API requests per cluster, most (budget 2N+10) | peak RSS MiB |",
        |r| {
            let one = f(r, "one_cluster_seconds");
            vec![case(r), f(r, "rhpull_seconds"), one, f(r, "ratio"), requests(r), rss(r)]
        },
    ));
    md.push_str(&section(
        results,
        Some("failing"),
        "| failing pods | rhpull s | API requests | groups | token requests | peak RSS MiB |",
        |r| {
            let tokens = f(r, "token_requests");
            vec![
                case(r),
                f(r, "rhpull_seconds"),
                f(r, "requests"),
                f(r, "groups"),
                tokens,
                rss(r),
            ]
        },
    ));
    md.push_str(&section(
        results,
        Some("fix"),
        "| fix | pods | groups | API requests | seconds to the last confirmation | confirmed |",
        |r| {
            vec![
                case(r),
                f(r, "pods"),
                f(r, "groups"),
                f(r, "requests"),
                f(r, "seconds"),
                f(r, "confirmed"),
            ]
        },
    ));
    md.push_str(&section(
        results,
        Some("world"),
        "| the world's nodes | pods | seconds to settle | skopeo runs |",
        |r| vec![case(r), f(r, "pods"), f(r, "seconds"), f(r, "skopeo_runs")],
    ));
    md.push_str(&section(
        results,
        Some("inputs"),
        "| input | rhpull s | target s |",
        |r| vec![case(r), f(r, "rhpull_seconds"), f(r, "target_seconds")],
    ));
    if let Some(s) = results["results"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["case"] == "start-up"))
    {
        md.push_str(&format!(
            "\nStart-up: `kubectl rhpull version` {} ms, `kubectl version --client` {} ms (mean of 20).\n",
            f(s, "kubectl_rhpull_version_ms"),
            f(s, "kubectl_version_client_ms")
        ));
    }
    md
}

/// Case 8: a Deployment of `pods` replicas in a world whose nodes pull,
/// first with no login (every pod backs off), then with one linked (every
/// pod runs): seconds until each state, and the skopeo runs behind them.
fn pulling_world(pods: usize) -> Result<Vec<Value>, String> {
    use base64::Engine as _;
    use rhpull_testkit::kube::kubelet::types::Pulling;
    let registry = rhpull_testkit::world::RegistryWorld::start();
    let mut rows = Vec::new();
    for (case, linked, wanted) in [
        ("no login: all back off", false, "ImagePullBackOff"),
        ("linked: all run", true, "Running"),
    ] {
        let e = Emulator::start(Options {
            kubelets: Some(Pulling::new(registry.registry.cert_dir.clone())),
            ..Options::default()
        });
        e.seed_namespaces(&["bench".to_string()]);
        if linked {
            let login = format!(
                "{}:{}",
                rhpull_testkit::world::USERNAME,
                rhpull_testkit::world::TOKEN
            );
            let config = json!({"auths": {registry.registry.host(): {"auth": base64::engine::general_purpose::STANDARD.encode(login)}}});
            e.put("Secret", "bench", json!({"metadata": {"name": "pull"}, "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": base64::engine::general_purpose::STANDARD.encode(config.to_string())}}));
            let mut sa = e
                .get("ServiceAccount", "bench", "default")
                .ok_or("no default service account")?;
            sa["imagePullSecrets"] = json!([{"name": "pull"}]);
            e.put("ServiceAccount", "bench", sa);
        }
        let started = Instant::now();
        e.put("Deployment", "bench", json!({"metadata": {"name": "web"}, "spec": {"replicas": pods,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": registry.image(), "imagePullPolicy": "Always"}]}}}}));
        let deadline = started + Duration::from_secs(120);
        loop {
            let settled = e
                .list("Pod", "bench")
                .iter()
                .filter(|p| {
                    let state = &p["status"]["containerStatuses"][0]["state"];
                    if wanted == "Running" {
                        state.get("running").is_some()
                    } else {
                        state["waiting"]["reason"] == wanted
                    }
                })
                .count();
            if settled == pods {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("{case}: {settled} of {pods} pods settled in 120 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let seconds = started.elapsed().as_secs_f64();
        rows.push(
            json!({"table": "world", "case": case, "pods": pods, "seconds": seconds,
                         "skopeo_runs": e.skopeo_runs()}),
        );
    }
    Ok(rows)
}

/// Case 9: `fix -A --yes` over `namespaces` × `per_ns` failing pods, a
/// third for each of three causes, in a world whose nodes pull.
fn fix_run(bin: &Path, namespaces: usize, per_ns: usize) -> Result<Value, String> {
    use rhpull_testkit::kube::kubelet::types::Pulling;
    let registry = rhpull_testkit::world::RegistryWorld::start();
    let host = registry.registry.host();
    let e = Emulator::start(Options {
        latency: LATENCY,
        machines: rhpull_testkit::kube::mco::Machines {
            masters: 1,
            workers: 3,
            delay: Duration::from_millis(10),
        },
        kubelets: Some(
            Pulling::new(registry.registry.cert_dir.clone())
                .with_backoff(Duration::from_secs(1), Duration::from_secs(5)),
        ),
        ..Options::openshift()
    });
    let names: Vec<String> = (0..namespaces).map(|i| format!("fix-{i:03}")).collect();
    e.seed_namespaces(&names);
    e.put("ImageTagMirrorSet", "", json!({"metadata": {"name": "acme"},
        "spec": {"imageTagMirrors": [{"source": "localhost:1/acme", "mirrors": [format!("{host}/rhel9")]}]}}));
    let login = format!(
        "{}:{}",
        rhpull_testkit::world::USERNAME,
        rhpull_testkit::world::TOKEN
    );
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(login);
    let config = json!({"auths": {host.clone(): {"auth": auth}}}).to_string();
    let pull = json!({"metadata": {"name": "pull"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64::engine::general_purpose::STANDARD.encode(&config)}});
    let link = |ns: &str| -> Result<(), String> {
        let mut sa = e
            .get("ServiceAccount", ns, "default")
            .ok_or("no default service account")?;
        let mut list = sa["imagePullSecrets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.push(json!({"name": "pull"}));
        sa["imagePullSecrets"] = json!(list);
        e.put("ServiceAccount", ns, sa);
        Ok(())
    };
    for (i, ns) in names.iter().enumerate() {
        let image = match i % 3 {
            2 => {
                // The mirror's: a login in the namespace, which CRI-O does
                // not use for a mirror.
                e.put("Secret", ns, pull.clone());
                link(ns)?;
                "localhost:1/acme/rhpull-demo:1".to_string()
            }
            _ => registry.image(),
        };
        e.put(
            "Deployment",
            ns,
            json!({"metadata": {"name": "app"}, "spec": {"replicas": per_ns,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}},
                         "spec": {"containers": [{"name": "app", "image": image}]}}}}),
        );
    }
    let total = namespaces * per_ns;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let failing = e
            .list("Pod", "")
            .iter()
            .filter(|p| {
                p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "ImagePullBackOff"
            })
            .count();
        if failing == total {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "fix bench: {failing} of {total} pods backing off after 300 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Linked after the pods were made.
    for (i, ns) in names.iter().enumerate() {
        if i % 3 == 1 {
            e.put("Secret", ns, pull.clone());
            link(ns)?;
        }
    }
    let home = tempfile::tempdir().map_err(|e| e.to_string())?;
    let authfile = home.path().join("auth.json");
    std::fs::write(&authfile, &config).map_err(|e| e.to_string())?;
    e.reset_counters();
    let started = Instant::now();
    let out = Command::new(bin)
        .args([
            "fix",
            "-A",
            "--yes",
            "--wait",
            "5m",
            "-o",
            "json",
            "--registry-ca",
        ])
        .arg(&registry.ca_file)
        .env("KUBECONFIG", &e.kubeconfig)
        .env("REGISTRY_AUTH_FILE", &authfile)
        .env("HOME", home.path())
        .output()
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let doc: Value = serde_json::from_slice(&out.stdout).map_err(|err| {
        format!(
            "fix printed no JSON ({err}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let groups = doc["groups"].as_array().cloned().unwrap_or_default();
    let confirmed: usize = (groups.iter())
        .flat_map(|g| g["pods"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["kubelet"]["state"] == "pulled")
        .count();
    Ok(
        json!({"table": "fix", "case": "fix -A --yes, 3 causes", "pods": total, "groups": groups.len(),
              "requests": e.total(), "seconds": secs, "confirmed": confirmed}),
    )
}
