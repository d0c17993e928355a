//! How an auth-file key names a registry.
//!
//! containers/image (`normalizeAuthFileKey`): a key with an `http://` or
//! `https://` scheme is a legacy docker key and names only its host (so
//! `https://index.docker.io/v1/` is Docker Hub); a key without a scheme may be
//! path-scoped (`quay.io/org/repo`) and keeps its path. Docker Hub has three
//! spellings (`docker.io`, `index.docker.io`, `registry-1.docker.io`); they
//! are one registry, canonically `docker.io` here.

use crate::imageref::DOCKER_HUB;

/// The key docker itself files Docker Hub credentials under.
pub const DOCKER_HUB_LEGACY_KEY: &str = "https://index.docker.io/v1/";

/// Normalises a key found in (or about to go into) an auth file:
/// `host[/path]`, host lowercased, Docker Hub as `docker.io`.
pub fn normalize(key: &str) -> String {
    let key = key.trim();
    let (had_scheme, rest) = match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(rest) => (true, rest),
        None => (false, key),
    };
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, p.trim_end_matches('/')),
        None => (rest, ""),
    };
    let host = canonical_host(&host.to_ascii_lowercase());
    let path = if had_scheme || path.is_empty() || matches!(path, "v1" | "v2") {
        ""
    } else {
        path
    };
    if path.is_empty() {
        host
    } else {
        format!("{host}/{path}")
    }
}

fn canonical_host(host: &str) -> String {
    match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        other => other.to_string(),
    }
}

/// Why containers/image refuses a key (`validateKey` and `prepareForEdit`
/// in `pkg/docker/config/config.go`; its `TestValidateKey` and
/// `TestSetCredentialsInteroperability`), in its own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// `host/repo@sha256:…`: a digest, not a registry or repository.
    #[error("key {0} contains a '@' character")]
    Digest(String),
    /// `host/repo:tag`: a tag, not a registry or repository.
    #[error("key {0} contains a ':' character after host[:port]")]
    Tag(String),
    /// A path-scoped key into docker's format: docker would cut it to the
    /// host and use the login for the whole registry.
    #[error("Credentials cannot be recorded in Docker-compatible format with namespaced key {0:?}")]
    NamespacedInDocker(String),
}

/// Checks a key as containers/image does before it reads or writes one;
/// `Ok(true)` when it is namespaced (`host/path`). A key with an `http[s]://`
/// scheme is a legacy docker key and is taken (normalised to its host), as
/// rhpull always has.
pub fn validate(key: &str) -> Result<bool, KeyProblem> {
    let key = normalize(key);
    if key.contains('@') {
        return Err(KeyProblem::Digest(key));
    }
    match key.split_once('/') {
        // `localhost:5000` and `localhost:5000/foo` are fine; a ':' after
        // the host is a tag.
        Some((_, path)) if path.contains(':') => Err(KeyProblem::Tag(key)),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Checks a key for docker's own format, which has no path-scoped keys.
pub fn validate_for_docker(key: &str) -> Result<(), KeyProblem> {
    if validate(key)? {
        return Err(KeyProblem::NamespacedInDocker(normalize(key)));
    }
    Ok(())
}

/// The host part of a normalised key.
pub fn host(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// The keys to try for `registry_or_repo`, most specific first, as podman
/// does for path-scoped credentials: `quay.io/org/repo`, `quay.io/org`,
/// `quay.io`.
pub fn lookup_candidates(registry_or_repo: &str) -> Vec<String> {
    let mut key = normalize(registry_or_repo);
    let mut out = vec![key.clone()];
    while let Some(i) = key.rfind('/') {
        key.truncate(i);
        out.push(key.clone());
    }
    out
}

/// The key written for a normalised registry in docker's own format: docker
/// files Docker Hub under its legacy URL and everything else under the host.
pub fn docker_write_key(normalized: &str) -> String {
    if normalized == DOCKER_HUB {
        DOCKER_HUB_LEGACY_KEY.to_string()
    } else {
        normalized.to_string()
    }
}

/// The server URL credential helpers expect for a registry.
pub fn helper_server(normalized: &str) -> String {
    if host(normalized) == DOCKER_HUB {
        DOCKER_HUB_LEGACY_KEY.to_string()
    } else {
        host(normalized).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_suffixes_and_case() {
        assert_eq!(normalize("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize("registry-1.docker.io"), "docker.io");
        assert_eq!(
            normalize("https://Registry.RedHat.io"),
            "registry.redhat.io"
        );
        assert_eq!(normalize("http://quay.io/v2/"), "quay.io");
        assert_eq!(normalize("registry.redhat.io/"), "registry.redhat.io");
        assert_eq!(normalize("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn path_scoped_keys_keep_their_path_without_a_scheme() {
        assert_eq!(normalize("quay.io/org/repo"), "quay.io/org/repo");
        assert_eq!(normalize("https://quay.io/org/repo"), "quay.io");
    }

    #[test]
    fn candidates_go_from_specific_to_host() {
        assert_eq!(
            lookup_candidates("quay.io/org/repo"),
            vec!["quay.io/org/repo", "quay.io/org", "quay.io"]
        );
        assert_eq!(
            lookup_candidates("registry.redhat.io"),
            vec!["registry.redhat.io"]
        );
    }

    #[test]
    fn write_and_helper_keys() {
        assert_eq!(docker_write_key("docker.io"), DOCKER_HUB_LEGACY_KEY);
        assert_eq!(docker_write_key("quay.io/org"), "quay.io/org");
        assert_eq!(helper_server("quay.io/org"), "quay.io");
        assert_eq!(helper_server("docker.io"), DOCKER_HUB_LEGACY_KEY);
    }
}
