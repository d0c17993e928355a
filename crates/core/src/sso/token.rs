//! Token endpoint answers: the Docker Registry v2 token JSON
//! (`{token, access_token, expires_in, issued_at}`, either token field) and
//! the error bodies Red Hat's SSO sends (`{"errors":[{code,message}]}`) or an
//! OAuth server sends (`{"error","error_description"}`).

use secrecy::SecretString;
use serde::Deserialize;

/// A bearer token and how long it lives.
#[derive(Debug)]
pub struct Token {
    pub token: SecretString,
    pub expires_in: Option<u64>,
    pub issued_at: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
    issued_at: Option<String>,
}

/// Why a 200 answer was not a usable token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the answer is not JSON")]
    NotJson,
    #[error("the answer has neither \"token\" nor \"access_token\"")]
    NoToken,
}

/// Parses a 200 answer of the token endpoint.
pub fn parse_token(body: &[u8]) -> Result<Token, TokenError> {
    let raw: Raw = serde_json::from_slice(body).map_err(|_| TokenError::NotJson)?;
    let token = raw
        .token
        .filter(|t| !t.is_empty())
        .or(raw.access_token.filter(|t| !t.is_empty()))
        .ok_or(TokenError::NoToken)?;
    Ok(Token {
        token: SecretString::from(token),
        expires_in: raw.expires_in,
        issued_at: raw.issued_at,
    })
}

#[derive(Deserialize)]
struct ErrorsBody {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

/// The server's own words from an error body (`code: message`), if it has
/// any; at most 200 characters, since they are shown to the user.
pub fn error_message(body: &[u8]) -> Option<String> {
    let text = if let Ok(e) = serde_json::from_slice::<ErrorsBody>(body) {
        e.errors
            .into_iter()
            .map(|i| match (i.code, i.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    } else if let Ok(e) = serde_json::from_slice::<OAuthError>(body) {
        match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        }
    } else {
        return None;
    };
    let mut text = text.replace(['\n', '\r'], " ");
    text.truncate(text.floor_char_boundary(200));
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn red_hat_sso_answer() {
        let t = parse_token(br#"{"token":"abc","access_token":"abc","expires_in":300,"issued_at":"2026-11-26T00:00:00Z"}"#)
            .unwrap();
        assert_eq!(t.token.expose_secret(), "abc");
        assert_eq!(t.expires_in, Some(300));
    }

    #[test]
    fn oauth_answer_has_only_access_token() {
        let t = parse_token(br#"{"access_token":"xyz","token_type":"Bearer","expires_in":60}"#)
            .unwrap();
        assert_eq!(t.token.expose_secret(), "xyz");
    }

    #[test]
    fn malformed_answers() {
        assert_eq!(parse_token(b"<html>").unwrap_err(), TokenError::NotJson);
        assert_eq!(
            parse_token(br#"{"token":""}"#).unwrap_err(),
            TokenError::NoToken
        );
        assert_eq!(parse_token(br#"[]"#).unwrap_err(), TokenError::NotJson);
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_message(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password"}]}"#
            )
            .as_deref(),
            Some("UNAUTHORIZED: Invalid username or password")
        );
        assert_eq!(
            error_message(
                br#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#
            )
            .as_deref(),
            Some("invalid_grant: Invalid user credentials")
        );
        assert_eq!(error_message(b"<html>502</html>"), None);
    }
}
