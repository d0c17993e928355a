//! The keepers rhpull exported that a cluster has: Kyverno's policies and
//! ESO's ClusterExternalSecrets carrying rhpull's annotations (the source,
//! the exclusions, the service accounts linked, an opt-in label), read
//! where the cluster serves their kinds — one list per kind. What they
//! cover is read from those annotations, not from the rules: the same
//! words whichever API the keeper was written in.

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};

use super::{EXCLUDE_ANNOTATION, LABEL_ANNOTATION, LINKS_ANNOTATION, SOURCE_ANNOTATION};
use crate::{Cluster, ClusterError};

/// One keeper rhpull exported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    /// `clusterpolicy/NAME`, `generatingpolicy/NAME`, `mutatingpolicy/NAME`,
    /// `clusterexternalsecret/NAME`.
    pub keeper: String,
    /// `NAMESPACE/NAME`.
    pub source: String,
    /// The Secret's name in each namespace (the source's).
    pub secret: String,
    /// True when it makes the copies (not only the links).
    pub copies: bool,
    /// The service accounts it links the copy to.
    pub links: Vec<String>,
    pub exclude: Vec<String>,
    /// An opt-in namespace label `KEY=VALUE`, where it selects by one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Exported {
    /// True when it keeps its copy in `namespace` (labelled `labels`).
    pub fn covers(
        &self,
        namespace: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        let excluded = self.exclude.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => namespace.starts_with(prefix),
            None => namespace == p,
        });
        let selected = self.label.as_ref().is_none_or(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            labels.get(k).is_some_and(|have| have == v)
        });
        !excluded && selected && namespace != self.source.split('/').next().unwrap_or_default()
    }
}

/// What a keeper is, of the kinds keepers are made of ([`super::apply::KINDS`]).
const KEEPERS: [&str; 4] = [
    "ClusterPolicy",
    "GeneratingPolicy",
    "MutatingPolicy",
    "ClusterExternalSecret",
];

fn list_of(annotation: Option<&String>) -> Vec<String> {
    (annotation.into_iter())
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every keeper rhpull exported here (none where their kinds are not served).
pub async fn exported(cluster: &Cluster) -> Result<Vec<Exported>, ClusterError> {
    let served = super::served(cluster).await?;
    let mut out = Vec::new();
    let kinds = (super::apply::KINDS.iter()).filter(|(_, kind, _, _)| KEEPERS.contains(kind));
    for &(group, kind, plural, _) in kinds {
        // The first version served in `served`'s order: the preferred.
        let Some(version) = (served.iter())
            .filter_map(|gv| gv.strip_prefix(&format!("{group}/")))
            .next()
        else {
            continue;
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let api: Api<DynamicObject> = Api::all_with(
            cluster.client.clone(),
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        );
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) if crate::error::is_forbidden(&e) => continue,
            Err(e) => {
                let at = crate::error::At {
                    kind,
                    group,
                    resource: plural,
                    namespace: "",
                    name: "",
                };
                return Err(ClusterError::from_kube_at(e, at));
            }
        };
        for o in list.items {
            let annotations = o.metadata.annotations.clone().unwrap_or_default();
            let Some(source) = annotations.get(SOURCE_ANNOTATION) else {
                continue;
            };
            let name = o.metadata.name.clone().unwrap_or_default();
            out.push(Exported {
                keeper: format!("{}/{name}", kind.to_ascii_lowercase()),
                secret: source.split('/').nth(1).unwrap_or_default().to_string(),
                source: source.clone(),
                copies: kind != "MutatingPolicy",
                links: if kind == "ClusterExternalSecret" || kind == "GeneratingPolicy" {
                    Vec::new()
                } else {
                    list_of(annotations.get(LINKS_ANNOTATION))
                },
                exclude: list_of(annotations.get(EXCLUDE_ANNOTATION)),
                label: annotations.get(LABEL_ANNOTATION).cloned(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keeper_covers_what_it_neither_excludes_nor_leaves_unlabelled() {
        let mut k = Exported {
            keeper: "clusterpolicy/rhpull-pull".into(),
            source: "rhpull/pull".into(),
            secret: "pull".into(),
            copies: true,
            links: vec!["default".into()],
            exclude: vec!["kube-*".into(), "rhpull".into()],
            label: None,
        };
        let none = std::collections::BTreeMap::new();
        assert!(k.covers("team-a", &none));
        assert!(!k.covers("kube-system", &none));
        assert!(!k.covers("rhpull", &none));
        k.label = Some("pull=rh".into());
        assert!(!k.covers("team-a", &none));
        let labelled = [("pull".to_string(), "rh".to_string())]
            .into_iter()
            .collect();
        assert!(k.covers("team-a", &labelled));
    }
}

/// A kept namespace's copy, as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Copy {
    /// The same type and data as the source.
    InSync,
    /// There, but not (yet) what the source holds.
    Differs,
    /// Not there (yet): the keeper has not made it.
    Missing,
}

/// One keeper and the namespaces in view it covers, with their copies.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    #[serde(flatten)]
    pub keeper: Exported,
    pub namespaces: Vec<Kept>,
}

/// A namespace a keeper covers, and its copy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Kept {
    pub namespace: String,
    pub copy: Copy,
}

/// For every keeper that makes copies: each namespace of `namespaces`
/// (with their labels) it covers, and its copy compared with the source —
/// one get of the source and one list of the copies (by name, in every
/// namespace) per keeper.
pub async fn coverage(
    cluster: &Cluster,
    keepers: &[Exported],
    namespaces: &[(String, std::collections::BTreeMap<String, String>)],
) -> Result<Vec<Coverage>, ClusterError> {
    use k8s_openapi::api::core::v1::Secret;
    let mut out = Vec::new();
    for k in keepers.iter().filter(|k| k.copies) {
        let (ns, name) = k.source.split_once('/').unwrap_or_default();
        let source = crate::pullsecret::get(cluster, ns, name).await?;
        let api: Api<Secret> = Api::all(cluster.client.clone());
        let params = ListParams::default().fields(&format!("metadata.name={}", k.secret));
        let copies = api
            .list(&params)
            .await
            .map_err(|e| ClusterError::from_kube::<Secret>(e, "", &k.secret))?;
        let state = |namespace: &str| {
            let copy =
                (copies.items.iter()).find(|c| c.metadata.namespace.as_deref() == Some(namespace));
            match (copy, &source) {
                (None, _) => Copy::Missing,
                (Some(c), Some(s)) if c.type_ == s.type_ && c.data == s.data => Copy::InSync,
                (Some(_), _) => Copy::Differs,
            }
        };
        let namespaces = (namespaces.iter())
            .filter(|(n, labels)| k.covers(n, labels))
            .map(|(n, _)| Kept {
                namespace: n.clone(),
                copy: state(n),
            })
            .collect();
        out.push(Coverage {
            keeper: k.clone(),
            namespaces,
        });
    }
    Ok(out)
}

/// The namespaces in view with their labels: `one`, or those of `scope`.
pub async fn namespaces_in_view(
    cluster: &Cluster,
    one: &str,
    scope: Option<&crate::fleet::Scope>,
) -> Result<Vec<super::Labelled>, ClusterError> {
    let wanted: Option<Vec<String>> = match scope {
        // One namespace: its labels where it may be read, else none.
        None => return Ok(vec![(one.to_string(), labels_of(cluster, one).await)]),
        Some(crate::fleet::Scope::All) => None,
        Some(s) => Some(crate::fleet::namespaces(cluster, s).await?),
    };
    let mut all = super::namespaces(cluster).await?;
    all.retain(|(name, _)| wanted.as_ref().is_none_or(|w| w.contains(name)));
    Ok(all)
}

/// `namespace`'s labels, where it may be read (none otherwise).
async fn labels_of(
    cluster: &Cluster,
    namespace: &str,
) -> std::collections::BTreeMap<String, String> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client.clone());
    (api.get_metadata_opt(namespace).await.ok().flatten())
        .and_then(|n| n.metadata.labels)
        .unwrap_or_default()
}

/// Why a namespace whose pods find no login for a registry lacks one,
/// where keepers are concerned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "keeper_cause", rename_all = "snake_case")]
pub enum Hint {
    /// A keeper covers the namespace and has made no copy there (not
    /// running, or not yet).
    NotMade { keeper: String, secret: String },
    /// Other namespaces hold the login in a secret rhpull made, and no
    /// keeper covers this one: it came after them.
    NoKeeper { elsewhere: String },
}

/// The hint for each `(namespace, image)` of `wanted`, if any: each
/// namespace's labels (a get), and — only where no keeper covers one — a
/// single list of rhpull's secrets across the cluster (where it may be
/// read), each read once.
pub async fn hints(
    cluster: &Cluster,
    exported: &[Exported],
    wanted: &[(String, String)],
) -> Vec<Option<Hint>> {
    use k8s_openapi::api::core::v1::Secret;
    // rhpull's secrets: `(namespace/name, namespace, their keys)`.
    let mut made: Option<Vec<(String, String, Vec<String>)>> = None;
    let mut out = Vec::new();
    for (namespace, image) in wanted {
        let labels = labels_of(cluster, namespace).await;
        if let Some(k) = (exported.iter()).find(|k| k.copies && k.covers(namespace, &labels)) {
            out.push(Some(Hint::NotMade {
                keeper: k.keeper.clone(),
                secret: k.secret.clone(),
            }));
            continue;
        }
        if made.is_none() {
            let api: Api<Secret> = Api::all(cluster.client.clone());
            let managed = format!("{}={}", crate::MANAGED_BY_LABEL, crate::MANAGED_BY);
            let listed = api.list(&ListParams::default().labels(&managed)).await;
            made = Some(
                (listed.map(|l| l.items).unwrap_or_default().iter())
                    .filter_map(|s| {
                        let ns = s.metadata.namespace.clone()?;
                        let name = s.metadata.name.as_deref().unwrap_or_default();
                        let creds = crate::pullsecret::credentials_of(s).ok()?;
                        let keys = creds.into_iter().map(|c| c.registry).collect();
                        Some((format!("{ns}/{name}"), ns, keys))
                    })
                    .collect(),
            );
        }
        let elsewhere = (made.iter().flatten()).find(|(_, ns, keys)| {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            ns != namespace && !rhpull_core::imageref::kubelet_matches(keys, image).is_empty()
        });
        out.push(elsewhere.map(|(at, _, _)| Hint::NoKeeper {
            elsewhere: at.clone(),
        }));
    }
    out
}
