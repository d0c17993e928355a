//! RBAC as the API server's authorizer evaluates it, for
//! SubjectAccessReviews about a subject other than the caller (a pod's
//! service account): the RoleBindings of the namespace and the
//! ClusterRoleBindings whose subjects match, and the rules of the roles
//! they name (kubernetes `plugin/pkg/auth/authorizer/rbac` and
//! `pkg/apis/rbac/v1/evaluation_helpers.go`: `*` matches any verb, group
//! or resource, subresources included; `resourceNames` narrows to names).
//! The built-in users keep their own rules (`authz`).

use serde_json::Value;

use super::resources;
use super::store::Store;

/// What is asked: a verb on a resource (`secrets`, or `nodes/proxy` with
/// its subresource), in a namespace or cluster-wide, maybe by name.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// The subject: a user name and its groups. A service account is user
/// `system:serviceaccount:NS:NAME` in groups `system:serviceaccounts`,
/// `system:serviceaccounts:NS` and `system:authenticated`.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user: String,
    pub groups: Vec<String>,
}

impl Subject {
    /// The groups a service account user is in, as the token
    /// authenticator gives them.
    pub fn of(user: &str, mut groups: Vec<String>) -> Self {
        if let Some(rest) = user.strip_prefix("system:serviceaccount:")
            && let Some((ns, _)) = rest.split_once(':')
        {
            for g in [
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".to_string(),
            ] {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
        Self {
            user: user.to_string(),
            groups,
        }
    }

    fn matches(&self, s: &Value) -> bool {
        let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
        match field("kind") {
            "ServiceAccount" => {
                self.user
                    == format!(
                        "system:serviceaccount:{}:{}",
                        field("namespace"),
                        field("name")
                    )
            }
            "User" => self.user == field("name"),
            "Group" => self.groups.iter().any(|g| g == field("name")),
            _ => false,
        }
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One rule of a role against the attributes.
fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    let has = |key: &str, x: &str| strings(rule, key).iter().any(|s| s == "*" || s == x);
    let resource = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let names = strings(rule, "resourceNames");
    has("verbs", &a.verb)
        && has("apiGroups", &a.group)
        && has("resources", &resource)
        && (names.is_empty() || names.contains(&a.name))
}

/// The rules of the role a binding names (`Role` in `namespace`, or a
/// `ClusterRole`).
fn role_rules(store: &Store, binding: &Value, namespace: &str) -> Vec<Value> {
    let kind = binding.pointer("/roleRef/kind").and_then(Value::as_str);
    let name = (binding.pointer("/roleRef/name").and_then(Value::as_str)).unwrap_or_default();
    let role = match kind {
        Some("ClusterRole") => {
            resources::by_kind("ClusterRole").and_then(|r| store.get(r, "", name).cloned())
        }
        Some("Role") => {
            resources::by_kind("Role").and_then(|r| store.get(r, namespace, name).cloned())
        }
        _ => None,
    };
    role.and_then(|r| r.get("rules").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// True when a binding of the subject grants the attributes: a
/// ClusterRoleBinding anywhere, a RoleBinding in the namespace asked about.
pub fn allows(store: &Store, subject: &Subject, a: &Attributes) -> bool {
    let binds = |b: &Value| {
        (b.get("subjects").and_then(Value::as_array).into_iter())
            .flatten()
            .any(|s| subject.matches(s))
    };
    let grants = |b: &Value, ns: &str| role_rules(store, b, ns).iter().any(|r| rule_allows(r, a));
    let cluster = resources::by_kind("ClusterRoleBinding")
        .is_some_and(|r| store.list(r, None).any(|(_, b)| binds(b) && grants(b, "")));
    if cluster || a.namespace.is_empty() {
        return cluster;
    }
    resources::by_kind("RoleBinding").is_some_and(|r| {
        store
            .list(r, Some(&a.namespace))
            .any(|(_, b)| binds(b) && grants(b, &a.namespace))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_match_as_the_authorizer_matches_them() {
        let a = Attributes {
            verb: "list".into(),
            resource: "secrets".into(),
            namespace: "team-a".into(),
            ..Attributes::default()
        };
        let rule = json!({"verbs": ["list"], "apiGroups": [""], "resources": ["secrets"]});
        assert!(rule_allows(&rule, &a));
        let named = json!({"verbs": ["list"], "apiGroups": [""], "resources": ["secrets"],
                           "resourceNames": ["other"]});
        assert!(!rule_allows(&named, &a));
        let wild = json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]});
        let proxy = Attributes {
            verb: "get".into(),
            resource: "nodes".into(),
            subresource: "proxy".into(),
            ..Attributes::default()
        };
        assert!(rule_allows(&wild, &proxy), "* matches subresources too");
        let sa = Subject::of("system:serviceaccount:team-a:default", Vec::new());
        assert!(sa.matches(&json!({"kind": "Group", "name": "system:serviceaccounts:team-a"})));
        assert!(
            sa.matches(
                &json!({"kind": "ServiceAccount", "namespace": "team-a", "name": "default"})
            )
        );
        assert!(
            !sa.matches(&json!({"kind": "ServiceAccount", "namespace": "b", "name": "default"}))
        );
    }
}
