//! `global status`: per MachineConfigPool, its machines, and whether the
//! rendered config they run holds the current global pull secret, compared
//! registry by registry (never a secret). Also the words for a rollout
//! followed with `global set|remove --wait`.

use rhpull_cluster::rollout::{self, Holds, Pool, PoolHolding, PoolOutcome, RolloutStatus, Waited};

use crate::cli::{GlobalShowArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx};
use crate::error::CliError;
use crate::i18n::text;
use crate::progress::Progress;
use crate::render::{Block, Report};

struct Status;

pub async fn status(kube: &KubeArgs, args: &GlobalShowArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    driver::run(&Status, &conn, args.output.into()).await
}

impl ClusterCommand for Status {
    type Plan = StatusReport;
    type Report = StatusReport;

    async fn plan(&self, cx: &Cx<'_>) -> Result<StatusReport, CliError> {
        Ok(StatusReport(rollout::status(cx.cluster()?).await?))
    }

    async fn apply(&self, _: &Cx<'_>, plan: StatusReport) -> Result<StatusReport, CliError> {
        Ok(plan)
    }
}

#[derive(Debug)]
pub struct StatusReport(RolloutStatus);

/// `current`, `rolling out (1/3)`, `behind, paused`, …
fn holds_words(p: &PoolHolding) -> String {
    let counts = [
        ("updated", p.pool.updated.to_string()),
        ("machines", p.pool.machines.to_string()),
    ];
    let counts: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let state = match &p.holds {
        Holds::Current => text("global.holds.current", &[]),
        Holds::RollingOut => text("global.holds.rolling_out", &counts),
        Holds::Behind => text("global.holds.behind", &[]),
        Holds::Unknown { reason } => text("global.holds.unknown", &[("reason", reason)]),
    };
    let mut marks = Vec::new();
    if p.pool.paused {
        marks.push(text("global.holds.paused", &[]));
    }
    if p.pool.is_degraded() {
        marks.push(text("global.holds.degraded", &[]));
    }
    std::iter::once(state)
        .chain(marks)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report for StatusReport {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self.0)
    }

    fn names(&self) -> Vec<String> {
        let pools = self.0.pools.iter();
        pools
            .map(|p| format!("machineconfigpool/{}", p.pool.name))
            .collect()
    }

    fn human(&self) -> Vec<Block> {
        let rows = (self.0.pools.iter())
            .map(|p| {
                vec![
                    p.pool.name.clone(),
                    p.pool.machines.to_string(),
                    p.pool.updated.to_string(),
                    p.pool.degraded.to_string(),
                    p.pool.current.clone(),
                    holds_words(p),
                ]
            })
            .collect();
        let headers = [
            "global.col.pool",
            "global.col.machines",
            "global.col.updated",
            "global.col.degraded",
            "global.col.config",
            "global.col.pull_secret",
        ];
        let mut blocks = vec![crate::render::table(&headers, rows)];
        let line = if self.0.not_everywhere.is_empty() {
            text("global.everywhere", &[])
        } else {
            let list: Vec<String> = (self.0.not_everywhere.iter())
                .map(|n| {
                    text(
                        "global.registry_pools",
                        &[("registry", &n.registry), ("pools", &n.pools.join(", "))],
                    )
                })
                .collect();
            text("global.not_everywhere", &[("list", &list.join(", "))])
        };
        blocks.push(Block::Line(line));
        blocks
    }
}

/// The progress line of a pool while `--wait` follows it.
pub fn pool_progress(progress: &Progress, pool: &Pool) {
    let words = text(
        "global.rollout.progress",
        &[
            ("pool", &pool.name),
            ("updated", &pool.updated.to_string()),
            ("machines", &pool.machines.to_string()),
        ],
    );
    progress.item(&pool.name, &words);
}

/// One line per pool: how following it ended, and what to do next.
pub fn waited_lines(w: &Waited) -> Vec<Block> {
    w.pools
        .iter()
        .map(|end| {
            let pool = &end.pool;
            let line = match &end.outcome {
                PoolOutcome::Done { config } => {
                    text("global.rollout.done", &[("pool", pool), ("config", config)])
                }
                PoolOutcome::Degraded { message, nodes } => {
                    let describe: String = (nodes.iter())
                        .map(|n| text("global.rollout.describe_node", &[("node", n)]))
                        .collect();
                    text(
                        "global.rollout.degraded",
                        &[("pool", pool), ("message", message), ("nodes", &describe)],
                    )
                }
                PoolOutcome::Paused => text("global.rollout.paused", &[("pool", pool)]),
                PoolOutcome::TimedOut { updated, machines } => text(
                    "global.rollout.timed_out",
                    &[
                        ("pool", pool),
                        ("updated", &updated.to_string()),
                        ("machines", &machines.to_string()),
                    ],
                ),
            };
            Block::Line(line)
        })
        .collect()
}
