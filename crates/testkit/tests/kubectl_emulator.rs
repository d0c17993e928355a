//! Real kubectl against the emulator: every verb the tests rely on, with the
//! semantics of a real API server (conflicts, validation, the SMP pitfall,
//! forbidden, paging, watch), in Kubernetes and OpenShift mode.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use rhpull_testkit::kube::{Emulator, Fault, Options, Rule};
use serde_json::{Value, json};

fn kubectl_at(bin: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("HTTPS_PROXY")
        .output()
        .expect("run kubectl")
}

fn kubectl(e: &Emulator, args: &[&str]) -> Output {
    kubectl_at(Path::new("/usr/bin/kubectl"), &e.kubeconfig, args)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "kubectl should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(e: &Emulator, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    serde_json::from_str(&ok(&kubectl(e, &a))).unwrap()
}

fn wait_until(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, Duration::from_secs(5), f);
}

/// Polls `f` every 50 ms until it holds, at most `limit`.
fn wait_within(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn every_kubectl_build_reads_and_writes_through_the_emulator() {
    let e = Emulator::start(Options::default());
    let mut kubectls = vec![std::path::PathBuf::from("/usr/bin/kubectl")];
    for v in ["kubectl.1.27", "kubectl.1.33"] {
        let p = Path::new("/usr/lib/google-cloud-sdk/bin").join(v);
        if p.is_file() {
            kubectls.push(p);
        }
    }
    for (i, bin) in kubectls.iter().enumerate() {
        let name = format!("pull-{i}");
        ok(&kubectl_at(
            bin,
            &e.kubeconfig,
            &[
                "create",
                "secret",
                "docker-registry",
                &name,
                "--docker-server=registry.redhat.io",
                "--docker-username=1234567|sa",
                "--docker-password=tok",
            ],
        ));
        let ty = ok(&kubectl_at(
            bin,
            &e.kubeconfig,
            &["get", "secret", &name, "-o", "jsonpath={.type}"],
        ));
        assert_eq!(ty, "kubernetes.io/dockerconfigjson", "{}", bin.display());
        let names = ok(&kubectl_at(
            bin,
            &e.kubeconfig,
            &["get", "ns", "-o", "name"],
        ));
        assert!(names.contains("namespace/kube-system"), "{names}");
        ok(&kubectl_at(
            bin,
            &e.kubeconfig,
            &["delete", "secret", &name],
        ));
    }
    // Every build agreed on HTTP/2 over ALPN, as with a real API server.
    let (http2, http1) = e.connections();
    assert!(http2 >= kubectls.len() as u64, "{http2} HTTP/2 connections");
    assert_eq!(http1, 0, "HTTP/1.1 connections");
}

#[test]
fn create_get_patch_delete_and_the_image_pull_secrets_pitfall() {
    let e = Emulator::start(Options::default());
    ok(&kubectl(&e, &["create", "sa", "bot"]));
    ok(&kubectl(
        &e,
        &[
            "create",
            "secret",
            "docker-registry",
            "one",
            "--docker-server=r.io",
            "--docker-username=u",
            "--docker-password=p",
        ],
    ));
    ok(&kubectl(
        &e,
        &[
            "patch",
            "sa",
            "bot",
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/imagePullSecrets","value":[{"name":"one"}]}]"#,
        ],
    ));
    // Strategic merge on imagePullSecrets replaces the list: "one" is lost.
    ok(&kubectl(
        &e,
        &[
            "patch",
            "sa",
            "bot",
            "-p",
            r#"{"imagePullSecrets":[{"name":"two"}],"secrets":[{"name":"s1"}]}"#,
        ],
    ));
    ok(&kubectl(
        &e,
        &["patch", "sa", "bot", "-p", r#"{"secrets":[{"name":"s2"}]}"#],
    ));
    let sa = json_of(&e, &["get", "sa", "bot"]);
    assert_eq!(sa["imagePullSecrets"], json!([{"name": "two"}]));
    assert_eq!(sa["secrets"], json!([{"name": "s1"}, {"name": "s2"}]));
    ok(&kubectl(
        &e,
        &[
            "patch",
            "sa",
            "bot",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"team":"a"}}}"#,
        ],
    ));
    assert_eq!(
        ok(&kubectl(
            &e,
            &["get", "sa", "bot", "-o", "jsonpath={.metadata.labels.team}"]
        )),
        "a"
    );
    assert_eq!(
        ok(&kubectl(&e, &["get", "sa", "-l", "team=a", "-o", "name"])).trim(),
        "serviceaccount/bot"
    );
    ok(&kubectl(&e, &["delete", "sa", "bot"]));
    assert!(err(&kubectl(&e, &["get", "sa", "bot"])).contains("serviceaccounts \"bot\" not found"));
}

#[test]
fn validation_conflicts_and_already_exists_are_real_status_errors() {
    let e = Emulator::start(Options::default());
    assert!(
        err(&kubectl(
            &e,
            &[
                "create",
                "secret",
                "generic",
                "Bad_Name",
                "--from-literal=a=b"
            ]
        ))
        .contains("RFC 1123")
    );
    ok(&kubectl(
        &e,
        &["create", "secret", "generic", "dup", "--from-literal=a=b"],
    ));
    assert!(
        err(&kubectl(
            &e,
            &["create", "secret", "generic", "dup", "--from-literal=a=b"]
        ))
        .contains("already exists")
    );
    // A dockerconfigjson secret without .dockerconfigjson is invalid.
    let bad = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "type": "kubernetes.io/dockerconfigjson", "data": {"other": "eA=="}});
    let file = e.dir().join("bad.json");
    std::fs::write(&file, bad.to_string()).unwrap();
    assert!(
        err(&kubectl(&e, &["create", "-f", file.to_str().unwrap()]))
            .contains("data[.dockerconfigjson]: Required value")
    );
    // An unknown type is accepted, as the real server does.
    let odd = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "odd"}, "type": "kubernetes.io/podmanconfigjson", "data": {}});
    std::fs::write(&file, odd.to_string()).unwrap();
    ok(&kubectl(&e, &["create", "-f", file.to_str().unwrap()]));
    // A stale resourceVersion is a 409 Conflict.
    let mut s = json_of(&e, &["get", "secret", "dup"]);
    ok(&kubectl(&e, &["label", "secret", "dup", "x=y"]));
    s["metadata"]["labels"] = json!({"z": "w"});
    std::fs::write(&file, s.to_string()).unwrap();
    assert!(
        err(&kubectl(&e, &["replace", "-f", file.to_str().unwrap()]))
            .contains("the object has been modified")
    );
}

#[test]
fn forbidden_users_and_auth_can_i() {
    let e = Emulator::start(Options::default());
    let reader = e.add_user(
        "reader-token",
        "reader",
        vec![Rule::new(&["get", "list", "watch"], &["*"], &["*"], None)],
    );
    assert_eq!(
        ok(&kubectl(&e, &["auth", "can-i", "create", "secrets"])).trim(),
        "yes"
    );
    let out = kubectl_at(
        Path::new("/usr/bin/kubectl"),
        &reader,
        &["auth", "can-i", "create", "secrets"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no");
    let out = kubectl_at(
        Path::new("/usr/bin/kubectl"),
        &reader,
        &["create", "secret", "generic", "x", "--from-literal=a=b"],
    );
    assert!(err(&out).contains("User \"reader\" cannot create resource \"secrets\" in API group \"\" in the namespace \"default\""));
    ok(&kubectl_at(
        Path::new("/usr/bin/kubectl"),
        &reader,
        &["get", "secrets"],
    ));
}

#[test]
fn paging_and_watch() {
    let e = Emulator::start(Options::default());
    for i in 0..7 {
        ok(&kubectl(
            &e,
            &[
                "create",
                "secret",
                "generic",
                &format!("s{i}"),
                "--from-literal=a=b",
            ],
        ));
    }
    // kubectl pages with limit/continue when asked to.
    let names = ok(&kubectl(
        &e,
        &["get", "secrets", "--chunk-size=2", "-o", "name"],
    ));
    assert_eq!(names.lines().count(), 7, "{names}");
    assert!(e.count("list", "secrets") >= 4, "{}", e.counters());

    let mut child = Command::new("kubectl")
        .args(["get", "secrets", "-w", "-o", "name", "--request-timeout=5s"])
        .env("KUBECONFIG", &e.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    ok(&kubectl(
        &e,
        &["create", "secret", "generic", "late", "--from-literal=a=b"],
    ));
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.contains("secret/late"), "{seen}");
}

#[test]
fn openshift_mode_provisions_and_restores_dockercfg_secrets() {
    let e = Emulator::start(Options::openshift());
    let groups = ok(&kubectl(&e, &["api-versions"]));
    for g in [
        "image.openshift.io/v1",
        "project.openshift.io/v1",
        "config.openshift.io/v1",
        "build.openshift.io/v1",
    ] {
        assert!(groups.contains(g), "{g} missing: {groups}");
    }
    assert!(e.get("ClusterRole", "", "system:image-puller").is_some());
    assert!(e.get("Secret", "openshift-config", "pull-secret").is_some());
    ok(&kubectl(&e, &["create", "ns", "team-a"]));
    let dockercfg_of = |sa: &Value| -> Option<String> {
        sa["imagePullSecrets"]
            .as_array()?
            .iter()
            .filter_map(|i| i["name"].as_str())
            .find(|n| n.contains("-dockercfg-"))
            .map(str::to_string)
    };
    let mut provisioned = String::new();
    wait_until("builder's dockercfg", || {
        e.get("ServiceAccount", "team-a", "builder")
            .and_then(|sa| dockercfg_of(&sa))
            .map(|n| provisioned = n)
            .is_some()
    });
    assert!(
        provisioned.starts_with("builder-dockercfg-")
            && provisioned.len() == "builder-dockercfg-".len() + 5
    );
    let secret = e.get("Secret", "team-a", &provisioned).unwrap();
    assert_eq!(secret["type"], "kubernetes.io/dockercfg");
    // Removing it (the naive patch) makes the controller put it back.
    ok(&kubectl(
        &e,
        &[
            "patch",
            "sa",
            "builder",
            "-n",
            "team-a",
            "-p",
            r#"{"imagePullSecrets":[{"name":"mine"}]}"#,
        ],
    ));
    wait_until("the dockercfg to come back", || {
        e.get("ServiceAccount", "team-a", "builder")
            .is_some_and(|sa| dockercfg_of(&sa).as_deref() == Some(provisioned.as_str()))
    });
    let sa = e.get("ServiceAccount", "team-a", "builder").unwrap();
    assert_eq!(sa["imagePullSecrets"][0]["name"], "mine");
}

#[test]
fn pods_get_their_service_accounts_pull_secrets_at_creation_only() {
    let e = Emulator::start(Options::default());
    ok(&kubectl(
        &e,
        &[
            "create",
            "secret",
            "docker-registry",
            "p1",
            "--docker-server=r.io",
            "--docker-username=u",
            "--docker-password=p",
        ],
    ));
    ok(&kubectl(
        &e,
        &[
            "patch",
            "sa",
            "default",
            "-p",
            r#"{"imagePullSecrets":[{"name":"p1"}]}"#,
        ],
    ));
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "r.io/app:1"}]}});
    let file = e.dir().join("pod.json");
    std::fs::write(&file, pod.to_string()).unwrap();
    ok(&kubectl(&e, &["create", "-f", file.to_str().unwrap()]));
    let p = json_of(&e, &["get", "pod", "web"]);
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    assert_eq!(p["spec"]["imagePullSecrets"], json!([{"name": "p1"}]));
    let orphan = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "o"}, "spec": {"serviceAccountName": "nope", "containers": [{"name": "c", "image": "x"}]}});
    std::fs::write(&file, orphan.to_string()).unwrap();
    assert!(
        err(&kubectl(&e, &["create", "-f", file.to_str().unwrap()]))
            .contains("serviceaccount \"nope\" not found")
    );
}

/// A plain HTTP GET or POST on 127.0.0.1 with std only; returns the body.
fn http(url: &str, method: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap();
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn faults_and_counters() {
    let mut e = Emulator::start(Options::default());
    let admin = e.start_admin();
    e.reset_counters();
    // 429 with Retry-After: client-go waits and retries, so kubectl succeeds.
    e.add_fault(Fault {
        verb: Some("list".into()),
        resource: Some("secrets".into()),
        status: Some(429),
        retry_after: Some(1),
        ..Fault::default()
    });
    ok(&kubectl(&e, &["get", "secrets", "-o", "name"]));
    assert_eq!(e.count("list", "secrets"), 2, "{}", e.counters());
    // A 500 is reported.
    e.add_fault(Fault {
        verb: Some("get".into()),
        resource: Some("serviceaccounts".into()),
        status: Some(500),
        remaining: 5,
        ..Fault::default()
    });
    assert!(err(&kubectl(&e, &["get", "sa", "default"])).contains("injected fault"));
    e.clear_faults();
    ok(&kubectl(&e, &["get", "sa", "default"]));
    // The admin endpoint: counters, reset, faults over plain HTTP.
    let c: Value = serde_json::from_str(&http(&format!("{admin}/counters"), "GET", "")).unwrap();
    assert_eq!(c, e.counters());
    http(
        &format!("{admin}/faults"),
        "POST",
        r#"{"verb":"get","resource":"namespaces","status":503,"remaining":1}"#,
    );
    assert!(err(&kubectl(&e, &["get", "ns", "default"])).contains("injected fault"));
    http(&format!("{admin}/counters/reset"), "POST", "");
    assert_eq!(e.total(), 0);
}

/// Pods' status is the kubelet's, written through `/status`; kubelet events
/// are core/v1 Events that `kubectl get events --field-selector` and
/// `kubectl describe pod` read back, with every kubectl build.
#[test]
fn pod_status_through_its_subresource_and_kubelet_events() {
    let e = Emulator::start(Options::default());
    wait_until("the default service account", || {
        e.get("ServiceAccount", "default", "default").is_some()
    });
    ok(&kubectl(
        &e,
        &[
            "run",
            "web",
            "--image",
            "quay.io/acme/web:1",
            "--restart=Never",
        ],
    ));
    assert_eq!(
        json_of(&e, &["get", "pod", "web"])["status"]["phase"],
        "Pending"
    );
    let waiting = r#"{"status":{"phase":"Pending","containerStatuses":[{"name":"web","image":"quay.io/acme/web:1","imageID":"","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image"}}}]}}"#;
    ok(&kubectl(
        &e,
        &[
            "patch",
            "pod",
            "web",
            "--subresource=status",
            "--type=merge",
            "-p",
            waiting,
        ],
    ));
    let pod = json_of(&e, &["get", "pod", "web"]);
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ImagePullBackOff"
    );
    // An update of the pod itself keeps the kubelet's status.
    ok(&kubectl(&e, &["label", "pod", "web", "tier=front"]));
    let pod = json_of(&e, &["get", "pod", "web"]);
    assert_eq!(pod["metadata"]["labels"]["tier"], "front");
    assert!(pod["status"]["containerStatuses"].is_array(), "{pod}");
    // Selectable fields, as the real server allows them.
    let pending = json_of(
        &e,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "status.phase!=Succeeded,status.phase!=Failed",
        ],
    );
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    assert!(!err(&kubectl(&e, &["get", "pods", "--field-selector", "type=x"])).is_empty());

    let message = "Failed to pull image \"quay.io/acme/web:1\": unauthorized: access to the requested resource is not authorized";
    e.add_pod_event("default", "web", "Warning", "Failed", message);
    e.add_pod_event(
        "default",
        "web",
        "Normal",
        "Scheduled",
        "Successfully assigned default/web to node-1",
    );
    for bin in rhpull_testkit_kubectls() {
        let kc = &e.kubeconfig;
        let events: Value = serde_json::from_str(&ok(&kubectl_at(
            &bin,
            kc,
            &[
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=web,reason=Failed",
                "-o",
                "json",
            ],
        )))
        .unwrap();
        assert_eq!(
            events["items"].as_array().unwrap().len(),
            1,
            "{}",
            bin.display()
        );
        assert_eq!(events["items"][0]["message"], message);
        let described = ok(&kubectl_at(&bin, kc, &["describe", "pod", "web"]));
        assert!(
            described.contains(message),
            "{}: {described}",
            bin.display()
        );
    }
}

/// The kubectl builds users have, as the e2e tests run them.
fn rhpull_testkit_kubectls() -> Vec<std::path::PathBuf> {
    let mut out = vec![std::path::PathBuf::from("/usr/bin/kubectl")];
    for v in ["kubectl.1.27", "kubectl.1.33"] {
        let p = Path::new("/usr/lib/google-cloud-sdk/bin").join(v);
        if p.is_file() {
            out.push(p);
        }
    }
    out
}

fn pool(e: &Emulator, name: &str) -> Value {
    json_of(e, &["get", "mcp", name])
}

fn condition(pool: &Value, type_: &str) -> Value {
    pool["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

/// `kubectl patch mcp POOL --type=merge`: pause or unpause a pool.
fn set_paused(e: &Emulator, pool: &str, paused: bool) {
    let patch = format!(r#"{{"spec":{{"paused":{paused}}}}}"#);
    ok(&kubectl(
        e,
        &["patch", "mcp", pool, "--type=merge", "-p", &patch],
    ));
}

fn wait_slowly(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, Duration::from_secs(20), f);
}

/// OpenShift 4: a change of the global pull secret is rendered into a new
/// MachineConfig and rolled out node by node; `kubectl get mcp` and
/// `kubectl get nodes` show it as they show the real operator's work.
#[test]
fn the_global_pull_secret_rolls_out_pool_by_pool() {
    let mut e = Emulator::start(Options {
        machines: rhpull_testkit::kube::mco::Machines {
            masters: 1,
            workers: 2,
            delay: Duration::from_millis(300),
        },
        ..Options::openshift()
    });
    let before = pool(&e, "worker");
    let old = before["status"]["configuration"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(before["spec"]["configuration"]["name"], old);
    assert_eq!(condition(&before, "Updated")["status"], "True");
    assert_eq!(before["status"]["machineCount"], 2);
    let nodes = json_of(
        &e,
        &["get", "nodes", "-l", "node-role.kubernetes.io/worker"],
    );
    assert_eq!(nodes["items"].as_array().unwrap().len(), 2);
    let generation = before["metadata"]["generation"].as_u64().unwrap();

    // The rendered config carries the pull secret as a data URL.
    let mc = json_of(&e, &["get", "mc", &old]);
    let file = &mc["spec"]["config"]["storage"]["files"][0];
    assert_eq!(file["path"], "/var/lib/kubelet/config.json");
    assert_eq!(file["mode"], 0o600);
    assert!(
        file["contents"]["source"]
            .as_str()
            .unwrap()
            .starts_with("data:")
    );

    let pull = r#"{"auths":{"registry.example.com":{"auth":"dTpw"}}}"#;
    let secret = e.get("Secret", "openshift-config", "pull-secret").unwrap();
    let mut changed = secret.clone();
    changed["data"][".dockerconfigjson"] = json!(base64_of(pull));
    e.put("Secret", "openshift-config", changed);

    wait_slowly("a new rendered config", || {
        pool(&e, "worker")["spec"]["configuration"]["name"] != old.as_str()
    });
    let midway = pool(&e, "worker");
    assert!(midway["metadata"]["generation"].as_u64().unwrap() > generation);
    wait_slowly("the worker pool updated", || {
        let p = pool(&e, "worker");
        condition(&p, "Updated")["status"] == "True"
            && p["status"]["configuration"]["name"] == p["spec"]["configuration"]["name"]
    });
    let done = pool(&e, "worker");
    assert_eq!(done["status"]["updatedMachineCount"], 2);
    assert_eq!(
        done["status"]["observedGeneration"],
        done["metadata"]["generation"]
    );
    let target = done["spec"]["configuration"]["name"].as_str().unwrap();
    let node = json_of(&e, &["get", "node", "worker-1"]);
    assert_eq!(
        node["metadata"]["annotations"]["machineconfiguration.openshift.io/currentConfig"],
        target
    );

    // A degraded node stops its pool, in the operator's words (the fault
    // and the pace set through the admin endpoint, as people do).
    let admin = e.start_admin();
    http(
        &format!("{admin}/machineconfigpools/degrade"),
        "POST",
        r#"{"pool":"worker","message":"failed to write /var/lib/kubelet/config.json"}"#,
    );
    http(
        &format!("{admin}/machineconfigpools/delay"),
        "POST",
        r#"{"ms":100}"#,
    );
    let mut again = e.get("Secret", "openshift-config", "pull-secret").unwrap();
    again["data"][".dockerconfigjson"] = json!(base64_of(r#"{"auths":{}}"#));
    e.put("Secret", "openshift-config", again);
    wait_slowly("the worker pool degraded", || {
        condition(&pool(&e, "worker"), "Degraded")["status"] == "True"
    });
    let degraded = pool(&e, "worker");
    assert_eq!(
        condition(&degraded, "NodeDegraded")["message"],
        "Node worker-0 is reporting: \"failed to write /var/lib/kubelet/config.json\""
    );
    assert_eq!(degraded["status"]["degradedMachineCount"], 1);

    // Paused through kubectl: the operator says it will not update.
    set_paused(&e, "master", true);
    let mut third = e.get("Secret", "openshift-config", "pull-secret").unwrap();
    third["data"][".dockerconfigjson"] =
        json!(base64_of(r#"{"auths":{"x.example":{"auth":"eDp5"}}}"#));
    e.put("Secret", "openshift-config", third);
    wait_slowly("the paused master pool", || {
        condition(&pool(&e, "master"), "Updating")["message"]
            .as_str()
            .is_some_and(|m| {
                m.starts_with("Pool is paused; will not update to MachineConfig rendered-master-")
            })
    });
    set_paused(&e, "master", false);
    wait_slowly("the master pool updated once unpaused", || {
        condition(&pool(&e, "master"), "Updated")["status"] == "True"
    });
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// What a node pulls with, as every kubectl build reads and writes it:
/// the mirror sets, the image policy and the credential provider's
/// configuration; a node's cached images through its status subresource;
/// its kubelet's configz (admin yes, viewer no, merged per node through
/// the admin endpoint); a SubjectAccessReview about a service account
/// answered from the RoleBindings in the store.
#[test]
fn what_a_node_pulls_with_is_served_as_openshift_serves_it() {
    let mut e = Emulator::start(Options::openshift());
    let admin = e.start_admin();
    let kinds = [
        json!({"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet",
               "metadata": {"name": "idms"}, "spec": {"imageDigestMirrors": [
                   {"source": "registry.example.com/team", "mirrors": ["mirror.example.com/team"]}]}}),
        json!({"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet",
               "metadata": {"name": "itms"}, "spec": {"imageTagMirrors": [
                   {"source": "registry.example.com/team", "mirrors": ["mirror.example.com/team"],
                    "mirrorSourcePolicy": "NeverContactSource"}]}}),
        json!({"apiVersion": "operator.openshift.io/v1alpha1", "kind": "ImageContentSourcePolicy",
               "metadata": {"name": "icsp"}, "spec": {"repositoryDigestMirrors": [
                   {"source": "registry.example.com/old", "mirrors": ["mirror.example.com/old"]}]}}),
        json!({"apiVersion": "config.openshift.io/v1alpha1", "kind": "CRIOCredentialProviderConfig",
               "metadata": {"name": "cluster"}, "spec": {"matchImages": ["registry.example.com"]}}),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, k) in kinds.iter().enumerate() {
        let path = dir.path().join(format!("{i}.json"));
        std::fs::write(&path, k.to_string()).unwrap();
        ok(&kubectl(&e, &["apply", "-f", path.to_str().unwrap()]));
    }
    ok(&kubectl(
        &e,
        &[
            "patch",
            "image.config.openshift.io",
            "cluster",
            "--type=merge",
            "-p",
            r#"{"spec": {"registrySources": {"blockedRegistries": ["bad.example.com"]}}}"#,
        ],
    ));
    ok(&kubectl(
        &e,
        &[
            "patch",
            "node",
            "worker-0",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status": {"images": [{"names": ["registry.example.com/team/app:1"], "sizeBytes": 1}]}}"#,
        ],
    ));
    for bin in rhpull_testkit_kubectls() {
        let read = |args: &[&str]| -> Value {
            let mut a = args.to_vec();
            a.extend(["-o", "json"]);
            serde_json::from_str(&ok(&kubectl_at(&bin, &e.kubeconfig, &a))).unwrap()
        };
        let who = bin.display();
        assert_eq!(
            read(&["get", "imagedigestmirrorsets"])["items"][0]["spec"]["imageDigestMirrors"][0]["mirrors"]
                [0],
            "mirror.example.com/team",
            "{who}"
        );
        assert_eq!(
            read(&["get", "imagetagmirrorset", "itms"])["spec"]["imageTagMirrors"][0]["mirrorSourcePolicy"],
            "NeverContactSource",
            "{who}"
        );
        assert_eq!(
            read(&["get", "imagecontentsourcepolicies"])["items"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "{who}"
        );
        assert_eq!(
            read(&["get", "criocredentialproviderconfigs", "cluster"])["spec"]["matchImages"][0],
            "registry.example.com",
            "{who}"
        );
        assert_eq!(
            read(&["get", "images.config.openshift.io", "cluster"])["spec"]["registrySources"]["blockedRegistries"]
                [0],
            "bad.example.com",
            "{who}"
        );
        assert_eq!(
            read(&["get", "node", "worker-0"])["status"]["images"][0]["names"][0],
            "registry.example.com/team/app:1",
            "{who}"
        );
        let configz: Value = serde_json::from_str(&ok(&kubectl_at(
            &bin,
            &e.kubeconfig,
            &["get", "--raw", "/api/v1/nodes/worker-0/proxy/configz"],
        )))
        .unwrap();
        assert_eq!(
            configz["kubeletconfig"]["imagePullCredentialsVerificationPolicy"],
            "NeverVerifyPreloadedImages",
            "{who}"
        );
    }

    // The viewer reads everything but the node proxy.
    let viewer = dir.path().join("viewer");
    rhpull_testkit::kube::kubeconfig::KubeconfigFile::default()
        .cluster("c", &e.url(), e.ca_pem())
        .context(
            "viewer",
            "c",
            "viewer",
            rhpull_testkit::kube::VIEWER_TOKEN,
            "default",
        )
        .write(&viewer)
        .unwrap();
    let denied = err(&kubectl_at(
        Path::new("/usr/bin/kubectl"),
        &viewer,
        &["get", "--raw", "/api/v1/nodes/worker-0/proxy/configz"],
    ));
    assert!(
        denied.contains("Forbidden") || denied.contains("forbidden"),
        "{denied}"
    );
    ok(&kubectl_at(
        Path::new("/usr/bin/kubectl"),
        &viewer,
        &["get", "nodes"],
    ));

    // Set per node through the admin endpoint; the other nodes keep the defaults.
    http(
        &format!("{admin}/nodes/kubelet-config"),
        "POST",
        r#"{"node": "worker-0", "config": {"imagePullCredentialsVerificationPolicy": "AlwaysVerify"}}"#,
    );
    let z = |node: &str| -> Value {
        serde_json::from_str(&ok(&kubectl(
            &e,
            &[
                "get",
                "--raw",
                &format!("/api/v1/nodes/{node}/proxy/configz"),
            ],
        )))
        .unwrap()
    };
    assert_eq!(
        z("worker-0")["kubeletconfig"]["imagePullCredentialsVerificationPolicy"],
        "AlwaysVerify"
    );
    assert_eq!(
        z("worker-0")["kubeletconfig"]["featureGates"]["KubeletEnsureSecretPulledImages"],
        true
    );
    assert_eq!(
        z("worker-1")["kubeletconfig"]["imagePullCredentialsVerificationPolicy"],
        "NeverVerifyPreloadedImages"
    );
    let missing = err(&kubectl(
        &e,
        &["get", "--raw", "/api/v1/nodes/nowhere/proxy/configz"],
    ));
    assert!(
        missing.contains("NotFound") || missing.contains("not found"),
        "{missing}"
    );

    // A SubjectAccessReview about a service account, before and after a binding.
    let sar = dir.path().join("sar.json");
    std::fs::write(
        &sar,
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": "system:serviceaccount:default:default",
                        "groups": ["system:serviceaccounts", "system:serviceaccounts:default"],
                        "resourceAttributes": {"namespace": "default", "verb": "list", "resource": "secrets"}}})
        .to_string(),
    )
    .unwrap();
    let allowed = |e: &Emulator| -> bool {
        let v = json_of(e, &["create", "-f", sar.to_str().unwrap()]);
        v["status"]["allowed"].as_bool().unwrap()
    };
    assert!(!allowed(&e), "no binding yet");
    ok(&kubectl(
        &e,
        &[
            "create",
            "role",
            "lister",
            "--verb=list",
            "--resource=secrets",
            "-n",
            "default",
        ],
    ));
    ok(&kubectl(
        &e,
        &[
            "create",
            "rolebinding",
            "lister",
            "--role=lister",
            "--serviceaccount=default:default",
            "-n",
            "default",
        ],
    ));
    assert!(allowed(&e), "bound");
}

/// A hosted control plane's pull secret, as HyperShift keeps it: an
/// additional secret merged with the original (which wins a key both
/// have), the syncer DaemonSet rolled node by node — followed to the end
/// by real `kubectl rollout status` — a failing node stopping it, the
/// additional secret's deletion taking the merged one with it, and an
/// edit of `openshift-config/pull-secret` put back.
#[test]
fn a_hosted_clusters_pull_secret_is_merged_and_synced_node_by_node() {
    let mut e = Emulator::start(Options {
        machines: rhpull_testkit::kube::mco::Machines {
            masters: 0,
            workers: 3,
            delay: Duration::from_millis(100),
        },
        ..Options::hosted()
    });
    let admin = e.start_admin();
    let ds = |e: &Emulator| {
        json_of(
            e,
            &[
                "get",
                "ds",
                "global-pull-secret-syncer",
                "-n",
                "kube-system",
            ],
        )
    };
    assert_eq!(ds(&e)["status"]["numberReady"], 3);
    assert_eq!(
        ok(&kubectl(&e, &["get", "mcp", "-o", "name"])),
        "",
        "no pools on a hosted cluster"
    );
    let additional = json!({"auths": {
        "quay.io": {"auth": base64_of("mine:mine")},
        "registry.example.com": {"auth": base64_of("robot:token")},
    }});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, additional.to_string()).unwrap();
    let from = format!("--from-file=.dockerconfigjson={}", path.display());
    ok(&kubectl(
        &e,
        &[
            "create",
            "secret",
            "generic",
            "additional-pull-secret",
            "-n",
            "kube-system",
            "--type=kubernetes.io/dockerconfigjson",
            &from,
        ],
    ));
    let merged = || -> Option<Value> {
        let out = kubectl(
            &e,
            &[
                "get",
                "secret",
                "global-pull-secret",
                "-n",
                "kube-system",
                "-o",
                "json",
            ],
        );
        out.status.success().then(|| {
            let s: Value = serde_json::from_slice(&out.stdout).unwrap();
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(s["data"][".dockerconfigjson"].as_str().unwrap())
                .unwrap();
            serde_json::from_slice(&raw).unwrap()
        })
    };
    wait_until("the merge", || merged().is_some());
    let m = merged().unwrap();
    assert_eq!(
        m["auths"]["registry.example.com"]["auth"],
        base64_of("robot:token")
    );
    assert_eq!(
        m["auths"]["quay.io"]["auth"],
        base64_of("quay-user:quay-token"),
        "the original wins"
    );
    let status = Command::new("kubectl")
        .args([
            "rollout",
            "status",
            "ds/global-pull-secret-syncer",
            "-n",
            "kube-system",
            "--timeout=30s",
        ])
        .env("KUBECONFIG", &e.kubeconfig)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let d = ds(&e);
    assert_eq!(d["status"]["updatedNumberScheduled"], 3, "{d}");
    assert!(d["metadata"]["generation"].as_i64().unwrap() > 1);

    // A node whose syncer fails stops the rollout there.
    http(
        &format!("{admin}/hosted/syncer-fault"),
        "POST",
        r#"{"node": "worker-1"}"#,
    );
    ok(&kubectl(
        &e,
        &[
            "delete",
            "secret",
            "additional-pull-secret",
            "-n",
            "kube-system",
        ],
    ));
    wait_until("global-pull-secret gone", || merged().is_none());
    wait_within("worker-1's pod failing", Duration::from_secs(10), || {
        let pods = json_of(
            &e,
            &[
                "get",
                "pods",
                "-n",
                "kube-system",
                "-l",
                "name=global-pull-secret-syncer",
            ],
        );
        pods["items"].as_array().unwrap().iter().any(|p| {
            p["spec"]["nodeName"] == "worker-1"
                && p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "CrashLoopBackOff"
        })
    });
    let d = ds(&e);
    assert!(d["status"]["numberReady"].as_i64().unwrap() < 3, "{d}");
    assert_eq!(
        ds(&e)["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "no merged secret to mount"
    );

    // openshift-config/pull-secret is the HostedCluster's: an edit is put back.
    ok(&kubectl(
        &e,
        &[
            "patch",
            "secret",
            "pull-secret",
            "-n",
            "openshift-config",
            "--type=merge",
            "-p",
            r#"{"data": {".dockerconfigjson": "e30="}}"#,
        ],
    ));
    wait_until("the edit undone", || {
        json_of(
            &e,
            &["get", "secret", "pull-secret", "-n", "openshift-config"],
        )["data"][".dockerconfigjson"]
            != "e30="
    });
}
