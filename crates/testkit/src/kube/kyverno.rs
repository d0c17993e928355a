//! Kyverno in the world, for the rule shapes rhpull writes (and nothing
//! else: a rule it cannot read is skipped and said on stderr). Its own
//! reading of the policies — it never calls rhpull — follows Kyverno's
//! documentation and conformance tests:
//!
//! - generate with `clone` (`docs/policy-types/cluster-policy/generate`,
//!   `docs/policy-types/generating-policy`): the source copied into each
//!   matching Namespace when it is made, and, with `generateExisting`,
//!   into those there when the policy comes; the copy labelled as Kyverno
//!   labels it (`app.kubernetes.io/managed-by: kyverno`,
//!   `generate.kyverno.io/policy-name`, `…/source-namespace`,
//!   `…/source-name`, `…/trigger-name`, …). With `synchronize`: a changed
//!   source is copied again, a deleted one deletes its copies, a deleted or
//!   edited copy is put back (the tables in the generating-policy page;
//!   `test/conformance/chainsaw/generate/clusterpolicy/standard/clone/sync/`
//!   `cpol-clone-sync-create`, `-delete-downstream`, `-delete-source`,
//!   `cpol-clone-list-sync-update-source`);
//! - mutate (`docs/policy-types/cluster-policy/mutate`,
//!   `docs/policy-types/mutating-policy`): at admission, a matching
//!   ServiceAccount created or updated is patched (RFC 6902, applied here
//!   as the API server's JSON patch applies it: an `add` to `…/-` of a
//!   list that is missing fails) when the rule's preconditions hold; a
//!   mutate-existing rule (`targets` with `mutateExistingOnPolicyUpdate`,
//!   or `evaluation.mutateExisting`) patches those that exist when the
//!   policy comes, and later changes in the background;
//! - the background controller acts only with the rights its aggregated
//!   ClusterRoles give (`rbac.kyverno.io/aggregate-to-background-controller`;
//!   Kyverno checks them when such a policy is created): without them
//!   the policy is left not ready and nothing is generated.
//!
//! Preconditions are read in the JMESPath forms rhpull writes
//! (`{{ length(X.imagePullSecrets || `[]`) }}`,
//! `{{ X.imagePullSecrets[].name || `[]` }}` with `Equals`,
//! `GreaterThan`, `AnyNotIn`); CEL policies in the expressions rhpull
//! writes (`resource.Get(…)`, `generator.Apply(…)`, a name list with
//! `in`, an exclusion list with `exists`, `has(object.imagePullSecrets)`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::res;
use super::state::{Shared, State};
use super::store::{Event, name_of, namespace_of};

/// One generate rule: the source copied into every namespace not excluded.
#[derive(Clone, Debug)]
struct Generate {
    policy: String,
    rule: String,
    source_namespace: String,
    source_name: String,
    exclude: Vec<String>,
    synchronize: bool,
    existing: bool,
}

/// One mutate rule on ServiceAccounts.
#[derive(Clone, Debug)]
struct Mutate {
    names: Vec<String>,
    exclude_namespaces: Vec<String>,
    /// When the patch applies to a service account.
    when: When,
    patch: Patch,
    admission: bool,
    existing: bool,
}

#[derive(Clone, Debug)]
enum When {
    /// JMESPath preconditions, all of them.
    Preconditions(Vec<Value>),
    /// CEL: the secret is not in the list yet.
    NotLinked(String),
}

#[derive(Clone, Debug)]
enum Patch {
    /// RFC 6902 operations.
    Json(Value),
    /// CEL: append `secret`, or add the list where it is missing.
    CelAppend(String),
}

/// Kyverno's wildcards (`*`, `?`) in names.
fn wildcard(pattern: &str, name: &str) -> bool {
    let re = format!(
        "^{}$",
        regex::escape(pattern)
            .replace("\\*", ".*")
            .replace("\\?", ".")
    );
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(name))
}

fn strings(v: &Value) -> Vec<String> {
    (v.as_array().into_iter().flatten())
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn resource_lists(block: &Value, field: &str) -> Vec<String> {
    let mut out = strings(&block["resources"][field]);
    for any in block["any"].as_array().into_iter().flatten() {
        out.extend(strings(&any["resources"][field]));
    }
    out
}

/// The quoted strings of a CEL list literal `['a', 'b']`.
fn cel_list(expr: &str) -> Vec<String> {
    let Some(start) = expr.find('[') else {
        return Vec::new();
    };
    let end = expr[start..].find(']').map_or(expr.len(), |e| start + e);
    (expr[start + 1..end].split(','))
        .map(|s| s.trim().trim_matches('\'').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A ClusterPolicy's rules, as the world reads them.
fn read_cluster_policy(p: &Value, generates: &mut Vec<Generate>, mutates: &mut Vec<Mutate>) {
    let policy = name_of(p);
    for rule in p
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let rule_name = rule["name"].as_str().unwrap_or_default().to_string();
        let kinds = resource_lists(&rule["match"], "kinds");
        if let Some(clone) = rule["generate"].get("clone") {
            let target_ns = rule["generate"]["namespace"].as_str().unwrap_or_default();
            if !kinds.iter().any(|k| k == "Namespace")
                || target_ns.replace(' ', "") != "{{request.object.metadata.name}}"
            {
                eprintln!("world kyverno: {policy}/{rule_name}: a generate rule it cannot read");
                continue;
            }
            generates.push(Generate {
                policy: policy.clone(),
                rule: rule_name,
                source_namespace: clone["namespace"].as_str().unwrap_or_default().into(),
                source_name: clone["name"].as_str().unwrap_or_default().into(),
                exclude: resource_lists(&rule["exclude"], "names"),
                synchronize: rule["generate"]["synchronize"] == true,
                existing: rule["generate"]["generateExisting"] == true
                    || p.pointer("/spec/generateExisting") == Some(&json!(true)),
            });
        } else if let Some(patch) = rule["mutate"]["patchesJson6902"].as_str() {
            if !kinds.iter().any(|k| k == "ServiceAccount") {
                continue;
            }
            let Ok(ops) = serde_saphyr::from_str::<Value>(patch) else {
                eprintln!("world kyverno: {policy}/{rule_name}: patchesJson6902 is not YAML");
                continue;
            };
            let targets = rule["mutate"]["targets"].as_array();
            let preconditions = match targets.and_then(|t| t.first()) {
                Some(t) => &t["preconditions"],
                None => &rule["preconditions"],
            };
            mutates.push(Mutate {
                names: resource_lists(&rule["match"], "names"),
                exclude_namespaces: resource_lists(&rule["exclude"], "namespaces"),
                when: When::Preconditions(
                    preconditions["all"].as_array().cloned().unwrap_or_default(),
                ),
                patch: Patch::Json(ops),
                admission: targets.is_none(),
                existing: targets.is_some()
                    && rule["mutate"]["mutateExistingOnPolicyUpdate"] == true,
            });
        }
    }
}

/// The CEL `expression` of each entry of the list at `at` in policy `p`.
fn expressions<'a>(p: &'a Value, at: &str) -> impl Iterator<Item = &'a str> {
    (p.pointer(at)
        .and_then(Value::as_array)
        .into_iter()
        .flatten())
    .filter_map(|x| x["expression"].as_str())
}

/// `spec.evaluation.FEATURE.enabled` of a CEL policy.
fn evaluation_enabled(p: &Value, feature: &str) -> bool {
    p.pointer(&format!("/spec/evaluation/{feature}/enabled")) == Some(&json!(true))
}

fn read_generating_policy(p: &Value, generates: &mut Vec<Generate>) {
    let policy = name_of(p);
    let get = regex::Regex::new(r#"resource\.Get\("v1", "secrets", "([^"]+)", "([^"]+)"\)"#)
        .expect("regex");
    let source = expressions(p, "/spec/variables").find_map(|e| {
        get.captures(e)
            .map(|c| (c[1].to_string(), c[2].to_string()))
    });
    let applies = expressions(p, "/spec/generate")
        .any(|e| e.starts_with("generator.Apply(object.metadata.name,"));
    let Some((source_namespace, source_name)) = source.filter(|_| applies) else {
        eprintln!("world kyverno: {policy}: a GeneratingPolicy it cannot read");
        return;
    };
    let exclude = expressions(p, "/spec/matchConditions")
        .find(|e| e.starts_with("![") && e.contains("object.metadata.name"))
        .map(cel_list)
        .unwrap_or_default();
    generates.push(Generate {
        policy: policy.clone(),
        rule: policy,
        source_namespace,
        source_name,
        exclude,
        synchronize: evaluation_enabled(p, "synchronize"),
        existing: evaluation_enabled(p, "generateExisting"),
    });
}

fn read_mutating_policy(p: &Value, mutates: &mut Vec<Mutate>) {
    let policy = name_of(p);
    let conditions: Vec<&str> = expressions(p, "/spec/matchConditions").collect();
    let names = conditions
        .iter()
        .find(|e| e.starts_with("object.metadata.name in ["))
        .map(|e| cel_list(e))
        .unwrap_or_default();
    let exclude_namespaces = conditions
        .iter()
        .find(|e| e.starts_with("![") && e.contains("object.metadata.namespace"))
        .map(|e| cel_list(e))
        .unwrap_or_default();
    let linked = regex::Regex::new(r"s\.name == '([^']+)'").expect("regex");
    let secret = conditions
        .iter()
        .find_map(|e| linked.captures(e).map(|c| c[1].to_string()));
    let expression = p
        .pointer("/spec/mutations/0/jsonPatch/expression")
        .and_then(Value::as_str);
    let appends = expression.is_some_and(|e| {
        e.starts_with("has(object.imagePullSecrets) ?") && e.contains("/imagePullSecrets/-")
    });
    let (Some(secret), true) = (secret, appends) else {
        eprintln!("world kyverno: {policy}: a MutatingPolicy it cannot read");
        return;
    };
    mutates.push(Mutate {
        names,
        exclude_namespaces,
        when: When::NotLinked(secret.clone()),
        patch: Patch::CelAppend(secret),
        admission: !p
            .pointer("/spec/evaluation/admission/enabled")
            .is_some_and(|v| v == false),
        existing: evaluation_enabled(p, "mutateExisting"),
    });
}

/// Every rule of the policies stored, ready or not.
fn rules(state: &State) -> (Vec<Generate>, Vec<Mutate>) {
    let (mut generates, mut mutates) = (Vec::new(), Vec::new());
    if state.config.kyverno.is_none() {
        return (generates, mutates);
    }
    for (_, p) in state.store.list(res("ClusterPolicy"), None) {
        read_cluster_policy(p, &mut generates, &mut mutates);
    }
    for (_, p) in state.store.list(res("GeneratingPolicy"), None) {
        read_generating_policy(p, &mut generates);
    }
    for (_, p) in state.store.list(res("MutatingPolicy"), None) {
        read_mutating_policy(p, &mut mutates);
    }
    (generates, mutates)
}

/// A JMESPath operand of the forms rhpull writes, on `sa`.
fn operand(v: &Value, sa: &Value) -> Option<Value> {
    let Some(s) = v.as_str() else {
        return Some(v.clone());
    };
    let inner = s
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim()
        .replace(' ', "");
    let list = sa["imagePullSecrets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for subject in ["request.object", "target"] {
        if inner == format!("length({subject}.imagePullSecrets||`[]`)") {
            return Some(json!(list.len()));
        }
        if inner == format!("{subject}.imagePullSecrets[].name||`[]`") {
            return Some(json!(
                list.iter().map(|i| i["name"].clone()).collect::<Vec<_>>()
            ));
        }
    }
    None
}

fn holds(condition: &Value, sa: &Value) -> Option<bool> {
    let key = match &condition["key"] {
        Value::String(s) if s.contains("{{") => operand(&condition["key"], sa)?,
        other => other.clone(),
    };
    let value = operand(&condition["value"], sa)?;
    Some(match condition["operator"].as_str()? {
        "Equals" => key == value,
        "GreaterThan" => key.as_f64()? > value.as_f64()?,
        "AnyNotIn" => !value.as_array()?.contains(&key),
        _ => return None,
    })
}

impl Mutate {
    fn matches(&self, ns: &str, sa: &Value) -> bool {
        let name = name_of(sa);
        self.names.iter().any(|n| wildcard(n, &name))
            && !self.exclude_namespaces.iter().any(|p| wildcard(p, ns))
    }

    /// The patched service account; `None` when the rule does not apply
    /// (or its patch fails, which Kyverno reports and the API server never sees).
    fn patched(&self, sa: &Value) -> Option<Value> {
        let apply = match &self.when {
            When::Preconditions(all) => {
                let mut ok = true;
                for c in all {
                    match holds(c, sa) {
                        Some(h) => ok &= h,
                        None => {
                            eprintln!("world kyverno: a precondition it cannot read: {c}");
                            return None;
                        }
                    }
                }
                ok
            }
            When::NotLinked(secret) => !(sa["imagePullSecrets"].as_array().into_iter().flatten())
                .any(|s| s["name"] == json!(secret)),
        };
        if !apply {
            return None;
        }
        let ops = match &self.patch {
            Patch::Json(ops) => ops.clone(),
            Patch::CelAppend(secret) if sa.get("imagePullSecrets").is_some() => {
                json!([{"op": "add", "path": "/imagePullSecrets/-", "value": {"name": secret}}])
            }
            Patch::CelAppend(secret) => {
                json!([{"op": "add", "path": "/imagePullSecrets", "value": [{"name": secret}]}])
            }
        };
        match super::patch::json_patch(sa, &ops) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("world kyverno: the patch fails: {e}");
                None
            }
        }
    }
}

/// Kyverno's mutating webhook on a ServiceAccount being created or updated
/// (the API server's, or a controller's write through it).
pub fn admit(state: &State, ns: &str, sa: &mut Value) {
    let (_, mutates) = rules(state);
    for m in mutates.iter().filter(|m| m.admission) {
        if m.matches(ns, sa)
            && let Some(patched) = m.patched(sa)
        {
            *sa = patched;
        }
    }
}

/// True when the background controller's aggregated ClusterRoles let it
/// clone Secrets and patch ServiceAccounts.
fn background_may(state: &State) -> bool {
    let label = "rbac.kyverno.io/aggregate-to-background-controller";
    let mut granted: Vec<(String, String)> = Vec::new();
    for (_, role) in state.store.list(res("ClusterRole"), None) {
        if role.pointer(&format!("/metadata/labels/{}", label.replace('/', "~1")))
            != Some(&json!("true"))
        {
            continue;
        }
        for rule in role["rules"].as_array().into_iter().flatten() {
            for r in strings(&rule["resources"]) {
                for v in strings(&rule["verbs"]) {
                    granted.push((r.clone(), v));
                }
            }
        }
    }
    let has = |r: &str, v: &str| granted.iter().any(|(gr, gv)| gr == r && gv == v);
    ["get", "list", "create", "update", "delete"]
        .iter()
        .all(|v| has("secrets", v))
        && ["get", "list", "update"]
            .iter()
            .all(|v| has("serviceaccounts", v))
}

fn labels(g: &Generate, trigger: &str) -> Value {
    json!({
        "app.kubernetes.io/managed-by": "kyverno",
        "generate.kyverno.io/policy-name": g.policy,
        "generate.kyverno.io/policy-namespace": "",
        "generate.kyverno.io/rule-name": g.rule,
        "generate.kyverno.io/source-group": "",
        "generate.kyverno.io/source-version": "v1",
        "generate.kyverno.io/source-kind": "Secret",
        "generate.kyverno.io/source-namespace": g.source_namespace,
        "generate.kyverno.io/source-name": g.source_name,
        "generate.kyverno.io/trigger-group": "",
        "generate.kyverno.io/trigger-version": "v1",
        "generate.kyverno.io/trigger-kind": "Namespace",
        "generate.kyverno.io/trigger-namespace": "",
        "generate.kyverno.io/trigger-name": trigger,
    })
}

/// The copy `g` wants in `ns` (made, or put back as the source has it);
/// the source gone: the copy deleted (synchronize), or left.
fn generate_into(state: &mut State, g: &Generate, ns: &str, events: &mut Vec<Arc<Event>>) {
    if ns == g.source_namespace || g.exclude.iter().any(|p| wildcard(p, ns)) {
        return;
    }
    let secrets = res("Secret");
    let source = state
        .store
        .get(secrets, &g.source_namespace, &g.source_name)
        .cloned();
    let current = state.store.get(secrets, ns, &g.source_name).cloned();
    match (source, current) {
        (None, Some(c)) if g.synchronize && is_copy(&c, g) => {
            events.extend(
                state
                    .store
                    .remove(secrets, ns, &g.source_name, false)
                    .and_then(|(_, e)| e),
            );
        }
        (None, _) => {}
        (Some(src), current) => {
            let wanted = json!({
                "metadata": {"name": g.source_name, "labels": labels(g, ns)},
                "type": src["type"],
                "data": src["data"],
            });
            match current {
                None => {
                    let (_, e) = state.store.insert_new(secrets, ns, wanted, false);
                    events.extend(e);
                }
                // Kept in sync only with synchronize, and only its own copy.
                Some(c) if g.synchronize && is_copy(&c, g) => {
                    let mut next = c.clone();
                    next["type"] = wanted["type"].clone();
                    next["data"] = wanted["data"].clone();
                    let (_, e) = state.store.replace(secrets, ns, &c, next, false);
                    events.extend(e);
                }
                Some(_) => {}
            }
        }
    }
}

fn is_copy(secret: &Value, g: &Generate) -> bool {
    secret.pointer("/metadata/labels/generate.kyverno.io~1policy-name") == Some(&json!(g.policy))
}

fn namespaces(state: &State) -> Vec<String> {
    state
        .store
        .list(res("Namespace"), None)
        .map(|(_, v)| name_of(v))
        .collect()
}

/// The mutate-existing rules on every matching service account there.
fn mutate_existing(
    state: &mut State,
    mutates: &[Mutate],
    only: Option<(&str, &str)>,
    events: &mut Vec<Arc<Event>>,
) {
    let sa_res = res("ServiceAccount");
    let all: Vec<(String, Value)> = state
        .store
        .list(sa_res, None)
        .map(|(k, v)| (k.1.clone(), v.clone()))
        .filter(|(ns, v)| only.is_none_or(|(ons, on)| ons == ns && name_of(v) == on))
        .collect();
    for (ns, sa) in all {
        let mut next = sa.clone();
        for m in mutates.iter().filter(|m| m.existing) {
            if m.matches(&ns, &next)
                && let Some(p) = m.patched(&next)
            {
                next = p;
            }
        }
        if next != sa {
            let (_, e) = state.store.replace(sa_res, &ns, &sa, next, false);
            events.extend(e);
        }
    }
}

/// The background controller, woken by an event.
pub async fn on_event(shared: &Shared, e: &Event) {
    let delay = {
        let s = shared.lock();
        if s.config.kyverno.is_none() {
            return;
        }
        s.config.controller_delay
    };
    let kind = e.resource.kind;
    let relevant = matches!(
        kind,
        "ClusterPolicy"
            | "GeneratingPolicy"
            | "MutatingPolicy"
            | "ClusterRole"
            | "Namespace"
            | "Secret"
            | "ServiceAccount"
    );
    if !relevant {
        return;
    }
    tokio::time::sleep(delay).await;
    let mut events = Vec::new();
    {
        let mut s = shared.lock();
        if !background_may(&s) {
            return;
        }
        let (generates, mutates) = rules(&s);
        let (ns, name) = (namespace_of(&e.object), name_of(&e.object));
        match kind {
            // A policy (or the rights it needs) came or changed: the
            // existing namespaces and service accounts.
            "ClusterPolicy" | "GeneratingPolicy" | "MutatingPolicy" | "ClusterRole" => {
                for g in generates.iter().filter(|g| g.existing) {
                    for n in namespaces(&s) {
                        generate_into(&mut s, g, &n, &mut events);
                    }
                }
                mutate_existing(&mut s, &mutates, None, &mut events);
            }
            "Namespace" if e.kind == "ADDED" => {
                for g in &generates {
                    generate_into(&mut s, g, &name, &mut events);
                }
            }
            "Secret" => {
                for g in generates.iter().filter(|g| g.synchronize) {
                    if ns == g.source_namespace && name == g.source_name {
                        for n in namespaces(&s) {
                            generate_into(&mut s, g, &n, &mut events);
                        }
                    } else if name == g.source_name
                        && (e.kind == "DELETED" || is_copy(&e.object, g))
                    {
                        generate_into(&mut s, g, &ns, &mut events);
                    }
                }
            }
            "ServiceAccount" if e.kind != "DELETED" => {
                mutate_existing(&mut s, &mutates, Some((&ns, &name)), &mut events);
            }
            _ => {}
        }
    }
    for e in events {
        shared.publish(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions_in_rhpulls_forms_are_read_and_others_are_not() {
        let sa = json!({"metadata": {"name": "default"}, "imagePullSecrets": [{"name": "a"}]});
        let count = json!({"key": "{{ length(request.object.imagePullSecrets || `[]`) }}", "operator": "GreaterThan", "value": 0});
        assert_eq!(holds(&count, &sa), Some(true));
        let missing = json!({"key": "b", "operator": "AnyNotIn", "value": "{{ target.imagePullSecrets[].name || `[]` }}"});
        assert_eq!(holds(&missing, &sa), Some(true));
        let present = json!({"key": "a", "operator": "AnyNotIn", "value": "{{ target.imagePullSecrets[].name || `[]` }}"});
        assert_eq!(holds(&present, &sa), Some(false));
        let other = json!({"key": "{{ request.object.metadata.name }}", "operator": "Equals", "value": "x"});
        assert_eq!(holds(&other, &sa), None);
        assert!(wildcard("kube-*", "kube-system") && !wildcard("kube-*", "team"));
        assert_eq!(cel_list("!['kube-*', 'x'].exists(p, …)"), ["kube-*", "x"]);
    }

    #[test]
    fn an_append_to_a_missing_list_fails_as_json_patch_does() {
        let m = Mutate {
            names: vec!["default".into()],
            exclude_namespaces: Vec::new(),
            when: When::Preconditions(Vec::new()),
            patch: Patch::Json(
                json!([{"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "s"}}]),
            ),
            admission: true,
            existing: false,
        };
        assert!(
            m.patched(&json!({"metadata": {"name": "default"}}))
                .is_none()
        );
        let linked = m.patched(
            &json!({"metadata": {"name": "default"}, "imagePullSecrets": [{"name": "o"}]}),
        );
        assert_eq!(
            linked.expect("patched")["imagePullSecrets"],
            json!([{"name": "o"}, {"name": "s"}])
        );
    }
}
