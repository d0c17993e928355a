use super::*;

#[test]
fn locale_follows_lc_all_then_lc_messages_then_lang() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(locale_from(env(&[("LANG", "zh_CN.UTF-8")])), "zh-CN");
    assert_eq!(
        locale_from(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
        "en"
    );
    assert_eq!(
        locale_from(env(&[
            ("LC_ALL", ""),
            ("LC_MESSAGES", "zh_CN"),
            ("LANG", "C")
        ])),
        "zh-CN"
    );
    assert_eq!(locale_from(env(&[])), "en");
    assert_eq!(locale_for("zh_SG.UTF-8@euro"), "zh-CN");
    assert_eq!(locale_for("zh-Hans"), "zh-CN");
    assert_eq!(locale_for("fr_FR.UTF-8"), "en");
    assert_eq!(locale_for("POSIX"), "en");
}

#[test]
fn every_help_text_of_the_command_tree_is_in_both_catalogues() {
    let cmd = localize_command(crate::cli::command());
    let mut keys = vec![
        "help.heading.usage".to_string(),
        "help.heading.commands".to_string(),
        "help.heading.options".to_string(),
        "help.heading.arguments".to_string(),
    ];
    keys_of(&cmd, "root", &mut keys);
    for key in keys {
        for locale in LOCALES {
            assert!(has(&key, locale), "{key} missing in {locale}");
        }
    }
}

#[test]
fn placeholders_fill_in() {
    let s = rust_i18n::t!("version.line", locale = "en");
    assert!(s.contains("%{version}"));
    rust_i18n::set_locale("en");
    let line = text(
        "version.line",
        &[("version", "1"), ("commit", "abc"), ("target", "t")],
    );
    assert_eq!(line, "kubectl-rhpull 1 (commit abc, t)");
}

/// Every string literal in the binary's sources shaped like a catalogue key
/// (`prefix.more…`) must be in both catalogues — directly, or as the base of
/// an error (`base.what`). A typo in a key fails here, not in front of a user.
#[test]
fn every_key_the_code_uses_is_in_both_catalogues() {
    const PREFIXES: &[&str] = &[
        "help.",
        "error.",
        "warn.",
        "prompt.",
        "check.",
        "registries.",
        "version.",
        "login.",
        "logout.",
        "create.",
        "link.",
        "unlink.",
        "grant.",
        "revoke.",
        "delegated.",
        "global.",
        "status.",
        "rotate.",
        "pod.",
        "dry_run.",
        "outcome.",
    ];
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut missing = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") || p.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for literal in text.split('"').skip(1).step_by(2) {
            let shaped = PREFIXES.iter().any(|pre| literal.starts_with(pre))
                && literal.split('.').count() >= 2
                && literal
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                && !literal.ends_with('.');
            if !shaped || literal.starts_with("help.heading") && has(literal, "en") {
                continue;
            }
            for locale in LOCALES {
                if !has(literal, locale) && !has(&format!("{literal}.what"), locale) {
                    missing.push(format!("{literal} ({locale}) in {}", p.display()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "missing catalogue keys:\n{}",
        missing.join("\n")
    );
}
