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
    let _locale = locale_lock();
    rust_i18n::set_locale("en");
    let line = text(
        "version.line",
        &[
            ("version", "1"),
            ("commit", "abc"),
            ("target", "t"),
            ("rust", "1.95.0"),
        ],
    );
    assert_eq!(line, "kubectl-rhpull 1 (commit abc, t, Rust 1.95.0)");
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
        "fleet.",
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

/// `%{name}` placeholders of a text.
fn placeholders(s: &str) -> std::collections::BTreeSet<String> {
    s.split("%{")
        .skip(1)
        .filter_map(|p| p.split_once('}'))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Both languages have every key, none empty, with the same placeholders.
#[test]
fn both_catalogues_are_complete_with_the_same_placeholders() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/app.yml");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut problems = Vec::new();
    let mut count = 0;
    for (key, langs) in doc.as_object().unwrap() {
        if key.starts_with('_') {
            continue;
        }
        count += 1;
        let en = langs["en"].as_str().unwrap_or_default();
        let zh = langs["zh-CN"].as_str().unwrap_or_default();
        if en.trim().is_empty() && key != "registries.login.none" {
            problems.push(format!("{key}: empty en"));
        }
        if zh.trim().is_empty() && !en.trim().is_empty() {
            problems.push(format!("{key}: empty zh-CN"));
        }
        if placeholders(en) != placeholders(zh) {
            problems.push(format!(
                "{key}: placeholders differ: {:?} vs {:?}",
                placeholders(en),
                placeholders(zh)
            ));
        }
    }
    assert!(count > 200, "only {count} keys read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// No human-facing English in the binary that skips the catalogue: every
/// `println!`/`eprintln!` lives in `output.rs`, and no format string or
/// literal handed to the output functions carries words.
#[test]
fn no_user_facing_literal_bypasses_the_catalogue() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src];
    let mut offenders = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.extension().is_none_or(|e| e != "rs") || name == "tests.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            let prints = ["println!(", "eprintln!(", "print!(", "eprint!("]
                .iter()
                .any(|m| t.contains(m));
            if prints && name != "output.rs" {
                offenders.push(format!(
                    "{}:{}: prints outside output.rs: {t}",
                    p.display(),
                    i + 1
                ));
            }
            // A literal of two or more English words handed to output directly.
            let to_output = [
                "print_line(\"",
                "warn(\"",
                "print_line(&format!(\"",
                "warn(&format!(\"",
            ]
            .iter()
            .any(|m| t.contains(m));
            if to_output {
                let literal = t.split('"').nth(1).unwrap_or_default();
                let words = literal
                    .split_whitespace()
                    .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()) && w.len() > 1)
                    .count();
                if words >= 2 {
                    offenders.push(format!(
                        "{}:{}: words outside the catalogue: {t}",
                        p.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// Every command is well formed on its own, as the man pages build each one
/// (clap's debug assertions: no conflict names an argument the command
/// lacks).
#[test]
fn every_command_is_well_formed_on_its_own() {
    let cmd = localize_command(crate::cli::command());
    cmd.clone().debug_assert();
    let mut pending: Vec<clap::Command> = cmd.get_subcommands().cloned().collect();
    while let Some(sub) = pending.pop() {
        pending.extend(sub.get_subcommands().cloned());
        sub.debug_assert();
    }
}

#[test]
fn a_space_between_chinese_words_goes_and_one_beside_latin_stays() {
    let t = "正在使用来自 %{source} 的登录检查 %{registry}";
    assert_eq!(
        fill(
            t,
            &[("source", "命令行"), ("registry", "registry.redhat.io")],
            true
        ),
        "正在使用来自命令行的登录检查 registry.redhat.io"
    );
    assert_eq!(
        fill(
            t,
            &[
                ("source", "/root/.docker/config.json"),
                ("registry", "quay.io")
            ],
            true
        ),
        "正在使用来自 /root/.docker/config.json 的登录检查 quay.io"
    );
    // The value is never changed, nor English text.
    assert_eq!(
        fill("来自 %{p} 的", &[("p", "我的 文件")], true),
        "来自我的 文件的"
    );
    assert_eq!(
        fill("from %{s} now", &[("s", "命令行")], false),
        "from 命令行 now"
    );
    assert_eq!(
        fill("%{a} and %{a}, %{b}", &[("a", "x")], false),
        "x and x, %{b}"
    );
}

/// clap's own English phrases never show in Chinese help, short or long,
/// for any command; the catalogue's words are there instead.
#[test]
fn no_chinese_help_carries_clap_english_phrases() {
    let _locale = locale_lock();
    rust_i18n::set_locale("zh-CN");
    let mut cmd = localize_command(crate::cli::command());
    cmd.build();
    let mut helps = Vec::new();
    fn walk(cmd: &mut clap::Command, helps: &mut Vec<String>) {
        helps.push(cmd.render_help().to_string());
        helps.push(cmd.render_long_help().to_string());
        for sub in cmd.get_subcommands_mut() {
            walk(sub, helps);
        }
    }
    walk(&mut cmd, &mut helps);
    rust_i18n::set_locale("en");
    let all = helps.join("\n");
    for phrase in [
        "[default:",
        "[possible values:",
        "[aliases:",
        "[alias:",
        "Possible values:",
        "[env:",
    ] {
        assert!(!all.contains(phrase), "{phrase} in Chinese help");
    }
    assert!(
        all.contains("[默认值：30s]"),
        "the catalogue's words are there"
    );
    assert!(all.contains("[可选值：table, json, yaml, name]"));
    assert!(all.contains("[别名：doctor]"));
}

/// No Chinese text in the catalogue puts a space between two Chinese
/// characters (spaces stay only around Latin words, paths and commands).
#[test]
fn no_chinese_text_spaces_chinese_words() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/app.yml");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    for (key, langs) in doc.as_object().unwrap() {
        let Some(zh) = langs.get("zh-CN").and_then(|v| v.as_str()) else {
            continue;
        };
        let chars: Vec<char> = zh.chars().collect();
        if chars
            .windows(3)
            .any(|w| w[1] == ' ' && is_cjk(w[0]) && is_cjk(w[2]))
        {
            found.push(format!("{key}: {zh}"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
