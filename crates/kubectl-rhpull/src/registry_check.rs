//! Running the registry token flow from the binary: the options from the
//! network flags (shared by `check`, `login`, `create --verify`,
//! `delegated` and `global check`), and its setup errors in words.

use rhpull_core::sso::trust::TrustConfig;
use rhpull_core::sso::{CheckOptions, CheckReport, CheckSetupError, Grant};

use crate::cli::{GrantArg, NetArgs};
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::output;

/// Check options for `key` — a registry, or an auth file's path-scoped
/// key (`host/namespace`), checked at its host — from the network flags,
/// and `--insecure-skip-tls-verify`, which warns each time it is used.
pub fn options(key: &str, net: &NetArgs, insecure: bool) -> CheckOptions {
    let host = host_of(key);
    if insecure {
        output::warn(&text("warn.insecure", &[("registry", host)]));
    }
    with_flags(CheckOptions::new(host), net, insecure)
}

/// The registry host of an auth file key: what comes before the first `/`.
pub fn host_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// Check options for registries not known yet (a pod's images): the
/// registry is set for each check.
pub fn template(net: &NetArgs, insecure: bool) -> CheckOptions {
    if insecure {
        output::warn(&text("warn.insecure_all", &[]));
    }
    with_flags(CheckOptions::new(""), net, insecure)
}

fn with_flags(mut o: CheckOptions, net: &NetArgs, insecure: bool) -> CheckOptions {
    o.trust = TrustConfig {
        extra_ca_files: net.registry_ca.clone(),
        insecure_skip_verify: insecure,
        ..TrustConfig::default()
    };
    o.timeout = net.timeout;
    o.grant = match net.grant {
        GrantArg::Auto => Grant::Auto,
        GrantArg::Basic => Grant::Basic,
        GrantArg::Oauth => Grant::OAuth,
    };
    o
}

/// A check that could not start, in words.
pub fn setup_error(e: CheckSetupError) -> CliError {
    match e {
        CheckSetupError::Trust(t) => {
            CliError::usage(Reason::RegistryCaInvalid, "error.registry_ca")
                .with("detail", t.to_string())
        }
        CheckSetupError::Client(detail) => {
            CliError::failed(Reason::HttpClientFailed, "error.http_client").with("detail", detail)
        }
    }
}

/// Runs the check.
pub async fn run(options: &CheckOptions) -> Result<CheckReport, CliError> {
    rhpull_core::sso::check(options).await.map_err(setup_error)
}

/// Runs `check` for every credential before anything is written: the
/// first that fails is shown as `check` shows it (on stderr), and the
/// command fails with `not_verified` when the registry refused the login,
/// or `unchecked` when the check could not get that far (DNS, network,
/// TLS); fields: `registry`.
pub async fn verify(
    credentials: &[rhpull_core::Credential],
    net: &NetArgs,
    insecure: bool,
    not_verified: &'static str,
    unchecked: &'static str,
) -> Result<(), CliError> {
    for c in credentials {
        let mut options = options(&c.registry, net, insecure);
        options.credential = Some(c.clone());
        let report = run(&options).await?;
        if !report.passed {
            let found = crate::creds::Found::typed(c.clone());
            let shown = crate::commands::check::render::RegistryReport::new(report, Some(found));
            output::note(&crate::commands::check::render::lines(&shown).join("\n"));
            let refused =
                (shown.report.cause()).is_some_and(rhpull_cluster::failing::is_login_problem);
            let key = if refused { not_verified } else { unchecked };
            return Err(CliError::failed(crate::error::Reason::NotVerified, key)
                .with("registry", c.registry.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_scoped_key_is_checked_at_its_host() {
        assert_eq!(super::host_of("127.0.0.1:9/org"), "127.0.0.1:9");
        assert_eq!(super::host_of("quay.io/org/team"), "quay.io");
        assert_eq!(super::host_of("registry.redhat.io"), "registry.redhat.io");
    }
}
