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

/// Tests that switch the process-wide locale hold this, so that they do
/// not switch it under each other.
#[cfg(test)]
pub fn locale_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn init_from_env() {
    rust_i18n::set_locale(locale_from(|v| std::env::var(v).ok()));
}

/// The catalogue text for `key` with `%{name}` placeholders filled in.
pub fn text(key: &str, args: &[(&str, &str)]) -> String {
    let template = rust_i18n::t!(key).into_owned();
    fill(&template, args, rust_i18n::locale().starts_with("zh"))
}

/// `n` of a noun, in the form the number takes: `1 pod`, `3 pods`
/// (`KEY.one` / `KEY.other`; Chinese has one form, `3 个 Pod`).
pub fn count(key: &str, n: usize) -> String {
    let form = if n == 1 { "one" } else { "other" };
    text(&format!("{key}.{form}"), &[("count", &n.to_string())])
}

/// Fills `%{name}` placeholders. In Chinese (`cjk`), the catalogue spaces
/// a placeholder off its neighbours for Latin words, paths and commands
/// (`来自 registry.redhat.io 的`); where the value begins or ends with a
/// Chinese character next to a Chinese neighbour, that space goes (`来自
/// 命令行 的` → `来自命令行的`), as Chinese takes no space between Chinese
/// words. The value itself is never changed.
pub fn fill(template: &str, args: &[(&str, &str)], cjk: bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find("%{") {
        let Some(close) = rest[at..].find('}') else {
            break;
        };
        let name = &rest[at + 2..at + close];
        let Some((_, value)) = args.iter().find(|(n, _)| *n == name) else {
            out.push_str(&rest[..at + close + 1]);
            rest = &rest[at + close + 1..];
            continue;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at + close + 1..];
        if cjk && value.chars().next().is_some_and(is_cjk) && out.ends_with(' ') {
            let before = out.trim_end_matches(' ').chars().last();
            if before.is_some_and(is_cjk) {
                out.truncate(out.trim_end_matches(' ').len());
            }
        }
        out.push_str(value);
        if cjk && value.chars().last().is_some_and(is_cjk) && rest.starts_with(' ') {
            let after = rest.trim_start_matches(' ').chars().next();
            if after.is_some_and(is_cjk) {
                rest = rest.trim_start_matches(' ');
            }
        }
    }
    out.push_str(rest);
    out
}

/// Han characters and CJK or full-width punctuation.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
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
    // clap's `[aliases: …]` is English: the aliases stay, the words are ours.
    let aliases: Vec<&str> = cmd.get_all_aliases().collect();
    let mut about = text(&format!("help.{path}.about"), &[]);
    if !aliases.is_empty() {
        about = format!(
            "{about} {}",
            text("help.note.aliases", &[("aliases", &aliases.join(", "))])
        );
    }
    cmd = cmd
        .about(about)
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
            let help = value_notes(&a)
                .into_iter()
                .fold(text(&key, &[]), |h, note| format!("{h} {note}"));
            let a = a.help(help).help_heading(text(heading, &[]));
            if a.get_action().takes_values() {
                a.hide_default_value(true).hide_possible_values(true)
            } else {
                a
            }
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

/// What clap would add to an argument's help in English — its default and
/// its possible values — in the catalogue's words.
fn value_notes(a: &clap::Arg) -> Vec<String> {
    if !a.get_action().takes_values() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    let defaults: Vec<String> = (a.get_default_values().iter())
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && !a.is_hide_default_value_set() {
        let value = defaults.join(" ");
        notes.push(text("help.note.default", &[("value", &value)]));
    }
    let possible: Vec<String> = (a.get_possible_values().iter())
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !possible.is_empty() && !a.is_hide_possible_values_set() {
        let values = possible.join(", ");
        notes.push(text("help.note.possible", &[("values", &values)]));
    }
    notes
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
