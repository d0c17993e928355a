//! One `auths` entry: `auth` (base64 `user:pass`) and/or `username` and
//! `password`, and an optional `identitytoken`.

use std::path::Path;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::SecretString;
use serde_json::Value;

use super::{AuthFileError, keys};
use crate::Credential;
use crate::credential::RawEntry;

/// Go's encoder pads; some hand-written files do not. Accept both.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A credential as one auth file holds it.
#[derive(Clone, Debug)]
pub struct AuthEntry {
    /// The key exactly as written in the file.
    pub key: String,
    /// The registry it names, normalised ([`keys::normalize`]).
    pub registry: String,
    pub username: String,
    pub secret: SecretString,
    pub identity_token: Option<SecretString>,
    /// Every field of the entry, as written.
    pub raw: RawEntry,
}

impl AuthEntry {
    /// The login, carrying the entry whole (a pull secret made from it
    /// keeps every field).
    pub fn credential(&self) -> Credential {
        Credential {
            registry: self.registry.clone(),
            username: self.username.clone(),
            secret: self.secret.clone(),
            raw: Some(self.raw.clone()),
            email: None,
        }
    }

    /// True when the entry holds an `identitytoken` and no password: what
    /// `docker login` stores for a registry that returns an identity token
    /// (Azure Container Registry, say) — `auth` is base64("USERNAME:"), the
    /// username kept and the password empty (docker/cli
    /// `configfile.encodeAuth` with `IdentityToken` set). Nothing a kubelet,
    /// a pull secret or the token flow can use.
    pub fn identity_token_only(&self) -> bool {
        self.identity_token.is_some()
            && secrecy::ExposeSecret::expose_secret(&self.secret).is_empty()
    }

    /// Parses one entry. `Ok(None)` for an entry with no inline credential
    /// (docker writes `{}` when a credential helper holds the secret).
    pub(crate) fn parse(
        path: &Path,
        key: &str,
        value: &Value,
    ) -> Result<Option<Self>, AuthFileError> {
        let obj = value
            .as_object()
            .ok_or_else(|| AuthFileError::NotAnObject {
                path: path.to_path_buf(),
                what: format!("the entry for {key}"),
            })?;
        // containers/image unmarshals `auth` and `identitytoken` as
        // strings and refuses the file when one is not (a `null` is
        // empty); docker does so for `username` and `password` too.
        for field in ["auth", "identitytoken", "username", "password"] {
            if obj
                .get(field)
                .is_some_and(|v| !v.is_string() && !v.is_null())
            {
                return Err(AuthFileError::NotAString {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                    field,
                });
            }
        }
        let text = |field: &str| {
            obj.get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let identity_token = text("identitytoken").map(|t| SecretString::from(t.to_string()));

        let (username, secret) = if let Some(auth) = text("auth") {
            decode_auth(path, key, auth)?
        } else if let Some(username) = text("username") {
            (
                username.to_string(),
                text("password").unwrap_or_default().to_string(),
            )
        } else if identity_token.is_some() {
            (String::new(), String::new())
        } else {
            return Ok(None);
        };
        Ok(Some(Self {
            key: key.to_string(),
            registry: keys::normalize(key),
            username,
            secret: SecretString::from(secret),
            identity_token,
            raw: RawEntry::new(obj.clone()),
        }))
    }
}

fn decode_auth(path: &Path, key: &str, auth: &str) -> Result<(String, String), AuthFileError> {
    let bad_base64 = || AuthFileError::BadBase64 {
        path: path.to_path_buf(),
        key: key.to_string(),
    };
    let bytes = LENIENT_BASE64
        .decode(auth.trim())
        .map_err(|_| bad_base64())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_base64())?;
    match text.split_once(':') {
        Some((user, pass)) => Ok((user.to_string(), pass.to_string())),
        None => Err(AuthFileError::AuthWithoutColon {
            path: path.to_path_buf(),
            key: key.to_string(),
        }),
    }
}
