//! Permission checks before writing, with SelfSubjectAccessReview, so a
//! command that may not finish never starts: the answer names the verb,
//! resource and namespace that are missing. A plan says what it will write
//! as [`Need`]s built from the typed resource, never from a string.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::Cluster;
use crate::error::ClusterError;

/// RBAC's verbs, as far as rhpull uses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    /// As RBAC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Watch => "watch",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

/// One permission to ask about: a verb on a resource in a namespace
/// (`None`: in every namespace, or a cluster-scoped resource).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Need {
    pub verb: Verb,
    pub group: &'static str,
    pub resource: &'static str,
    pub namespace: Option<String>,
}

impl Need {
    /// `verb` on the resource of type `K`.
    pub fn on<K: k8s_openapi::Resource>(verb: Verb, namespace: Option<&str>) -> Self {
        Self {
            verb,
            group: K::GROUP,
            resource: K::URL_PATH_SEGMENT,
            namespace: namespace.map(str::to_string),
        }
    }

    /// The same permission in every namespace (for `-A` and selectors).
    pub fn everywhere(mut self) -> Self {
        self.namespace = None;
        self
    }
}

/// The needs of many plans, each once, in a stable order.
pub fn merged(needs: impl IntoIterator<Item = Need>) -> Vec<Need> {
    let mut all: Vec<Need> = needs.into_iter().collect();
    all.sort();
    all.dedup();
    all
}

/// Fails with [`ClusterError::Denied`] for the first permission missing.
pub async fn require(cluster: &Cluster, needs: &[Need]) -> Result<(), ClusterError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    for need in needs {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(need.verb.as_str().into()),
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
                verb: need.verb.as_str().into(),
                group: need.group.into(),
                resource: need.resource.into(),
                namespace: need.namespace.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Secret;
    use k8s_openapi::api::rbac::v1::RoleBinding;

    #[test]
    fn needs_come_from_typed_resources_and_merge() {
        let a = Need::on::<Secret>(Verb::Create, Some("a"));
        assert_eq!((a.group, a.resource), ("", "secrets"));
        let rb = Need::on::<RoleBinding>(Verb::Update, Some("b"));
        assert_eq!(
            (rb.group, rb.resource),
            ("rbac.authorization.k8s.io", "rolebindings")
        );
        let all = merged([a.clone(), rb.clone(), a.clone(), a.clone().everywhere()]);
        assert_eq!(all.len(), 3);
    }
}
