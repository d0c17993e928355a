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
