//! `rhpull grant FROM TO...` and `rhpull revoke FROM TO...`: pods in project
//! FROM may (or may no longer) pull images from each project TO — the
//! `system:image-puller` RoleBinding `oc policy add-role-to-user` makes.

use rhpull_cluster::access::{self, Need};
use rhpull_cluster::grants::{self, GrantChange, GrantPlan, Grantee};
use rhpull_cluster::{Cluster, ClusterError, DryRun, fleet, namespaces};

pub use rhpull_cluster::grants::Direction;

use crate::cli::{GrantArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::CliError;
use crate::i18n::text;
use crate::output;
use crate::render::{Block, Report};

struct Grant<'a> {
    args: &'a GrantArgs,
    direction: Direction,
    grantee: Grantee,
    dry_run: DryRun,
}

pub async fn run(kube: &KubeArgs, args: &GrantArgs, direction: Direction) -> Result<(), CliError> {
    let grantee = if args.all_service_accounts {
        Grantee::AllServiceAccounts
    } else if args.service_accounts.is_empty() {
        Grantee::ServiceAccounts(vec!["default".into()])
    } else {
        Grantee::ServiceAccounts(args.service_accounts.clone())
    };
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let cmd = Grant {
        args,
        direction,
        grantee,
        dry_run: args.write.dry_run.into(),
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

impl Grant<'_> {
    /// TO projects: the positional ones (each must exist) and those of
    /// the fleet flags.
    async fn targets(&self, cluster: &Cluster) -> Result<Vec<String>, CliError> {
        let mut to = self.args.to.clone();
        let missing = namespaces::missing_of(cluster, &to).await;
        if let Some(first) = missing.into_iter().next() {
            return Err(ClusterError::NamespaceNotFound(first).into());
        }
        if let Some(scope) = self.args.at.fleet.scope() {
            for ns in fleet::namespaces(cluster, &scope).await? {
                if ns != self.args.from && !to.contains(&ns) {
                    to.push(ns);
                }
            }
        }
        Ok(to)
    }

    async fn plan_for(&self, cluster: &Cluster, to: &str) -> Result<GrantPlan, CliError> {
        let from = &self.args.from;
        Ok(grants::plan(cluster, self.direction, from, to, &self.grantee).await?)
    }
}

impl ClusterCommand for Grant<'_> {
    type Plan = Vec<(String, GrantPlan)>;
    type Report = GrantReport;

    fn mode(&self) -> Mode {
        Mode::dry(self.dry_run)
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Self::Plan, CliError> {
        let cluster = cx.cluster()?;
        if self.direction == Direction::Grant {
            grants::require_role(cluster).await?;
            // As `oc policy add-role-to-user` the grant is valid for a
            // project made later; a typo is worth a word, not a failure.
            if namespaces::exists(cluster, &self.args.from).await == Some(false) {
                output::warn(&text("grant.from_missing", &[("from", &self.args.from)]));
            }
        }
        let mut plans = Vec::new();
        for to in self.targets(cluster).await? {
            let plan = self.plan_for(cluster, &to).await?;
            plans.push((to, plan));
        }
        Ok(plans)
    }

    fn needs(&self, plans: &Self::Plan) -> Vec<Need> {
        access::merged(plans.iter().flat_map(|(_, p)| p.needs()))
    }

    async fn apply(&self, cx: &Cx<'_>, plans: Self::Plan) -> Result<GrantReport, CliError> {
        let cluster = cx.cluster()?;
        let mut done = Vec::new();
        for (to, plan) in plans {
            let from = &self.args.from;
            let again =
                async || grants::plan(cluster, self.direction, from, &to, &self.grantee).await;
            let changes = grants::write(cluster, plan, self.dry_run, again).await?;
            done.push((to, changes));
        }
        Ok(GrantReport {
            from: self.args.from.clone(),
            done,
            direction: self.direction,
            dry_run: self.dry_run,
        })
    }
}

/// What `grant` or `revoke` changed, project by project.
#[derive(Debug)]
pub struct GrantReport {
    from: String,
    done: Vec<(String, Vec<GrantChange>)>,
    direction: Direction,
    dry_run: DryRun,
}

impl GrantReport {
    fn changes(&self) -> impl Iterator<Item = &GrantChange> {
        self.done.iter().flat_map(|(_, c)| c)
    }

    fn lines_for(&self, to: &str, changes: &[GrantChange]) -> Vec<String> {
        let dry = crate::words::dry(self.dry_run);
        let from = self.from.as_str();
        let changed: Vec<&GrantChange> = changes.iter().filter(|c| !c.changed.is_empty()).collect();
        if changed.is_empty() {
            let key = match self.direction {
                Direction::Grant => "grant.unchanged",
                Direction::Revoke => "revoke.unchanged",
            };
            return vec![text(key, &[("from", from), ("to", to), ("dry", &dry)])];
        }
        changed
            .iter()
            .map(|c| {
                let key = match (self.direction, c.outcome) {
                    (Direction::Grant, _) => "grant.changed",
                    (Direction::Revoke, grants::BindingOutcome::Deleted) => "revoke.deleted",
                    (Direction::Revoke, _) => "revoke.changed",
                };
                let args = [
                    ("from", from),
                    ("to", to),
                    ("binding", c.binding.as_str()),
                    ("subjects", &c.changed.join(", ")),
                    ("dry", &dry),
                ];
                text(key, &args)
            })
            .collect()
    }
}

impl Report for GrantReport {
    fn document(&self) -> serde_json::Value {
        let changes: Vec<&GrantChange> = self.changes().collect();
        crate::render::json(&changes)
    }

    fn names(&self) -> Vec<String> {
        self.changes()
            .map(|c| format!("rolebinding/{}", c.binding))
            .collect()
    }

    fn human(&self) -> Vec<Block> {
        self.done
            .iter()
            .flat_map(|(to, c)| self.lines_for(to, c))
            .map(Block::Line)
            .collect()
    }

    fn changed(&self) -> bool {
        self.changes().any(|c| !c.changed.is_empty())
    }
}
