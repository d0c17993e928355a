//! `rhpull-core`: registry credentials as podman, skopeo, docker and the
//! kubelet see them.
//!
//! Nothing in here talks to Kubernetes or prints: `rhpull-cluster` builds
//! cluster objects from these types, and the `kubectl-rhpull` binary turns
//! the typed errors into words through its message catalogue.
//!
//! - [`credential`]: a username and secret for one registry; `Debug` redacts.
//! - [`registries`]: the catalogue of Red Hat registries.
//! - [`imageref`]: image references, and the kubelet's key matching.
//! - [`authfile`]: containers `auth.json`, docker `config.json` and legacy
//!   `.dockercfg`: find, read, merge, write.
//! - [`helper`]: `docker-credential-*` helpers (`credsStore`/`credHelpers`).
//! - [`sso`]: the registry token flow, checked step by step.
// What ships never panics on a missing value: an invariant is stated
// with `expect` and an `#[allow]` that says why, where there is one.
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod ansible;
pub mod authfile;
pub mod credential;
pub mod helper;
pub mod imageref;
pub mod mirrors;
pub mod registries;
pub mod sso;
pub mod time;

pub use credential::{Credential, RawEntry, RegistryServiceAccount};
