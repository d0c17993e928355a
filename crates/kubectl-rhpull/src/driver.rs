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
//! A read-only command is a [`ClusterQuery`]: it reads, and what it found
//! is its report ([`query`]). A choice a person makes about a plan (which
//! of several secrets) is asked in [`ClusterCommand::settle`], one cluster
//! at a time once every cluster is planned, never while others plan.
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
use crate::error::{CliError, Reason};
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

/// Where a command plans and applies.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// A cluster, connected.
    Cluster(&'a Cluster),
    /// None: the command plans without any request (`create
    /// --dry-run=client` in one namespace, as `kubectl create` renders).
    Offline,
}

/// What a command may use while it plans and applies in one cluster.
#[derive(Debug)]
pub struct Cx<'a> {
    pub target: Target<'a>,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    pub progress: &'a Progress,
}

impl Cx<'_> {
    /// The cluster, for a command that needs one (every command but an
    /// offline one: the driver connects unless [`Mode::offline`]).
    pub fn cluster(&self) -> Result<&Cluster, CliError> {
        match self.target {
            Target::Cluster(c) => Ok(c),
            Target::Offline => Err(CliError::usage(Reason::UsageError, "error.offline")),
        }
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

    /// Choices a person makes about a plan (on a terminal), once every
    /// cluster is planned; by default there are none.
    fn settle(&self, plan: Self::Plan) -> Result<Self::Plan, CliError> {
        Ok(plan)
    }

    /// False for a command that writes nothing (a [`ClusterQuery`]).
    fn writes(&self) -> bool {
        true
    }

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

/// A command that only reads: what it finds is its report, in one cluster
/// or many, in every output format.
pub trait ClusterQuery {
    type Report: Report;

    async fn read(&self, cx: &Cx<'_>) -> Result<Self::Report, CliError>;
}

/// A query as the driver runs commands: its plan is its report, and
/// there is nothing to apply.
#[derive(Debug)]
struct Query<'q, Q>(&'q Q);

impl<Q: ClusterQuery> ClusterCommand for Query<'_, Q> {
    type Plan = Q::Report;
    type Report = Q::Report;

    async fn plan(&self, cx: &Cx<'_>) -> Result<Q::Report, CliError> {
        self.0.read(cx).await
    }

    fn writes(&self) -> bool {
        false
    }

    async fn apply(&self, _: &Cx<'_>, found: Q::Report) -> Result<Q::Report, CliError> {
        Ok(found)
    }
}

/// Runs the read-only `q` in the clusters `conn` names and prints what it
/// found.
pub async fn query<Q: ClusterQuery>(
    q: &Q,
    conn: &Connection,
    format: Format,
) -> Result<(), CliError> {
    run(&Query(q), conn, format).await
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
        let planned = planned.settle(cmd)?.checked(cmd).await?;
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
    /// The person's choices about the plan.
    fn settle<C: ClusterCommand<Plan = P>>(self, cmd: &C) -> Result<Self, CliError> {
        Ok(Self {
            plan: cmd.settle(self.plan)?,
            ..self
        })
    }

    /// Step 3: every write the plan makes is asked of the API server
    /// (SelfSubjectAccessReview) first, also for `--dry-run=server`.
    async fn checked<C: ClusterCommand<Plan = P>>(self, cmd: &C) -> Result<Self, CliError> {
        if let (Some(c), false) = (&self.cluster, cmd.mode().dry_run == DryRun::Client) {
            access::require(c, &access::merged(cmd.needs(&self.plan))).await?;
        }
        Ok(self)
    }

    fn question<C: ClusterCommand<Plan = P>>(&self, cmd: &C, mode: Mode) -> Option<String> {
        (mode.dry_run == DryRun::None)
            .then(|| cmd.question(&self.plan))
            .flatten()
    }

    async fn apply<C: ClusterCommand<Plan = P>>(self, cmd: &C) -> Result<C::Report, CliError> {
        let cx = Cx {
            target: self
                .cluster
                .as_ref()
                .map_or(Target::Offline, Target::Cluster),
            namespace: self.namespace,
            progress: &self.progress,
        };
        if cmd.writes() {
            cx.progress.status(&text("progress.applying", &[]));
        }
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

/// Step 2 in one cluster: connect and plan.
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
        target: cluster.as_ref().map_or(Target::Offline, Target::Cluster),
        namespace,
        progress: &progress,
    };
    progress.status(&text("progress.planning", &[]));
    let plan = cmd.plan(&cx).await?;
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
    // Choices one cluster at a time, with no other cluster planning.
    let planned: Vec<Result<Planned<C::Plan>, CliError>> = planned
        .into_iter()
        .map(|p| p.and_then(|p| p.settle(cmd)))
        .collect();
    let planned: Vec<Result<Planned<C::Plan>, CliError>> = futures::stream::iter(planned)
        .map(|p| async move {
            match p {
                Ok(p) => p.checked(cmd).await,
                Err(e) => Err(e),
            }
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
                (
                    "contexts",
                    &crate::i18n::count("words.n.contexts", questions.len()),
                ),
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
    let ended = names.into_iter().zip(results).collect::<Vec<_>>();
    print_many(&ended, format, cmd.writes())
}

/// How one context ended: its report, or why there is none.
type Ended<R> = (String, Result<R, CliError>);

/// The failure of a context: its own, or its report's verdict.
fn failure_of<R: Report>(r: &Result<R, CliError>) -> Option<CliError> {
    match r {
        Ok(report) => report.verdict().err(),
        Err(CliError::Reported(exit)) => Some(CliError::Reported(*exit)),
        Err(CliError::Failed(f)) => Some(CliError::Failed(f.clone())),
    }
}

/// One report per context, keyed by context; exit 1 when any failed. A
/// context that failed holds `{"error": {"reason": …, <fields>}}`: the
/// same document in every language.
fn print_many<R: Report>(
    results: &[Ended<R>],
    format: Format,
    writes: bool,
) -> Result<(), CliError> {
    let failures: Vec<(&str, CliError)> = results
        .iter()
        .filter_map(|(ctx, r)| failure_of(r).map(|e| (ctx.as_str(), e)))
        .collect();
    match format {
        Format::Json | Format::Yaml => {
            let doc: serde_json::Map<String, serde_json::Value> = results
                .iter()
                .map(|(ctx, r)| {
                    let value = match r {
                        Ok(report) => report.document(),
                        Err(e) => serde_json::json!({
                            "error": e.failure().map(crate::error::Failure::document)
                        }),
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
        Format::Table => render::print_blocks(&summary(results, &failures, writes)),
    }
    if failures.is_empty() {
        return Ok(());
    }
    Err(
        CliError::failed(Reason::SomeContextsFailed, "multi.some_failed")
            .with("failed", failures.len())
            .with("total", results.len()),
    )
}

/// Each context's report under its name, then one line per context and
/// the totals: for a write, what changed; for a read, what was found.
fn summary<R: Report>(
    results: &[Ended<R>],
    failures: &[(&str, CliError)],
    writes: bool,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    let (mut changed, mut unchanged, mut read) = (0, 0, 0);
    let mut lines = Vec::new();
    for (ctx, r) in results {
        blocks.push(Block::Line(text("multi.heading", &[("context", ctx)])));
        match r {
            Ok(report) => blocks.extend(report.human()),
            Err(e) => blocks.extend(
                (e.failure().into_iter())
                    .flat_map(crate::error::Failure::lines)
                    .map(Block::Line),
            ),
        }
        blocks.push(Block::Blank);
        let line = match failures.iter().find(|(c, _)| c == ctx) {
            Some((_, e)) => match e.failure() {
                Some(f) => text(
                    "multi.failed_line",
                    &[("context", ctx), ("what", &f.what())],
                ),
                None => text("multi.failed_reported", &[("context", ctx)]),
            },
            None if !writes => {
                read += 1;
                let found = (r.as_ref().ok().and_then(Report::found))
                    .unwrap_or_else(|| text("multi.read", &[]));
                text("multi.found_line", &[("context", ctx), ("found", &found)])
            }
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
    if !writes {
        blocks.push(Block::Line(text(
            "multi.totals_read",
            &[
                (
                    "contexts",
                    &crate::i18n::count("words.n.contexts", results.len()),
                ),
                ("read", &read.to_string()),
                ("failed", &failures.len().to_string()),
            ],
        )));
        return blocks;
    }
    blocks.push(Block::Line(text(
        "multi.totals",
        &[
            (
                "contexts",
                &crate::i18n::count("words.n.contexts", results.len()),
            ),
            ("changed", &changed.to_string()),
            ("unchanged", &unchanged.to_string()),
            ("failed", &failures.len().to_string()),
        ],
    )));
    blocks
}
