//! The test world's only way out, which goes nowhere: an HTTP proxy on
//! 127.0.0.1 that answers every request (`CONNECT host:443` included)
//! with 403 and records what was asked. The world's kubelets run `skopeo`
//! with `HTTPS_PROXY` / `HTTP_PROXY` pointing here, so a pod naming a
//! registry that is not the world's (`registry.redhat.io` with no mirror)
//! fails with containers/image's own words for a registry it cannot
//! reach, and no packet leaves loopback. Go's proxy rules never send a
//! loopback address through a proxy (`golang.org/x/net/http/httpproxy`:
//! "localhost" and loopback IPs are always direct), so the world's own
//! registries are reached directly.
//!
//! A name the world serves inside the cluster (the integrated registry's
//! Service, `image-registry.openshift-image-registry.svc:5000`) is a
//! tunnel instead: `CONNECT` to it is answered 200 and spliced to the
//! loopback port that serves it, as the cluster network would carry it.
//! The client's TLS runs end to end, so the certificate must name it.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running refusing proxy; stops on drop.
#[derive(Debug)]
pub struct Egress {
    port: u16,
    asked: Arc<Mutex<Vec<String>>>,
    tunnels: Tunnels,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Egress {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind egress proxy");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let tunnels = Tunnels::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (asked, tunnels, stop) = (asked.clone(), tunnels.clone(), stop.clone());
            std::thread::spawn(move || serve(&listener, &asked, &tunnels, &stop))
        };
        Self {
            port,
            asked,
            tunnels,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `CONNECT target` (`host:port`) is carried to `127.0.0.1:port`.
    pub fn tunnel(&self, target: &str, port: u16) {
        lock(&self.tunnels.0).insert(target.to_string(), port);
    }

    /// Every target refused so far (`registry.redhat.io:443`), in order.
    pub fn refused(&self) -> Vec<String> {
        lock(&self.asked).clone()
    }
}

impl Drop for Egress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Targets carried through, and the loopback port serving each.
#[derive(Clone, Debug, Default)]
struct Tunnels(Arc<Mutex<HashMap<String, u16>>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn serve(listener: &TcpListener, asked: &Mutex<Vec<String>>, tunnels: &Tunnels, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // `CONNECT host:443 HTTP/1.1` or `GET http://host/… HTTP/1.1`.
                let mut words = line.split_whitespace();
                let (method, target) = (words.next().unwrap_or_default(), words.next());
                let target = target.unwrap_or_default().to_string();
                // The headers, to the blank line: the client waits for the
                // answer before it sends anything more.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let port = lock(&tunnels.0).get(&target).copied();
                match port {
                    Some(port) if method == "CONNECT" => {
                        let _ = std::thread::spawn(move || splice(stream, port));
                    }
                    _ => {
                        lock(asked).push(target);
                        let _ = (&stream).write_all(
                            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Carries one tunnelled connection both ways until either side closes
/// or is idle for a minute (so no thread outlives its peers for long).
fn splice(client: TcpStream, port: u16) {
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    if (&client)
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let idle = Some(Duration::from_secs(60));
    for s in [&client, &upstream] {
        let _ = s.set_read_timeout(idle);
    }
    let (Ok(client_r), Ok(upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || pipe(client_r, upstream_w));
    pipe(upstream, client);
    let _ = up.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
    let _ = from.shutdown(std::net::Shutdown::Read);
}
