//! The three patch types the API server accepts: JSON patch (RFC 6902),
//! JSON merge patch (RFC 7386), and strategic merge patch with the real
//! patch strategies of the fields rhpull touches. In particular
//! `ServiceAccount.secrets` merges by `name` while
//! `ServiceAccount.imagePullSecrets` has no merge key and is *replaced* —
//! the pitfall that makes a naive `kubectl patch sa` drop existing entries.

use serde_json::{Map, Value};

/// `(kind, field path)` → merge key for lists that merge; `None` key marks a
/// list of primitives merged as a set.
const MERGE_KEYS: &[(&str, &[&str], Option<&str>)] = &[
    ("ServiceAccount", &["secrets"], Some("name")),
    ("Pod", &["spec", "containers"], Some("name")),
    ("Pod", &["spec", "initContainers"], Some("name")),
    ("Pod", &["spec", "imagePullSecrets"], Some("name")),
    ("Pod", &["spec", "volumes"], Some("name")),
    ("*", &["metadata", "ownerReferences"], Some("uid")),
    ("*", &["metadata", "finalizers"], None),
];

fn merge_rule(kind: &str, path: &[String]) -> Option<Option<&'static str>> {
    MERGE_KEYS
        .iter()
        .find(|(k, p, _)| {
            (*k == kind || *k == "*")
                && p.len() == path.len()
                && p.iter().zip(path).all(|(a, b)| a == b)
        })
        .map(|(_, _, key)| *key)
}

/// RFC 7386.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = target.as_object().cloned().unwrap_or_default();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Strategic merge patch for an object of `kind`.
pub fn strategic_merge(kind: &str, original: &Value, patch: &Value) -> Result<Value, String> {
    merge_object(kind, &mut Vec::new(), original, patch)
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn merge_object(
    kind: &str,
    path: &mut Vec<String>,
    original: &Value,
    patch: &Value,
) -> Result<Value, String> {
    let Value::Object(p) = patch else {
        return Ok(patch.clone());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => return Ok(strip_directives(patch)),
        Some("delete") => return Ok(Value::Null),
        Some(other) => return Err(format!("unknown patch directive $patch: {other}")),
        None => {}
    }
    let mut out: Map<String, Value> = original.as_object().cloned().unwrap_or_default();
    for (k, v) in p {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(remove)) = (out.get_mut(field), v) {
                list.retain(|x| !remove.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue; // $setElementOrder/…, $retainKeys: ordering hints
        }
        if v.is_null() {
            out.remove(k);
            continue;
        }
        path.push(k.clone());
        let merged = match (out.get(k), v) {
            (Some(orig @ Value::Object(_)), Value::Object(_)) => merge_object(kind, path, orig, v)?,
            (Some(Value::Array(orig)), Value::Array(items)) => merge_list(kind, path, orig, items)?,
            (_, Value::Array(items)) if merge_rule(kind, path).is_some() => {
                merge_list(kind, path, &[], items)?
            }
            _ => strip_directives(v),
        };
        path.pop();
        if merged.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), merged);
        }
    }
    Ok(Value::Object(out))
}

fn merge_list(
    kind: &str,
    path: &mut Vec<String>,
    orig: &[Value],
    items: &[Value],
) -> Result<Value, String> {
    match merge_rule(kind, path) {
        // No strategy: the patch's list replaces the original.
        None => Ok(Value::Array(items.iter().map(strip_directives).collect())),
        // A set of primitives.
        Some(None) => {
            let mut out = orig.to_vec();
            for i in items {
                if !out.contains(i) {
                    out.push(i.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Some(Some(key)) => {
            let mut out = orig.to_vec();
            for item in items {
                let Some(id) = item.get(key) else {
                    return Err(format!(
                        "map: {item} does not contain declared merge key: {key}"
                    ));
                };
                let pos = out.iter().position(|o| o.get(key) == Some(id));
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        out.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => {
                        let merged = merge_object(kind, path, &out[i], item)?;
                        out[i] = merged;
                    }
                    (None, false) => out.push(strip_directives(item)),
                }
            }
            Ok(Value::Array(out))
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("path element {t:?} does not exist"))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("{t:?} is not an array index"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("index {i} out of range"))?
            }
            _ => return Err(format!("cannot descend into {t:?}")),
        };
    }
    Ok(cur)
}

fn get(doc: &Value, path: &str) -> Result<Value, String> {
    let mut cur = doc;
    for t in split_pointer(path)? {
        cur = match cur {
            Value::Object(m) => m
                .get(&t)
                .ok_or_else(|| format!("path {path:?} does not exist"))?,
            Value::Array(a) => a
                .get(
                    t.parse::<usize>()
                        .map_err(|_| format!("bad index in {path:?}"))?,
                )
                .ok_or_else(|| format!("path {path:?} does not exist"))?,
            _ => return Err(format!("path {path:?} does not exist")),
        };
    }
    Ok(cur.clone())
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let tokens = split_pointer(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parents)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("{last:?} is not an array index"))?;
            if i > a.len() {
                return Err(format!("index {i} out of range"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("cannot add at {path:?}")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let tokens = split_pointer(path)?;
    let (last, parents) = tokens.split_last().ok_or("cannot remove the root")?;
    match parent_mut(doc, parents)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("{last:?} is not an array index"))?;
            if i >= a.len() {
                return Err(format!("index {i} out of range"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("cannot remove {path:?}")),
    }
}

/// RFC 6902.
pub fn json_patch(doc: &Value, ops: &Value) -> Result<Value, String> {
    let ops = ops
        .as_array()
        .ok_or("a JSON patch is an array of operations")?;
    let mut doc = doc.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("operation without \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{name} without \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name} without \"from\""))
        };
        match name {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value()?)?;
            }
            "move" => {
                let v = remove(&mut doc, from()?)?;
                add(&mut doc, path, v)?;
            }
            "copy" => {
                let v = get(&doc, from()?)?;
                add(&mut doc, path, v)?;
            }
            "test" => {
                if get(&doc, path)? != value()? {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind of operation: {other}")),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn service_account_secrets_merge_by_name_but_image_pull_secrets_are_replaced() {
        let sa = json!({"secrets": [{"name": "a"}], "imagePullSecrets": [{"name": "a-dockercfg"}]});
        let patch = json!({"secrets": [{"name": "b"}], "imagePullSecrets": [{"name": "b"}]});
        let out = strategic_merge("ServiceAccount", &sa, &patch).unwrap();
        assert_eq!(out["secrets"], json!([{"name": "a"}, {"name": "b"}]));
        // The pitfall: the dockercfg entry is gone.
        assert_eq!(out["imagePullSecrets"], json!([{"name": "b"}]));
    }

    #[test]
    fn smp_directives_and_maps() {
        let o = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "secrets": [{"name": "x"}, {"name": "y"}]});
        let p = json!({"metadata": {"labels": {"a": null, "c": "3"}}, "secrets": [{"name": "x", "$patch": "delete"}],
                       "$setElementOrder/secrets": [{"name": "y"}]});
        let out = strategic_merge("ServiceAccount", &o, &p).unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"b": "2", "c": "3"}));
        assert_eq!(out["secrets"], json!([{"name": "y"}]));
        let out = strategic_merge(
            "ServiceAccount",
            &o,
            &json!({"metadata": {"$patch": "replace", "name": "n"}}),
        )
        .unwrap();
        assert_eq!(out["metadata"], json!({"name": "n"}));
        assert!(
            strategic_merge("ServiceAccount", &o, &json!({"secrets": [{"noname": 1}]})).is_err()
        );
    }

    #[test]
    fn merge_patch_rules() {
        let o = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        let out = merge_patch(&o, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(out, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_ops() {
        let o = json!({"imagePullSecrets": [{"name": "a"}]});
        let out = json_patch(
            &o,
            &json!([{"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "b"}}]),
        )
        .unwrap();
        assert_eq!(
            out["imagePullSecrets"],
            json!([{"name": "a"}, {"name": "b"}])
        );
        let out = json_patch(&out, &json!([{"op": "remove", "path": "/imagePullSecrets/0"},
                                           {"op": "test", "path": "/imagePullSecrets/0/name", "value": "b"},
                                           {"op": "copy", "from": "/imagePullSecrets", "path": "/secrets"},
                                           {"op": "move", "from": "/secrets", "path": "/x~1y"}])).unwrap();
        assert_eq!(
            out,
            json!({"imagePullSecrets": [{"name": "b"}], "x/y": [{"name": "b"}]})
        );
        assert!(json_patch(&out, &json!([{"op": "test", "path": "/x~1y", "value": 1}])).is_err());
        assert!(json_patch(&out, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
