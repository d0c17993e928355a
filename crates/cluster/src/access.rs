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
    DeleteCollection,
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
            Self::DeleteCollection => "deletecollection",
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
///
/// The same verb on the same resource in several namespaces is asked once
/// for every namespace first: allowed there means allowed in each, so a
/// fleet of N namespaces costs one review, not N. Only when that is denied
/// (a user with rights per namespace) is each namespace asked.
pub async fn require(cluster: &Cluster, needs: &[Need]) -> Result<(), ClusterError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    for group in by_permission(needs) {
        if group.len() > 1 && allowed(&api, &group[0].clone().everywhere()).await? {
            continue;
        }
        for need in group {
            if !allowed(&api, need).await? {
                return Err(ClusterError::Denied {
                    verb: need.verb.as_str().into(),
                    group: need.group.into(),
                    resource: need.resource.into(),
                    namespace: need.namespace.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Whether another subject (a pod's service account, as
/// `system:serviceaccount:NS:NAME`) may `verb` the resource `K` in
/// `namespace`: a SubjectAccessReview. `None` when it cannot be asked
/// (the caller may not create SubjectAccessReviews, or the server failed).
pub async fn subject_allows<K: k8s_openapi::Resource>(
    cluster: &Cluster,
    user: &str,
    verb: Verb,
    namespace: &str,
) -> Option<bool> {
    let attributes = ResourceAttributes {
        verb: Some(verb.as_str().into()),
        group: Some(K::GROUP.into()),
        resource: Some(K::URL_PATH_SEGMENT.into()),
        namespace: Some(namespace.to_string()),
        ..ResourceAttributes::default()
    };
    subject_may(cluster, user, attributes).await
}

/// Whether `user` may do what `attributes` say: a SubjectAccessReview.
/// The API server evaluates exactly the user and groups a review names,
/// so a service account's are named with it (`system:serviceaccounts`,
/// `system:serviceaccounts:NS`, `system:authenticated`, as its token
/// authenticates it): bindings to those groups count, as for its pods.
pub async fn subject_may(
    cluster: &Cluster,
    user: &str,
    attributes: ResourceAttributes,
) -> Option<bool> {
    use k8s_openapi::api::authorization::v1::{SubjectAccessReview, SubjectAccessReviewSpec};
    let api: Api<SubjectAccessReview> = Api::all(cluster.client.clone());
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_string()),
            groups: service_account_groups(user),
            resource_attributes: Some(attributes),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let answer = api.create(&PostParams::default(), &review).await.ok()?;
    Some(answer.status.is_some_and(|s| s.allowed))
}

/// The groups a service account's token puts it in
/// (`k8s.io/apiserver/pkg/authentication/serviceaccount.MakeGroupNames`,
/// and `system:authenticated`); `None` for any other user.
fn service_account_groups(user: &str) -> Option<Vec<String>> {
    let (namespace, _) = user
        .strip_prefix("system:serviceaccount:")?
        .split_once(':')?;
    Some(vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{namespace}"),
        "system:authenticated".into(),
    ])
}

/// `needs` grouped by verb and resource, in their order.
fn by_permission(needs: &[Need]) -> Vec<Vec<&Need>> {
    let mut groups: Vec<Vec<&Need>> = Vec::new();
    for need in needs {
        let same = |g: &&mut Vec<&Need>| {
            let first = g[0];
            (first.verb, first.group, first.resource) == (need.verb, need.group, need.resource)
        };
        match groups.iter_mut().find(same) {
            Some(g) => g.push(need),
            None => groups.push(vec![need]),
        }
    }
    groups
}

/// One SelfSubjectAccessReview.
async fn allowed(api: &Api<SelfSubjectAccessReview>, need: &Need) -> Result<bool, ClusterError> {
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
        .map_err(|e| ClusterError::from_kube::<SelfSubjectAccessReview>(e, "", ""))?;
    Ok(answer.status.is_some_and(|s| s.allowed))
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

    #[test]
    fn needs_group_by_verb_and_resource() {
        let needs = [
            Need::on::<Secret>(Verb::Create, Some("a")),
            Need::on::<RoleBinding>(Verb::Update, Some("a")),
            Need::on::<Secret>(Verb::Create, Some("b")),
        ];
        let groups = by_permission(&needs);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1]);
        assert_eq!(groups[0][1].namespace.as_deref(), Some("b"));
    }
}
