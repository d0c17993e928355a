//! OpenShift's own resources, as typed as k8s-openapi's: kube's `Api<K>`
//! and [`Need::on`](crate::access::Need::on) use them like any other kind.
//! Only the fields rhpull reads are typed; the rest rides along as JSON.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::Deserialize;

/// Implements k8s-openapi's `Resource` and `Metadata` (and so kube's
/// `Resource`) for a type with a `metadata: ObjectMeta` field.
macro_rules! openshift_kind {
    ($ty:ident, $group:literal, $version:literal, $plural:literal, $scope:ty) => {
        openshift_kind!($ty, stringify!($ty), $group, $version, $plural, $scope);
    };
    ($ty:ident, $kind:expr, $group:literal, $version:literal, $plural:literal, $scope:ty) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = $scope;
        }

        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// `build.openshift.io/v1` BuildConfig: only its `spec` is read, as JSON.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BuildConfig {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: serde_json::Value,
}
openshift_kind!(
    BuildConfig,
    "build.openshift.io",
    "v1",
    "buildconfigs",
    NamespaceResourceScope
);

/// `machineconfiguration.openshift.io/v1` MachineConfigPool (OpenShift 4):
/// the Machine Config Operator's group of nodes sharing one rendered
/// config. Field names and condition types as openshift/api has them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MachineConfigPool {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PoolSpec,
    #[serde(default)]
    pub status: PoolStatus,
}
openshift_kind!(
    MachineConfigPool,
    "machineconfiguration.openshift.io",
    "v1",
    "machineconfigpools",
    ClusterResourceScope
);

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    /// The rendered config the pool is moving to.
    #[serde(default)]
    pub configuration: PoolConfiguration,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub node_selector: Option<LabelSelector>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PoolConfiguration {
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolStatus {
    #[serde(default)]
    pub observed_generation: i64,
    /// The rendered config every machine has (set once all are updated).
    #[serde(default)]
    pub configuration: PoolConfiguration,
    #[serde(default)]
    pub machine_count: i64,
    #[serde(default)]
    pub updated_machine_count: i64,
    #[serde(default)]
    pub degraded_machine_count: i64,
    #[serde(default)]
    pub conditions: Vec<PoolCondition>,
}

/// `Updated`, `Updating`, `NodeDegraded`, `RenderDegraded`, `Degraded`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PoolCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl PoolStatus {
    /// The condition of this type, when it is `True`.
    pub fn true_condition(&self, type_: &str) -> Option<&PoolCondition> {
        self.conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True")
    }
}

/// `machineconfiguration.openshift.io/v1` MachineConfig: `spec.config` is
/// an Ignition config, read as JSON.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MachineConfig {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: serde_json::Value,
}
openshift_kind!(
    MachineConfig,
    "machineconfiguration.openshift.io",
    "v1",
    "machineconfigs",
    ClusterResourceScope
);

/// `config.openshift.io/v1` Infrastructure `cluster`: only
/// `status.controlPlaneTopology` is read (`External` on a hosted control
/// plane, HyperShift / ROSA HCP).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Infrastructure {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: serde_json::Value,
}
openshift_kind!(
    Infrastructure,
    "config.openshift.io",
    "v1",
    "infrastructures",
    ClusterResourceScope
);

/// Declares an OpenShift kind whose `spec` is read as JSON.
macro_rules! spec_kind {
    ($(#[$doc:meta])* $ty:ident, $group:literal, $version:literal, $plural:literal) => {
        spec_kind!($(#[$doc])* $ty, stringify!($ty), $group, $version, $plural);
    };
    ($(#[$doc:meta])* $ty:ident, $kind:expr, $group:literal, $version:literal, $plural:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, Deserialize)]
        pub struct $ty {
            pub metadata: ObjectMeta,
            #[serde(default)]
            pub spec: serde_json::Value,
        }
        openshift_kind!($ty, $kind, $group, $version, $plural, ClusterResourceScope);
    };
}

spec_kind!(
    /// `config.openshift.io/v1` ImageDigestMirrorSet: `spec.imageDigestMirrors`.
    ImageDigestMirrorSet,
    "config.openshift.io",
    "v1",
    "imagedigestmirrorsets"
);
spec_kind!(
    /// `config.openshift.io/v1` ImageTagMirrorSet: `spec.imageTagMirrors`.
    ImageTagMirrorSet,
    "config.openshift.io",
    "v1",
    "imagetagmirrorsets"
);
spec_kind!(
    /// `operator.openshift.io/v1alpha1` ImageContentSourcePolicy
    /// (deprecated for IDMS): `spec.repositoryDigestMirrors`.
    ImageContentSourcePolicy,
    "operator.openshift.io",
    "v1alpha1",
    "imagecontentsourcepolicies"
);
spec_kind!(
    /// `config.openshift.io/v1` Image `cluster`: `spec.registrySources`.
    ImageConfig,
    "Image",
    "config.openshift.io",
    "v1",
    "images"
);
spec_kind!(
    /// `config.openshift.io/v1` CRIOCredentialProviderConfig `cluster`
    /// (stable, compatibility level 1, since openshift/api#2725).
    CrioCredentialProviderConfig,
    "CRIOCredentialProviderConfig",
    "config.openshift.io",
    "v1",
    "criocredentialproviderconfigs"
);
spec_kind!(
    /// `config.openshift.io/v1alpha1` CRIOCredentialProviderConfig: the
    /// tech-preview version clusters serve before the stable one.
    CrioCredentialProviderConfigAlpha,
    "CRIOCredentialProviderConfig",
    "config.openshift.io",
    "v1alpha1",
    "criocredentialproviderconfigs"
);
