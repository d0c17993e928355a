//! Builds pull their builder image with the secret named in the
//! BuildConfig's strategy (`spec.strategy.{source,docker,custom}Strategy.
//! pullSecret`) and push with `spec.output.pushSecret` — what `oc set
//! build-secret --pull|--push` sets. Only that field is patched (a merge
//! patch), so the rest of the object stays as it is.

use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::access::{Need, Verb};
use crate::error::ClusterError;
use crate::kinds::BuildConfig;
use crate::{Cluster, DryRun, Outcome};

/// What setting a build secret will change.
#[derive(Clone, Debug)]
pub struct BuildSecretPlan {
    pub namespace: String,
    pub build_config: String,
    pub outcome: Outcome,
    patch: Value,
}

impl BuildSecretPlan {
    pub fn need(&self) -> Option<Need> {
        (self.outcome != Outcome::Unchanged)
            .then(|| Need::on::<BuildConfig>(Verb::Patch, Some(&self.namespace)))
    }
}

/// A BuildConfig as read: only its `spec`.
#[derive(Clone, Debug)]
pub struct Read {
    namespace: String,
    build_config: String,
    spec: Value,
}

/// Reads BuildConfig `bc` (a missing namespace is named as one).
pub async fn read(cluster: &Cluster, ns: &str, bc: &str) -> Result<Read, ClusterError> {
    let api: Api<BuildConfig> = Api::namespaced(cluster.client.clone(), ns);
    let spec = match api.get(bc).await {
        Ok(found) => found.spec,
        Err(e) => {
            let err = ClusterError::from_kube::<BuildConfig>(e, ns, bc);
            return Err(crate::namespaces::blame(cluster, err).await);
        }
    };
    Ok(Read {
        namespace: ns.to_string(),
        build_config: bc.to_string(),
        spec,
    })
}

impl Read {
    /// Plans setting its pull (or, with `push`, push) secret to `secret`.
    pub fn plan(&self, secret: &str, push: bool) -> BuildSecretPlan {
        let spec = &self.spec;
        let (pointer, patch) = if push {
            (
                "/output/pushSecret/name".to_string(),
                json!({"spec": {"output": {"pushSecret": {"name": secret}}}}),
            )
        } else {
            let strategy = ["sourceStrategy", "dockerStrategy", "customStrategy"]
                .into_iter()
                .find(|s| spec.pointer(&format!("/strategy/{s}")).is_some())
                .unwrap_or("sourceStrategy");
            (
                format!("/strategy/{strategy}/pullSecret/name"),
                json!({"spec": {"strategy": {strategy: {"pullSecret": {"name": secret}}}}}),
            )
        };
        let outcome = if spec.pointer(&pointer).and_then(Value::as_str) == Some(secret) {
            Outcome::Unchanged
        } else {
            Outcome::Updated
        };
        BuildSecretPlan {
            namespace: self.namespace.clone(),
            build_config: self.build_config.clone(),
            outcome,
            patch,
        }
    }
}

/// Reads BuildConfig `bc` and plans setting its pull (or, with `push`,
/// push) secret to `secret`.
pub async fn plan(
    cluster: &Cluster,
    ns: &str,
    bc: &str,
    secret: &str,
    push: bool,
) -> Result<BuildSecretPlan, ClusterError> {
    Ok(read(cluster, ns, bc).await?.plan(secret, push))
}

/// Carries out a plan: one merge patch of that field.
pub async fn write(
    cluster: &Cluster,
    plan: &BuildSecretPlan,
    dry_run: DryRun,
) -> Result<Outcome, ClusterError> {
    if plan.outcome == Outcome::Unchanged || dry_run == DryRun::Client {
        return Ok(plan.outcome);
    }
    let (ns, bc) = (&plan.namespace, &plan.build_config);
    let api: Api<BuildConfig> = Api::namespaced(cluster.client.clone(), ns);
    let params = PatchParams {
        dry_run: dry_run == DryRun::Server,
        field_manager: Some("kubectl-rhpull".into()),
        ..PatchParams::default()
    };
    api.patch(bc, &params, &Patch::Merge(&plan.patch))
        .await
        .map_err(|e| ClusterError::from_kube::<BuildConfig>(e, ns, bc))?;
    Ok(plan.outcome)
}
