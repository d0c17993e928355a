//! Fleet scale through real kubectl dispatch: create + link across many
//! namespaces within the request budget (2N + 10), nothing written on a
//! re-run, a failing namespace never stopping the others, namespace
//! selectors, API Priority and Fairness (429 + Retry-After) respected, and
//! HTTP/2 to the API server where it is offered (HTTP/1.1 where it is not).

use rhpull_e2e::env::Env;
use rhpull_e2e::{stderr, stdout};
use rhpull_testkit::kube::Fault;
use serde_json::Value;

const TOKEN: &str = "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJmbGVldCJ9.ZmxlZXQtc2lnbmF0dXJl\n";
const CREATE: &[&str] = &[
    "create",
    "-u",
    "1234567|fleet",
    "--password-stdin",
    "--link",
    "default",
    "-A",
];

#[test]
fn create_and_link_across_every_namespace_within_the_request_budget() {
    let n = 60;
    let env = Env::with_namespaces(n);
    let total_ns = n + 3; // default, kube-system, kube-public
    env.emulator.reset_counters();
    let out = env.rhpull(CREATE, Some(TOKEN));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "{total_ns} namespaces: {total_ns} changed, 0 unchanged, 0 failed"
        )),
        "{}",
        stdout(&out)
    );
    let requests = env.emulator.total();
    assert!(
        requests <= 2 * total_ns as u64 + 10,
        "{requests} requests for {total_ns} namespaces: {}",
        env.emulator.counters()
    );
    assert_eq!(env.emulator.count("create", "secrets"), total_ns as u64);
    assert_eq!(
        env.emulator.count("patch", "serviceaccounts"),
        total_ns as u64
    );
    // HTTP/2, as kubectl: the whole run shares one connection instead of
    // a TLS handshake per namespace in flight.
    let (http2, http1) = env.emulator.connections();
    assert_eq!(http1, 0, "no HTTP/1.1 connection");
    assert!(http2 <= 2, "{http2} HTTP/2 connections for one run");
    let sa = env
        .emulator
        .get("ServiceAccount", "team-042", "default")
        .unwrap();
    assert_eq!(
        sa["imagePullSecrets"][0]["name"],
        "1234567-fleet-pull-secret"
    );

    // A re-run writes nothing.
    env.emulator.reset_counters();
    let again = env.rhpull(CREATE, Some(TOKEN));
    assert!(
        stdout(&again).contains(&format!("0 changed, {total_ns} unchanged, 0 failed")),
        "{}",
        stdout(&again)
    );
    assert_eq!(env.emulator.writes(), 0, "{}", env.emulator.counters());
}

#[test]
fn an_api_server_that_speaks_only_http1_gets_http1() {
    // Behind a proxy or load balancer without HTTP/2, rhpull falls back to
    // HTTP/1.1 as client-go does: the same job, the same requests.
    let env = Env::with_namespaces_on(
        rhpull_testkit::kube::Options {
            protocols: rhpull_testkit::kube::Protocols::Http1Only,
            ..Default::default()
        },
        12,
    );
    env.emulator.reset_counters();
    let out = env.rhpull(CREATE, Some(TOKEN));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("15 namespaces: 15 changed, 0 unchanged, 0 failed"),
        "{}",
        stdout(&out)
    );
    let (http2, http1) = env.emulator.connections();
    assert_eq!(http2, 0);
    assert!(http1 >= 1);
    assert!(
        env.emulator.total() <= 2 * 15 + 10,
        "{}",
        env.emulator.counters()
    );
}

#[test]
fn a_failing_namespace_never_stops_the_others() {
    let env = Env::with_namespaces(10);
    // team-004 already has someone else's secret of that name.
    let mut cmd = std::process::Command::new("kubectl");
    cmd.args([
        "create",
        "secret",
        "generic",
        "1234567-fleet-pull-secret",
        "--from-literal=a=b",
        "-n",
        "team-004",
    ])
    .env("KUBECONFIG", &env.emulator.kubeconfig);
    assert!(cmd.output().unwrap().status.success());
    let out = env.rhpull(CREATE, Some(TOKEN));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("12 changed, 0 unchanged, 1 failed"), "{text}");
    assert!(
        text.contains("✗ team-004: secret team-004/1234567-fleet-pull-secret already exists and was not created by rhpull"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("1 of 13 namespaces failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        env.emulator
            .get("Secret", "team-005", "1234567-fleet-pull-secret")
            .is_some()
    );
    // Their secret is untouched, and -o json tells scripts the same.
    let theirs = env
        .emulator
        .get("Secret", "team-004", "1234567-fleet-pull-secret")
        .unwrap();
    assert_eq!(theirs["type"], "Opaque");
    let json = env.rhpull(&[CREATE, &["-o", "json"]].concat(), Some(TOKEN));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 13);
    let failed: Vec<&Value> = (v.as_array().unwrap().iter())
        .filter(|r| r.get("reason").is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{v}");
    assert_eq!(failed[0]["namespace"], "team-004");
    assert_eq!(failed[0]["reason"], "SecretNotManaged");
    assert_eq!(failed[0]["error"]["name"], "1234567-fleet-pull-secret");
}

#[test]
fn selectors_explicit_lists_and_status_across_them() {
    let env = Env::with_namespaces(6);
    for ns in ["team-001", "team-003"] {
        let mut cmd = std::process::Command::new("kubectl");
        cmd.args(["label", "ns", ns, "tier=gold"])
            .env("KUBECONFIG", &env.emulator.kubeconfig);
        assert!(cmd.output().unwrap().status.success());
    }
    let out = env.rhpull(
        &[
            "create",
            "-u",
            "1234567|fleet",
            "--password-stdin",
            "-l",
            "tier=gold",
        ],
        Some(TOKEN),
    );
    assert!(
        stdout(&out).contains("2 namespaces: 2 changed"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        env.emulator
            .get("Secret", "team-002", "1234567-fleet-pull-secret")
            .is_none()
    );
    let out = env.rhpull(
        &[
            "link",
            "default",
            "1234567-fleet-pull-secret",
            "--namespaces",
            "team-001,team-003",
        ],
        Some(""),
    );
    assert!(
        stdout(&out).contains("2 namespaces: 2 changed"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let status = env.rhpull(&["status", "-l", "tier=gold", "-o", "json"], Some(""));
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    let namespaces: Vec<&str> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["team-001", "team-003"]);
    let out = env.rhpull(
        &[
            "unlink",
            "default",
            "1234567-fleet-pull-secret",
            "--namespaces",
            "team-001,team-003",
        ],
        Some(""),
    );
    assert!(
        stdout(&out).contains("2 namespaces: 2 changed"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn throttling_with_retry_after_is_waited_out() {
    let env = Env::with_namespaces(4);
    env.emulator.add_fault(Fault {
        verb: Some("create".into()),
        resource: Some("secrets".into()),
        status: Some(429),
        retry_after: Some(1),
        remaining: 2,
        ..Fault::default()
    });
    let out = env.rhpull(CREATE, Some(TOKEN));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("7 changed"), "{}", stdout(&out));
    assert_eq!(
        env.emulator.count("create", "secrets"),
        9,
        "7 creates and 2 retried: {}",
        env.emulator.counters()
    );
}

#[test]
fn cut_connections_and_failing_writes_end_in_named_failures_and_a_rerun_finishes() {
    let env = Env::with_namespaces(4);
    // The first namespace list is cut mid-answer (read: asked again), and two
    // service account updates get a 500 (write: not resent, may have landed).
    env.emulator.add_fault(Fault {
        verb: Some("list".into()),
        resource: Some("namespaces".into()),
        drop_connection: true,
        ..Fault::default()
    });
    env.emulator.add_fault(Fault {
        verb: Some("patch".into()),
        resource: Some("serviceaccounts".into()),
        status: Some(500),
        remaining: 2,
        ..Fault::default()
    });
    let out = env.rhpull(CREATE, Some(TOKEN));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("5 changed, 0 unchanged, 2 failed"), "{text}");
    assert!(text.contains("the API server failed: 500"), "{text}");
    assert!(
        stderr(&out).contains("run the same command again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.emulator.count("patch", "serviceaccounts"), 7);

    // The re-run does only what is missing, and kubectl sees every link.
    env.emulator.reset_counters();
    let again = env.rhpull(CREATE, Some(TOKEN));
    assert!(
        again.status.success(),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    assert!(
        stdout(&again).contains("2 changed, 5 unchanged, 0 failed"),
        "{}",
        stdout(&again)
    );
    assert_eq!(env.emulator.count("create", "secrets"), 0);
    let out = std::process::Command::new("kubectl")
        .args([
            "get",
            "serviceaccounts",
            "-A",
            "--field-selector",
            "metadata.name=default",
            "-o",
            "json",
        ])
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let linked: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sa| sa["imagePullSecrets"][0]["name"] == "1234567-fleet-pull-secret")
        .collect();
    assert_eq!(linked.len(), 7, "{list}");
}

/// A named list of namespaces costs one permission review per verb, not
/// one per namespace; a user with rights only in those namespaces (a Role
/// in each) is asked namespace by namespace, and gets the job done.
#[test]
fn a_named_fleet_asks_for_permission_once_and_per_namespace_only_when_it_must() {
    let n = 40;
    let env = Env::with_namespaces(n);
    let names: Vec<String> = (0..n).map(|i| format!("team-{i:03}")).collect();
    let list = names.join(",");
    let mut args: Vec<&str> = CREATE[..CREATE.len() - 1].to_vec();
    args.extend(["--namespaces", &list]);
    env.emulator.reset_counters();
    let out = env.rhpull(&args, Some(TOKEN));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let requests = env.emulator.total();
    assert!(
        requests <= 2 * n as u64 + 10,
        "{requests} requests for {n} namespaces: {}",
        env.emulator.counters()
    );
    assert_eq!(env.emulator.count("create", "selfsubjectaccessreviews"), 2);

    // Rights in these namespaces only: the cluster-wide review says no,
    // each namespace says yes.
    let ns: Vec<&str> = names.iter().map(String::as_str).collect();
    let kubeconfig = env.emulator.add_user(
        "team-token",
        "team-admin",
        vec![rhpull_testkit::kube::Rule::new(
            &["*"],
            &["*"],
            &["*"],
            Some(&ns),
        )],
    );
    let mut envs = env.envs("C");
    envs[0].1 = kubeconfig.display().to_string();
    args[2] = "1234567|other";
    env.emulator.reset_counters();
    let out = env.rhpull_with(&envs, &args, Some(TOKEN));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        env.emulator.count("create", "selfsubjectaccessreviews"),
        2 + 2 * n as u64,
        "{}",
        env.emulator.counters()
    );
    assert_eq!(env.emulator.count("create", "secrets"), n as u64);
}
