//! What a check is asked to do: the registry, the credential and image,
//! how to trust and reach the registry, how to ask for a token; and what
//! stops a check before it starts.

use std::sync::Arc;
use std::time::Duration;

use super::diagnose::Cause;
use super::proxy::ProxyConfig;
use super::resolve::{Resolve, SystemResolver};
use super::trust::{TrustConfig, TrustError};
use crate::Credential;
use crate::imageref::ImageRef;

/// How to ask the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grant {
    /// Basic-auth GET; the OAuth password grant when GET is not offered.
    #[default]
    Auto,
    Basic,
    OAuth,
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// `host[:port]`.
    pub registry: String,
    pub credential: Option<Credential>,
    pub image: Option<ImageRef>,
    pub trust: TrustConfig,
    pub proxy: ProxyConfig,
    pub timeout: Duration,
    pub grant: Grant,
    pub resolver: Arc<dyn Resolve>,
    /// `client_id` sent to the token endpoint.
    pub client_id: String,
    /// What is wrong with the credential before any request (a login that
    /// holds only an identity token); the credentials step fails with it.
    pub credential_problem: Option<Cause>,
}

impl CheckOptions {
    pub fn new(registry: &str) -> Self {
        Self {
            registry: registry.to_string(),
            credential: None,
            image: None,
            trust: TrustConfig::default(),
            proxy: ProxyConfig::from_env(),
            timeout: Duration::from_secs(10),
            grant: Grant::Auto,
            resolver: Arc::new(SystemResolver),
            client_id: "rhpull".into(),
            credential_problem: None,
        }
    }

    pub(crate) fn authority(&self) -> &str {
        self.registry.trim_end_matches('/')
    }
}

/// Errors that stop a check before it starts (bad options, not a failed step).
#[derive(Debug, thiserror::Error)]
pub enum CheckSetupError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
