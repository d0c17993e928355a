//! The resources the emulator serves, and the discovery documents built from
//! them (`/api`, `/api/v1`, `/apis`, `/apis/GROUP/VERSION`).

use serde_json::{Value, json};

/// One served resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Only in OpenShift mode.
    pub openshift: bool,
    /// `create` only (reviews).
    pub create_only: bool,
    /// Has a `/status` subresource: writes to the object itself keep the
    /// stored status, and only `/status` changes it.
    pub status_subresource: bool,
    /// Keeps `metadata.generation`, bumped on every change outside
    /// `metadata` and `status` (custom resources, as the API server does).
    pub generation: bool,
    /// Only on a hub (Open Cluster Management's CRDs installed).
    pub hub: bool,
    /// Only where Kyverno or the External Secrets Operator is installed.
    pub addon: Option<Addon>,
}

/// Operators whose CRDs a cluster may have installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addon {
    Kyverno,
    ExternalSecrets,
}

/// Which Kyverno a cluster runs, by the policy APIs it serves (its CRDs'
/// versions, `../shared/crds/kyverno/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kyverno {
    /// Before 1.15: `kyverno.io/v1` ClusterPolicy only.
    ClusterPolicyOnly,
    /// 1.16: ClusterPolicy, and `policies.kyverno.io` v1alpha1 and v1beta1.
    V1_16,
    /// 1.17 and later: ClusterPolicy (deprecated), `policies.kyverno.io`
    /// v1 (preferred), v1beta1 and v1alpha1.
    V1_17,
}

impl Kyverno {
    fn serves(self, r: &Resource) -> bool {
        match (r.group, self) {
            ("kyverno.io", _) => true,
            (_, Self::ClusterPolicyOnly) => false,
            (_, Self::V1_16) => r.version != "v1",
            (_, Self::V1_17) => true,
        }
    }
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }

    fn verbs(&self) -> Vec<&'static str> {
        if self.create_only {
            vec!["create"]
        } else {
            vec![
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }
}

const fn r(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    openshift: bool,
) -> Resource {
    Resource {
        group,
        version,
        plural,
        kind,
        namespaced,
        short_names,
        openshift,
        create_only: false,
        status_subresource: false,
        generation: false,
        hub: false,
        addon: None,
    }
}

pub static RESOURCES: &[Resource] = &[
    r("", "v1", "namespaces", "Namespace", false, &["ns"], false),
    r("", "v1", "secrets", "Secret", true, &[], false),
    r(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        true,
        &["sa"],
        false,
    ),
    Resource {
        status_subresource: true,
        ..r("", "v1", "pods", "Pod", true, &["po"], false)
    },
    Resource {
        status_subresource: true,
        ..r("", "v1", "nodes", "Node", false, &["no"], false)
    },
    r("", "v1", "events", "Event", true, &["ev"], false),
    // HyperShift's pull secret syncer runs as one (hosted control planes).
    custom("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"]),
    // Workloads: the world's controllers make their pods (`workloads`).
    custom("apps", "v1", "deployments", "Deployment", true, &["deploy"]),
    custom("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"]),
    custom("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"]),
    r("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "Role",
        true,
        &[],
        false,
    ),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
        &[],
        false,
    ),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
        &[],
        false,
    ),
    r(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
        &[],
        false,
    ),
    Resource {
        create_only: true,
        ..r(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
            false,
            &[],
            false,
        )
    },
    // Asks about another subject (a pod's service account): answered
    // from the RBAC objects stored (`kube::rbac`).
    Resource {
        create_only: true,
        ..r(
            "authorization.k8s.io",
            "v1",
            "subjectaccessreviews",
            "SubjectAccessReview",
            false,
            &[],
            false,
        )
    },
    r(
        "image.openshift.io",
        "v1",
        "imagestreams",
        "ImageStream",
        true,
        &["is"],
        true,
    ),
    r(
        "build.openshift.io",
        "v1",
        "buildconfigs",
        "BuildConfig",
        true,
        &["bc"],
        true,
    ),
    r(
        "project.openshift.io",
        "v1",
        "projects",
        "Project",
        false,
        &[],
        true,
    ),
    r(
        "config.openshift.io",
        "v1",
        "clusterversions",
        "ClusterVersion",
        false,
        &[],
        true,
    ),
    r(
        "config.openshift.io",
        "v1",
        "infrastructures",
        "Infrastructure",
        false,
        &[],
        true,
    ),
    // How a node pulls (OpenShift 4): mirror sets, the registry policy,
    // and the CRI-O credential provider, which the Machine Config
    // Operator renders into registries.conf, policy.json and the
    // kubelet's credential provider configuration.
    Resource {
        generation: true,
        ..r(
            "config.openshift.io",
            "v1",
            "imagedigestmirrorsets",
            "ImageDigestMirrorSet",
            false,
            &["idms"],
            true,
        )
    },
    Resource {
        generation: true,
        ..r(
            "config.openshift.io",
            "v1",
            "imagetagmirrorsets",
            "ImageTagMirrorSet",
            false,
            &["itms"],
            true,
        )
    },
    Resource {
        generation: true,
        ..r(
            "operator.openshift.io",
            "v1alpha1",
            "imagecontentsourcepolicies",
            "ImageContentSourcePolicy",
            false,
            &["icsp"],
            true,
        )
    },
    Resource {
        status_subresource: true,
        generation: true,
        ..r(
            "config.openshift.io",
            "v1",
            "images",
            "Image",
            false,
            &[],
            true,
        )
    },
    Resource {
        status_subresource: true,
        generation: true,
        ..r(
            "config.openshift.io",
            "v1alpha1",
            "criocredentialproviderconfigs",
            "CRIOCredentialProviderConfig",
            false,
            &[],
            true,
        )
    },
    // The Machine Config Operator's custom resources (OpenShift 4 only).
    Resource {
        status_subresource: true,
        generation: true,
        ..r(
            "machineconfiguration.openshift.io",
            "v1",
            "machineconfigpools",
            "MachineConfigPool",
            false,
            &["mcp"],
            true,
        )
    },
    Resource {
        generation: true,
        ..r(
            "machineconfiguration.openshift.io",
            "v1",
            "machineconfigs",
            "MachineConfig",
            false,
            &["mc"],
            true,
        )
    },
];

/// A resource with a status subresource and a generation: the workloads,
/// and the custom resources (which are also checked against their CRDs'
/// schemas, by their `hub` or `addon`).
const fn custom(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        status_subresource: true,
        generation: true,
        ..r(group, version, plural, kind, namespaced, short_names, false)
    }
}

/// Open Cluster Management's hub resources (namespaced).
const fn hub(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        hub: true,
        ..custom(group, version, plural, kind, true, short_names)
    }
}

pub static HUB_RESOURCES: &[Resource] = &[
    hub(
        "policy.open-cluster-management.io",
        "v1",
        "policies",
        "Policy",
        &["plc"],
    ),
    hub(
        "policy.open-cluster-management.io",
        "v1",
        "configurationpolicies",
        "ConfigurationPolicy",
        &[],
    ),
    hub(
        "policy.open-cluster-management.io",
        "v1",
        "placementbindings",
        "PlacementBinding",
        &["pb"],
    ),
    hub(
        "cluster.open-cluster-management.io",
        "v1beta1",
        "placements",
        "Placement",
        &[],
    ),
];

/// Kyverno's and the External Secrets Operator's custom resources (all
/// cluster-scoped). For a group with several versions the preferred
/// (stable) one comes first.
const fn addon(
    addon: Addon,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        addon: Some(addon),
        ..custom(group, version, plural, kind, false, short_names)
    }
}

const fn kyverno(
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
) -> Resource {
    addon(
        Addon::Kyverno,
        "policies.kyverno.io",
        version,
        plural,
        kind,
        short_names,
    )
}

pub static ADDON_RESOURCES: &[Resource] = &[
    addon(
        Addon::Kyverno,
        "kyverno.io",
        "v1",
        "clusterpolicies",
        "ClusterPolicy",
        &["cpol"],
    ),
    kyverno("v1", "generatingpolicies", "GeneratingPolicy", &["gpol"]),
    kyverno("v1", "mutatingpolicies", "MutatingPolicy", &["mpol"]),
    kyverno(
        "v1beta1",
        "generatingpolicies",
        "GeneratingPolicy",
        &["gpol"],
    ),
    kyverno("v1beta1", "mutatingpolicies", "MutatingPolicy", &["mpol"]),
    kyverno(
        "v1alpha1",
        "generatingpolicies",
        "GeneratingPolicy",
        &["gpol"],
    ),
    kyverno("v1alpha1", "mutatingpolicies", "MutatingPolicy", &["mpol"]),
    addon(
        Addon::ExternalSecrets,
        "external-secrets.io",
        "v1",
        "clustersecretstores",
        "ClusterSecretStore",
        &["css"],
    ),
    addon(
        Addon::ExternalSecrets,
        "external-secrets.io",
        "v1",
        "clusterexternalsecrets",
        "ClusterExternalSecret",
        &["ces"],
    ),
];

/// Groups OpenShift 3.11 does not have.
const OPENSHIFT4_GROUPS: &[&str] = &[
    "config.openshift.io",
    "machineconfiguration.openshift.io",
    "operator.openshift.io",
];

/// What kind of cluster the emulator plays: the one word every part of
/// it derives what it does from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavour {
    #[default]
    Kubernetes,
    /// OKD / OpenShift 3.11: OpenShift's groups without config.openshift.io,
    /// no global pull secret; image streams use `openshift/imagestreamsecret`.
    OpenShift3,
    /// OpenShift 4, with the Machine Config Operator.
    OpenShift4,
    /// OpenShift 4 with a hosted control plane (HyperShift / ROSA HCP):
    /// `Infrastructure` says `controlPlaneTopology: External`, and there is
    /// no Machine Config Operator in the cluster.
    Hosted,
}

impl Flavour {
    pub fn is_openshift(self) -> bool {
        self != Self::Kubernetes
    }

    /// OpenShift 4's API groups and nodes configured through the API
    /// (a hosted control plane too).
    pub fn is_openshift4(self) -> bool {
        matches!(self, Self::OpenShift4 | Self::Hosted)
    }

    pub fn is_hosted(self) -> bool {
        self == Self::Hosted
    }
}

/// What a cluster serves: its flavour, whether it is a hub, and the
/// operators installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serves {
    pub flavour: Flavour,
    pub hub: bool,
    pub kyverno: Option<Kyverno>,
    pub external_secrets: bool,
}

/// The resources a cluster serves.
pub fn served(serves: Serves) -> impl Iterator<Item = &'static Resource> {
    let flavour = serves.flavour;
    RESOURCES
        .iter()
        .chain(HUB_RESOURCES)
        .chain(ADDON_RESOURCES)
        .filter(move |r| {
            let addon = match r.addon {
                None => true,
                Some(Addon::Kyverno) => serves.kyverno.is_some_and(|k| k.serves(r)),
                Some(Addon::ExternalSecrets) => serves.external_secrets,
            };
            addon
                && (serves.hub || !r.hub)
                && (flavour.is_openshift() || !r.openshift)
                && !(flavour == Flavour::OpenShift3 && OPENSHIFT4_GROUPS.contains(&r.group))
        })
}

/// Finds a resource by group, version and plural.
pub fn find(serves: Serves, group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    served(serves).find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// A kind the emulator serves, for its own controllers (which only ever
/// name served kinds).
pub fn res(kind: &str) -> &'static Resource {
    by_kind(kind).expect("served kind")
}

/// Finds a resource by kind (for objects created in tests).
pub fn by_kind(kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .chain(HUB_RESOURCES)
        .chain(ADDON_RESOURCES)
        .find(|r| r.kind == kind)
}

pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

fn groups(serves: Serves) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in served(serves).filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// Every group once, with its versions (the first listed preferred: `v1`
/// before `v1alpha1` in config.openshift.io, as the API server prefers
/// the stable one).
pub fn api_group_list(serves: Serves) -> Value {
    let mut by_group: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (g, v) in groups(serves) {
        let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
        match by_group.iter_mut().find(|(name, _)| *name == g) {
            Some((_, versions)) => versions.push(gv),
            None => by_group.push((g, vec![gv])),
        }
    }
    let groups: Vec<Value> = by_group
        .into_iter()
        .map(|(g, versions)| {
            let preferred = versions[0].clone();
            json!({"name": g, "versions": versions, "preferredVersion": preferred})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `APIResourceList` for a group/version, or `None` when not served.
pub fn resource_list(serves: Serves, group: &str, version: &str) -> Option<Value> {
    let items: Vec<Value> = served(serves)
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            let mut v = json!({
                "name": r.plural,
                "singularName": r.singular(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": r.verbs(),
            });
            if !r.short_names.is_empty() {
                v["shortNames"] = json!(r.short_names);
            }
            v
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One word says what a cluster is; everything else is derived from it.
    #[test]
    fn a_flavour_says_what_is_served() {
        let serves = |flavour| Serves {
            flavour,
            hub: false,
            kyverno: None,
            external_secrets: false,
        };
        let has = |flavour, group: &str| served(serves(flavour)).any(|r| r.group == group);
        assert!(!has(Flavour::Kubernetes, "image.openshift.io"));
        assert!(has(Flavour::OpenShift3, "image.openshift.io"));
        assert!(!has(Flavour::OpenShift3, "config.openshift.io"));
        assert!(has(
            Flavour::OpenShift4,
            "machineconfiguration.openshift.io"
        ));
        assert!(has(Flavour::Hosted, "config.openshift.io"));
        assert!(Flavour::Hosted.is_openshift4() && Flavour::Hosted.is_hosted());
        assert!(Flavour::OpenShift4.is_openshift4() && !Flavour::OpenShift4.is_hosted());
        assert!(!Flavour::OpenShift3.is_openshift4() && Flavour::OpenShift3.is_openshift());
    }

    /// A Kyverno release serves the policy APIs its CRDs have.
    #[test]
    fn a_kyverno_release_says_which_policy_apis_are_served() {
        let versions = |kyverno| -> Vec<String> {
            let serves = Serves {
                flavour: Flavour::Kubernetes,
                hub: false,
                kyverno,
                external_secrets: false,
            };
            (served(serves).filter(|r| r.group.contains("kyverno")))
                .filter(|r| r.plural != "mutatingpolicies")
                .map(|r| r.api_version())
                .collect()
        };
        assert!(versions(None).is_empty());
        assert_eq!(
            versions(Some(Kyverno::ClusterPolicyOnly)),
            ["kyverno.io/v1"]
        );
        assert_eq!(
            versions(Some(Kyverno::V1_16)),
            [
                "kyverno.io/v1",
                "policies.kyverno.io/v1beta1",
                "policies.kyverno.io/v1alpha1"
            ]
        );
        assert_eq!(versions(Some(Kyverno::V1_17)).len(), 4);
    }
}
