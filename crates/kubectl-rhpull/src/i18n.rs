//! The message catalogue (`locales/*.yml`, rust-i18n) and locale choice.
//!
//! The locale comes from `LC_ALL`, then `LC_MESSAGES`, then `LANG`, the first
//! that is set and not empty, as kubectl chooses it; `zh_CN`, `zh_SG` and
//! `zh_Hans` get Simplified Chinese, anything else English. Machine output
//! (`-o json`, names, exit codes) never goes through here.

/// Locales with a complete catalogue.
#[cfg(test)]
pub const LOCALES: &[&str] = &["en", "zh-CN"];

/// Picks the catalogue for a POSIX locale string such as `zh_CN.UTF-8`.
pub fn locale_for(posix: &str) -> &'static str {
    let base = posix
        .split(['.', '@'])
        .next()
        .unwrap_or_default()
        .replace('-', "_")
        .to_ascii_lowercase();
    match base.as_str() {
        "zh" | "zh_cn" | "zh_sg" | "zh_hans" | "zh_hans_cn" => "zh-CN",
        _ => "en",
    }
}

/// The locale the environment asks for.
pub fn locale_from(get: impl Fn(&str) -> Option<String>) -> &'static str {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|var| get(var).filter(|v| !v.is_empty()))
        .map_or("en", |v| locale_for(&v))
}

pub fn init_from_env() {
    rust_i18n::set_locale(locale_from(|v| std::env::var(v).ok()));
}

/// The catalogue text for `key` with `%{name}` placeholders filled in.
pub fn text(key: &str, args: &[(&str, &str)]) -> String {
    let mut s = rust_i18n::t!(key).into_owned();
    for (name, value) in args {
        s = s.replace(&format!("%{{{name}}}"), value);
    }
    s
}

/// True when the catalogue has `key` in `locale`.
pub fn has(key: &str, locale: &str) -> bool {
    let t = rust_i18n::t!(key, locale = locale);
    t != key && !t.trim().is_empty()
}

/// Fills every help text of the command tree from the catalogue.
pub fn localize_command(cmd: clap::Command) -> clap::Command {
    localize_at(cmd.disable_help_subcommand(true), "root")
}

/// clap's own headings ("Usage:", "Options:") are English; a template and
/// per-argument headings put the catalogue's words in their place.
fn localize_at(mut cmd: clap::Command, path: &str) -> clap::Command {
    let template = format!(
        "{{about-with-newline}}\n{}: {{usage}}\n\n{{all-args}}{{after-help}}",
        text("help.heading.usage", &[])
    );
    let long = format!("help.{path}.long");
    if has(&long, "en") {
        cmd = cmd.long_about(text(&long, &[]));
    }
    cmd = cmd
        .about(text(&format!("help.{path}.about"), &[]))
        .help_template(template)
        .subcommand_help_heading(text("help.heading.commands", &[]))
        .disable_help_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .global(false),
        );
    let examples = format!("help.{path}.examples");
    if has(&examples, "en") {
        cmd = cmd.after_help(format!(
            "{}\n{}",
            text("help.examples_heading", &[]),
            text(&examples, &[])
        ));
    }
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let key = arg_key(path, &id);
        cmd = cmd.mut_arg(id, |a| {
            let heading = if a.is_positional() {
                "help.heading.arguments"
            } else {
                "help.heading.options"
            };
            a.help(text(&key, &[])).help_heading(text(heading, &[]))
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        let sub_path = if path == "root" {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        cmd = cmd.mut_subcommand(name, |s| localize_at(s, &sub_path));
    }
    cmd
}

/// Flags that mean the same in every command share one text.
const SHARED_ARGS: &[&str] = &[
    "help",
    "output",
    "username",
    "password_stdin",
    "password",
    "from_podman",
    "from_docker",
    "from_file",
    "registry_ca",
    "insecure_skip_tls_verify",
    "timeout",
    "grant",
    "authfile",
    "kubeconfig",
    "context",
    "namespace",
    "request_timeout",
    "verbosity",
    "dry_run",
    "show_secrets",
    "yes",
    "all_namespaces",
    "wait",
    "rollout_wait",
    "link_for",
    "overwrite",
    "selector",
    "namespaces",
    "concurrency",
    "contexts",
    "all_contexts",
    "context_selector",
    "cluster_concurrency",
];

fn arg_key(path: &str, id: &str) -> String {
    if SHARED_ARGS.contains(&id) {
        format!("help.arg.{id}")
    } else {
        format!("help.{path}.arg.{id}")
    }
}

/// Every catalogue key the command tree asks for (for the completeness test).
#[cfg(test)]
pub fn keys_of(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    out.push(format!("help.{path}.about"));
    for a in cmd.get_arguments() {
        out.push(arg_key(path, a.get_id().as_str()));
    }
    for s in cmd.get_subcommands() {
        let sub_path = if path == "root" {
            s.get_name().to_string()
        } else {
            format!("{path}.{}", s.get_name())
        };
        keys_of(s, &sub_path, out);
    }
}

#[cfg(test)]
mod tests;
