//! Runs an axum router over TLS on 127.0.0.1 in a background thread with its
//! own tokio runtime, so synchronous tests can start servers. The server
//! stops when its handle drops, and by itself after
//! [`crate::SERVER_LIFETIME_SECS`] whatever happens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::tls::ServerCert;

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    /// Connections accepted so far, by the protocol agreed over ALPN.
    pub connections: Arc<Connections>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// Connections a server accepted: HTTP/2 (ALPN `h2`) and the rest.
#[derive(Debug, Default)]
pub struct Connections {
    http2: AtomicU64,
    http1: AtomicU64,
}

impl Connections {
    /// (HTTP/2, HTTP/1.x) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.http2.load(Ordering::Relaxed),
            self.http1.load(Ordering::Relaxed),
        )
    }

    pub fn reset(&self) {
        self.http2.store(0, Ordering::Relaxed);
        self.http1.store(0, Ordering::Relaxed);
    }

    fn count(&self, alpn: Option<&[u8]>) {
        let which = if alpn == Some(b"h2") {
            &self.http2
        } else {
            &self.http1
        };
        which.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a server offers over ALPN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocols {
    /// HTTP/2 and HTTP/1.1, as an API server, a registry or an SSO endpoint.
    Both,
    /// HTTP/1.1 only, as a server behind a proxy that does not speak HTTP/2.
    Http1Only,
}

fn server_config(cert: &ServerCert, protocols: Protocols) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
        )
        .expect("server certificate");
    config.alpn_protocols = match protocols {
        Protocols::Both => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Protocols::Http1Only => vec![b"http/1.1".to_vec()],
    };
    Arc::new(config)
}

/// Serves `app` over TLS (or plain HTTP when `cert` is `None`) on 127.0.0.1.
pub fn serve(app: axum::Router, cert: Option<&ServerCert>) -> Running {
    serve_with(app, cert, None, Protocols::Both, WORKERS)
}

/// Worker threads a server's runtime has unless told otherwise.
pub const WORKERS: usize = 2;

/// A task to run on the server's runtime beside it (controllers).
pub type Background = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// As [`serve`], also running `background` until the server stops, with
/// `protocols` offered and `workers` threads.
pub fn serve_with(
    app: axum::Router,
    cert: Option<&ServerCert>,
    background: Option<Background>,
    protocols: Protocols,
    workers: usize,
) -> Running {
    let tls = cert.map(|c| tokio_rustls::TlsAcceptor::from(server_config(c, protocols)));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("local addr");
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let connections = Arc::new(Connections::default());
    let counted = connections.clone();
    let thread = std::thread::spawn(move || {
        // One worker is this thread alone: no second thread to hand work to.
        let rt = if workers <= 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
        .enable_all()
        .build()
        .expect("tokio runtime");
        rt.block_on(async move {
            if let Some(task) = background {
                tokio::spawn(task);
            }
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
            let lifetime = tokio::time::sleep(Duration::from_secs(u64::from(crate::SERVER_LIFETIME_SECS)));
            tokio::pin!(lifetime);
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    () = &mut lifetime => break,
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        // As Go's API server (and net package) has it.
                        let _ = tcp.set_nodelay(true);
                        let app = app.clone();
                        let tls = tls.clone();
                        let counted = counted.clone();
                        tokio::spawn(async move {
                            let service = hyper_util::service::TowerToHyperService::new(app);
                            // HTTP/1.1 and HTTP/2, as an API server (and
                            // the registries and SSO behind it) offer both.
                            let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                            match tls {
                                Some(acceptor) => {
                                    if let Ok(stream) = acceptor.accept(tcp).await {
                                        counted.count(stream.get_ref().1.alpn_protocol());
                                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                    }
                                }
                                None => {
                                    counted.count(None);
                                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                                }
                            }
                        });
                    }
                }
            }
        });
        rt.shutdown_timeout(Duration::from_millis(200));
    });
    Running {
        addr,
        connections,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}
