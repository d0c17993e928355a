//! Kubernetes objects as kubectl prints them for `-o json|yaml|name`, with
//! secret data redacted unless `--show-secrets`.

use serde_json::Value;

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
