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
use crate::error::{CliError, Exit};
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
    wait: Duration,
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
        return Err(CliError::from_catalogue(
            Exit::Usage,
            "link.fleet_needs_secret",
            &[],
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
        wait: args.wait,
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
        wait: Duration::ZERO,
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

/// The pull secret to use when none is named: rhpull's only one in `ns`
/// (on a terminal, the one chosen when there are several).
pub async fn default_secret(cluster: &Cluster, ns: &str) -> Result<String, CliError> {
    let inv = inventory::collect(cluster, Some(ns)).await?;
    let managed: Vec<String> = inv
        .secrets
        .into_iter()
        .filter(|s| s.managed)
        .map(|s| s.name)
        .collect();
    match managed.as_slice() {
        [] => Err(CliError::from_catalogue(
            Exit::Failed,
            "link.no_managed_secret",
            &[("namespace", ns)],
        )),
        [one] => Ok(one.clone()),
        many => prompt::choose(
            &text("link.choose", &[("namespace", ns)]),
            many,
            "link.several_managed",
            &[("namespace", ns), ("secrets", &many.join(", "))],
        ),
    }
}

pub enum Plan {
    One(Box<LinkPlan>),
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
            [] => vec![default_secret(cluster, ns).await?],
            named => named.to_vec(),
        };
        link::require_secrets(cluster, ns, &secrets).await?;
        let plan = link::plan_link(cluster, ns, sa, &secrets, for_, self.wait).await?;
        Ok(Plan::One(Box::new(plan)))
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        match plan {
            Plan::One(p) => p.need().into_iter().collect(),
            Plan::Fleet(f) => f.needs(),
        }
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<LinkReport, CliError> {
        let cluster = cx.cluster()?;
        Ok(match plan {
            Plan::One(p) => LinkReport::One {
                change: link::write(cluster, &p, self.dry_run).await?,
                unlinking: self.link_for.is_none(),
                dry_run: self.dry_run,
            },
            Plan::Fleet(f) => LinkReport::Fleet(
                super::fleet::apply(cluster, cx, f, self.dry_run, self.concurrency).await,
            ),
        })
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
