//! What kind of cluster this is: Kubernetes, OpenShift 3.x (image and
//! project groups, no config.openshift.io) or OpenShift 4 (config.openshift.io).
//! One `GET /apis` decides it, once per cluster (`Cluster::kind`). And
//! whether its control plane is hosted elsewhere ([`hosted`]).

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

/// `GET /apis`: every API group the server serves, with its versions.
pub async fn api_groups(
    client: &kube::Client,
) -> Result<k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroupList, ClusterError> {
    client.list_api_groups().await.map_err(|e| {
        let at = crate::error::At {
            kind: "APIGroupList",
            group: "",
            resource: "apis",
            namespace: "",
            name: "",
        };
        ClusterError::from_kube_at(e, at)
    })
}

/// Asks the API server which kind it is.
pub async fn ask(client: &kube::Client) -> Result<ClusterKind, ClusterError> {
    let groups = api_groups(client).await?;
    let has = |name: &str| groups.groups.iter().any(|g| g.name == name);
    Ok(if has("config.openshift.io") {
        ClusterKind::OpenShift4
    } else if has("image.openshift.io") || has("project.openshift.io") {
        ClusterKind::OpenShift3
    } else {
        ClusterKind::Kubernetes
    })
}

/// True when the cluster's control plane is hosted elsewhere (HyperShift /
/// ROSA HCP: `Infrastructure` `cluster` says `controlPlaneTopology:
/// External`). Unknown (not readable) counts as not hosted.
pub async fn hosted(client: &kube::Client) -> bool {
    let api: kube::Api<crate::kinds::Infrastructure> = kube::Api::all(client.clone());
    api.get("cluster").await.is_ok_and(|i| {
        i.status
            .get("controlPlaneTopology")
            .and_then(|t| t.as_str())
            == Some("External")
    })
}
