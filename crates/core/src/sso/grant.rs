//! The token step: asking the realm of a Bearer challenge for a token, as
//! Red Hat's SSO answers it — a Basic-auth `GET` (what podman and docker
//! send), or the OAuth password grant (`POST`, form-encoded) when the server
//! does not offer `GET` or when asked for.

use secrecy::ExposeSecret as _;

use super::challenge::Challenge;
use super::diagnose::{Cause, Context, classify_reqwest};
use super::http::{send_patiently, status_cause};
use super::options::{CheckOptions, Grant};
use super::report::Detail;
use super::token::{self, Token};
use crate::Credential;

/// What one token request names: where, for which service and scope.
struct Ask<'a> {
    realm: &'a str,
    service: &'a str,
    scope: Option<String>,
    client_id: &'a str,
}

impl Ask<'_> {
    /// `GET realm?service=…&client_id=…[&scope=…][&account=…]`, with Basic
    /// auth when there is a credential.
    fn basic(
        &self,
        client: &reqwest::Client,
        cred: Option<&Credential>,
    ) -> reqwest::RequestBuilder {
        let mut query: Vec<(&str, &str)> =
            vec![("service", self.service), ("client_id", self.client_id)];
        if let Some(s) = &self.scope {
            query.push(("scope", s));
        }
        match cred {
            Some(c) => {
                query.push(("account", &c.username));
                client
                    .get(self.realm)
                    .query(&query)
                    .basic_auth(&c.username, Some(c.secret.expose_secret()))
            }
            None => client.get(self.realm).query(&query),
        }
    }

    /// `POST realm` with `grant_type=password`.
    fn oauth(&self, client: &reqwest::Client, cred: &Credential) -> reqwest::RequestBuilder {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "password"),
            ("username", &cred.username),
            ("password", cred.secret.expose_secret()),
            ("service", self.service),
            ("client_id", self.client_id),
        ];
        if let Some(s) = &self.scope {
            form.push(("scope", s));
        }
        client.post(self.realm).form(&form)
    }
}

/// Asks for a token for the challenge; the cause names the realm's host.
pub(crate) async fn token(
    opts: &CheckOptions,
    client: &reqwest::Client,
    challenge: &Challenge,
) -> Result<(Token, Detail), Cause> {
    let realm = challenge.param("realm").unwrap_or_default();
    let realm_host = challenge.realm_host().unwrap_or_else(|| realm.to_string());
    let ask = Ask {
        realm,
        service: challenge.param("service").unwrap_or_default(),
        scope: opts
            .image
            .as_ref()
            .map(|i| format!("repository:{}:pull", i.repository)),
        client_id: &opts.client_id,
    };
    let no_credentials = || Cause::NoCredentials {
        registry: opts.registry.clone(),
    };
    let cred = opts.credential.as_ref();
    let (answer, grant) = match (opts.grant, cred) {
        (Grant::OAuth, Some(c)) => (send_patiently(|| ask.oauth(client, c)).await, Grant::OAuth),
        (Grant::OAuth, None) => return Err(no_credentials()),
        (grant, cred) => {
            let first = send_patiently(|| ask.basic(client, cred)).await;
            // A server without the GET form answers 400, 404 or 405.
            let offers_get = first
                .as_ref()
                .map_or(true, |r| !matches!(r.status().as_u16(), 400 | 404 | 405));
            match (grant, cred) {
                (Grant::Auto, Some(c)) if !offers_get => {
                    (send_patiently(|| ask.oauth(client, c)).await, Grant::OAuth)
                }
                _ => (first, Grant::Basic),
            }
        }
    };
    let resp = answer.map_err(|e| classify_reqwest(&e, &realm_host))?;
    if !resp.status().is_success() {
        if resp.status().as_u16() == 401 && cred.is_none() {
            return Err(no_credentials());
        }
        let repository = opts.image.as_ref().map(|i| i.repository.as_str());
        return Err(status_cause(resp, Context::Token, &realm_host, repository).await);
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| classify_reqwest(&e, &realm_host))?;
    let token = token::parse_token(&body).map_err(|e| Cause::MalformedToken {
        detail: e.to_string(),
    })?;
    let detail = Detail::Token {
        grant,
        expires_in: token.expires_in,
    };
    Ok((token, detail))
}
