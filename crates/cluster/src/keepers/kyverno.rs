//! The Kyverno policies that keep a pull secret in every namespace and
//! linked to the chosen service accounts, in the API the cluster's Kyverno
//! serves:
//!
//! - `policies.kyverno.io` GeneratingPolicy and MutatingPolicy (CEL; `v1`
//!   from Kyverno 1.17, `v1beta1` in 1.16, `v1alpha1` in 1.15), shaped as
//!   Kyverno's documentation shapes them (`docs/policy-types/
//!   generating-policy`: clone with `resource.Get` and
//!   `generator.Apply`, `evaluation.synchronize` and `generateExisting`;
//!   `docs/policy-types/mutating-policy`: JSONPatch, `evaluation.
//!   mutateExisting`);
//! - `kyverno.io/v1` ClusterPolicy (every release; deprecated from 1.17):
//!   a generate rule with `clone`, `synchronize` and `generateExisting`
//!   (`docs/policy-types/cluster-policy/generate`), and mutate rules with
//!   `patchesJson6902` at admission and, through `targets` and
//!   `mutateExistingOnPolicyUpdate`, on the service accounts that exist.
//!
//! `ServiceAccount.imagePullSecrets` has no merge strategy (a strategic
//! merge replaces the list), so the link is a JSON-patch append to a list
//! that exists, or an add of the list where it is missing, and never when
//! the secret is there already: nothing a service account had is dropped.
//!
//! Beside the policies, ClusterRoles that Kyverno's aggregation labels
//! give its background controller (which clones and patches), and its
//! admission and reports controllers (which read).

use serde_json::{Value, json};

use super::Keeping;

/// Which Kyverno API the policies are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Api {
    /// `kyverno.io/v1` ClusterPolicy.
    ClusterPolicy,
    /// `policies.kyverno.io/<version>` GeneratingPolicy and MutatingPolicy.
    Cel(&'static str),
}

/// The CEL versions, newest first.
pub const CEL_VERSIONS: [&str; 3] = ["v1", "v1beta1", "v1alpha1"];

impl Api {
    /// The newest: what is written with no cluster to ask.
    pub const NEWEST: Self = Self::Cel("v1");

    /// The API to write in, from the group versions the cluster serves
    /// (`policies.kyverno.io/v1`, `kyverno.io/v1`, …): the newest CEL
    /// version served, else ClusterPolicy; `None`: no Kyverno.
    pub fn choose<'a>(served: impl IntoIterator<Item = &'a str> + Clone) -> Option<Self> {
        let has = |gv: &str| served.clone().into_iter().any(|s| s == gv);
        for v in CEL_VERSIONS {
            if has(&format!("policies.kyverno.io/{v}")) {
                return Some(Self::Cel(v));
            }
        }
        has("kyverno.io/v1").then_some(Self::ClusterPolicy)
    }

    /// Its group/version (`kyverno.io/v1`, `policies.kyverno.io/v1`).
    pub fn group_version(self) -> String {
        match self {
            Self::ClusterPolicy => "kyverno.io/v1".to_string(),
            Self::Cel(v) => format!("policies.kyverno.io/{v}"),
        }
    }

    /// The kinds it writes, in words.
    pub fn kinds(self) -> String {
        match self {
            Self::ClusterPolicy => "kyverno.io/v1 ClusterPolicy".to_string(),
            Self::Cel(_) => format!("{} GeneratingPolicy, MutatingPolicy", self.group_version()),
        }
    }

    /// `--api`'s words: `cluster-policy`, `v1`, `v1beta1`, `v1alpha1`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cluster-policy" | "clusterpolicy" | "kyverno.io/v1" => Some(Self::ClusterPolicy),
            _ => CEL_VERSIONS
                .iter()
                .find(|v| **v == s || format!("policies.kyverno.io/{v}") == s)
                .map(|v| Self::Cel(v)),
        }
    }
}

/// Why no Kyverno API can be written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiProblem {
    /// The cluster serves no Kyverno policy API.
    NotInstalled,
    /// It does not serve the one asked for (its group/version).
    NotServed(String),
}

/// The API to write in on `cluster`: `wanted` where it is served, else
/// the newest served (one `GET /apis`).
pub async fn api_for(
    cluster: &crate::Cluster,
    wanted: Option<Api>,
) -> Result<Result<Api, ApiProblem>, crate::ClusterError> {
    let served = super::served(cluster).await?;
    let Some(chosen) = Api::choose(served.iter().map(String::as_str)) else {
        return Ok(Err(ApiProblem::NotInstalled));
    };
    Ok(match wanted {
        None => Ok(chosen),
        Some(w) if served.contains(&w.group_version()) => Ok(w),
        Some(w) => Err(ApiProblem::NotServed(w.group_version())),
    })
}

fn metadata(name: &str, k: &Keeping) -> Value {
    let mut annotations = k.annotations();
    annotations.insert(
        "policies.kyverno.io/title".into(),
        "Pull secret in every namespace (kubectl rhpull)".into(),
    );
    annotations.insert(
        "policies.kyverno.io/subject".into(),
        "Secret, ServiceAccount".into(),
    );
    json!({
        "name": name,
        "labels": {crate::MANAGED_BY_LABEL: crate::MANAGED_BY},
        "annotations": annotations,
    })
}

/// Every manifest: the ClusterRoles first (Kyverno checks its
/// background controller's rights when a generate or mutate-existing
/// policy is created), then the policies.
pub fn documents(k: &Keeping, api: Api) -> Vec<Value> {
    let mut out = cluster_roles(k);
    match api {
        Api::ClusterPolicy => out.push(cluster_policy(k)),
        Api::Cel(version) => {
            out.extend([generating_policy(k, version), mutating_policy(k, version)]);
        }
    }
    out
}

/// Namespaces excluded, as ClusterPolicy's `names` wildcards (the same
/// patterns: a name, or a prefix ending in `*`).
fn exclude_namespaces(k: &Keeping) -> Value {
    json!({"any": [{"resources": {"names": k.exclude}}]})
}

/// The JSON patches that link the secret: add the list where it is
/// missing, append where it is not. (`{{ }}` is Kyverno's JMESPath.)
fn link_rules(k: &Keeping, existing: bool) -> Vec<Value> {
    let secret = &k.source_name;
    let subject = if existing { "target" } else { "request.object" };
    let count = format!("{{{{ length({subject}.imagePullSecrets || `[]`) }}}}");
    let names = format!("{{{{ {subject}.imagePullSecrets[].name || `[]` }}}}");
    let add_list =
        format!("- op: add\n  path: /imagePullSecrets\n  value: [{{\"name\": \"{secret}\"}}]\n");
    let append =
        format!("- op: add\n  path: /imagePullSecrets/-\n  value: {{\"name\": \"{secret}\"}}\n");
    let when_empty = json!({"all": [{"key": count, "operator": "Equals", "value": 0}]});
    let when_missing = json!({"all": [
        {"key": count, "operator": "GreaterThan", "value": 0},
        {"key": secret, "operator": "AnyNotIn", "value": names},
    ]});
    let suffix = if existing { "-existing" } else { "" };
    let matched =
        json!({"any": [{"resources": {"kinds": ["ServiceAccount"], "names": k.service_accounts}}]});
    let exclude = json!({"any": [{"resources": {"namespaces": k.exclude}}]});
    [
        ("link-missing-list", when_empty, add_list),
        ("link-append", when_missing, append),
    ]
    .into_iter()
    .map(|(name, conditions, patch)| {
        let mut mutate = json!({"patchesJson6902": patch});
        let mut rule = json!({
            "name": format!("{name}{suffix}"),
            "match": matched,
            "exclude": exclude,
        });
        if existing {
            // Mutate existing: the trigger is the service account, the
            // target the same one, patched in the background.
            mutate["mutateExistingOnPolicyUpdate"] = json!(true);
            mutate["targets"] = json!([{
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "name": "{{request.object.metadata.name}}",
                "namespace": "{{request.object.metadata.namespace}}",
                "preconditions": conditions,
            }]);
        } else {
            rule["preconditions"] = conditions;
        }
        rule["mutate"] = mutate;
        rule
    })
    .collect()
}

/// `kyverno.io/v1` ClusterPolicy: clone into every namespace and keep in
/// sync; link at admission, and on the service accounts that exist.
pub fn cluster_policy(k: &Keeping) -> Value {
    let mut rules = vec![json!({
        "name": "clone-pull-secret",
        "match": {"any": [{"resources": {"kinds": ["Namespace"]}}]},
        "exclude": exclude_namespaces(k),
        "generate": {
            "generateExisting": true,
            "synchronize": true,
            "apiVersion": "v1",
            "kind": "Secret",
            "name": k.source_name,
            "namespace": "{{request.object.metadata.name}}",
            "clone": {"namespace": k.source_namespace, "name": k.source_name},
        },
    })];
    rules.extend(link_rules(k, false));
    rules.extend(link_rules(k, true));
    json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": metadata(&k.name, k),
        "spec": {"background": true, "rules": rules},
    })
}

/// A CEL list literal of strings.
fn cel_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// CEL: true when `field` is one of the exclusions (names, or prefixes
/// ending in `*`).
fn cel_excluded(k: &Keeping, field: &str) -> String {
    format!(
        "{}.exists(p, p.endsWith('*') ? {field}.startsWith(p.substring(0, p.size() - 1)) : {field} == p)",
        cel_list(&k.exclude)
    )
}

fn rule(resource: &str) -> Value {
    json!({"resourceRules": [{
        "apiGroups": [""], "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"], "resources": [resource],
    }]})
}

/// `policies.kyverno.io` GeneratingPolicy: the source cloned into every
/// namespace, now and later, and kept in sync.
pub fn generating_policy(k: &Keeping, version: &str) -> Value {
    json!({
        "apiVersion": format!("policies.kyverno.io/{version}"),
        "kind": "GeneratingPolicy",
        "metadata": metadata(&k.name, k),
        "spec": {
            "evaluation": {
                "generateExisting": {"enabled": true},
                "synchronize": {"enabled": true},
            },
            "matchConstraints": rule("namespaces"),
            "matchConditions": [{
                "name": "not-excluded",
                "expression": format!("!{}", cel_excluded(k, "object.metadata.name")),
            }],
            "variables": [{
                "name": "source",
                "expression": format!(
                    "resource.Get(\"v1\", \"secrets\", \"{}\", \"{}\")",
                    k.source_namespace, k.source_name
                ),
            }],
            "generate": [{"expression": "generator.Apply(object.metadata.name, [variables.source])"}],
        },
    })
}

/// `policies.kyverno.io` MutatingPolicy: the secret appended to the chosen
/// service accounts (the list added where missing), at admission and on
/// those that exist.
pub fn mutating_policy(k: &Keeping, version: &str) -> Value {
    let secret = &k.source_name;
    let patch = format!(
        "has(object.imagePullSecrets) ? [JSONPatch{{op: \"add\", path: \"/imagePullSecrets/-\", value: Object.imagePullSecrets{{name: \"{secret}\"}}}}] : [JSONPatch{{op: \"add\", path: \"/imagePullSecrets\", value: [Object.imagePullSecrets{{name: \"{secret}\"}}]}}]"
    );
    json!({
        "apiVersion": format!("policies.kyverno.io/{version}"),
        "kind": "MutatingPolicy",
        "metadata": metadata(&format!("{}-link", k.name), k),
        "spec": {
            "evaluation": {
                "admission": {"enabled": true},
                "mutateExisting": {"enabled": true},
            },
            "matchConstraints": rule("serviceaccounts"),
            "matchConditions": [
                {"name": "chosen-service-accounts",
                 "expression": format!("object.metadata.name in {}", cel_list(&k.service_accounts))},
                {"name": "not-excluded",
                 "expression": format!("!{}", cel_excluded(k, "object.metadata.namespace"))},
                {"name": "not-linked-yet",
                 "expression": format!("!has(object.imagePullSecrets) || !object.imagePullSecrets.exists(s, s.name == '{secret}')")},
            ],
            "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": patch}}],
        },
    })
}

/// The rights Kyverno's controllers need for these policies, given through
/// its aggregation labels: the background controller clones Secrets and
/// patches ServiceAccounts; the admission and reports controllers read them.
pub fn cluster_roles(k: &Keeping) -> Vec<Value> {
    let role = |who: &str, verbs_secrets: &[&str], verbs_sas: &[&str]| {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": format!("kyverno:{}:{who}", k.name),
                "labels": {
                    format!("rbac.kyverno.io/aggregate-to-{who}"): "true",
                    crate::MANAGED_BY_LABEL: crate::MANAGED_BY,
                },
            },
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": verbs_secrets},
                {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": verbs_sas},
            ],
        })
    };
    let read = ["get", "list", "watch"];
    vec![
        role(
            "background-controller",
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
            &["get", "list", "watch", "update", "patch"],
        ),
        role("admission-controller", &read, &read),
        role("reports-controller", &read, &read),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keepers::SOURCE_ANNOTATION;

    #[test]
    fn the_newest_api_the_cluster_serves_is_chosen() {
        let served = [
            "kyverno.io/v1",
            "policies.kyverno.io/v1beta1",
            "policies.kyverno.io/v1alpha1",
        ];
        assert_eq!(Api::choose(served), Some(Api::Cel("v1beta1")));
        assert_eq!(Api::choose(["kyverno.io/v1"]), Some(Api::ClusterPolicy));
        assert_eq!(Api::choose(["apps/v1"]), None);
        assert_eq!(Api::parse("cluster-policy"), Some(Api::ClusterPolicy));
        assert_eq!(
            Api::parse("policies.kyverno.io/v1alpha1"),
            Some(Api::Cel("v1alpha1"))
        );
        assert_eq!(Api::parse("v2"), None);
    }

    #[test]
    fn the_cluster_policy_clones_in_sync_and_links_without_dropping() {
        let docs = documents(&crate::keepers::sample(), Api::ClusterPolicy);
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            ["ClusterRole", "ClusterRole", "ClusterRole", "ClusterPolicy"]
        );
        let rules = docs[3]["spec"]["rules"].as_array().expect("rules");
        let generate = &rules[0]["generate"];
        assert_eq!(generate["synchronize"], true);
        assert_eq!(generate["generateExisting"], true);
        assert_eq!(
            generate["clone"],
            json!({"namespace": "rhpull", "name": "pull"})
        );
        // Add the list where missing, append where not: never replace.
        let patches: Vec<&str> = rules[1..]
            .iter()
            .filter_map(|r| r["mutate"]["patchesJson6902"].as_str())
            .collect();
        assert_eq!(patches.len(), 4);
        assert!(
            patches
                .iter()
                .all(|p| p.contains("op: add") && !p.contains("replace"))
        );
        assert!(rules[3]["mutate"]["mutateExistingOnPolicyUpdate"] == true);
        assert_eq!(
            docs[3]["metadata"]["annotations"][SOURCE_ANNOTATION],
            "rhpull/pull"
        );
    }

    #[test]
    fn the_cel_policies_name_the_source_and_exclude_by_prefix() {
        let docs = documents(&crate::keepers::sample(), Api::Cel("v1"));
        assert_eq!(docs[3]["apiVersion"], "policies.kyverno.io/v1");
        let source = docs[3]["spec"]["variables"][0]["expression"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            source,
            "resource.Get(\"v1\", \"secrets\", \"rhpull\", \"pull\")"
        );
        let excluded = docs[4]["spec"]["matchConditions"][1]["expression"]
            .as_str()
            .unwrap_or_default();
        assert!(
            excluded.contains("['kube-*', 'openshift-*', 'rhpull', 'team-x']"),
            "{excluded}"
        );
        assert_eq!(
            docs[4]["spec"]["evaluation"]["mutateExisting"]["enabled"],
            true
        );
    }
}
