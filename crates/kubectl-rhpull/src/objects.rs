//! Printing Kubernetes objects as kubectl does for `-o json|yaml|name`,
//! with secret data redacted unless `--show-secrets`.

use serde_json::Value;

use crate::cli::ObjectOutput;
use crate::output;

/// The object as JSON with `data` values replaced by `REDACTED`.
pub fn redacted(mut obj: Value, show_secrets: bool) -> Value {
    if !show_secrets
        && obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && let Some(Value::Object(data)) = obj.get_mut("data")
    {
        for v in data.values_mut() {
            *v = Value::String("REDACTED".into());
        }
    }
    obj
}

/// `kind/name` as `kubectl -o name` prints it.
pub fn name_of(obj: &Value) -> String {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    format!("{kind}/{name}")
}

/// Prints objects in a machine format; `false` for table output (the caller prints words).
pub fn print(objects: &[Value], format: ObjectOutput) -> bool {
    match format {
        ObjectOutput::Table => return false,
        ObjectOutput::Name => {
            for o in objects {
                output::print_line(&name_of(o));
            }
        }
        ObjectOutput::Json => {
            if let [one] = objects {
                output::print_json(one);
            } else {
                output::print_json(
                    &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects}),
                );
            }
        }
        ObjectOutput::Yaml => {
            let doc = if let [one] = objects {
                one.clone()
            } else {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects})
            };
            output::print_yaml(&doc);
        }
    }
    true
}

/// A typed object as JSON with apiVersion and kind set.
pub fn to_value<K: serde::Serialize + k8s_openapi::Resource>(obj: &K) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    v["apiVersion"] = Value::String(K::API_VERSION.to_string());
    v["kind"] = Value::String(K::KIND.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_unless_asked() {
        let s = serde_json::json!({"kind": "Secret", "metadata": {"name": "x"}, "data": {".dockerconfigjson": "c2VjcmV0"}});
        assert_eq!(
            redacted(s.clone(), false)["data"][".dockerconfigjson"],
            "REDACTED"
        );
        assert_eq!(
            redacted(s.clone(), true)["data"][".dockerconfigjson"],
            "c2VjcmV0"
        );
        assert_eq!(name_of(&s), "secret/x");
    }
}
