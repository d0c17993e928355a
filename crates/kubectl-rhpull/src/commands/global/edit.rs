//! `global set` and `global remove`: one edit, planned, confirmed, written;
//! then, on OpenShift 4, the rollout to the nodes is announced or, with
//! `--wait`, followed until every pool has it.

use std::time::Duration;

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::global::{self, GlobalEdit, GlobalPlan, RegistryChange};
use rhpull_cluster::rollout::{self, Expected, Waited};
use rhpull_cluster::{Cluster, DryRun};
use rhpull_core::authfile::{Change, Selection, keys};

use super::rollout::{pool_progress, waited_lines};
use crate::cli::{GlobalChangeArgs, GlobalRemoveArgs, GlobalSetArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::render::{Block, Report};
use crate::{creds, words};

/// One edit of the global pull secret, and how long to follow it.
struct Edit {
    edit: GlobalEdit,
    mode: Mode,
    wait: Option<Duration>,
}

pub async fn set(kube: &KubeArgs, args: &GlobalSetArgs) -> Result<(), CliError> {
    let registry = keys::normalize(&args.registry);
    let selection = Selection::Named(vec![registry.clone()]);
    let found = creds::gather(&args.secret, &args.source, &selection, &registry)?;
    let edit = GlobalEdit::Set(found.into_iter().map(|f| f.credential).collect());
    change(kube, &args.change, edit).await
}

pub async fn remove(kube: &KubeArgs, args: &GlobalRemoveArgs) -> Result<(), CliError> {
    let edit = GlobalEdit::Remove(keys::normalize(&args.registry));
    change(kube, &args.change, edit).await
}

async fn change(
    kube: &KubeArgs,
    args: &GlobalChangeArgs,
    edit: GlobalEdit,
) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    let mode = Mode {
        yes: args.yes,
        ..Mode::dry(args.write.dry_run.into())
    };
    let cmd = Edit {
        edit,
        mode,
        wait: args.wait,
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

impl ClusterCommand for Edit {
    type Plan = GlobalPlan;
    type Report = GlobalChanges;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<GlobalPlan, CliError> {
        Ok(global::plan(cx.cluster()?, self.edit.clone()).await?)
    }

    fn needs(&self, plan: &GlobalPlan) -> Vec<Need> {
        plan.need().into_iter().collect()
    }

    fn question(&self, plan: &GlobalPlan) -> Option<String> {
        let registries: Vec<String> = plan.changes.iter().map(|c| c.registry.clone()).collect();
        let key = match self.edit {
            GlobalEdit::Set(_) => "global.confirm_set",
            GlobalEdit::Remove(_) => "global.confirm_remove",
        };
        plan.changes_anything()
            .then(|| text(key, &[("registry", &registries.join(", "))]))
    }

    async fn apply(&self, cx: &Cx<'_>, plan: GlobalPlan) -> Result<GlobalChanges, CliError> {
        let cluster = cx.cluster()?;
        let dry_run = self.mode.dry_run;
        let changes = global::write(cluster, plan, dry_run).await?;
        let mut report = GlobalChanges::new(changes, &self.edit, dry_run);
        report.rollout = match self.wait {
            Some(timeout) if dry_run == DryRun::None => {
                let expected = expected(&self.edit);
                let progress = |p: &rollout::Pool| pool_progress(cx.progress, p);
                let waited = rollout::wait(cluster, &expected, timeout, &progress).await?;
                Some(Rollout::Waited(waited))
            }
            _ => started(cluster, &report).await,
        };
        Ok(report)
    }
}

/// What the nodes must have once the edit reached them.
fn expected(edit: &GlobalEdit) -> Expected {
    match edit {
        GlobalEdit::Set(credentials) => Expected {
            present: credentials.clone(),
            absent: Vec::new(),
        },
        GlobalEdit::Remove(registry) => Expected {
            present: Vec::new(),
            absent: vec![registry.clone()],
        },
    }
}

/// After a write on OpenShift 4 (not hosted): the rollout has started.
pub async fn started(cluster: &Cluster, report: &GlobalChanges) -> Option<Rollout> {
    let wrote = report.changed() && report.dry_run == DryRun::None;
    let openshift4 = matches!(cluster.kind().await, Ok(ClusterKind::OpenShift4));
    (wrote && openshift4).then_some(Rollout::Started)
}

/// The rollout to the nodes after a write.
#[derive(Debug)]
pub enum Rollout {
    /// Begun; say how to follow it.
    Started,
    /// Followed with `--wait`.
    Waited(Waited),
}

/// What an edit of the global pull secret did, registry by registry, and
/// the rollout to the nodes.
#[derive(Debug)]
pub struct GlobalChanges {
    pub changes: Vec<RegistryChange>,
    pub removing: bool,
    pub dry_run: DryRun,
    pub rollout: Option<Rollout>,
}

impl GlobalChanges {
    pub fn new(changes: Vec<RegistryChange>, edit: &GlobalEdit, dry_run: DryRun) -> Self {
        Self {
            changes,
            removing: matches!(edit, GlobalEdit::Remove(_)),
            dry_run,
            rollout: None,
        }
    }
}

impl Report for GlobalChanges {
    fn document(&self) -> serde_json::Value {
        let mut doc = serde_json::json!({ "changes": self.changes });
        match &self.rollout {
            Some(Rollout::Started) => doc["rollout"] = serde_json::json!({"state": "started"}),
            Some(Rollout::Waited(w)) => doc["rollout"] = crate::render::json(w),
            None => {}
        }
        doc
    }

    fn names(&self) -> Vec<String> {
        vec![format!("secret/{}", global::NAME)]
    }

    fn human(&self) -> Vec<Block> {
        let mut blocks: Vec<Block> = (self.changes.iter())
            .map(|c| {
                let line = words::global_line(&c.registry, c.change, self.removing, self.dry_run);
                Block::Line(line)
            })
            .collect();
        match &self.rollout {
            Some(Rollout::Started) => {
                blocks.push(Block::Line(text("global.rollout.started", &[])));
            }
            Some(Rollout::Waited(w)) => blocks.extend(waited_lines(w)),
            None => {}
        }
        blocks
    }

    fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.change != Change::Unchanged)
    }

    fn verdict(&self) -> Result<(), CliError> {
        match &self.rollout {
            Some(Rollout::Waited(w)) if !w.all_done() => Err(CliError::Reported(Exit::Failed)),
            _ => Ok(()),
        }
    }
}
