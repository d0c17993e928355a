//! Whether a namespace is there, so a missing one is named as a
//! namespace. The API server answers a read in a namespace that does not
//! exist as if only the object were missing (`secrets "x" not found`), and
//! a list there as an empty list; only writes name the namespace
//! (the NamespaceLifecycle admission plugin: `namespaces "x" not found`).
//! kubectl itself says `namespaces "x" not found` for `-n x` where it can.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use crate::error::{ClusterError, is_not_found};
use crate::{Cluster, list};

/// `Some(false)` when the API says `ns` does not exist, `Some(true)` when
/// it does, `None` when it cannot tell (a user who may not read
/// namespaces: OpenShift projects grant that per project, or not at all).
pub async fn exists(cluster: &Cluster, ns: &str) -> Option<bool> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.get_metadata(ns).await {
        Ok(_) => Some(true),
        Err(e) if is_not_found::<Namespace>(&e) => Some(false),
        Err(_) => None,
    }
}

/// `err`, or — when it is a 404 about an object in a namespace that does
/// not exist — the namespace, named as missing.
pub async fn blame(cluster: &Cluster, err: ClusterError) -> ClusterError {
    let ns = match &err {
        ClusterError::NotFound {
            namespace: Some(ns),
            ..
        }
        | ClusterError::SecretsMissing { namespace: ns, .. } => ns.clone(),
        _ => return err,
    };
    match exists(cluster, &ns).await {
        Some(false) => ClusterError::NamespaceNotFound(ns),
        _ => err,
    }
}

/// Fails with [`ClusterError::NamespaceNotFound`] when the API says `ns`
/// does not exist; passes when it does or cannot tell.
pub async fn require(cluster: &Cluster, ns: &str) -> Result<(), ClusterError> {
    match exists(cluster, ns).await {
        Some(false) => Err(ClusterError::NamespaceNotFound(ns.to_string())),
        _ => Ok(()),
    }
}

/// Up to this many names are asked for one by one; more, with one list.
const ASK_EACH: usize = 8;

/// Which of `names` do not exist, as far as the API says: a few are asked
/// for one by one, many with one list of the namespaces (paged, names
/// kept only). A namespace that cannot be read is not known missing.
pub async fn missing_of(cluster: &Cluster, names: &[String]) -> BTreeSet<String> {
    if names.len() <= ASK_EACH {
        let mut missing = BTreeSet::new();
        for n in names {
            if exists(cluster, n).await == Some(false) {
                missing.insert(n.clone());
            }
        }
        return missing;
    }
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    let mut present = BTreeSet::new();
    let read = list::for_each(&api, ListParams::default(), |ns: Namespace| {
        present.extend(ns.metadata.name);
    })
    .await;
    if read.is_err() {
        return BTreeSet::new();
    }
    (names.iter())
        .filter(|n| !present.contains(*n))
        .cloned()
        .collect()
}
