//! Real binaries and loopback ports.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound then released; the caller binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// The path of a program on PATH, or a clear panic naming the package.
pub fn require(program: &str, package: &str) -> PathBuf {
    find(program).unwrap_or_else(|| {
        panic!("{program} is not installed: run `cargo xtask test` (it installs the Debian package {package})")
    })
}

pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A server process under a small shell supervisor that stops it when told
/// (SIGTERM), when the process that started it exits (even if killed), or
/// after [`crate::SERVER_LIFETIME_SECS`] — so no test leaves a server behind.
#[derive(Debug)]
pub struct Supervised {
    child: std::process::Child,
}

const SUPERVISOR: &str = r#"owner=$1; life=$2; shift 2
"$@" & child=$!
trap 'kill $child 2>/dev/null; wait $child; exit 0' TERM INT HUP
n=0
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null && [ "$n" -lt "$life" ]; do
  sleep 1 & wait $!
  n=$((n+1))
done
kill $child 2>/dev/null; wait $child"#;

impl Supervised {
    /// Starts `program args…` with its output going to `log`.
    pub fn spawn(program: &std::path::Path, args: &[&std::ffi::OsStr], log: std::fs::File) -> Self {
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("rhpull-supervisor")
            .arg(std::process::id().to_string())
            .arg(crate::SERVER_LIFETIME_SECS.to_string())
            .arg(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start supervised server");
        Self { child }
    }

    /// Stops the server and waits for it (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}
