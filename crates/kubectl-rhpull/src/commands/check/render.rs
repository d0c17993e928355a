//! Turning a check report into lines a person reads: each step's name, mark,
//! what it found or why it failed, and the fix — all from the catalogue.
//! Step names are padded by display width, so results line up in every
//! language.

use rhpull_core::authfile::{CredentialSource, keys};
use rhpull_core::sso::paste::{Field, PasteMistake};
use rhpull_core::sso::{Cause, CheckReport, Status};
use rhpull_core::sso::{Detail, Step, StepReport};

use crate::creds::Found;
use crate::error::Exit;
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::output;
use crate::render::pad;
use crate::render::{Block, Report};

fn step_name(step: Step) -> String {
    let key = match step {
        Step::Credentials => "check.step.credentials",
        Step::Dns => "check.step.dns",
        Step::Connect => "check.step.connect",
        Step::Proxy => "check.step.proxy",
        Step::Tls => "check.step.tls",
        Step::Challenge => "check.step.challenge",
        Step::Token => "check.step.token",
        Step::Registry => "check.step.registry",
        Step::Image => "check.step.image",
    };
    text(key, &[])
}

pub fn detail(d: &Detail) -> String {
    match d {
        Detail::Credential { username } => {
            text("check.detail.credential", &[("username", username)])
        }
        Detail::NoCredential => text("check.detail.no_credential", &[]),
        Detail::Addresses { addresses } => addresses.join(", "),
        Detail::Connected {
            address,
            via_proxy: None,
        } => address.clone(),
        Detail::Connected {
            address,
            via_proxy: Some(p),
        } => text(
            "check.detail.via_proxy",
            &[("address", address), ("proxy", p)],
        ),
        Detail::Tunnel { proxy } => text("check.detail.tunnel", &[("proxy", proxy)]),
        Detail::Tls { version } => text("check.detail.tls", &[("version", version)]),
        Detail::Anonymous => text("check.detail.anonymous", &[]),
        Detail::BearerChallenge { realm, .. } => text("check.detail.bearer", &[("realm", realm)]),
        Detail::BasicChallenge => text("check.detail.basic", &[]),
        Detail::Token { grant, expires_in } => text(
            "check.detail.token",
            &[
                ("grant", grant_name(*grant)),
                (
                    "seconds",
                    &expires_in.map_or_else(|| "?".into(), |s| s.to_string()),
                ),
            ],
        ),
        Detail::BasicAuth => text("check.detail.basic_auth", &[]),
        Detail::Registry { status } => {
            text("check.detail.registry", &[("status", &status.to_string())])
        }
        Detail::Manifest { digest, .. } => text(
            "check.detail.manifest",
            &[("digest", digest.as_deref().unwrap_or("?"))],
        ),
    }
}

fn paste_key(m: PasteMistake) -> &'static str {
    match m {
        PasteMistake::Empty(Field::Username) => "check.cause.paste.empty_username",
        PasteMistake::Empty(Field::Password) => "check.cause.paste.empty_password",
        PasteMistake::Whitespace(Field::Username) => "check.cause.paste.whitespace_username",
        PasteMistake::Whitespace(Field::Password) => "check.cause.paste.whitespace_password",
        PasteMistake::Quotes(Field::Username) => "check.cause.paste.quotes_username",
        PasteMistake::Quotes(Field::Password) => "check.cause.paste.quotes_password",
        PasteMistake::ServiceAccountWithoutPipe => "check.cause.paste.no_pipe",
        PasteMistake::Base64Wrapped => "check.cause.paste.base64",
        PasteMistake::Truncated => "check.cause.paste.truncated",
        PasteMistake::AuthField => "check.cause.paste.auth_field",
    }
}

/// The catalogue base key and arguments for a cause (`registry` is the
/// registry checked, unless the cause names its own).
pub fn cause_key(cause: &Cause, registry: &str) -> (&'static str, Vec<(&'static str, String)>) {
    let (key, mut args) = cause_entry(cause);
    if !args.iter().any(|(k, _)| *k == "registry") {
        args.push(("registry", registry.to_string()));
    }
    (key, args)
}

fn cause_entry(cause: &Cause) -> (&'static str, Vec<(&'static str, String)>) {
    let one = |k: &'static str, v: &str| vec![(k, v.to_string())];
    let status = |k: &'static str, v: &str, code: &u16| {
        vec![(k, v.to_string()), ("status", code.to_string())]
    };
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let seconds = |s: &Option<u64>| s.map_or_else(|| "?".into(), |s| s.to_string());
    match cause {
        Cause::NoCredentials { registry } => {
            ("check.cause.no_credentials", one("registry", registry))
        }
        Cause::PasteMistake { mistake } => (paste_key(*mistake), Vec::new()),
        Cause::IdentityTokenOnly { registry } => {
            ("check.cause.identity_token", one("registry", registry))
        }
        Cause::DnsFailure { host } => ("check.cause.dns", one("host", host)),
        Cause::ConnectionRefused { address } => ("check.cause.refused", one("address", address)),
        Cause::Timeout { host } => ("check.cause.timeout", one("host", host)),
        Cause::ProxyUnreachable { proxy } => ("check.cause.proxy_unreachable", one("proxy", proxy)),
        Cause::ProxyAuthRequired { proxy } => ("check.cause.proxy_auth", one("proxy", proxy)),
        Cause::ProxyRefused { proxy, status: c } => {
            ("check.cause.proxy_refused", status("proxy", proxy, c))
        }
        Cause::ProxyTargetUnreachable { proxy, status: c } => {
            ("check.cause.proxy_target", status("proxy", proxy, c))
        }
        Cause::TlsUntrusted { host } => ("check.cause.tls_untrusted", one("host", host)),
        Cause::TlsExpired { host } => ("check.cause.tls_expired", one("host", host)),
        Cause::TlsNameMismatch { host } => ("check.cause.tls_name", one("host", host)),
        Cause::TlsFailed { host, detail } => (
            "check.cause.tls_failed",
            vec![("host", host.clone()), ("detail", detail.clone())],
        ),
        Cause::InvalidCredentials { message } => (
            "check.cause.invalid_credentials",
            one("message", &or_dash(message)),
        ),
        Cause::NotEntitled { repository } => (
            "check.cause.not_entitled",
            one("repository", &or_dash(repository)),
        ),
        Cause::TokenRejected { host } => ("check.cause.token_rejected", one("host", host)),
        Cause::NotFound { what } => ("check.cause.not_found", one("what", what)),
        Cause::TooManyRequests { retry_after } => (
            "check.cause.too_many",
            one("seconds", &seconds(retry_after)),
        ),
        Cause::ServerError { host, status: c } => {
            ("check.cause.server_error", status("host", host, c))
        }
        Cause::UnexpectedStatus { host, status: c } => {
            ("check.cause.unexpected", status("host", host, c))
        }
        Cause::MalformedChallenge { detail } => {
            ("check.cause.bad_challenge", one("detail", detail))
        }
        Cause::MalformedToken { detail } => ("check.cause.bad_token", one("detail", detail)),
        Cause::Network { detail } => ("check.cause.network", one("detail", detail)),
    }
}

/// The cause as a failure: its reason, its fields, and its words — with a
/// fix that fits the registry (Red Hat's portal only for Red Hat's).
pub fn cause_failure(cause: &Cause, registry: &str) -> CliError {
    let (base, args) = cause_key(cause, registry);
    let mut err = CliError::failed(cause_reason(cause), base);
    for (name, value) in args {
        err = err.with(name, value);
    }
    match next_elsewhere(base, registry) {
        Some(key) => err.next_from(key),
        None => err,
    }
}

/// The catalogue's `next` for registries that are not Red Hat's, where
/// the cause's own points at Red Hat's portal.
fn next_elsewhere(base: &str, registry: &str) -> Option<&'static str> {
    let host = rhpull_core::authfile::keys::host(registry);
    if rhpull_core::registries::lookup(host).is_some() {
        return None;
    }
    OTHER_NEXT
        .iter()
        .find(|(b, _)| *b == base)
        .map(|(_, next)| *next)
}

/// Causes whose fix names Red Hat's portal, and the fix for any other
/// registry.
const OTHER_NEXT: &[(&str, &str)] = &[
    (
        "check.cause.invalid_credentials",
        "check.cause.invalid_credentials.next_other",
    ),
    (
        "check.cause.not_entitled",
        "check.cause.not_entitled.next_other",
    ),
    ("check.cause.not_found", "check.cause.not_found.next_other"),
    (
        "check.cause.paste.empty_username",
        "check.cause.paste.empty_username.next_other",
    ),
    (
        "check.cause.paste.whitespace_password",
        "check.cause.paste.whitespace_password.next_other",
    ),
    (
        "check.cause.paste.base64",
        "check.cause.paste.base64.next_other",
    ),
    (
        "check.cause.paste.truncated",
        "check.cause.paste.truncated.next_other",
    ),
];

/// The machine reason of a registry check's cause.
pub fn cause_reason(cause: &Cause) -> Reason {
    match cause {
        Cause::NoCredentials { .. } => Reason::NoCredentials,
        Cause::PasteMistake { .. } => Reason::PasteMistake,
        Cause::IdentityTokenOnly { .. } => Reason::IdentityTokenOnly,
        Cause::DnsFailure { .. } => Reason::DnsFailure,
        Cause::ConnectionRefused { .. } => Reason::ConnectionRefused,
        Cause::Timeout { .. } => Reason::Timeout,
        Cause::ProxyUnreachable { .. } => Reason::ProxyUnreachable,
        Cause::ProxyAuthRequired { .. } => Reason::ProxyAuthRequired,
        Cause::ProxyRefused { .. } => Reason::ProxyRefused,
        Cause::ProxyTargetUnreachable { .. } => Reason::ProxyTargetUnreachable,
        Cause::TlsUntrusted { .. } => Reason::TlsUntrusted,
        Cause::TlsExpired { .. } => Reason::TlsExpired,
        Cause::TlsNameMismatch { .. } => Reason::TlsNameMismatch,
        Cause::TlsFailed { .. } => Reason::TlsFailed,
        Cause::InvalidCredentials { .. } => Reason::InvalidCredentials,
        Cause::NotEntitled { .. } => Reason::NotEntitled,
        Cause::TokenRejected { .. } => Reason::TokenRejected,
        Cause::NotFound { .. } => Reason::ImageNotFound,
        Cause::TooManyRequests { .. } => Reason::TooManyRequests,
        Cause::ServerError { .. } => Reason::ServerError,
        Cause::UnexpectedStatus { .. } => Reason::UnexpectedStatus,
        Cause::MalformedChallenge { .. } => Reason::MalformedChallenge,
        Cause::MalformedToken { .. } => Reason::MalformedToken,
        Cause::Network { .. } => Reason::NetworkError,
    }
}

/// `(what, why, next)` for a cause, in the user's language.
pub fn cause_texts(cause: &Cause, registry: &str) -> (String, Option<String>, Option<String>) {
    let err = cause_failure(cause, registry);
    let f = err.failure();
    (
        f.map(crate::error::Failure::what).unwrap_or_default(),
        f.and_then(crate::error::Failure::why),
        f.and_then(crate::error::Failure::next),
    )
}

/// Where a credential the kubelet tries comes from, in words.
pub fn source_name(s: &rhpull_cluster::pods::Source) -> String {
    use rhpull_cluster::pods::Source;
    match s {
        Source::PodSecret { name } => name.clone(),
        Source::Node { secret } => text("pod.node", &[("secret", secret)]),
        Source::NodeFile { node, config } => {
            text("pod.node_file", &[("node", node), ("config", config)])
        }
    }
}

/// The grant's name in reports.
fn grant_name(g: rhpull_core::sso::Grant) -> &'static str {
    match g {
        rhpull_core::sso::Grant::Auto => "auto",
        rhpull_core::sso::Grant::Basic => "basic",
        rhpull_core::sso::Grant::OAuth => "oauth",
    }
}

fn mark(status: Status) -> &'static str {
    let colour = output::stdout_colour();
    match (status, colour) {
        (Status::Passed, true) => "\x1b[32m✓\x1b[0m",
        (Status::Passed, false) => "✓",
        (Status::Failed, true) => "\x1b[31m✗\x1b[0m",
        (Status::Failed, false) => "✗",
        (Status::Skipped, _) => "-",
    }
}

/// The fix printed under a failed step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The cause's own next step.
    OfCause,
    /// Another one, where the cause's would not fit (a pod's pull).
    Instead(String),
}

/// The width step names are padded to: the widest name shown, plus one.
fn name_width(report: &CheckReport) -> usize {
    let widest = report
        .steps
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(step_name(s.step).as_str()))
        .max()
        .unwrap_or(0);
    (widest + 1).max(12)
}

fn step_lines(step: &StepReport, registry: &str, width: usize, next: &Next) -> Vec<String> {
    let name = pad(&step_name(step.step), width);
    let mark = mark(step.status);
    let time = text("check.ms", &[("ms", &step.elapsed_ms.to_string())]);
    match (step.status, &step.detail, &step.cause) {
        (Status::Failed, _, Some(cause)) => {
            let (what, why, own_next) = cause_texts(cause, registry);
            let next = match next {
                Next::OfCause => own_next,
                Next::Instead(n) => Some(n.clone()),
            };
            let mut out = vec![format!("{mark} {name} {what}  ({time})")];
            out.extend(why.map(|w| format!("    {}{w}", text("error.why_label", &[]))));
            out.extend(next.map(|n| format!("    {}{n}", text("error.next_label", &[]))));
            out
        }
        (Status::Skipped, _, _) => vec![format!("{mark} {name} {}", text("check.skipped", &[]))],
        (_, Some(d), _) => vec![format!("{mark} {name} {}  ({time})", detail(d))],
        _ => vec![format!("{mark} {name} ({time})")],
    }
}

/// The heading, one line per step, and the verdict.
pub fn report_lines(report: &CheckReport, source: Option<&str>, next: &Next) -> Vec<String> {
    let image = report.image.clone().unwrap_or_default();
    let args = [
        ("registry", report.registry.as_str()),
        ("image", image.as_str()),
        ("source", source.unwrap_or_default()),
    ];
    let key = match (report.image.is_some(), source.is_none()) {
        (true, false) => "check.heading_image",
        (true, true) => "check.heading_image_anonymous",
        (false, false) => "check.heading",
        (false, true) => "check.heading_anonymous",
    };
    let width = name_width(report);
    let mut out = vec![text(key, &args)];
    for step in &report.steps {
        out.extend(step_lines(step, &report.registry, width, next));
    }
    out.push(text(
        if report.passed {
            "check.passed"
        } else {
            "check.failed"
        },
        &[],
    ));
    out
}

/// Where a checked login came from, as the heading names it: the file or
/// helper, and the key it is filed under when that is not the registry
/// itself (a path-scoped login).
/// One registry check, and the login it used.
#[derive(Debug)]
pub struct RegistryReport {
    pub report: CheckReport,
    pub found: Option<Found>,
}

impl RegistryReport {
    pub fn new(report: CheckReport, found: Option<Found>) -> Self {
        Self { report, found }
    }
}

impl Report for RegistryReport {
    fn document(&self) -> serde_json::Value {
        let mut doc = crate::render::json(&self.report);
        let found = self.found.as_ref();
        doc["source"] =
            serde_json::to_value(found.and_then(|f| f.source.as_ref())).unwrap_or_default();
        doc["key"] = found.map_or(serde_json::Value::Null, |f| {
            serde_json::Value::String(f.credential.registry.clone())
        });
        doc
    }

    fn names(&self) -> Vec<String> {
        vec![self.report.registry.clone()]
    }

    fn human(&self) -> Vec<Block> {
        lines(self).into_iter().map(Block::Line).collect()
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.report.passed {
            Ok(())
        } else {
            Err(CliError::Reported(Exit::Failed))
        }
    }
}

pub fn source_words(report: &RegistryReport) -> Option<String> {
    let found = report.found.as_ref()?;
    let source = match &found.source {
        Some(s) => crate::creds::source_text(s),
        None => text("check.source.flags", &[]),
    };
    let key = &found.credential.registry;
    Some(if key != &report.report.registry {
        text("check.source.key", &[("source", &source), ("key", key)])
    } else {
        source
    })
}

/// A registry check as a person reads it.
pub fn lines(report: &RegistryReport) -> Vec<String> {
    report_lines(
        &report.report,
        source_words(report).as_deref(),
        &secret_next(report),
    )
}

/// A pull secret in the cluster whose login the registry refuses is
/// mended there, not in this machine's auth file: the `rotate` that puts a
/// good token in every secret holding it, or the `create --overwrite` of
/// that one.
fn secret_next(report: &RegistryReport) -> Next {
    let Some(found) = &report.found else {
        return Next::OfCause;
    };
    let Some(CredentialSource::Secret { namespace, name }) = &found.source else {
        return Next::OfCause;
    };
    if !report
        .report
        .cause()
        .is_some_and(rhpull_cluster::failing::is_login_problem)
    {
        return Next::OfCause;
    }
    let registry = keys::host(&found.credential.registry).to_string();
    Next::Instead(text(
        "check.secret.next.rotate",
        &[
            ("namespace", namespace),
            ("name", name),
            ("registry", &registry),
            ("user", &found.credential.username),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr as _;

    use super::*;

    fn step(
        step: Step,
        status: Status,
        detail: Option<Detail>,
        cause: Option<Cause>,
    ) -> StepReport {
        StepReport {
            step,
            status,
            elapsed_ms: 7,
            detail,
            cause,
        }
    }

    fn report() -> CheckReport {
        let host = "registry.example.com".to_string();
        CheckReport {
            registry: host.clone(),
            image: None,
            steps: vec![
                step(
                    Step::Credentials,
                    Status::Passed,
                    Some(Detail::Credential {
                        username: "u".into(),
                    }),
                    None,
                ),
                step(
                    Step::Dns,
                    Status::Passed,
                    Some(Detail::Addresses {
                        addresses: vec!["127.0.0.1".into()],
                    }),
                    None,
                ),
                step(Step::Connect, Status::Passed, None, None),
                step(
                    Step::Tls,
                    Status::Passed,
                    Some(Detail::Tls {
                        version: "TLSv1_3".into(),
                    }),
                    None,
                ),
                step(
                    Step::Challenge,
                    Status::Passed,
                    Some(Detail::BasicChallenge),
                    None,
                ),
                step(
                    Step::Token,
                    Status::Failed,
                    None,
                    Some(Cause::NoCredentials { registry: host }),
                ),
                step(Step::Registry, Status::Skipped, None, None),
                step(Step::Image, Status::Skipped, None, None),
            ],
            passed: false,
        }
    }

    /// Where each step line's result starts, in terminal columns.
    fn result_columns(lines: &[String], names: &[String]) -> Vec<usize> {
        lines
            .iter()
            .filter_map(|l| {
                let (mark, rest) = l.split_once(' ')?;
                if !["✓", "✗", "-"].contains(&mark) {
                    return None;
                }
                let name = names.iter().find(|n| rest.starts_with(n.as_str()))?;
                let after = &rest[name.len()..];
                let spaces = after.len() - after.trim_start_matches(' ').len();
                Some(mark.width() + 1 + name.width() + spaces)
            })
            .collect()
    }

    /// Chinese step names are two columns a character: results still start
    /// in one column, in both languages.
    #[test]
    fn results_line_up_by_display_width_in_both_languages() {
        let _locale = crate::i18n::locale_lock();
        for locale in ["en", "zh-CN"] {
            rust_i18n::set_locale(locale);
            let r = report();
            let names: Vec<String> = r.steps.iter().map(|s| step_name(s.step)).collect();
            let lines = report_lines(&r, Some("auth.json"), &Next::OfCause);
            let columns = result_columns(&lines, &names);
            assert_eq!(columns.len(), r.steps.len(), "{locale}: {lines:#?}");
            assert!(
                columns.windows(2).all(|w| w[0] == w[1]),
                "{locale}: {columns:?}\n{}",
                lines.join("\n")
            );
        }
        rust_i18n::set_locale("en");
    }
}
