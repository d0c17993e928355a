//! Paste mistakes, caught before any request: the ways a username or token
//! copied from the Registry Service Account page goes wrong in a terminal.

use base64::Engine as _;

/// A mistake in what the user typed or pasted. Never carries the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "mistake", content = "field")]
pub enum PasteMistake {
    /// Empty username or password.
    Empty(Field),
    /// Spaces, tabs or newlines around (or inside) the value.
    Whitespace(Field),
    /// The value is wrapped in quotes.
    Quotes(Field),
    /// `1234567name` or `1234567-name`: a service account without its `|`.
    ServiceAccountWithoutPipe,
    /// The token was base64-encoded once more.
    Base64Wrapped,
    /// The token (a JWT) is cut short.
    Truncated,
    /// The password is the auth file's `auth` field (base64 `user:pass`).
    AuthField,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Username,
    Password,
}

fn b64_text(s: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn common(value: &str, field: Field) -> Option<PasteMistake> {
    if value.is_empty() {
        return Some(PasteMistake::Empty(field));
    }
    if value.trim() != value || value.contains(['\n', '\r', '\t']) {
        return Some(PasteMistake::Whitespace(field));
    }
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') || quoted('\'') {
        return Some(PasteMistake::Quotes(field));
    }
    None
}

/// A JWT is three non-empty base64url segments.
fn is_whole_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

/// The first paste mistake in a username and password, if any.
pub fn check(username: &str, password: &str) -> Option<PasteMistake> {
    if let Some(m) = common(username, Field::Username).or_else(|| common(password, Field::Password))
    {
        return Some(m);
    }
    let digits = username.bytes().take_while(u8::is_ascii_digit).count();
    if !username.contains('|') && digits >= 5 && digits < username.len() {
        return Some(PasteMistake::ServiceAccountWithoutPipe);
    }
    if password.starts_with("eyJ") && !is_whole_jwt(password) {
        return Some(PasteMistake::Truncated);
    }
    if password.len() >= 8
        && let Some(decoded) = b64_text(password)
    {
        if decoded.starts_with(&format!("{username}:")) {
            return Some(PasteMistake::AuthField);
        }
        if decoded.trim().starts_with("eyJ") {
            return Some(PasteMistake::Base64Wrapped);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn a_clean_service_account_login_passes() {
        assert_eq!(check("1234567|ci-bot", JWT), None);
        assert_eq!(check("alice@example.com", "correct horse"), None);
    }

    #[test]
    fn whitespace_quotes_and_empties() {
        assert_eq!(
            check("1234567|ci", &format!("{JWT}\n")),
            Some(PasteMistake::Whitespace(Field::Password))
        );
        assert_eq!(
            check(" 1234567|ci", JWT),
            Some(PasteMistake::Whitespace(Field::Username))
        );
        assert_eq!(
            check("1234567|ci", &format!("\"{JWT}\"")),
            Some(PasteMistake::Quotes(Field::Password))
        );
        assert_eq!(
            check("'1234567|ci'", JWT),
            Some(PasteMistake::Quotes(Field::Username))
        );
        assert_eq!(
            check("1234567|ci", ""),
            Some(PasteMistake::Empty(Field::Password))
        );
    }

    #[test]
    fn service_account_without_pipe() {
        assert_eq!(
            check("1234567ci-bot", JWT),
            Some(PasteMistake::ServiceAccountWithoutPipe)
        );
        assert_eq!(
            check("1234567-ci-bot", JWT),
            Some(PasteMistake::ServiceAccountWithoutPipe)
        );
        assert_eq!(check("1234567", "pw-only-digits-user"), None);
    }

    #[test]
    fn token_shapes() {
        assert_eq!(
            check("1234567|ci", &JWT[..30]),
            Some(PasteMistake::Truncated)
        );
        assert_eq!(
            check("1234567|ci", &b64(JWT)),
            Some(PasteMistake::Base64Wrapped)
        );
        assert_eq!(
            check("1234567|ci", &b64(&format!("1234567|ci:{JWT}"))),
            Some(PasteMistake::AuthField)
        );
    }
}
