//! `rhpull check --secret NAME [--image REF]`: the registry flow with the
//! login a pull secret in the cluster holds. With an image, the login is
//! the one the kubelet would use from that secret (its keys matched to the
//! image, most specific first, the next tried when one fails).

use rhpull_cluster::pods::{self, Keyed, Source};
use rhpull_cluster::{ClusterError, pullsecret};
use rhpull_core::authfile::{CredentialSource, keys};
use rhpull_core::imageref::{ImageRef, kubelet_matches};

use super::RegistryReport;
use crate::cli::{CheckArgs, KubeArgs};
use crate::connection::Connection;
use crate::creds::Found;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::{CliError, Reason};
use crate::registry_check;

struct SecretCheck<'a> {
    args: &'a CheckArgs,
    name: &'a str,
    image: Option<ImageRef>,
    insecure: bool,
}

pub async fn run(
    kube: &KubeArgs,
    args: &CheckArgs,
    name: &str,
    image: Option<ImageRef>,
) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    let cmd = SecretCheck {
        args,
        name,
        image,
        insecure: kube.insecure_skip_tls_verify,
    };
    driver::query(&cmd, &conn, args.output.into()).await
}

impl SecretCheck<'_> {
    /// The logins to check, in order: for an image, as the kubelet matches
    /// them; else the one for the registry named (or the secret's only
    /// one). Never empty.
    fn candidates(&self, ns: &str, held: Vec<Keyed>) -> Result<Vec<Keyed>, CliError> {
        let (wanted, picked) = match &self.image {
            Some(image) => {
                let keys: Vec<&str> = held.iter().map(|k| k.key.as_str()).collect();
                let order: Vec<String> = kubelet_matches(keys, &image.to_string())
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                let picked: Vec<Keyed> = (order.iter())
                    .filter_map(|key| held.iter().find(|k| &k.key == key).cloned())
                    .collect();
                (image.name(), picked)
            }
            None => {
                let wanted = self.args.registry.as_deref().map(keys::normalize);
                let picked = match &wanted {
                    Some(r) => held
                        .iter()
                        .filter(|k| &k.key == r)
                        .take(1)
                        .cloned()
                        .collect(),
                    None if held.len() == 1 => held.clone(),
                    None => Vec::new(),
                };
                let default = rhpull_core::registries::DEFAULT.to_string();
                (wanted.unwrap_or(default), picked)
            }
        };
        if !picked.is_empty() {
            return Ok(picked);
        }
        let registries: Vec<String> = held.iter().map(|k| k.key.clone()).collect();
        Err(
            CliError::failed(Reason::SecretLacksRegistry, "error.secret_lacks_registry")
                .with("namespace", ns)
                .with("name", self.name)
                .with("registry", wanted)
                .with("held", registries),
        )
    }
}

impl ClusterQuery for SecretCheck<'_> {
    type Report = RegistryReport;

    async fn read(&self, cx: &Cx<'_>) -> Result<RegistryReport, CliError> {
        let ns = cx.namespace.as_str();
        let cluster = cx.cluster()?;
        let Some(secret) = pullsecret::get(cluster, ns, self.name).await? else {
            let missing = ClusterError::NotFound {
                group: String::new(),
                resource: "secrets".into(),
                namespace: Some(ns.to_string()),
                name: self.name.to_string(),
            };
            return Err(rhpull_cluster::namespaces::blame(cluster, missing)
                .await
                .into());
        };
        let source = Source::PodSecret {
            name: self.name.to_string(),
        };
        let held = pods::keyed_credentials(pullsecret::credentials_of(&secret)?, &source);
        let mut reports = Vec::new();
        for k in self.candidates(ns, held)? {
            let registry = keys::host(&k.key).to_string();
            let mut options = registry_check::options(&registry, &self.args.net, self.insecure);
            options.credential = Some(k.credential.clone());
            options.image = self.image.clone();
            let report = registry_check::run(&options).await?;
            let passed = report.passed;
            let found = Found {
                credential: k.credential,
                source: Some(CredentialSource::Secret {
                    namespace: ns.to_string(),
                    name: self.name.to_string(),
                }),
                identity_token_only: false,
            };
            reports.push(RegistryReport::new(report, Some(found)));
            if passed {
                break;
            }
        }
        // The last one tried: the one that passed, or the kubelet's last hope.
        #[allow(clippy::expect_used, reason = "candidates() is never empty when Ok")]
        Ok(reports.pop().expect("candidates are never empty"))
    }
}
