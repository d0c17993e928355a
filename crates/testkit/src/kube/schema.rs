//! A custom resource checked against its CRD's `openAPIV3Schema`, as the
//! API server checks one (apiextensions-apiserver's structural schemas):
//! types, `required`, `enum`, `pattern`, lengths, item counts, bounds,
//! `oneOf`, `additionalProperties`, `x-kubernetes-preserve-unknown-fields`
//! and `x-kubernetes-int-or-string`. Defaults are filled in; fields the
//! schema does not know are pruned and reported, so that a strict request
//! (`fieldValidation=Strict`, kubectl's default) can refuse them; `null`
//! where the schema does not allow it is dropped. `metadata` is the API
//! server's own business and is not checked here.

use serde_json::{Map, Value};

/// What is wrong with an object.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Problems {
    /// `(field path, message)` in the API server's words.
    pub invalid: Vec<(String, String)>,
    /// Paths of fields the schema does not declare (pruned).
    pub unknown: Vec<String>,
}

/// Checks `obj` against `schema` (the whole object's), defaulting and
/// pruning it in place.
pub fn check(schema: &Value, obj: &mut Value) -> Problems {
    let mut p = Problems::default();
    let Some(fields) = obj.as_object_mut() else {
        p.invalid.push((String::new(), "must be an object".into()));
        return p;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    for (key, value) in fields.iter_mut() {
        if matches!(key.as_str(), "metadata" | "apiVersion" | "kind") {
            continue;
        }
        match props.and_then(|p| p.get(key)) {
            Some(s) => walk(s, value, key, &mut p),
            None => p.unknown.push(key.clone()),
        }
    }
    fields.retain(|k, v| {
        matches!(k.as_str(), "metadata" | "apiVersion" | "kind")
            || (props.is_some_and(|p| p.contains_key(k)) && !v.is_null())
    });
    required(schema, fields, "", &mut p);
    p
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) => "\"object\"".into(),
        Value::Array(_) => "\"array\"".into(),
        other => other.to_string(),
    }
}

fn type_matches(t: &str, v: &Value, int_or_string: bool) -> bool {
    if int_or_string {
        return v.is_string() || v.is_i64() || v.is_u64();
    }
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn required(schema: &Value, fields: &Map<String, Value>, path: &str, p: &mut Problems) {
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !fields.contains_key(r) {
            p.invalid.push((join(path, r), "Required value".into()));
        }
    }
}

/// One value against its schema.
fn walk(schema: &Value, v: &mut Value, path: &str, p: &mut Problems) {
    let flag = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
    if let Some(t) = schema.get("type").and_then(Value::as_str)
        && !v.is_null()
        && !type_matches(t, v, flag("x-kubernetes-int-or-string"))
    {
        let message = format!(
            "Invalid value: {}: {path} in body must be of type {t}: {}",
            shown(v),
            shown(v)
        );
        p.invalid.push((path.to_string(), message));
        return;
    }
    scalar_rules(schema, v, path, p);
    one_of(schema, v, path, p);
    match v {
        Value::Object(fields) => object(
            schema,
            fields,
            path,
            p,
            flag("x-kubernetes-preserve-unknown-fields"),
        ),
        Value::Array(items) => {
            let count = |k: &str| schema.get(k).and_then(Value::as_u64);
            let n = items.len() as u64;
            if count("minItems").is_some_and(|m| n < m) {
                let m = count("minItems").unwrap_or_default();
                p.invalid.push((
                    path.to_string(),
                    format!("Invalid value: {n}: {path} in body should have at least {m} items"),
                ));
            }
            if count("maxItems").is_some_and(|m| n > m) {
                let m = count("maxItems").unwrap_or_default();
                p.invalid.push((
                    path.to_string(),
                    format!("Too many: {n}: must have at most {m} items"),
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), p);
                }
            }
        }
        _ => {}
    }
}

fn object(
    schema: &Value,
    fields: &mut Map<String, Value>,
    path: &str,
    p: &mut Problems,
    preserve: bool,
) {
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    if props.is_none() && additional.is_none() && (preserve || schema.get("type").is_none()) {
        required(schema, fields, path, p);
        return;
    }
    let mut drop = Vec::new();
    for (key, value) in fields.iter_mut() {
        let sub = join(path, key);
        match props.and_then(|ps| ps.get(key)).or(additional) {
            Some(s) if value.is_null() && s.get("nullable") != Some(&Value::Bool(true)) => {
                drop.push(key.clone());
            }
            Some(s) => walk(s, value, &sub, p),
            None if preserve => {}
            None => {
                p.unknown.push(sub);
                drop.push(key.clone());
            }
        }
    }
    for k in drop {
        fields.remove(&k);
    }
    for (key, s) in props.into_iter().flatten() {
        if let (false, Some(d)) = (fields.contains_key(key), s.get("default")) {
            fields.insert(key.clone(), d.clone());
        }
    }
    required(schema, fields, path, p);
}

fn scalar_rules(schema: &Value, v: &Value, path: &str, p: &mut Problems) {
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        let list: Vec<String> = options.iter().map(shown).collect();
        let message = format!(
            "Unsupported value: {}: supported values: {}",
            shown(v),
            list.join(", ")
        );
        p.invalid.push((path.to_string(), message));
    }
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as f64;
        if num("minLength").is_some_and(|m| len < m) {
            p.invalid.push((
                path.to_string(),
                format!(
                    "Invalid value: {}: {path} in body should be at least {} chars long",
                    shown(v),
                    num("minLength").unwrap_or_default()
                ),
            ));
        }
        if num("maxLength").is_some_and(|m| len > m) {
            p.invalid.push((
                path.to_string(),
                format!(
                    "Too long: may not be more than {} bytes",
                    num("maxLength").unwrap_or_default()
                ),
            ));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && regex::Regex::new(pattern).is_ok_and(|re| !re.is_match(s))
        {
            p.invalid.push((
                path.to_string(),
                format!(
                    "Invalid value: {}: {path} in body should match '{pattern}'",
                    shown(v)
                ),
            ));
        }
    }
    if let Some(n) = v.as_f64() {
        if num("minimum").is_some_and(|m| n < m) {
            p.invalid.push((
                path.to_string(),
                format!(
                    "Invalid value: {n}: {path} in body should be greater than or equal to {}",
                    num("minimum").unwrap_or_default()
                ),
            ));
        }
        if num("maximum").is_some_and(|m| n > m) {
            p.invalid.push((
                path.to_string(),
                format!(
                    "Invalid value: {n}: {path} in body should be less than or equal to {}",
                    num("maximum").unwrap_or_default()
                ),
            ));
        }
    }
}

/// `oneOf`: exactly one of the branches must hold (each checked on a copy,
/// so a branch's defaults and pruning never leak into the object).
fn one_of(schema: &Value, v: &Value, path: &str, p: &mut Problems) {
    let Some(branches) = schema.get("oneOf").and_then(Value::as_array) else {
        return;
    };
    let holds = |b: &Value| {
        let mut copy = v.clone();
        let mut q = Problems::default();
        let mut branch = b.clone();
        // A branch constrains; it does not declare fields of its own.
        if let Some(m) = branch.as_object_mut() {
            m.insert(
                "x-kubernetes-preserve-unknown-fields".into(),
                Value::Bool(true),
            );
        }
        walk(&branch, &mut copy, path, &mut q);
        q.invalid.is_empty()
    };
    if branches.iter().filter(|b| holds(b)).count() != 1 {
        p.invalid.push((
            path.to_string(),
            format!(
                "Invalid value: {}: must validate one and only one schema (oneOf)",
                shown(v)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({"type": "object", "required": ["spec"], "properties": {
            "spec": {"type": "object", "required": ["mode"],
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
                "properties": {
                    "mode": {"type": "string", "enum": ["Inform", "Enforce"]},
                    "a": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[a-z]+$"}},
                    "b": {"type": "string"},
                    "level": {"type": "string", "default": "medium"},
                    "weight": {"type": "integer", "minimum": -10, "maximum": 10},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "size": {"x-kubernetes-int-or-string": true},
                }},
        }})
    }

    #[test]
    fn a_good_object_is_defaulted_and_keeps_what_it_may() {
        let mut obj = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
            "spec": {"mode": "Inform", "a": ["ok"], "free": {"any": {"thing": 1}},
                     "labels": {"k": "v"}, "size": "10%"}});
        assert_eq!(check(&schema(), &mut obj), Problems::default());
        assert_eq!(obj["spec"]["level"], "medium");
        assert_eq!(obj["spec"]["free"]["any"]["thing"], 1);
        assert_eq!(obj["metadata"]["name"], "n");
    }

    #[test]
    fn each_rule_is_reported_in_the_api_servers_words() {
        let mut obj = json!({"spec": {"mode": "Audit", "a": ["Bad"], "b": "x", "weight": 11,
                                      "labels": {"k": 1}, "extra": true}, "status2": {}});
        let p = check(&schema(), &mut obj);
        let text: Vec<String> = p.invalid.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let all = text.join("\n");
        for expected in [
            "spec.mode: Unsupported value: \"Audit\": supported values: \"Inform\", \"Enforce\"",
            "spec.a[0]: Invalid value: \"Bad\": spec.a[0] in body should match '^[a-z]+$'",
            "spec.weight: Invalid value: 11: spec.weight in body should be less than or equal to 10",
            "spec.labels.k: Invalid value: 1: spec.labels.k in body must be of type string: 1",
            "spec: Invalid value: \"object\": must validate one and only one schema (oneOf)",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in\n{all}");
        }
        assert_eq!(p.unknown, ["spec.extra", "status2"]);
        assert!(obj["spec"].get("extra").is_none(), "pruned");
        let mut empty = json!({"spec": {}});
        let p = check(&schema(), &mut empty);
        assert!(
            p.invalid
                .contains(&("spec.mode".into(), "Required value".into()))
        );
    }
}
