//! `global status`: per MachineConfigPool, its machines, and whether the
//! rendered config they run holds the current global pull secret, compared
//! registry by registry (never a secret). Also the words for a rollout
//! followed with `global set|remove --wait`.

use rhpull_cluster::machineconfig::FileFault;
use rhpull_cluster::rollout::{self, Holds, Pool, PoolHolding, PoolOutcome, RolloutStatus, Waited};

use crate::cli::{GlobalShowArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::CliError;
use crate::i18n::text;
use crate::progress::Progress;
use crate::render::{Block, Report};

struct Status;

pub async fn status(kube: &KubeArgs, args: &GlobalShowArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.contexts))?;
    driver::query(&Status, &conn, args.output.into()).await
}

impl ClusterQuery for Status {
    type Report = StatusReport;

    async fn read(&self, cx: &Cx<'_>) -> Result<StatusReport, CliError> {
        Ok(StatusReport(rollout::status(cx.cluster()?).await?))
    }
}

#[derive(Debug)]
pub struct StatusReport(RolloutStatus);

/// Why a config's credentials file cannot be read, in words.
pub fn file_fault_words(fault: &FileFault) -> String {
    let key = match fault {
        FileFault::NoRenderedConfig => "node_file.fault.no_rendered_config",
        FileFault::ConfigNotFound => "node_file.fault.config_not_found",
        FileFault::NoKubeletFile => "node_file.fault.no_kubelet_file",
        FileFault::NoSource => "node_file.fault.no_source",
        FileFault::NotDataUrl => "node_file.fault.not_data_url",
        FileFault::BadEncoding => "node_file.fault.bad_encoding",
        FileFault::BadGzip => "node_file.fault.bad_gzip",
        FileFault::TooLarge => "node_file.fault.too_large",
        FileFault::UnsupportedCompression { compression } => {
            return text(
                "node_file.fault.compression",
                &[("compression", compression)],
            );
        }
        FileFault::NotCredentials { problem } => crate::error::fault_key(*problem),
    };
    text(key, &[])
}

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
        Holds::Unknown { config, why } => text(
            "global.holds.unknown",
            &[("why", &file_fault_words(why)), ("config", config)],
        ),
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
    if w.ended_before_reading {
        return vec![Block::Line(text("global.rollout.unread", &[]))];
    }
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
                PoolOutcome::TimedOut {
                    rendered: false, ..
                } => text("global.rollout.timed_out_unrendered", &[("pool", pool)]),
                PoolOutcome::TimedOut {
                    updated, machines, ..
                } => text(
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
