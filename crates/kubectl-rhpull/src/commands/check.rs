//! `rhpull check [REGISTRY]` (alias `doctor`): the registry token flow, one
//! line per step with ✓/✗ and its time, and for a ✗ the named cause, why,
//! and the fix. Exit 0 only when every step passed. With `--image`, the
//! login used is the one podman would pick for that image's repository
//! (path-scoped logins first). `--secret` checks a pull secret in the
//! cluster, `--pod` a pod as its kubelet would pull, `--failing` every pod
//! that cannot pull.

pub(crate) mod failing;
pub mod pod;
mod pull;
pub mod render;
mod secret;

use rhpull_core::imageref::ImageRef;

use crate::cli::{CheckArgs, KubeArgs};
use crate::creds::{self, Found};
use crate::error::{CliError, Exit};
use crate::registry_check;
use crate::render::{Block, Report};
pub use render::RegistryReport;

/// What `openshift-ansible` pulls to test registry credentials.
pub const INSTALLER_IMAGE: &str = "registry.redhat.io/openshift3/ose-pod:latest";

pub async fn run(kube: &KubeArgs, args: &CheckArgs) -> Result<(), CliError> {
    if args.failing {
        return failing::run(kube, args).await;
    }
    let image = image(args)?;
    if let Some(pod) = &args.pod {
        return pod::run(kube, args, pod).await;
    }
    if let Some(name) = &args.cluster_secret {
        return secret::run(kube, args, name, image).await;
    }
    // Nothing named: the registries you have logins for, or the default.
    if args.registry.is_none() && image.is_none() && args.secret.username.is_none() {
        return logged_in(kube, args).await;
    }
    // The registry: as named, else the image's, else the default one.
    let registry = args
        .registry
        .clone()
        .or_else(|| image.as_ref().map(|i| i.registry.clone()))
        .unwrap_or_else(|| rhpull_core::registries::DEFAULT.into());
    let found = if args.secret.username.is_some() {
        Some(Found::typed(creds::from_flags(&args.secret, &registry)?))
    } else {
        // What podman looks up for an image is its repository's path.
        let target = image
            .as_ref()
            .map_or_else(|| registry.clone(), ImageRef::name);
        creds::lookup(&args.source, &target, args.source.named())?
    };
    let mut options = registry_check::options(&registry, &args.net, kube.insecure_skip_tls_verify);
    options.credential = found.as_ref().map(|f| f.credential.clone());
    options.credential_problem = found.as_ref().and_then(Found::problem);
    options.image = image;
    let report = RegistryReport::new(registry_check::run(&options).await?, found);
    crate::render::print(&report, args.output.into())
}

/// `check` with no registry named: every registry the stored logins are
/// for (Red Hat's first), each checked with its login, after a line saying
/// which were chosen; registry.redhat.io without a login when there are
/// none. `-o json`: one report, or an array when several were checked.
async fn logged_in(kube: &KubeArgs, args: &CheckArgs) -> Result<(), CliError> {
    // The auth files, read first: one that cannot be read is the answer
    // alone (as `login` and `create` report it), never a check of a
    // registry the user did not choose. No login in them: the default.
    let chosen = creds::logged_in(&args.source)?;
    let (chosen, key) = if chosen.is_empty() {
        (
            vec![rhpull_core::registries::DEFAULT.to_string()],
            "check.chosen_default",
        )
    } else {
        (chosen, "check.chosen")
    };
    crate::output::note(&crate::i18n::text(
        key,
        &[("registries", &chosen.join(", "))],
    ));
    let mut reports = Vec::new();
    // Each is a key of an auth file: a host, or a path-scoped
    // `host/namespace`, whose login is checked at its host (the report's
    // `key` says which).
    for key in &chosen {
        let found = creds::lookup(&args.source, key, false)?;
        let mut options = registry_check::options(key, &args.net, kube.insecure_skip_tls_verify);
        options.credential = found.as_ref().map(|f| f.credential.clone());
        options.credential_problem = found.as_ref().and_then(Found::problem);
        reports.push(RegistryReport::new(
            registry_check::run(&options).await?,
            found,
        ));
    }
    match <[RegistryReport; 1]>::try_from(reports) {
        Ok([one]) => crate::render::print(&one, args.output.into()),
        Err(many) => crate::render::print(&Several(many), args.output.into()),
    }
}

/// Several registries checked, one after the other.
#[derive(Debug)]
struct Several(Vec<RegistryReport>);

impl Report for Several {
    fn document(&self) -> serde_json::Value {
        serde_json::Value::Array(self.0.iter().map(Report::document).collect())
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().flat_map(Report::names).collect()
    }

    fn human(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                blocks.push(Block::Blank);
            }
            blocks.extend(r.human());
        }
        blocks
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.0.iter().all(|r| r.report.passed) {
            Ok(())
        } else {
            Err(CliError::Reported(Exit::Failed))
        }
    }
}

/// `--image`, parsed; `installer` is the image OKD 3.11's installer checks.
fn image(args: &CheckArgs) -> Result<Option<ImageRef>, CliError> {
    let Some(given) = args.image.as_deref() else {
        return Ok(None);
    };
    let reference = if given == "installer" {
        INSTALLER_IMAGE
    } else {
        given
    };
    ImageRef::parse(reference)
        .map(Some)
        .map_err(|e| crate::error::bad_image(Exit::Usage, reference, &e))
}
