//! Writes exported manifests as every other command writes: each object
//! read first; created when missing; updated, with the resourceVersion
//! read (a conditional update), only when something rhpull wrote differs;
//! left alone otherwise — so an export applied twice writes nothing the
//! second time. What a server or an operator adds (defaults, status) does
//! not count as a difference: only the fields of the manifest are compared.

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use crate::access::{Need, Verb};
use crate::error::{At, ClusterError};
use crate::{Cluster, DryRun, Outcome};

/// The kinds keepers are made of: `(group, kind, plural, namespaced)`.
pub(crate) const KINDS: &[(&str, &str, &str, bool)] = &[
    ("kyverno.io", "ClusterPolicy", "clusterpolicies", false),
    (
        "policies.kyverno.io",
        "GeneratingPolicy",
        "generatingpolicies",
        false,
    ),
    (
        "policies.kyverno.io",
        "MutatingPolicy",
        "mutatingpolicies",
        false,
    ),
    (
        "external-secrets.io",
        "ClusterSecretStore",
        "clustersecretstores",
        false,
    ),
    (
        "external-secrets.io",
        "ClusterExternalSecret",
        "clusterexternalsecrets",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    ("rbac.authorization.k8s.io", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    ("", "ServiceAccount", "serviceaccounts", true),
];

/// One manifest, planned: what is there, and what the write will be.
#[derive(Clone, Debug)]
pub struct ObjectPlan {
    pub wanted: Value,
    /// The object as read (`None`: not there).
    current: Option<DynamicObject>,
    pub outcome: Outcome,
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
}

impl ObjectPlan {
    /// `kind/name`, as kubectl names it.
    pub fn name(&self) -> String {
        format!(
            "{}/{}",
            self.kind.to_ascii_lowercase(),
            self.wanted["metadata"]["name"].as_str().unwrap_or_default()
        )
    }

    fn namespace(&self) -> Option<&str> {
        self.namespaced
            .then(|| self.wanted["metadata"]["namespace"].as_str())
            .flatten()
    }

    /// The right the write needs (none when nothing changes).
    pub fn need(&self) -> Option<Need> {
        let verb = match self.outcome {
            Outcome::Unchanged => return None,
            Outcome::Created => Verb::Create,
            Outcome::Updated => Verb::Update,
        };
        Some(Need {
            verb,
            group: self.group,
            resource: self.plural,
            namespace: self.namespace().map(str::to_string),
        })
    }

    fn at(&self) -> At<'_> {
        At {
            kind: self.kind,
            group: self.group,
            resource: self.plural,
            namespace: self.namespace().unwrap_or_default(),
            name: self.wanted["metadata"]["name"].as_str().unwrap_or_default(),
        }
    }

    fn api(&self, cluster: &Cluster) -> Api<DynamicObject> {
        let version = (self.wanted["apiVersion"].as_str().unwrap_or_default())
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let gvk = GroupVersionKind::gvk(self.group, version, self.kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, self.plural);
        match self.namespace() {
            Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
            None => Api::all_with(cluster.client.clone(), &resource),
        }
    }
}

/// The kind of a manifest, if keepers are made of it.
fn kind_of(doc: &Value) -> Option<&'static (&'static str, &'static str, &'static str, bool)> {
    let api_version = doc["apiVersion"].as_str()?;
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = doc["kind"].as_str()?;
    KINDS.iter().find(|(g, k, _, _)| *g == group && *k == kind)
}

/// True when every field of `wanted` is in `current` with the same value
/// (objects compared key by key; lists element by element).
pub fn contains(current: &Value, wanted: &Value) -> bool {
    match (current, wanted) {
        (Value::Object(c), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| c.get(k).is_some_and(|cv| contains(cv, wv))),
        (Value::Array(c), Value::Array(w)) => {
            c.len() == w.len() && c.iter().zip(w).all(|(cv, wv)| contains(cv, wv))
        }
        _ => current == wanted,
    }
}

/// Reads what is there and decides each write.
pub async fn plan(cluster: &Cluster, docs: Vec<Value>) -> Result<Vec<ObjectPlan>, ClusterError> {
    let mut out = Vec::new();
    for wanted in docs {
        let &(group, kind, plural, namespaced) =
            kind_of(&wanted).ok_or_else(|| ClusterError::Invalid {
                kind: "manifest",
                name: wanted["metadata"]["name"].to_string(),
                message: format!("not a keeper's kind: {}", wanted["kind"]),
            })?;
        let mut p = ObjectPlan {
            wanted,
            current: None,
            outcome: Outcome::Created,
            group,
            kind,
            plural,
            namespaced,
        };
        let name = p.wanted["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        p.current = match p.api(cluster).get_opt(&name).await {
            Ok(c) => c,
            Err(e) => return Err(ClusterError::from_kube_at(e, p.at())),
        };
        p.outcome = match &p.current {
            None => Outcome::Created,
            Some(c) => {
                let current = serde_json::to_value(c).unwrap_or_default();
                let mut wanted = p.wanted.clone();
                // apiVersion may read back in the version the server stores.
                if let Some(o) = wanted.as_object_mut() {
                    o.remove("apiVersion");
                }
                if contains(&current, &wanted) {
                    Outcome::Unchanged
                } else {
                    Outcome::Updated
                }
            }
        };
        out.push(p);
    }
    Ok(out)
}

/// Writes one planned object: created, or updated on the resourceVersion
/// read (a change since is a conflict, named, never overwritten).
pub async fn write(
    cluster: &Cluster,
    p: &ObjectPlan,
    dry_run: DryRun,
) -> Result<Outcome, ClusterError> {
    if p.outcome == Outcome::Unchanged || dry_run == DryRun::Client {
        return Ok(p.outcome);
    }
    let params = PostParams {
        dry_run: dry_run == DryRun::Server,
        ..PostParams::default()
    };
    let mut obj: DynamicObject =
        serde_json::from_value(p.wanted.clone()).map_err(|e| ClusterError::Invalid {
            kind: p.kind,
            name: p.name(),
            message: e.to_string(),
        })?;
    let api = p.api(cluster);
    let result = match &p.current {
        None => api.create(&params, &obj).await,
        Some(current) => {
            obj.metadata.resource_version = current.metadata.resource_version.clone();
            let name = obj.metadata.name.clone().unwrap_or_default();
            api.replace(&name, &params, &obj).await
        }
    };
    result
        .map(|_| p.outcome)
        .map_err(|e| ClusterError::from_kube_at(e, p.at()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_manifests_fields_count() {
        let current = json!({"metadata": {"name": "a", "uid": "u"}, "spec": {"x": [{"a": 1, "d": 2}], "default": true}});
        assert!(contains(
            &current,
            &json!({"metadata": {"name": "a"}, "spec": {"x": [{"a": 1}]}})
        ));
        assert!(!contains(&current, &json!({"spec": {"x": [{"a": 2}]}})));
        assert!(!contains(
            &current,
            &json!({"spec": {"x": [{"a": 1}, {"a": 1}]}})
        ));
        assert!(!contains(&current, &json!({"spec": {"new": 1}})));
    }
}
