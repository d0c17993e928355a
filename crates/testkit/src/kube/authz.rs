//! Bearer tokens, users and RBAC-like rules; evaluates requests and
//! SelfSubjectAccessReviews the same way, so "forbidden" can be tested.
//! For these built-in users `*` names every resource and `*/*` every
//! subresource (`nodes/proxy`): the viewer reads everything, as a
//! read-only role does, and is not given the node proxy, which no
//! read-only role grants. RBAC objects in the store (for other subjects)
//! are evaluated by `rbac` with the API server's own matching.

/// One rule: `*` matches anything; `namespaces: None` is every namespace
/// and the cluster scope.
#[derive(Clone, Debug)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub groups: Vec<String>,
    pub resources: Vec<String>,
    pub namespaces: Option<Vec<String>>,
}

impl Rule {
    /// Everything, everywhere.
    pub fn all() -> Self {
        let any = vec!["*".to_string()];
        Self {
            verbs: any.clone(),
            groups: any,
            resources: vec!["*".into(), "*/*".into()],
            namespaces: None,
        }
    }

    pub fn new(
        verbs: &[&str],
        groups: &[&str],
        resources: &[&str],
        namespaces: Option<&[&str]>,
    ) -> Self {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        Self {
            verbs: v(verbs),
            groups: v(groups),
            resources: v(resources),
            namespaces: namespaces.map(v),
        }
    }

    fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        let any = |list: &[String], x: &str| list.iter().any(|l| l == "*" || l == x);
        let sub = resource.contains('/');
        let resource_ok = (self.resources.iter())
            .any(|l| l == resource || (l == "*" && !sub) || (l == "*/*" && sub));
        any(&self.verbs, verb)
            && any(&self.groups, group)
            && resource_ok
            && match (&self.namespaces, namespace) {
                (None, _) => true,
                (Some(list), Some(ns)) => any(list, ns),
                (Some(_), None) => false,
            }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
    pub rules: Vec<Rule>,
}

impl User {
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows(verb, group, resource, namespace))
    }
}
