//! How the nodes pull, read from the cluster: the rules CRI-O follows
//! (mirror sets and the image policy, OpenShift 4), whether the CRI-O
//! credential provider fetches mirror logins from the pod's namespace,
//! and each node's kubelet — its credentials file, the images it has
//! cached, and whether it re-verifies credentials for them.
//!
//! - Mirrors, policy: `rhpull_core::mirrors` (registries.conf and
//!   policy.json as the Machine Config Operator renders them).
//! - CRI-O does not send a pod's credentials for the source to a mirror
//!   on another host (containers/image `docker_image_src.go`,
//!   `newImageSourceAttempt`: "we must not blindly send the credentials
//!   intended for the primary endpoint to mirrors"): a mirror is pulled
//!   with the node's own file — OpenShift's documentation: with mirror
//!   sets "you can use only global pull secrets for mirrored registries".
//!   The exception (openshift/enhancements `criocredentialproviderconfig-
//!   for-namespace-scoped-mirror-authentication.md`): a
//!   CRIOCredentialProviderConfig whose `matchImages` matches the image
//!   runs `crio-credential-provider`, which lists the pod namespace's
//!   `kubernetes.io/dockerconfigjson` secrets with the pod's service
//!   account token (cri-o/crio-credential-provider `internal/pkg/k8s`:
//!   `Secrets(namespace).List(…FieldSelector: "type=kubernetes.io/
//!   dockerconfigjson")` — so the service account needs `list secrets`
//!   there, not only `get`). Read as `config.openshift.io/v1` (stable in
//!   openshift/api#2725), else `v1alpha1` (tech preview before it).
//! - Cached images re-verified (KEP-2535, `KubeletEnsureSecretPulledImages`:
//!   alpha, off, in 1.33–1.34; beta, on by default, from 1.35): the
//!   kubelet's `imagePullCredentialsVerificationPolicy` (`NeverVerify`,
//!   `NeverVerifyPreloadedImages` — the default —, `NeverVerifyAllowlisted
//!   Images` with `preloadedImagesVerificationAllowlist`, `AlwaysVerify`),
//!   read from the node's live configuration (`/api/v1/nodes/N/proxy/
//!   configz`, which needs `get nodes/proxy`), and the images it holds
//!   (`status.images`).

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use rhpull_core::imageref::{ImageRef, kubelet_matches};
use rhpull_core::mirrors::{MirrorSet, Rules};
use serde_json::Value;

use crate::Cluster;
use crate::discovery::ClusterKind;
use crate::error::{ClusterError, is_not_found};
use crate::kinds::{
    CrioCredentialProviderConfig, CrioCredentialProviderConfigAlpha, ImageConfig,
    ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet,
};
use crate::list;

/// A list of an optional kind: empty where the cluster does not serve it.
async fn optional<K: list::ClusterScoped>(cluster: &Cluster) -> Result<Vec<K>, ClusterError> {
    let api: Api<K> = Api::all(cluster.client.clone());
    match list::filter_map(&api, ListParams::default(), Some).await {
        Ok(items) => Ok(items),
        Err(e) if is_not_found::<K>(&e) => Ok(Vec::new()),
        Err(e) => Err(ClusterError::from_kube::<K>(e, "", "")),
    }
}

/// One object of an optional kind, `None` where it or its kind is missing.
async fn optional_one<K: list::ClusterScoped>(
    cluster: &Cluster,
    name: &str,
) -> Result<Option<K>, ClusterError> {
    let api: Api<K> = Api::all(cluster.client.clone());
    match api.get(name).await {
        Ok(o) => Ok(Some(o)),
        Err(e) if is_not_found::<K>(&e) => Ok(None),
        Err(e) => Err(ClusterError::from_kube::<K>(e, "", name)),
    }
}

fn strings(v: &Value, pointer: &str) -> Vec<String> {
    (v.pointer(pointer).and_then(Value::as_array).into_iter())
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The mirror sets of a spec list (`imageDigestMirrors`, `imageTagMirrors`
/// or ICSP's `repositoryDigestMirrors`), objects in name order.
fn sets_of(spec: &Value, field: &str) -> Vec<MirrorSet> {
    (spec.get(field).and_then(Value::as_array).into_iter())
        .flatten()
        .map(|s| MirrorSet {
            source: s["source"].as_str().unwrap_or_default().to_string(),
            mirrors: strings(s, "/mirrors"),
            never_contact_source: s["mirrorSourcePolicy"] == "NeverContactSource",
        })
        .collect()
}

/// The cluster's pull rules; none outside OpenShift 4.
pub async fn rules(cluster: &Cluster) -> Result<Rules, ClusterError> {
    if cluster.kind().await? != ClusterKind::OpenShift4 {
        return Ok(Rules::default());
    }
    let mut idms: Vec<ImageDigestMirrorSet> = optional(cluster).await?;
    let mut icsp: Vec<ImageContentSourcePolicy> = optional(cluster).await?;
    let mut itms: Vec<ImageTagMirrorSet> = optional(cluster).await?;
    idms.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    icsp.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    itms.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let image: Option<ImageConfig> = optional_one(cluster, "cluster").await?;
    let sources = image.map(|i| i.spec).unwrap_or_default();
    let mut digest_sets: Vec<MirrorSet> = (idms.iter())
        .flat_map(|o| sets_of(&o.spec, "imageDigestMirrors"))
        .collect();
    // ICSP has no mirrorSourcePolicy: the default, AllowContactingSource.
    digest_sets.extend(
        icsp.iter()
            .flat_map(|o| sets_of(&o.spec, "repositoryDigestMirrors")),
    );
    Ok(Rules {
        digest_sets,
        tag_sets: itms
            .iter()
            .flat_map(|o| sets_of(&o.spec, "imageTagMirrors"))
            .collect(),
        blocked: strings(&sources, "/registrySources/blockedRegistries"),
        allowed: strings(&sources, "/registrySources/allowedRegistries"),
    })
}

/// The CRI-O credential provider's configuration, where there is one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CredentialProvider {
    /// `spec.matchImages`: the images it runs for.
    pub match_images: Vec<String>,
}

impl CredentialProvider {
    /// True when it runs for `image` (the kubelet's `matchImages`
    /// matching: glob host labels, port, path prefix).
    pub fn runs_for(&self, image: &str) -> bool {
        !kubelet_matches(self.match_images.iter().map(String::as_str), image).is_empty()
    }
}

/// `criocredentialproviderconfigs/cluster`, stable version first.
pub async fn credential_provider(
    cluster: &Cluster,
) -> Result<Option<CredentialProvider>, ClusterError> {
    if cluster.kind().await? != ClusterKind::OpenShift4 {
        return Ok(None);
    }
    let spec = match optional_one::<CrioCredentialProviderConfig>(cluster, "cluster").await {
        Ok(Some(c)) => Some(c.spec),
        Ok(None) | Err(ClusterError::NotServed { .. }) => {
            optional_one::<CrioCredentialProviderConfigAlpha>(cluster, "cluster")
                .await
                .or_else(|e| match e {
                    ClusterError::NotServed { .. } => Ok(None),
                    e => Err(e),
                })?
                .map(|c| c.spec)
        }
        Err(e) => return Err(e),
    };
    Ok(spec.map(|s| CredentialProvider {
        match_images: strings(&s, "/matchImages"),
    }))
}

/// `imagePullCredentialsVerificationPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum VerifyPolicy {
    NeverVerify,
    NeverVerifyPreloadedImages,
    NeverVerifyAllowlistedImages,
    AlwaysVerify,
}

/// Whether a node's kubelet re-verifies credentials for cached images.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verification {
    /// A cached image is used as it is: `NeverVerify`, or the feature
    /// gate off (`gate_off`).
    Off { gate_off: bool },
    /// Cached images pulled with other credentials are pulled again.
    On {
        policy: VerifyPolicy,
        /// `preloadedImagesVerificationAllowlist`.
        allowlist: Vec<String>,
    },
    /// The configuration cannot be read: why.
    Unknown { why: Unknowable },
}

/// Why a kubelet's configuration is not known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unknowable {
    /// `get nodes/proxy` is not granted.
    Forbidden,
    /// The node is gone, or its kubelet did not answer.
    Unreachable,
    /// The answer holds no kubelet configuration.
    Unreadable,
}

/// What configz says: the gate (explicit, else the version's default)
/// and the policy (default `NeverVerifyPreloadedImages`).
pub fn verification_of(configz: &Value, kubelet_version: &str) -> Verification {
    let config = &configz["kubeletconfig"];
    if !config.is_object() {
        return Verification::Unknown {
            why: Unknowable::Unreadable,
        };
    }
    let gate = config
        .pointer("/featureGates/KubeletEnsureSecretPulledImages")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| minor_of(kubelet_version) >= 35);
    if !gate {
        return Verification::Off { gate_off: true };
    }
    let policy = match config["imagePullCredentialsVerificationPolicy"].as_str() {
        Some("NeverVerify") => return Verification::Off { gate_off: false },
        Some("AlwaysVerify") => VerifyPolicy::AlwaysVerify,
        Some("NeverVerifyAllowlistedImages") => VerifyPolicy::NeverVerifyAllowlistedImages,
        _ => VerifyPolicy::NeverVerifyPreloadedImages,
    };
    Verification::On {
        policy,
        allowlist: strings(config, "/preloadedImagesVerificationAllowlist"),
    }
}

/// `v1.35.1` → 35 (0 when it is not a version).
fn minor_of(version: &str) -> u32 {
    (version.trim_start_matches('v').split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// One node's kubelet, as far as pulls go.
#[derive(Clone, Debug)]
pub struct Kubelet {
    pub node: String,
    pub version: String,
    /// The references it holds (`status.images[].names`).
    pub cached: Vec<String>,
    pub verification: Verification,
}

impl Kubelet {
    /// True when the node holds `image` (by tag or digest, as named).
    pub fn has(&self, image: &ImageRef) -> bool {
        holds(&self.cached, image)
    }
}

/// The references a node holds (`status.images[].names`).
pub fn cached_on(node: &Node) -> Vec<String> {
    let images = node.status.as_ref().and_then(|s| s.images.as_ref());
    (images.into_iter().flatten())
        .flat_map(|i| i.names.clone().unwrap_or_default())
        .collect()
}

/// True when `cached` names `image` (by tag or digest, however written).
pub fn holds(cached: &[String], image: &ImageRef) -> bool {
    let wanted = image.to_string();
    cached
        .iter()
        .any(|c| *c == wanted || ImageRef::parse(c).is_ok_and(|r| r.to_string() == wanted))
}

/// A node's kubelet: its cached images from the node read, its
/// configuration from configz (one request; unknown, and why, when it
/// cannot be read).
pub async fn kubelet(cluster: &Cluster, node: &Node) -> Kubelet {
    let name = node.metadata.name.clone().unwrap_or_default();
    let version = (node.status.as_ref().and_then(|s| s.node_info.as_ref()))
        .map(|i| i.kubelet_version.clone())
        .unwrap_or_default();
    let cached = cached_on(node);
    let verification = configz(cluster, &name).await.map_or_else(
        |why| Verification::Unknown { why },
        |c| verification_of(&c, &version),
    );
    Kubelet {
        node: name,
        version,
        cached,
        verification,
    }
}

/// `GET /api/v1/nodes/NAME/proxy/configz`.
async fn configz(cluster: &Cluster, node: &str) -> Result<Value, Unknowable> {
    let request = http::Request::get(format!("/api/v1/nodes/{node}/proxy/configz"))
        .body(Vec::new())
        .map_err(|_| Unknowable::Unreadable)?;
    match cluster.client.request::<Value>(request).await {
        Ok(v) => Ok(v),
        Err(kube::Error::Api(s)) if s.code == 401 || s.code == 403 => Err(Unknowable::Forbidden),
        Err(kube::Error::SerdeError(_)) => Err(Unknowable::Unreadable),
        Err(_) => Err(Unknowable::Unreachable),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn configz_says_whether_cached_images_are_verified() {
        let cfg = |c: Value| json!({"kubeletconfig": c});
        assert_eq!(
            verification_of(&cfg(json!({})), "v1.35.0"),
            Verification::On {
                policy: VerifyPolicy::NeverVerifyPreloadedImages,
                allowlist: Vec::new()
            },
            "1.35: the gate is on by default"
        );
        assert_eq!(
            verification_of(&cfg(json!({})), "v1.33.2"),
            Verification::Off { gate_off: true },
            "1.33: alpha, off"
        );
        assert_eq!(
            verification_of(
                &cfg(json!({"imagePullCredentialsVerificationPolicy": "NeverVerify"})),
                "v1.35.0"
            ),
            Verification::Off { gate_off: false }
        );
        let always = cfg(
            json!({"featureGates": {"KubeletEnsureSecretPulledImages": true},
                                 "imagePullCredentialsVerificationPolicy": "AlwaysVerify"}),
        );
        assert!(matches!(
            verification_of(&always, "v1.33.0"),
            Verification::On {
                policy: VerifyPolicy::AlwaysVerify,
                ..
            }
        ));
        assert!(matches!(
            verification_of(&json!({"other": 1}), "v1.35.0"),
            Verification::Unknown { .. }
        ));
    }

    #[test]
    fn the_provider_matches_as_the_kubelet_matches_images() {
        let p = CredentialProvider {
            match_images: vec!["*.corp.example".into(), "registry.io:8080/path".into()],
        };
        assert!(p.runs_for("mirror.corp.example/team/app:1"));
        assert!(!p.runs_for("a.b.corp.example/x:1"), "one label per *");
        assert!(p.runs_for("registry.io:8080/path/app:1"));
        assert!(!p.runs_for("registry.io/path/app:1"), "the port must match");
    }
}
