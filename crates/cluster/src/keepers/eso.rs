//! The External Secrets Operator's keeping of a pull secret: a
//! ClusterSecretStore with the `kubernetes` provider that reads the source
//! Secret's namespace (as the ServiceAccount beside it, with a Role that
//! may read Secrets there and nothing more), and a ClusterExternalSecret
//! (`external-secrets.io/v1`) that makes, in every selected namespace, an
//! ExternalSecret whose target is a `kubernetes.io/dockerconfigjson`
//! Secret templated from the source's `.dockerconfigjson` — ESO's
//! provider and templating documentation (`provider/kubernetes`,
//! `guides/templating`, and `guides/common-k8s-secret-types` for the
//! dockerconfigjson template, `api/clusterexternalsecret`).
//!
//! Label selectors cannot match name prefixes: the namespaces are either
//! those that opt in with a label, or every one but a `NotIn` list of
//! names (the prefixes resolved against the namespaces there now). ESO
//! never patches service accounts: that half is Kyverno's mutate rule, or
//! `link` across the fleet.

use serde_json::{Value, json};

use super::Keeping;

/// Which namespaces get the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selected {
    /// Those labelled `key=value`.
    OptIn { key: String, value: String },
    /// All but these names.
    AllBut(Vec<String>),
}

/// The key the source's value is read into, and the template reads.
const KEY: &str = "dockerconfigjson";

/// Names of the store's ServiceAccount, Role and RoleBinding.
fn reader(k: &Keeping) -> String {
    format!("{}-reader", k.name)
}

fn metadata(name: &str, namespace: Option<&str>, k: &Keeping) -> Value {
    let mut m = json!({
        "name": name,
        "labels": {crate::MANAGED_BY_LABEL: crate::MANAGED_BY},
        "annotations": k.annotations(),
    });
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

/// The names `AllBut` leaves out: the exclusions' names, and every
/// namespace of `existing` a prefix matches.
pub fn all_but(k: &Keeping, existing: &[String]) -> Vec<String> {
    let mut out: Vec<String> = (k.exclude.iter())
        .filter(|p| !p.ends_with('*'))
        .cloned()
        .collect();
    out.extend(existing.iter().filter(|ns| k.excludes(ns)).cloned());
    out.sort_unstable();
    out.dedup();
    out
}

/// The group/version every manifest is written in.
pub const GROUP_VERSION: &str = "external-secrets.io/v1";

/// The namespaces selected: those labelled `label`, or all but the
/// exclusions, their prefixes resolved against `there` (the namespaces
/// there now; none when printed without a cluster).
pub fn selected(k: &Keeping, label: Option<(String, String)>, there: &[String]) -> Selected {
    match label {
        Some((key, value)) => Selected::OptIn { key, value },
        None => Selected::AllBut(all_but(k, there)),
    }
}

/// [`selected`] on `cluster`; `None` when it does not serve ESO's v1.
pub async fn selected_on(
    cluster: &crate::Cluster,
    k: &Keeping,
    label: Option<(String, String)>,
) -> Result<Option<Selected>, crate::ClusterError> {
    if !super::served(cluster)
        .await?
        .iter()
        .any(|gv| gv == GROUP_VERSION)
    {
        return Ok(None);
    }
    let there: Vec<String> = (super::namespaces(cluster).await?.into_iter())
        .map(|(name, _)| name)
        .collect();
    Ok(Some(selected(k, label, &there)))
}

/// Every manifest: the store's reader (ServiceAccount, Role, RoleBinding),
/// the ClusterSecretStore, the ClusterExternalSecret.
pub fn documents(k: &Keeping, selected: &Selected) -> Vec<Value> {
    let ns = k.source_namespace.as_str();
    let mut kept = metadata(&k.name, None, k);
    if let Selected::OptIn { key, value } = selected {
        kept["annotations"][super::LABEL_ANNOTATION] = json!(format!("{key}={value}"));
    }
    let reader = reader(k);
    let store = k.name.clone();
    let selectors = match selected {
        Selected::OptIn { key, value } => json!([{"matchLabels": {key: value}}]),
        Selected::AllBut(names) => json!([{"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": names,
        }]}]),
    };
    vec![
        json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": metadata(&reader, Some(ns), k),
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": metadata(&reader, Some(ns), k),
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [k.source_name],
                 "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"],
                 "verbs": ["create"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": metadata(&reader, Some(ns), k),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader},
            "subjects": [{"kind": "ServiceAccount", "name": reader, "namespace": ns}],
        }),
        json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
            "metadata": metadata(&store, None, k),
            "spec": {"provider": {"kubernetes": {
                "remoteNamespace": ns,
                "server": {"caProvider": {
                    "type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt", "namespace": ns,
                }},
                "auth": {"serviceAccount": {"name": reader, "namespace": ns}},
            }}},
        }),
        json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret",
            "metadata": kept,
            "spec": {
                "externalSecretName": k.source_name,
                "namespaceSelectors": selectors,
                "refreshTime": "1m",
                "externalSecretSpec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
                    "target": {
                        "name": k.source_name,
                        "creationPolicy": "Owner",
                        "template": {
                            "type": "kubernetes.io/dockerconfigjson",
                            "engineVersion": "v2",
                            "data": {".dockerconfigjson": format!("{{{{ .{KEY} | toString }}}}")},
                        },
                    },
                    "data": [{"secretKey": KEY, "remoteRef": {"key": k.source_name, "property": ".dockerconfigjson"}}],
                },
            },
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_resolve_against_the_namespaces_there_now() {
        let there = ["kube-system", "openshift-config", "team-a", "team-x"].map(String::from);
        assert_eq!(
            all_but(&crate::keepers::sample(), &there),
            ["kube-system", "openshift-config", "rhpull", "team-x"]
        );
    }

    #[test]
    fn the_target_is_a_dockerconfigjson_secret_from_the_sources_key() {
        let docs = documents(
            &crate::keepers::sample(),
            &Selected::AllBut(vec!["kube-system".into()]),
        );
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "ClusterSecretStore",
                "ClusterExternalSecret"
            ]
        );
        let spec = &docs[4]["spec"]["externalSecretSpec"];
        assert_eq!(
            spec["target"]["template"]["type"],
            "kubernetes.io/dockerconfigjson"
        );
        assert_eq!(
            spec["data"][0]["remoteRef"]["property"],
            ".dockerconfigjson"
        );
        let template = spec["target"]["template"]["data"][".dockerconfigjson"].as_str();
        assert_eq!(template, Some("{{ .dockerconfigjson | toString }}"));
        let opt_in = documents(
            &crate::keepers::sample(),
            &Selected::OptIn {
                key: "pull".into(),
                value: "yes".into(),
            },
        );
        assert_eq!(
            opt_in[4]["spec"]["namespaceSelectors"][0]["matchLabels"]["pull"],
            "yes"
        );
    }
}
