//! Keepers: the engines a cluster already runs that keep a pull secret in
//! every namespace, including those made later — Kyverno's generate and
//! mutate rules ([`kyverno`]), the External Secrets Operator's
//! ClusterExternalSecret ([`eso`]) — handed the job as manifests rhpull
//! writes, never a controller of rhpull's own. [`apply`] writes such
//! manifests as every other command writes: access-reviewed, conditional,
//! honouring `--dry-run`.

pub mod apply;
pub mod eso;
pub mod found;
pub mod kyverno;

/// The annotation on every keeper rhpull exports naming the Secret it
/// keeps (`NAMESPACE/NAME`): how `status`, `unlink` and `check --failing`
/// find it; beside it, the namespaces it leaves alone and the service
/// accounts it links, as exported.
pub const SOURCE_ANNOTATION: &str = "rhpull.io/source";
pub const EXCLUDE_ANNOTATION: &str = "rhpull.io/exclude";
pub const LINKS_ANNOTATION: &str = "rhpull.io/service-accounts";
pub const LABEL_ANNOTATION: &str = "rhpull.io/namespace-label";

/// Namespaces no keeper writes to: Kubernetes' and OpenShift's own.
pub const SYSTEM_NAMESPACES: [&str; 2] = ["kube-*", "openshift-*"];

/// What is kept, and where not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keeping {
    /// The keeper's name (its policy's, its ClusterExternalSecret's).
    pub name: String,
    /// The Secret copied: its namespace and name (the copies keep the name).
    pub source_namespace: String,
    pub source_name: String,
    /// Service accounts that get the copy linked.
    pub service_accounts: Vec<String>,
    /// Namespaces left alone: names, or prefixes ending in `*`, the
    /// system ones and the source's own first.
    pub exclude: Vec<String>,
}

/// Why an exclusion cannot be kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExcludeError {
    /// `*` alone: no namespace would be kept.
    #[error("the exclusion {0:?} matches every namespace")]
    MatchesAll(String),
    /// `*` elsewhere than at the end (CEL policies and label selectors
    /// can say names and prefixes only).
    #[error("the exclusion {0:?} is neither a name nor a prefix ending in *")]
    NotNameOrPrefix(String),
}

impl Keeping {
    /// The namespaces to leave alone: the system ones, the source's, then
    /// `extra`, each checked.
    pub fn exclusions(
        source_namespace: &str,
        extra: &[String],
    ) -> Result<Vec<String>, ExcludeError> {
        let mut out: Vec<String> = SYSTEM_NAMESPACES.iter().map(|s| (*s).to_string()).collect();
        out.push(source_namespace.to_string());
        for p in extra {
            let stem = p.strip_suffix('*').unwrap_or(p);
            if stem.is_empty() {
                return Err(ExcludeError::MatchesAll(p.clone()));
            }
            if stem.contains('*') {
                return Err(ExcludeError::NotNameOrPrefix(p.clone()));
            }
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        Ok(out)
    }

    /// What every exported keeper says of itself, as annotations.
    pub fn annotations(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let source = format!("{}/{}", self.source_namespace, self.source_name);
        m.insert(SOURCE_ANNOTATION.into(), source.into());
        m.insert(EXCLUDE_ANNOTATION.into(), self.exclude.join(",").into());
        if !self.service_accounts.is_empty() {
            m.insert(
                LINKS_ANNOTATION.into(),
                self.service_accounts.join(",").into(),
            );
        }
        m
    }

    /// True when `namespace` is left alone.
    pub fn excludes(&self, namespace: &str) -> bool {
        self.exclude.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => namespace.starts_with(prefix),
            None => namespace == p,
        })
    }
}

/// Every `group/version` the cluster serves (one `GET /apis`), to choose
/// the API a keeper is written in.
pub async fn served(cluster: &crate::Cluster) -> Result<Vec<String>, crate::ClusterError> {
    let groups = crate::discovery::api_groups(&cluster.client).await?;
    Ok((groups.groups.iter())
        .flat_map(|g| g.versions.iter().map(|v| v.group_version.clone()))
        .collect())
}

/// A namespace and its labels.
pub type Labelled = (String, std::collections::BTreeMap<String, String>);

/// Every namespace there, with its labels (one list of their metadata).
pub async fn namespaces(cluster: &crate::Cluster) -> Result<Vec<Labelled>, crate::ClusterError> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: kube::Api<Namespace> = kube::Api::all(cluster.client.clone());
    let list = api
        .list_metadata(&kube::api::ListParams::default())
        .await
        .map_err(|e| crate::ClusterError::from_kube::<Namespace>(e, "", ""))?;
    Ok((list.items.into_iter())
        .filter_map(|n| Some((n.metadata.name?, n.metadata.labels.unwrap_or_default())))
        .collect())
}

/// The keeper that made a copy, as its labels and owners say.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeptBy {
    /// `clusterpolicy/NAME`, `generatingpolicy/NAME` or
    /// `externalsecret/NAME` (the one in the copy's namespace).
    pub keeper: String,
    /// `NAMESPACE/NAME` of the source, where the keeper says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Kyverno labels what it generates (`app.kubernetes.io/managed-by:
/// kyverno`, `generate.kyverno.io/policy-name`, `…/source-namespace`,
/// `…/source-name`); ESO owns the Secret an ExternalSecret makes with
/// `creationPolicy: Owner` (an owner reference to the ExternalSecret).
pub fn kept_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<KeptBy> {
    let labels = meta.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).filter(|v| !v.is_empty());
    if label("app.kubernetes.io/managed-by").is_some_and(|m| m == "kyverno")
        && let Some(policy) = label("generate.kyverno.io/policy-name")
    {
        let source = match (
            label("generate.kyverno.io/source-namespace"),
            label("generate.kyverno.io/source-name"),
        ) {
            (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
            _ => None,
        };
        return Some(KeptBy {
            keeper: format!("policy/{policy}"),
            source,
        });
    }
    let owner = (meta.owner_references.iter().flatten()).find(|o| {
        o.kind == "ExternalSecret" && o.api_version.starts_with("external-secrets.io/")
    })?;
    Some(KeptBy {
        keeper: format!("externalsecret/{}", owner.name),
        source: None,
    })
}

/// Why a Secret cannot be a keeper's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceProblem {
    Missing,
    /// Not a pull secret: its type.
    WrongType(String),
}

/// Whether `namespace/name` is a pull secret a keeper can copy.
pub async fn check_source(
    cluster: &crate::Cluster,
    namespace: &str,
    name: &str,
) -> Result<Result<(), SourceProblem>, crate::ClusterError> {
    use crate::secret_types::{DOCKER_CONFIG_JSON, DOCKERCFG};
    Ok(
        match crate::pullsecret::get(cluster, namespace, name).await? {
            None => Err(SourceProblem::Missing),
            Some(s) => {
                let ty = s.type_.unwrap_or_default();
                if ty == DOCKER_CONFIG_JSON || ty == DOCKERCFG {
                    Ok(())
                } else {
                    Err(SourceProblem::WrongType(ty))
                }
            }
        },
    )
}

/// What the unit tests keep: `rhpull/pull`, linked to `default` and
/// `builder`, `team-x` left alone too.
#[cfg(test)]
pub(crate) fn sample() -> Keeping {
    Keeping {
        name: "rhpull-pull".into(),
        source_namespace: "rhpull".into(),
        source_name: "pull".into(),
        service_accounts: vec!["default".into(), "builder".into()],
        exclude: Keeping::exclusions("rhpull", &["team-x".into()]).expect("fine"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_namespaces_and_the_sources_are_excluded_and_a_catch_all_is_refused() {
        let extra = vec!["team-x".to_string(), "sandbox-*".to_string()];
        let exclude = Keeping::exclusions("rhpull", &extra).expect("fine");
        assert_eq!(
            exclude,
            ["kube-*", "openshift-*", "rhpull", "team-x", "sandbox-*"]
        );
        let k = Keeping {
            name: "k".into(),
            source_namespace: "rhpull".into(),
            source_name: "s".into(),
            service_accounts: vec!["default".into()],
            exclude,
        };
        for ns in [
            "kube-system",
            "openshift-config",
            "rhpull",
            "team-x",
            "sandbox-1",
        ] {
            assert!(k.excludes(ns), "{ns}");
        }
        assert!(!k.excludes("team-a"));
        assert_eq!(
            Keeping::exclusions("a", &["*".into()]),
            Err(ExcludeError::MatchesAll("*".into()))
        );
        assert_eq!(
            Keeping::exclusions("a", &["a*b".into()]),
            Err(ExcludeError::NotNameOrPrefix("a*b".into()))
        );
    }
}
