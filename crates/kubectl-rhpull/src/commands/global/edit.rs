//! `global set` and `global remove`: one edit, planned, confirmed, written;
//! then, on OpenShift 4, the rollout to the nodes is announced or, with
//! `--wait`, followed until every pool has it. On a hosted control plane
//! the edit goes to `kube-system/additional-pull-secret`, and `--wait`
//! follows HyperShift's merge and its syncer DaemonSet instead
//! ([`rhpull_cluster::hosted`]).

use std::time::Duration;

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::global::{self, GlobalEdit, GlobalPlan, RegistryChange};
use rhpull_cluster::hosted::{self, HostedWaited};
use rhpull_cluster::rollout::{self, Expected, Waited};
use rhpull_cluster::{Cluster, DryRun};
use rhpull_core::authfile::{Change, Selection, keys};

use super::rollout::{hosted_waited_lines, pool_progress, syncer_progress, waited_lines};
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
    /// Hosted: write a key the HostedCluster's pull secret has too.
    force: bool,
}

pub async fn set(kube: &KubeArgs, args: &GlobalSetArgs) -> Result<(), CliError> {
    let registry = keys::normalize(&args.registry);
    let selection = Selection::Named(vec![registry.clone()]);
    let found = creds::gather(&args.secret, &args.source, &selection, &registry)?;
    let edit = GlobalEdit::Set(found.into_iter().map(|f| f.credential).collect());
    change(kube, &args.change, edit, args.force).await
}

pub async fn remove(kube: &KubeArgs, args: &GlobalRemoveArgs) -> Result<(), CliError> {
    let edit = GlobalEdit::Remove(keys::normalize(&args.registry));
    change(kube, &args.change, edit, false).await
}

async fn change(
    kube: &KubeArgs,
    args: &GlobalChangeArgs,
    edit: GlobalEdit,
    force: bool,
) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    let mode = Mode {
        yes: args.yes,
        ..Mode::dry(args.write.dry_run.into())
    };
    let cmd = Edit {
        edit,
        mode,
        wait: args.rollout.wait,
        force,
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
        Ok(global::plan_with(cx.cluster()?, self.edit.clone(), self.force).await?)
    }

    fn needs(&self, plan: &GlobalPlan) -> Vec<Need> {
        plan.need().into_iter().collect()
    }

    fn question(&self, plan: &GlobalPlan) -> Option<String> {
        let registries: Vec<String> = plan.changes.iter().map(|c| c.registry.clone()).collect();
        let key = match (&self.edit, plan.hosted()) {
            (GlobalEdit::Set(_), None) => "global.confirm_set",
            (GlobalEdit::Remove(_), None) => "global.confirm_remove",
            (GlobalEdit::Set(_), Some(_)) => "global.hosted.confirm_set",
            (GlobalEdit::Remove(_), Some(h)) if h.deletes => "global.hosted.confirm_delete",
            (GlobalEdit::Remove(_), Some(_)) => "global.hosted.confirm_remove",
        };
        plan.changes_anything()
            .then(|| text(key, &[("registry", &registries.join(", "))]))
    }

    async fn apply(&self, cx: &Cx<'_>, plan: GlobalPlan) -> Result<GlobalChanges, CliError> {
        let cluster = cx.cluster()?;
        let dry_run = self.mode.dry_run;
        let hosted_plan = plan.hosted().cloned();
        let changes = global::write(cluster, plan, dry_run).await?;
        let mut report = GlobalChanges::new(changes, &self.edit, dry_run);
        report.hosted = hosted_plan.as_ref().map(|h| HostedEdit {
            forced: h.conflicts.clone(),
            deleted: h.deletes,
        });
        report.rollout = match self.wait.filter(|_| dry_run == DryRun::None) {
            Some(timeout) => Some(follow(cx, &self.edit, hosted_plan.as_ref(), timeout).await?),
            None => started(cluster, &report).await,
        };
        Ok(report)
    }
}

/// Follows a written edit to the nodes: the Machine Config Operator's
/// pools, or on a hosted control plane HyperShift's merge and syncer.
pub async fn follow(
    cx: &Cx<'_>,
    edit: &GlobalEdit,
    hosted_plan: Option<&hosted::HostedPlan>,
    timeout: Duration,
) -> Result<Rollout, CliError> {
    let cluster = cx.cluster()?;
    Ok(match hosted_plan {
        Some(h) => {
            let expected = Expected::of(edit);
            let progress = |s: &hosted::SyncerStatus| syncer_progress(cx.progress, s);
            Rollout::HostedWaited(hosted::wait(cluster, h, &expected, timeout, &progress).await?)
        }
        None => {
            let expected = Expected::of(edit);
            let progress = |p: &rollout::Pool| pool_progress(cx.progress, p);
            Rollout::Waited(rollout::wait(cluster, &expected, timeout, &progress).await?)
        }
    })
}

/// A rollout as JSON: `{state: started}`, or how following it ended.
pub fn rollout_document(r: &Rollout) -> serde_json::Value {
    match r {
        Rollout::Started | Rollout::HostedStarted => serde_json::json!({"state": "started"}),
        Rollout::Waited(w) => crate::render::json(w),
        Rollout::HostedWaited(w) => crate::render::json(w),
    }
}

/// A rollout in words.
pub fn rollout_blocks(r: &Rollout) -> Vec<Block> {
    match r {
        Rollout::Started => vec![Block::Line(text("global.rollout.started", &[]))],
        Rollout::HostedStarted => vec![Block::Line(text("global.hosted.started", &[]))],
        Rollout::Waited(w) => waited_lines(w),
        Rollout::HostedWaited(w) => hosted_waited_lines(w),
    }
}

/// False when a followed rollout did not reach every node.
pub fn rollout_done(r: &Rollout) -> bool {
    match r {
        Rollout::Waited(w) => w.all_done(),
        Rollout::HostedWaited(w) => w.done(),
        Rollout::Started | Rollout::HostedStarted => true,
    }
}

/// After a write on OpenShift 4: the rollout has started (through the
/// Machine Config Operator, or HyperShift's merge and syncer).
pub async fn started(cluster: &Cluster, report: &GlobalChanges) -> Option<Rollout> {
    let wrote = report.changed() && report.dry_run == DryRun::None;
    let openshift4 = matches!(cluster.kind().await, Ok(ClusterKind::OpenShift4));
    match (wrote && openshift4, report.hosted.is_some()) {
        (false, _) => None,
        (true, false) => Some(Rollout::Started),
        (true, true) => Some(Rollout::HostedStarted),
    }
}

/// The rollout to the nodes after a write.
#[derive(Debug)]
pub enum Rollout {
    /// Begun; say how to follow it.
    Started,
    /// Begun on a hosted control plane: HyperShift merges and syncs it.
    HostedStarted,
    /// Followed with `--wait`.
    Waited(Waited),
    /// Followed with `--wait` on a hosted control plane.
    HostedWaited(HostedWaited),
}

/// What a hosted edit did beyond its entries.
#[derive(Debug, serde::Serialize)]
pub struct HostedEdit {
    /// Registries written with `--force` that the HostedCluster's pull
    /// secret has too.
    pub forced: Vec<String>,
    /// The additional secret's last entry went: it was deleted.
    pub deleted: bool,
}

/// What an edit of the global pull secret did, registry by registry, and
/// the rollout to the nodes.
#[derive(Debug)]
pub struct GlobalChanges {
    pub changes: Vec<RegistryChange>,
    pub removing: bool,
    pub dry_run: DryRun,
    pub rollout: Option<Rollout>,
    /// Set when the edit went to a hosted control plane's additional
    /// pull secret.
    pub hosted: Option<HostedEdit>,
}

impl GlobalChanges {
    pub fn new(changes: Vec<RegistryChange>, edit: &GlobalEdit, dry_run: DryRun) -> Self {
        Self {
            changes,
            removing: matches!(edit, GlobalEdit::Remove(_)),
            dry_run,
            rollout: None,
            hosted: None,
        }
    }

    /// `namespace/name` of the secret written.
    fn secret(&self) -> (&'static str, &'static str) {
        match self.hosted {
            Some(_) => (hosted::NAMESPACE, hosted::ADDITIONAL),
            None => (global::NAMESPACE, global::NAME),
        }
    }
}

impl Report for GlobalChanges {
    fn document(&self) -> serde_json::Value {
        let (ns, name) = self.secret();
        let mut doc =
            serde_json::json!({ "secret": format!("{ns}/{name}"), "changes": self.changes });
        if let Some(h) = &self.hosted {
            doc["hosted"] = crate::render::json(h);
        }
        if let Some(r) = &self.rollout {
            doc["rollout"] = rollout_document(r);
        }
        doc
    }

    fn names(&self) -> Vec<String> {
        vec![format!("secret/{}", self.secret().1)]
    }

    fn human(&self) -> Vec<Block> {
        let (ns, name) = self.secret();
        let secret = format!("{ns}/{name}");
        let mut blocks: Vec<Block> = (self.changes.iter())
            .map(|c| {
                let line =
                    words::global_line(&secret, &c.registry, c.change, self.removing, self.dry_run);
                Block::Line(line)
            })
            .collect();
        if let Some(h) = &self.hosted {
            for registry in &h.forced {
                blocks.push(Block::Line(text(
                    "global.hosted.forced",
                    &[("registry", registry)],
                )));
            }
            if h.deleted {
                blocks.push(Block::Line(text(
                    "global.hosted.deleted",
                    &[("dry", &words::dry(self.dry_run))],
                )));
            }
        }
        blocks.extend(self.rollout.iter().flat_map(rollout_blocks));
        blocks
    }

    fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.change != Change::Unchanged)
    }

    fn verdict(&self) -> Result<(), CliError> {
        match &self.rollout {
            Some(r) if !rollout_done(r) => Err(CliError::Reported(Exit::Failed)),
            _ => Ok(()),
        }
    }
}
