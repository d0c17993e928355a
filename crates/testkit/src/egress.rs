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

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running refusing proxy; stops on drop.
#[derive(Debug)]
pub struct Egress {
    port: u16,
    asked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Egress {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind egress proxy");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (asked, stop) = (asked.clone(), stop.clone());
            std::thread::spawn(move || serve(&listener, &asked, &stop))
        };
        Self {
            port,
            asked,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every target asked for so far (`registry.redhat.io:443`), in order.
    pub fn refused(&self) -> Vec<String> {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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

fn serve(listener: &TcpListener, asked: &Mutex<Vec<String>>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_ok() {
                    // `CONNECT host:443 HTTP/1.1` or `GET http://host/… HTTP/1.1`.
                    let target = line.split_whitespace().nth(1).unwrap_or_default();
                    asked
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(target.to_string());
                    let _ = (&stream).write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
