//! `rhpull export acm-policy [NAME]`: a Policy (with a ConfigurationPolicy
//! inside), a Placement and a PlacementBinding that, applied on a hub,
//! put the pull secret into the chosen namespaces of the chosen managed
//! clusters and link it to service accounts. No secret data in them: the
//! credential stays in a Secret on the hub that the policy's hub template
//! reads; with `--hub-secret NAME` rhpull creates or updates that Secret in
//! the policy's namespace (`-n`), with the same conditional writes as
//! `create`. Without it, nothing is asked of a cluster.
//!
//! `--global` (each managed cluster's global pull secret) is refused: see
//! the catalogue's `error.acm_global` and the README for why.

use rhpull_cluster::access::Need;
use rhpull_cluster::acm::{Namespaces, PolicySpec};
use rhpull_cluster::pullsecret::{self, Format, SecretPlan};
use rhpull_cluster::{DryRun, acm, selector};
use rhpull_core::Credential;
use serde_json::Value;

use crate::cli::{AcmPolicyArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::render::{Block, Report};
use crate::{output, words};

/// What the policy says, decided before any I/O but the policy's namespace.
struct AcmExport {
    name: Option<String>,
    secret: String,
    hub_secret: Option<String>,
    namespaces: Namespaces,
    clusters: selector::LabelSelector,
    link: Vec<String>,
    enforce: bool,
    credentials: Vec<Credential>,
    overwrite: bool,
    mode: Mode,
}

fn bad_selector(flag: &str, e: &selector::SelectorError) -> CliError {
    use selector::SelectorFault as F;
    let fault = match e.fault {
        F::SetNotParenthesised => "selector.fault.set",
        F::NotALabelKey => "selector.fault.key",
        F::NotALabelValue => "selector.fault.value",
    };
    CliError::usage(Reason::InvalidSelector, "error.bad_selector")
        .with("flag", flag)
        .with("term", e.term.clone())
        .worded("fault", fault)
}

pub async fn run(kube: &KubeArgs, args: &AcmPolicyArgs) -> Result<(), CliError> {
    if args.global {
        return Err(CliError::usage(
            Reason::GlobalPolicyRefused,
            "error.acm_global",
        ));
    }
    let clusters = selector::parse(args.cluster_selector.as_deref().unwrap_or_default())
        .map_err(|e| bad_selector("--cluster-selector", &e))?;
    let namespaces = match &args.namespace_selector {
        Some(s) => Namespaces::Selected(
            selector::parse(s).map_err(|e| bad_selector("--namespace-selector", &e))?,
        ),
        None => Namespaces::Named(args.namespaces.clone()),
    };
    // The login is needed to fill the hub Secret, or to name the secret.
    let needs_login = args.hub_secret.is_some() || args.secret_name.is_none();
    let credentials = if needs_login {
        super::logins(&args.logins)?
    } else {
        Vec::new()
    };
    let secret =
        (args.secret_name.clone()).unwrap_or_else(|| pullsecret::default_name(&credentials));
    let cmd = AcmExport {
        name: args.name.clone(),
        secret,
        hub_secret: args.hub_secret.clone(),
        namespaces,
        clusters,
        link: args.link.clone(),
        enforce: !args.inform,
        credentials,
        overwrite: args.overwrite,
        mode: Mode {
            offline: args.hub_secret.is_none(),
            ..Mode::dry(args.dry_run.into())
        },
    };
    let conn = Connection::resolve(kube, None)?;
    driver::run(&cmd, &conn, args.output.into()).await
}

/// The documents, and the hub Secret to write (with `--hub-secret`).
struct AcmPlan {
    documents: Vec<Value>,
    hub: Option<SecretPlan>,
}

impl AcmExport {
    fn spec(&self, namespace: &str) -> PolicySpec {
        PolicySpec {
            name: self.name.clone().unwrap_or_else(|| self.secret.clone()),
            namespace: namespace.to_string(),
            hub_secret: self
                .hub_secret
                .clone()
                .unwrap_or_else(|| self.secret.clone()),
            secret: self.secret.clone(),
            namespaces: self.namespaces.clone(),
            clusters: self.clusters.clone(),
            link: self.link.clone(),
            enforce: self.enforce,
        }
    }
}

impl ClusterCommand for AcmExport {
    type Plan = AcmPlan;
    type Report = Manifests;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<AcmPlan, CliError> {
        let spec = self.spec(&cx.namespace);
        let documents = spec.documents().map_err(|e| match e {
            acm::PolicyError::NameTooLong(length) => {
                CliError::usage(Reason::PolicyNameTooLong, "error.acm_name").with("length", length)
            }
        })?;
        let hub = match &self.hub_secret {
            Some(name) => {
                let wanted = pullsecret::build(
                    name,
                    &cx.namespace,
                    Format::DockerConfigJson,
                    &self.credentials,
                );
                Some(pullsecret::plan(cx.cluster()?, wanted, self.overwrite).await?)
            }
            None => None,
        };
        Ok(AcmPlan { documents, hub })
    }

    fn needs(&self, plan: &AcmPlan) -> Vec<Need> {
        plan.hub.iter().filter_map(SecretPlan::need).collect()
    }

    async fn apply(&self, cx: &Cx<'_>, plan: AcmPlan) -> Result<Manifests, CliError> {
        if let Some(hub) = &plan.hub {
            let dry_run: DryRun = self.mode.dry_run;
            let outcome = pullsecret::write(cx.cluster()?, hub, dry_run).await?;
            // stdout holds the manifests; what was written goes to stderr.
            output::note(&words::secret_line(
                &hub.name(),
                &hub.namespace(),
                outcome,
                &hub.logins(),
                dry_run,
            ));
        }
        Ok(Manifests(plan.documents))
    }
}

/// The manifests, as a `List` (what `kubectl apply -f` takes).
#[derive(Debug)]
pub struct Manifests(Vec<Value>);

impl Report for Manifests {
    fn document(&self) -> Value {
        super::manifest_list(&self.0)
    }

    fn names(&self) -> Vec<String> {
        super::manifest_names(&self.0)
    }

    fn human(&self) -> Vec<Block> {
        self.names().into_iter().map(Block::Line).collect()
    }
}
