//! Which clusters a command talks to, from kubectl's flags: the kubeconfig
//! (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`), one context
//! (`--context`, else the current one), or several (`--contexts`,
//! `--all-contexts`, `--context-selector`); and how (`-n`,
//! `--request-timeout`, `--insecure-skip-tls-verify`, `-v` traces).

use rhpull_cluster::kubeconfig::{self, Kubeconfig, Source};
use rhpull_cluster::{Cluster, ConnectOptions};

use crate::cli::{ContextArgs, KubeArgs};
use crate::error::{CliError, Reason};

/// `--context-selector` that is not a regular expression.
fn bad_selector(re: &str, e: &regex::Error) -> CliError {
    CliError::usage(Reason::InvalidValue, "error.context_selector")
        .with("regex", re)
        .with("detail", e.to_string())
}

/// The clusters of one command.
#[derive(Debug)]
pub struct Connection {
    pub options: ConnectOptions,
    pub targets: Targets,
    /// How many clusters at once (`--cluster-concurrency`).
    pub concurrency: usize,
}

/// One context, or several named by the context flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// `--context`, or the kubeconfig's current context.
    One,
    Named(Vec<String>),
    All,
    Matching(String),
}

impl Connection {
    /// From the flags alone: nothing is read yet.
    pub fn resolve(kube: &KubeArgs, contexts: Option<&ContextArgs>) -> Result<Self, CliError> {
        let several = contexts.is_some_and(|c| {
            !c.contexts.is_empty() || c.all_contexts || c.context_selector.is_some()
        });
        if several && kube.context.is_some() {
            // A global flag cannot name a subcommand's in clap's conflicts.
            return Err(
                CliError::usage(Reason::ConflictingArguments, "error.usage.conflict")
                    .with("arg", "--context")
                    .with("other", "--contexts / --all-contexts / --context-selector"),
            );
        }
        let targets = match contexts {
            Some(c) if !c.contexts.is_empty() => Targets::Named(c.contexts.clone()),
            Some(c) if c.all_contexts => Targets::All,
            Some(c) => match &c.context_selector {
                Some(re) => {
                    regex::Regex::new(re).map_err(|e| bad_selector(re, &e))?;
                    Targets::Matching(re.clone())
                }
                None => Targets::One,
            },
            None => Targets::One,
        };
        Ok(Self {
            options: ConnectOptions {
                kubeconfig: Source::from_env(kube.kubeconfig.clone()),
                context: kube.context.clone(),
                namespace: kube.namespace.clone(),
                request_timeout: kube.request_timeout,
                insecure_skip_tls_verify: kube.insecure_skip_tls_verify,
                // kubectl prints request lines from -v=6 on.
                trace: (kube.verbosity >= 6).then(|| {
                    std::sync::Arc::new(crate::output::trace) as rhpull_cluster::trace::Sink
                }),
            },
            concurrency: contexts.map_or(1, |c| c.cluster_concurrency),
            targets,
        })
    }

    /// True when the command runs in several clusters (reports keyed by context).
    pub fn many(&self) -> bool {
        self.targets != Targets::One
    }

    /// The contexts to run in (`None`: the one `--context` names, or the
    /// current one).
    pub fn contexts(&self, config: &Kubeconfig) -> Result<Vec<Option<String>>, CliError> {
        let all = kubeconfig::context_names(config);
        let chosen: Vec<String> = match &self.targets {
            Targets::One => return Ok(vec![self.options.context.clone()]),
            Targets::All => all,
            Targets::Named(names) => {
                let unknown: Vec<&String> = names.iter().filter(|n| !all.contains(n)).collect();
                if let Some(first) = unknown.first() {
                    return Err(
                        rhpull_cluster::ClusterError::NoSuchContext((*first).clone()).into(),
                    );
                }
                names.clone()
            }
            Targets::Matching(re) => {
                let re = regex::Regex::new(re).map_err(|e| bad_selector(re, &e))?;
                all.into_iter().filter(|c| re.is_match(c)).collect()
            }
        };
        if chosen.is_empty() {
            return Err(
                CliError::failed(Reason::NoContextsMatch, "error.no_contexts")
                    .with("contexts", kubeconfig::context_names(config)),
            );
        }
        Ok(chosen.into_iter().map(Some).collect())
    }

    /// Connects to one context and warns when its server is not verified.
    pub async fn connect(
        &self,
        config: &Kubeconfig,
        context: Option<&str>,
    ) -> Result<Cluster, CliError> {
        let cluster = Cluster::connect_to(config, context, &self.options).await?;
        if cluster.tls_unverified {
            crate::output::warn(&crate::i18n::text(
                "warn.insecure_api",
                &[("server", &cluster.server)],
            ));
        }
        Ok(cluster)
    }

    /// The namespace a command works in without asking the cluster: `-n`,
    /// else the context's, else `default` (as kubectl renders offline).
    pub fn offline_namespace(&self, context: Option<&str>) -> String {
        if let Some(ns) = &self.options.namespace {
            return ns.clone();
        }
        kubeconfig::load(&self.options.kubeconfig)
            .ok()
            .and_then(|c| kubeconfig::namespace(&c, context))
            .unwrap_or_else(|| "default".into())
    }
}
