//! A registry credential and the Red Hat registry-service-account username.
//!
//! The secret travels as a [`SecretString`] from the moment it is read, so it
//! is zeroised on drop and never shows in `Debug` or `Display` output.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A username and secret (password or token) for one registry.
#[derive(Clone)]
pub struct Credential {
    /// Normalised registry key, e.g. `registry.redhat.io` or `quay.io/org`.
    pub registry: String,
    pub username: String,
    pub secret: SecretString,
    /// The auth-file entry it was read from, every field as written
    /// (`auth`, `email`, …): a pull secret made from a file keeps it whole.
    /// `None` for a login typed in or from a credential helper.
    pub raw: Option<RawEntry>,
    /// `email`, for a login typed in with one (kubectl's `--docker-email`).
    pub email: Option<String>,
}

/// An auth-file entry exactly as read. It holds the secret (`auth`), so
/// it is never printed: `Debug` shows only its field names.
#[derive(Clone, PartialEq)]
pub struct RawEntry(serde_json::Map<String, serde_json::Value>);

impl RawEntry {
    pub fn new(fields: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(fields)
    }

    pub fn fields(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }
}

impl fmt::Debug for RawEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self.0.keys().collect();
        write!(f, "RawEntry({names:?}, values redacted)")
    }
}

impl Credential {
    pub fn new(
        registry: impl Into<String>,
        username: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            registry: registry.into(),
            username: username.into(),
            secret: SecretString::from(secret.into()),
            raw: None,
            email: None,
        }
    }

    /// The same login for another registry key (no entry read from a file).
    pub fn for_registry(&self, registry: impl Into<String>) -> Self {
        Self {
            registry: registry.into(),
            raw: None,
            ..self.clone()
        }
    }

    /// The pull-secret entry for this login, as kubectl's
    /// `create secret docker-registry` writes one
    /// (`staging/src/k8s.io/kubectl/pkg/cmd/create/create_secret_docker.go`:
    /// `username`, `password`, `email` when given, `auth`), or the entry
    /// it was read from, whole.
    pub fn secret_entry(&self) -> serde_json::Map<String, serde_json::Value> {
        if let Some(raw) = &self.raw {
            return raw.fields().clone();
        }
        let mut m = serde_json::Map::new();
        m.insert("username".into(), self.username.clone().into());
        m.insert(
            "password".into(),
            self.secret.expose_secret().to_string().into(),
        );
        if let Some(e) = &self.email {
            m.insert("email".into(), e.clone().into());
        }
        m.insert("auth".into(), self.auth_field().into());
        m
    }

    /// The registry service account this username names, if it is one.
    pub fn service_account(&self) -> Option<RegistryServiceAccount> {
        RegistryServiceAccount::parse(&self.username)
    }

    /// `base64(username:secret)`, the `auth` field of every auth file format.
    pub fn auth_field(&self) -> String {
        use base64::Engine as _;
        let joined = format!("{}:{}", self.username, self.secret.expose_secret());
        base64::engine::general_purpose::STANDARD.encode(joined)
    }

    /// True when both credentials carry the same username and secret.
    pub fn same_login(&self, other: &Credential) -> bool {
        self.username == other.username
            && self.secret.expose_secret() == other.secret.expose_secret()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.username, self.registry)
    }
}

/// A Red Hat Registry Service Account username: `1234567|name`.
///
/// The portal shows the account number and a name chosen by the user; the
/// name part is compared case-insensitively, as the registry does.
#[derive(Clone, Debug, Eq)]
pub struct RegistryServiceAccount {
    pub account: String,
    pub name: String,
}

impl RegistryServiceAccount {
    /// Parses `1234567|name`; `None` for any other username.
    pub fn parse(username: &str) -> Option<Self> {
        let (account, name) = username.split_once('|')?;
        let account_ok = !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit());
        let name_ok = !name.is_empty()
            && !name.contains('|')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        (account_ok && name_ok).then(|| Self {
            account: account.to_string(),
            name: name.to_string(),
        })
    }

    /// The name the portal gives its downloads: `1234567-name`, lowercased so
    /// it is a valid Kubernetes object name.
    pub fn slug(&self) -> String {
        format!("{}-{}", self.account, self.name)
            .to_ascii_lowercase()
            .replace(['_', '.'], "-")
    }
}

impl PartialEq for RegistryServiceAccount {
    fn eq(&self, other: &Self) -> bool {
        self.account == other.account && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for RegistryServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.account, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let c = Credential::new("registry.redhat.io", "1234567|ci", "s3cr3t-token");
        let debug = format!("{c:?}");
        let display = format!("{c}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("[REDACTED]"));
        assert!(!display.contains("s3cr3t"), "{display}");
        assert_eq!(display, "1234567|ci@registry.redhat.io");
    }

    #[test]
    fn auth_field_is_base64_of_user_colon_secret() {
        let c = Credential::new("quay.io", "bob", "pa:ss");
        assert_eq!(c.auth_field(), "Ym9iOnBhOnNz");
    }

    #[test]
    fn service_account_usernames_parse() {
        let sa = RegistryServiceAccount::parse("1234567|my-sa").unwrap();
        assert_eq!(sa.account, "1234567");
        assert_eq!(sa.name, "my-sa");
        assert_eq!(sa.to_string(), "1234567|my-sa");
        assert_eq!(sa.slug(), "1234567-my-sa");
    }

    #[test]
    fn service_account_names_compare_case_insensitively() {
        let a = RegistryServiceAccount::parse("1234567|My-SA").unwrap();
        let b = RegistryServiceAccount::parse("1234567|my-sa").unwrap();
        let c = RegistryServiceAccount::parse("7654321|my-sa").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.slug(), "1234567-my-sa");
    }

    #[test]
    fn other_usernames_are_not_service_accounts() {
        for u in [
            "bob",
            "|name",
            "1234567|",
            "12a4567|name",
            "1234567|a|b",
            "1234567|has space",
            "bob@example.com",
        ] {
            assert!(RegistryServiceAccount::parse(u).is_none(), "{u}");
        }
    }
}
