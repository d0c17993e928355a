//! `rhpull-testkit`: the test world, started by the tests themselves.
//!
//! - [`tls`]: a throwaway CA and server certificates for 127.0.0.1.
//! - [`registry`]: Debian's `docker-registry` (CNCF distribution) on
//!   loopback with TLS and htpasswd auth.
//! - [`skopeo`]: the real `skopeo`, pointed at an auth file and the test CA.
//! - [`oci`]: a tiny OCI image layout to push.
//! - [`helper`]: a real `docker-credential-*` helper program.
//! - [`tools`]: finding real binaries and free loopback ports.
//! - [`server`]: axum over TLS on loopback, in a background thread.
//! - [`sso`]: a token server answering as Red Hat's SSO endpoint does.
//! - [`proxy`]: Debian's tinyproxy as a real CONNECT proxy.
//! - [`egress`]: the world's way out, refusing and recording every request.
//! - [`world`]: SSO + token-auth registry + pushed image, ready to use.
//! - [`kube`]: the Kubernetes API emulator (and its OpenShift mode).
//!
//! Every server binds 127.0.0.1 only, stops when its handle drops, and stops
//! by itself when the test process that started it exits or after
//! [`SERVER_LIFETIME_SECS`] (`tools::Supervised`, and the in-process servers'
//! lifetime timer).
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod egress;
pub mod helper;
pub mod kube;
pub mod oci;
pub mod proxy;
pub mod registry;
pub mod server;
pub mod skopeo;
pub mod sso;
pub mod tls;
pub mod tools;
pub mod world;

/// How long any server started here may live, whatever happens to its parent.
pub const SERVER_LIFETIME_SECS: u32 = 900;

/// A small multi-threaded runtime for tests that drive async client code
/// from a plain `#[test]` (the servers here run on runtimes of their own).
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
