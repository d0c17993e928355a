//! The Docker Registry v2 token flow Red Hat's registries use, as a checked
//! sequence of steps with every failure named.
//!
//! - [`challenge`]: `WWW-Authenticate` parsing.
//! - [`token`]: token endpoint answers and error bodies.
//! - [`paste`]: paste mistakes caught before any request.
//! - [`proxy`], [`trust`], [`resolve`]: the road to the registry (proxy,
//!   TLS roots, name resolution), decided once for every step.
//! - [`diagnose`]: the named causes.
//! - [`flow`]: the steps themselves.

pub mod challenge;
pub mod diagnose;
pub mod flow;
pub mod paste;
pub mod proxy;
pub mod resolve;
pub mod token;
pub mod trust;

pub use diagnose::Cause;
pub use flow::{CheckOptions, CheckReport, Grant, Status, Step, StepReport, check};
