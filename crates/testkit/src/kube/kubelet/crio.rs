//! The files CRI-O reads on a node, rendered from the cluster's objects as
//! OpenShift's Machine Config Operator renders them (machine-config-
//! operator, `pkg/controller/container-runtime-config/helpers.go`, and
//! `openshift/runtime-utils` `pkg/registries/registries.go`
//! `EditRegistriesConfig`, August 2026), written independently of rhpull:
//!
//! - `registries.conf`: one `[[registry]]` per mirrored source; digest
//!   mirrors (ImageDigestMirrorSet, ImageContentSourcePolicy) with
//!   `pull-from-mirror = "digest-only"`, tag mirrors (ImageTagMirrorSet)
//!   with `"tag-only"`, sets of one source merged in the order they are
//!   listed; `mirrorSourcePolicy: NeverContactSource` makes the source
//!   `blocked`; `registrySources.blockedRegistries` adds blocked entries.
//! - `policy.json`: `blockedRegistries` rejected, or with
//!   `allowedRegistries` everything else rejected.
//! - The auth file CRI-O reads when the kubelet hands it no credential, and
//!   for every mirror (containers/image never sends the credential given
//!   for the source to a mirror): the node's `config.json`, or, where a
//!   CRIOCredentialProviderConfig matches the image and the pod's service
//!   account may list the namespace's secrets, the file
//!   `crio-credential-provider` writes for the namespace (openshift/
//!   enhancements `criocredentialproviderconfig-for-namespace-scoped-
//!   mirror-authentication.md`): the namespace's
//!   `kubernetes.io/dockerconfigjson` logins over the node's.
//!
//! Which endpoint is tried, with what, and the words of every failure are
//! then containers/image's own, through `skopeo`.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::super::resources;
use super::super::state::State;

/// The mirror sets and policy of the cluster (empty off OpenShift 4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// `(source, mirrors, never_contact_source, digest_only)` in order.
    sets: Vec<(String, Vec<String>, bool, bool)>,
    blocked: Vec<String>,
    allowed: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn objects<'a>(state: &'a State, kind: &str) -> Vec<&'a Value> {
    let Some(r) = resources::by_kind(kind) else {
        return Vec::new();
    };
    state.store.list(r, None).map(|(_, v)| v).collect()
}

impl Rules {
    pub fn read(state: &State) -> Self {
        let mut rules = Self::default();
        let mut add = |list: Option<&Value>, mirrors_field: &str, digest_only: bool| {
            for entry in list.and_then(Value::as_array).into_iter().flatten() {
                let source = entry
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if source.is_empty() {
                    continue;
                }
                let never = entry.get("mirrorSourcePolicy").and_then(Value::as_str)
                    == Some("NeverContactSource");
                rules.sets.push((
                    source.to_string(),
                    strings(entry.get(mirrors_field)),
                    never,
                    digest_only,
                ));
            }
        };
        for o in objects(state, "ImageDigestMirrorSet") {
            add(o.pointer("/spec/imageDigestMirrors"), "mirrors", true);
        }
        for o in objects(state, "ImageContentSourcePolicy") {
            add(o.pointer("/spec/repositoryDigestMirrors"), "mirrors", true);
        }
        for o in objects(state, "ImageTagMirrorSet") {
            add(o.pointer("/spec/imageTagMirrors"), "mirrors", false);
        }
        if let Some(image) = objects(state, "Image")
            .into_iter()
            .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some("cluster"))
        {
            rules.blocked = strings(image.pointer("/spec/registrySources/blockedRegistries"));
            rules.allowed = strings(image.pointer("/spec/registrySources/allowedRegistries"));
        }
        rules
    }

    /// `registries.conf` (version 2).
    pub fn registries_conf(&self) -> String {
        let mut sources: Vec<&str> = Vec::new();
        for (s, ..) in &self.sets {
            if !sources.contains(&s.as_str()) {
                sources.push(s);
            }
        }
        let mut out =
            String::from("unqualified-search-registries = []\nshort-name-mode = \"enforcing\"\n");
        let mut written: Vec<String> = Vec::new();
        for source in sources {
            let of_source = self.sets.iter().filter(|(s, ..)| s == source);
            let blocked = of_source.clone().any(|(_, _, never, _)| *never)
                || self.blocked.iter().any(|b| scope_covers(b, source));
            let mut mirrors: Vec<(String, bool)> = Vec::new();
            for (_, ms, _, digest_only) in of_source {
                for m in ms {
                    if !mirrors.iter().any(|(x, d)| x == m && d == digest_only) {
                        mirrors.push((m.clone(), *digest_only));
                    }
                }
            }
            write_entry(&mut out, source, blocked);
            for (m, digest_only) in mirrors {
                let pull_from = if digest_only {
                    "digest-only"
                } else {
                    "tag-only"
                };
                let _ = write!(
                    out,
                    "\n[[registry.mirror]]\nlocation = {}\npull-from-mirror = \"{pull_from}\"\n",
                    toml_string(&m)
                );
            }
            written.push(source.to_string());
        }
        for scope in &self.blocked {
            if !written.contains(scope) {
                write_entry(&mut out, scope, true);
            }
        }
        out
    }

    /// `policy.json`.
    pub fn policy_json(&self) -> String {
        let accept = json!([{"type": "insecureAcceptAnything"}]);
        let reject = json!([{"type": "reject"}]);
        let policy = if self.allowed.is_empty() {
            let docker: serde_json::Map<String, Value> = self
                .blocked
                .iter()
                .map(|b| (b.clone(), reject.clone()))
                .collect();
            json!({"default": accept, "transports": {"docker": docker, "docker-daemon": {"": accept}}})
        } else {
            let docker: serde_json::Map<String, Value> = self
                .allowed
                .iter()
                .map(|a| (a.clone(), accept.clone()))
                .collect();
            json!({"default": reject, "transports": {"docker": docker, "docker-daemon": {"": accept}}})
        };
        policy.to_string()
    }
}

fn write_entry(out: &mut String, scope: &str, blocked: bool) {
    if scope.starts_with("*.") {
        let _ = write!(
            out,
            "\n[[registry]]\nprefix = {}\nblocked = {blocked}\n",
            toml_string(scope)
        );
    } else {
        let _ = write!(
            out,
            "\n[[registry]]\nprefix = {0}\nlocation = {0}\nblocked = {blocked}\n",
            toml_string(scope)
        );
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A registries.conf scope covers a name: equal, a path-prefix of it, or
/// a `*.domain` wildcard matching its host.
fn scope_covers(scope: &str, name: &str) -> bool {
    if let Some(domain) = scope.strip_prefix("*.") {
        let host = name.split('/').next().unwrap_or_default();
        return host.ends_with(&format!(".{domain}"));
    }
    name == scope || name.starts_with(&format!("{scope}/"))
}

/// The CRIOCredentialProviderConfig's `matchImages`, when one is stored.
pub fn provider_match_images(state: &State) -> Option<Vec<String>> {
    let config = objects(state, "CRIOCredentialProviderConfig")
        .into_iter()
        .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some("cluster"))?;
    Some(strings(config.pointer("/spec/matchImages")))
}

/// The namespace's `kubernetes.io/dockerconfigjson` logins, as
/// `crio-credential-provider` lists them (field selector on the type).
pub fn namespace_logins(state: &State, namespace: &str) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let Some(r) = resources::by_kind("Secret") else {
        return out;
    };
    for (_, secret) in state.store.list(r, Some(namespace)) {
        if secret.get("type").and_then(Value::as_str) != Some("kubernetes.io/dockerconfigjson") {
            continue;
        }
        if let Ok(Some(entries)) = super::keyring::secret_entries(secret) {
            for (k, v) in entries {
                out.entry(k).or_insert(v);
            }
        }
    }
    out
}

/// An auth file of `entries` over the node's file.
pub fn auth_file(node_file: &[u8], over: &serde_json::Map<String, Value>) -> String {
    let mut auths = super::keyring::file_entries(node_file);
    for (k, v) in over {
        auths.insert(k.clone(), v.clone());
    }
    json!({"auths": auths}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_render_per_source_with_their_kind_and_never_contact_blocks_the_source() {
        let rules = Rules {
            sets: vec![
                (
                    "localhost:1/acme".into(),
                    vec!["m.example/a".into()],
                    false,
                    true,
                ),
                (
                    "localhost:1/acme".into(),
                    vec!["m2.example/a".into()],
                    true,
                    false,
                ),
            ],
            blocked: vec!["*.bad.example".into()],
            allowed: Vec::new(),
        };
        let conf = rules.registries_conf();
        assert!(
            conf.contains(
                "prefix = \"localhost:1/acme\"\nlocation = \"localhost:1/acme\"\nblocked = true"
            ),
            "{conf}"
        );
        assert!(
            conf.contains("location = \"m.example/a\"\npull-from-mirror = \"digest-only\""),
            "{conf}"
        );
        assert!(
            conf.contains("location = \"m2.example/a\"\npull-from-mirror = \"tag-only\""),
            "{conf}"
        );
        assert!(
            conf.contains("prefix = \"*.bad.example\"\nblocked = true"),
            "{conf}"
        );
        let policy: Value = serde_json::from_str(&rules.policy_json()).unwrap();
        assert_eq!(
            policy["transports"]["docker"]["*.bad.example"][0]["type"],
            "reject"
        );
        assert_eq!(policy["default"][0]["type"], "insecureAcceptAnything");
    }

    #[test]
    fn allowed_registries_reject_the_rest() {
        let rules = Rules {
            allowed: vec!["quay.io".into()],
            ..Rules::default()
        };
        let policy: Value = serde_json::from_str(&rules.policy_json()).unwrap();
        assert_eq!(policy["default"][0]["type"], "reject");
        assert_eq!(
            policy["transports"]["docker"]["quay.io"][0]["type"],
            "insecureAcceptAnything"
        );
    }

    #[test]
    fn scopes() {
        assert!(scope_covers("quay.io/org", "quay.io/org/app"));
        assert!(!scope_covers("quay.io/org", "quay.io/organisation/app"));
        assert!(scope_covers("*.example.com", "a.example.com/x"));
    }
}
