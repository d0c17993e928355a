//! Keepers: `export kyverno-policy` hands the keeping of a pull secret to
//! the cluster's Kyverno. The policies are valid against Kyverno's own
//! CRDs (upstream, unchanged) as real kubectl sends them (strict field
//! validation); they are written once, in the newest API the cluster
//! serves; bad input is named and writes nothing.

use base64::Engine as _;
use rhpull_e2e::env::{Env, failed, ok, says};
use rhpull_e2e::stderr;
use rhpull_testkit::kube::{Kyverno, Options, crds, schema};
use serde_json::json;

fn kyverno(release: Kyverno) -> Env {
    let env = Env::start(Options {
        kyverno: Some(release),
        ..Options::default()
    });
    env.emulator.create_namespace("rhpull", &[]);
    env.emulator.put(
        "Secret",
        "rhpull",
        json!({"metadata": {"name": "rh-pull"}, "type": "kubernetes.io/dockerconfigjson",
               "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}),
    );
    env
}

/// `rhpull/rh-pull`, made by `rhpull create` from the world's login; the
/// registry's host.
fn world_source(env: &Env) -> String {
    env.emulator.create_namespace("rhpull", &[]);
    let host = rhpull_e2e::env::registry().registry.host();
    ok(&env.rhpull_as_world(&["create", "rh-pull", "-n", "rhpull", "--registry", &host]));
    host
}

/// `kubectl rhpull export KEEPER --from-secret rhpull/rh-pull MORE…`.
fn export(env: &Env, keeper: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["export", keeper, "--from-secret", "rhpull/rh-pull"];
    args.extend(more);
    env.rhpull(&args, None)
}

fn kinds(list: &serde_json::Value) -> Vec<String> {
    (list["items"].as_array().into_iter().flatten())
        .map(|i| {
            format!(
                "{} {}",
                i["apiVersion"].as_str().unwrap_or_default(),
                i["kind"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Printed for Git with no cluster asked; then created by real kubectl
/// (strict field validation) to a cluster whose Kyverno serves it.
#[test]
fn printed_policies_are_valid_against_kyvernos_crds_for_real_kubectl() {
    let env = kyverno(Kyverno::V1_17);
    for api in ["v1", "v1beta1", "v1alpha1", "cluster-policy"] {
        let before = env.emulator.total();
        let printed = ok(&export(
            &env,
            "kyverno-policy",
            &[
                "--service-accounts",
                "default,builder",
                "--exclude",
                "sandbox-*",
                "--api",
                api,
                "--dry-run=client",
                "-o",
                "json",
            ],
        ));
        assert_eq!(
            env.emulator.total(),
            before,
            "--dry-run=client asks no cluster"
        );
        let list: serde_json::Value = serde_json::from_str(&printed).expect("json");
        // Every field is one the CRD knows (nothing the server would prune).
        for d in list["items"].as_array().into_iter().flatten() {
            let kind = d["kind"].as_str().unwrap_or_default();
            let version = d["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default();
            if let Some(s) = crds::schema(kind, version) {
                let problems = schema::check(s, &mut d.clone());
                assert_eq!(
                    problems,
                    schema::Problems::default(),
                    "{kind} {version}: {d:#}"
                );
            }
        }
        let applied = env.kubectl(
            &["create", "-f", "-", "--dry-run=server", "-o", "name"],
            Some(&list),
        );
        says(
            &applied,
            &["clusterrole.rbac.authorization.k8s.io/kyverno:rhpull-rh-pull:background-controller"],
        );
    }
}

#[test]
fn applied_once_in_the_newest_api_served_and_not_again() {
    for (release, policy) in [
        (Kyverno::V1_17, "policies.kyverno.io/v1 GeneratingPolicy"),
        (
            Kyverno::V1_16,
            "policies.kyverno.io/v1beta1 GeneratingPolicy",
        ),
        (Kyverno::ClusterPolicyOnly, "kyverno.io/v1 ClusterPolicy"),
    ] {
        let env = kyverno(release);
        let printed = ok(&export(&env, "kyverno-policy", &["-o", "json"]));
        let doc: serde_json::Value = serde_json::from_str(&printed).expect("json");
        assert!(
            kinds(&doc).contains(&policy.to_string()),
            "{release:?}: {doc:#}"
        );
        let written = env.emulator.writes();
        let said = ok(&export(&env, "kyverno-policy", &[]));
        says(
            &said,
            &["unchanged", "Kyverno keeps the secret in every namespace"],
        );
        assert_eq!(
            env.emulator.writes(),
            written,
            "{release:?}: applied twice, written once"
        );
    }
}

/// From your login: the source Secret is made in `-n` first (on stderr),
/// the policies name it.
#[test]
fn from_a_login_the_source_secret_is_made_first() {
    let env = kyverno(Kyverno::ClusterPolicyOnly);
    let out = env.rhpull_as_world(&[
        "export",
        "kyverno-policy",
        "-n",
        "rhpull",
        "--registry",
        "quay.io",
        "--secret-name",
        "mine",
    ]);
    ok(&out);
    says(&stderr(&out), &["secret/mine created in rhpull"]);
    let policy = env.kubectl_json(&["get", "clusterpolicy", "rhpull-mine"]);
    assert_eq!(
        policy["spec"]["rules"][0]["generate"]["clone"],
        json!({"namespace": "rhpull", "name": "mine"})
    );
}

/// Each cause is named, with what to do, and nothing is written.
#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let env = kyverno(Kyverno::V1_17);
    env.emulator.put(
        "Secret",
        "rhpull",
        json!({"metadata": {"name": "opaque"}, "type": "Opaque", "data": {"a": "Yg=="}}),
    );
    let before = env.emulator.writes();
    let run = |args: &[&str]| {
        let mut all = vec!["export", "kyverno-policy"];
        all.extend(args);
        env.rhpull(&all, None)
    };
    failed(&run(&["--from-secret", "rhpull/nope"]));
    says(
        &stderr(&run(&["--from-secret", "rhpull/nope"])),
        &["rhpull/nope does not exist"],
    );
    says(
        &stderr(&run(&["--from-secret", "rhpull/opaque"])),
        &["of type Opaque, not a pull secret"],
    );
    let global = run(&["--from-secret", "rhpull/rh-pull", "--global"]);
    assert_eq!(global.status.code(), Some(2));
    says(
        &stderr(&global),
        &["--global needs no keeper", "kubectl rhpull global set"],
    );
    let all = run(&["--from-secret", "rhpull/rh-pull", "--exclude", "*"]);
    assert_eq!(all.status.code(), Some(2));
    says(&stderr(&all), &["matches every namespace"]);
    assert_eq!(env.emulator.writes(), before);

    // No Kyverno: how to install it; the manifests still print.
    let bare = Env::start(Options::default());
    bare.emulator.create_namespace("rhpull", &[]);
    let none = export(&bare, "kyverno-policy", &[]);
    failed(&none);
    says(
        &stderr(&none),
        &["serves no Kyverno policy API", "helm install kyverno"],
    );
    let printed = ok(&export(
        &bare,
        "kyverno-policy",
        &["--dry-run=client", "-o", "yaml"],
    ));
    says(
        &printed,
        &[
            "kind: GeneratingPolicy",
            "apiVersion: policies.kyverno.io/v1",
        ],
    );
}

fn secret_data(env: &Env, ns: &str, name: &str) -> Option<serde_json::Value> {
    let out = std::process::Command::new("kubectl")
        .args(["get", "secret", name, "-n", ns, "-o", "json"])
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .output()
        .expect("kubectl");
    out.status
        .success()
        .then(|| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .flatten()
        .map(|s| s["data"].clone())
}

/// The service account's pull secrets (none while it is not there).
fn linked(env: &Env, ns: &str, sa: &str) -> Vec<String> {
    let out = std::process::Command::new("kubectl")
        .args(["get", "sa", sa, "-n", ns, "-o", "json"])
        .env("KUBECONFIG", &env.emulator.kubeconfig)
        .output()
        .expect("kubectl");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .map(|sa| rhpull_e2e::env::pull_names(&sa))
        .unwrap_or_default()
}

/// The keeping, end to end in the world's Kyverno, in both APIs and on
/// OpenShift: the namespaces there get the copy and the link (entries
/// they had kept); one made later with real kubectl gets both; a rotated
/// source reaches every copy; the system namespaces are left alone.
#[test]
fn namespaces_made_later_get_the_secret_linked_and_a_rotation_reaches_every_copy() {
    for (release, openshift) in [
        (Kyverno::V1_17, false),
        (Kyverno::ClusterPolicyOnly, false),
        (Kyverno::V1_17, true),
    ] {
        let base = if openshift {
            Options::openshift()
        } else {
            Options::default()
        };
        let env = Env::start(Options {
            kyverno: Some(release),
            ..base
        });
        env.emulator.create_namespace("team-a", &[]);
        env.wait_for_service_account("team-a", "default");
        env.kubectl(
            &[
                "patch",
                "sa",
                "default",
                "-n",
                "team-a",
                "--type",
                "merge",
                "-p",
                r#"{"imagePullSecrets": [{"name": "theirs"}]}"#,
            ],
            None,
        );
        let host = world_source(&env);
        let first = secret_data(&env, "rhpull", "rh-pull").expect("source");
        let exported = export(&env, "kyverno-policy", &[]);
        ok(&exported);
        // On OpenShift: what the dockercfg entries mean for the rule and pods.
        assert_eq!(
            stderr(&exported).contains("a rule conditioned on an empty list would never fire"),
            openshift,
            "{}",
            stderr(&exported)
        );
        let case = format!("{release:?} openshift={openshift}");
        env.wait_until(&format!("{case}: team-a kept"), || {
            let names = linked(&env, "team-a", "default");
            (secret_data(&env, "team-a", "rh-pull") == Some(first.clone())
                && names.contains(&"theirs".to_string())
                && names.contains(&"rh-pull".to_string()))
            .then_some(())
        });
        // Made later, with real kubectl.
        env.kubectl(&["create", "namespace", "team-c"], None);
        env.wait_until(&format!("{case}: team-c kept"), || {
            (secret_data(&env, "team-c", "rh-pull").is_some()
                && linked(&env, "team-c", "default").contains(&"rh-pull".to_string()))
            .then_some(())
        });
        if openshift {
            env.wait_until(&format!("{case}: dockercfg kept beside"), || {
                let names = linked(&env, "team-c", "default");
                names
                    .iter()
                    .any(|n| n.starts_with("default-dockercfg-"))
                    .then_some(())
            });
            assert!(linked(&env, "team-c", "default").contains(&"rh-pull".to_string()));
        }
        // A new token in the source reaches every copy.
        let rotated = json!({"auths": {host.clone(): {"auth": "dXNlcjpuZXctdG9rZW4="}}});
        let data = base64::engine::general_purpose::STANDARD.encode(rotated.to_string());
        env.kubectl(
            &[
                "patch",
                "secret",
                "rh-pull",
                "-n",
                "rhpull",
                "--type",
                "merge",
                "-p",
                &json!({"data": {".dockerconfigjson": data}}).to_string(),
            ],
            None,
        );
        let second = secret_data(&env, "rhpull", "rh-pull").expect("source");
        assert_ne!(first, second, "{case}");
        for ns in ["team-a", "team-c"] {
            env.wait_until(&format!("{case}: {ns} in sync"), || {
                (secret_data(&env, ns, "rh-pull") == Some(second.clone())).then_some(())
            });
        }
        assert_eq!(secret_data(&env, "kube-system", "rh-pull"), None, "{case}");
    }
}

/// The External Secrets Operator's keeper: valid against ESO's CRDs as
/// real kubectl sends it, applied once, its target a dockerconfigjson
/// Secret templated from the source's key; it says ESO links no service
/// account, and how to; without ESO, how to install it.
#[test]
fn external_secrets_keepers_are_valid_applied_once_and_say_what_eso_does_not_do() {
    let env = Env::start(Options {
        external_secrets: true,
        ..Options::default()
    });
    env.emulator.create_namespace("rhpull", &[]);
    env.emulator.create_namespace("sandbox-1", &[]);
    env.emulator.put(
        "Secret",
        "rhpull",
        json!({"metadata": {"name": "rh-pull"}, "type": "kubernetes.io/dockerconfigjson",
               "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}),
    );
    let base = [
        "export",
        "external-secrets",
        "--from-secret",
        "rhpull/rh-pull",
        "--exclude",
        "sandbox-*",
    ];
    let mut print = base.to_vec();
    print.extend(["--dry-run=client", "-o", "json"]);
    let list: serde_json::Value =
        serde_json::from_str(&ok(&env.rhpull(&print, None))).expect("json");
    for d in list["items"].as_array().into_iter().flatten() {
        let kind = d["kind"].as_str().unwrap_or_default();
        if let Some(s) = crds::schema(kind, "v1").filter(|_| {
            d["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("external-secrets"))
        }) {
            assert_eq!(
                schema::check(s, &mut d.clone()),
                schema::Problems::default(),
                "{kind}: {d:#}"
            );
        }
    }
    let created = env.kubectl(
        &["create", "-f", "-", "--dry-run=server", "-o", "name"],
        Some(&list),
    );
    says(
        &created,
        &["clusterexternalsecret.external-secrets.io/rhpull-rh-pull"],
    );
    let ces = (list["items"].as_array().into_iter().flatten())
        .find(|d| d["kind"] == "ClusterExternalSecret")
        .expect("ClusterExternalSecret");
    let spec = &ces["spec"]["externalSecretSpec"];
    assert_eq!(
        spec["target"]["template"]["type"],
        "kubernetes.io/dockerconfigjson"
    );
    let key = spec["data"][0]["secretKey"].as_str().unwrap_or_default();
    let template = spec["target"]["template"]["data"][".dockerconfigjson"]
        .as_str()
        .unwrap_or_default();
    assert!(
        template.contains(&format!(".{key} ")),
        "the template reads the key the data fills: {template}"
    );
    // Offline only the names are known; online the prefixes resolve.
    let applied = env.rhpull(&base, None);
    ok(&applied);
    says(
        &stderr(&applied),
        &[
            "never links it to service accounts",
            "kubectl rhpull link default",
        ],
    );
    let read = env.kubectl_json(&["get", "clusterexternalsecrets"]);
    let excluded =
        read["items"][0]["spec"]["namespaceSelectors"][0]["matchExpressions"][0]["values"]
            .to_string();
    for ns in ["kube-system", "rhpull", "sandbox-1"] {
        assert!(excluded.contains(ns), "{ns} not excluded: {excluded}");
    }
    let written = env.emulator.writes();
    ok(&env.rhpull(&base, None));
    assert_eq!(
        env.emulator.writes(),
        written,
        "applied twice, written once"
    );
    // An opt-in label instead.
    let opt_in = export(
        &env,
        "external-secrets",
        &["--namespace-label", "pull=rh", "-o", "json"],
    );
    let doc: serde_json::Value = serde_json::from_str(&ok(&opt_in)).expect("json");
    assert!(
        doc.to_string().contains(r#""matchLabels":{"pull":"rh"}"#),
        "{doc:#}"
    );

    let bare = Env::start(Options::default());
    let none = export(&bare, "external-secrets", &[]);
    failed(&none);
    says(
        &stderr(&none),
        &[
            "does not serve external-secrets.io/v1",
            "helm install external-secrets",
        ],
    );
}

/// The rest of rhpull knows a keeper: `status` shows the copies in sync;
/// `rotate` rotates the source and leaves the copies to the keeper;
/// `unlink` names the keeper that would link it back.
#[test]
fn status_rotate_and_unlink_know_the_keeper() {
    let env = Env::start(Options {
        kyverno: Some(Kyverno::ClusterPolicyOnly),
        ..Options::default()
    });
    world_source(&env);
    env.emulator.create_namespace("team-a", &[]);
    env.wait_for_service_account("team-a", "default");
    ok(&export(&env, "kyverno-policy", &[]));
    env.wait_until("team-a kept", || {
        secret_data(&env, "team-a", "rh-pull").map(|_| ())
    });

    let status = env.rhpull_json(&["status", "-A", "-o", "json"]);
    let kept = &status["keepers"][0];
    assert_eq!(kept["keeper"], "clusterpolicy/rhpull-rh-pull", "{status:#}");
    assert!(
        kept["namespaces"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n["namespace"] == "team-a" && n["copy"] == "in_sync"),
        "{status:#}"
    );
    says(
        &ok(&env.rhpull(&["status", "-n", "team-a"], None)),
        &["clusterpolicy/rhpull-rh-pull", "rhpull/rh-pull", "in sync"],
    );

    // A new token: the source is rotated; the copy is the keeper's to follow.
    let out = env.rhpull(
        &[
            "rotate",
            "-u",
            rhpull_testkit::world::USERNAME,
            "--password-stdin",
            "--no-verify",
            "-A",
            "--yes",
        ],
        Some("a-new-token\n"),
    );
    ok(&out);
    says(
        &stderr(&out),
        &[
            "secret/rh-pull -n team-a is a copy kept by policy/rhpull-rh-pull",
            "the source clusterpolicy/rhpull-rh-pull keeps in every namespace it covers",
        ],
    );
    assert!(
        !stderr(&out).contains("  secret/rh-pull -n team-a  ("),
        "the copy is not in the plan: {}",
        stderr(&out)
    );
    let source = secret_data(&env, "rhpull", "rh-pull");
    env.wait_until("the keeper spreads the new token", || {
        (secret_data(&env, "team-a", "rh-pull") == source).then_some(())
    });

    let unlinked = env.rhpull(&["unlink", "default", "rh-pull", "-n", "team-a"], None);
    ok(&unlinked);
    says(
        &stderr(&unlinked),
        &[
            "clusterpolicy/rhpull-rh-pull links rh-pull to default",
            "kubectl delete clusterpolicy/rhpull-rh-pull",
        ],
    );
}

/// `check --failing` in a namespace with no login: it came after the
/// secrets rhpull made elsewhere and no keeper covers it; or a keeper
/// covers it and made nothing (here: its rights were never given).
#[test]
fn check_failing_names_the_missing_keeper() {
    let env = Env::pulling(Options {
        kyverno: Some(Kyverno::ClusterPolicyOnly),
        ..Options::default()
    });
    world_source(&env);
    let ca = env.ca();
    let failing_in = |ns: &str| {
        env.emulator.create_namespace(ns, &[]);
        env.wait_for_service_account(ns, "default");
        env.deploy_app(ns, &rhpull_e2e::env::registry().image());
        env.wait_backing_off(ns);
        env.rhpull(
            &["check", "--failing", "-n", ns, "--registry-ca", &ca],
            None,
        )
    };
    let late = failing_in("late");
    says(
        &rhpull_e2e::stdout(&late),
        &[
            "late came after the secrets rhpull made elsewhere (rhpull/rh-pull)",
            "kubectl rhpull export kyverno-policy --from-secret rhpull/rh-pull",
        ],
    );

    // The policy alone, without the ClusterRoles that let Kyverno act.
    let printed = ok(&export(
        &env,
        "kyverno-policy",
        &["--api", "cluster-policy", "--dry-run=client", "-o", "json"],
    ));
    let list: serde_json::Value = serde_json::from_str(&printed).expect("json");
    let policy = (list["items"].as_array().into_iter().flatten())
        .find(|d| d["kind"] == "ClusterPolicy")
        .expect("policy")
        .clone();
    env.kubectl(&["create", "-f", "-"], Some(&policy));
    let later = failing_in("later");
    says(
        &rhpull_e2e::stdout(&later),
        &["clusterpolicy/rhpull-rh-pull covers later but has made no rh-pull there"],
    );
}

/// `status -A` with a keeper costs the same requests for 10 namespaces as
/// for 60: one list of the keepers' kinds, one get of the source and one
/// list of its copies, whatever the fleet.
#[test]
fn status_with_a_keeper_asks_no_more_for_more_namespaces() {
    let requests = |n: usize| {
        let env = Env::start(Options {
            kyverno: Some(Kyverno::ClusterPolicyOnly),
            ..Options::default()
        });
        let names: Vec<String> = (0..n).map(|i| format!("team-{i:03}")).collect();
        env.emulator.seed_namespaces(&names);
        world_source(&env);
        ok(&export(&env, "kyverno-policy", &[]));
        env.wait_until("every namespace kept", || {
            secret_data(&env, &names[n - 1], "rh-pull").map(|_| ())
        });
        env.emulator.reset_counters();
        let status = env.rhpull_json(&["status", "-A", "-o", "json"]);
        let kept = (status["keepers"][0]["namespaces"]
            .as_array()
            .into_iter()
            .flatten())
        .filter(|k| {
            k["namespace"]
                .as_str()
                .is_some_and(|ns| ns.starts_with("team-"))
        })
        .count();
        assert_eq!(kept, n, "{status:#}");
        env.emulator.total()
    };
    assert_eq!(requests(10), requests(60));
}
