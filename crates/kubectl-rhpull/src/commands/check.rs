//! `rhpull check [REGISTRY]` (alias `doctor`): the registry token flow, one
//! line per step with ✓/✗ and its time, and for a ✗ the named cause, why,
//! and the fix. Exit 0 only when every step passed.

use rhpull_core::imageref::ImageRef;
use rhpull_core::sso::Grant;
use rhpull_core::sso::trust::TrustConfig;
use rhpull_core::sso::{CheckOptions, CheckReport, Status, check};

use crate::cli::{CheckArgs, GrantArg, KubeArgs, NetArgs, OutputFormat};
use crate::creds::{self, Found};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;

pub mod pod;

/// What `openshift-ansible` pulls to test registry credentials.
pub const INSTALLER_IMAGE: &str = "registry.redhat.io/openshift3/ose-pod:latest";
pub mod render;

/// Check options from the network flags (shared with `login`) and
/// `--insecure-skip-tls-verify`, which warns each time it is used.
pub fn options(registry: &str, net: &NetArgs, kube: &KubeArgs) -> CheckOptions {
    if kube.insecure_skip_tls_verify {
        output::warn(&text("warn.insecure", &[("registry", registry)]));
    }
    let mut o = CheckOptions::new(registry);
    o.trust = TrustConfig {
        extra_ca_files: net.registry_ca.clone(),
        insecure_skip_verify: kube.insecure_skip_tls_verify,
        ..TrustConfig::default()
    };
    o.timeout = net.timeout;
    o.grant = match net.grant {
        GrantArg::Auto => Grant::Auto,
        GrantArg::Basic => Grant::Basic,
        GrantArg::Oauth => Grant::OAuth,
    };
    o
}

/// Runs the check on a small runtime of its own.
pub fn run_check(options: &CheckOptions) -> Result<CheckReport, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            CliError::from_catalogue(Exit::Failed, "error.runtime", &[("reason", &e.to_string())])
        })?;
    rt.block_on(check(options)).map_err(|e| match e {
        rhpull_core::sso::flow::CheckSetupError::Trust(t) => CliError::from_catalogue(
            Exit::Usage,
            "error.registry_ca",
            &[("reason", &t.to_string())],
        ),
        rhpull_core::sso::flow::CheckSetupError::Client(reason) => {
            CliError::from_catalogue(Exit::Failed, "error.http_client", &[("reason", &reason)])
        }
    })
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a CheckReport,
    source: Option<&'a rhpull_core::authfile::CredentialSource>,
}

/// The credential in cluster secret `name` for `registry` (or its only one).
fn from_cluster_secret(kube: &KubeArgs, name: &str, registry: &str) -> Result<Found, CliError> {
    let session = crate::session::Session::open(kube)?;
    let ns = session.namespace().to_string();
    let secret = session
        .block_on(rhpull_cluster::pullsecret::get(&session.cluster, &ns, name))?
        .ok_or_else(|| {
            CliError::from(rhpull_cluster::ClusterError::NotFound {
                kind: "secret",
                namespace: ns.clone(),
                name: name.to_string(),
            })
        })?;
    let creds = rhpull_cluster::pullsecret::credentials_of(&secret)?;
    let wanted = rhpull_core::authfile::keys::normalize(registry);
    let pick = creds
        .iter()
        .find(|c| c.registry == wanted)
        .or(if creds.len() == 1 {
            creds.first()
        } else {
            None
        })
        .cloned()
        .ok_or_else(|| {
            let held: Vec<String> = creds.iter().map(|c| c.registry.clone()).collect();
            CliError::from_catalogue(
                Exit::Failed,
                "error.secret_lacks_registry",
                &[
                    ("namespace", &ns),
                    ("name", name),
                    ("registry", &wanted),
                    ("held", &held.join(", ")),
                ],
            )
        })?;
    Ok(Found {
        credential: pick,
        source: Some(rhpull_core::authfile::CredentialSource::Secret {
            namespace: ns,
            name: name.to_string(),
        }),
    })
}

pub fn run(kube: &KubeArgs, args: &CheckArgs) -> Result<(), CliError> {
    if let Some(pod) = &args.pod {
        return pod::run(kube, args, pod);
    }
    // `--image installer`: the image OKD 3.11's installer checks by default.
    let image_arg = args
        .image
        .as_deref()
        .map(|i| if i == "installer" { INSTALLER_IMAGE } else { i });
    let image = match image_arg {
        Some(i) => Some(ImageRef::parse(i).map_err(|e| {
            CliError::from_catalogue(
                Exit::Usage,
                "error.bad_image",
                &[("image", i), ("reason", &e.to_string())],
            )
        })?),
        None => None,
    };
    // The registry comes from the image when only --image is given.
    let registry = match (&image, args.registry.as_str()) {
        (Some(i), "registry.redhat.io") => i.registry.clone(),
        (_, r) => r.to_string(),
    };
    let found = if let Some(name) = &args.cluster_secret {
        let found = from_cluster_secret(kube, name, &registry)?;
        // The registry is the secret's when none was named.
        Some(found)
    } else if args.secret.username.is_some() {
        Some(Found {
            credential: creds::from_flags(&args.secret, &registry)?,
            source: None,
        })
    } else {
        let explicit =
            args.source.from_podman || args.source.from_docker || args.source.from_file.is_some();
        creds::from_source(&args.source, &registry, explicit)?
    };
    let registry = match (&found, &args.cluster_secret, args.registry.as_str(), &image) {
        (Some(f), Some(_), "registry.redhat.io", None) => f.credential.registry.clone(),
        _ => registry,
    };
    let mut options = options(&registry, &args.net, kube);
    options.credential = found.as_ref().map(|f| f.credential.clone());
    options.image = image;
    let report = run_check(&options)?;
    match args.output {
        OutputFormat::Json => output::print_json(&JsonReport {
            report: &report,
            source: found.as_ref().and_then(|f| f.source.as_ref()),
        }),
        OutputFormat::Table => render::print(&report, found.as_ref()),
    }
    if report.passed {
        Ok(())
    } else {
        Err(CliError::silent(Exit::Failed))
    }
}

/// The grant's name in reports.
pub fn grant_name(g: Grant) -> &'static str {
    match g {
        Grant::Auto => "auto",
        Grant::Basic => "basic",
        Grant::OAuth => "oauth",
    }
}

/// True when every step passed (login verifies with this).
pub fn all_passed(report: &CheckReport) -> bool {
    report.passed && report.steps.iter().all(|s| s.status != Status::Failed)
}
