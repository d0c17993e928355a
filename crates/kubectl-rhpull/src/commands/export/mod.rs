//! `rhpull export ansible | acm-policy | kyverno-policy`: what rhpull
//! knows, for another tool — the OKD 3.11 installer's inventory
//! ([`ansible`]), a hub's policy that distributes a pull secret to managed
//! clusters ([`acm`]), or Kyverno's policies that keep it in every
//! namespace ([`kyverno`]).

mod acm;
mod ansible;
mod kyverno;

use crate::cli::{ExportArgs, ExportFormat, KubeArgs};
use crate::error::CliError;

pub async fn run(kube: &KubeArgs, args: &ExportArgs) -> Result<(), CliError> {
    match &args.format {
        ExportFormat::Ansible(a) => ansible::run(a),
        ExportFormat::AcmPolicy(a) => acm::run(kube, a).await,
        ExportFormat::KyvernoPolicy(a) => kyverno::run(kube, a).await,
    }
}
