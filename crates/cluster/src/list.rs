//! Lists read page by page (`limit` + `continue`, as kubectl and kube-rs'
//! `examples/pod_paged.rs` read them), each page handed on as it arrives
//! and dropped before the next is asked for: a caller keeps only what it
//! needs of each object, so memory follows what the job keeps, not the
//! size of the list.

use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

/// A namespaced kind that can be listed and read typed: what the fleet
/// and `check --failing` list across namespaces.
pub trait Namespaced:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + k8s_openapi::Resource
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Namespaced for K where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
{
}

/// A cluster-scoped kind that can be listed and read typed: the
/// OpenShift configuration a node's pull depends on.
pub trait ClusterScoped:
    kube::Resource<Scope = k8s_openapi::ClusterResourceScope, DynamicType = ()>
    + k8s_openapi::Resource
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> ClusterScoped for K where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
{
}

/// kubectl's page size.
pub const PAGE: u32 = 500;

/// Calls `each` with every object of the list, page by page: `PAGE` at a
/// time unless `params` carries a limit of its own.
pub async fn for_each<K>(
    api: &Api<K>,
    params: ListParams,
    mut each: impl FnMut(K),
) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut params = if params.limit.is_some() {
        params
    } else {
        params.limit(PAGE)
    };
    loop {
        let page = api.list(&params).await?;
        let next = page.metadata.continue_.filter(|c| !c.is_empty());
        page.items.into_iter().for_each(&mut each);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

/// What `keep` makes of each object of the list, where it makes something.
pub async fn filter_map<K, T>(
    api: &Api<K>,
    params: ListParams,
    mut keep: impl FnMut(K) -> Option<T>,
) -> Result<Vec<T>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    for_each(api, params, |o| out.extend(keep(o))).await?;
    Ok(out)
}
