//! Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
//! `a`, `!a`) and field selectors (with `=`, `==`, `!=`) on the fields the
//! real API server lets each resource select on: `metadata.name` and
//! `metadata.namespace` everywhere, a secret's `type`, a pod's
//! `status.phase`, `spec.nodeName` and the like, an event's
//! `involvedObject.*`, `reason`, `type` and `source`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector.
#[derive(Debug, Clone, Default)]
pub struct LabelSelector(Vec<Req>);

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn set(values: &str) -> Option<Vec<String>> {
    let inner = values.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let req = if let Some((k, v)) = part.split_once("!=") {
                Req::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once(" notin ") {
                Req::NotIn(
                    k.trim().into(),
                    set(v).ok_or_else(|| format!("bad set in {part:?}"))?,
                )
            } else if let Some((k, v)) = part.split_once(" in ") {
                Req::In(
                    k.trim().into(),
                    set(v).ok_or_else(|| format!("bad set in {part:?}"))?,
                )
            } else if let Some(k) = part.strip_prefix('!') {
                Req::NotExists(k.trim().into())
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Req::Exists(part)
            } else {
                return Err(format!("unable to parse requirement: {part:?}"));
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::Ne(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector: `(JSON pointer, equal?, value)` triples.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// Where a selectable field of `kind` lives in the object, or `None` when
/// the API server does not let `kind` select on it
/// (`pkg/registry/core/*/strategy.go` `*ToSelectableFields`).
fn field_pointer(kind: &str, field: &str) -> Option<&'static str> {
    let pointer = match (kind, field) {
        (_, "metadata.name") => "/metadata/name",
        (_, "metadata.namespace") => "/metadata/namespace",
        ("Secret", "type") => "/type",
        ("Pod", "status.phase") => "/status/phase",
        ("Pod", "spec.nodeName") => "/spec/nodeName",
        ("Pod", "spec.serviceAccountName") => "/spec/serviceAccountName",
        ("Pod", "spec.restartPolicy") => "/spec/restartPolicy",
        ("Pod", "spec.schedulerName") => "/spec/schedulerName",
        ("Pod", "status.podIP") => "/status/podIP",
        ("Pod", "status.nominatedNodeName") => "/status/nominatedNodeName",
        ("Event", "involvedObject.kind") => "/involvedObject/kind",
        ("Event", "involvedObject.namespace") => "/involvedObject/namespace",
        ("Event", "involvedObject.name") => "/involvedObject/name",
        ("Event", "involvedObject.uid") => "/involvedObject/uid",
        ("Event", "involvedObject.apiVersion") => "/involvedObject/apiVersion",
        ("Event", "involvedObject.resourceVersion") => "/involvedObject/resourceVersion",
        ("Event", "involvedObject.fieldPath") => "/involvedObject/fieldPath",
        ("Event", "reason") => "/reason",
        ("Event", "reportingComponent") => "/reportingComponent",
        ("Event", "source") => "/source/component",
        ("Event", "type") => "/type",
        _ => return None,
    };
    Some(pointer)
}

impl FieldSelector {
    /// Parses a selector for objects of `kind`.
    pub fn parse(s: &str, kind: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in split_top(s) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(format!("invalid selector: {part:?}"));
            };
            let field = field.trim();
            let pointer = field_pointer(kind, field)
                .ok_or_else(|| format!("field label not supported: {field}"))?;
            out.push((pointer.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(out))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(pointer, eq, value)| {
            let actual = obj
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default();
            (actual == value) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        let m = |s| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api)"));
        assert!(!m("tier notin (front)"));
        assert!(m("!missing"));
        assert!(!m("missing"));
        assert!(m(""));
    }

    #[test]
    fn field_selectors() {
        let o = json!({"metadata": {"name": "a", "namespace": "ns"}, "type": "kubernetes.io/dockercfg"});
        let m = |s| FieldSelector::parse(s, "Secret").unwrap().matches(&o);
        assert!(m("metadata.name=a"));
        assert!(m("metadata.namespace!=other,type=kubernetes.io/dockercfg"));
        assert!(!m("metadata.name=b"));
        assert!(FieldSelector::parse("spec.x=1", "Secret").is_err());
        assert!(FieldSelector::parse("type=x", "Pod").is_err());
        let pod = json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}});
        let on_pod = |s| FieldSelector::parse(s, "Pod").unwrap().matches(&pod);
        assert!(on_pod("status.phase!=Succeeded,status.phase!=Failed"));
        assert!(!on_pod("status.phase=Running"));
        let event = json!({"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Failed", "source": {"component": "kubelet"}});
        let on_event = |s| FieldSelector::parse(s, "Event").unwrap().matches(&event);
        assert!(on_event(
            "involvedObject.kind=Pod,involvedObject.name=p,reason=Failed,source=kubelet"
        ));
    }
}
