//! `rhpull rotate --username U [--registry R] [-A]`: after a registry service
//! account token is regenerated, find every pull secret (and the global pull
//! secret on OpenShift 4) holding that username, show the plan (on stderr),
//! confirm, and put the new token in — keeping every other entry.

use rhpull_cluster::access::{self, Need};
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::global::{self, GlobalEdit, GlobalPlan};
use rhpull_cluster::rotate::{self, Target};
use rhpull_cluster::{ClusterError, DryRun, Outcome, inventory};
use rhpull_core::Credential;
use rhpull_core::authfile::keys;
use secrecy::SecretString;

use crate::cli::{KubeArgs, RotateArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::render::{Block, Report};
use crate::{output, prompt, words};

struct Rotate<'a> {
    args: &'a RotateArgs,
    /// Normalised, when only one registry's entries are to change.
    registry: Option<String>,
    username: String,
    secret: SecretString,
    mode: Mode,
}

pub async fn run(kube: &KubeArgs, args: &RotateArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let registry = args.registry.as_deref().map(keys::normalize);
    let asked_for = registry
        .as_deref()
        .unwrap_or(rhpull_core::registries::DEFAULT);
    let username = prompt::username(&args.secret, asked_for)?;
    let secret = prompt::secret(&args.secret, asked_for)?;
    let cmd = Rotate {
        args,
        registry,
        username,
        secret,
        mode: Mode {
            yes: args.yes,
            ..Mode::dry(args.write.dry_run.into())
        },
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

/// The secrets to rotate, and the global pull secret's part.
pub struct Plan {
    targets: Vec<Target>,
    global: Option<GlobalPlan>,
}

impl Rotate<'_> {
    /// The global pull secret's entries with the username, when the cluster
    /// has one that rhpull may read.
    async fn global_plan(&self, cx: &Cx<'_>) -> Result<Option<GlobalPlan>, CliError> {
        let cluster = cx.cluster()?;
        let entries = match global::show(cluster).await {
            Ok(entries) => entries,
            Err(ClusterError::NotOpenShift4(_) | ClusterError::Forbidden { .. }) => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let credentials: Vec<Credential> = entries
            .into_iter()
            .filter(|e| {
                e.username == self.username
                    && self.registry.as_ref().is_none_or(|r| r == &e.registry)
            })
            .map(|e| Credential {
                registry: e.registry,
                username: self.username.clone(),
                secret: self.secret.clone(),
            })
            .collect();
        if credentials.is_empty() {
            return Ok(None);
        }
        match global::plan(cluster, GlobalEdit::Set(credentials)).await {
            Ok(plan) => Ok(Some(plan)),
            // A hosted control plane's copy is the HostedCluster's to change.
            Err(ClusterError::HostedControlPlane) => {
                output::note(&text("rotate.hosted_global", &[]));
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The plan, on stderr: the result on stdout stays a document.
    fn show(&self, plan: &Plan) {
        output::note(&text(
            "rotate.plan_heading",
            &[("username", &self.username)],
        ));
        for t in &plan.targets {
            let registries = t.registries.join(", ");
            output::note(&format!(
                "  secret/{} -n {}  ({registries})",
                t.name, t.namespace
            ));
        }
        if let Some(g) = &plan.global {
            let registries: Vec<String> = g.changes.iter().map(|c| c.registry.clone()).collect();
            output::note(&format!(
                "  secret/{} -n {}  ({})",
                global::NAME,
                global::NAMESPACE,
                registries.join(", ")
            ));
        }
    }
}

impl ClusterCommand for Rotate<'_> {
    type Plan = Plan;
    type Report = RotateReport;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let scope = self.args.at.fleet.scope();
        let cluster = cx.cluster()?;
        let inv = inventory::collect_in(cluster, scope.as_ref()).await?;
        let mut targets = rotate::plan(&inv, &self.username, self.registry.as_deref());
        // On OpenShift 4 the global pull secret is rotated as the global one
        // (and left alone on a hosted control plane), never as any secret.
        if matches!(cluster.kind().await, Ok(ClusterKind::OpenShift4)) {
            targets.retain(|t| {
                (t.namespace.as_str(), t.name.as_str()) != (global::NAMESPACE, global::NAME)
            });
        }
        let plan = Plan {
            targets,
            global: self.global_plan(cx).await?,
        };
        if plan.targets.is_empty() && plan.global.is_none() {
            if scope.is_none() {
                rhpull_cluster::namespaces::require(cluster, &cx.namespace).await?;
            }
            let at = if scope.is_some() { "*" } else { &cx.namespace };
            return Err(CliError::failed(Reason::NothingToRotate, "rotate.nothing")
                .with("username", self.username.clone())
                .with("where", at));
        }
        self.show(&plan);
        Ok(plan)
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        let secrets = plan.targets.iter().map(Target::need);
        access::merged(secrets.chain(plan.global.as_ref().and_then(GlobalPlan::need)))
    }

    fn question(&self, plan: &Plan) -> Option<String> {
        let count = plan.targets.len() + usize::from(plan.global.is_some());
        Some(text("rotate.confirm", &[("count", &count.to_string())]))
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<RotateReport, CliError> {
        let cluster = cx.cluster()?;
        let dry_run = self.mode.dry_run;
        let mut secrets = Vec::new();
        for target in plan.targets {
            let outcome =
                rotate::apply(cluster, &target, &self.username, &self.secret, dry_run).await?;
            secrets.push(Rotated { target, outcome });
        }
        let global = match plan.global {
            Some(g) => global::write(cluster, g, dry_run).await?,
            None => Vec::new(),
        };
        Ok(RotateReport {
            secrets,
            global: global.into_iter().map(|c| c.registry).collect(),
            dry_run,
        })
    }
}

#[derive(Debug, serde::Serialize)]
struct Rotated {
    #[serde(flatten)]
    target: Target,
    outcome: Outcome,
}

/// Every secret rotated, and the registries of the global pull secret.
#[derive(Debug, serde::Serialize)]
pub struct RotateReport {
    secrets: Vec<Rotated>,
    global: Vec<String>,
    #[serde(skip)]
    dry_run: DryRun,
}

impl Report for RotateReport {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = (self.secrets.iter())
            .map(|d| format!("secret/{}", d.target.name))
            .collect();
        if !self.global.is_empty() {
            names.push(format!("secret/{}", global::NAME));
        }
        names
    }

    fn human(&self) -> Vec<Block> {
        let dry = words::dry(self.dry_run);
        let mut lines: Vec<String> = (self.secrets.iter())
            .map(|d| {
                text(
                    "rotate.done_line",
                    &[
                        ("name", &d.target.name),
                        ("namespace", &d.target.namespace),
                        ("outcome", &words::outcome(d.outcome)),
                        ("dry", &dry),
                    ],
                )
            })
            .collect();
        if !self.global.is_empty() {
            lines.push(text(
                "rotate.global_line",
                &[("registries", &self.global.join(", ")), ("dry", &dry)],
            ));
        }
        lines.into_iter().map(Block::Line).collect()
    }

    fn changed(&self) -> bool {
        self.secrets.iter().any(|d| d.outcome != Outcome::Unchanged) || !self.global.is_empty()
    }
}
