//! `WWW-Authenticate` parsing (RFC 7235): one or more challenges, each a
//! scheme and comma-separated `name=value` parameters whose values may be
//! quoted strings with backslash escapes. Registries answer
//! `Bearer realm="…",service="…"[,scope="…"]` or `Basic realm="…"`.

use std::collections::BTreeMap;

/// One challenge: the scheme (lowercased) and its parameters (names lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The host of the realm URL (`sso.redhat.com` for
    /// `https://sso.redhat.com/auth/...`): where the token comes from.
    pub fn realm_host(&self) -> Option<String> {
        let realm = self.param("realm")?;
        let (_, rest) = realm.split_once("://")?;
        rest.split(['/', '?'])
            .next()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
    }
}

/// The challenge a client answers: the Bearer one when offered (it must
/// carry an http(s) realm to ask for a token at), else the Basic one. The
/// error says what the header held instead.
pub fn pick(header: &str) -> Result<Challenge, String> {
    let all = parse(header).map_err(|e| e.to_string())?;
    if let Some(bearer) = all.iter().find(|c| c.scheme == "bearer") {
        let realm = bearer.param("realm").unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(format!("Bearer challenge without a usable realm: {header}"));
        }
        return Ok(bearer.clone());
    }
    all.into_iter()
        .find(|c| c.scheme == "basic")
        .ok_or_else(|| format!("no Bearer or Basic challenge: {header}"))
}

/// Why a header did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("empty WWW-Authenticate header")]
    Empty,
    #[error("unterminated quoted string")]
    Unterminated,
    #[error("expected a parameter or a scheme at byte {0}")]
    Unexpected(usize),
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

struct Lexer<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
    }
    fn token(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(is_token_char) {
            self.i += self.peek().map_or(0, char::len_utf8);
        }
        &self.s[start..self.i]
    }
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or(ChallengeError::Unterminated)?;
            self.i += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let next = self.peek().ok_or(ChallengeError::Unterminated)?;
                    self.i += next.len_utf8();
                    out.push(next);
                }
                other => out.push(other),
            }
        }
    }
}

/// Parses every challenge in a header value.
pub fn parse(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut lx = Lexer { s: header, i: 0 };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        lx.skip_ws();
        while lx.peek() == Some(',') {
            lx.i += 1;
            lx.skip_ws();
        }
        if lx.peek().is_none() {
            break;
        }
        let start = lx.i;
        let word = lx.token();
        if word.is_empty() {
            return Err(ChallengeError::Unexpected(start));
        }
        lx.skip_ws();
        let current = out.last_mut().filter(|_| lx.peek() == Some('='));
        if let Some(current) = current {
            // A parameter of the current challenge.
            lx.i += 1;
            lx.skip_ws();
            let value = if lx.peek() == Some('"') {
                lx.quoted()?
            } else {
                lx.token().to_string()
            };
            current.params.insert(word.to_ascii_lowercase(), value);
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            // A scheme is followed by its first parameter without a comma.
        }
    }
    if out.is_empty() {
        Err(ChallengeError::Empty)
    } else {
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_hat_registry_challenge() {
        let h = r#"Bearer realm="https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth",service="docker-registry""#;
        let c = &parse(h).unwrap()[0];
        assert_eq!(c.scheme, "bearer");
        assert_eq!(
            c.param("realm"),
            Some("https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth")
        );
        assert_eq!(c.param("service"), Some("docker-registry"));
    }

    #[test]
    fn quoted_commas_escapes_spaces_and_case() {
        let h = r#"bearer  Realm = "https://a/b" , service="x,y", scope="repository:ns/r:pull,push", error="say \"hi\"""#;
        let c = &parse(h).unwrap()[0];
        assert_eq!(c.param("realm"), Some("https://a/b"));
        assert_eq!(c.param("service"), Some("x,y"));
        assert_eq!(c.param("scope"), Some("repository:ns/r:pull,push"));
        assert_eq!(c.param("error"), Some("say \"hi\""));
    }

    #[test]
    fn several_challenges_and_tokens() {
        let cs = parse(r#"Basic realm="reg", Bearer realm="https://t",service=svc"#).unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].scheme, "basic");
        assert_eq!(cs[1].param("service"), Some("svc"));
    }

    #[test]
    fn the_bearer_challenge_is_answered_before_basic() {
        let c = pick(r#"Basic realm="x", Bearer realm="https://t/auth",service="s""#).unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.realm_host().as_deref(), Some("t"));
        assert!(pick(r#"Bearer service="s""#).is_err());
        let basic = pick(r#"Basic realm="r""#).unwrap();
        assert_eq!(basic.scheme, "basic");
        assert_eq!(basic.realm_host(), None);
        assert!(pick("Negotiate").is_err());
        let port = pick(r#"Bearer realm="https://127.0.0.1:8443/auth?x=1""#).unwrap();
        assert_eq!(port.realm_host().as_deref(), Some("127.0.0.1:8443"));
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert_eq!(parse(""), Err(ChallengeError::Empty));
        assert_eq!(parse("  ,  "), Err(ChallengeError::Empty));
        assert_eq!(
            parse(r#"Bearer realm="https://x"#),
            Err(ChallengeError::Unterminated)
        );
        assert!(matches!(
            parse("Bearer @@@"),
            Err(ChallengeError::Unexpected(_))
        ));
    }
}
