//! What kind of cluster this is: Kubernetes, OpenShift 3.x (image and
//! project groups, no config.openshift.io) or OpenShift 4 (config.openshift.io).
//! One `GET /apis` decides it, once per [`Cluster`].

use crate::connect::Cluster;
use crate::error::ClusterError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterKind {
    Kubernetes,
    OpenShift3,
    OpenShift4,
}

impl ClusterKind {
    pub fn is_openshift(self) -> bool {
        !matches!(self, Self::Kubernetes)
    }
}

impl Cluster {
    /// The kind of this cluster, asked of the API server the first time.
    pub async fn kind(&self) -> Result<ClusterKind, ClusterError> {
        self.kind.get_or_try_init(|| ask(self)).await.copied()
    }
}

/// The kind of `cluster` (cached: see [`Cluster::kind`]).
pub async fn detect(cluster: &Cluster) -> Result<ClusterKind, ClusterError> {
    cluster.kind().await
}

async fn ask(cluster: &Cluster) -> Result<ClusterKind, ClusterError> {
    let groups = cluster
        .client
        .list_api_groups()
        .await
        .map_err(|e| ClusterError::from_kube(e, "APIGroupList", "", "/apis"))?;
    let has = |name: &str| groups.groups.iter().any(|g| g.name == name);
    Ok(if has("config.openshift.io") {
        ClusterKind::OpenShift4
    } else if has("image.openshift.io") || has("project.openshift.io") {
        ClusterKind::OpenShift3
    } else {
        ClusterKind::Kubernetes
    })
}
