//! `rhpull link SA [SECRET]...` and `rhpull unlink SA SECRET...`: as `oc
//! secrets link`/`unlink`, keeping every other entry, retrying on conflicts,
//! naming every secret that does not exist. With no SECRET, the one pull
//! secret rhpull manages in the namespace is linked. Across namespaces with
//! `-A`/`-l`/`--namespaces`, link and unlink are the same fleet job.

use std::time::Duration;

use rhpull_cluster::access::Need;
use rhpull_cluster::fleet::{self, FleetPlan, Job, Scope};
use rhpull_cluster::link::{self, LinkChange, LinkEdit, LinkFor, LinkPlan};
use rhpull_cluster::{Cluster, DryRun, inventory};

use super::fleet::FleetReport;
use crate::cli::{KubeArgs, LinkArgs, UnlinkArgs, WriteArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::render::{Block, Report};
use crate::{prompt, words};

/// `link` or `unlink`, resolved.
struct Options {
    service_account: String,
    /// Empty for `link`: the one secret rhpull manages in the namespace.
    secrets: Vec<String>,
    /// `None` for `unlink`.
    link_for: Option<LinkFor>,
    wait: link::SaWait,
    scope: Option<Scope>,
    concurrency: usize,
    dry_run: DryRun,
}

impl Options {
    fn edit(&self, secrets: Vec<String>) -> LinkEdit {
        match self.link_for {
            Some(for_) => LinkEdit::Add { secrets, for_ },
            None => LinkEdit::Remove { secrets },
        }
    }
}

pub async fn run(kube: &KubeArgs, args: &LinkArgs) -> Result<(), CliError> {
    let scope = args.at.fleet.scope();
    if scope.is_some() && args.secrets.is_empty() {
        return Err(CliError::usage(
            Reason::MissingArgument,
            "link.fleet_needs_secret",
        ));
    }
    // `oc secrets link builder` mounts by default: builds read mounted secrets.
    let for_ = args.link_for.map_or(
        if args.service_account == "builder" {
            LinkFor::Mount
        } else {
            LinkFor::Pull
        },
        LinkFor::from,
    );
    let options = Options {
        service_account: args.service_account.clone(),
        secrets: args.secrets.clone(),
        link_for: Some(for_),
        wait: link::SaWait::from_flag(args.wait),
        scope,
        concurrency: args.at.fleet.concurrency,
        dry_run: args.write.dry_run.into(),
    };
    go(kube, &args.at.contexts, &args.write, options).await
}

pub async fn unlink(kube: &KubeArgs, args: &UnlinkArgs) -> Result<(), CliError> {
    let options = Options {
        service_account: args.service_account.clone(),
        secrets: args.secrets.clone(),
        link_for: None,
        wait: link::SaWait {
            timeout: Duration::ZERO,
            any_name: false,
        },
        scope: args.at.fleet.scope(),
        concurrency: args.at.fleet.concurrency,
        dry_run: args.write.dry_run.into(),
    };
    go(kube, &args.at.contexts, &args.write, options).await
}

async fn go(
    kube: &KubeArgs,
    contexts: &crate::cli::ContextArgs,
    write: &WriteArgs,
    options: Options,
) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(contexts))?;
    driver::run(&options, &conn, write.output.into()).await
}

/// The pull secrets rhpull manages in `ns`, for a command given none: at
/// least one, or a failure naming the namespace.
pub async fn managed_secrets(cluster: &Cluster, ns: &str) -> Result<Vec<String>, CliError> {
    let managed = inventory::managed_in(cluster, ns).await?;
    if managed.is_empty() {
        rhpull_cluster::namespaces::require(cluster, ns).await?;
        return Err(
            CliError::failed(Reason::NoManagedSecret, "link.no_managed_secret")
                .with("namespace", ns),
        );
    }
    Ok(managed)
}

/// One of several managed secrets, chosen on a terminal; without one, a
/// usage error listing them.
pub fn choose_secret(ns: &str, many: &[String]) -> Result<String, CliError> {
    prompt::choose(
        &text("link.choose", &[("namespace", ns)]),
        many,
        CliError::usage(Reason::SeveralManagedSecrets, "link.several_managed")
            .with("namespace", ns)
            .with("secrets", many.to_vec()),
    )
}

pub enum Plan {
    One(Box<LinkPlan>),
    /// Several managed secrets: one is chosen when every cluster is planned.
    Choose {
        namespace: String,
        candidates: Vec<String>,
        pending: Box<link::Pending>,
    },
    Fleet(FleetPlan),
}

impl ClusterCommand for Options {
    type Plan = Plan;
    type Report = LinkReport;

    fn mode(&self) -> Mode {
        Mode::dry(self.dry_run)
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let cluster = cx.cluster()?;
        if let Some(scope) = &self.scope {
            let job = Job {
                secret: None,
                links: Some((
                    vec![self.service_account.clone()],
                    self.edit(self.secrets.clone()),
                )),
                overwrite: false,
            };
            return Ok(Plan::Fleet(fleet::plan(cluster, scope, &job).await?));
        }
        let (ns, sa) = (cx.namespace.as_str(), self.service_account.as_str());
        let Some(for_) = self.link_for else {
            let edit = self.edit(self.secrets.clone());
            return Ok(Plan::One(Box::new(
                link::plan(cluster, ns, sa, edit).await?,
            )));
        };
        let secrets = match self.secrets.as_slice() {
            [] => match managed_secrets(cluster, ns).await?.as_slice() {
                [one] => vec![one.clone()],
                several => {
                    let pending = link::pending(cluster, ns, sa, for_, self.wait).await?;
                    return Ok(Plan::Choose {
                        namespace: ns.to_string(),
                        candidates: several.to_vec(),
                        pending: Box::new(pending),
                    });
                }
            },
            named => named.to_vec(),
        };
        link::require_secrets(cluster, ns, &secrets).await?;
        let plan = link::plan_link(cluster, ns, sa, &secrets, for_, self.wait).await?;
        Ok(Plan::One(Box::new(plan)))
    }

    fn settle(&self, plan: Plan) -> Result<Plan, CliError> {
        match plan {
            Plan::Choose {
                namespace,
                candidates,
                pending,
            } => {
                let chosen = choose_secret(&namespace, &candidates)?;
                Ok(Plan::One(Box::new(pending.with(vec![chosen]))))
            }
            settled => Ok(settled),
        }
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        match plan {
            Plan::One(p) => p.need().into_iter().collect(),
            Plan::Choose { .. } => Vec::new(),
            Plan::Fleet(f) => f.needs(),
        }
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<LinkReport, CliError> {
        let cluster = cx.cluster()?;
        if self.link_for.is_none() {
            self.kept_links(cluster).await;
        }
        let one = match plan {
            Plan::Fleet(f) => {
                let done = super::fleet::apply(cluster, cx, f, self.dry_run, self.concurrency);
                return Ok(LinkReport::Fleet(done.await));
            }
            Plan::One(p) => *p,
            // The driver settles before applying; a plan given as it was
            // planned is settled here all the same.
            Plan::Choose {
                namespace,
                candidates,
                pending,
            } => pending.with(vec![choose_secret(&namespace, &candidates)?]),
        };
        let change = link::write(cluster, &one, self.dry_run).await?;
        if self.link_for.is_some() {
            made_before(cluster, &change).await;
        }
        Ok(LinkReport::One {
            change,
            unlinking: self.link_for.is_none(),
            dry_run: self.dry_run,
        })
    }
}

impl Options {
    /// `unlink`: the keepers rhpull exported that link these secrets to
    /// this service account, and would put the link back: named, with what
    /// to delete first. Unreadable keepers say nothing.
    async fn kept_links(&self, cluster: &Cluster) {
        let Ok(exported) = rhpull_cluster::keepers::found::exported(cluster).await else {
            return;
        };
        for k in exported {
            let linked = k.links.contains(&self.service_account)
                && (self.secrets.is_empty() || self.secrets.contains(&k.secret));
            if linked {
                crate::output::note(&text(
                    "unlink.kept",
                    &[
                        ("keeper", &k.keeper),
                        ("secret", &k.secret),
                        ("sa", &self.service_account),
                    ],
                ));
            }
        }
    }
}

/// What `link` or `unlink` changed.
#[derive(Debug)]
pub enum LinkReport {
    One {
        change: LinkChange,
        unlinking: bool,
        dry_run: DryRun,
    },
    Fleet(FleetReport),
}

impl Report for LinkReport {
    fn document(&self) -> serde_json::Value {
        match self {
            Self::One { change, .. } => crate::render::json(&change),
            Self::Fleet(f) => f.document(),
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Self::One { change, .. } => {
                vec![format!("serviceaccount/{}", change.service_account)]
            }
            Self::Fleet(f) => f.names(),
        }
    }

    fn human(&self) -> Vec<Block> {
        match self {
            Self::One {
                change,
                unlinking,
                dry_run,
            } => vec![Block::Line(words::link_line(change, *unlinking, *dry_run))],
            Self::Fleet(f) => f.human(),
        }
    }

    fn changed(&self) -> bool {
        match self {
            Self::One { change, .. } => !change.is_empty(),
            Self::Fleet(f) => f.changed(),
        }
    }

    fn verdict(&self) -> Result<(), CliError> {
        match self {
            Self::One { .. } => Ok(()),
            Self::Fleet(f) => f.verdict(),
        }
    }
}

/// After a link for pulls: the failing pods of the namespace made before
/// it do not get it; `fix` makes them again. Said on stderr, and only
/// when there are some (a list it may not read says nothing).
pub async fn made_before(cluster: &rhpull_cluster::Cluster, change: &LinkChange) {
    for secret in &change.pull {
        let ns = &change.namespace;
        let sa = &change.service_account;
        let Ok(pods) = rhpull_cluster::failing::made_before_link(cluster, ns, sa, secret).await
        else {
            continue;
        };
        if !pods.is_empty() {
            crate::output::note(&text(
                "link.made_before",
                &[
                    ("pods", &crate::i18n::count("words.n.pods", pods.len())),
                    ("namespace", ns),
                    ("secret", secret),
                ],
            ));
        }
    }
}
