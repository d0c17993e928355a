//! `global status`: per MachineConfigPool, its machines, and whether the
//! rendered config they run holds the current global pull secret, compared
//! registry by registry (never a secret); on a hosted control plane, the
//! merge of the HostedCluster's and the additional pull secret, and the
//! syncer DaemonSet node by node. Also the words for a rollout followed
//! with `global set|remove --wait`.

use rhpull_cluster::hosted::{
    self, HostedOutcome, HostedStatus, HostedWaited, Origin, SyncState, SyncerStatus,
};
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
        let cluster = cx.cluster()?;
        if cluster.hosted().await {
            return Ok(StatusReport::Hosted(hosted::status(cluster).await?));
        }
        Ok(StatusReport::Pools(rollout::status(cluster).await?))
    }
}

#[derive(Debug)]
pub enum StatusReport {
    Pools(RolloutStatus),
    Hosted(HostedStatus),
}

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
        match self {
            Self::Pools(s) => crate::render::json(s),
            Self::Hosted(h) => {
                let mut doc = crate::render::json(h);
                doc["hosted"] = serde_json::Value::Bool(true);
                doc
            }
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Self::Pools(s) => (s.pools.iter())
                .map(|p| format!("machineconfigpool/{}", p.pool.name))
                .collect(),
            Self::Hosted(_) => vec![format!("daemonset/{}", hosted::SYNCER)],
        }
    }

    fn human(&self) -> Vec<Block> {
        match self {
            Self::Pools(s) => pools_human(s),
            Self::Hosted(h) => hosted_human(h),
        }
    }
}

/// The merge, registry by registry, and the syncer, node by node.
fn hosted_human(h: &HostedStatus) -> Vec<Block> {
    let mut blocks = vec![Block::Line(text("global.hosted.heading", &[]))];
    let rows = (h.merge.merged.iter())
        .map(|e| {
            let from = match (e.from, e.conflict) {
                (Origin::Original, false) => text("global.hosted.from_original", &[]),
                (Origin::Original, true) => text("global.hosted.from_original_won", &[]),
                (Origin::Additional, false) => text("global.hosted.from_additional", &[]),
                (Origin::Additional, true) => text("global.hosted.from_additional_won", &[]),
            };
            vec![e.registry.clone(), e.username.clone(), from]
        })
        .collect();
    blocks.push(crate::render::table(
        &[
            "global.col.registry",
            "global.col.username",
            "global.col.from",
        ],
        rows,
    ));
    for r in &h.merge.not_taken {
        let won = h
            .merge
            .merged
            .iter()
            .any(|m| &m.registry == r && m.conflict);
        let key = if won {
            "global.hosted.not_taken_original"
        } else {
            "global.hosted.not_merged_yet"
        };
        blocks.push(Block::Line(text(key, &[("registry", r)])));
    }
    blocks.extend(syncer_blocks(&h.syncer));
    blocks
}

/// The syncer's nodes as a table, and its progress in a line.
fn syncer_blocks(s: &SyncerStatus) -> Vec<Block> {
    if !s.present {
        return vec![Block::Line(text("global.hosted.no_syncer", &[]))];
    }
    let rows = (s.nodes.iter())
        .map(|n| {
            vec![
                n.node.clone(),
                n.pod.clone().unwrap_or_else(|| "-".into()),
                sync_words(n.pod.as_deref(), &n.state),
            ]
        })
        .collect();
    vec![
        crate::render::table(
            &[
                "global.col.node",
                "global.col.syncer_pod",
                "global.col.state",
            ],
            rows,
        ),
        Block::Line(text(
            "global.hosted.progress",
            &[
                ("updated", &s.updated.to_string()),
                ("nodes", &nodes(s.desired)),
            ],
        )),
    ]
}

/// `updated`, `failing (CrashLoopBackOff): oc logs …`, …
fn sync_words(pod: Option<&str>, state: &SyncState) -> String {
    match state {
        SyncState::Updated => text("global.hosted.sync.updated", &[]),
        SyncState::Updating => text("global.hosted.sync.updating", &[]),
        SyncState::NoPod => text("global.hosted.sync.no_pod", &[]),
        SyncState::NotEligible => text("global.hosted.sync.not_eligible", &[]),
        SyncState::Failing { reason } => text(
            "global.hosted.sync.failing",
            &[("reason", reason), ("pod", pod.unwrap_or("-"))],
        ),
    }
}

/// `3 nodes`, `1 node`.
fn nodes(n: i32) -> String {
    crate::i18n::count("words.n.nodes", usize::try_from(n).unwrap_or(0))
}

/// The syncer's progress while `--wait` follows it: one line per node.
pub fn syncer_progress(progress: &Progress, s: &SyncerStatus) {
    for n in &s.nodes {
        progress.item(
            &n.node,
            &format!("{}: {}", n.node, sync_words(n.pod.as_deref(), &n.state)),
        );
    }
}

/// How following a hosted change ended, and what to do next.
pub fn hosted_waited_lines(w: &HostedWaited) -> Vec<Block> {
    let mut lines: Vec<String> = (w.overridden.iter())
        .map(|r| text("global.hosted.overridden", &[("registry", r)]))
        .collect();
    lines.push(match &w.outcome {
        HostedOutcome::Done { nodes } => {
            text("global.hosted.done", &[("nodes", &self::nodes(*nodes))])
        }
        HostedOutcome::Failing { node, pod, reason } => text(
            "global.hosted.failing",
            &[("node", node), ("pod", pod), ("reason", reason)],
        ),
        HostedOutcome::TimedOut { merged: false, .. } => {
            text("global.hosted.timed_out_unmerged", &[])
        }
        HostedOutcome::TimedOut {
            updated, desired, ..
        } => text(
            "global.hosted.timed_out",
            &[
                ("updated", &updated.to_string()),
                ("nodes", &nodes(*desired)),
            ],
        ),
    });
    lines.into_iter().map(Block::Line).collect()
}

fn pools_human(status: &RolloutStatus) -> Vec<Block> {
    let rows = (status.pools.iter())
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
    let line = if status.not_everywhere.is_empty() {
        text("global.everywhere", &[])
    } else {
        let list: Vec<String> = (status.not_everywhere.iter())
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
                        (
                            "nodes",
                            &crate::i18n::count(
                                "words.n.nodes",
                                usize::try_from(*machines).unwrap_or(0),
                            ),
                        ),
                    ],
                ),
            };
            Block::Line(line)
        })
        .collect()
}
