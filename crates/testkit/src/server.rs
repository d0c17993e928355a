//! Runs an axum router over TLS on 127.0.0.1 in a background thread with its
//! own tokio runtime, so synchronous tests can start servers. The server
//! stops when its handle drops, and by itself after
//! [`crate::SERVER_LIFETIME_SECS`] whatever happens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::tls::ServerCert;

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn port(&self) -> u16 {
        self.addr.port()
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

fn server_config(cert: &ServerCert) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
        )
        .expect("server certificate");
    Arc::new(config)
}

/// Serves `app` over TLS (or plain HTTP when `cert` is `None`) on 127.0.0.1.
pub fn serve(app: axum::Router, cert: Option<&ServerCert>) -> Running {
    serve_with(app, cert, None)
}

/// A task to run on the server's runtime beside it (controllers).
pub type Background = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// As [`serve`], also running `background` until the server stops.
pub fn serve_with(
    app: axum::Router,
    cert: Option<&ServerCert>,
    background: Option<Background>,
) -> Running {
    let tls = cert.map(|c| tokio_rustls::TlsAcceptor::from(server_config(c)));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("local addr");
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
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
                        let app = app.clone();
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            let service = hyper_util::service::TowerToHyperService::new(app);
                            let http = hyper::server::conn::http1::Builder::new();
                            match tls {
                                Some(acceptor) => {
                                    if let Ok(stream) = acceptor.accept(tcp).await {
                                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                    }
                                }
                                None => {
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
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}
