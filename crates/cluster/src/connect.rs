//! Connecting as kubectl does: `--kubeconfig` or `KUBECONFIG` (several
//! files merged) or `~/.kube/config`, `--context`, the context's namespace
//! unless `-n` is given (oc's current project is that namespace), and a
//! request timeout.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::ClusterError;
use crate::transient::TransientRetryLayer;

/// kubectl's connection flags.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
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
    pub namespace: String,
    /// The API server URL (for messages).
    pub server: String,
    /// The server's certificate is not verified (the flag, or the
    /// kubeconfig's `insecure-skip-tls-verify`).
    pub tls_unverified: bool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Cluster {
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, ClusterError> {
        let kubeconfig = match &opts.kubeconfig {
            Some(p) => Kubeconfig::read_from(p),
            None => Kubeconfig::read(),
        }
        .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        let options = KubeConfigOptions {
            context: opts.context.clone(),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
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
        let builder = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| ClusterError::Connection(e.to_string()))?;
        // Tracing inside retrying: `-v` shows every attempt.
        let retry = TransientRetryLayer::new(opts.trace.clone());
        let client = match &opts.trace {
            Some(sink) => builder
                .with_layer(&crate::trace::TraceLayer(sink.clone()))
                .with_layer(&retry)
                .build(),
            None => builder.with_layer(&retry).build(),
        };
        Ok(Self {
            client,
            namespace,
            server,
            tls_unverified,
        })
    }
}
