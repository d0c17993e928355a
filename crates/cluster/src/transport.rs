//! The HTTP stack under `kube::Client`, built as kube builds it but with
//! HTTP/2 offered next to HTTP/1.1, as client-go does.
//!
//! kube 5 speaks HTTP/1.1 only, so every concurrent request needs a
//! connection of its own: 32 namespaces at a time cost 32 TLS handshakes
//! per cluster, and across ten clusters those handshakes were most of the
//! CPU. An API server offers `h2` by ALPN; on it, one connection carries
//! every request, as it does for kubectl. A server (or proxy) that offers
//! only HTTP/1.1 gets HTTP/1.1, exactly as before.
//!
//! The layers are kube's own (`ConfigExt`): base URI, authentication
//! (tokens, client certificates, exec plugins), extra headers; and kube's
//! timeouts on the connection. What kube's builder adds beyond them is
//! left out on purpose: its retry layer (ours replaces it,
//! [`transient`](crate::transient)) and its tracing spans (`-v` is
//! [`trace`](crate::trace)).

use http::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::Config;
use kube::client::{Body, ClientBuilder, ConfigExt as _, DynBody};
use tower::util::BoxService;
use tower::{BoxError, ServiceBuilder, ServiceExt as _};

use crate::error::ClusterError;

/// kube's own service type, so the layers above stay as they were.
pub type Service = BoxService<Request<Body>, Response<Box<DynBody>>, BoxError>;

/// A client builder for `config` that speaks HTTP/2 where the server does.
pub fn builder(config: &Config) -> Result<ClientBuilder<Service>, ClusterError> {
    if let Some(proxy) = &config.proxy_url {
        // kube's builder, with the features we build it with, refused these too.
        // rhpull connects to API servers directly.
        return Err(ClusterError::ProxyUrl {
            proxy: proxy.to_string(),
        });
    }
    let connector = https_connector(config)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(connector);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let client: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);
    let auth = config.auth_layer().map_err(connection)?;
    let headers = config.extra_headers_layer().map_err(connection)?;
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(auth)
        .layer(headers)
        .map_err(BoxError::from)
        .service(client)
        .map_response(|response| {
            response.map(|body| {
                Box::new(http_body_util::BodyExt::map_err(body, BoxError::from)) as Box<DynBody>
            })
        });
    Ok(ClientBuilder::new(
        BoxService::new(service),
        config.default_namespace.clone(),
    ))
}

/// kube's TLS settings (CA, client certificate, `insecure-skip-tls-verify`,
/// `tls-server-name`) with `h2` and `http/1.1` offered by ALPN.
fn https_connector(
    config: &Config,
) -> Result<hyper_rustls::HttpsConnector<HttpConnector>, ClusterError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // As Go's net package does for kubectl: with many requests sharing one
    // connection, Nagle's algorithm would hold small frames back for an ACK.
    http.set_nodelay(true);
    let tls = config.rustls_client_config().map_err(connection)?;
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &config.tls_server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| ClusterError::Kubeconfig(Box::new(e)))?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    Ok(builder.enable_all_versions().wrap_connector(http))
}

/// The client's settings could not be used (an exec plugin that failed,
/// certificate data that does not parse).
fn connection(e: kube::Error) -> ClusterError {
    ClusterError::Kubeconfig(Box::new(e))
}
