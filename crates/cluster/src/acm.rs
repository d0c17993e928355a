//! Manifests for a hub (Red Hat Advanced Cluster Management, upstream Open
//! Cluster Management) that distribute a pull secret to managed clusters:
//! a `Policy` with a `ConfigurationPolicy` inside, a `Placement` and a
//! `PlacementBinding`. They carry no secret data: the credential stays in a
//! Secret on the hub, in the policy's namespace, which the hub template
//! `fromSecret` reads when the policy is propagated (the propagator
//! resolves hub templates only against the root policy's namespace, and
//! encrypts what `fromSecret` returns per managed cluster —
//! governance-policy-propagator `controllers/propagator/propagation.go`,
//! go-template-utils `UsesEncryption`).
//!
//! Linking appends: each service account is a `musthave` object template
//! that lists only the new `imagePullSecrets` entry. For `musthave`,
//! config-policy-controller compares a template's list with the object's
//! through `mergeArrays` (`controllers/configurationpolicy_controller.go`):
//! items of the object the template does not name are appended to the
//! merged list, so every existing entry is kept (OpenShift's
//! `<sa>-dockercfg-…` included); only `mustonlyhave` replaces the list.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

use crate::{MANAGED_BY, MANAGED_BY_LABEL, secret_types};

pub const POLICY_API: &str = "policy.open-cluster-management.io/v1";
pub const PLACEMENT_API: &str = "cluster.open-cluster-management.io/v1beta1";
/// The propagator's webhook refuses a policy whose namespace and name
/// together exceed this (`api/v1/policy_webhook.go`: the replicated
/// policy is named `<namespace>.<name>`, a label value).
pub const MAX_NAMESPACE_AND_NAME: usize = 62;

/// Which namespaces of each managed cluster get the secret.
#[derive(Clone, Debug)]
pub enum Namespaces {
    /// These names (ConfigurationPolicy `namespaceSelector.include`).
    Named(Vec<String>),
    /// Namespaces whose labels match.
    Selected(LabelSelector),
}

/// What the policy distributes, and where.
#[derive(Clone, Debug)]
pub struct PolicySpec {
    /// The Policy, Placement and PlacementBinding's name.
    pub name: String,
    /// The hub namespace of the policy and of the hub Secret.
    pub namespace: String,
    /// The Secret on the hub holding `.dockerconfigjson`.
    pub hub_secret: String,
    /// The Secret's name on the managed clusters.
    pub secret: String,
    pub namespaces: Namespaces,
    /// Managed cluster labels (`Placement` predicates); all clusters of the
    /// namespace's bound cluster sets when empty.
    pub clusters: LabelSelector,
    /// Service accounts to link the secret to.
    pub link: Vec<String>,
    /// `enforce` (create and link) or `inform` (only report).
    pub enforce: bool,
}

/// Why a spec cannot become a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy namespace and name together are {0} characters; the hub allows 62")]
    NameTooLong(usize),
}

impl PolicySpec {
    /// The Policy, the Placement and the PlacementBinding, in the order
    /// they are applied.
    pub fn documents(&self) -> Result<Vec<Value>, PolicyError> {
        let len = self.namespace.chars().count() + self.name.chars().count();
        if len > MAX_NAMESPACE_AND_NAME {
            return Err(PolicyError::NameTooLong(len));
        }
        Ok(vec![self.policy(), self.placement(), self.binding()])
    }

    fn meta(&self) -> Value {
        json!({"name": self.name, "namespace": self.namespace,
               "labels": {MANAGED_BY_LABEL: MANAGED_BY}})
    }

    fn remediation(&self) -> &'static str {
        if self.enforce { "enforce" } else { "inform" }
    }

    /// `{{hub fromSecret "NS" "NAME" ".dockerconfigjson" hub}}`: resolved on
    /// the hub, per managed cluster, to the value's base64 (encrypted in the
    /// replicated policy, decrypted by the managed cluster's controller).
    fn hub_value(&self) -> String {
        format!(
            "{{{{hub fromSecret \"{}\" \"{}\" \".dockerconfigjson\" hub}}}}",
            self.namespace, self.hub_secret
        )
    }

    fn policy(&self) -> Value {
        let secret = json!({
            "complianceType": "musthave",
            "objectDefinition": {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": self.secret, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
                "type": secret_types::DOCKER_CONFIG_JSON,
                "data": {".dockerconfigjson": self.hub_value()},
            },
        });
        let links = self.link.iter().map(|sa| {
            json!({
                "complianceType": "musthave",
                "objectDefinition": {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": sa},
                    "imagePullSecrets": [{"name": self.secret}],
                },
            })
        });
        let templates: Vec<Value> = std::iter::once(secret).chain(links).collect();
        let namespace_selector = match &self.namespaces {
            Namespaces::Named(names) => json!({"include": names}),
            Namespaces::Selected(s) => serde_json::to_value(s).unwrap_or_default(),
        };
        let mut metadata = self.meta();
        metadata["annotations"] = json!({
            "policy.open-cluster-management.io/standards": "NIST SP 800-53",
            "policy.open-cluster-management.io/categories": "CM Configuration Management",
            "policy.open-cluster-management.io/controls": "CM-2 Baseline Configuration",
        });
        json!({
            "apiVersion": POLICY_API,
            "kind": "Policy",
            "metadata": metadata,
            "spec": {
                "disabled": false,
                "remediationAction": self.remediation(),
                "policy-templates": [{"objectDefinition": {
                    "apiVersion": POLICY_API,
                    "kind": "ConfigurationPolicy",
                    "metadata": {"name": self.name},
                    "spec": {
                        "remediationAction": self.remediation(),
                        "severity": "medium",
                        "namespaceSelector": namespace_selector,
                        "object-templates": templates,
                    },
                }}],
            },
        })
    }

    fn placement(&self) -> Value {
        let mut spec = json!({
            // As ACM's own generator does: keep placing a cluster the hub
            // briefly cannot reach, rather than dropping its policy.
            "tolerations": [
                {"key": "cluster.open-cluster-management.io/unreachable", "operator": "Exists"},
                {"key": "cluster.open-cluster-management.io/unavailable", "operator": "Exists"},
            ],
        });
        let selects_some =
            self.clusters.match_labels.is_some() || self.clusters.match_expressions.is_some();
        if selects_some {
            spec["predicates"] = json!([{"requiredClusterSelector": {
                "labelSelector": serde_json::to_value(&self.clusters).unwrap_or_default(),
            }}]);
        }
        json!({"apiVersion": PLACEMENT_API, "kind": "Placement", "metadata": self.meta(), "spec": spec})
    }

    fn binding(&self) -> Value {
        json!({
            "apiVersion": POLICY_API,
            "kind": "PlacementBinding",
            "metadata": self.meta(),
            "placementRef": {"apiGroup": "cluster.open-cluster-management.io", "kind": "Placement",
                             "name": self.name},
            "subjects": [{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy",
                          "name": self.name}],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PolicySpec {
        PolicySpec {
            name: "rhpull-pull-secret".into(),
            namespace: "rhpull-policies".into(),
            hub_secret: "hub-pull-secret".into(),
            secret: "7654321-team-pull-secret".into(),
            namespaces: Namespaces::Named(vec!["team-a".into(), "team-b".into()]),
            clusters: crate::selector::parse("env=prod").unwrap(),
            link: vec!["default".into(), "builder".into()],
            enforce: true,
        }
    }

    #[test]
    fn the_policy_reads_the_credential_on_the_hub_and_carries_none() {
        let docs = spec().documents().unwrap();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Policy", "Placement", "PlacementBinding"]);
        let config = &docs[0]["spec"]["policy-templates"][0]["objectDefinition"];
        assert_eq!(config["kind"], "ConfigurationPolicy");
        let secret = &config["spec"]["object-templates"][0]["objectDefinition"];
        assert_eq!(
            secret["data"][".dockerconfigjson"],
            "{{hub fromSecret \"rhpull-policies\" \"hub-pull-secret\" \".dockerconfigjson\" hub}}"
        );
        assert_eq!(
            config["spec"]["namespaceSelector"],
            json!({"include": ["team-a", "team-b"]})
        );
        assert_eq!(docs[0]["spec"]["remediationAction"], "enforce");
    }

    #[test]
    fn service_accounts_are_linked_with_musthave_listing_only_the_new_entry() {
        let docs = spec().documents().unwrap();
        let templates =
            &docs[0]["spec"]["policy-templates"][0]["objectDefinition"]["spec"]["object-templates"];
        for (i, sa) in ["default", "builder"].iter().enumerate() {
            let t = &templates[i + 1];
            assert_eq!(t["complianceType"], "musthave");
            assert_eq!(t["objectDefinition"]["metadata"]["name"], *sa);
            assert_eq!(
                t["objectDefinition"]["imagePullSecrets"],
                json!([{"name": "7654321-team-pull-secret"}])
            );
        }
    }

    #[test]
    fn placement_follows_the_cluster_selector_and_the_binding_ties_them() {
        let docs = spec().documents().unwrap();
        assert_eq!(
            docs[1]["spec"]["predicates"][0]["requiredClusterSelector"]["labelSelector"],
            json!({"matchLabels": {"env": "prod"}})
        );
        let mut everywhere = spec();
        everywhere.clusters = LabelSelector::default();
        assert!(
            everywhere.documents().unwrap()[1]["spec"]
                .get("predicates")
                .is_none()
        );
        assert_eq!(docs[2]["placementRef"]["name"], "rhpull-pull-secret");
        assert_eq!(docs[2]["subjects"][0]["kind"], "Policy");
    }

    #[test]
    fn a_name_the_hub_would_refuse_is_refused_here() {
        let mut long = spec();
        long.name = "x".repeat(50);
        assert_eq!(long.documents(), Err(PolicyError::NameTooLong(65)));
    }
}
