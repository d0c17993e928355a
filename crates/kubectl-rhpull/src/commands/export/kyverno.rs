//! `rhpull export kyverno-policy [NAME]`: hands the keeping of a pull
//! secret to the cluster's Kyverno — the Secret cloned into every
//! namespace, those made later too, and kept in sync with its source; the
//! chosen service accounts linked, new and existing, without dropping an
//! entry — in the newest policy API the cluster serves
//! (`rhpull_cluster::keepers::kyverno`). The source is a Secret that is
//! there (`--from-secret NS/NAME`), or one made from your login in the
//! namespace (`-n`), written as `create` writes it. The policies are
//! applied as every write is (access-reviewed, conditional, `--dry-run`);
//! `--dry-run=client -o yaml` prints them for Git without asking a cluster
//! (in the newest API, or `--api`'s).

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::keepers::apply::{self, ObjectPlan};
use rhpull_cluster::keepers::kyverno::{self, Api};
use rhpull_cluster::keepers::{self, ExcludeError, Keeping, SourceProblem};
use rhpull_cluster::pullsecret::{self, Format, SecretPlan};
use rhpull_cluster::{DryRun, Outcome};
use rhpull_core::Credential;
use rhpull_core::authfile::Selection;
use serde_json::Value;

use crate::cli::{KubeArgs, KyvernoPolicyArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::render::{Block, Report};
use crate::{creds, output, words};

/// Where the kept Secret comes from.
enum Source {
    /// There already: `namespace/name`.
    Existing { namespace: String, name: String },
    /// Made from the login, in the command's namespace.
    Login {
        name: String,
        credentials: Vec<Credential>,
    },
}

struct KyvernoExport {
    name: Option<String>,
    source: Source,
    service_accounts: Vec<String>,
    exclude: Vec<String>,
    api: Option<Api>,
    overwrite: bool,
    mode: Mode,
}

pub async fn run(kube: &KubeArgs, args: &KyvernoPolicyArgs) -> Result<(), CliError> {
    if args.global {
        return Err(CliError::usage(Reason::KeeperGlobal, "error.keeper_global"));
    }
    let api = match &args.api {
        Some(s) => Some(Api::parse(s).ok_or_else(|| {
            CliError::usage(Reason::UsageError, "error.kyverno_api").with("api", s.clone())
        })?),
        None => None,
    };
    let source = match &args.from_secret {
        Some(s) => {
            let (namespace, name) = s
                .split_once('/')
                .filter(|(n, s)| !n.is_empty() && !s.is_empty())
                .ok_or_else(|| {
                    CliError::usage(Reason::UsageError, "error.from_secret")
                        .with("given", s.clone())
                })?;
            Source::Existing {
                namespace: namespace.into(),
                name: name.into(),
            }
        }
        None => {
            let l = &args.logins;
            let selection = if l.registries.is_empty() {
                Selection::RedHat
            } else {
                Selection::Named(l.registries.clone())
            };
            let registry = (l.registries.first().cloned())
                .unwrap_or_else(|| rhpull_core::registries::DEFAULT.into());
            let found = creds::gather(&l.secret, &l.source, &selection, &registry)?;
            let credentials: Vec<Credential> = found.into_iter().map(|f| f.credential).collect();
            Source::Login {
                name: (args.secret_name.clone())
                    .unwrap_or_else(|| pullsecret::default_name(&credentials)),
                credentials,
            }
        }
    };
    let dry_run: DryRun = args.write.dry_run.into();
    let cmd = KyvernoExport {
        name: args.name.clone(),
        source,
        service_accounts: args.service_accounts.clone(),
        exclude: args.exclude.clone(),
        api,
        overwrite: args.overwrite,
        mode: Mode {
            // Printed for Git: no cluster is asked.
            offline: dry_run == DryRun::Client,
            ..Mode::dry(dry_run)
        },
    };
    let conn = Connection::resolve(kube, None)?;
    driver::run(&cmd, &conn, args.write.output.into()).await
}

/// The policies, the writes, and the source Secret made from the login.
#[derive(Debug)]
pub struct KyvernoPlan {
    api: Api,
    documents: Vec<Value>,
    /// `None` offline: nothing read, nothing written.
    objects: Option<Vec<ObjectPlan>>,
    secret: Option<SecretPlan>,
    openshift: bool,
    dry_run: DryRun,
}

impl KyvernoExport {
    fn keeping(&self, namespace: &str) -> Result<Keeping, CliError> {
        let (source_namespace, source_name) = match &self.source {
            Source::Existing { namespace, name } => (namespace.clone(), name.clone()),
            Source::Login { name, .. } => (namespace.to_string(), name.clone()),
        };
        let exclude = Keeping::exclusions(&source_namespace, &self.exclude).map_err(|e| {
            let (key, pattern) = match e {
                ExcludeError::MatchesAll(p) => ("error.exclude_all", p),
                ExcludeError::NotNameOrPrefix(p) => ("error.exclude_pattern", p),
            };
            CliError::usage(Reason::ExcludesEverything, key).with("pattern", pattern)
        })?;
        Ok(Keeping {
            name: (self.name.clone()).unwrap_or_else(|| format!("rhpull-{source_name}")),
            source_namespace,
            source_name,
            service_accounts: self.service_accounts.clone(),
            exclude,
        })
    }

    /// The API to write in: `--api`'s, else the newest the cluster serves.
    async fn api(&self, cluster: &rhpull_cluster::Cluster) -> Result<Api, CliError> {
        let served = keepers::served(cluster).await?;
        let chosen = Api::choose(served.iter().map(String::as_str));
        match (self.api, chosen) {
            (_, None) => Err(CliError::failed(
                Reason::KyvernoNotInstalled,
                "error.kyverno_missing",
            )),
            (Some(wanted), Some(_)) => {
                let gv = match wanted {
                    Api::ClusterPolicy => "kyverno.io/v1".to_string(),
                    Api::Cel(v) => format!("policies.kyverno.io/{v}"),
                };
                if served.contains(&gv) {
                    Ok(wanted)
                } else {
                    Err(CliError::failed(
                        Reason::KyvernoNotInstalled,
                        "error.kyverno_api_not_served",
                    )
                    .with("api", gv))
                }
            }
            (None, Some(api)) => Ok(api),
        }
    }
}

impl ClusterCommand for KyvernoExport {
    type Plan = KyvernoPlan;
    type Report = KyvernoPlan;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<KyvernoPlan, CliError> {
        let keeping = self.keeping(&cx.namespace)?;
        let Ok(cluster) = cx.cluster() else {
            // Printed for Git: the newest API, or `--api`'s.
            let api = self.api.unwrap_or(Api::NEWEST);
            return Ok(KyvernoPlan {
                api,
                documents: kyverno::documents(&keeping, api),
                objects: None,
                secret: None,
                openshift: false,
                dry_run: self.mode.dry_run,
            });
        };
        // Kyverno first: without it, nothing else matters.
        let api = self.api(cluster).await?;
        let secret = match &self.source {
            Source::Existing { namespace, name } => {
                match keepers::check_source(cluster, namespace, name).await? {
                    Ok(()) => None,
                    Err(SourceProblem::Missing) => {
                        return Err(CliError::failed(
                            Reason::SourceSecretMissing,
                            "error.source_missing",
                        )
                        .with("secret", format!("{namespace}/{name}")));
                    }
                    Err(SourceProblem::WrongType(ty)) => {
                        return Err(CliError::failed(
                            Reason::SourceSecretWrongType,
                            "error.source_type",
                        )
                        .with("secret", format!("{namespace}/{name}"))
                        .with("type", ty));
                    }
                }
            }
            Source::Login { name, credentials } => {
                let wanted =
                    pullsecret::build(name, &cx.namespace, Format::DockerConfigJson, credentials);
                Some(pullsecret::plan(cluster, wanted, self.overwrite).await?)
            }
        };
        let documents = kyverno::documents(&keeping, api);
        let objects = apply::plan(cluster, documents.clone()).await?;
        Ok(KyvernoPlan {
            api,
            documents,
            objects: Some(objects),
            secret,
            openshift: cluster.kind().await.is_ok_and(ClusterKind::is_openshift),
            dry_run: self.mode.dry_run,
        })
    }

    fn needs(&self, plan: &KyvernoPlan) -> Vec<Need> {
        let objects = plan.objects.iter().flatten().filter_map(ObjectPlan::need);
        plan.secret
            .iter()
            .filter_map(SecretPlan::need)
            .chain(objects)
            .collect()
    }

    async fn apply(&self, cx: &Cx<'_>, mut plan: KyvernoPlan) -> Result<KyvernoPlan, CliError> {
        let Ok(cluster) = cx.cluster() else {
            return Ok(plan);
        };
        let dry_run = self.mode.dry_run;
        if let Some(s) = &plan.secret {
            let outcome = pullsecret::write(cluster, s, dry_run).await?;
            // stdout may hold the manifests; the source Secret goes to stderr.
            output::note(&words::secret_line(
                &s.name(),
                &s.namespace(),
                outcome,
                &s.logins(),
                dry_run,
            ));
        }
        for p in plan.objects.iter_mut().flatten() {
            apply::write(cluster, p, dry_run).await?;
        }
        if plan.openshift {
            output::note(&crate::i18n::text("kyverno.openshift", &[]));
        }
        Ok(plan)
    }
}

impl Report for KyvernoPlan {
    fn document(&self) -> Value {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": self.documents})
    }

    fn names(&self) -> Vec<String> {
        (self.documents.iter())
            .map(|d| {
                let kind = d["kind"].as_str().unwrap_or_default().to_ascii_lowercase();
                format!(
                    "{kind}/{}",
                    d["metadata"]["name"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    fn human(&self) -> Vec<Block> {
        let dry = words::dry(self.dry_run);
        let Some(objects) = &self.objects else {
            return self.names().into_iter().map(Block::Line).collect();
        };
        let mut lines: Vec<Block> = (objects.iter())
            .map(|p| Block::Line(format!("{} {}{dry}", p.name(), words::outcome(p.outcome))))
            .collect();
        let api = match self.api {
            Api::ClusterPolicy => "kyverno.io/v1 ClusterPolicy".to_string(),
            Api::Cel(v) => format!("policies.kyverno.io/{v} GeneratingPolicy, MutatingPolicy"),
        };
        lines.push(Block::Line(crate::i18n::text(
            "kyverno.api",
            &[("api", &api)],
        )));
        lines
    }

    fn changed(&self) -> bool {
        let objects = self.objects.iter().flatten();
        objects.map(|p| p.outcome).any(|o| o != Outcome::Unchanged)
            || self
                .secret
                .as_ref()
                .is_some_and(|s| s.outcome != Outcome::Unchanged)
    }
}
