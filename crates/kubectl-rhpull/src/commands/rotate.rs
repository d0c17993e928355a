//! `rhpull rotate --username U [--registry R] [-A]`: after a registry service
//! account token is regenerated, find every pull secret (and the global pull
//! secret on OpenShift 4) holding that username with another token, check
//! the new token with each registry's token flow (unless `--no-verify`),
//! show the plan (on stderr), confirm, and put the new token in — keeping
//! every other entry. With nothing to change, nothing is asked. On a
//! hosted control plane the global part is the additional pull secret's
//! entries, never the HostedCluster's; `--wait` follows a global change to
//! the nodes as `global set --wait` does.

use rhpull_cluster::access::{self, Need};
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::global::{self, GlobalEdit, GlobalPlan};
use rhpull_cluster::hosted;
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
use crate::{output, prompt, registry_check, words};

struct Rotate<'a> {
    args: &'a RotateArgs,
    /// Normalised, when only one registry's entries are to change.
    registry: Option<String>,
    username: String,
    secret: SecretString,
    mode: Mode,
    /// `--insecure-skip-tls-verify`, for the registry checks too.
    insecure: bool,
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
        insecure: kube.insecure_skip_tls_verify,
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

/// The secrets to rotate, and the global pull secret's part.
pub struct Plan {
    targets: Vec<Target>,
    /// The keepers rhpull exported: a target that is one's source spreads
    /// through it.
    keepers: Vec<rhpull_cluster::keepers::found::Exported>,
    global: Option<GlobalPlan>,
    /// Secrets holding the username with this very token already.
    unchanged: Vec<Target>,
}

impl Plan {
    fn changes_anything(&self) -> bool {
        !self.targets.is_empty()
            || self
                .global
                .as_ref()
                .is_some_and(GlobalPlan::changes_anything)
    }

    /// Every registry whose entries change, once.
    fn registries(&self) -> Vec<String> {
        let global = (self.global.iter())
            .flat_map(|g| g.changes.iter())
            .filter(|c| c.change != rhpull_core::authfile::Change::Unchanged)
            .map(|c| c.registry.clone());
        let mut all: Vec<String> = (self.targets.iter())
            .flat_map(|t| t.registries.iter().cloned())
            .chain(global)
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

impl Rotate<'_> {
    /// The entries of the global pull secret (on a hosted control plane,
    /// of the additional pull secret) that rhpull may read; on a hosted
    /// control plane also HyperShift's secrets as read, for the plan.
    async fn global_entries(
        &self,
        cluster: &rhpull_cluster::Cluster,
    ) -> Result<(Vec<global::Entry>, Option<hosted::Secrets>), ClusterError> {
        if !cluster.hosted().await {
            return Ok((global::show(cluster).await?, None));
        }
        let read = hosted::secrets(cluster).await?;
        let merge = hosted::merge_of(&read);
        // The HostedCluster's own entries are changed on the management
        // cluster: say so, and leave them.
        let theirs: Vec<String> = (merge.merged.iter())
            .filter(|e| e.from == hosted::Origin::Original && e.username == self.username)
            .map(|e| e.registry.clone())
            .collect();
        if !theirs.is_empty() {
            output::note(&text(
                "rotate.hosted_original",
                &[("registries", &theirs.join(", "))],
            ));
        }
        Ok((merge.additional, Some(read)))
    }

    /// The global pull secret's entries with the username, when the cluster
    /// has one that rhpull may read.
    async fn global_plan(&self, cx: &Cx<'_>) -> Result<Option<GlobalPlan>, CliError> {
        let cluster = cx.cluster()?;
        let (entries, hosted_read) = match self.global_entries(cluster).await {
            Ok(read) => read,
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
                secret: self.secret.clone(),
                ..Credential::new(e.registry, self.username.clone(), "")
            })
            .collect();
        if credentials.is_empty() {
            return Ok(None);
        }
        // Entries already there: a key the HostedCluster's pull secret
        // also has is rotated all the same (forced), as it was written.
        Ok(Some(
            global::plan_read(cluster, GlobalEdit::Set(credentials), true, hosted_read).await?,
        ))
    }

    /// Checks the new token with the token flow of every registry whose
    /// entries change, before anything is asked or written (`login` does
    /// the same); `--no-verify` skips it with a warning.
    async fn verify(&self, plan: &Plan) -> Result<(), CliError> {
        let registries = plan.registries();
        if self.args.no_verify {
            output::warn(&text(
                "rotate.unverified",
                &[("registries", &registries.join(", "))],
            ));
            return Ok(());
        }
        let logins: Vec<Credential> = (registries.iter())
            .map(|r| Credential {
                secret: self.secret.clone(),
                ..Credential::new(r.clone(), self.username.clone(), "")
            })
            .collect();
        let insecure = self.insecure;
        let (refused, unchecked) = ("rotate.not_verified", "rotate.unchecked");
        registry_check::verify(&logins, &self.args.net, insecure, refused, unchecked).await
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
            let source = format!("{}/{}", t.namespace, t.name);
            let kept = (plan.keepers.iter()).filter(|k| k.copies && k.source == source);
            for k in kept {
                output::note(&text("rotate.kept_source", &[("keeper", &k.keeper)]));
            }
        }
        if let Some(g) = &plan.global {
            let registries: Vec<String> = g.changes.iter().map(|c| c.registry.clone()).collect();
            let (ns, name) = g.secret();
            output::note(&format!(
                "  secret/{name} -n {ns}  ({})",
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
        let registry = self.registry.as_deref();
        let rotate::Targets {
            mut changing,
            mut unchanged,
            kept,
        } = rotate::plan(&inv, &self.username, &self.secret, registry);
        // A keeper's copies follow its source: said, never written.
        for (t, by) in &kept {
            let source = by.source.clone().unwrap_or_else(|| "-".into());
            output::note(&text(
                "rotate.kept_copy",
                &[
                    ("secret", &format!("secret/{} -n {}", t.name, t.namespace)),
                    ("keeper", &by.keeper),
                    ("source", &source),
                ],
            ));
        }
        let targets = &mut changing;
        // On OpenShift 4 the global pull secret is rotated as the global one,
        // never as any secret; on a hosted control plane so is the
        // additional pull secret, and HyperShift's own copies (the original
        // and the merge) are never written.
        if matches!(cluster.kind().await, Ok(ClusterKind::OpenShift4)) {
            let hosted = cluster.hosted().await;
            let ours = |t: &Target| {
                let at = (t.namespace.as_str(), t.name.as_str());
                at != (global::NAMESPACE, global::NAME)
                    && !(hosted
                        && at.0 == hosted::NAMESPACE
                        && [hosted::ADDITIONAL, hosted::GLOBAL, hosted::ORIGINAL].contains(&at.1))
            };
            targets.retain(ours);
            unchanged.retain(ours);
        }
        let keepers = if changing.is_empty() {
            Vec::new()
        } else {
            (rhpull_cluster::keepers::found::exported(cluster).await).unwrap_or_default()
        };
        let plan = Plan {
            keepers,
            targets: changing,
            global: self.global_plan(cx).await?,
            unchanged,
        };
        let holds = !plan.unchanged.is_empty() || plan.global.is_some();
        if !plan.changes_anything() && holds {
            // This token is already everywhere: nothing to ask, nothing to check.
            return Ok(plan);
        }
        if !plan.changes_anything() {
            if scope.is_none() {
                rhpull_cluster::namespaces::require(cluster, &cx.namespace).await?;
            }
            let at = if scope.is_some() { "*" } else { &cx.namespace };
            return Err(CliError::failed(Reason::NothingToRotate, "rotate.nothing")
                .with("username", self.username.clone())
                .with("where", at));
        }
        self.verify(&plan).await?;
        self.show(&plan);
        Ok(plan)
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        let secrets = plan.targets.iter().map(Target::need);
        access::merged(secrets.chain(plan.global.as_ref().and_then(GlobalPlan::need)))
    }

    fn question(&self, plan: &Plan) -> Option<String> {
        let global = plan
            .global
            .as_ref()
            .is_some_and(GlobalPlan::changes_anything);
        let count = plan.targets.len() + usize::from(global);
        plan.changes_anything().then(|| {
            text(
                "rotate.confirm",
                &[("secrets", &crate::i18n::count("words.n.secrets", count))],
            )
        })
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<RotateReport, CliError> {
        let cluster = cx.cluster()?;
        let dry_run = self.mode.dry_run;
        let mut secrets: Vec<Rotated> = (plan.unchanged.into_iter())
            .map(|target| Rotated {
                target,
                outcome: Outcome::Unchanged,
            })
            .collect();
        for target in plan.targets {
            let outcome =
                rotate::apply(cluster, &target, &self.username, &self.secret, dry_run).await?;
            secrets.push(Rotated { target, outcome });
        }
        let mut report = RotateReport {
            secrets,
            global: Vec::new(),
            global_secret: None,
            rollout: None,
            dry_run,
        };
        if let Some(g) = plan.global {
            let (ns, name) = g.secret();
            report.global_secret = Some(format!("{ns}/{name}"));
            let edit = g.edit().clone();
            let hosted_plan = g.hosted().cloned();
            let changes = global::write(cluster, g, dry_run).await?;
            report.global = changes
                .iter()
                .filter(|c| c.change != rhpull_core::authfile::Change::Unchanged)
                .map(|c| c.registry.clone())
                .collect();
            let mut changed = super::global::GlobalChanges::new(changes, &edit, dry_run);
            changed.hosted = hosted_plan.as_ref().map(|_| super::global::HostedEdit {
                forced: Vec::new(),
                deleted: false,
            });
            report.rollout = match (self.args.rollout.wait, report.global.is_empty(), dry_run) {
                (Some(timeout), false, DryRun::None) => {
                    Some(super::global::follow(cx, &edit, hosted_plan.as_ref(), timeout).await?)
                }
                _ => super::global::started(cluster, &changed).await,
            };
        }
        Ok(report)
    }
}

#[derive(Debug, serde::Serialize)]
struct Rotated {
    #[serde(flatten)]
    target: Target,
    outcome: Outcome,
}

/// Every secret rotated, and the registries of the global pull secret
/// (on a hosted control plane, of the additional pull secret).
#[derive(Debug, serde::Serialize)]
pub struct RotateReport {
    secrets: Vec<Rotated>,
    global: Vec<String>,
    /// `namespace/name` of the global part, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    global_secret: Option<String>,
    #[serde(skip)]
    rollout: Option<super::global::Rollout>,
    #[serde(skip)]
    dry_run: DryRun,
}

impl Report for RotateReport {
    fn document(&self) -> serde_json::Value {
        let mut doc = crate::render::json(&self);
        if let Some(r) = &self.rollout {
            doc["rollout"] = super::global::rollout_document(r);
        }
        doc
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = (self.secrets.iter())
            .map(|d| format!("secret/{}", d.target.name))
            .collect();
        if let (false, Some(s)) = (self.global.is_empty(), &self.global_secret) {
            let name = s.rsplit('/').next().unwrap_or(s);
            names.push(format!("secret/{name}"));
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
        if let (false, Some(secret)) = (self.global.is_empty(), &self.global_secret) {
            lines.push(text(
                "rotate.global_line",
                &[
                    ("secret", secret),
                    ("registries", &self.global.join(", ")),
                    ("dry", &dry),
                ],
            ));
        }
        let mut blocks: Vec<Block> = lines.into_iter().map(Block::Line).collect();
        blocks.extend(self.rollout.iter().flat_map(super::global::rollout_blocks));
        blocks
    }

    fn verdict(&self) -> Result<(), CliError> {
        match &self.rollout {
            Some(r) if !super::global::rollout_done(r) => {
                Err(CliError::Reported(crate::error::Exit::Failed))
            }
            _ => Ok(()),
        }
    }

    fn changed(&self) -> bool {
        self.secrets.iter().any(|d| d.outcome != Outcome::Unchanged) || !self.global.is_empty()
    }
}
