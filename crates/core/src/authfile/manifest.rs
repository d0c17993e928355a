//! Credential files people download, recognised by content, not by name:
//! a containers `auth.json` or docker `config.json` (`{"auths": …}`), a
//! legacy `.dockercfg` (a flat map), or a Kubernetes Secret manifest in YAML
//! or JSON — one document or a `List` — as the Registry Service Account
//! page's "OpenShift Secret" tab gives (`<account>-secret.yml`).

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::{AuthFile, AuthFileError, AuthFormat};

/// What a credential file turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recognised {
    AuthFile(AuthFormat),
    /// A Secret manifest; the names of the secrets whose data was read.
    SecretManifest(Vec<String>),
}

/// The most a credential file may hold: real ones are a few KB, and
/// anything larger is refused before it is parsed.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The deepest `{`/`[` nesting a credential file has (a Secret manifest's
/// data sits at depth 3 or 4). Deeper input is not parsed as YAML at all:
/// libyaml rescans its stack of open flow levels for every token, which
/// makes deep nesting quadratic.
const MAX_DEPTH: usize = 64;

/// Why a file was not a credential file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(transparent)]
    AuthFile(#[from] AuthFileError),
    #[error("{path} is larger than {limit} bytes, more than any credential file")]
    TooLarge {
        path: std::path::PathBuf,
        limit: usize,
    },
    #[error("{path} is {found}, not a registry credential file")]
    Unrecognised {
        path: std::path::PathBuf,
        found: String,
    },
}

fn secret_items(doc: &Value) -> Vec<&Value> {
    match doc.get("kind").and_then(Value::as_str) {
        Some("Secret") => vec![doc],
        Some("List") | Some("SecretList") => doc
            .get("items")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter(|i| i.get("kind").and_then(Value::as_str) == Some("Secret"))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The deepest nesting of `{` and `[` outside quoted strings, in one pass.
fn flow_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &b in bytes {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if b == b'\\' && q == b'"' {
                    escaped = true;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'{' | b'[' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

/// Reads any accepted credential file into one auth file of `modern` format.
/// Linear in the input: at most [`MAX_BYTES`], JSON first (serde_json is
/// linear and bounds its own depth), YAML only when not nested deeper than
/// any credential file.
pub fn read_any(
    path: &Path,
    bytes: &[u8],
    modern: AuthFormat,
) -> Result<(AuthFile, Recognised), ManifestError> {
    if bytes.len() > MAX_BYTES {
        return Err(ManifestError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_BYTES,
        });
    }
    // Auth files first: they are JSON objects without "kind".
    let as_json: Option<Value> = serde_json::from_slice(bytes).ok();
    let docs: Vec<Value> = match &as_json {
        Some(v) => vec![v.clone()],
        None if flow_depth(bytes) > MAX_DEPTH => {
            return Err(ManifestError::Unrecognised {
                path: path.to_path_buf(),
                found: "data nested deeper than any credential file".into(),
            });
        }
        None => yaml_documents(bytes),
    };
    let secrets: Vec<&Value> = docs.iter().flat_map(secret_items).collect();
    if !secrets.is_empty() {
        return merge_secrets(path, &secrets, modern);
    }
    if as_json.as_ref().is_some_and(|v| v.get("kind").is_none()) || docs.is_empty() {
        let file = AuthFile::detect(path, bytes, modern)?;
        let format = file.format();
        return Ok((file, Recognised::AuthFile(format)));
    }
    let found = docs
        .first()
        .and_then(|d| d.get("kind").and_then(Value::as_str))
        .map_or_else(
            || "YAML without a Secret".to_string(),
            |k| format!("a Kubernetes {k}"),
        );
    Err(ManifestError::Unrecognised {
        path: path.to_path_buf(),
        found,
    })
}

/// The YAML documents of `bytes`, up to the first that does not parse,
/// and at most 1,000 of them (a YAML document iterator that does not end by
/// itself after an error was found by fuzzing: `a: [`).
fn yaml_documents(bytes: &[u8]) -> Vec<Value> {
    let mut reader = std::io::Cursor::new(bytes);
    serde_saphyr::read::<_, Value>(&mut reader)
        .take(1000)
        .map_while(Result::ok)
        .collect()
}

/// Every login of the pull secrets in a manifest, merged into one file.
fn merge_secrets(
    path: &Path,
    secrets: &[&Value],
    modern: AuthFormat,
) -> Result<(AuthFile, Recognised), ManifestError> {
    let mut merged = AuthFile::new_empty(path, modern);
    let mut names = Vec::new();
    for s in secrets {
        let name = s
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let (key, format) = match s.get("type").and_then(Value::as_str) {
            Some("kubernetes.io/dockercfg") => (".dockercfg", AuthFormat::LegacyDockercfg),
            _ => (".dockerconfigjson", AuthFormat::Docker),
        };
        // `data` is base64; `stringData` is plain.
        let raw = match (
            s.pointer(&format!("/data/{}", key.replace('/', "~1"))),
            s.pointer(&format!("/stringData/{key}")),
        ) {
            (Some(Value::String(b64)), _) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| AuthFileError::BadBase64 {
                    path: path.to_path_buf(),
                    key: format!("secret {name} data[{key}]"),
                })?,
            (_, Some(Value::String(text))) => text.clone().into_bytes(),
            _ => continue,
        };
        let label = path.join(format!("secret:{name}"));
        let inner = AuthFile::parse(&label, format, &raw)?;
        for e in inner.entries()? {
            merged.set_in_secret(&e.credential());
        }
        names.push(name);
    }
    Ok((merged, Recognised::SecretManifest(names)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn the_portals_secret_yaml_is_read() {
        let cfg = format!(
            r#"{{"auths":{{"registry.redhat.io":{{"auth":"{}"}}}}}}"#,
            b64("1234567|sa:tok")
        );
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: 1234567-sa-pull-secret\ndata:\n  .dockerconfigjson: {}\ntype: kubernetes.io/dockerconfigjson\n",
            b64(&cfg)
        );
        let (file, what) = read_any(
            Path::new("sa-secret.yml"),
            yaml.as_bytes(),
            AuthFormat::Containers,
        )
        .unwrap();
        assert_eq!(
            what,
            Recognised::SecretManifest(vec!["1234567-sa-pull-secret".into()])
        );
        assert_eq!(
            file.get("registry.redhat.io").unwrap().unwrap().username,
            "1234567|sa"
        );
    }

    #[test]
    fn lists_json_and_legacy_secrets() {
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            {"kind": "Secret", "metadata": {"name": "a"}, "type": "kubernetes.io/dockercfg",
             "data": {".dockercfg": b64(&format!(r#"{{"quay.io":{{"auth":"{}"}}}}"#, b64("q:p")))}},
            {"kind": "ConfigMap", "metadata": {"name": "ignored"}},
        ]});
        let (file, what) = read_any(
            Path::new("l.json"),
            list.to_string().as_bytes(),
            AuthFormat::Containers,
        )
        .unwrap();
        assert_eq!(what, Recognised::SecretManifest(vec!["a".into()]));
        assert_eq!(file.get("quay.io").unwrap().unwrap().username, "q");
    }

    #[test]
    fn auth_files_pass_through_and_other_things_are_named() {
        let (_, what) = read_any(
            Path::new("auth.json"),
            br#"{"auths":{}}"#,
            AuthFormat::Containers,
        )
        .unwrap();
        assert_eq!(what, Recognised::AuthFile(AuthFormat::Containers));
        let err = read_any(
            Path::new("cm.yaml"),
            b"kind: ConfigMap\nmetadata: {name: x}\n",
            AuthFormat::Containers,
        )
        .unwrap_err();
        assert!(err.to_string().contains("a Kubernetes ConfigMap"), "{err}");
    }
}

/// Regression tests for inputs the fuzzer found.
#[cfg(test)]
mod fuzz_regressions {
    #[test]
    fn malformed_yaml_ends_quickly() {
        for input in [
            "a: [",
            ":",
            "- x\n- : :",
            "kind: Secret\n  bad: indent\n x",
            "\t",
            "{",
            "--- a\n--- [\n",
        ] {
            let started = std::time::Instant::now();
            let _ = super::read_any(
                std::path::Path::new("x"),
                input.as_bytes(),
                super::AuthFormat::Containers,
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "{input:?}"
            );
        }
    }
}

/// Inputs that once took quadratic time (libyaml on deep flow nesting):
/// refused by size or depth before any YAML is parsed. How long they take
/// is measured by `cargo xtask bench`, not here.
#[cfg(test)]
mod pathological {
    use super::*;

    fn read(input: &[u8]) -> Result<(AuthFile, Recognised), ManifestError> {
        read_any(Path::new("x"), input, AuthFormat::Containers)
    }

    /// `unit` repeated to just under `bytes`.
    pub(super) fn repeated(unit: &str, bytes: usize) -> Vec<u8> {
        unit.repeat(bytes / unit.len()).into_bytes()
    }

    #[test]
    fn deep_nesting_is_refused_before_yaml_and_big_files_before_anything() {
        for unit in [r#"{"auths":{"#, "[", "{a: ", r#"{"a":["#] {
            let err = read(&repeated(unit, MAX_BYTES)).unwrap_err();
            assert!(
                matches!(&err, ManifestError::Unrecognised { found, .. } if found.contains("nested")),
                "{unit:?}: {err}"
            );
        }
        let err = read(&repeated(r#"{"auths":{"#, MAX_BYTES + 16)).unwrap_err();
        assert!(matches!(err, ManifestError::TooLarge { .. }), "{err}");
        // Brackets inside quoted strings do not count.
        assert_eq!(flow_depth(br#"{"a": "[[[[", 'b': '{{{'}"#), 1);
        assert_eq!(flow_depth(br#"{"a\"[": [1]}"#), 2);
    }
}
