//! The custom resources the world serves beside Kubernetes' own: Open
//! Cluster Management's on a hub (Policy, ConfigurationPolicy,
//! PlacementBinding, Placement), Kyverno's (ClusterPolicy, GeneratingPolicy,
//! MutatingPolicy) and the External Secrets Operator's (ClusterSecretStore,
//! ClusterExternalSecret). Their CRDs, copied unchanged from upstream into
//! `crates/testkit/crds/` (provenance in each folder's README), give each
//! kind's `openAPIV3Schema` for each version they serve. A file is parsed
//! the first time one of its kinds is written (Kyverno's ClusterPolicy
//! CRD alone is 1.4 MB).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// `(kind, file)`: the CRD of each kind.
const FILES: &[(&str, &str)] = &[
    (
        "Policy",
        include_str!(
            "../../crds/open-cluster-management/policy.open-cluster-management.io_policies.yaml"
        ),
    ),
    (
        "ConfigurationPolicy",
        include_str!(
            "../../crds/open-cluster-management/policy.open-cluster-management.io_configurationpolicies.yaml"
        ),
    ),
    (
        "PlacementBinding",
        include_str!(
            "../../crds/open-cluster-management/policy.open-cluster-management.io_placementbindings.yaml"
        ),
    ),
    (
        "Placement",
        include_str!(
            "../../crds/open-cluster-management/clusters.open-cluster-management.io_placements.yaml"
        ),
    ),
    (
        "ClusterPolicy",
        include_str!("../../crds/kyverno/kyverno.io_clusterpolicies.yaml"),
    ),
    (
        "GeneratingPolicy",
        include_str!("../../crds/kyverno/policies.kyverno.io_generatingpolicies.yaml"),
    ),
    (
        "MutatingPolicy",
        include_str!("../../crds/kyverno/policies.kyverno.io_mutatingpolicies.yaml"),
    ),
    (
        "ClusterSecretStore",
        include_str!("../../crds/external-secrets/external-secrets.io_clustersecretstores.yaml"),
    ),
    (
        "ClusterExternalSecret",
        include_str!("../../crds/external-secrets/external-secrets.io_clusterexternalsecrets.yaml"),
    ),
];

/// The CRD of `kind`, parsed once.
pub fn crd(kind: &str) -> Option<&'static Value> {
    static PARSED: OnceLock<Mutex<HashMap<&'static str, &'static Value>>> = OnceLock::new();
    let (kind, file) = FILES.iter().find(|(k, _)| *k == kind)?;
    let mut parsed = PARSED.get_or_init(Default::default).lock().ok()?;
    Some(*parsed.entry(kind).or_insert_with(|| {
        let v: Value = serde_saphyr::from_str(file).expect("an upstream CRD");
        Box::leak(Box::new(v))
    }))
}

/// The `openAPIV3Schema` of `kind` at `version`, where its CRD serves it.
pub fn schema(kind: &str, version: &str) -> Option<&'static Value> {
    let versions = crd(kind)?.pointer("/spec/versions")?.as_array()?;
    let v = versions
        .iter()
        .find(|v| v["name"] == version && v["served"] == true)?;
    v.pointer("/schema/openAPIV3Schema")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_has_its_schema_at_the_versions_served() {
        for (kind, version) in [
            ("Policy", "v1"),
            ("ConfigurationPolicy", "v1"),
            ("PlacementBinding", "v1"),
            ("Placement", "v1beta1"),
            ("ClusterPolicy", "v1"),
            ("GeneratingPolicy", "v1"),
            ("GeneratingPolicy", "v1beta1"),
            ("GeneratingPolicy", "v1alpha1"),
            ("MutatingPolicy", "v1"),
            ("ClusterSecretStore", "v1"),
            ("ClusterExternalSecret", "v1"),
        ] {
            let s = super::schema(kind, version).unwrap_or_else(|| panic!("{kind} {version}"));
            assert_eq!(s["type"], "object", "{kind}");
        }
        // ESO no longer serves v1beta1.
        assert!(super::schema("ClusterExternalSecret", "v1beta1").is_none());
    }
}
