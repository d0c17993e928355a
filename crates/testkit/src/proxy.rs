//! Debian's tinyproxy on 127.0.0.1 as a real HTTPS (CONNECT) proxy, set up
//! to allow tunnels, refuse them (CONNECT to a port it does not allow: 403),
//! or ask for credentials (407).

use std::time::Duration;

use crate::tools::{Supervised, free_port, require, wait_for_port};

/// How the proxy treats CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// Tunnels to the given port only.
    AllowPort(u16),
    /// Refuses every tunnel (allows only a port nothing uses).
    RefuseConnect,
    /// Requires Basic credentials `user`/`password`.
    RequireAuth {
        user: String,
        password: String,
        port: u16,
    },
}

#[derive(Debug)]
pub struct Tinyproxy {
    pub port: u16,
    server: Supervised,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    pub fn start(mode: &ProxyMode) -> Self {
        let program = require("tinyproxy", "tinyproxy");
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let (connect_port, auth) = match mode {
            ProxyMode::AllowPort(p) => (*p, String::new()),
            ProxyMode::RefuseConnect => (1, String::new()),
            ProxyMode::RequireAuth {
                user,
                password,
                port,
            } => (*port, format!("BasicAuth {user} {password}\n")),
        };
        let conf = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "User nobody\nGroup nogroup\nPort {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 20\n\
                 Allow 127.0.0.1\nConnectPort {connect_port}\nLogLevel Critical\n\
                 PidFile \"{pid}\"\n{auth}",
                pid = dir.path().join("tinyproxy.pid").display(),
            ),
        )
        .expect("write tinyproxy.conf");
        let log = std::fs::File::create(dir.path().join("tinyproxy.log")).expect("log file");
        let server = Supervised::spawn(
            &program,
            &["-d".as_ref(), "-c".as_ref(), conf.as_os_str()],
            log,
        );
        let mut proxy = Self {
            port,
            server,
            _dir: dir,
        };
        if !wait_for_port(port, Duration::from_secs(10)) {
            proxy.stop();
            panic!("tinyproxy did not start on 127.0.0.1:{port}");
        }
        proxy
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.server.stop();
    }
}
