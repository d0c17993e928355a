//! `export acm-policy` against a hub: the emulator serves Open Cluster
//! Management's CRDs (copied from upstream) and checks objects against
//! their `openAPIV3Schema` as an API server does. The generated Policy,
//! Placement and PlacementBinding — and the ConfigurationPolicy inside —
//! validate against those schemas, apply with real kubectl (oldest and
//! newest too), carry no secret data, and the hub Secret they read is
//! written with create's conditional rules. `--global` is refused.

use std::path::Path;

use rhpull_e2e::env::{Env, decoded_config, ok, registry};
use rhpull_e2e::{kubectls, stderr, stdout};
use rhpull_testkit::kube::{Options, crds, schema};
use rhpull_testkit::world;
use serde_json::Value;

const NS: &str = "rhpull-policies";

/// Every choice `export acm-policy` offers, with a hub Secret.
const FULL: &[&str] = &[
    "--hub-secret",
    "rh-pull",
    "--cluster-selector",
    "env=prod,region in (eu,us)",
    "--namespaces",
    "team-a,team-b",
    "--link",
    "default",
    "--link",
    "builder",
    "-o",
    "json",
];

fn hub() -> Env {
    let env = Env::start(Options {
        hub: true,
        ..Options::openshift()
    });
    env.emulator.create_namespace(NS, &[]);
    env
}

/// Every document, and each ConfigurationPolicy inside a Policy, has no
/// problem and no unknown field against its upstream schema.
fn assert_valid(list: &Value) {
    let mut docs: Vec<Value> = list["items"].as_array().unwrap().clone();
    let inner: Vec<Value> = (docs.iter())
        .filter(|d| d["kind"] == "Policy")
        .flat_map(|d| d["spec"]["policy-templates"].as_array().unwrap().clone())
        .map(|t| t["objectDefinition"].clone())
        .collect();
    docs.extend(inner);
    assert_eq!(docs.len(), 4, "{list}");
    for mut d in docs {
        let kind = d["kind"].as_str().unwrap().to_string();
        let version = d["apiVersion"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let s = crds::schema(&kind, &version).unwrap_or_else(|| panic!("no schema for {kind}"));
        let problems = schema::check(s, &mut d);
        assert_eq!(problems, schema::Problems::default(), "{kind}: {d}");
    }
}

/// `export acm-policy -n NS --secret-name x ARGS`: no login, no hub write.
fn offline_export(env: &Env, args: &[&str]) -> std::process::Output {
    let mut all = vec!["export", "acm-policy", "-n", NS, "--secret-name", "x"];
    all.extend(args);
    env.rhpull(&all, None)
}

fn export(env: &Env, args: &[&str]) -> std::process::Output {
    let host = registry().registry.host();
    let mut all = vec![
        "export",
        "acm-policy",
        "-n",
        NS,
        "--registry",
        host.as_str(),
    ];
    all.extend(args);
    env.rhpull_as_world(&all)
}

#[test]
fn the_policy_validates_applies_and_reads_its_secret_on_the_hub() {
    let env = hub();
    let out = export(&env, FULL);
    let said = ok(&out);
    assert!(
        stderr(&out).contains("secret/rh-pull created in rhpull-policies"),
        "{}",
        stderr(&out)
    );
    let list: Value = serde_json::from_str(&said).expect("one JSON document on stdout");
    assert_valid(&list);
    // No secret data: not the token, not its base64, not the auth field.
    let hub_secret = env.kubectl_json(&["get", "secret", "rh-pull", "-n", NS]);
    let auths = &decoded_config(&hub_secret)["auths"];
    let auth = auths[registry().registry.host()]["auth"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = hub_secret["data"][".dockerconfigjson"].as_str().unwrap();
    for secret in [world::TOKEN, auth.as_str(), raw] {
        assert!(!said.contains(secret), "secret data in the manifests");
    }
    assert!(said.contains("{{hub fromSecret \\\"rhpull-policies\\\" \\\"rh-pull\\\" \\\".dockerconfigjson\\\" hub}}"), "{said}");

    let file = env.home.path().join("policy.json");
    std::fs::write(&file, &said).unwrap();
    for bin in kubectls() {
        let applied = env.kubectl_at(&bin, &["apply", "-f", file.to_str().unwrap()]);
        assert!(
            applied.status.success(),
            "{}: {}",
            bin.display(),
            stderr(&applied)
        );
    }
    let read = env.kubectl_json(&["get", "policy,placement,placementbinding", "-n", NS]);
    let kinds: Vec<&str> = read["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{read}");
    let policy = env.kubectl_json(&[
        "get",
        "policy",
        "-n",
        NS,
        list["items"][0]["metadata"]["name"].as_str().unwrap(),
    ]);
    let templates =
        &policy["spec"]["policy-templates"][0]["objectDefinition"]["spec"]["object-templates"];
    assert_eq!(templates[1]["complianceType"], "musthave");

    // The ConfigurationPolicy as a managed cluster gets it applies too.
    let mut inner = list["items"][0]["spec"]["policy-templates"][0]["objectDefinition"].clone();
    inner["metadata"]["namespace"] = Value::String(NS.into());
    let inner_file = env.home.path().join("config-policy.json");
    std::fs::write(&inner_file, inner.to_string()).unwrap();
    ok(&env.kubectl_at(
        Path::new("kubectl"),
        &["apply", "-f", inner_file.to_str().unwrap()],
    ));

    // Run again: the hub Secret is unchanged; the documents are the same.
    let again = export(&env, FULL);
    assert_eq!(ok(&again), said);
    assert!(stderr(&again).contains("unchanged"), "{}", stderr(&again));
}

#[test]
fn the_hub_refuses_what_the_schema_does_not_allow() {
    let env = hub();
    let out = offline_export(
        &env,
        &["--namespace-selector", "team in (a,b),!legacy", "--inform"],
    );
    let yaml = ok(&out);
    let list: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_valid(&list);
    assert_eq!(list["items"][0]["spec"]["remediationAction"], "inform");
    let selector = &list["items"][0]["spec"]["policy-templates"][0]["objectDefinition"]["spec"]["namespaceSelector"];
    assert_eq!(selector["matchExpressions"][0]["operator"], "In");
    // The same Policy with a value its schema refuses is refused, in the
    // API server's words; an unknown field is refused under strict
    // validation (kubectl's default).
    let mut bad = list["items"][0].clone();
    bad["spec"]["remediationAction"] = Value::String("audit".into());
    let file = env.home.path().join("bad.json");
    std::fs::write(&file, bad.to_string()).unwrap();
    let refused = env.kubectl_at(
        Path::new("kubectl"),
        &["apply", "-f", file.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("Unsupported value: \"audit\""),
        "{}",
        stderr(&refused)
    );
    let mut unknown = list["items"][2].clone();
    unknown["subjects"][0]["namee"] = Value::String("x".into());
    std::fs::write(&file, unknown.to_string()).unwrap();
    let refused = env.kubectl_at(
        Path::new("kubectl"),
        &["apply", "-f", file.to_str().unwrap()],
    );
    assert!(
        stderr(&refused).contains("unknown field \"subjects[0].namee\""),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_hub_secret_someone_else_made_is_not_replaced_and_global_is_refused() {
    let env = hub();
    env.emulator.put(
        "Secret",
        NS,
        serde_json::json!({"metadata": {"name": "theirs"}, "type": "Opaque", "data": {"k": "dg=="}}),
    );
    let out = export(&env, &["--hub-secret", "theirs", "--namespaces", "a"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--overwrite"), "{}", stderr(&out));
    assert_eq!(
        env.emulator.get("Secret", NS, "theirs").unwrap()["type"],
        "Opaque"
    );

    let writes = env.emulator.writes();
    let refused = offline_export(&env, &["--global"]);
    assert_eq!(refused.status.code(), Some(2));
    let said = stderr(&refused);
    assert!(
        said.contains("--global cannot be done safely with a policy"),
        "{said}"
    );
    assert!(said.contains("one JSON string"), "{said}");
    assert!(
        said.contains("kubectl rhpull global set REGISTRY --all-contexts --wait"),
        "{said}"
    );
    assert!(stdout(&refused).is_empty());
    assert_eq!(env.emulator.writes(), writes);
}

#[test]
fn without_a_hub_secret_nothing_is_asked_of_a_cluster() {
    let env = hub();
    let nowhere = vec![
        (
            "KUBECONFIG".to_string(),
            "/nonexistent/kubeconfig".to_string(),
        ),
        ("LANG".to_string(), "C".to_string()),
    ];
    let out = env.rhpull_with(
        &nowhere,
        &[
            "export",
            "acm-policy",
            "-n",
            NS,
            "--secret-name",
            "x",
            "--namespaces",
            "a",
            "-o",
            "name",
        ],
        None,
    );
    assert_eq!(
        ok(&out).lines().collect::<Vec<_>>(),
        ["policy/x", "placement/x", "placementbinding/x"]
    );
    assert_eq!(env.emulator.total(), 0);
}
