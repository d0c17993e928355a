//! `rhpull delegated [--registry R] [--auth-server HOST]`: the pair of pull
//! secrets delegated authentication needs — one for the auth server (found
//! in the registry's own challenge unless given) and one for the registry —
//! created with one login and linked to the same service accounts.

use rhpull_cluster::access::Need;
use rhpull_cluster::link::{self, LinkFor, LinkPlan};
use rhpull_cluster::pullsecret::{self, SecretPlan};
use rhpull_cluster::{DryRun, delegated};
use rhpull_core::Credential;
use rhpull_core::authfile::{Selection, keys};

use super::create::SecretReport;
use crate::cli::{DelegatedArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::render::{self, Block, Report};
use crate::{creds, objects, registry_check, words};

struct Delegated {
    registry: String,
    auth_server: String,
    credential: Credential,
    base_name: String,
    service_accounts: Vec<String>,
    wait: link::SaWait,
    dry_run: DryRun,
    show_secrets: bool,
}

pub async fn run(kube: &KubeArgs, args: &DelegatedArgs) -> Result<(), CliError> {
    let registry = keys::normalize(
        args.registry
            .as_deref()
            .unwrap_or(rhpull_core::registries::DEFAULT),
    );
    let conn = Connection::resolve(kube, None)?;
    let selection = Selection::Named(vec![registry.clone()]);
    let mut found = creds::gather(&args.secret, &args.source, &selection, &registry)?;
    let credential = found.remove(0).credential;
    let auth_server = match &args.auth_server {
        Some(h) => h.clone(),
        None => discover(&registry, args, kube).await?,
    };
    let base_name = args.name.clone().unwrap_or_else(|| {
        pullsecret::default_name(std::slice::from_ref(&credential))
            .trim_end_matches("-pull-secret")
            .to_string()
    });
    let cmd = Delegated {
        registry,
        auth_server,
        credential,
        base_name,
        service_accounts: match args.link.as_slice() {
            [] => vec!["default".to_string()],
            named => named.to_vec(),
        },
        wait: link::SaWait::from_flag(args.wait),
        dry_run: args.write.dry_run.into(),
        show_secrets: args.write.show_secrets,
    };
    driver::run(&cmd, &conn, args.write.output.into()).await
}

/// The auth server the registry's challenge names.
async fn discover(
    registry: &str,
    args: &DelegatedArgs,
    kube: &KubeArgs,
) -> Result<String, CliError> {
    let options = registry_check::options(registry, &args.net, kube.insecure_skip_tls_verify);
    match rhpull_core::sso::discover_auth_server(&options).await {
        Ok(Some(host)) => Ok(host),
        Ok(None) => Err(
            CliError::failed(Reason::NoAuthNeeded, "delegated.no_auth_needed")
                .with("registry", registry),
        ),
        Err(cause) => Err(super::check::render::cause_failure(&cause, registry)),
    }
}

type Plan = (Vec<SecretPlan>, Vec<LinkPlan>);

impl ClusterCommand for Delegated {
    type Plan = Plan;
    type Report = DelegatedReport;

    fn mode(&self) -> Mode {
        Mode::dry(self.dry_run)
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<Plan, CliError> {
        let (cluster, ns) = (cx.cluster()?, cx.namespace.as_str());
        let pair = delegated::pair(
            &self.base_name,
            ns,
            &self.registry,
            &self.auth_server,
            &self.credential,
        );
        let mut secrets = Vec::new();
        for wanted in pair {
            secrets.push(pullsecret::plan(cluster, wanted, false).await?);
        }
        let names: Vec<String> = secrets.iter().map(SecretPlan::name).collect();
        let mut links = Vec::new();
        for sa in &self.service_accounts {
            let p = link::plan_link(cluster, ns, sa, &names, LinkFor::Pull, self.wait).await?;
            links.push(p);
        }
        Ok((secrets, links))
    }

    fn needs(&self, (secrets, links): &Plan) -> Vec<Need> {
        let secrets = secrets.iter().filter_map(SecretPlan::need);
        secrets
            .chain(links.iter().filter_map(LinkPlan::need))
            .collect()
    }

    async fn apply(
        &self,
        cx: &Cx<'_>,
        (secrets, links): Plan,
    ) -> Result<DelegatedReport, CliError> {
        let cluster = cx.cluster()?;
        let mut reports = Vec::new();
        for s in &secrets {
            reports.push(SecretReport {
                outcome: pullsecret::write(cluster, s, self.dry_run).await?,
                object: objects::redacted(s.to_json(), self.show_secrets),
                name: s.name(),
                namespace: s.namespace(),
                logins: s.logins(),
                links: Vec::new(),
                dry_run: self.dry_run,
            });
        }
        let mut changes = Vec::new();
        for l in &links {
            changes.push(link::write(cluster, l, self.dry_run).await?);
        }
        Ok(DelegatedReport {
            registry: self.registry.clone(),
            auth_server: self.auth_server.clone(),
            secrets: reports,
            links: changes,
            dry_run: self.dry_run,
        })
    }
}

#[derive(Debug)]
pub struct DelegatedReport {
    registry: String,
    auth_server: String,
    secrets: Vec<SecretReport>,
    links: Vec<rhpull_cluster::link::LinkChange>,
    dry_run: DryRun,
}

impl Report for DelegatedReport {
    fn document(&self) -> serde_json::Value {
        let objects: Vec<serde_json::Value> =
            self.secrets.iter().map(|s| s.object.clone()).collect();
        render::object_list(&objects)
    }

    fn names(&self) -> Vec<String> {
        self.secrets.iter().flat_map(Report::names).collect()
    }

    fn human(&self) -> Vec<Block> {
        let mut lines = vec![text(
            "delegated.heading",
            &[
                ("registry", &self.registry),
                ("auth_server", &self.auth_server),
            ],
        )];
        for s in &self.secrets {
            lines.push(text(
                "delegated.secret_line",
                &[
                    ("name", &s.name),
                    ("namespace", &s.namespace),
                    ("outcome", &words::outcome(s.outcome)),
                    ("dry", &words::dry(self.dry_run)),
                ],
            ));
        }
        lines.extend(
            self.links
                .iter()
                .map(|c| words::link_line(c, false, self.dry_run)),
        );
        lines.into_iter().map(Block::Line).collect()
    }

    fn changed(&self) -> bool {
        self.secrets.iter().any(Report::changed) || self.links.iter().any(|l| !l.is_empty())
    }
}
