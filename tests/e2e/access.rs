//! Every command that writes asks the API server first: run with a token
//! that may read everything and write nothing, each one ends with exit 1,
//! the verb, resource and namespace it lacks, and not one create, update,
//! patch or delete sent (access reviews aside).

use rhpull_e2e::env::{Env, ok};
use rhpull_e2e::stderr;
use rhpull_testkit::kube::Rule;
use rhpull_testkit::world;

const SECRET: &str = "7654321-rhpull-world-pull-secret";

/// An OpenShift cluster where the admin already made a pull secret in
/// project-a, linked it to `default`, granted project-a's pods pulls from
/// project-b, and has a BuildConfig.
fn cluster_with_history() -> Env {
    let env = Env::new(true);
    ok(&env.rhpull_as_world(&["create", "-n", "project-a", "--link", "default"]));
    ok(&env.rhpull(&["grant", "project-a", "project-b"], None));
    env.emulator.put(
        "BuildConfig",
        "project-a",
        serde_json::json!({"metadata": {"name": "app"}, "spec": {
            "strategy": {"type": "Docker", "dockerStrategy": {}}}}),
    );
    env
}

/// `(command line, what stderr names)`; `{secret}` is the pull secret.
const CASES: &[(&str, &str)] = &[
    (
        "create -n project-b -u {user} --password-stdin",
        "you may not create secrets (API group \"\") in namespace project-b",
    ),
    (
        "create -n project-b -u {user} --password-stdin --dry-run=server",
        "you may not create secrets (API group \"\") in namespace project-b",
    ),
    (
        "create -A -u {user} --password-stdin",
        "you may not create secrets (API group \"\") in every namespace",
    ),
    (
        "create --for-imagestreams -u {user} --password-stdin --yes",
        "you may not update secrets (API group \"\") in namespace openshift-config",
    ),
    (
        "link deployer {secret} -n project-a",
        "you may not patch serviceaccounts (API group \"\") in namespace project-a",
    ),
    (
        "link deployer {secret} -A",
        "you may not patch serviceaccounts (API group \"\") in every namespace",
    ),
    (
        "unlink default {secret} -n project-a",
        "you may not patch serviceaccounts (API group \"\") in namespace project-a",
    ),
    (
        "unlink default {secret} -A",
        "you may not patch serviceaccounts (API group \"\") in every namespace",
    ),
    (
        "grant project-a project-b --sa builder",
        "you may not update rolebindings (API group rbac.authorization.k8s.io) in namespace project-b",
    ),
    (
        "grant project-a openshift",
        "you may not create rolebindings (API group rbac.authorization.k8s.io) in namespace openshift",
    ),
    (
        "revoke project-a project-b",
        "you may not delete rolebindings (API group rbac.authorization.k8s.io) in namespace project-b",
    ),
    (
        "delegated --registry registry.redhat.io --auth-server sso.redhat.com -u {user} --password-stdin -n project-b",
        "you may not create secrets (API group \"\") in namespace project-b",
    ),
    (
        "global set quay.io -u bob --password-stdin --yes",
        "you may not update secrets (API group \"\") in namespace openshift-config",
    ),
    (
        "global remove quay.io --yes",
        "you may not update secrets (API group \"\") in namespace openshift-config",
    ),
    (
        "rotate -A -u {user} --password-stdin --yes --no-verify",
        "you may not update secrets (API group \"\") in namespace project-a",
    ),
    (
        "build-secret app -n project-a",
        "you may not patch buildconfigs (API group build.openshift.io) in namespace project-a",
    ),
];

#[test]
fn every_write_without_the_right_is_named_and_nothing_is_written() {
    let env = cluster_with_history();
    let reader = env.emulator.add_user(
        "reader-token",
        "reader",
        vec![Rule::new(&["get", "list", "watch"], &["*"], &["*"], None)],
    );
    let mut envs = env.envs("C");
    envs[0].1 = reader.display().to_string();
    for (line, named) in CASES {
        let line = line
            .replace("{user}", world::USERNAME)
            .replace("{secret}", SECRET);
        let args: Vec<&str> = line.split_whitespace().collect();
        env.emulator.reset_counters();
        let out = env.rhpull_with(&envs, &args, Some("a-new-token\n"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{line}: {err}");
        assert!(err.contains(named), "{line}: {err}");
        assert!(err.contains("nothing is half-done"), "{line}: {err}");
        assert_eq!(
            env.emulator.writes(),
            0,
            "{line} wrote: {}",
            env.emulator.counters()
        );
    }
}
