//! `rhpull check --failing [-n NS | -A | -l SEL]`: every pod waiting on a
//! failed image pull, grouped by what the kubelet would try, each group
//! checked once against the registry: its cause, the kubelet's own words,
//! the fix as a command, and the pods. Exit 1 when any group has a cause.

use rhpull_cluster::failing::{self, Diagnosis, GroupCause};
use rhpull_cluster::fleet::Scope;
use rhpull_cluster::pods::Source;
use rhpull_core::sso::{Cause, CheckOptions};

use super::render::cause_texts;
use crate::cli::{CheckArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::registry_check;
use crate::render::{Block, Report};

/// How many pods a group names in words (`-o json` has them all).
const NAMED: usize = 5;

struct Failing {
    scope: Option<Scope>,
    template: CheckOptions,
}

pub async fn run(kube: &KubeArgs, args: &CheckArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let cmd = Failing {
        scope: args.at.fleet.scope(),
        template: registry_check::template(&args.net, kube.insecure_skip_tls_verify),
    };
    driver::query(&cmd, &conn, args.output.into()).await
}

impl ClusterQuery for Failing {
    type Report = FailingReport;

    async fn read(&self, cx: &Cx<'_>) -> Result<FailingReport, CliError> {
        let pods = failing::find(cx.cluster()?, self.scope.as_ref()).await?;
        let groups = failing::group(&pods);
        let diagnoses = failing::diagnose(&self.template, groups)
            .await
            .map_err(registry_check::setup_error)?;
        let at = match &self.scope {
            None => cx.namespace.clone(),
            Some(_) => "*".into(),
        };
        Ok(FailingReport { diagnoses, at })
    }
}

/// Every group of failing pods, checked.
#[derive(Debug)]
pub struct FailingReport {
    diagnoses: Vec<Diagnosis>,
    /// The namespace looked in, or `*`.
    at: String,
}

/// `-n NS` or `--namespaces A,B` for the pods of a group.
fn where_of(d: &Diagnosis) -> String {
    let mut namespaces: Vec<&str> = d.group.pods.iter().map(|p| p.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    match namespaces.as_slice() {
        [one] => format!("-n {one}"),
        many => format!("--namespaces {}", many.join(",")),
    }
}

/// A credential problem the kubelet's login has (not the network's).
fn about_the_login(cause: &Cause) -> bool {
    matches!(
        cause,
        Cause::InvalidCredentials { .. }
            | Cause::TokenRejected { .. }
            | Cause::PasteMistake { .. }
            | Cause::IdentityTokenOnly { .. }
            | Cause::NoCredentials { .. }
    )
}

/// What failed and why, in words.
fn cause_words(d: &Diagnosis, registry: &str) -> (String, Option<String>) {
    let sa = d.group.service_account.as_str();
    match &d.cause {
        None => (text("failing.check_passes", &[]), None),
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
    }
}

/// The fix, as a command.
fn fix(d: &Diagnosis, registry: &str) -> Option<String> {
    let at = where_of(d);
    let sa = d.group.service_account.as_str();
    let args = [("registry", registry), ("where", at.as_str()), ("sa", sa)];
    match &d.cause {
        None => None,
        Some(GroupCause::Check { cause }) if about_the_login(cause) => {
            let tried = d.check.attempts.last()?;
            let user = d.check.tried.last().map_or("USER", |t| t.username.as_str());
            let key = match tried.source {
                Some(Source::Node { .. }) => "failing.fix.global",
                _ => "failing.fix.rotate",
            };
            Some(text(key, &[args[0], args[1], ("user", user)]))
        }
        Some(GroupCause::Check { cause }) => cause_texts(cause, registry).2,
        Some(GroupCause::NoCredentialMatches { .. }) => Some(text("failing.fix.link", &args)),
        Some(GroupCause::PredatesLink { .. }) => {
            let first = &d.group.pods[0].namespace;
            let pods: Vec<&str> = (d.group.pods.iter())
                .filter(|p| &p.namespace == first)
                .map(|p| p.name.as_str())
                .collect();
            let pods = pods.join(" ");
            Some(text(
                "failing.fix.recreate",
                &[("namespace", first), ("pods", &pods)],
            ))
        }
    }
}

/// The kubelet's words most pods of the group have.
fn kubelet_words(d: &Diagnosis) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in d
        .group
        .pods
        .iter()
        .filter_map(|p| p.kubelet_message.as_deref())
    {
        *counts.entry(m).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_string())
}

fn group_blocks(d: &Diagnosis) -> Vec<Block> {
    let g = &d.group;
    let registry = g.image.registry.as_str();
    let tried: Vec<String> = d
        .check
        .tried
        .iter()
        .map(|t| format!("{} ({})", source_name(&t.source), t.key))
        .collect();
    let tried = if tried.is_empty() {
        text("failing.nothing_matches", &[])
    } else {
        tried.join(", ")
    };
    let mark = if d.cause.is_some() { "✗" } else { "✓" };
    let mut lines = vec![text(
        "failing.group",
        &[
            ("mark", mark),
            ("count", &g.pods.len().to_string()),
            ("repository", &g.repository),
            ("tried", &tried),
            ("sa", &g.service_account),
        ],
    )];
    let (what, why) = cause_words(d, registry);
    lines.push(text("failing.cause", &[("what", &what)]));
    lines.extend(why.map(|w| format!("    {}{w}", text("error.why_label", &[]))));
    lines.extend(kubelet_words(d).map(|m| text("failing.kubelet", &[("message", &m)])));
    if d.network_differs {
        lines.push(text("failing.network_differs", &[]));
    }
    lines.extend(fix(d, registry).map(|f| text("failing.fix", &[("command", &f)])));
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

fn source_name(s: &Source) -> String {
    match s {
        Source::PodSecret { name } => name.clone(),
        Source::Node { secret } => text("pod.node", &[("secret", secret)]),
        Source::NodeFile { node, config } => {
            text("pod.node_file", &[("node", node), ("config", config)])
        }
    }
}

impl Report for FailingReport {
    fn document(&self) -> serde_json::Value {
        let groups: Vec<serde_json::Value> = (self.diagnoses.iter())
            .map(|d| {
                let registry = d.group.image.registry.as_str();
                serde_json::json!({
                    "repository": d.group.repository,
                    "image": d.group.image.to_string(),
                    "service_account": d.group.service_account,
                    "tried": d.check.tried,
                    "cause": d.cause,
                    "fix": fix(d, registry),
                    "network_differs": d.network_differs,
                    "kubelet_message": kubelet_words(d),
                    "check": d.check.attempts.last().map(|a| &a.report),
                    "pods": d.group.pods,
                })
            })
            .collect();
        serde_json::Value::Array(groups)
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
                ("pods", &pods.to_string()),
                ("groups", &self.diagnoses.len().to_string()),
            ],
        );
        let mut blocks = vec![Block::Line(heading), Block::Blank];
        blocks.extend(self.diagnoses.iter().flat_map(group_blocks));
        blocks
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.diagnoses.iter().any(|d| d.cause.is_some()) {
            Err(CliError::Reported(Exit::Failed))
        } else {
            Ok(())
        }
    }
}
