//! Validation as the API server does it for the objects rhpull writes:
//! DNS-1123 names, secret types and their required keys, immutable fields.

use base64::Engine as _;
use serde_json::Value;

/// A path segment name, as RBAC objects are validated
/// (`path.ValidatePathSegmentName`): not `.` or `..`, no `/` or `%`.
pub fn path_segment(name: &str) -> Option<String> {
    if name == "." || name == ".." {
        return Some(format!("Invalid value: \"{name}\": may not be '{name}'"));
    }
    (name.is_empty() || name.contains('/') || name.contains('%'))
        .then(|| format!("Invalid value: \"{name}\": may not contain '/' or '%'"))
}

/// DNS-1123 subdomain: lowercase alphanumerics, `-` and `.`, at most 253,
/// starting and ending alphanumeric.
pub fn dns1123_subdomain(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    (!ok).then(|| {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    })
}

/// DNS-1123 label (namespaces): as a subdomain, without dots, at most 63.
pub fn dns1123_label(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && !name.contains('.')
        && dns1123_subdomain(name).is_none();
    (!ok).then(|| {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    })
}

fn valid_data_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Folds `stringData` into `data` (base64) as the API server does on write.
pub fn fold_string_data(secret: &mut Value) {
    let Some(Value::Object(string_data)) =
        secret.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    let data = secret
        .as_object_mut()
        .expect("secrets are objects")
        .entry("data")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(map) = data.as_object_mut() {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default().to_string();
            map.insert(
                k,
                Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

fn decoded(secret: &Value, key: &str) -> Option<Vec<u8>> {
    let v = secret.get("data")?.get(key)?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(v).ok()
}

/// Field errors of a secret (after `stringData` was folded in).
pub fn secret(secret: &Value, old: Option<&Value>) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    if let Some(Value::Object(data)) = secret.get("data") {
        for (k, v) in data {
            if !valid_data_key(k) {
                errs.push((format!("data[{k}]"), format!("Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'")));
            }
            let ok = v
                .as_str()
                .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok());
            if !ok {
                errs.push((
                    format!("data[{k}]"),
                    "Invalid value: illegal base64 data".into(),
                ));
            }
        }
    }
    let ty = secret
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Opaque");
    let required = |key: &str, errs: &mut Vec<(String, String)>| match decoded(secret, key) {
        None => errs.push((format!("data[{key}]"), "Required value".into())),
        Some(bytes) => {
            if serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).is_err() {
                errs.push((
                    format!("data[{key}]"),
                    format!("Invalid value: \"<secret contents redacted>\": invalid character in {key} (must be a JSON object)"),
                ));
            }
        }
    };
    match ty {
        "kubernetes.io/dockerconfigjson" => required(".dockerconfigjson", &mut errs),
        "kubernetes.io/dockercfg" => required(".dockercfg", &mut errs),
        "kubernetes.io/basic-auth" | "kubernetes.io/ssh-auth" | "kubernetes.io/tls" | "Opaque" => {}
        // Unknown types are accepted, as the real server does.
        _ => {}
    }
    if let Some(old) = old {
        let old_ty = old.get("type").and_then(Value::as_str).unwrap_or("Opaque");
        if old_ty != ty {
            errs.push((
                "type".into(),
                format!("Invalid value: \"{ty}\": field is immutable"),
            ));
        }
    }
    errs
}

/// Field errors of a RoleBinding / ClusterRoleBinding.
pub fn binding(obj: &Value, old: Option<&Value>) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    let role_ref = obj.get("roleRef");
    for f in ["kind", "name"] {
        if role_ref
            .and_then(|r| r.get(f))
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            errs.push((format!("roleRef.{f}"), "Required value".into()));
        }
    }
    if let Some(old) = old
        && old.get("roleRef") != role_ref
    {
        errs.push((
            "roleRef".into(),
            "Invalid value: cannot change roleRef".into(),
        ));
    }
    if let Some(Value::Array(subjects)) = obj.get("subjects") {
        for (i, s) in subjects.iter().enumerate() {
            if s.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                errs.push((format!("subjects[{i}].name"), "Required value".into()));
            }
            if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && s.get("namespace")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                errs.push((format!("subjects[{i}].namespace"), "Required value".into()));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("1234567-my-sa-pull-secret").is_none());
        assert!(dns1123_subdomain("a.b").is_none());
        assert!(dns1123_subdomain("Bad_Name").is_some());
        assert!(dns1123_subdomain("-a").is_some());
        assert!(dns1123_label("a.b").is_some());
        assert!(dns1123_label(&"a".repeat(64)).is_some());
    }

    #[test]
    fn secret_types() {
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let ok = json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b(r#"{"auths":{}}"#)}});
        assert!(secret(&ok, None).is_empty());
        let missing = json!({"type": "kubernetes.io/dockerconfigjson", "data": {}});
        assert_eq!(secret(&missing, None)[0].0, "data[.dockerconfigjson]");
        let bad = json!({"type": "kubernetes.io/dockercfg", "data": {".dockercfg": b("not json")}});
        assert_eq!(secret(&bad, None).len(), 1);
        let unknown = json!({"type": "kubernetes.io/podmanconfigjson", "data": {}});
        assert!(secret(&unknown, None).is_empty());
        let changed = json!({"type": "Opaque"});
        assert_eq!(secret(&changed, Some(&ok))[0].0, "type");
        let mut sd = json!({"type": "Opaque", "stringData": {"k": "v"}});
        fold_string_data(&mut sd);
        assert_eq!(sd["data"]["k"], b("v"));
        assert!(sd.get("stringData").is_none());
    }
}
