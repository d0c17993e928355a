//! `rhpull create [NAME]`: a pull secret from a stored login (podman's,
//! docker's, a file) or a typed one, optionally verified against the
//! registry first and linked to service accounts — what `oc create secret
//! docker-registry` + `oc secrets link` do by hand, idempotently. Across
//! namespaces with `-A`/`-l`/`--namespaces`; for image streams with
//! `--for-imagestreams`. With `--dry-run=client` and one namespace it
//! renders the secret without any request, as `kubectl create` does.

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::fleet::{self, FleetPlan, Job, Scope, SecretSpec};
use rhpull_cluster::global::{self, GlobalEdit, GlobalPlan};
use rhpull_cluster::link::{self, LinkChange, LinkEdit, LinkFor, LinkPlan};
use rhpull_cluster::pullsecret::{self, Format, SecretPlan};
use rhpull_cluster::{DryRun, Outcome, inventory};
use rhpull_core::Credential;
use rhpull_core::authfile::Selection;

use super::fleet::FleetReport;
use super::global::GlobalChanges;
use crate::cli::{CreateArgs, KubeArgs, SecretTypeArg};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode, Target};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::render::{Block, Report};
use crate::{creds, objects, output, registry_check, words};

/// `create`'s options, resolved from its flags.
#[derive(Debug)]
struct Options {
    name: Option<String>,
    selection: Selection,
    /// The registry a typed-in login is for.
    registry: String,
    format: Format,
    links: Vec<String>,
    link_for: LinkFor,
    wait: link::SaWait,
    overwrite: bool,
    for_imagestreams: bool,
    scope: Option<Scope>,
    concurrency: usize,
    mode: Mode,
    show_secrets: bool,
}

impl Options {
    fn resolve(args: &CreateArgs) -> Self {
        let selection = if args.all_registries {
            Selection::All
        } else if !args.logins.registries.is_empty() {
            Selection::Named(args.logins.registries.clone())
        } else {
            Selection::RedHat
        };
        let scope = args.at.fleet.scope();
        let dry_run = DryRun::from(args.write.dry_run);
        Self {
            name: args.name.clone(),
            selection,
            registry: args
                .logins
                .registries
                .first()
                .cloned()
                .unwrap_or_else(|| rhpull_core::registries::DEFAULT.into()),
            format: args.secret_type.into(),
            links: args.link.clone(),
            link_for: args.link_for.into(),
            wait: link::SaWait::from_flag(args.wait),
            overwrite: args.overwrite,
            for_imagestreams: args.for_imagestreams,
            concurrency: args.at.fleet.concurrency,
            mode: Mode {
                dry_run,
                yes: args.yes,
                offline: dry_run == DryRun::Client && scope.is_none() && !args.for_imagestreams,
            },
            scope,
            show_secrets: args.write.show_secrets,
        }
    }
}

/// `create`, ready to run: its options and the credentials it will write.
struct Create {
    options: Options,
    name: String,
    credentials: Vec<Credential>,
}

pub async fn run(kube: &KubeArgs, args: &CreateArgs) -> Result<(), CliError> {
    let options = Options::resolve(args);
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    if args.secret_type == SecretTypeArg::Podmanconfigjson {
        output::warn(&text("create.podmanconfigjson", &[]));
    }
    let found = creds::gather(
        &args.logins.secret,
        &args.logins.source,
        &options.selection,
        &options.registry,
    )?;
    let credentials: Vec<Credential> = (found.into_iter())
        .map(|f| Credential {
            email: args.email.clone().filter(|_| f.credential.raw.is_none()),
            ..f.credential
        })
        .collect();
    if args.verify {
        let insecure = kube.insecure_skip_tls_verify;
        let (refused, unchecked) = ("create.not_verified", "create.not_verified");
        registry_check::verify(&credentials, &args.net, insecure, refused, unchecked).await?;
    }
    let cmd = Create {
        name: options
            .name
            .clone()
            .unwrap_or_else(|| pullsecret::default_name(&credentials)),
        options,
        credentials,
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

enum Plan {
    One {
        secret: Box<SecretPlan>,
        links: Vec<LinkPlan>,
    },
    Fleet(FleetPlan),
    Global(GlobalPlan),
}

impl Create {
    fn link_edit(&self) -> LinkEdit {
        LinkEdit::Add {
            secrets: vec![self.name.clone()],
            for_: self.options.link_for,
        }
    }

    /// One namespace: read the secret and the service accounts (waiting
    /// for them), or with no cluster, what would be written.
    async fn plan_one(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let ns = cx.namespace.as_str();
        let wanted = pullsecret::build(&self.name, ns, self.options.format, &self.credentials);
        let cluster = match cx.target {
            Target::Cluster(c) => c,
            Target::Offline => {
                let links = (self.options.links.iter())
                    .map(|sa| LinkPlan::unread(ns, sa, self.link_edit()))
                    .collect();
                return Ok(Plan::One {
                    secret: Box::new(SecretPlan::unread(wanted)),
                    links,
                });
            }
        };
        let secret = pullsecret::plan(cluster, wanted, self.options.overwrite).await?;
        let mut links = Vec::new();
        for sa in &self.options.links {
            let names = std::slice::from_ref(&self.name);
            let for_ = self.options.link_for;
            links.push(link::plan_link(cluster, ns, sa, names, for_, self.options.wait).await?);
        }
        Ok(Plan::One {
            secret: Box::new(secret),
            links,
        })
    }

    /// Image imports read registry credentials from the global pull secret
    /// on OpenShift 4 and from `openshift/imagestreamsecret` on 3.x.
    async fn plan_imagestreams(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let cluster = cx.cluster()?;
        match cluster.kind().await? {
            // A hosted control plane's image imports run in its hosted
            // openshift-apiserver with the HostedCluster's pull secret; the
            // additional pull secret reaches the nodes only.
            ClusterKind::OpenShift4 if cluster.hosted().await => Err(CliError::failed(
                Reason::HostedControlPlane,
                "create.imagestreams_hosted",
            )),
            ClusterKind::OpenShift4 => {
                let edit = GlobalEdit::Set(self.credentials.clone());
                Ok(Plan::Global(global::plan(cluster, edit).await?))
            }
            ClusterKind::OpenShift3 => {
                let (ns, name) = (
                    inventory::IMAGESTREAM_NAMESPACE,
                    inventory::IMAGESTREAM_SECRET,
                );
                let wanted = pullsecret::build(name, ns, self.options.format, &self.credentials);
                let secret = pullsecret::plan(cluster, wanted, self.options.overwrite).await?;
                Ok(Plan::One {
                    secret: Box::new(secret),
                    links: Vec::new(),
                })
            }
            ClusterKind::Kubernetes => Err(CliError::failed(
                Reason::NoImageStreams,
                "create.no_imagestreams",
            )),
        }
    }
}

impl ClusterCommand for Create {
    type Plan = Plan;
    type Report = CreateReport;

    fn mode(&self) -> Mode {
        self.options.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        if self.options.for_imagestreams {
            return self.plan_imagestreams(cx).await;
        }
        let Some(scope) = &self.options.scope else {
            return self.plan_one(cx).await;
        };
        let job = Job {
            secret: Some(SecretSpec {
                name: self.name.clone(),
                format: self.options.format,
                credentials: self.credentials.clone(),
            }),
            links: (!self.options.links.is_empty())
                .then(|| (self.options.links.clone(), self.link_edit())),
            overwrite: self.options.overwrite,
        };
        Ok(Plan::Fleet(fleet::plan(cx.cluster()?, scope, &job).await?))
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        match plan {
            Plan::One { secret, links } => secret
                .need()
                .into_iter()
                .chain(links.iter().filter_map(LinkPlan::need))
                .collect(),
            Plan::Fleet(f) => f.needs(),
            Plan::Global(g) => g.need().into_iter().collect(),
        }
    }

    fn question(&self, plan: &Plan) -> Option<String> {
        let Plan::Global(g) = plan else {
            return None;
        };
        let registries: Vec<String> = g.changes.iter().map(|c| c.registry.clone()).collect();
        g.changes_anything().then(|| {
            text(
                "global.confirm_set",
                &[("registry", &registries.join(", "))],
            )
        })
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<CreateReport, CliError> {
        let dry_run = self.options.mode.dry_run;
        Ok(match plan {
            Plan::One { secret, links } => {
                let outcome = match cx.target {
                    Target::Cluster(c) => pullsecret::write(c, &secret, dry_run).await?,
                    Target::Offline => secret.outcome,
                };
                let mut changes = Vec::new();
                for l in &links {
                    changes.push(match cx.target {
                        Target::Cluster(c) => {
                            let change = link::write(c, l, dry_run).await?;
                            super::link::made_before(c, &change).await;
                            change
                        }
                        Target::Offline => l.change.clone(),
                    });
                }
                CreateReport::One(SecretReport {
                    object: objects::redacted(secret.to_json(), self.options.show_secrets),
                    name: secret.name(),
                    namespace: secret.namespace(),
                    logins: secret.logins(),
                    outcome,
                    links: changes,
                    dry_run,
                })
            }
            Plan::Fleet(f) => {
                let cluster = cx.cluster()?;
                let report = super::fleet::apply(cluster, cx, f, dry_run, self.options.concurrency);
                CreateReport::Fleet(report.await)
            }
            Plan::Global(g) => {
                let cluster = cx.cluster()?;
                let edit = g.edit().clone();
                let changes = global::write(cluster, g, dry_run).await?;
                let mut report = GlobalChanges::new(changes, &edit, dry_run);
                report.rollout = super::global::started(cluster, &report).await;
                CreateReport::Global(report)
            }
        })
    }
}

/// A secret written in one namespace, and the links made to it.
#[derive(Debug)]
pub struct SecretReport {
    pub object: serde_json::Value,
    pub name: String,
    pub namespace: String,
    pub logins: Vec<(String, String)>,
    pub outcome: Outcome,
    pub links: Vec<LinkChange>,
    pub dry_run: DryRun,
}

impl Report for SecretReport {
    fn document(&self) -> serde_json::Value {
        self.object.clone()
    }

    /// One line per object touched, as kubectl prints them: the secret,
    /// then each service account linked.
    fn names(&self) -> Vec<String> {
        let links = (self.links.iter()).map(|l| format!("serviceaccount/{}", l.service_account));
        std::iter::once(objects::name_of(&self.object))
            .chain(links)
            .collect()
    }

    fn human(&self) -> Vec<Block> {
        let mut lines = vec![Block::Line(words::secret_line(
            &self.name,
            &self.namespace,
            self.outcome,
            &self.logins,
            self.dry_run,
        ))];
        lines.extend(
            self.links
                .iter()
                .map(|c| Block::Line(words::link_line(c, false, self.dry_run))),
        );
        lines
    }

    fn changed(&self) -> bool {
        self.outcome != Outcome::Unchanged || self.links.iter().any(|l| !l.is_empty())
    }
}

/// What `create` did.
#[derive(Debug)]
pub enum CreateReport {
    One(SecretReport),
    Fleet(FleetReport),
    Global(GlobalChanges),
}

impl CreateReport {
    fn inner(&self) -> &dyn Report {
        match self {
            Self::One(r) => r,
            Self::Fleet(r) => r,
            Self::Global(r) => r,
        }
    }
}

impl Report for CreateReport {
    fn document(&self) -> serde_json::Value {
        self.inner().document()
    }

    fn names(&self) -> Vec<String> {
        self.inner().names()
    }

    fn human(&self) -> Vec<Block> {
        self.inner().human()
    }

    fn changed(&self) -> bool {
        self.inner().changed()
    }

    fn verdict(&self) -> Result<(), CliError> {
        self.inner().verdict()
    }
}
