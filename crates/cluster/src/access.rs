//! Permission checks before writing, with SelfSubjectAccessReview, so a
//! command that may not finish never starts: the answer names the verb,
//! resource and namespace that are missing.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::Cluster;
use crate::error::ClusterError;

/// One permission to ask about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub namespace: Option<String>,
}

impl Need {
    pub fn new(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        namespace: Option<&str>,
    ) -> Self {
        Self {
            verb,
            group,
            resource,
            namespace: namespace.map(str::to_string),
        }
    }
}

/// Fails with [`ClusterError::Denied`] for the first permission missing.
pub async fn require(cluster: &Cluster, needs: &[Need]) -> Result<(), ClusterError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    for need in needs {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(need.verb.into()),
                    group: Some(need.group.into()),
                    resource: Some(need.resource.into()),
                    namespace: need.namespace.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| ClusterError::from_kube(e, "selfsubjectaccessreview", "", ""))?;
        if !answer.status.is_some_and(|s| s.allowed) {
            return Err(ClusterError::Denied {
                verb: need.verb.into(),
                group: need.group.into(),
                resource: need.resource.into(),
                namespace: need.namespace.clone(),
            });
        }
    }
    Ok(())
}
