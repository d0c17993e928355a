//! `rhpull export kyverno-policy | external-secrets [NAME]`: hands the
//! keeping of a pull secret to an engine the cluster already runs.
//!
//! - Kyverno (`rhpull_cluster::keepers::kyverno`): the Secret cloned into
//!   every namespace, those made later too, and kept in sync with its
//!   source; the chosen service accounts linked, new and existing, without
//!   dropping an entry — in the newest policy API the cluster serves.
//! - The External Secrets Operator (`rhpull_cluster::keepers::eso`): a
//!   ClusterSecretStore reading the source's namespace and a
//!   ClusterExternalSecret that makes the pull secret in every selected
//!   namespace. ESO never links service accounts: said, with the two ways
//!   to do that half.
//!
//! The source is a Secret that is there (`--from-secret NS/NAME`), or one
//! made from your login in the namespace (`-n`), written as `create`
//! writes it. The manifests are applied as every write is
//! (access-reviewed, conditional, `--dry-run`); `--dry-run=client -o yaml`
//! prints them for Git without asking a cluster.

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery::ClusterKind;
use rhpull_cluster::keepers::apply::{self, ObjectPlan};
use rhpull_cluster::keepers::eso;
use rhpull_cluster::keepers::kyverno::{self, Api, ApiProblem};
use rhpull_cluster::keepers::{self, ExcludeError, Keeping, SourceProblem};
use rhpull_cluster::pullsecret::{self, Format, SecretPlan};
use rhpull_cluster::{DryRun, Outcome};
use rhpull_core::Credential;
use serde_json::Value;

use crate::cli::{ExternalSecretsArgs, KeeperArgs, KubeArgs, KyvernoPolicyArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterCommand, Cx, Mode};
use crate::error::{CliError, Reason};
use crate::render::{Block, Report};
use crate::{output, words};

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

/// The engine that keeps it.
#[derive(Clone, Debug)]
enum Engine {
    Kyverno {
        service_accounts: Vec<String>,
        api: Option<Api>,
    },
    ExternalSecrets {
        /// `--namespace-label KEY=VALUE`: an opt-in.
        label: Option<(String, String)>,
    },
}

struct KeeperExport {
    name: Option<String>,
    source: Source,
    engine: Engine,
    exclude: Vec<String>,
    overwrite: bool,
    mode: Mode,
}

pub async fn kyverno(kube: &KubeArgs, args: &KyvernoPolicyArgs) -> Result<(), CliError> {
    let api = match &args.api {
        Some(s) => Some(Api::parse(s).ok_or_else(|| {
            CliError::usage(Reason::UsageError, "error.kyverno_api").with("api", s.clone())
        })?),
        None => None,
    };
    let engine = Engine::Kyverno {
        service_accounts: args.service_accounts.clone(),
        api,
    };
    run(kube, &args.keeper, engine).await
}

pub async fn external_secrets(kube: &KubeArgs, args: &ExternalSecretsArgs) -> Result<(), CliError> {
    let label = match &args.namespace_label {
        Some(s) => {
            let (k, v) = s
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    CliError::usage(Reason::UsageError, "error.namespace_label")
                        .with("given", s.clone())
                })?;
            Some((k.to_string(), v.to_string()))
        }
        None => None,
    };
    run(kube, &args.keeper, Engine::ExternalSecrets { label }).await
}

async fn run(kube: &KubeArgs, args: &KeeperArgs, engine: Engine) -> Result<(), CliError> {
    if args.global {
        return Err(CliError::usage(Reason::KeeperGlobal, "error.keeper_global"));
    }
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
            let credentials = super::logins(&args.logins)?;
            Source::Login {
                name: (args.secret_name.clone())
                    .unwrap_or_else(|| pullsecret::default_name(&credentials)),
                credentials,
            }
        }
    };
    let dry_run: DryRun = args.write.dry_run.into();
    let cmd = KeeperExport {
        name: args.name.clone(),
        source,
        engine,
        exclude: args.exclude.clone(),
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

/// The manifests, the writes, and the source Secret made from the login.
#[derive(Debug)]
pub struct KeeperPlan {
    /// What keeps it, in words (`kyverno.io/v1 ClusterPolicy`, …).
    keeper: String,
    /// Kyverno's, or ESO's (which links no service account).
    eso: bool,
    documents: Vec<Value>,
    /// `None` offline: nothing read, nothing written.
    objects: Option<Vec<ObjectPlan>>,
    secret: Option<SecretPlan>,
    openshift: bool,
    dry_run: DryRun,
}

impl KeeperExport {
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
        let service_accounts = match &self.engine {
            Engine::Kyverno {
                service_accounts, ..
            } => service_accounts.clone(),
            Engine::ExternalSecrets { .. } => Vec::new(),
        };
        Ok(Keeping {
            name: (self.name.clone()).unwrap_or_else(|| format!("rhpull-{source_name}")),
            source_namespace,
            source_name,
            service_accounts,
            exclude,
        })
    }

    /// The manifests: Kyverno's in `--api`'s API, else the newest the
    /// cluster serves (offline: the newest); ESO's for the namespaces
    /// there (offline: the exclusions' names only).
    async fn documents(
        &self,
        cluster: Option<&rhpull_cluster::Cluster>,
        k: &Keeping,
    ) -> Result<(String, Vec<Value>), CliError> {
        match &self.engine {
            Engine::Kyverno { api, .. } => {
                let api = match cluster {
                    Some(c) => kyverno::api_for(c, *api).await?.map_err(|p| match p {
                        ApiProblem::NotInstalled => {
                            CliError::failed(Reason::KyvernoNotInstalled, "error.kyverno_missing")
                        }
                        ApiProblem::NotServed(gv) => CliError::failed(
                            Reason::KyvernoNotInstalled,
                            "error.kyverno_api_not_served",
                        )
                        .with("api", gv),
                    })?,
                    None => api.unwrap_or(Api::NEWEST),
                };
                Ok((api.kinds(), kyverno::documents(k, api)))
            }
            Engine::ExternalSecrets { label } => {
                let selected = match cluster {
                    Some(c) => eso::selected_on(c, k, label.clone())
                        .await?
                        .ok_or_else(|| {
                            CliError::failed(Reason::EsoNotInstalled, "error.eso_missing")
                        })?,
                    // Printed: only the exclusions' names are known.
                    None => eso::selected(k, label.clone(), &[]),
                };
                let words = format!(
                    "{} ClusterSecretStore, ClusterExternalSecret",
                    eso::GROUP_VERSION
                );
                Ok((words, eso::documents(k, &selected)))
            }
        }
    }
}

impl ClusterCommand for KeeperExport {
    type Plan = KeeperPlan;
    type Report = KeeperPlan;

    fn mode(&self) -> Mode {
        self.mode
    }

    async fn plan(&self, cx: &Cx<'_>) -> Result<KeeperPlan, CliError> {
        let keeping = self.keeping(&cx.namespace)?;
        let eso = matches!(self.engine, Engine::ExternalSecrets { .. });
        let Ok(cluster) = cx.cluster() else {
            // Printed for Git.
            let (keeper, documents) = self.documents(None, &keeping).await?;
            return Ok(KeeperPlan {
                keeper,
                eso,
                documents,
                objects: None,
                secret: None,
                openshift: false,
                dry_run: self.mode.dry_run,
            });
        };
        // The engine first: without it, nothing else matters.
        let (keeper, documents) = self.documents(Some(cluster), &keeping).await?;
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
        let objects = apply::plan(cluster, documents.clone()).await?;
        Ok(KeeperPlan {
            keeper,
            eso,
            documents,
            objects: Some(objects),
            secret,
            openshift: cluster.kind().await.is_ok_and(ClusterKind::is_openshift),
            dry_run: self.mode.dry_run,
        })
    }

    fn needs(&self, plan: &KeeperPlan) -> Vec<Need> {
        let objects = plan.objects.iter().flatten().filter_map(ObjectPlan::need);
        plan.secret
            .iter()
            .filter_map(SecretPlan::need)
            .chain(objects)
            .collect()
    }

    async fn apply(&self, cx: &Cx<'_>, mut plan: KeeperPlan) -> Result<KeeperPlan, CliError> {
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
        if plan.eso {
            output::note(&crate::i18n::text("eso.no_links", &[]));
        } else if plan.openshift {
            output::note(&crate::i18n::text("kyverno.openshift", &[]));
        }
        Ok(plan)
    }
}

impl Report for KeeperPlan {
    fn document(&self) -> Value {
        super::manifest_list(&self.documents)
    }

    fn names(&self) -> Vec<String> {
        super::manifest_names(&self.documents)
    }

    fn human(&self) -> Vec<Block> {
        let dry = words::dry(self.dry_run);
        let Some(objects) = &self.objects else {
            return self.names().into_iter().map(Block::Line).collect();
        };
        let mut lines: Vec<Block> = (objects.iter())
            .map(|p| Block::Line(format!("{} {}{dry}", p.name(), words::outcome(p.outcome))))
            .collect();
        let key = if self.eso { "eso.keeps" } else { "kyverno.api" };
        lines.push(Block::Line(crate::i18n::text(
            key,
            &[("api", &self.keeper)],
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
