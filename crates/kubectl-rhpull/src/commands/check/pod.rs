//! `rhpull check --pod POD`: why is this pod in ImagePullBackOff? For each
//! of its images: which of the pod's own `imagePullSecrets` the kubelet
//! would try (matched as the kubelet matches, most specific first), then the
//! registry flow with those credentials in that order. Linking a secret to a
//! service account fixes new pods only: when the service account has secrets
//! the pod lacks, the pod has to be recreated, and this says so.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::imageref::{ImageRef, kubelet_matches};

use super::{all_passed, options, render, run_check};
use crate::cli::{CheckArgs, KubeArgs, OutputFormat};
use crate::creds::Found;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;
use crate::session::Session;

#[derive(serde::Serialize)]
struct ImageResult {
    image: String,
    /// `secret (key)` in the kubelet's order.
    tried: Vec<String>,
    passed: bool,
    reports: Vec<rhpull_core::sso::CheckReport>,
}

#[derive(serde::Serialize)]
struct PodReport {
    pod: String,
    namespace: String,
    service_account: String,
    pod_secrets: Vec<String>,
    missing_secrets: Vec<String>,
    recreate_needed: Vec<String>,
    images: Vec<ImageResult>,
    passed: bool,
}

pub fn run(kube: &KubeArgs, args: &CheckArgs, pod_name: &str) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let ns = session.namespace().to_string();
    let cluster_err = |e, kind| {
        CliError::from(rhpull_cluster::ClusterError::from_kube(
            e, kind, &ns, pod_name,
        ))
    };
    let pods: Api<Pod> = Api::namespaced(session.cluster.client.clone(), &ns);
    let pod = session
        .block_on(pods.get(pod_name))
        .map_err(|e| cluster_err(e, "pod"))?;
    let spec = pod.spec.clone().unwrap_or_default();
    let sa_name = spec
        .service_account_name
        .clone()
        .unwrap_or_else(|| "default".into());
    let sas: Api<ServiceAccount> = Api::namespaced(session.cluster.client.clone(), &ns);
    let sa = session
        .block_on(sas.get_opt(&sa_name))
        .map_err(|e| cluster_err(e, "serviceaccount"))?;
    let pod_secrets: Vec<String> = spec
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();
    let sa_secrets: Vec<String> = sa
        .iter()
        .flat_map(|s| {
            s.image_pull_secrets
                .iter()
                .flatten()
                .map(|r| r.name.clone())
        })
        .collect();
    let recreate_needed: Vec<String> = sa_secrets
        .iter()
        .filter(|s| !pod_secrets.contains(s))
        .cloned()
        .collect();

    // Every credential in the pod's own secrets, with the secret it is in.
    let mut keyed: Vec<(String, String, Credential)> = Vec::new();
    let mut missing_secrets = Vec::new();
    for name in &pod_secrets {
        match session.block_on(rhpull_cluster::pullsecret::get(&session.cluster, &ns, name))? {
            None => missing_secrets.push(name.clone()),
            Some(secret) => {
                for c in rhpull_cluster::pullsecret::credentials_of(&secret).unwrap_or_default() {
                    keyed.push((name.clone(), c.registry.clone(), c));
                }
            }
        }
    }

    let mut images: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .filter_map(|c| c.image.clone())
        .collect();
    images.extend(spec.containers.iter().filter_map(|c| c.image.clone()));
    images.dedup();
    let mut results = Vec::new();
    for image in &images {
        let keys: Vec<&str> = keyed.iter().map(|(_, k, _)| k.as_str()).collect();
        let order = kubelet_matches(keys.iter().copied(), image);
        let candidates: Vec<&(String, String, Credential)> = order
            .iter()
            .filter_map(|k| keyed.iter().find(|(_, key, _)| key == k))
            .collect();
        let parsed = ImageRef::parse(image).map_err(|e| {
            CliError::from_catalogue(
                Exit::Failed,
                "error.bad_image",
                &[("image", image), ("reason", &e.to_string())],
            )
        })?;
        let mut reports = Vec::new();
        let mut passed = false;
        let attempts: Vec<Option<&Credential>> = if candidates.is_empty() {
            vec![None]
        } else {
            candidates.iter().map(|(_, _, c)| Some(c)).collect()
        };
        for cred in attempts {
            let mut o = options(&parsed.registry, &args.net, kube);
            o.credential = cred.cloned();
            o.image = Some(parsed.clone());
            let report = run_check(&o)?;
            passed = all_passed(&report);
            reports.push(report);
            if passed {
                break;
            }
        }
        results.push(ImageResult {
            image: image.clone(),
            tried: candidates
                .iter()
                .map(|(s, k, _)| format!("{s} ({k})"))
                .collect(),
            passed,
            reports,
        });
    }
    let report = PodReport {
        passed: results.iter().all(|r| r.passed),
        pod: pod_name.to_string(),
        namespace: ns.clone(),
        service_account: sa_name,
        pod_secrets,
        missing_secrets,
        recreate_needed,
        images: results,
    };
    match args.output {
        OutputFormat::Json => output::print_json(&report),
        OutputFormat::Table => print(&report, &keyed),
    }
    if report.passed {
        Ok(())
    } else {
        Err(CliError::silent(Exit::Failed))
    }
}

fn print(r: &PodReport, keyed: &[(String, String, Credential)]) {
    let secrets = if r.pod_secrets.is_empty() {
        "-".to_string()
    } else {
        r.pod_secrets.join(", ")
    };
    output::print_line(&text(
        "pod.heading",
        &[
            ("pod", &r.pod),
            ("namespace", &r.namespace),
            ("sa", &r.service_account),
            ("secrets", &secrets),
        ],
    ));
    for m in &r.missing_secrets {
        output::print_line(&text(
            "pod.secret_missing",
            &[("secret", m), ("namespace", &r.namespace)],
        ));
    }
    for img in &r.images {
        output::print_line("");
        let tried = if img.tried.is_empty() {
            text("pod.no_secret_matches", &[])
        } else {
            img.tried.join(", ")
        };
        output::print_line(&text(
            "pod.image",
            &[("image", &img.image), ("tried", &tried)],
        ));
        for report in &img.reports {
            let found = report.steps.first().and_then(|s| match &s.detail {
                Some(rhpull_core::sso::Detail::Credential { username }) => keyed
                    .iter()
                    .find(|(_, _, c)| &c.username == username)
                    .map(|(secret, _, c)| Found {
                        credential: c.clone(),
                        source: Some(rhpull_core::authfile::CredentialSource::Secret {
                            namespace: r.namespace.clone(),
                            name: secret.clone(),
                        }),
                    }),
                _ => None,
            });
            render::print(report, found.as_ref());
        }
    }
    if !r.recreate_needed.is_empty() {
        output::print_line("");
        output::print_line(&text(
            "pod.recreate",
            &[
                ("secrets", &r.recreate_needed.join(", ")),
                ("sa", &r.service_account),
                ("pod", &r.pod),
                ("namespace", &r.namespace),
            ],
        ));
    }
}
