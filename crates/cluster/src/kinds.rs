//! OpenShift's own resources, as typed as k8s-openapi's: kube's `Api<K>`
//! and [`Need::on`](crate::access::Need::on) use them like any other kind.
//! Only the fields rhpull reads are typed; the rest rides along as JSON.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

/// Implements k8s-openapi's `Resource` and `Metadata` (and so kube's
/// `Resource`) for a type with a `metadata: ObjectMeta` field.
macro_rules! openshift_kind {
    ($ty:ident, $group:literal, $version:literal, $plural:literal, $scope:ty) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = stringify!($ty);
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
