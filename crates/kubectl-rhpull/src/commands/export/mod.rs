//! `rhpull export ansible | acm-policy | kyverno-policy | external-secrets`:
//! what rhpull knows, for another tool — the OKD 3.11 installer's
//! inventory ([`ansible`]), a hub's policy that distributes a pull secret
//! to managed clusters ([`acm`]), or what keeps it in every namespace,
//! Kyverno's policies or the External Secrets Operator's resources
//! ([`keeper`]).

mod acm;
mod ansible;
mod keeper;

use crate::cli::{ExportArgs, ExportFormat, KubeArgs};
use crate::error::CliError;

pub async fn run(kube: &KubeArgs, args: &ExportArgs) -> Result<(), CliError> {
    match &args.format {
        ExportFormat::Ansible(a) => ansible::run(a),
        ExportFormat::AcmPolicy(a) => acm::run(kube, a).await,
        ExportFormat::KyvernoPolicy(a) => keeper::kyverno(kube, a).await,
        ExportFormat::ExternalSecrets(a) => keeper::external_secrets(kube, a).await,
    }
}

/// Manifests as one `v1 List` (what `kubectl apply -f` takes).
fn manifest_list(docs: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs})
}

/// kubectl's `kind/name` of each manifest.
fn manifest_names(docs: &[serde_json::Value]) -> Vec<String> {
    (docs.iter())
        .map(|d| {
            let kind = d["kind"].as_str().unwrap_or_default().to_ascii_lowercase();
            format!(
                "{kind}/{}",
                d["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The logins `--registry` names (the Red Hat registries without one), as
/// `create` finds them: from the flags, a file, podman or docker.
fn logins(l: &crate::cli::LoginsArgs) -> Result<Vec<rhpull_core::Credential>, CliError> {
    use rhpull_core::authfile::Selection;
    let selection = if l.registries.is_empty() {
        Selection::RedHat
    } else {
        Selection::Named(l.registries.clone())
    };
    let registry =
        (l.registries.first().cloned()).unwrap_or_else(|| rhpull_core::registries::DEFAULT.into());
    let found = crate::creds::gather(&l.secret, &l.source, &selection, &registry)?;
    Ok(found.into_iter().map(|f| f.credential).collect())
}
