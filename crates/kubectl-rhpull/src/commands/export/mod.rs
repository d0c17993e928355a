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
