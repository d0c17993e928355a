//! rhpull-cluster against the emulator, Kubernetes and OpenShift mode: the
//! objects written are read back with real kubectl, and the request counters
//! prove "no write when nothing changed".

use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use rhpull_cluster::access::{self, Need, Verb};
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::grants::{self, Grantee};
use rhpull_cluster::kubeconfig::Source;
use rhpull_cluster::link::{self, LinkFor};
use rhpull_cluster::pullsecret::{self, Format};
use rhpull_cluster::{Cluster, ClusterError, ConnectOptions, DryRun, Outcome, global, inventory};
use rhpull_core::Credential;
use rhpull_core::authfile::Change;
use rhpull_testkit::kube::{Emulator, Fault, Options, Rule};
use serde_json::{Value, json};

use rhpull_testkit::client_runtime as rt;

async fn connect(e: &Emulator) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: rhpull_cluster::kubeconfig::Source::file(&e.kubeconfig),
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
}

fn kubectl_json(e: &Emulator, args: &[&str]) -> Value {
    let out = Command::new("kubectl")
        .args(args)
        .args(["-o", "json"])
        .env("KUBECONFIG", &e.kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn creds() -> Vec<Credential> {
    vec![Credential::new(
        "registry.redhat.io",
        "1234567|ci-bot",
        "TOKEN-ONE",
    )]
}

#[test]
fn kind_detection() {
    let k = Emulator::start(Options::default());
    let o = Emulator::start(Options::openshift());
    rt().block_on(async {
        assert_eq!(
            connect(&k).await.kind().await.unwrap(),
            ClusterKind::Kubernetes
        );
        assert_eq!(
            connect(&o).await.kind().await.unwrap(),
            ClusterKind::OpenShift4
        );
    });
}

#[test]
fn pull_secrets_are_created_once_updated_when_changed_and_read_back_by_kubectl() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e).await;
        assert_eq!(c.namespace, "default");
        let name = pullsecret::default_name(&creds());
        assert_eq!(name, "1234567-ci-bot-pull-secret");
        let wanted = pullsecret::build(&name, "default", Format::DockerConfigJson, &creds());
        assert_eq!(
            pullsecret::apply(&c, &wanted, DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Created
        );

        e.reset_counters();
        assert_eq!(
            pullsecret::apply(&c, &wanted, DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(
            e.writes(),
            0,
            "no write when nothing changed: {}",
            e.counters()
        );

        let rotated = vec![Credential::new(
            "registry.redhat.io",
            "1234567|ci-bot",
            "TOKEN-TWO",
        )];
        let wanted2 = pullsecret::build(&name, "default", Format::DockerConfigJson, &rotated);
        assert_eq!(
            pullsecret::apply(&c, &wanted2, DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Updated
        );

        let s = kubectl_json(&e, &["get", "secret", &name]);
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        assert_eq!(
            s["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "kubectl-rhpull"
        );
        use base64::Engine as _;
        let cfg = base64::engine::general_purpose::STANDARD
            .decode(s["data"][".dockerconfigjson"].as_str().unwrap())
            .unwrap();
        let cfg: Value = serde_json::from_slice(&cfg).unwrap();
        let auth = base64::engine::general_purpose::STANDARD
            .decode(cfg["auths"]["registry.redhat.io"]["auth"].as_str().unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(auth).unwrap(), "1234567|ci-bot:TOKEN-TWO");

        // The legacy type, also readable back.
        let old = pullsecret::build("legacy", "default", Format::DockerCfg, &creds());
        assert_eq!(
            pullsecret::apply(&c, &old, DryRun::None, false)
                .await
                .unwrap(),
            Outcome::Created
        );
        let got = pullsecret::get(&c, "default", "legacy")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            pullsecret::credentials_of(&got).unwrap()[0].username,
            "1234567|ci-bot"
        );
    });
}

#[test]
fn someone_elses_secret_is_not_overwritten_without_asking() {
    let e = Emulator::start(Options::default());
    let out = Command::new("kubectl")
        .args([
            "create",
            "secret",
            "docker-registry",
            "theirs",
            "--docker-server=quay.io",
            "--docker-username=u",
            "--docker-password=p",
        ])
        .env("KUBECONFIG", &e.kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success());
    rt().block_on(async {
        let c = connect(&e).await;
        let wanted = pullsecret::build("theirs", "default", Format::DockerConfigJson, &creds());
        let err = pullsecret::apply(&c, &wanted, DryRun::None, false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClusterError::SecretNotManaged { .. }),
            "{err:?}"
        );
        assert_eq!(
            pullsecret::apply(&c, &wanted, DryRun::None, true)
                .await
                .unwrap(),
            Outcome::Updated
        );
        let legacy = pullsecret::build("theirs", "default", Format::DockerCfg, &creds());
        let err = pullsecret::apply(&c, &legacy, DryRun::None, true)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClusterError::SecretTypeDiffers { .. }),
            "{err:?}"
        );
    });
}

#[test]
fn dry_runs_write_nothing() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e).await;
        let wanted = pullsecret::build("dry", "default", Format::DockerConfigJson, &creds());
        e.reset_counters();
        assert_eq!(
            pullsecret::apply(&c, &wanted, DryRun::Client, false)
                .await
                .unwrap(),
            Outcome::Created
        );
        assert_eq!(e.writes(), 0);
        assert_eq!(
            pullsecret::apply(&c, &wanted, DryRun::Server, false)
                .await
                .unwrap(),
            Outcome::Created
        );
        assert_eq!(
            e.count("create", "secrets"),
            1,
            "server dry run sends the write with dryRun=All"
        );
        assert!(
            e.get("Secret", "default", "dry").is_none(),
            "and nothing is stored"
        );
    });
}

#[test]
fn linking_keeps_openshifts_dockercfg_and_survives_a_concurrent_writer() {
    let e = Emulator::start(Options::openshift());
    e.create_namespace("team-a", &[]);
    let rt = rt();
    let c = rt.block_on(async {
        let c = connect(&e).await;
        // Wait for the SA and its dockercfg, as `link --wait` does.
        let sa = link::wait_for(&c, "team-a", "default", link::SaWait { timeout: Duration::from_secs(10), any_name: false }).await.unwrap();
        assert!(link::has_openshift_dockercfg(&sa));
        let secret = pullsecret::build("mine", "team-a", Format::DockerConfigJson, &creds());
        pullsecret::apply(&c, &secret, DryRun::None, false).await.unwrap();
        link::require_secrets(&c, "team-a", &["mine".into()]).await.unwrap();
        let err = link::require_secrets(&c, "team-a", &["mine".into(), "nope-1".into(), "nope-2".into()]).await.unwrap_err();
        assert!(matches!(&err, ClusterError::SecretsMissing { names, .. } if names == &["nope-1", "nope-2"]), "{err:?}");
        c
    });

    // A concurrent writer changes the SA while rhpull's update is in flight
    // (held 400 ms by the emulator): rhpull's write is then stale, gets a
    // 409, and must start over from a fresh read instead of losing the change.
    e.add_fault(Fault {
        verb: Some("patch".into()),
        resource: Some("serviceaccounts".into()),
        latency_ms: Some(400),
        ..Fault::default()
    });
    let secrets = vec!["mine".to_string()];
    let change = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            let mut sa = e.get("ServiceAccount", "team-a", "default").unwrap();
            sa["imagePullSecrets"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "added-meanwhile"}));
            e.put("ServiceAccount", "team-a", sa);
        });
        rt.block_on(link::link(
            &c,
            "team-a",
            "default",
            &secrets,
            LinkFor::Both,
            DryRun::None,
        ))
        .unwrap()
    });
    assert_eq!(change.pull, ["mine"]);
    assert_eq!(change.mount, ["mine"]);
    assert_eq!(
        e.count("patch", "serviceaccounts"),
        2,
        "one 409, one retry: {}",
        e.counters()
    );
    let sa = kubectl_json(&e, &["get", "sa", "default", "-n", "team-a"]);
    let names: Vec<&str> = sa["imagePullSecrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("default-dockercfg-")),
        "{names:?}"
    );
    assert!(names.contains(&"mine"), "{names:?}");
    assert!(
        names.contains(&"added-meanwhile"),
        "the concurrent change must survive: {names:?}"
    );

    rt.block_on(async {
        // Idempotent: no write the second time.
        e.reset_counters();
        let again = link::link(
            &c,
            "team-a",
            "default",
            &secrets,
            LinkFor::Both,
            DryRun::None,
        )
        .await
        .unwrap();
        assert!(again.is_empty());
        assert_eq!(e.writes(), 0);

        // Unlink takes only ours.
        let removed = link::unlink(&c, "team-a", "default", &secrets, DryRun::None)
            .await
            .unwrap();
        assert_eq!(removed.pull, ["mine"]);
        let sa = e.get("ServiceAccount", "team-a", "default").unwrap();
        assert!(
            sa["imagePullSecrets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["name"] != "mine")
        );
        assert!(link::has_openshift_dockercfg(
            &serde_json::from_value(sa).unwrap()
        ));
    });
}

/// A new namespace's `default` comes a moment after the namespace: worth
/// waiting for. A name the cluster never makes fails at once, naming
/// what is there; so does a namespace that does not exist.
#[test]
fn waiting_only_for_what_the_cluster_makes_itself() {
    let e = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&e).await;
        let started = std::time::Instant::now();
        let err = link::wait_for(
            &c,
            "default",
            "defualt",
            link::SaWait {
                timeout: Duration::from_secs(30),
                any_name: false,
            },
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "no wait");
        let ClusterError::NoSuchServiceAccount { existing, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(existing, &["default"]);
        let err = link::wait_for(
            &c,
            "nope",
            "default",
            link::SaWait {
                timeout: Duration::from_secs(30),
                any_name: false,
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, ClusterError::NamespaceNotFound(ns) if ns == "nope"),
            "{err:?}"
        );
        let created = Command::new("kubectl")
            .args(["create", "namespace", "fresh"])
            .env("KUBECONFIG", &e.kubeconfig)
            .output()
            .unwrap();
        assert!(created.status.success());
        let sa = link::wait_for(
            &c,
            "fresh",
            "default",
            link::SaWait {
                timeout: Duration::from_secs(10),
                any_name: false,
            },
        )
        .await
        .unwrap();
        assert_eq!(sa.metadata.name.as_deref(), Some("default"));
    });
}

#[test]
fn grants_are_idempotent_and_revokes_remove_only_their_subject() {
    let e = Emulator::start(Options::openshift());
    e.create_namespace("project-a", &[]);
    e.create_namespace("project-b", &[]);
    rt().block_on(async {
        let c = connect(&e).await;
        let g = grants::grant(
            &c,
            "project-a",
            "project-b",
            &Grantee::ServiceAccounts(vec!["default".into()]),
            DryRun::None,
        )
        .await
        .unwrap();
        assert_eq!(g.subjects, ["system:serviceaccount:project-a:default"]);
        e.reset_counters();
        let again = grants::grant(
            &c,
            "project-a",
            "project-b",
            &Grantee::ServiceAccounts(vec!["default".into()]),
            DryRun::None,
        )
        .await
        .unwrap();
        assert!(again.changed.is_empty());
        assert_eq!(again.subjects, ["system:serviceaccount:project-a:default"]);
        assert_eq!(again.outcome, grants::BindingOutcome::Unchanged);
        assert_eq!(e.writes(), 0);
        grants::grant(
            &c,
            "project-a",
            "project-b",
            &Grantee::AllServiceAccounts,
            DryRun::None,
        )
        .await
        .unwrap();
        let rb = kubectl_json(
            &e,
            &[
                "get",
                "rolebinding",
                &grants::binding_name("project-a"),
                "-n",
                "project-b",
            ],
        );
        assert_eq!(rb["roleRef"]["name"], "system:image-puller");
        assert_eq!(rb["subjects"].as_array().unwrap().len(), 2);

        let r = grants::revoke(
            &c,
            "project-a",
            "project-b",
            &Grantee::ServiceAccounts(vec!["default".into()]),
            DryRun::None,
        )
        .await
        .unwrap();
        assert_eq!(r[0].changed, ["system:serviceaccount:project-a:default"]);
        assert_eq!(
            r[0].subjects,
            ["system:serviceaccounts:project-a"],
            "what is left"
        );
        assert_eq!(r[0].outcome, grants::BindingOutcome::Configured);
        let r = grants::revoke(
            &c,
            "project-a",
            "project-b",
            &Grantee::AllServiceAccounts,
            DryRun::None,
        )
        .await
        .unwrap();
        assert_eq!(r[0].outcome, grants::BindingOutcome::Deleted);
        assert!(
            e.get(
                "RoleBinding",
                "project-b",
                &grants::binding_name("project-a")
            )
            .is_none()
        );
    });
    // Plain Kubernetes has no image-puller role: a clear error.
    let k = Emulator::start(Options::default());
    rt().block_on(async {
        let c = connect(&k).await;
        let err = grants::grant(
            &c,
            "default",
            "kube-public",
            &Grantee::AllServiceAccounts,
            DryRun::None,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClusterError::NoImagePullerRole), "{err:?}");
    });
}

#[test]
fn the_global_pull_secret_keeps_every_other_registry() {
    let e = Emulator::start(Options::openshift());
    rt().block_on(async {
        let c = connect(&e).await;
        let before = global::show(&c).await.unwrap();
        assert_eq!(before.len(), 2);
        assert_eq!(
            global::set(&c, &creds()[0], DryRun::None).await.unwrap(),
            Change::Added
        );
        assert_eq!(
            global::set(&c, &creds()[0], DryRun::None).await.unwrap(),
            Change::Unchanged
        );
        let after = global::show(&c).await.unwrap();
        assert_eq!(after.len(), 3);
        for b in &before {
            assert!(after.contains(b), "{b:?} lost");
        }
        assert_eq!(
            global::remove(&c, "registry.redhat.io", DryRun::None)
                .await
                .unwrap(),
            Change::Updated
        );
        assert_eq!(global::show(&c).await.unwrap(), before);
    });
    let k = Emulator::start(Options::default());
    rt().block_on(async {
        let err = global::show(&connect(&k).await).await.unwrap_err();
        assert!(matches!(err, ClusterError::NotOpenShift4(_)), "{err:?}");
    });
}

#[test]
fn inventory_finds_secrets_links_and_grants() {
    let e = Emulator::start(Options::openshift());
    e.create_namespace("project-a", &[]);
    rt().block_on(async {
        let c = connect(&e).await;
        link::wait_for(
            &c,
            "project-a",
            "default",
            link::SaWait {
                timeout: Duration::from_secs(10),
                any_name: false,
            },
        )
        .await
        .unwrap();
        let s = pullsecret::build("rh", "project-a", Format::DockerConfigJson, &creds());
        pullsecret::apply(&c, &s, DryRun::None, false)
            .await
            .unwrap();
        link::link(
            &c,
            "project-a",
            "default",
            &["rh".into()],
            LinkFor::Pull,
            DryRun::None,
        )
        .await
        .unwrap();
        grants::grant(
            &c,
            "project-a",
            "openshift",
            &Grantee::AllServiceAccounts,
            DryRun::None,
        )
        .await
        .unwrap();
        let inv = inventory::collect(&c, None, None).await.unwrap();
        let rh = inv.secrets.iter().find(|s| s.name == "rh").unwrap();
        assert!(rh.managed);
        assert_eq!(
            rh.logins,
            [inventory::Login {
                registry: "registry.redhat.io".to_string(),
                username: "1234567|ci-bot".to_string(),
                digest: inventory::SecretDigest::of(&creds()[0].secret),
            }]
        );
        assert_eq!(rh.pull, ["default"]);
        assert!(
            inv.secrets
                .iter()
                .any(|s| s.name.starts_with("default-dockercfg-") && !s.managed)
        );
        assert_eq!(inv.grants[0].subjects, ["system:serviceaccounts:project-a"]);
        let only = inventory::collect(&c, Some("project-a"), None)
            .await
            .unwrap();
        assert!(only.secrets.iter().all(|s| s.namespace == "project-a"));
    });
}

#[test]
fn missing_permissions_are_named_before_writing() {
    let e = Emulator::start(Options::default());
    let limited = e.add_user(
        "limited",
        "limited",
        vec![Rule::new(&["get", "list"], &["*"], &["*"], None)],
    );
    rt().block_on(async {
        let c = Cluster::connect(&ConnectOptions { kubeconfig: Source::file(&limited), ..ConnectOptions::default() }).await.unwrap();
        access::require(&c, &[Need::on::<Secret>(Verb::Get, Some("default"))]).await.unwrap();
        let err = access::require(&c, &[Need::on::<Secret>(Verb::Create, Some("default"))]).await.unwrap_err();
        assert!(matches!(&err, ClusterError::Denied { verb, resource, .. } if verb == "create" && resource == "secrets"), "{err:?}");
        let wanted = pullsecret::build("x", "default", Format::DockerConfigJson, &creds());
        let err = pullsecret::apply(&c, &wanted, DryRun::None, false).await.unwrap_err();
        assert!(matches!(err, ClusterError::Forbidden { .. }), "{err:?}");
    });
}

#[test]
fn the_global_pull_secret_survives_a_concurrent_writer() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let e = Emulator::start(Options::openshift());
    let rt = rt();
    let c = rt.block_on(connect(&e));
    // The installer (or another admin) adds a registry while rhpull's
    // update is held by the emulator: rhpull's write is stale, gets a 409,
    // and starts over from a fresh read.
    e.add_fault(Fault {
        verb: Some("update".into()),
        resource: Some("secrets".into()),
        latency_ms: Some(400),
        ..Fault::default()
    });
    let change = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            let mut s = e.get("Secret", "openshift-config", "pull-secret").unwrap();
            let raw = b64
                .decode(s["data"][".dockerconfigjson"].as_str().unwrap())
                .unwrap();
            let mut cfg: Value = serde_json::from_slice(&raw).unwrap();
            cfg["auths"]["mirror.example.com:5000"] =
                json!({"auth": b64.encode("mirror:meanwhile")});
            s["data"][".dockerconfigjson"] = json!(b64.encode(cfg.to_string()));
            e.put("Secret", "openshift-config", s);
        });
        rt.block_on(global::set(&c, &creds()[0], DryRun::None))
            .unwrap()
    });
    assert_eq!(change, Change::Added);
    assert_eq!(e.count("update", "secrets"), 2, "{}", e.counters());
    let registries: Vec<String> = rt
        .block_on(global::show(&c))
        .unwrap()
        .into_iter()
        .map(|entry| entry.registry)
        .collect();
    assert!(
        registries.contains(&"mirror.example.com:5000".to_string()),
        "the concurrent change must survive: {registries:?}"
    );
    assert!(registries.contains(&"registry.redhat.io".to_string()));
    assert_eq!(registries.len(), 4, "{registries:?}");
}

/// On a hosted control plane, a plan from HyperShift's secrets as already
/// read asks for none of them again (`rotate` reads them once).
#[test]
fn a_hosted_plan_from_what_was_read_reads_no_secret_again() {
    let e = Emulator::start(Options::hosted());
    rt().block_on(async {
        let c = connect(&e).await;
        assert!(c.hosted().await);
        let read = rhpull_cluster::hosted::secrets(&c).await.unwrap();
        e.reset_counters();
        let edit = global::GlobalEdit::Set(vec![Credential::new("quay.io", "bot", "token")]);
        let plan = global::plan_read(&c, edit.clone(), true, Some(read))
            .await
            .unwrap();
        assert_eq!(
            e.count("get", "secrets") + e.count("list", "secrets"),
            0,
            "{}",
            e.counters()
        );
        assert!(!plan.changes.is_empty());
        e.reset_counters();
        global::plan_read(&c, edit, true, None).await.unwrap();
        assert!(
            e.count("get", "secrets") > 0,
            "without it, they are read: {}",
            e.counters()
        );
    });
}

/// Kyverno's policies in every API it has, as the cluster's CRDs (upstream,
/// unchanged) validate them; applied twice, the second writes nothing;
/// changed, a conditional update.
#[test]
fn kyverno_keepers_are_valid_in_every_api_and_applied_once() {
    use rhpull_cluster::keepers::{Keeping, apply, kyverno};
    let e = Emulator::start(Options {
        kyverno: Some(rhpull_testkit::kube::Kyverno::V1_17),
        ..Options::default()
    });
    rt().block_on(async {
        let c = connect(&e).await;
        let mut k = Keeping {
            name: "rhpull-pull".into(),
            source_namespace: "default".into(),
            source_name: "pull".into(),
            service_accounts: vec!["default".into()],
            exclude: Keeping::exclusions("default", &["sandbox-*".into()]).unwrap(),
        };
        for api in [
            kyverno::Api::ClusterPolicy,
            kyverno::Api::Cel("v1"),
            kyverno::Api::Cel("v1beta1"),
            kyverno::Api::Cel("v1alpha1"),
        ] {
            k.name = format!(
                "rhpull-{}",
                format!("{api:?}")
                    .to_lowercase()
                    .replace(['(', ')', '"'], "")
            );
            let plans = apply::plan(&c, kyverno::documents(&k, api)).await.unwrap();
            for p in &plans {
                assert_eq!(p.outcome, Outcome::Created, "{}", p.name());
                apply::write(&c, p, DryRun::None)
                    .await
                    .unwrap_or_else(|err| panic!("{api:?} {}: {err}", p.name()));
            }
            let before = e.writes();
            let again = apply::plan(&c, kyverno::documents(&k, api)).await.unwrap();
            assert!(
                again.iter().all(|p| p.outcome == Outcome::Unchanged),
                "{api:?}"
            );
            for p in &again {
                apply::write(&c, p, DryRun::None).await.unwrap();
            }
            assert_eq!(e.writes(), before, "{api:?}: applied twice, written once");
        }
        k.name = "rhpull-clusterpolicy".into();
        k.service_accounts.push("builder".into());
        let changed = apply::plan(&c, kyverno::documents(&k, kyverno::Api::ClusterPolicy))
            .await
            .unwrap();
        assert_eq!(changed[3].outcome, Outcome::Updated);
        apply::write(&c, &changed[3], DryRun::None).await.unwrap();
    });
    let read = kubectl_json(&e, &["get", "clusterpolicies"]);
    assert_eq!(read["items"].as_array().map(Vec::len), Some(1));
}
