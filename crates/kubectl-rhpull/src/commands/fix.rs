//! `rhpull fix [-n NS | -A | -l SEL | --namespaces …] [--yes]
//! [--dry-run] [--wait DURATION]`: from ImagePullBackOff to Running in one
//! command. The failing pods are diagnosed in the groups `check --failing`
//! makes; each group's remedy (`rhpull_cluster::remedy`) that a tool may
//! carry out is planned as the writes the other commands plan (a pull
//! secret from your login, linked, and the pods made before it made
//! again; the pods made again; a login in the nodes' credentials; an
//! image-puller grant in the project an integrated-registry image is in), shown,
//! confirmed once, access-reviewed group by group (one refused never stops
//! the others), and written; then the pods and their replacements are
//! followed until the kubelet itself says pulled or failed again
//! (`rhpull_cluster::fix::follow`). A remedy no tool should carry out (a
//! refused token, the image policy, a rollout on its way) is reported
//! with its reason and left alone. Exit 0 only when every group's pods
//! are confirmed pulled.

use rhpull_cluster::failing::{self, Diagnosis};
use rhpull_cluster::fix::{self, Awaited, Verdict, Writes};
use rhpull_cluster::fleet::Scope;
use rhpull_cluster::link::SaWait;
use rhpull_cluster::remedy::{Remedy, remedy_of};
use rhpull_cluster::{DryRun, access};
use rhpull_core::sso::CheckOptions;

use super::check::failing::fix_words;
use crate::cli::{FixArgs, KubeArgs, SourceArgs};
use crate::connection::Connection;
use crate::creds;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Exit};
use crate::i18n::{count, text};
use crate::registry_check;
use crate::render::{Block, Report};

struct Fix<'a> {
    scope: Option<Scope>,
    template: CheckOptions,
    /// A login typed in (read once), for whichever registry needs one.
    typed: Option<rhpull_core::Credential>,
    source: &'a SourceArgs,
    wait: std::time::Duration,
    mode: Mode,
}

pub async fn run(kube: &KubeArgs, args: &FixArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let cmd = Fix {
        scope: args.at.fleet.scope(),
        template: registry_check::template(&args.net, kube.insecure_skip_tls_verify),
        typed: match args.secret.username {
            Some(_) => Some(creds::from_flags(
                &args.secret,
                rhpull_core::registries::DEFAULT,
            )?),
            None => None,
        },
        source: &args.source,
        wait: args.wait,
        mode: Mode {
            yes: args.yes,
            ..Mode::dry(args.dry_run.into())
        },
    };
    driver::run(&cmd, &conn, args.output.into()).await
}

/// What happened to one group.
#[derive(Debug)]
enum Done {
    /// Nothing written: the check passes, or no tool should.
    Left,
    /// No login for the registry the remedy needs.
    NeedsLogin { registry: String },
    /// Written (or, in a dry run, would be).
    Written,
    /// Refused (a right missing) or failed: the group was left.
    Failed(CliError),
}

/// One group: its diagnosis, remedy, writes, and what the kubelet said.
#[derive(Debug)]
struct GroupFix {
    diagnosis: Diagnosis,
    remedy: Option<Remedy>,
    writes: Writes,
    done: Done,
    /// Each pod of the group with the kubelet's verdict (followed only
    /// after a write that is not a dry run).
    verdicts: Vec<(failing::PodRef, Verdict)>,
}

impl GroupFix {
    fn confirmed(&self) -> bool {
        !self.verdicts.is_empty()
            && self
                .verdicts
                .iter()
                .all(|(_, v)| matches!(v, Verdict::Pulled { .. }))
    }
}

#[derive(Debug)]
pub struct FixReport {
    groups: Vec<GroupFix>,
    dry_run: DryRun,
    /// Where the kubelet failed again: the pods' new diagnosis, as
    /// `check --failing` makes it now.
    after: Vec<Diagnosis>,
}

impl ClusterCommand for Fix<'_> {
    type Plan = FixReport;
    type Report = FixReport;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<FixReport, CliError> {
        let cluster = cx.cluster()?;
        let found = failing::find(cluster, self.scope.as_ref()).await?;
        let diagnoses = failing::diagnose(&self.template, failing::group(&found))
            .await
            .map_err(registry_check::setup_error)?;
        let mut groups = Vec::new();
        for diagnosis in diagnoses {
            let remedy = remedy_of(&diagnosis);
            let writes = match &remedy {
                Some(r) if r.by_tool() => {
                    // The login found as `check` finds it: the registry's, or
                    // the mirror's, from the stored logins.
                    let login = match r.login_for() {
                        Some(registry) if self.typed.is_some() => {
                            (self.typed.clone()).map(|c| rhpull_core::Credential {
                                registry: registry.to_string(),
                                ..c
                            })
                        }
                        Some(registry) => {
                            creds::lookup(self.source, registry, false)?.map(|f| f.credential)
                        }
                        None => None,
                    };
                    let wait = SaWait::from_flag(None);
                    fix::plan(cluster, &diagnosis, r, login.as_ref(), wait).await?
                }
                _ => Writes::Nothing,
            };
            groups.push(GroupFix {
                diagnosis,
                remedy,
                writes,
                done: Done::Left,
                verdicts: Vec::new(),
            });
        }
        Ok(FixReport {
            groups,
            dry_run: self.mode.dry_run,
            after: Vec::new(),
        })
    }

    fn question(&self, plan: &FixReport) -> Option<String> {
        let changing: Vec<&GroupFix> = plan.groups.iter().filter(|g| g.writes.changes()).collect();
        let pods: usize = changing.iter().map(|g| g.diagnosis.group.pods.len()).sum();
        (!changing.is_empty()).then(|| {
            text(
                "fix.confirm",
                &[
                    ("groups", &count("words.n.groups", changing.len())),
                    ("pods", &count("words.n.pods", pods)),
                ],
            )
        })
    }

    async fn apply(&self, cx: &Cx<'_>, mut plan: FixReport) -> Result<FixReport, CliError> {
        let cluster = cx.cluster()?;
        let dry_run = self.mode.dry_run;
        let mut awaited: Vec<(usize, Awaited)> = Vec::new();
        // Node-wide logins reach the nodes through a rollout (the Machine
        // Config Operator's, or HyperShift's syncer): followed first, so
        // that a try of the kubelet's before its node had the login is not
        // taken for a failure of the fix.
        let mut rollouts = Vec::new();
        for (i, g) in plan.groups.iter_mut().enumerate() {
            if let Writes::NeedsLogin { registry } = &g.writes {
                g.done = Done::NeedsLogin {
                    registry: registry.clone(),
                };
                continue;
            }
            if !g.writes.changes() {
                continue;
            }
            // Each group asks for its own rights: one refused is named,
            // and the others still go ahead.
            if let Err(e) = access::require(cluster, &g.writes.needs()).await {
                g.done = Done::Failed(e.into());
                continue;
            }
            let replaced: Vec<String> = (g.writes.recreated().into_iter())
                .flat_map(|r| r.delete.iter().map(|p| p.uid.clone()))
                .collect();
            if let Writes::Global(plan) = &g.writes {
                rollouts.push((plan.edit().clone(), plan.hosted().cloned()));
            }
            if let Err(e) = fix::write(cluster, g.writes.clone(), dry_run).await {
                g.done = Done::Failed(e.into());
                continue;
            }
            g.done = Done::Written;
            let bare: Vec<String> = (g.writes.recreated().into_iter())
                .flat_map(|r| r.by_hand.iter().map(|p| p.uid.clone()))
                .collect();
            for p in &g.diagnosis.group.pods {
                // A bare pod never gets what a link gave its service
                // account: it is made again by hand, not awaited.
                if bare.contains(&p.uid) {
                    continue;
                }
                let a = Awaited {
                    pod: p.clone(),
                    replaced: replaced.contains(&p.uid),
                };
                awaited.push((i, a));
            }
        }
        if dry_run == DryRun::None {
            for (edit, hosted) in &rollouts {
                super::global::follow(cx, edit, hosted.as_ref(), self.wait).await?;
            }
        }
        if dry_run == DryRun::None && !awaited.is_empty() {
            cx.progress.start(awaited.len());
            let list: Vec<Awaited> = awaited.iter().map(|(_, a)| a.clone()).collect();
            let verdicts = fix::follow(cluster, &list, self.wait).await;
            for ((i, a), v) in awaited.into_iter().zip(verdicts) {
                plan.groups[i].verdicts.push((a.pod, v));
            }
            // Failed again: what `check --failing` says of them now.
            let again = (plan.groups.iter().flat_map(|g| &g.verdicts))
                .any(|(_, v)| matches!(v, Verdict::Failed { .. }));
            if again {
                let found = failing::find(cluster, self.scope.as_ref()).await?;
                plan.after = failing::diagnose(&self.template, failing::group(&found))
                    .await
                    .map_err(registry_check::setup_error)?;
            }
        }
        Ok(plan)
    }
}

/// What a verdict says, in words.
fn verdict_words(p: &failing::PodRef, v: &Verdict) -> String {
    let at = format!("{}/{}", p.namespace, p.name);
    match v {
        Verdict::Pulled { pod } => text("fix.pulled", &[("pod", &at), ("by", pod)]),
        Verdict::Failed { pod, message } => text(
            "fix.failed_again",
            &[
                ("pod", &at),
                ("by", pod),
                ("message", &crate::words::hanging(message, 6)),
            ],
        ),
        Verdict::Gone => text("fix.gone", &[("pod", &at)]),
        Verdict::Pending => match p.backoff_left() {
            Some(left) => text(
                "fix.pending_backoff",
                &[
                    ("pod", &at),
                    ("left", &crate::words::duration(left.as_secs())),
                ],
            ),
            None => text("fix.pending", &[("pod", &at)]),
        },
    }
}

/// Fixes the pods' own pull sees without being made again (a node-wide
/// login, a grant the registry reads) reach them at the kubelet's next
/// try: how long the longest back-off of `g`'s pods still runs.
fn node_wide_wait(g: &GroupFix) -> Option<u64> {
    let at_next_try = matches!(g.writes, Writes::Global(_) | Writes::Grant { .. })
        || matches!(g.remedy, Some(Remedy::WaitForRollout));
    if !at_next_try {
        return None;
    }
    g.diagnosis.group.backoff_left().map(|d| d.as_secs())
}

impl FixReport {
    fn group_lines(&self, g: &GroupFix) -> Vec<String> {
        let d = &g.diagnosis;
        let mark = if g.confirmed() { "✓" } else { "✗" };
        let mut lines = vec![text(
            "fix.group",
            &[
                ("mark", mark),
                ("pods", &count("words.n.pods", d.group.pods.len())),
                ("image", &d.group.plan.image.to_string()),
                ("reason", &reason_words(g)),
            ],
        )];
        let remedy = g.remedy.as_ref().and_then(|r| fix_words(d, r));
        match (&g.done, &g.remedy) {
            (Done::NeedsLogin { registry }, _) => {
                lines.push(text("fix.needs_login", &[("registry", registry)]));
            }
            (Done::Failed(e), _) => {
                let f = e.failure();
                let what = f.map(crate::error::Failure::what).unwrap_or_default();
                let next = f.and_then(crate::error::Failure::next).unwrap_or_default();
                lines.push(text("fix.refused", &[("error", &what), ("next", &next)]));
            }
            (Done::Written, _) => lines.push(text(
                "fix.wrote",
                &[
                    ("what", &remedy.unwrap_or_default()),
                    ("dry", &crate::words::dry(self.dry_run)),
                ],
            )),
            (Done::Left, Some(r)) if !r.by_tool() => lines.push(text(
                "fix.not_by_tool",
                &[("what", &remedy.unwrap_or_default())],
            )),
            (Done::Left, _) => lines.push(text("fix.nothing_to_write", &[])),
        }
        if let Some(left) = node_wide_wait(g) {
            let left = crate::words::duration(left);
            lines.push(text("fix.next_try", &[("left", &left)]));
        }
        if let Some(r) = g.writes.recreated() {
            lines.extend(r.by_hand.iter().map(|p| {
                text(
                    "fix.by_hand",
                    &[("pod", &format!("{}/{}", p.namespace, p.name))],
                )
            }));
        }
        lines.extend(
            g.verdicts
                .iter()
                .map(|(p, v)| format!("    {}", verdict_words(p, v))),
        );
        lines
    }
}

/// The group's cause, as machine output names it.
fn reason_words(g: &GroupFix) -> String {
    g.remedy
        .as_ref()
        .map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v["action"].as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "passes".into())
}

impl Report for FixReport {
    fn document(&self) -> serde_json::Value {
        let groups: Vec<serde_json::Value> = (self.groups.iter())
            .map(|g| {
                let d = &g.diagnosis;
                let done = match &g.done {
                    Done::Left => serde_json::json!({"state": "left"}),
                    Done::NeedsLogin { registry } => {
                        serde_json::json!({"state": "needs_login", "registry": registry})
                    }
                    Done::Written => serde_json::json!({"state": "written"}),
                    Done::Failed(e) => {
                        serde_json::json!({"state": "failed", "reason": e.reason().map(|r| r.as_str())})
                    }
                };
                let pods: Vec<serde_json::Value> = (g.verdicts.iter())
                    .map(|(p, v)| serde_json::json!({"namespace": p.namespace, "name": p.name, "kubelet": v}))
                    .collect();
                serde_json::json!({
                    "image": d.group.plan.image.to_string(),
                    "cause": d.cause,
                    "fix": g.remedy,
                    "done": done,
                    "confirmed": g.confirmed(),
                    "pods": pods,
                    "failing": d.group.pods,
                })
            })
            .collect();
        let after: Vec<serde_json::Value> = (self.after.iter())
            .map(|d| {
                serde_json::json!({"image": d.group.plan.image.to_string(), "cause": d.cause,
                                   "fix": remedy_of(d), "pods": d.group.pods})
            })
            .collect();
        serde_json::json!({"groups": groups, "after": after, "dry_run": self.dry_run != DryRun::None})
    }

    fn names(&self) -> Vec<String> {
        let pods = self.groups.iter().flat_map(|g| &g.diagnosis.group.pods);
        pods.map(|p| format!("pod/{}", p.name)).collect()
    }

    fn human(&self) -> Vec<Block> {
        if self.groups.is_empty() {
            return vec![Block::Line(text("fix.none", &[]))];
        }
        let pods: usize = self
            .groups
            .iter()
            .map(|g| g.diagnosis.group.pods.len())
            .sum();
        let confirmed: usize = (self.groups.iter())
            .flat_map(|g| &g.verdicts)
            .filter(|(_, v)| matches!(v, Verdict::Pulled { .. }))
            .count();
        let mut blocks = vec![
            Block::Line(text(
                "fix.heading",
                &[
                    ("pods", &count("words.n.pods", pods)),
                    ("groups", &count("words.n.groups", self.groups.len())),
                    ("confirmed", &count("words.n.pods", confirmed)),
                ],
            )),
            Block::Blank,
        ];
        for g in &self.groups {
            blocks.extend(self.group_lines(g).into_iter().map(Block::Line));
            blocks.push(Block::Blank);
        }
        for d in &self.after {
            let what = remedy_of(d)
                .and_then(|r| fix_words(d, &r))
                .unwrap_or_default();
            let pods: Vec<String> = (d.group.pods.iter())
                .map(|p| format!("{}/{}", p.namespace, p.name))
                .collect();
            blocks.push(Block::Line(text(
                "fix.after",
                &[("pods", &pods.join(", ")), ("what", &what)],
            )));
        }
        blocks
    }

    fn changed(&self) -> bool {
        self.groups.iter().any(|g| matches!(g.done, Done::Written))
    }

    fn verdict(&self) -> Result<(), CliError> {
        let dry = self.dry_run != DryRun::None;
        if self
            .groups
            .iter()
            .all(|g| g.confirmed() || (dry && g.remedy.as_ref().is_some_and(Remedy::by_tool)))
        {
            Ok(())
        } else {
            Err(CliError::Reported(Exit::Failed))
        }
    }
}
