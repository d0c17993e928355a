//! The Docker Registry v2 token flow Red Hat's registries use, as a checked
//! sequence of steps with every failure named.
//!
//! - [`flow`]: the order of the steps ([`check`]); [`options`]: what to check.
//! - [`connect`]: DNS, TCP, the proxy tunnel and TLS, each its own step.
//! - [`http`]: the challenge, registry and image requests.
//! - [`grant`]: the token request (Basic GET or OAuth password grant).
//! - [`report`]: what a check records, step by step.
//! - [`challenge`]: `WWW-Authenticate` parsing; [`token`]: token answers and
//!   error bodies; [`paste`]: paste mistakes caught before any request.
//! - [`proxy`], [`trust`], [`resolve`]: the road to the registry (proxy,
//!   TLS roots, name resolution), decided once for every step.
//! - [`diagnose`]: the named causes.

pub mod challenge;
mod connect;
pub mod diagnose;
pub mod flow;
mod grant;
mod http;
pub mod options;
pub mod paste;
pub mod proxy;
mod report;
pub mod resolve;
pub mod token;
pub mod trust;

pub use diagnose::Cause;
pub use flow::{check, discover_auth_server};
pub use http::BUSY_ATTEMPTS;
pub use options::{CheckOptions, CheckSetupError, Grant};
pub use report::{CheckReport, Detail, Status, Step, StepReport};
