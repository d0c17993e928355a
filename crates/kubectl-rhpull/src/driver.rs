//! The one driver every cluster command runs through, so that what
//! commands share is done once and the same way:
//!
//! 1. *Resolve* happened before (each command's `Options`, no I/O).
//! 2. *Plan*: connect, then the command reads what is there and plans
//!    ([`ClusterCommand::plan`]); with `--dry-run=client` and nothing to
//!    compare with, it plans without a cluster at all.
//! 3. *Needs*: every write the plan makes is asked of the API server
//!    (SelfSubjectAccessReview) before any is sent, also for
//!    `--dry-run=server`; a denied one is named, and nothing is written.
//! 4. *Confirm* what changes shared state, once for every cluster, then
//!    *apply*.
//! 5. *Report* through [`render`](crate::render).
//!
//! With several contexts (`--contexts`, `--all-contexts`,
//! `--context-selector`) each cluster gets its own client, clusters run
//! `--cluster-concurrency` at a time, one that fails never stops the
//! others, and the report is keyed by context.

use futures::StreamExt as _;
use rhpull_cluster::access::{self, Need};
use rhpull_cluster::kubeconfig::{self, Kubeconfig};
use rhpull_cluster::{Cluster, DryRun};

use crate::connection::Connection;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::progress::Progress;
use crate::render::{self, Block, Format, Report};
use crate::{output, prompt};

/// How a command runs, as far as the driver is concerned.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    pub dry_run: DryRun,
    /// `--yes`: confirmations are answered without a terminal.
    pub yes: bool,
    /// Plans without any request (`create --dry-run=client`, an export
    /// that writes nothing to a cluster).
    pub offline: bool,
}

impl Mode {
    /// A command whose only setting is `--dry-run`.
    pub fn dry(dry_run: DryRun) -> Self {
        Self {
            dry_run,
            ..Self::default()
        }
    }
}

/// What a command may use while it plans and applies in one cluster.
#[derive(Debug)]
pub struct Cx<'a> {
    cluster: Option<&'a Cluster>,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    pub progress: &'a Progress,
}

impl Cx<'_> {
    /// The cluster (every command but an offline one has one).
    pub fn cluster(&self) -> Result<&Cluster, CliError> {
        self.cluster
            .ok_or_else(|| CliError::from_catalogue(Exit::Failed, "error.offline", &[]))
    }
}

/// A command that talks to clusters, in the driver's steps.
pub trait ClusterCommand {
    type Plan;
    type Report: Report;

    fn mode(&self) -> Mode {
        Mode::default()
    }

    /// Reads what is there and decides what to do; writes nothing.
    async fn plan(&self, cx: &Cx<'_>) -> Result<Self::Plan, CliError>;

    /// Every write the plan will make.
    fn needs(&self, _plan: &Self::Plan) -> Vec<Need> {
        Vec::new()
    }

    /// What to confirm before applying, when the plan changes shared state.
    fn question(&self, _plan: &Self::Plan) -> Option<String> {
        None
    }

    /// Carries out the plan.
    async fn apply(&self, cx: &Cx<'_>, plan: Self::Plan) -> Result<Self::Report, CliError>;
}

/// Runs `cmd` in the clusters `conn` names and prints what it reports.
pub async fn run<C: ClusterCommand>(
    cmd: &C,
    conn: &Connection,
    format: Format,
) -> Result<(), CliError> {
    let mode = cmd.mode();
    let config = if mode.offline {
        if mode.dry_run == DryRun::Client {
            output::note(&text("dry_run.offline", &[]));
        }
        kubeconfig::load(&conn.options.kubeconfig).ok()
    } else {
        Some(kubeconfig::load(&conn.options.kubeconfig)?)
    };
    let contexts = match &config {
        Some(c) => conn.contexts(c)?,
        None => vec![conn.options.context.clone()],
    };
    if !conn.many() {
        let progress = Progress::single();
        let context = contexts.into_iter().next().flatten();
        let planned = plan_in(cmd, conn, config.as_ref(), context, progress).await?;
        if let Some(q) = planned.question(cmd, mode) {
            prompt::confirm(&q, mode.yes)?;
        }
        let report = planned.apply(cmd).await?;
        return render::print(&report, format);
    }
    many(cmd, conn, config.as_ref(), contexts, format).await
}

/// A cluster's plan, ready to confirm and apply.
struct Planned<P> {
    cluster: Option<Cluster>,
    namespace: String,
    progress: Progress,
    plan: P,
}

impl<P> Planned<P> {
    fn question<C: ClusterCommand<Plan = P>>(&self, cmd: &C, mode: Mode) -> Option<String> {
        (mode.dry_run == DryRun::None)
            .then(|| cmd.question(&self.plan))
            .flatten()
    }

    async fn apply<C: ClusterCommand<Plan = P>>(self, cmd: &C) -> Result<C::Report, CliError> {
        let cx = Cx {
            cluster: self.cluster.as_ref(),
            namespace: self.namespace,
            progress: &self.progress,
        };
        cx.progress.status(&text("progress.applying", &[]));
        let report = cmd.apply(&cx, self.plan).await;
        cx.progress.finish(&text(
            if report.is_ok() {
                "progress.done"
            } else {
                "progress.failed"
            },
            &[],
        ));
        report
    }
}

/// Steps 2 and 3 in one cluster: connect, plan, and ask for what the plan
/// needs.
async fn plan_in<C: ClusterCommand>(
    cmd: &C,
    conn: &Connection,
    config: Option<&Kubeconfig>,
    context: Option<String>,
    progress: Progress,
) -> Result<Planned<C::Plan>, CliError> {
    let mode = cmd.mode();
    let cluster = match (mode.offline, config) {
        (false, Some(config)) => Some(conn.connect(config, context.as_deref()).await?),
        _ => None,
    };
    let namespace = cluster.as_ref().map_or_else(
        || conn.offline_namespace(context.as_deref()),
        |c| c.namespace.clone(),
    );
    let cx = Cx {
        cluster: cluster.as_ref(),
        namespace,
        progress: &progress,
    };
    progress.status(&text("progress.planning", &[]));
    let plan = cmd.plan(&cx).await?;
    if let (Some(c), false) = (&cluster, mode.dry_run == DryRun::Client) {
        access::require(c, &access::merged(cmd.needs(&plan))).await?;
    }
    let namespace = cx.namespace;
    Ok(Planned {
        cluster,
        namespace,
        progress,
        plan,
    })
}

/// The command in several clusters: all planned first, one confirmation
/// for all of them, then applied; a failure stays in its own cluster.
async fn many<C: ClusterCommand>(
    cmd: &C,
    conn: &Connection,
    config: Option<&Kubeconfig>,
    contexts: Vec<Option<String>>,
    format: Format,
) -> Result<(), CliError> {
    let multi = indicatif::MultiProgress::new();
    let names: Vec<String> = contexts
        .iter()
        .map(|c| c.clone().unwrap_or_default())
        .collect();
    let planned: Vec<Result<Planned<C::Plan>, CliError>> = futures::stream::iter(contexts)
        .map(|context| {
            let progress = Progress::line(&multi, context.as_deref().unwrap_or_default());
            plan_in(cmd, conn, config, context, progress)
        })
        .buffered(conn.concurrency)
        .collect()
        .await;
    let mode = cmd.mode();
    let questions: Vec<String> = names
        .iter()
        .zip(&planned)
        .filter_map(|(name, p)| {
            let q = p.as_ref().ok()?.question(cmd, mode)?;
            Some(text(
                "multi.question_line",
                &[("context", name), ("question", &q)],
            ))
        })
        .collect();
    if !questions.is_empty() {
        let all = text(
            "multi.confirm",
            &[
                ("count", &questions.len().to_string()),
                ("lines", &questions.join("\n")),
            ],
        );
        prompt::confirm(&all, mode.yes)?;
    }
    let results: Vec<Result<C::Report, CliError>> = futures::stream::iter(planned)
        .map(|p| async move {
            match p {
                Ok(p) => p.apply(cmd).await,
                Err(e) => Err(e),
            }
        })
        .buffered(conn.concurrency)
        .collect()
        .await;
    let _ = multi.clear();
    print_many(&names.into_iter().zip(results).collect::<Vec<_>>(), format)
}

/// One report per context, keyed by context; exit 1 when any failed.
fn print_many<R: Report>(
    results: &[(String, Result<R, CliError>)],
    format: Format,
) -> Result<(), CliError> {
    let failures: Vec<(&str, CliError)> = results
        .iter()
        .filter_map(|(ctx, r)| {
            let failed = match r {
                Ok(report) => report.verdict().err(),
                Err(e) => Some(e.clone()),
            };
            failed.map(|e| (ctx.as_str(), e))
        })
        .collect();
    match format {
        Format::Json | Format::Yaml => {
            let doc: serde_json::Map<String, serde_json::Value> = results
                .iter()
                .map(|(ctx, r)| {
                    let value = match r {
                        Ok(report) => report.document(),
                        Err(e) => serde_json::json!({"error": e.document()}),
                    };
                    (ctx.clone(), value)
                })
                .collect();
            let doc = serde_json::Value::Object(doc);
            if format == Format::Json {
                output::print_json(&doc);
            } else {
                output::print_yaml(&doc);
            }
        }
        Format::Name => results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .flat_map(Report::names)
            .for_each(|n| output::print_line(&n)),
        Format::Table => render::print_blocks(&summary(results, &failures)),
    }
    if failures.is_empty() {
        return Ok(());
    }
    Err(CliError::from_catalogue(
        Exit::Failed,
        "multi.some_failed",
        &[
            ("failed", &failures.len().to_string()),
            ("total", &results.len().to_string()),
        ],
    ))
}

/// Each context's report under its name, then one line per context and
/// the totals.
fn summary<R: Report>(
    results: &[(String, Result<R, CliError>)],
    failures: &[(&str, CliError)],
) -> Vec<Block> {
    let mut blocks = Vec::new();
    let (mut changed, mut unchanged) = (0, 0);
    let mut lines = Vec::new();
    for (ctx, r) in results {
        blocks.push(Block::Line(text("multi.heading", &[("context", ctx)])));
        match r {
            Ok(report) => blocks.extend(report.human()),
            Err(e) => blocks.extend(e.lines().into_iter().map(Block::Line)),
        }
        blocks.push(Block::Blank);
        let line = match failures.iter().find(|(c, _)| c == ctx) {
            Some((_, e)) => text("multi.failed_line", &[("context", ctx), ("what", &e.what)]),
            None if r.as_ref().is_ok_and(Report::changed) => {
                changed += 1;
                text("multi.changed_line", &[("context", ctx)])
            }
            None => {
                unchanged += 1;
                text("multi.unchanged_line", &[("context", ctx)])
            }
        };
        lines.push(Block::Line(line));
    }
    blocks.extend(lines);
    blocks.push(Block::Line(text(
        "multi.totals",
        &[
            ("total", &results.len().to_string()),
            ("changed", &changed.to_string()),
            ("unchanged", &unchanged.to_string()),
            ("failed", &failures.len().to_string()),
        ],
    )));
    blocks
}
