//! `rhpull global show | status | check | set REGISTRY | remove REGISTRY`:
//! OpenShift 4's `openshift-config/pull-secret`, changed one registry at a
//! time, never dropping another's entry, after a confirmation (`--yes`
//! answers it), and followed to the nodes.
//!
//! - this file: `show` and `check`;
//! - [`edit`]: `set` and `remove`, and what they report;
//! - [`rollout`]: `status`, and the words for a rollout followed with
//!   `--wait`.

mod edit;
mod rollout;

pub use edit::{
    GlobalChanges, HostedEdit, Rollout, follow, rollout_blocks, rollout_document, rollout_done,
    started,
};

use rhpull_cluster::global::{self, Entry};
use rhpull_core::sso::CheckReport;

use crate::cli::{GlobalAction, GlobalArgs, GlobalCheckArgs, GlobalShowArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::registry_check;
use crate::render::{Block, Report};

pub async fn run(kube: &KubeArgs, args: &GlobalArgs) -> Result<(), CliError> {
    match &args.action {
        GlobalAction::Show(a) => show(kube, a).await,
        GlobalAction::Status(a) => rollout::status(kube, a).await,
        GlobalAction::Check(a) => check(kube, a).await,
        GlobalAction::Set(a) => edit::set(kube, a).await,
        GlobalAction::Remove(a) => edit::remove(kube, a).await,
    }
}

struct Show;

async fn show(kube: &KubeArgs, args: &GlobalShowArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    driver::query(&Show, &conn, args.output.into()).await
}

impl ClusterQuery for Show {
    type Report = Entries;

    async fn read(&self, cx: &Cx<'_>) -> Result<Entries, CliError> {
        Ok(Entries(global::show(cx.cluster()?).await?))
    }
}

/// The registries and usernames of the global pull secret.
#[derive(Debug)]
pub struct Entries(Vec<Entry>);

impl Report for Entries {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self.0)
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().map(|e| e.registry.clone()).collect()
    }

    fn human(&self) -> Vec<Block> {
        let rows = (self.0.iter())
            .map(|e| vec![e.registry.clone(), e.username.clone()])
            .collect();
        vec![crate::render::table(
            &["global.col.registry", "global.col.username"],
            rows,
        )]
    }
}

/// Is the global pull secret still good? The registry flow for each entry,
/// one line each, without printing a secret; exit 1 if any fails.
struct Check<'a> {
    args: &'a GlobalCheckArgs,
    insecure: bool,
}

async fn check(kube: &KubeArgs, args: &GlobalCheckArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    let cmd = Check {
        args,
        insecure: kube.insecure_skip_tls_verify,
    };
    driver::query(&cmd, &conn, args.output.into()).await
}

#[derive(Debug, serde::Serialize)]
struct EntryCheck {
    registry: String,
    username: String,
    report: CheckReport,
}

impl ClusterQuery for Check<'_> {
    type Report = Checks;

    async fn read(&self, cx: &Cx<'_>) -> Result<Checks, CliError> {
        let mut checks = Vec::new();
        for c in global::credentials(cx.cluster()?).await? {
            let mut options = registry_check::options(&c.registry, &self.args.net, self.insecure);
            options.credential = Some(c.clone());
            checks.push(EntryCheck {
                report: registry_check::run(&options).await?,
                registry: c.registry,
                username: c.username,
            });
        }
        Ok(Checks(checks))
    }
}

#[derive(Debug)]
struct Checks(Vec<EntryCheck>);

impl Report for Checks {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self.0)
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().map(|c| c.registry.clone()).collect()
    }

    fn human(&self) -> Vec<Block> {
        let line = |c: &EntryCheck| {
            let who = [("registry", c.registry.as_str()), ("username", &c.username)];
            let Some(cause) = c.report.cause() else {
                return text("global.check_ok", &who);
            };
            let (what, _, next) = super::check::render::cause_texts(cause, &c.registry);
            let next = next.map(|n| format!(" — {n}")).unwrap_or_default();
            text(
                "global.check_failed",
                &[who[0], who[1], ("what", &what), ("next", &next)],
            )
        };
        self.0.iter().map(|c| Block::Line(line(c))).collect()
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.0.iter().all(|c| c.report.passed) {
            Ok(())
        } else {
            Err(CliError::Reported(Exit::Failed))
        }
    }
}
