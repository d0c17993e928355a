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

/// The catalogue's keys and their first segments (`error`, `failing`, …).
fn catalogue() -> (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/app.yml");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keys: std::collections::BTreeSet<String> = (doc.as_object().unwrap().keys())
        .filter(|k| !k.starts_with('_'))
        .cloned()
        .collect();
    let prefixes = (keys.iter())
        .filter_map(|k| k.split('.').next().map(str::to_string))
        .collect();
    (keys, prefixes)
}

/// Shaped like a catalogue key: lower-case words joined by dots.
fn key_shaped(literal: &str) -> bool {
    literal.split('.').count() >= 2
        && literal.split('.').all(|part| {
            !part.is_empty()
                && (part.chars()).all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The catalogue keys `code` names: every key-shaped string literal under
/// one of the catalogue's prefixes, and — whatever its prefix — every one
/// handed to a function that looks a key up.
fn keys_named_in(code: &str, prefixes: &std::collections::BTreeSet<String>) -> Vec<String> {
    const LOOKUPS: &[&str] = &[
        "text(",
        "failed(",
        "usage(",
        "new(",
        "worded(",
        "next_from(",
        "table(",
        "has(",
    ];
    let mut out = Vec::new();
    let mut rest = code;
    let mut before = String::new();
    while let Some(open) = rest.find('"') {
        before.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            break;
        };
        let literal = &after[..close];
        // The code since the statement began: is a lookup being called?
        let statement = before.rsplit([';', '{', '}']).next().unwrap_or_default();
        let in_lookup = LOOKUPS.iter().any(|f| statement.contains(f));
        let under_prefix = (literal.split('.').next()).is_some_and(|p| prefixes.contains(p));
        if key_shaped(literal) && (under_prefix || in_lookup) {
            out.push(literal.to_string());
        }
        before.push_str("\"\"");
        rest = &after[close + 1..];
    }
    out
}

/// The keys a source names that neither catalogue has (directly, as the
/// base of an error: `base.what`, or of a counted noun: `base.one` and
/// `base.other`).
fn missing_keys(code: &str) -> Vec<String> {
    let (_, prefixes) = catalogue();
    let mut missing = Vec::new();
    for key in keys_named_in(code, &prefixes) {
        for locale in LOCALES {
            let counted =
                has(&format!("{key}.one"), locale) && has(&format!("{key}.other"), locale);
            if !has(&key, locale) && !has(&format!("{key}.what"), locale) && !counted {
                missing.push(format!("{key} ({locale})"));
            }
        }
    }
    missing
}

/// Every catalogue key the binary's sources name is in both catalogues:
/// a typo in a key fails here, not in front of a user.
#[test]
fn every_key_the_code_uses_is_in_both_catalogues() {
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
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        missing.extend(
            missing_keys(code)
                .into_iter()
                .map(|m| format!("{m} in {}", p.display())),
        );
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "missing catalogue keys:\n{}",
        missing.join("\n")
    );
}

/// The check catches a made-up key under any prefix: the catalogue's own
/// prefixes wherever the key is written, and a new prefix where a key is
/// looked up.
#[test]
fn a_made_up_key_is_caught_under_any_prefix() {
    let (keys, _) = catalogue();
    let mut prefixes: Vec<&str> = keys.iter().filter_map(|k| k.split('.').next()).collect();
    prefixes.dedup();
    for prefix in prefixes {
        let arm = format!("let key = match x {{ A => \"{prefix}.made_up_key\", }};");
        assert_eq!(missing_keys(&arm).len(), 2, "{arm}");
    }
    let looked_up = r#"output::note(&text("brand_new.made_up", &[]));"#;
    assert_eq!(missing_keys(looked_up).len(), 2);
    let failure = r#"Err(CliError::failed(Reason::X, "zz.nope").with("a", 1))"#;
    assert_eq!(missing_keys(failure).len(), 2);
    // A host or a file name is not a key.
    let data = r#"let host = "registry.redhat.io"; let f = "config.json";"#;
    assert!(missing_keys(data).is_empty());
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
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
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
    assert!(all.contains("[默认值："), "the catalogue's words are there");
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

/// Examples are copied and run: none is wrapped. Each line fits in 78
/// columns (a long command goes on with `\`, as kubectl's examples do),
/// and `--help` at 80 columns shows every line as written.
#[test]
fn examples_copy_cleanly() {
    let _lock = locale_lock();
    for locale in LOCALES {
        rust_i18n::set_locale(locale);
        let cmd = localize_command(crate::cli::command());
        let mut pending: Vec<(String, clap::Command)> = vec![("root".into(), cmd)];
        while let Some((path, c)) = pending.pop() {
            for s in c.get_subcommands() {
                let sub = if path == "root" {
                    s.get_name().to_string()
                } else {
                    format!("{path}.{}", s.get_name())
                };
                pending.push((sub, s.clone()));
            }
            let key = format!("help.{path}.examples");
            if !has(&key, locale) {
                continue;
            }
            let examples = text(&key, &[]);
            let help = c.clone().term_width(80).render_long_help().to_string();
            for line in examples.lines().filter(|l| !l.trim().is_empty()) {
                let width = unicode_width::UnicodeWidthStr::width(line);
                assert!(width <= 78, "{locale} {key}: {width} columns: {line}");
                assert!(
                    help.contains(line.trim_end()),
                    "{locale} {key}: wrapped in --help: {line}\n{help}"
                );
            }
        }
    }
    rust_i18n::set_locale("en");
}
