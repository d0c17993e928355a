//! `rhpull check --failing [-n NS | -A | -l SEL] [--recreate]`: every pod
//! waiting on a failed image pull, grouped by what its node will really
//! try (the image policy, mirrors with the node's logins, the pod's own
//! secrets, then its node's credentials as its current rendered config
//! has them), each group checked once: its cause, the registry the node
//! would use, the kubelet's words and back-off, the fix, and the pods with
//! how to make each again. With `--recreate`, the pods of a group whose
//! check passes (a new pod would pull) are deleted for their controllers
//! to make again — never a bare pod. Exit 1 when any group has a cause.

use std::collections::BTreeMap;

use rhpull_cluster::DryRun;
use rhpull_cluster::access::{self, Need};
use rhpull_cluster::failing::{self, Diagnosis, GroupCause, PodRef};
use rhpull_cluster::fleet::Scope;
use rhpull_cluster::image_registry;
use rhpull_cluster::keepers::found::{self, Hint};
use rhpull_cluster::remedy::{Remedy, remedy_of};
use rhpull_core::sso::CheckOptions;
use serde::Serialize;

use super::pull;
use super::render::{cause_texts, source_name};
use crate::cli::{CheckArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Exit, Reason};
use crate::i18n::text;
use crate::registry_check;
use crate::render::{Block, Report};

/// How many pods a group names in words (`-o json` has them all).
const NAMED: usize = 5;

struct Failing {
    scope: Option<Scope>,
    template: CheckOptions,
    recreate: bool,
    mode: Mode,
}

pub async fn run(kube: &KubeArgs, args: &CheckArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let cmd = Failing {
        scope: args.at.fleet.scope(),
        template: registry_check::template(&args.net, kube.insecure_skip_tls_verify),
        recreate: args.recreate,
        mode: Mode {
            yes: args.yes,
            ..Mode::dry(args.dry_run.into())
        },
    };
    driver::run(&cmd, &conn, args.output.into()).await
}

/// `-n NS` or `--namespaces A,B`.
fn where_words(namespaces: &[String]) -> String {
    match namespaces {
        [one] => format!("-n {one}"),
        many => format!("--namespaces {}", many.join(",")),
    }
}

/// `mirror.example:5000` of `mirror.example:5000/team/app@sha256:…`.
fn mirror_host(reference: &str) -> String {
    reference.split('/').next().unwrap_or(reference).to_string()
}

/// A fix in words.
pub fn fix_words(d: &Diagnosis, fix: &Remedy) -> Option<String> {
    let registry = d.group.plan.image.registry.as_str();
    Some(match fix {
        Remedy::Rotate {
            user,
            registry,
            namespaces,
        } => text(
            "failing.fix.rotate",
            &[
                ("user", user),
                ("registry", registry),
                ("where", &where_words(namespaces)),
            ],
        ),
        Remedy::GlobalSet { registry, user } => text(
            "failing.fix.global",
            &[("registry", registry), ("user", user)],
        ),
        Remedy::Link {
            registry,
            service_account,
            namespaces,
        } => text(
            "failing.fix.link",
            &[
                ("registry", registry),
                ("sa", service_account),
                ("where", &where_words(namespaces)),
            ],
        ),
        Remedy::LinkSecret {
            secrets,
            service_account,
            namespaces,
        } => text(
            "failing.fix.link_secret",
            &[
                ("secrets", &secrets.join(" ")),
                ("sa", service_account),
                ("where", &where_words(namespaces)),
            ],
        ),
        Remedy::Grant {
            from,
            to,
            service_account,
        } => pull::grant(from, to, service_account),
        Remedy::AskAccess {
            from,
            to,
            service_account,
        } => text(
            "failing.fix.ask_access",
            &[
                ("project", to),
                (
                    "subject",
                    &image_registry::subject_of(from, service_account),
                ),
                ("from", from),
                ("sa", service_account),
            ],
        ),
        Remedy::Recreate => text("failing.fix.recreate", &[]),
        Remedy::WaitForRollout => text(
            "failing.fix.rollout",
            &[("registries", &d.group.node_behind.join(", "))],
        ),
        Remedy::ImagePolicy { field } => text("failing.fix.image_policy", &[("field", field)]),
        Remedy::MirrorLogin { mirror } => text("failing.fix.mirror_login", &[("mirror", mirror)]),
        Remedy::ProviderRbac {
            namespace,
            service_account,
        } => text(
            "failing.fix.provider_rbac",
            &[("namespace", namespace), ("sa", service_account)],
        ),
        Remedy::MirrorsOnly { source } => text("failing.fix.mirrors_only", &[("source", source)]),
        Remedy::OfCause { .. } => {
            let cause = match &d.cause {
                Some(GroupCause::Check { cause }) => cause,
                _ => return None,
            };
            cause_texts(cause, registry).2?
        }
    })
}

impl ClusterCommand for Failing {
    type Plan = FailingReport;
    type Report = FailingReport;

    fn mode(&self) -> Mode {
        self.mode
    }

    fn writes(&self) -> bool {
        self.recreate
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<FailingReport, CliError> {
        let found = failing::find(cx.cluster()?, self.scope.as_ref()).await?;
        let groups = failing::group(&found);
        let diagnoses = failing::diagnose(&self.template, groups)
            .await
            .map_err(registry_check::setup_error)?;
        let at = match &self.scope {
            None => cx.namespace.clone(),
            Some(_) => "*".into(),
        };
        let hints = keeper_hints(cx.cluster()?, &diagnoses).await;
        Ok(FailingReport {
            diagnoses,
            hints,
            at,
            recreated: None,
            dry_run: self.mode.dry_run,
            now: std::time::SystemTime::now(),
        })
    }

    fn needs(&self, plan: &FailingReport) -> Vec<Need> {
        // Without `--recreate` this is a read: no right is asked for.
        if !self.recreate {
            return Vec::new();
        }
        let requests = plan.to_recreate().map(rhpull_cluster::fix::Delete::of);
        access::merged(requests.map(|d| d.need()))
    }

    fn question(&self, plan: &FailingReport) -> Option<String> {
        let pods: Vec<String> = (plan.to_recreate())
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        (self.recreate && !pods.is_empty()).then(|| {
            text(
                "failing.recreate.confirm",
                &[
                    ("pods", &crate::i18n::count("words.n.pods", pods.len())),
                    ("list", &pods.join(", ")),
                ],
            )
        })
    }

    async fn apply(&self, cx: &Cx<'_>, mut plan: FailingReport) -> Result<FailingReport, CliError> {
        if !self.recreate {
            return Ok(plan);
        }
        let cluster = cx.cluster()?;
        let mut recreated = Recreated::default();
        // One request per controller template and namespace (as `fix`).
        let owned: Vec<PodRef> = plan.to_recreate().cloned().collect();
        let sent: Vec<(rhpull_cluster::fix::Delete, Result<(), Option<Reason>>)> =
            rhpull_cluster::fix::Recreate::of(&owned)
                .send(cluster, self.mode.dry_run)
                .await
                .into_iter()
                .map(|(d, r)| (d, r.map_err(|e| CliError::from(e).reason())))
                .collect();
        for p in owned {
            let of = rhpull_cluster::fix::Delete::of(&p);
            match sent.iter().find(|(d, _)| *d == of).map(|(_, r)| r) {
                Some(Err(reason)) => recreated.failed.push((p, *reason)),
                _ => recreated.deleted.push(p),
            }
        }
        recreated.by_hand = (plan.diagnoses.iter())
            .filter(|d| d.new_pods_pull())
            .flat_map(|d| &d.group.pods)
            .filter(|p| p.owner.is_none())
            .cloned()
            .collect();
        plan.recreated = Some(recreated);
        Ok(plan)
    }
}

/// What `--recreate` did.
#[derive(Debug, Default, Serialize)]
pub struct Recreated {
    /// Deleted, for their controllers to make again.
    pub deleted: Vec<PodRef>,
    /// Bare pods: to be made again by hand, from their manifests.
    pub by_hand: Vec<PodRef>,
    /// Not deleted, and why.
    pub failed: Vec<(PodRef, Option<Reason>)>,
}

/// Every group of failing pods, checked.
#[derive(Debug)]
pub struct FailingReport {
    diagnoses: Vec<Diagnosis>,
    /// For each diagnosis, its namespaces that lack a login because no
    /// keeper made it there (or none covers them).
    hints: Vec<Vec<(String, Hint)>>,
    /// The namespace looked in, or `*`.
    at: String,
    recreated: Option<Recreated>,
    dry_run: DryRun,
    now: std::time::SystemTime,
}

impl FailingReport {
    /// The pods `--recreate` deletes: those of groups whose new pods would
    /// pull, that a controller makes again.
    fn to_recreate(&self) -> impl Iterator<Item = &PodRef> {
        (self.diagnoses.iter())
            .filter(|d| d.new_pods_pull())
            .flat_map(|d| &d.group.pods)
            .filter(|p| p.owner.is_some())
    }
}

/// For groups whose pods have no login at all (`link`'s remedy): in each
/// of their namespaces, whether a keeper rhpull exported should have made
/// it, or whether the namespace came after the secrets rhpull made
/// elsewhere with no keeper for it. Nothing when keepers cannot be read.
async fn keeper_hints(
    cluster: &rhpull_cluster::Cluster,
    diagnoses: &[Diagnosis],
) -> Vec<Vec<(String, Hint)>> {
    // `(diagnosis, namespace, image)` of every namespace with no login.
    let mut wanted: Vec<(usize, String, String)> = Vec::new();
    for (i, d) in diagnoses.iter().enumerate() {
        if let Some(Remedy::Link { namespaces, .. }) = remedy_of(d) {
            let image = d.group.plan.image.to_string();
            wanted.extend(namespaces.into_iter().map(|ns| (i, ns, image.clone())));
        }
    }
    let mut out = vec![Vec::new(); diagnoses.len()];
    if wanted.is_empty() {
        return out;
    }
    let exported = found::exported(cluster).await.unwrap_or_default();
    let pairs: Vec<(String, String)> = (wanted.iter())
        .map(|(_, ns, image)| (ns.clone(), image.clone()))
        .collect();
    let hints = found::hints(cluster, &exported, &pairs).await;
    for ((i, ns, _), hint) in wanted.into_iter().zip(hints) {
        if let Some(h) = hint {
            out[i].push((ns, h));
        }
    }
    out
}

/// A keeper hint in words.
fn hint_words(namespace: &str, h: &Hint) -> String {
    match h {
        Hint::NotMade { keeper, secret } => text(
            "failing.keeper.not_made",
            &[
                ("namespace", namespace),
                ("keeper", keeper),
                ("secret", secret),
            ],
        ),
        Hint::NoKeeper { elsewhere } => text(
            "failing.keeper.none",
            &[("namespace", namespace), ("elsewhere", elsewhere)],
        ),
    }
}

/// The kubelet's words most pods of the group have.
fn kubelet_words(d: &Diagnosis) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in (d.group.pods.iter()).filter_map(|p| p.kubelet_message.as_deref()) {
        *counts.entry(m).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_string())
}

/// The earliest time a pod of the group was seen failing.
fn failing_since(d: &Diagnosis) -> Option<&str> {
    (d.group.pods.iter())
        .filter_map(|p| p.failing_since.as_deref())
        .min()
}

/// What failed and why, in words.
fn cause_words(d: &Diagnosis, registry: &str) -> (String, Option<String>) {
    let sa = d.group.service_account.as_str();
    let image = d.group.plan.image.to_string();
    match &d.cause {
        // On the integrated registry, allowed: the API server's answer.
        None if d.group.stream_access.is_some() => {
            let a = d.group.stream_access.as_ref().map(pull::stream_access);
            (
                a.unwrap_or_default(),
                Some(text("failing.stream_then", &[])),
            )
        }
        None => (text("failing.check_passes", &[]), None),
        Some(GroupCause::Refused { refusal }) => (pull::refusal(refusal, &image), None),
        Some(GroupCause::MirrorLogin {
            mirror,
            secrets,
            cause,
            ..
        }) => {
            let (what, _, _) = cause_texts(cause, &mirror_host(mirror));
            let args = [
                ("mirror", mirror.as_str()),
                ("secrets", &secrets.join(", ")),
                ("what", &what),
            ];
            (text("failing.mirror_login", &args), None)
        }
        Some(GroupCause::SourceBlocked { block }) => (pull::block(&image, block), None),
        Some(GroupCause::Check { cause }) => {
            let (what, why, _) = cause_texts(cause, registry);
            (what, why)
        }
        Some(GroupCause::NoCredentialMatches { cause }) => {
            let (what, _, _) = cause_texts(cause, registry);
            let args = [("registry", registry), ("what", what.as_str())];
            (text("failing.no_credential", &args), None)
        }
        Some(GroupCause::PredatesLink { secrets }) => {
            let args = [("sa", sa), ("secrets", &secrets.join(", "))];
            (text("failing.predates_link", &args), None)
        }
        Some(GroupCause::Unlinked { secrets }) => {
            let args = [("sa", sa), ("secrets", &secrets.join(", "))];
            (text("failing.unlinked", &args), None)
        }
        Some(GroupCause::NotGranted { project, subject }) => {
            let args = [("subject", subject.as_str()), ("project", project)];
            (text("failing.not_granted", &args), None)
        }
        Some(GroupCause::AccessUnknown { .. }) => {
            let a = d.group.stream_access.as_ref().map(pull::stream_access);
            (a.unwrap_or_default(), None)
        }
    }
}

/// How to make the group's pods again, each as it can be: those of a
/// controller deleted, namespace by namespace; bare ones from their
/// manifests (the first as the example).
/// True when the group's pods lack a secret their service account has
/// now: made again from a manifest, they need it added.
fn needs_secret(d: &Diagnosis) -> bool {
    matches!(d.cause, Some(GroupCause::PredatesLink { .. }))
}

fn recreate_lines(d: &Diagnosis) -> Vec<String> {
    let mut owned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut bare: Vec<&PodRef> = Vec::new();
    for p in &d.group.pods {
        match &p.owner {
            Some(_) => owned.entry(&p.namespace).or_default().push(&p.name),
            None => bare.push(p),
        }
    }
    let mut out: Vec<String> = owned
        .into_iter()
        .map(|(ns, pods)| {
            text(
                "failing.recreate.owned",
                &[("namespace", ns), ("pods", &pods.join(" "))],
            )
        })
        .collect();
    if let Some(first) = bare.first() {
        let names: Vec<String> = (bare.iter().take(NAMED))
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        let more = bare.len().saturating_sub(NAMED);
        let more = if more > 0 {
            text("failing.more", &[("count", &more.to_string())])
        } else {
            String::new()
        };
        out.push(text(
            "failing.recreate.bare",
            &[
                ("pods", &names.join(", ")),
                ("more", &more),
                (
                    "how",
                    &pull::manifest_steps(&first.namespace, &first.name, needs_secret(d)),
                ),
            ],
        ));
    }
    out
}

fn tried_words(d: &Diagnosis) -> String {
    let tried: Vec<String> = (d.check.tried.iter())
        .map(|t| format!("{} ({})", source_name(&t.source), t.key))
        .collect();
    if tried.is_empty() {
        text("failing.nothing_matches", &[])
    } else {
        text("failing.tries", &[("list", &tried.join(", "))])
    }
}

impl FailingReport {
    fn group_blocks(&self, d: &Diagnosis, hints: &[(String, Hint)]) -> Vec<Block> {
        let g = &d.group;
        let registry = g.plan.image.registry.as_str();
        let mark = if d.cause.is_some() { "✗" } else { "✓" };
        let mut lines = vec![text(
            "failing.group",
            &[
                ("mark", mark),
                ("pods", &crate::i18n::count("words.n.pods", g.pods.len())),
                ("repository", &g.repository),
                ("tried", &tried_words(d)),
                ("sa", &g.service_account),
            ],
        )];
        lines.extend(pull::route(&g.plan).map(|r| format!("    {r}")));
        lines.extend((d.check.blocked.iter()).map(|(r, b)| format!("    {}", pull::block(r, b))));
        lines.extend(pull::served_by(&d.check).map(|s| format!("    {s}")));
        let (what, why) = cause_words(d, registry);
        lines.push(text("failing.cause", &[("what", &what)]));
        lines.extend(why.map(|w| format!("    {}{w}", text("error.why_label", &[]))));
        lines.extend(pull::cache(&g.plan.cache).map(|c| format!("    {c}")));
        lines.extend(kubelet_words(d).map(|m| {
            let m = crate::words::hanging(&m, 6);
            text("failing.kubelet", &[("message", &m)])
        }));
        let left = g.backoff_left().map(|d| d.as_secs());
        lines.extend(pull::backoff(failing_since(d), left, self.now).map(|b| format!("    {b}")));
        if d.network_differs {
            lines.push(text("failing.network_differs", &[]));
        }
        let fix = remedy_of(d);
        lines.extend(
            (fix.as_ref())
                .and_then(|f| fix_words(d, f))
                .map(|f| text("failing.fix", &[("command", &f)])),
        );
        lines.extend(
            hints
                .iter()
                .map(|(ns, h)| format!("    {}", hint_words(ns, h))),
        );
        // Made again, they skip the back-off: where the check passes, or
        // where only new pods get what passes.
        if d.new_pods_pull() {
            lines.extend(recreate_lines(d));
        }
        let named: Vec<String> = (g.pods.iter().take(NAMED))
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        let more = g.pods.len().saturating_sub(NAMED);
        let more = if more > 0 {
            text("failing.more", &[("count", &more.to_string())])
        } else {
            String::new()
        };
        lines.push(text(
            "failing.pods",
            &[("pods", &named.join(", ")), ("more", &more)],
        ));
        let mut blocks: Vec<Block> = lines.into_iter().map(Block::Line).collect();
        blocks.push(Block::Blank);
        blocks
    }

    /// True when `pod`'s group lacks a secret its service account has now.
    fn needs_secret(&self, pod: &PodRef) -> bool {
        (self.diagnoses.iter()).any(|d| {
            needs_secret(d)
                && (d.group.pods.iter()).any(|p| p.namespace == pod.namespace && p.name == pod.name)
        })
    }

    fn recreated_blocks(&self) -> Vec<Block> {
        let Some(r) = &self.recreated else {
            return Vec::new();
        };
        let dry = crate::words::dry(self.dry_run);
        let mut lines: Vec<String> = (r.deleted.iter())
            .map(|p| {
                let owner = p.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name));
                text(
                    "failing.recreate.deleted",
                    &[
                        ("namespace", &p.namespace),
                        ("pod", &p.name),
                        ("owner", &owner.unwrap_or_default()),
                        ("dry", &dry),
                    ],
                )
            })
            .collect();
        lines.extend((r.by_hand.iter()).map(|p| {
            text(
                "failing.recreate.by_hand",
                &[(
                    "line",
                    &pull::recreate(&p.namespace, &p.name, None, self.needs_secret(p)),
                )],
            )
        }));
        lines.extend(r.failed.iter().map(|(p, reason)| {
            text(
                "failing.recreate.failed",
                &[
                    ("namespace", &p.namespace),
                    ("pod", &p.name),
                    ("reason", reason.map_or("-", |r| r.as_str())),
                ],
            )
        }));
        lines.into_iter().map(Block::Line).collect()
    }
}

impl Report for FailingReport {
    fn document(&self) -> serde_json::Value {
        let groups: Vec<serde_json::Value> = (self.diagnoses.iter())
            .enumerate()
            .map(|(i, d)| {
                let keepers: Vec<serde_json::Value> = (self.hints.get(i).into_iter().flatten())
                    .map(|(ns, h)| {
                        let mut v = serde_json::json!(h);
                        v["namespace"] = serde_json::json!(ns);
                        v
                    })
                    .collect();
                serde_json::json!({
                    "keepers": keepers,
                    "repository": d.group.repository,
                    "image": d.group.plan.image.to_string(),
                    "service_account": d.group.service_account,
                    "tried": d.check.tried,
                    "mirrors": d.group.plan.mirrors.iter().map(|m| m.reference.to_string()).collect::<Vec<_>>(),
                    "blocked": d.check.blocked,
                    "refused": d.check.refused,
                    "served_by": d.check.served_by,
                    "cache": d.group.plan.cache,
                    "node_behind": d.group.node_behind,
                    "image_registry": d.group.stream_access,
                    "cause": d.cause,
                    "reason": d.cause.as_ref().map(|c| reason_of(c).as_str()),
                    "fix": remedy_of(d),
                    "backing_off_since": failing_since(d),
                    "network_differs": d.network_differs,
                    "kubelet_message": kubelet_words(d),
                    "check": d.check.attempts.last().map(|a| &a.report),
                    "pods": d.group.pods,
                })
            })
            .collect();
        match &self.recreated {
            None => serde_json::Value::Array(groups),
            Some(r) => serde_json::json!({"groups": groups, "recreated": r}),
        }
    }

    fn names(&self) -> Vec<String> {
        let pods = self.diagnoses.iter().flat_map(|d| &d.group.pods);
        pods.map(|p| format!("pod/{}", p.name)).collect()
    }

    fn human(&self) -> Vec<Block> {
        if self.diagnoses.is_empty() {
            return vec![Block::Line(text("failing.none", &[("where", &self.at)]))];
        }
        let pods: usize = self.diagnoses.iter().map(|d| d.group.pods.len()).sum();
        let heading = text(
            "failing.heading",
            &[
                ("pods", &crate::i18n::count("words.n.pods", pods)),
                (
                    "groups",
                    &crate::i18n::count("words.n.groups", self.diagnoses.len()),
                ),
            ],
        );
        let mut blocks = vec![Block::Line(heading), Block::Blank];
        let hints = self.diagnoses.iter().zip(&self.hints);
        blocks.extend(hints.flat_map(|(d, h)| self.group_blocks(d, h)));
        blocks.extend(self.recreated_blocks());
        // One command for every fix a tool may write, confirmed by the kubelet.
        let fixable = (self.diagnoses.iter()).any(|d| remedy_of(d).is_some_and(|r| r.by_tool()));
        if fixable && self.recreated.is_none() {
            let at = if self.at == "*" {
                "-A".to_string()
            } else {
                format!("-n {}", self.at)
            };
            blocks.push(Block::Line(text("failing.fix_all", &[("where", &at)])));
        }
        blocks
    }

    fn changed(&self) -> bool {
        self.recreated
            .as_ref()
            .is_some_and(|r| !r.deleted.is_empty())
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.diagnoses.iter().any(|d| d.cause.is_some()) {
            Err(CliError::Reported(Exit::Failed))
        } else {
            Ok(())
        }
    }
}

/// A group's cause as machine output names it.
fn reason_of(c: &GroupCause) -> Reason {
    match c {
        GroupCause::Refused { .. } => Reason::ImagePolicyRefused,
        GroupCause::MirrorLogin { .. } => Reason::MirrorLoginNotUsed,
        GroupCause::SourceBlocked { .. } => Reason::SourceBlocked,
        GroupCause::Check { cause } | GroupCause::NoCredentialMatches { cause } => {
            super::render::cause_reason(cause)
        }
        GroupCause::PredatesLink { .. } => Reason::PodPredatesLink,
        GroupCause::Unlinked { .. } => Reason::SecretNotLinked,
        GroupCause::NotGranted { .. } => Reason::ImagePullerNotGranted,
        GroupCause::AccessUnknown { .. } => Reason::ImagePullerUnknown,
    }
}
