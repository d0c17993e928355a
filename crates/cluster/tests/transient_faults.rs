//! Transient faults injected by the emulator: cut connections, 5xx answers,
//! throttling and slow answers. Reads survive them within the bound, writes
//! are never resent after an answer that may follow a landed change, the
//! error after the bound is clear, and a re-run finishes the job.

use std::time::Duration;

use rhpull_cluster::pullsecret::{self, Format};
use rhpull_cluster::transient::MAX_ATTEMPTS;
use rhpull_cluster::{Cluster, ClusterError, ConnectOptions, DryRun, Outcome};
use rhpull_core::Credential;
use rhpull_testkit::kube::{Emulator, Fault, Options};

use rhpull_testkit::client_runtime as rt;

async fn connect(e: &Emulator, timeout: Option<Duration>) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: rhpull_cluster::kubeconfig::Source::file(&e.kubeconfig),
        request_timeout: timeout,
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
}

fn wanted() -> k8s_openapi::api::core::v1::Secret {
    let creds = vec![Credential::new(
        "registry.redhat.io",
        "1234567|ci-bot",
        "TOKEN-ONE",
    )];
    pullsecret::build("pull", "default", Format::DockerConfigJson, &creds)
}

fn on(verb: &str, resource: &str) -> Fault {
    Fault {
        verb: Some(verb.into()),
        resource: Some(resource.into()),
        ..Fault::default()
    }
}

#[test]
fn reads_survive_a_cut_connection_and_a_failing_server() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e, None).await;
        pullsecret::apply(&c, &wanted(), DryRun::None, false)
            .await
            .unwrap();

        for (fault, times) in [
            (
                Fault {
                    drop_connection: true,
                    ..on("get", "secrets")
                },
                1,
            ),
            (
                Fault {
                    status: Some(500),
                    ..on("get", "secrets")
                },
                2,
            ),
            (
                Fault {
                    status: Some(503),
                    ..on("get", "secrets")
                },
                MAX_ATTEMPTS - 1,
            ),
        ] {
            e.reset_counters();
            e.add_fault(Fault {
                remaining: times,
                ..fault.clone()
            });
            let got = pullsecret::get(&c, "default", "pull").await;
            assert!(matches!(got, Ok(Some(_))), "{fault:?} x{times}: {got:?}");
            assert_eq!(
                e.count("get", "secrets"),
                u64::from(times) + 1,
                "{fault:?}: {}",
                e.counters()
            );
        }
    });
}

#[test]
fn past_the_bound_the_error_is_clear_nothing_is_half_done_and_a_rerun_finishes() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e, None).await;

        // A server failing every read: the bound, then the server's own answer.
        e.add_fault(Fault {
            status: Some(500),
            remaining: 100,
            ..on("get", "secrets")
        });
        let err = pullsecret::apply(&c, &wanted(), DryRun::None, false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClusterError::Api { code: 500, .. }),
            "{err:?}"
        );
        assert_eq!(e.count("get", "secrets"), u64::from(MAX_ATTEMPTS));
        assert_eq!(e.writes(), 0, "nothing half-done: {}", e.counters());

        // Connections cut every time: the error says how often it was tried.
        e.clear_faults();
        e.reset_counters();
        e.add_fault(Fault {
            drop_connection: true,
            remaining: 100,
            ..on("get", "secrets")
        });
        let err = pullsecret::apply(&c, &wanted(), DryRun::None, false)
            .await
            .unwrap_err();
        let ClusterError::Unreachable { kind, source } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            *kind,
            rhpull_cluster::error::Transport::ConnectionReset,
            "{err:?}"
        );
        let mut chain = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
        while let Some(e) = cur {
            chain.push(e.to_string());
            cur = e.source();
        }
        let chain = chain.join(": ");
        assert!(
            chain.contains(&format!("{MAX_ATTEMPTS} attempts")),
            "the cause chain is kept: {chain}"
        );
        assert_eq!(e.count("get", "secrets"), u64::from(MAX_ATTEMPTS));
        assert_eq!(e.writes(), 0);

        // The fault gone, the same call does the job.
        e.clear_faults();
        assert_eq!(
            pullsecret::apply(&c, &wanted(), DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Created
        );
        assert!(e.get("Secret", "default", "pull").is_some());
    });
}

#[test]
fn writes_are_resent_when_throttled_but_not_after_a_server_error() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e, None).await;

        // A 5xx to a create may follow a landed change: not resent.
        for code in [500, 503, 504] {
            e.reset_counters();
            e.add_fault(Fault {
                status: Some(code),
                ..on("create", "secrets")
            });
            let err = pullsecret::apply(&c, &wanted(), DryRun::None, false)
                .await
                .unwrap_err();
            assert!(
                matches!(err, ClusterError::Api { code: c, .. } if c == code),
                "{err:?}"
            );
            assert_eq!(e.count("create", "secrets"), 1, "{code}");
        }

        // A 429 is a refusal before any work: resent after Retry-After.
        e.reset_counters();
        e.add_fault(Fault {
            status: Some(429),
            retry_after: Some(1),
            ..on("create", "secrets")
        });
        assert_eq!(
            pullsecret::apply(&c, &wanted(), DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Created
        );
        assert_eq!(e.count("create", "secrets"), 2);
    });
}

#[test]
fn slow_answers_are_waited_for_and_past_the_timeout_asked_again() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e, Some(Duration::from_secs(2))).await;
        pullsecret::apply(&c, &wanted(), DryRun::None, false)
            .await
            .unwrap();

        // Slow but within --request-timeout: one request. Slower than the
        // timeout once: asked again, answered.
        for (latency_ms, requests) in [(700, 1), (5_000, 2)] {
            e.reset_counters();
            e.add_fault(Fault {
                latency_ms: Some(latency_ms),
                ..on("get", "secrets")
            });
            let got = pullsecret::get(&c, "default", "pull").await.unwrap();
            assert!(got.is_some());
            assert_eq!(e.count("get", "secrets"), requests, "{latency_ms} ms");
        }
    });
}
