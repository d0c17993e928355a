//! The custom resources a hub serves (Open Cluster Management's Policy,
//! ConfigurationPolicy, PlacementBinding and Placement): their CRDs, copied
//! unchanged from upstream into `crates/testkit/crds/` (provenance in the
//! README there), give each kind's `openAPIV3Schema`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

const FILES: &[&str] = &[
    include_str!(
        "../../crds/open-cluster-management/policy.open-cluster-management.io_policies.yaml"
    ),
    include_str!(
        "../../crds/open-cluster-management/policy.open-cluster-management.io_configurationpolicies.yaml"
    ),
    include_str!(
        "../../crds/open-cluster-management/policy.open-cluster-management.io_placementbindings.yaml"
    ),
    include_str!(
        "../../crds/open-cluster-management/clusters.open-cluster-management.io_placements.yaml"
    ),
];

/// Every CRD, parsed once.
pub fn all() -> &'static [Value] {
    static CRDS: OnceLock<Vec<Value>> = OnceLock::new();
    CRDS.get_or_init(|| {
        FILES
            .iter()
            .map(|f| serde_saphyr::from_str(f).expect("an upstream CRD"))
            .collect()
    })
}

/// The served version's `openAPIV3Schema` of `kind`, by kind.
pub fn schema(kind: &str) -> Option<&'static Value> {
    static BY_KIND: OnceLock<HashMap<String, &'static Value>> = OnceLock::new();
    BY_KIND
        .get_or_init(|| {
            all()
                .iter()
                .filter_map(|crd| {
                    let kind = crd.pointer("/spec/names/kind")?.as_str()?.to_string();
                    let versions = crd.pointer("/spec/versions")?.as_array()?;
                    let served = versions.iter().find(|v| v["served"] == true)?;
                    Some((kind, served.pointer("/schema/openAPIV3Schema")?))
                })
                .collect()
        })
        .get(kind)
        .copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_hub_kind_has_its_schema() {
        for kind in [
            "Policy",
            "ConfigurationPolicy",
            "PlacementBinding",
            "Placement",
        ] {
            let s = super::schema(kind).unwrap_or_else(|| panic!("{kind}"));
            assert_eq!(s["type"], "object", "{kind}");
        }
    }
}
