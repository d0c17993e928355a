//! Connecting as kubectl does: a context of the merged kubeconfig
//! ([`kubeconfig`](crate::kubeconfig)), the context's namespace unless `-n`
//! is given (oc's current project is that namespace), a request timeout,
//! our retry layer in place of kube's, and `-v` traces.

use std::sync::Arc;
use std::time::Duration;

use kube::config::Kubeconfig;

use crate::discovery::ClusterKind;
use crate::error::ClusterError;
use crate::kubeconfig::{self, Source};
use crate::transient::TransientRetryLayer;

/// kubectl's connection flags.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Source,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub request_timeout: Option<Duration>,
    pub insecure_skip_tls_verify: bool,
    /// Receives a line per API request (`-v` 6 and up).
    pub trace: Option<crate::trace::Sink>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("kubeconfig", &self.kubeconfig)
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("trace", &self.trace.is_some())
            .finish()
    }
}

/// A client and the namespace commands default to.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The kubeconfig context it came from.
    pub context: String,
    pub namespace: String,
    /// The API server URL (for messages).
    pub server: String,
    /// The server's certificate is not verified (the flag, or the
    /// kubeconfig's `insecure-skip-tls-verify`).
    pub tls_unverified: bool,
    /// What kind of cluster it is, asked once ([`Cluster::kind`]).
    kind: Arc<tokio::sync::OnceCell<ClusterKind>>,
    /// Whether its control plane is hosted, asked once ([`Cluster::hosted`]).
    hosted: Arc<tokio::sync::OnceCell<bool>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Cluster {
    /// The kind of this cluster, asked of the API server the first time.
    pub async fn kind(&self) -> Result<ClusterKind, ClusterError> {
        let ask = || crate::discovery::ask(&self.client);
        self.kind.get_or_try_init(ask).await.copied()
    }

    /// True on OpenShift 4 with a hosted control plane (HyperShift, ROSA
    /// HCP), asked once.
    pub async fn hosted(&self) -> bool {
        if !matches!(self.kind().await, Ok(ClusterKind::OpenShift4)) {
            return false;
        }
        let ask = || crate::discovery::hosted(&self.client);
        *self.hosted.get_or_init(ask).await
    }

    /// Loads the kubeconfig and connects to `opts.context` (or the current one).
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, ClusterError> {
        let config = kubeconfig::load(&opts.kubeconfig)?;
        Self::connect_to(&config, opts.context.as_deref(), opts).await
    }

    /// Connects to one context of an already loaded kubeconfig.
    pub async fn connect_to(
        kubeconfig: &Kubeconfig,
        context: Option<&str>,
        opts: &ConnectOptions,
    ) -> Result<Self, ClusterError> {
        let mut config = kubeconfig::client_config(kubeconfig, context).await?;
        if let Some(t) = opts.request_timeout {
            config.read_timeout = Some(t);
            config.write_timeout = Some(t);
            config.connect_timeout = Some(t);
        }
        // Ours replaces kube's (which also resends writes on 503/504).
        config.default_retry = false;
        if opts.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        let namespace = opts
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        // As the kubeconfig spells it: `Uri` adds a `/` to a bare host.
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let tls_unverified = config.accept_invalid_certs && server.starts_with("https:");
        let builder = crate::transport::builder(&config)?;
        // Tracing inside retrying: `-v` shows every attempt.
        let retry = TransientRetryLayer::new(opts.trace.clone());
        let client = match &opts.trace {
            Some(sink) => builder
                .with_layer(&crate::trace::TraceLayer(sink.clone()))
                .with_layer(&retry)
                .build(),
            None => builder.with_layer(&retry).build(),
        };
        let context = context
            .or(kubeconfig::current_context(kubeconfig))
            .unwrap_or_default()
            .to_string();
        Ok(Self {
            client,
            context,
            namespace,
            server,
            tls_unverified,
            kind: Arc::default(),
            hosted: Arc::default(),
        })
    }
}
