//! Builds pull their builder image with the secret named in the
//! BuildConfig's strategy (`spec.strategy.{source,docker,custom}Strategy.
//! pullSecret`) and push with `spec.output.pushSecret` — what `oc set
//! build-secret --pull|--push` sets. Only that field is patched (a merge
//! patch), so the rest of the object stays as it is.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

use crate::error::ClusterError;
use crate::{Cluster, DryRun, Outcome};

fn api(cluster: &Cluster, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("build.openshift.io", "v1", "BuildConfig");
    Api::namespaced_with(
        cluster.client.clone(),
        ns,
        &ApiResource::from_gvk_with_plural(&gvk, "buildconfigs"),
    )
}

/// Sets the pull (or, with `push`, the push) secret of BuildConfig `bc`.
pub async fn set_secret(
    cluster: &Cluster,
    ns: &str,
    bc: &str,
    secret: &str,
    push: bool,
    dry_run: DryRun,
) -> Result<Outcome, ClusterError> {
    let api = api(cluster, ns);
    let obj = api
        .get(bc)
        .await
        .map_err(|e| ClusterError::from_kube(e, "buildconfig", ns, bc))?;
    let spec = obj.data.get("spec").cloned().unwrap_or(Value::Null);
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
    if spec.pointer(&pointer).and_then(Value::as_str) == Some(secret) {
        return Ok(Outcome::Unchanged);
    }
    if dry_run != DryRun::Client {
        let params = PatchParams {
            dry_run: dry_run == DryRun::Server,
            field_manager: Some("kubectl-rhpull".into()),
            ..PatchParams::default()
        };
        api.patch(bc, &params, &Patch::Merge(&patch))
            .await
            .map_err(|e| ClusterError::from_kube(e, "buildconfig", ns, bc))?;
    }
    Ok(Outcome::Updated)
}
