//! `rhpull build-secret BC [SECRET] [--push]`: the BuildConfig's pull (or
//! push) secret — default the one pull secret rhpull manages in the
//! namespace — as `oc set build-secret --pull|--push` sets it.

use rhpull_cluster::access::Need;
use rhpull_cluster::buildconfig::{self, BuildSecretPlan};
use rhpull_cluster::{DryRun, Outcome, link};

use crate::cli::{BuildSecretArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::CliError;
use crate::i18n::text;
use crate::render::{Block, Report};

struct BuildSecret<'a> {
    args: &'a BuildSecretArgs,
    dry_run: DryRun,
}

pub async fn run(kube: &KubeArgs, args: &BuildSecretArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, None)?;
    let cmd = BuildSecret {
        args,
        dry_run: args.write.dry_run.into(),
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

/// The secret and the change, or — with several managed secrets and none
/// named — the BuildConfig read, for a person to choose.
enum Plan {
    Ready(String, BuildSecretPlan),
    Choose {
        namespace: String,
        candidates: Vec<String>,
        read: buildconfig::Read,
    },
}

impl BuildSecret<'_> {
    fn chosen(&self, plan: Plan) -> Result<(String, BuildSecretPlan), CliError> {
        match plan {
            Plan::Ready(secret, p) => Ok((secret, p)),
            Plan::Choose {
                namespace,
                candidates,
                read,
            } => {
                let secret = super::link::choose_secret(&namespace, &candidates)?;
                let p = read.plan(&secret, self.args.push);
                Ok((secret, p))
            }
        }
    }
}

impl ClusterCommand for BuildSecret<'_> {
    type Plan = Plan;
    type Report = BuildSecretReport;

    fn mode(&self) -> Mode {
        Mode::dry(self.dry_run)
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let (cluster, ns) = (cx.cluster()?, cx.namespace.as_str());
        let bc = &self.args.build_config;
        let secret = match &self.args.secret {
            Some(s) => s.clone(),
            None => match super::link::managed_secrets(cluster, ns).await?.as_slice() {
                [one] => one.clone(),
                several => {
                    return Ok(Plan::Choose {
                        namespace: ns.to_string(),
                        candidates: several.to_vec(),
                        read: buildconfig::read(cluster, ns, bc).await?,
                    });
                }
            },
        };
        link::require_secrets(cluster, ns, std::slice::from_ref(&secret)).await?;
        let plan = buildconfig::plan(cluster, ns, bc, &secret, self.args.push).await?;
        Ok(Plan::Ready(secret, plan))
    }

    fn settle(&self, plan: Plan) -> Result<Plan, CliError> {
        let (secret, p) = self.chosen(plan)?;
        Ok(Plan::Ready(secret, p))
    }

    fn needs(&self, plan: &Plan) -> Vec<Need> {
        match plan {
            Plan::Ready(_, p) => p.need().into_iter().collect(),
            Plan::Choose { .. } => Vec::new(),
        }
    }

    async fn apply(&self, cx: &Cx<'_>, plan: Plan) -> Result<BuildSecretReport, CliError> {
        let (secret, plan) = self.chosen(plan)?;
        let outcome = buildconfig::write(cx.cluster()?, &plan, self.dry_run).await?;
        Ok(BuildSecretReport {
            build_config: plan.build_config,
            namespace: plan.namespace,
            secret,
            push: self.args.push,
            outcome,
            dry_run: self.dry_run,
        })
    }
}

#[derive(Debug, serde::Serialize)]
pub struct BuildSecretReport {
    build_config: String,
    namespace: String,
    secret: String,
    push: bool,
    outcome: Outcome,
    #[serde(skip)]
    dry_run: DryRun,
}

impl Report for BuildSecretReport {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn names(&self) -> Vec<String> {
        vec![format!("buildconfig/{}", self.build_config)]
    }

    fn human(&self) -> Vec<Block> {
        let key = match (self.outcome, self.push) {
            (Outcome::Unchanged, _) => "build_secret.unchanged",
            (_, true) => "build_secret.push",
            (_, false) => "build_secret.pull",
        };
        vec![Block::Line(text(
            key,
            &[
                ("bc", &self.build_config),
                ("namespace", &self.namespace),
                ("secret", &self.secret),
                ("dry", &crate::words::dry(self.dry_run)),
            ],
        ))]
    }

    fn changed(&self) -> bool {
        self.outcome != Outcome::Unchanged
    }
}
