//! Delegated authentication: the pair of pull secrets the seeds create by
//! hand — one for the auth server (e.g. sso.redhat.com, discovered from the
//! registry's challenge) and one for the registry — with the same login.

use k8s_openapi::api::core::v1::Secret;
use rhpull_core::Credential;

use crate::pullsecret::{self, Format};

/// `(auth-server secret, registry secret)` named `<base>-auth-server` and
/// `<base>-registry`.
pub fn pair(
    base: &str,
    namespace: &str,
    registry: &str,
    auth_server: &str,
    credential: &Credential,
) -> [Secret; 2] {
    let for_host = |host: &str| credential.for_registry(host);
    [
        pullsecret::build(
            &format!("{base}-auth-server"),
            namespace,
            Format::DockerConfigJson,
            &[for_host(auth_server)],
        ),
        pullsecret::build(
            &format!("{base}-registry"),
            namespace,
            Format::DockerConfigJson,
            &[for_host(registry)],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_login_two_hosts() {
        let c = Credential::new("registry.redhat.io", "1234567|sa", "tok");
        let [auth, reg] = pair("rh", "ns", "registry.redhat.io", "sso.redhat.com", &c);
        assert_eq!(auth.metadata.name.as_deref(), Some("rh-auth-server"));
        assert_eq!(
            pullsecret::credentials_of(&auth).unwrap()[0].registry,
            "sso.redhat.com"
        );
        assert_eq!(
            pullsecret::credentials_of(&reg).unwrap()[0].registry,
            "registry.redhat.io"
        );
    }
}
