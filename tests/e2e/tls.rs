//! TLS verification is on by default for the API server and for registries;
//! `--insecure-skip-tls-verify` (kubectl's global flag, applied to both)
//! turns it off and warns every time, as does a kubeconfig that sets it.

use std::path::{Path, PathBuf};
use std::process::Output;

use rhpull_e2e::{PluginPath, stderr, stdout};
use rhpull_testkit::kube::{Emulator, Options};
use rhpull_testkit::world::{self, RegistryWorld};

fn world() -> &'static RegistryWorld {
    rhpull_e2e::env::registry()
}

/// The emulator's kubeconfig with its CA line replaced by `cluster_line`.
fn kubeconfig_without_ca(e: &Emulator, dir: &Path, name: &str, cluster_line: &str) -> PathBuf {
    let text = std::fs::read_to_string(&e.kubeconfig).unwrap();
    let ca_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .expect("the emulator's kubeconfig embeds its CA");
    let indent = &ca_line[..ca_line.len() - ca_line.trim_start().len()];
    let replaced = if cluster_line.is_empty() {
        text.replace(&format!("{ca_line}\n"), "")
    } else {
        text.replace(ca_line, &format!("{indent}{cluster_line}"))
    };
    let path = dir.join(name);
    std::fs::write(&path, replaced).unwrap();
    path
}

fn run(plugin: &PluginPath, home: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    let kc = kubeconfig.display().to_string();
    plugin.rhpull(home, &[("KUBECONFIG", kc.as_str())], args)
}

#[test]
fn the_api_servers_certificate_is_verified_unless_told_and_then_it_warns_every_time() {
    let e = Emulator::start(Options::default());
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let untrusted = kubeconfig_without_ca(&e, home.path(), "untrusted", "");
    let server = std::fs::read_to_string(&e.kubeconfig)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: ").map(str::to_string))
        .unwrap();

    // Real kubectl agrees the server is not trusted without the CA.
    let kubectl = std::process::Command::new("kubectl")
        .args(["get", "namespaces"])
        .env("KUBECONFIG", &untrusted)
        .output()
        .unwrap();
    assert!(!kubectl.status.success());

    let out = run(&plugin, home.path(), &untrusted, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kubectl cluster-info"),
        "{}",
        stderr(&out)
    );

    // Told to skip verification: it works, and says so, each time.
    for _ in 0..2 {
        let out = run(
            &plugin,
            home.path(),
            &untrusted,
            &["status", "--insecure-skip-tls-verify"],
        );
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "the TLS certificate of the API server {server} is not verified"
            )),
            "{}",
            stderr(&out)
        );
    }

    // The kubeconfig's own insecure-skip-tls-verify is honoured and warned of.
    let insecure = kubeconfig_without_ca(
        &e,
        home.path(),
        "insecure",
        "insecure-skip-tls-verify: true",
    );
    let out = run(&plugin, home.path(), &insecure, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not verified"), "{}", stderr(&out));

    // A trusted server: not a word about TLS.
    let out = run(&plugin, home.path(), &e.kubeconfig, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not verified"), "{}", stderr(&out));
}

#[test]
fn a_registrys_certificate_is_verified_unless_told_and_then_it_warns() {
    let plugin = PluginPath::new();
    let home = tempfile::tempdir().unwrap();
    let host = world().registry.host();
    let auth = home.path().join("auth.json").display().to_string();
    let stdin = format!("{}\n", world::TOKEN);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", &host, "-u", world::USERNAME, "--password-stdin"];
        args.extend(extra);
        plugin.rhpull_with_stdin(
            home.path(),
            &[("REGISTRY_AUTH_FILE", auth.as_str())],
            &args,
            &stdin,
        )
    };

    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("certificate") && stdout(&out).contains("--registry-ca"),
        "{}",
        stdout(&out)
    );

    let out = check(&["--insecure-skip-tls-verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains(&format!("the TLS certificate of {host} is not verified")),
        "{}",
        stderr(&out)
    );
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(world::TOKEN.trim()), "{text}");
    }
}
