//! End-to-end tests: the built `kubectl-rhpull` driven through real
//! `kubectl` plugin dispatch against the test world (`rhpull_e2e::env`).
//! One test binary, so the registry world starts once for all of them.

mod access;
mod acm;
mod causes;
mod check_login;
mod cluster_commands;
mod contexts;
mod differential;
mod dist;
mod exactness;
mod failing;
mod fix;
mod fleet;
mod hosted;
mod image_registry;
mod json_output;
mod keepers;
mod manners;
mod no_leaks;
mod nodepull;
mod nodes;
mod peers;
mod plugin_dispatch;
mod promises;
mod rollout;
mod tls;
mod world;
