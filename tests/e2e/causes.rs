//! Every cause named right, from the API server's own answer rather than
//! guessed at the call site: a missing namespace is a namespace in every
//! command that takes one; a wait cut short is never "not OpenShift";
//! empty standard input, a typo, a missing file and a refused login on a
//! registry that is not Red Hat's each get their own words and fix. And
//! machine output carries reasons, never words: the same bytes in every
//! language, for whole clusters and single namespaces alike.

use std::time::{Duration, Instant};

use rhpull_e2e::env::{Env, ok, registry, says};
use rhpull_e2e::{PluginPath, stderr, stdout};
use rhpull_testkit::kube::kubeconfig::KubeconfigFile;
use rhpull_testkit::kube::mco::Machines;
use rhpull_testkit::kube::{Emulator, Fault, Options};
use rhpull_testkit::world;
use serde_json::Value;

const NS: &str = "doesnotexist";

/// Every command that takes `-n` or `--namespaces`, pointed at a namespace
/// that does not exist, says so — at once, exit 1, naming the namespace.
#[test]
fn a_missing_namespace_is_named_as_a_namespace_by_every_command() {
    let env = Env::new(true);
    env.skopeo_login();
    let host = registry().registry.host();
    let ca = env.ca();
    let secret = "7654321-rhpull-world-pull-secret";
    ok(&env.rhpull(
        &[
            "create",
            "-n",
            "project-a",
            "--from-podman",
            "--registry",
            &host,
        ],
        None,
    ));
    let cases: Vec<Vec<&str>> = vec![
        vec!["create", "--from-podman", "--registry", &host, "-n", NS],
        vec![
            "create",
            "--from-podman",
            "--registry",
            &host,
            "-n",
            NS,
            "--link",
            "default",
        ],
        vec!["link", "default", secret, "-n", NS],
        vec!["link", "default", "-n", NS],
        vec!["unlink", "default", secret, "-n", NS],
        vec!["grant", "project-a", NS],
        vec!["status", "-n", NS],
        vec!["check", "--secret", secret, "-n", NS, "--registry-ca", &ca],
        vec!["check", "--pod", "web", "-n", NS, "--registry-ca", &ca],
        vec!["check", "--failing", "-n", NS, "--registry-ca", &ca],
        vec!["build-secret", "app", secret, "-n", NS],
        vec![
            "export",
            "acm-policy",
            "--from-podman",
            "--registry",
            &host,
            "--hub-secret",
            "rh",
            "--namespaces",
            "team-a",
            "-n",
            NS,
        ],
        vec![
            "delegated",
            "--from-podman",
            "--registry",
            &host,
            "--registry-ca",
            &ca,
            "-n",
            NS,
        ],
    ];
    for args in cases {
        let started = Instant::now();
        let out = env.rhpull(&args, None);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} waited"
        );
        says(&stderr(&out), &[&format!("namespace {NS} not found")]);
        assert!(!stderr(&out).contains("secret doesnotexist"), "{args:?}");
    }
    // rotate reads stdin for the new token.
    let out = env.rhpull(
        &[
            "rotate",
            "-u",
            world::USERNAME,
            "--password-stdin",
            "-n",
            NS,
            "--yes",
        ],
        Some("new-token\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    says(&stderr(&out), &[&format!("namespace {NS} not found")]);

    // In a fleet the missing one is named, the others done; scripts read
    // the reason and the resource.
    let out = env.rhpull(
        &[
            "create",
            "--from-podman",
            "--registry",
            &host,
            "--namespaces",
            &format!("project-b,{NS}"),
            "--link",
            "default",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing = doc
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["namespace"] == NS)
        .unwrap();
    assert_eq!(missing["reason"], "NotFound", "{doc}");
    assert_eq!(missing["error"]["resource"], "namespaces", "{doc}");
    assert_eq!(missing["error"]["name"], NS, "{doc}");
    let done = (doc.as_array().unwrap().iter())
        .find(|r| r["namespace"] == "project-b")
        .unwrap();
    assert!(done.get("reason").is_none(), "{doc}");
}

/// `global remove … --wait` with a wait too short to read anything: the
/// write is done, the wait says it ended, and never that the cluster has
/// no MachineConfigPools. A wait that ends before the operator rendered
/// the change says so, never "3/3 updated".
#[test]
fn a_wait_cut_short_is_never_read_as_not_openshift() {
    let env = Env::start(Options {
        // The operator takes its time to render: the wait ends first.
        controller_delay: Duration::from_secs(3),
        machines: Machines {
            masters: 1,
            workers: 3,
            delay: Duration::from_millis(50),
        },
        ..Options::openshift()
    });
    for wait in ["--wait=1ms", "--wait=700ms"] {
        let registry = if wait == "--wait=1ms" {
            "cloud.openshift.com"
        } else {
            "quay.io"
        };
        let out = env.rhpull(&["global", "remove", registry, "--yes", wait], None);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(
            !said.contains("has no MachineConfigPools"),
            "{wait}: {said}"
        );
        assert!(!said.contains("OpenShift 4 only"), "{wait}: {said}");
        assert!(!said.contains("3/3 nodes updated"), "{wait}: {said}");
        assert!(
            said.contains("the wait ended before") || said.contains("had rendered the change"),
            "{wait}: {said}"
        );
        says(&said, &[&format!("{registry} removed")]);
    }
}

/// Nothing on standard input is a missing value (exit 2) whose fix names
/// the command that was run; a typo gets the closest command or flag; a
/// file that is not there is said to be missing.
#[test]
fn usage_mistakes_are_named_with_the_command_they_were_made_in() {
    let env = Env::new(false);
    let out = env.rhpull(
        &["login", "quay.io", "-u", "foo", "--password-stdin"],
        Some(""),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    says(
        &stderr(&out),
        &["standard input held nothing", "kubectl rhpull login"],
    );
    assert!(!stderr(&out).contains("rhpull check"), "{}", stderr(&out));

    let out = env.rhpull(&["crate"], None);
    assert_eq!(out.status.code(), Some(2));
    says(
        &stderr(&out),
        &["did you mean create?", "kubectl rhpull create --help"],
    );
    let out = env.rhpull(&["create", "--from-podmn"], None);
    assert_eq!(out.status.code(), Some(2));
    says(
        &stderr(&out),
        &[
            "did you mean --from-podman?",
            "kubectl rhpull create --help",
        ],
    );
    assert!(!stderr(&out).contains("COMMAND"), "{}", stderr(&out));

    let out = env.rhpull(&["create", "--from-file", "/nonexistent/pull.json"], None);
    assert_eq!(out.status.code(), Some(1));
    says(&stderr(&out), &["/nonexistent/pull.json does not exist"]);
    assert!(!stderr(&out).contains("permissions"), "{}", stderr(&out));
}

/// A refused login on a registry that is not Red Hat's is not sent to Red
/// Hat's token page.
#[test]
fn fixes_fit_the_registry() {
    let env = Env::new(false);
    let host = registry().registry.host();
    let out = env.rhpull(
        &[
            "check",
            &host,
            "-u",
            world::USERNAME,
            "--password-stdin",
            "--registry-ca",
            &env.ca(),
        ],
        Some("not-the-token\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let said = stdout(&out);
    says(&said, &["was refused", &format!("whoever runs {host}")]);
    assert!(!said.contains("access.redhat.com"), "{said}");
}

/// `good` (OpenShift 4) and `dead` (nothing listens), in one kubeconfig.
struct GoodAndDead {
    _emulator: Emulator,
    kubeconfig: tempfile::TempDir,
    plugin: PluginPath,
}

impl GoodAndDead {
    fn start() -> Self {
        let emulator = Emulator::start(Options::openshift());
        let dir = tempfile::tempdir().unwrap();
        let file = emulator
            .kubeconfig_entries(KubeconfigFile::default(), "good", "good", None)
            .cluster("dead", "https://127.0.0.1:1", emulator.ca_pem())
            .context("dead", "dead", "nobody", "t", "default");
        file.write(&dir.path().join("kubeconfig")).unwrap();
        Self {
            _emulator: emulator,
            kubeconfig: dir,
            plugin: PluginPath::new(),
        }
    }

    fn rhpull(&self, lang: &str, args: &[&str]) -> std::process::Output {
        let kubeconfig = self.kubeconfig.path().join("kubeconfig");
        let kc = kubeconfig.display().to_string();
        self.plugin.rhpull(
            self.kubeconfig.path(),
            &[("KUBECONFIG", kc.as_str()), ("LANG", lang)],
            args,
        )
    }
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A failed context holds `{"error": {"reason": …}}` in its place, and the
/// document is byte for byte the same in English and Chinese.
#[test]
fn machine_output_is_the_same_in_every_language_when_a_cluster_fails() {
    let c = GoodAndDead::start();
    let commands: &[&[&str]] = &[
        &["status"],
        &["status", "-A"],
        &["global", "show"],
        &["check", "--failing", "-A"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.extend(["--contexts", "good,dead", "-o", "json"]);
        let en = c.rhpull("C", &args);
        let zh = c.rhpull("zh_CN.UTF-8", &args);
        assert_eq!(en.status.code(), Some(1), "{args:?}: {}", stderr(&en));
        assert_eq!(zh.status.code(), Some(1));
        assert_eq!(
            stdout(&en),
            stdout(&zh),
            "{args:?}: the document changed with the language"
        );
        assert!(!has_cjk(&stdout(&zh)), "{}", stdout(&zh));
        let doc: Value = serde_json::from_slice(&en.stdout).unwrap();
        assert_eq!(doc["dead"]["error"]["reason"], "ConnectionRefused", "{doc}");
        assert!(doc["good"].get("error").is_none(), "{doc}");
        // People still read words, in their language.
        assert!(has_cjk(&stderr(&zh)), "{}", stderr(&zh));
    }
}

/// One namespace refused by the API server (a 422, once): exit 1, and the
/// JSON result of that namespace has its reason beside its name and no
/// word of any language.
#[test]
fn a_refused_namespace_has_its_reason_in_json_whatever_the_language() {
    let env = Env::with_namespaces(6);
    env.emulator.add_fault(Fault {
        verb: Some("create".into()),
        resource: Some("secrets".into()),
        status: Some(422),
        ..Fault::default()
    });
    let args = [
        "create",
        "-u",
        "1234567|fleet",
        "--password-stdin",
        "--registry",
        "quay.io",
        "-A",
        "--concurrency",
        "1",
        "-o",
        "json",
    ];
    let out = env.rhpull_lang("zh_CN.UTF-8", &args, Some("tok\n"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!has_cjk(&text), "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let failed: Vec<&Value> = (doc.as_array().unwrap().iter())
        .filter(|r| r.get("reason").is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{doc}");
    assert_eq!(failed[0]["reason"], "Invalid");
    assert_eq!(failed[0]["error"]["reason"], "Invalid");
    assert!(failed[0]["namespace"].is_string());
}
