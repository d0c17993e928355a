//! Pull secrets built from `core` credentials — `kubernetes.io/dockerconfigjson`
//! (or the legacy `kubernetes.io/dockercfg`) with only the chosen registries —
//! named as the portal names them, labelled as rhpull's, and applied
//! idempotently: no write when nothing changed, and never over a secret
//! someone else made unless asked.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta};
use rhpull_core::Credential;
use rhpull_core::authfile::{AuthFile, AuthFormat, keys};

use crate::access::{Need, Verb};
use crate::error::{ClusterError, PullSecretProblem, is_not_found};
use crate::{Cluster, DryRun, MANAGED_BY, MANAGED_BY_LABEL, Outcome, secret_types};

/// Annotation listing the registries a secret holds (no secrets in it).
pub const ANNOTATION_REGISTRIES: &str = "rhpull.io/registries";
/// Annotation listing the usernames a secret holds.
pub const ANNOTATION_USERNAMES: &str = "rhpull.io/usernames";

/// Which secret type to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    DockerConfigJson,
    DockerCfg,
}

impl Format {
    pub fn secret_type(self) -> &'static str {
        match self {
            Self::DockerConfigJson => secret_types::DOCKER_CONFIG_JSON,
            Self::DockerCfg => secret_types::DOCKERCFG,
        }
    }

    fn data_key(self) -> &'static str {
        match self {
            Self::DockerConfigJson => ".dockerconfigjson",
            Self::DockerCfg => ".dockercfg",
        }
    }
}

/// The name the portal gives a registry service account's secret
/// (`1234567-name-pull-secret`), else `<registry-with-dashes>-pull-secret`.
pub fn default_name(credentials: &[Credential]) -> String {
    let base = credentials
        .iter()
        .find_map(|c| c.service_account().map(|sa| sa.slug()))
        .or_else(|| credentials.first().map(|c| keys::normalize(&c.registry)))
        .unwrap_or_else(|| "registry".into());
    let mut name: String = base
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let name = name.trim_matches('-');
    let mut out = format!("{name}-pull-secret");
    out.truncate(253);
    out
}

/// The secret's data bytes for `credentials`, in the type's own layout.
pub fn render(format: Format, credentials: &[Credential]) -> Vec<u8> {
    let file_format = match format {
        Format::DockerConfigJson => AuthFormat::Docker,
        Format::DockerCfg => AuthFormat::LegacyDockercfg,
    };
    let mut file = AuthFile::new_empty(Path::new("secret"), file_format);
    for c in credentials {
        file.set_in_secret(c);
    }
    // As kubectl writes it: the kubelet does not care, people diffing do.
    file.to_secret_bytes()
}

/// Builds the secret (not yet applied).
pub fn build(name: &str, namespace: &str, format: Format, credentials: &[Credential]) -> Secret {
    let registries: Vec<String> = credentials
        .iter()
        .map(|c| keys::normalize(&c.registry))
        .collect();
    let mut usernames: Vec<String> = credentials.iter().map(|c| c.username.clone()).collect();
    usernames.dedup();
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_string(),
                MANAGED_BY.to_string(),
            )])),
            annotations: Some(BTreeMap::from([
                (ANNOTATION_REGISTRIES.to_string(), registries.join(",")),
                (ANNOTATION_USERNAMES.to_string(), usernames.join(",")),
            ])),
            ..ObjectMeta::default()
        },
        type_: Some(format.secret_type().to_string()),
        data: Some(BTreeMap::from([(
            format.data_key().to_string(),
            ByteString(render(format, credentials)),
        )])),
        ..Secret::default()
    }
}

/// True when rhpull made this secret.
pub fn is_managed(secret: &Secret) -> bool {
    secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(MANAGED_BY)
}

/// OpenShift's own registry secret for a service account: the
/// `kubernetes.io/dockercfg` secret openshift-controller-manager makes for
/// every service account, holding a token for the internal registry. It
/// is OpenShift's to keep: rhpull shows it, and never rotates, unlinks or
/// counts it as a login.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InternalRegistrySecret {
    pub service_account: String,
    pub token: RegistryToken,
}

/// Which form: 4.16+ (`pkg/internalregistry/controllers`: a bound token
/// the controller refreshes, no token secret) or the older one (a
/// long-lived token from a `<sa>-token-…` secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryToken {
    Bound,
    Legacy,
}

/// 4.16+: the service account names its managed secret here…
pub const PULL_SECRET_REF: &str = "openshift.io/internal-registry-pull-secret-ref";
/// … and the secret names its service account here.
pub const AUTH_TOKEN_SA: &str = "openshift.io/internal-registry-auth-token.service-account";
const AUTH_TOKEN_BINDING: &str = "openshift.io/internal-registry-auth-token.binding";
/// Before 4.16: the service account a dockercfg secret was made for.
const LEGACY_SA: &str = "kubernetes.io/service-account.name";

/// OpenShift's registry secret, if `secret` is one.
pub fn internal_registry(secret: &Secret) -> Option<InternalRegistrySecret> {
    if secret.type_.as_deref() != Some(secret_types::DOCKERCFG) {
        return None;
    }
    let ann = secret.metadata.annotations.as_ref()?;
    if let Some(sa) = ann.get(AUTH_TOKEN_SA) {
        // During the move to bound tokens the controller marks a secret it
        // has not yet refreshed `binding: legacy`.
        let token = match ann.get(AUTH_TOKEN_BINDING).map(String::as_str) {
            Some("legacy") => RegistryToken::Legacy,
            _ => RegistryToken::Bound,
        };
        return Some(InternalRegistrySecret {
            service_account: sa.clone(),
            token,
        });
    }
    ann.get(LEGACY_SA).map(|sa| InternalRegistrySecret {
        service_account: sa.clone(),
        token: RegistryToken::Legacy,
    })
}

/// A pull secret's data as an auth file (either type), with the data key
/// it lives under, so it can be changed and written back.
pub fn auth_file_of(secret: &Secret) -> Result<(&'static str, AuthFile), ClusterError> {
    let ns = secret.metadata.namespace.clone().unwrap_or_default();
    let name = secret.metadata.name.clone().unwrap_or_default();
    let bad = |problem: PullSecretProblem| ClusterError::BadPullSecret {
        namespace: ns.clone(),
        name: name.clone(),
        problem: Box::new(problem),
    };
    let (key, format) = match secret.type_.as_deref() {
        Some(secret_types::DOCKER_CONFIG_JSON) => (".dockerconfigjson", AuthFormat::Docker),
        Some(secret_types::DOCKERCFG) => (".dockercfg", AuthFormat::LegacyDockercfg),
        other => {
            let type_ = other.unwrap_or("Opaque").to_string();
            return Err(bad(PullSecretProblem::NotAPullSecret(type_)));
        }
    };
    let data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .ok_or_else(|| bad(PullSecretProblem::NoDataKey(key)))?;
    let label = format!("secret {ns}/{name}");
    let file = AuthFile::parse(Path::new(&label), format, &data.0)
        .map_err(|e| bad(PullSecretProblem::Content(e)))?;
    Ok((key, file))
}

/// The credentials in a pull secret (either type).
pub fn credentials_of(secret: &Secret) -> Result<Vec<Credential>, ClusterError> {
    let (_, file) = auth_file_of(secret)?;
    let entries = file.entries().map_err(|e| ClusterError::BadPullSecret {
        namespace: secret.metadata.namespace.clone().unwrap_or_default(),
        name: secret.metadata.name.clone().unwrap_or_default(),
        problem: Box::new(PullSecretProblem::Content(e)),
    })?;
    Ok(entries.iter().map(|e| e.credential()).collect())
}

fn same_content(existing: &Secret, wanted: &Secret) -> bool {
    let ours = |s: &Secret| {
        let labels = s.metadata.labels.clone().unwrap_or_default();
        let ann = s.metadata.annotations.clone().unwrap_or_default();
        (
            labels.get(MANAGED_BY_LABEL).cloned(),
            ann.get(ANNOTATION_REGISTRIES).cloned(),
            ann.get(ANNOTATION_USERNAMES).cloned(),
        )
    };
    existing.type_ == wanted.type_ && existing.data == wanted.data && ours(existing) == ours(wanted)
}

/// What applying a wanted secret will do, decided from what is there.
#[derive(Clone, Debug)]
pub struct SecretPlan {
    /// The secret as it will be written (for an update: the existing
    /// object with our data, labels and annotations, and its
    /// resourceVersion, so the write is conditional).
    pub object: Secret,
    pub outcome: Outcome,
}

impl SecretPlan {
    /// Decides against `existing` (read from the cluster, or `None`):
    /// create, update, nothing, or refuse — never over a secret rhpull did
    /// not make unless `overwrite`, never changing a secret's type.
    pub fn decide(
        existing: Option<Secret>,
        wanted: Secret,
        overwrite: bool,
    ) -> Result<Self, ClusterError> {
        let Some(existing) = existing else {
            return Ok(Self::unread(wanted));
        };
        if same_content(&existing, &wanted) {
            return Ok(Self {
                object: existing,
                outcome: Outcome::Unchanged,
            });
        }
        let (namespace, name) = (namespace_of(&wanted), name_of(&wanted));
        if !is_managed(&existing) && !overwrite {
            return Err(ClusterError::SecretNotManaged { namespace, name });
        }
        if existing.type_ != wanted.type_ {
            return Err(ClusterError::SecretTypeDiffers {
                namespace,
                name,
                existing: existing.type_.clone().unwrap_or_else(|| "Opaque".into()),
                wanted: wanted.type_.clone().unwrap_or_default(),
            });
        }
        // Keep everything of the existing object that is not ours to set.
        let mut object = existing;
        object.data = wanted.data;
        object
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(wanted.metadata.labels.unwrap_or_default());
        object
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .extend(wanted.metadata.annotations.unwrap_or_default());
        Ok(Self {
            object,
            outcome: Outcome::Updated,
        })
    }

    /// A plan made without reading the cluster (`--dry-run=client` with no
    /// cluster): the secret would be created.
    pub fn unread(wanted: Secret) -> Self {
        Self {
            object: wanted,
            outcome: Outcome::Created,
        }
    }

    pub fn namespace(&self) -> String {
        namespace_of(&self.object)
    }

    /// The secret as JSON, as kubectl prints it (data included: redact
    /// before showing).
    pub fn to_json(&self) -> serde_json::Value {
        crate::to_json(&self.object)
    }

    /// `(registry, username)` of every login in the secret.
    pub fn logins(&self) -> Vec<(String, String)> {
        credentials_of(&self.object)
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.registry, c.username))
            .collect()
    }

    pub fn name(&self) -> String {
        name_of(&self.object)
    }

    /// The permission the write needs, if there is a write.
    pub fn need(&self) -> Option<Need> {
        let ns = self.namespace();
        match self.outcome {
            Outcome::Created => Some(Need::on::<Secret>(Verb::Create, Some(&ns))),
            Outcome::Updated => Some(Need::on::<Secret>(Verb::Update, Some(&ns))),
            Outcome::Unchanged => None,
        }
    }
}

fn namespace_of(s: &Secret) -> String {
    s.metadata.namespace.clone().unwrap_or_default()
}

fn name_of(s: &Secret) -> String {
    s.metadata.name.clone().unwrap_or_default()
}

/// Reads the secret `wanted` names and decides what to do.
pub async fn plan(
    cluster: &Cluster,
    wanted: Secret,
    overwrite: bool,
) -> Result<SecretPlan, ClusterError> {
    let ns = wanted
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace.clone());
    let existing = get(cluster, &ns, &name_of(&wanted)).await?;
    SecretPlan::decide(existing, wanted, overwrite)
}

/// Carries out a plan: a create, a conditional update (a concurrent change
/// is a 409, not a loss), or nothing.
pub async fn write(
    cluster: &Cluster,
    plan: &SecretPlan,
    dry_run: DryRun,
) -> Result<Outcome, ClusterError> {
    if dry_run == DryRun::Client || plan.outcome == Outcome::Unchanged {
        return Ok(plan.outcome);
    }
    let (ns, name) = (plan.namespace(), plan.name());
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &ns);
    let params = dry_run.post_params();
    let written = match plan.outcome {
        Outcome::Created => api.create(&params, &plan.object).await,
        _ => api.replace(&name, &params, &plan.object).await,
    };
    written.map_err(|e| ClusterError::from_kube::<Secret>(e, &ns, &name))?;
    Ok(plan.outcome)
}

/// Plans and writes in one go: creates the secret, or updates it when its
/// content differs; `overwrite` allows replacing a secret rhpull did not
/// create.
pub async fn apply(
    cluster: &Cluster,
    wanted: &Secret,
    dry_run: DryRun,
    overwrite: bool,
) -> Result<Outcome, ClusterError> {
    let plan = plan(cluster, wanted.clone(), overwrite).await?;
    write(cluster, &plan, dry_run).await
}

/// Reads a secret, `None` when it does not exist.
pub async fn get(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<Secret>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    match api.get(name).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_not_found::<Secret>(&e) => Ok(None),
        Err(e) => Err(ClusterError::from_kube::<Secret>(e, namespace, name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_portal() {
        let rsa = Credential::new("registry.redhat.io", "1234567|My_SA", "t");
        assert_eq!(default_name(&[rsa]), "1234567-my-sa-pull-secret");
        let plain = Credential::new("registry.connect.redhat.com", "bob", "t");
        assert_eq!(
            default_name(&[plain]),
            "registry-connect-redhat-com-pull-secret"
        );
        let port = Credential::new("127.0.0.1:5000", "bob", "t");
        assert_eq!(default_name(&[port]), "127-0-0-1-5000-pull-secret");
    }

    #[test]
    fn built_secrets_round_trip_and_name_no_secret_in_metadata() {
        let creds = vec![
            Credential::new("registry.redhat.io", "1234567|sa", "SECRET-1"),
            Credential::new("docker.io", "bob", "SECRET-2"),
        ];
        for format in [Format::DockerConfigJson, Format::DockerCfg] {
            let s = build("n", "ns", format, &creds);
            assert_eq!(s.type_.as_deref(), Some(format.secret_type()));
            let meta = serde_json::to_string(&s.metadata).unwrap();
            assert!(!meta.contains("SECRET"), "{meta}");
            let back = credentials_of(&s).unwrap();
            assert_eq!(back.len(), 2);
            assert!(
                back.iter()
                    .any(|c| c.registry == "docker.io" && c.username == "bob")
            );
        }
        let json = String::from_utf8(render(Format::DockerConfigJson, &creds)).unwrap();
        assert!(json.contains("\"https://index.docker.io/v1/\""), "{json}");
        assert!(json.starts_with("{\"auths\":"), "{json}");
    }
}
