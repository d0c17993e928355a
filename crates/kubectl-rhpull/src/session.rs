//! One command's connection to the cluster: a small tokio runtime and a
//! kube client built from kubectl's flags (`--kubeconfig`/`KUBECONFIG`,
//! `--context`, `-n`, `--request-timeout`).

use rhpull_cluster::{Cluster, ConnectOptions};

use crate::cli::KubeArgs;
use crate::error::{CliError, Exit};

#[derive(Debug)]
pub struct Session {
    pub rt: tokio::runtime::Runtime,
    pub cluster: Cluster,
}

pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            CliError::from_catalogue(Exit::Failed, "error.runtime", &[("reason", &e.to_string())])
        })
}

impl Session {
    pub fn open(kube: &KubeArgs) -> Result<Self, CliError> {
        let rt = runtime()?;
        let options = ConnectOptions {
            kubeconfig: kube.kubeconfig.clone(),
            context: kube.context.clone(),
            namespace: kube.namespace.clone(),
            request_timeout: kube.request_timeout,
            insecure_skip_tls_verify: kube.insecure_skip_tls_verify,
            // kubectl prints request lines from -v=6 on.
            trace: (kube.verbosity >= 6)
                .then(|| std::sync::Arc::new(crate::output::trace) as rhpull_cluster::trace::Sink),
        };
        let cluster = rt.block_on(Cluster::connect(&options))?;
        if cluster.tls_unverified {
            crate::output::warn(&crate::i18n::text(
                "warn.insecure_api",
                &[("server", &cluster.server)],
            ));
        }
        Ok(Self { rt, cluster })
    }

    pub fn namespace(&self) -> &str {
        &self.cluster.namespace
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Asks the API server (SelfSubjectAccessReview) for every permission a
    /// command needs before it writes anything; the first one missing is
    /// the error. A dry run on the client side needs none.
    pub fn require(
        &self,
        needs: &[rhpull_cluster::access::Need],
        dry_run: crate::cli::DryRunArg,
    ) -> Result<(), CliError> {
        if dry_run == crate::cli::DryRunArg::Client {
            return Ok(());
        }
        Ok(self.block_on(rhpull_cluster::access::require(&self.cluster, needs))?)
    }
}
