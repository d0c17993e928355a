//! The REST API, by concern: [`route`] (URL parsing, verbs, query
//! parameters, discovery), [`verbs`] (get, list, create, update, patch,
//! delete with the real semantics) and [`watch`].

mod route;
mod verbs;
mod watch;

pub use route::{Query, Route, Target, discovery, route, verb};
pub use verbs::handle;
pub use watch::dropped;
