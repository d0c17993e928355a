//! After a registry service account token is regenerated: find every pull
//! secret that holds that username (optionally for one registry) and put the
//! new token in, keeping every other entry of each secret.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rhpull_core::Credential;
use rhpull_core::authfile::{Change, keys};
use secrecy::SecretString;

use crate::access::{Need, Verb};
use crate::error::ClusterError;
use crate::inventory::Inventory;
use crate::{Cluster, DryRun, Outcome, retry};

/// One secret to rotate, and the registries in it that hold the username.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    pub namespace: String,
    pub name: String,
    pub registries: Vec<String>,
}

impl Target {
    /// Rotating updates the secret.
    pub fn need(&self) -> Need {
        Need::on::<Secret>(Verb::Update, Some(&self.namespace))
    }
}

/// The secrets holding a username: those whose token changes, and those
/// that have the new one already.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    pub changing: Vec<Target>,
    pub unchanged: Vec<Target>,
    /// Copies a keeper makes from its source: never written here (the
    /// keeper would put its own back); the source's new token reaches
    /// them through the keeper.
    pub kept: Vec<(Target, crate::keepers::KeptBy)>,
}

/// The secrets in `inventory` holding `username` (at `registry` if given),
/// split by whether they hold another secret than `secret`.
pub fn plan(
    inventory: &Inventory,
    username: &str,
    secret: &SecretString,
    registry: Option<&str>,
) -> Targets {
    let registry = registry.map(keys::normalize);
    let new = crate::inventory::SecretDigest::of(secret);
    let mut out = Targets::default();
    for s in &inventory.secrets {
        let holding = (s.logins.iter()).filter(|l| {
            l.username == username && registry.as_ref().is_none_or(|r| &l.registry == r)
        });
        let (same, other): (Vec<_>, Vec<_>) = holding.partition(|l| l.digest == new);
        let target = |logins: Vec<&crate::inventory::Login>| Target {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            registries: logins.iter().map(|l| l.registry.clone()).collect(),
        };
        if let Some(by) = &s.kept_by {
            if !other.is_empty() {
                out.kept.push((target(other), by.clone()));
            }
        } else if !other.is_empty() {
            out.changing.push(target(other));
        } else if !same.is_empty() {
            out.unchanged.push(target(same));
        }
    }
    out
}

/// Puts `secret` into every entry of `target` holding `username`.
pub async fn apply(
    cluster: &Cluster,
    target: &Target,
    username: &str,
    secret: &SecretString,
    dry_run: DryRun,
) -> Result<Outcome, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &target.namespace);
    let (ns, name) = (target.namespace.as_str(), target.name.as_str());
    retry::on_conflict(|| async {
        let mut current = api
            .get(name)
            .await
            .map_err(|e| ClusterError::from_kube::<Secret>(e, ns, name))?;
        let (key, mut file) = crate::pullsecret::auth_file_of(&current)?;
        let mut changed = false;
        for registry in &target.registries {
            let cred = Credential {
                registry: registry.clone(),
                username: username.to_string(),
                secret: secret.clone(),
                raw: None,
                email: None,
            };
            changed |= file.set_in_secret(&cred) != Change::Unchanged;
        }
        if !changed {
            return Ok(Outcome::Unchanged);
        }
        if dry_run == DryRun::Client {
            return Ok(Outcome::Updated);
        }
        current
            .data
            .get_or_insert_with(Default::default)
            .insert(key.into(), ByteString(file.to_secret_bytes()));
        api.replace(name, &dry_run.post_params(), &current)
            .await
            .map_err(|e| ClusterError::from_kube::<Secret>(e, ns, name))?;
        Ok(Outcome::Updated)
    })
    .await
}
