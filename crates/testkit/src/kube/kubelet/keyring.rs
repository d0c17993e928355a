//! The kubelet's keyring: which credentials it hands the runtime for an
//! image, and in what order. Ported on its own from kubernetes
//! `pkg/credentialprovider/keyring.go` (`BasicDockerKeyring.Add` /
//! `Lookup`, `URLsMatchStr`, `isDefaultRegistryMatch`),
//! `pkg/credentialprovider/config.go` (`DockerConfigEntry`'s `auth`
//! field) and `pkg/credentialprovider/secrets/secrets.go`
//! (`MakeDockerKeyring`: one keyring of every pod secret, then the node's,
//! as a `UnionDockerKeyring`). This is the test world's oracle: it never
//! calls `rhpull-core` or `rhpull-cluster`.
//!
//! - A key is stored schemeless; `/v1/` and `/v2/` path prefixes count as
//!   the bare host (docker's `ResolveAuthConfig`).
//! - The index is deduplicated and sorted in reverse, so that a longer
//!   key (`quay.io/org`) comes before its prefix (`quay.io`); one key's
//!   credentials keep the order their secrets were added in.
//! - A key matches an image when the host has as many dot-separated parts
//!   and each matches as a glob (`*.example.com`), the ports are equal,
//!   and the key's path is a string prefix of the image's path.
//! - With no match, Docker Hub images get `index.docker.io`'s entry.

use base64::Engine as _;
use serde_json::Value;

/// Where a credential came from, as the world reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// One of the pod's `imagePullSecrets`.
    PodSecret { name: String },
    /// The node's own `config.json`.
    Node,
    /// The pod namespace's login that `crio-credential-provider` wrote
    /// for CRI-O (a mirror, where a CRIOCredentialProviderConfig applies).
    Namespace,
}

/// One credential the kubelet may hand the runtime.
#[derive(Clone, PartialEq, Eq)]
pub struct Cred {
    pub username: String,
    pub password: String,
    pub origin: Origin,
    /// The key it is filed under.
    pub key: String,
}

impl std::fmt::Debug for Cred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cred")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("origin", &self.origin)
            .field("key", &self.key)
            .finish()
    }
}

/// Why a pull secret could not be read: the kubelet fails the pull with
/// this (`MakeDockerKeyring` returns the JSON error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// A `BasicDockerKeyring`: keys in reverse order, each with its credentials.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    index: Vec<String>,
    creds: std::collections::HashMap<String, Vec<Cred>>,
}

impl Keyring {
    /// `Add`: every entry of one docker config (`auths` already taken out).
    pub fn add(
        &mut self,
        entries: &serde_json::Map<String, Value>,
        origin: &Origin,
    ) -> Result<(), Unreadable> {
        for (location, entry) in entries {
            let (username, password) = entry_login(entry)?;
            let Some(key) = stored_key(location) else {
                continue;
            };
            self.creds.entry(key.clone()).or_default().push(Cred {
                username,
                password,
                origin: origin.clone(),
                key: key.clone(),
            });
            self.index.push(key);
        }
        self.index.sort();
        self.index.dedup();
        self.index.reverse();
        Ok(())
    }

    /// `Lookup(repository)`: every matching credential, most specific key first.
    pub fn lookup(&self, repository: &str) -> Vec<Cred> {
        let found: Vec<Cred> = self
            .index
            .iter()
            .filter(|key| urls_match(key, repository))
            .flat_map(|key| self.creds[key].iter().cloned())
            .collect();
        if !found.is_empty() {
            return found;
        }
        if is_default_registry_match(repository)
            && let Some(hub) = self.creds.get(DEFAULT_REGISTRY_HOST)
        {
            return hub.clone();
        }
        Vec::new()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

const DEFAULT_REGISTRY_HOST: &str = "index.docker.io";

/// A secret's docker config entries, as `secretsToTrackedDockerConfigs`
/// reads them: `.dockerconfigjson`'s `auths` for that type, `.dockercfg`
/// for the legacy type, nothing for any other type (silently).
pub fn secret_entries(
    secret: &Value,
) -> Result<Option<serde_json::Map<String, Value>>, Unreadable> {
    let data = |key: &str| -> Option<Vec<u8>> {
        let b64 = secret
            .pointer(&format!("/data/{}", key.replace('/', "~1")))?
            .as_str()?;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .filter(|b| !b.is_empty())
    };
    let kind = secret
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (bytes, nested) = match kind {
        "kubernetes.io/dockerconfigjson" => match data(".dockerconfigjson") {
            Some(b) => (b, true),
            None => return Ok(None),
        },
        "kubernetes.io/dockercfg" => match data(".dockercfg") {
            Some(b) => (b, false),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| Unreadable(e.to_string()))?;
    let map = if nested {
        doc.get("auths").cloned().unwrap_or(Value::Null)
    } else {
        doc
    };
    match map {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(Some(serde_json::Map::new())),
        other => Err(Unreadable(format!(
            "json: cannot unmarshal {} into Go value of type credentialprovider.DockerConfig",
            json_kind(&other)
        ))),
    }
}

/// A node's `config.json` (`{"auths": …}`), its entries.
pub fn file_entries(bytes: &[u8]) -> serde_json::Map<String, Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("auths").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        _ => "object",
    }
}

/// `DockerConfigEntry.UnmarshalJSON`: `auth`, when present, is
/// base64(`user:password`) and wins over `username` / `password`.
fn entry_login(entry: &Value) -> Result<(String, String), Unreadable> {
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let auth = field("auth");
    if auth.is_empty() {
        return Ok((field("username"), field("password")));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.as_bytes())
        .map_err(|e| Unreadable(format!("illegal base64 data: {e}")))?;
    let text = String::from_utf8_lossy(&decoded).to_string();
    match text.split_once(':') {
        Some((u, p)) => Ok((u.to_string(), p.trim_matches('\0').to_string())),
        None => Err(Unreadable(
            "unable to parse auth field, must be formatted as base64(username:password)".into(),
        )),
    }
}

/// The key `Add` files a location under, or `None` when Go's URL parser
/// would refuse it (logged and skipped by the kubelet).
fn stored_key(location: &str) -> Option<String> {
    let schemeless = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"))
        .unwrap_or(location);
    if schemeless.contains(char::is_whitespace) {
        return None;
    }
    let (host, path) = split_host_path(schemeless);
    let path = if path.starts_with("/v2/") || path.starts_with("/v1/") {
        &path[3..]
    } else {
        path
    };
    Some(if !path.is_empty() && path != "/" {
        format!("{host}{path}")
    } else {
        host.to_string()
    })
}

/// `host[:port]` and the path that follows (with its leading `/`).
fn split_host_path(s: &str) -> (&str, &str) {
    match s.find('/') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `net.SplitHostPort`, falling back to the whole host and no port.
fn host_parts(host: &str) -> (Vec<&str>, &str) {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((h, p)) => (h, p),
            None => (host, ""),
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            _ => (host, ""),
        }
    };
    (name.split('.').collect(), port)
}

/// `URLsMatchStr(glob, target)`.
pub fn urls_match(glob: &str, target: &str) -> bool {
    let (glob_host, glob_path) = split_host_path(glob);
    let (target_host, target_path) = split_host_path(target);
    let (glob_parts, glob_port) = host_parts(glob_host);
    let (target_parts, target_port) = host_parts(target_host);
    glob_port == target_port
        && glob_parts.len() == target_parts.len()
        && target_path.starts_with(glob_path)
        && glob_parts
            .iter()
            .zip(&target_parts)
            .all(|(g, t)| glob_match(g.as_bytes(), t.as_bytes()))
}

/// `filepath.Match` for one host label: `*` and `?` (no separators occur
/// inside a label).
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_match(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob_match(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob_match(rest, &name[1..]),
    }
}

/// `isDefaultRegistryMatch`.
fn is_default_registry_match(image: &str) -> bool {
    let mut parts = image.splitn(2, '/');
    let first = parts.next().unwrap_or_default();
    if first.is_empty() {
        return false;
    }
    match parts.next() {
        None => true,
        Some(_) => {
            first == "docker.io" || first == "index.docker.io" || !first.contains(['.', ':'])
        }
    }
}

/// `reference.ParseNormalizedNamed(image).Name()`: the repository the
/// kubelet looks credentials up for (Docker Hub names made whole, tag and
/// digest dropped).
pub fn repository(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let name = match without_digest[last_slash..].rfind(':') {
        Some(i) => &without_digest[..last_slash + i],
        None => without_digest,
    };
    let mut parts = name.splitn(2, '/');
    let first = parts.next().unwrap_or_default();
    match parts.next() {
        None => format!("docker.io/library/{first}"),
        Some(rest) if !first.contains(['.', ':']) && first != "localhost" => {
            format!("docker.io/{first}/{rest}")
        }
        Some(rest) if first == "docker.io" && !rest.contains('/') => {
            format!("docker.io/library/{rest}")
        }
        Some(_) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entries(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn login(user: &str) -> Value {
        json!({"auth": base64::engine::general_purpose::STANDARD.encode(format!("{user}:pw"))})
    }

    fn users(creds: &[Cred]) -> Vec<&str> {
        creds.iter().map(|c| c.username.as_str()).collect()
    }

    #[test]
    fn most_specific_key_first_and_secrets_in_the_order_added() {
        let mut k = Keyring::default();
        let a = Origin::PodSecret { name: "a".into() };
        let b = Origin::PodSecret { name: "b".into() };
        k.add(
            &entries(json!({"quay.io": login("host-a"), "registry.redhat.io": login("rh")})),
            &a,
        )
        .unwrap();
        k.add(
            &entries(json!({"https://quay.io/org": login("org-b"), "quay.io": login("host-b")})),
            &b,
        )
        .unwrap();
        assert_eq!(
            users(&k.lookup("quay.io/org/app")),
            ["org-b", "host-a", "host-b"]
        );
        assert_eq!(users(&k.lookup("quay.io/other/app")), ["host-a", "host-b"]);
        assert!(k.lookup("docker.io/library/busybox").is_empty());
    }

    #[test]
    fn the_path_is_a_string_prefix_and_ports_must_agree() {
        assert!(urls_match(
            "127.0.0.1:5000/rhel9",
            "127.0.0.1:5000/rhel9/app"
        ));
        // A string prefix, not a path segment: the kubelet's own rule.
        assert!(urls_match("127.0.0.1:5000/rh", "127.0.0.1:5000/rhel9/app"));
        assert!(!urls_match("127.0.0.1:5000", "127.0.0.1:5001/rhel9/app"));
        assert!(!urls_match("127.0.0.1", "127.0.0.1:5000/rhel9/app"));
        assert!(urls_match("*.example.com", "mirror.example.com/a"));
        assert!(!urls_match("*.example.com", "a.mirror.example.com/a"));
        assert!(urls_match("reg*.example.com", "registry.example.com/a"));
    }

    #[test]
    fn v1_and_v2_paths_count_as_the_host_and_hub_falls_back() {
        let mut k = Keyring::default();
        k.add(
            &entries(json!({"https://index.docker.io/v1/": login("hub"), "https://q.io/v2/": login("q")})),
            &Origin::Node,
        )
        .unwrap();
        assert_eq!(users(&k.lookup(&repository("busybox:1"))), ["hub"]);
        assert_eq!(users(&k.lookup("q.io/x/y")), ["q"]);
    }

    #[test]
    fn repositories_as_the_kubelet_names_them() {
        assert_eq!(repository("busybox"), "docker.io/library/busybox");
        assert_eq!(repository("org/app:1"), "docker.io/org/app");
        assert_eq!(
            repository("127.0.0.1:5000/rhel9/app:1"),
            "127.0.0.1:5000/rhel9/app"
        );
        assert_eq!(
            repository("localhost:1/acme/x@sha256:00"),
            "localhost:1/acme/x"
        );
        assert_eq!(repository("localhost/app"), "localhost/app");
    }

    #[test]
    fn secrets_of_other_types_are_skipped_and_bad_json_fails_the_pull() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let opaque = json!({"type": "Opaque", "data": {".dockerconfigjson": b64("{}")}});
        assert_eq!(secret_entries(&opaque), Ok(None));
        let broken = json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64("{not json")}});
        assert!(secret_entries(&broken).is_err());
        let legacy = json!({"type": "kubernetes.io/dockercfg", "data": {".dockercfg": b64(r#"{"q.io": {"username": "u", "password": "p"}}"#)}});
        let mut k = Keyring::default();
        k.add(&secret_entries(&legacy).unwrap().unwrap(), &Origin::Node)
            .unwrap();
        assert_eq!(users(&k.lookup("q.io/a")), ["u"]);
        let bad_auth = entries(json!({"q.io": {"auth": b64("no-colon")}}));
        assert!(Keyring::default().add(&bad_auth, &Origin::Node).is_err());
    }
}
