//! The catalogue of Red Hat registries: which need a login, and what each
//! serves. `rhpull registries` prints it; commands use it for defaults (which
//! logins `create --from-podman` takes when no `--registry` is given).

/// Whether pulling needs credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Pulls work without a login.
    Anonymous,
    /// Pulls need a Red Hat login or a registry service account token.
    Authenticated,
}

/// One registry in the catalogue.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Registry {
    pub host: &'static str,
    pub access: Access,
    /// Catalogue key of the one-line description of what it serves.
    #[serde(skip)]
    pub serves_key: &'static str,
    /// The default image used to test a pull from it.
    pub probe_image: &'static str,
}

/// Every Red Hat registry rhpull knows, in the order users meet them.
/// The registry rhpull means when none is named.
pub const DEFAULT: &str = "registry.redhat.io";

pub const RED_HAT_REGISTRIES: &[Registry] = &[
    Registry {
        host: "registry.redhat.io",
        access: Access::Authenticated,
        serves_key: "registries.serves.redhat_io",
        probe_image: "registry.redhat.io/ubi9/ubi-minimal:latest",
    },
    Registry {
        host: "registry.connect.redhat.com",
        access: Access::Authenticated,
        serves_key: "registries.serves.connect",
        probe_image: "registry.connect.redhat.com/crunchydata/crunchy-postgres:latest",
    },
    Registry {
        host: "registry.access.redhat.com",
        access: Access::Anonymous,
        serves_key: "registries.serves.access",
        probe_image: "registry.access.redhat.com/ubi9/ubi-minimal:latest",
    },
];

/// The catalogue entry for a registry host, if it is a Red Hat registry.
pub fn lookup(host: &str) -> Option<&'static Registry> {
    let host = host.trim_end_matches('/').to_ascii_lowercase();
    RED_HAT_REGISTRIES.iter().find(|r| r.host == host)
}

/// True for a registry key (host, or host/path) that belongs to a Red Hat
/// registry needing a login: the ones rhpull takes from an auth file by default.
pub fn is_red_hat_authenticated(registry_key: &str) -> bool {
    let host = registry_key.split('/').next().unwrap_or_default();
    lookup(host).is_some_and(|r| r.access == Access::Authenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_knows_the_three_registries() {
        assert_eq!(
            lookup("registry.redhat.io").unwrap().access,
            Access::Authenticated
        );
        assert_eq!(
            lookup("Registry.Connect.RedHat.com").unwrap().access,
            Access::Authenticated
        );
        assert_eq!(
            lookup("registry.access.redhat.com").unwrap().access,
            Access::Anonymous
        );
        assert!(lookup("quay.io").is_none());
    }

    #[test]
    fn default_selection_takes_only_authenticated_red_hat_keys() {
        assert!(is_red_hat_authenticated("registry.redhat.io"));
        assert!(is_red_hat_authenticated("registry.redhat.io/rhel8"));
        assert!(!is_red_hat_authenticated("registry.access.redhat.com"));
        assert!(!is_red_hat_authenticated("quay.io"));
        assert!(!is_red_hat_authenticated("index.docker.io"));
    }
}
