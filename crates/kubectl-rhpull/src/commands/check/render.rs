//! Turning a check report into lines a person reads: each step's name, mark,
//! what it found or why it failed, and the fix — all from the catalogue.

use rhpull_core::sso::paste::{Field, PasteMistake};
use rhpull_core::sso::{Cause, CheckReport, Status};
use rhpull_core::sso::{Detail, Step, StepReport};

use crate::creds::Found;
use crate::i18n::text;
use crate::output;

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
                ("grant", super::grant_name(*grant)),
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

/// The catalogue base key and arguments for a cause.
pub fn cause_key(cause: &Cause, registry: &str) -> (&'static str, Vec<(&'static str, String)>) {
    let r = ("registry", registry.to_string());
    match cause {
        Cause::NoCredentials { registry } => (
            "check.cause.no_credentials",
            vec![("registry", registry.clone())],
        ),
        Cause::PasteMistake { mistake } => (paste_key(*mistake), vec![r]),
        Cause::DnsFailure { host } => ("check.cause.dns", vec![("host", host.clone()), r]),
        Cause::ConnectionRefused { address } => {
            ("check.cause.refused", vec![("address", address.clone()), r])
        }
        Cause::Timeout { host } => ("check.cause.timeout", vec![("host", host.clone()), r]),
        Cause::ProxyUnreachable { proxy } => (
            "check.cause.proxy_unreachable",
            vec![("proxy", proxy.clone()), r],
        ),
        Cause::ProxyAuthRequired { proxy } => {
            ("check.cause.proxy_auth", vec![("proxy", proxy.clone()), r])
        }
        Cause::ProxyRefused { proxy, status } => (
            "check.cause.proxy_refused",
            vec![("proxy", proxy.clone()), ("status", status.to_string()), r],
        ),
        Cause::ProxyTargetUnreachable { proxy, status } => (
            "check.cause.proxy_target",
            vec![("proxy", proxy.clone()), ("status", status.to_string()), r],
        ),
        Cause::TlsUntrusted { host } => {
            ("check.cause.tls_untrusted", vec![("host", host.clone()), r])
        }
        Cause::TlsExpired { host } => ("check.cause.tls_expired", vec![("host", host.clone()), r]),
        Cause::TlsNameMismatch { host } => {
            ("check.cause.tls_name", vec![("host", host.clone()), r])
        }
        Cause::TlsFailed { host, detail } => (
            "check.cause.tls_failed",
            vec![("host", host.clone()), ("detail", detail.clone()), r],
        ),
        Cause::InvalidCredentials { message } => (
            "check.cause.invalid_credentials",
            vec![
                ("message", message.clone().unwrap_or_else(|| "-".into())),
                r,
            ],
        ),
        Cause::NotEntitled { repository } => (
            "check.cause.not_entitled",
            vec![
                (
                    "repository",
                    repository.clone().unwrap_or_else(|| "-".into()),
                ),
                r,
            ],
        ),
        Cause::TokenRejected { host } => (
            "check.cause.token_rejected",
            vec![("host", host.clone()), r],
        ),
        Cause::NotFound { what } => ("check.cause.not_found", vec![("what", what.clone()), r]),
        Cause::TooManyRequests { retry_after } => (
            "check.cause.too_many",
            vec![
                (
                    "seconds",
                    retry_after.map_or_else(|| "?".into(), |s| s.to_string()),
                ),
                r,
            ],
        ),
        Cause::ServerError { host, status } => (
            "check.cause.server_error",
            vec![("host", host.clone()), ("status", status.to_string()), r],
        ),
        Cause::UnexpectedStatus { host, status } => (
            "check.cause.unexpected",
            vec![("host", host.clone()), ("status", status.to_string()), r],
        ),
        Cause::MalformedChallenge { detail } => (
            "check.cause.bad_challenge",
            vec![("detail", detail.clone()), r],
        ),
        Cause::MalformedToken { detail } => {
            ("check.cause.bad_token", vec![("detail", detail.clone()), r])
        }
        Cause::Network { detail } => ("check.cause.network", vec![("detail", detail.clone()), r]),
    }
}

/// `(what, why, next)` for a cause, in the user's language.
pub fn cause_texts(cause: &Cause, registry: &str) -> (String, Option<String>, Option<String>) {
    let (base, args) = cause_key(cause, registry);
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let part = |p: &str| {
        let key = format!("{base}.{p}");
        crate::i18n::has(&key, "en").then(|| text(&key, &args))
    };
    (
        text(&format!("{base}.what"), &args),
        part("why"),
        part("next"),
    )
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

fn line(step: &StepReport, registry: &str) -> Vec<String> {
    let mut out = Vec::new();
    let name = step_name(step.step);
    let time = text("check.ms", &[("ms", &step.elapsed_ms.to_string())]);
    match (step.status, &step.detail, &step.cause) {
        (Status::Failed, _, Some(cause)) => {
            let (what, why, next) = cause_texts(cause, registry);
            out.push(format!("{} {name:<12} {what}  ({time})", mark(step.status)));
            if let Some(why) = why {
                out.push(format!("    {}{why}", text("error.why_label", &[])));
            }
            if let Some(next) = next {
                out.push(format!("    {}{next}", text("error.next_label", &[])));
            }
        }
        (Status::Skipped, _, _) => out.push(format!(
            "{} {name:<12} {}",
            mark(step.status),
            text("check.skipped", &[])
        )),
        (_, Some(d), _) => out.push(format!(
            "{} {name:<12} {}  ({time})",
            mark(step.status),
            detail(d)
        )),
        _ => out.push(format!("{} {name:<12} ({time})", mark(step.status))),
    }
    out
}

pub fn print(report: &CheckReport, found: Option<&Found>) {
    let source = match found.and_then(|f| f.source.as_ref()) {
        Some(s) => crate::creds::source_text(s),
        None if found.is_some() => text("check.source.flags", &[]),
        None => text("check.source.none", &[]),
    };
    let anonymous = found.is_none();
    let image = report.image.clone().unwrap_or_default();
    let args = [
        ("registry", report.registry.as_str()),
        ("image", image.as_str()),
        ("source", source.as_str()),
    ];
    let key = match (report.image.is_some(), anonymous) {
        (true, false) => "check.heading_image",
        (true, true) => "check.heading_image_anonymous",
        (false, false) => "check.heading",
        (false, true) => "check.heading_anonymous",
    };
    let heading = text(key, &args);
    output::print_line(&heading);
    for step in &report.steps {
        for l in line(step, &report.registry) {
            output::print_line(&l);
        }
    }
    let summary = if report.passed {
        text("check.passed", &[])
    } else {
        text("check.failed", &[])
    };
    output::print_line(&summary);
}
