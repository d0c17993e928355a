//! Words more than one command uses: what a write did, the dry-run mark,
//! and the result lines for secrets and service-account links.

use rhpull_cluster::link::LinkChange;
use rhpull_cluster::{DryRun, Outcome};
use rhpull_core::authfile::Change;

use crate::i18n::text;

/// The name of `candidates` closest to `given`, as clap suggests a
/// subcommand (Jaro similarity above 0.7), if any is close.
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (strsim::jaro(given, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// A length of time as a person says it: `40 s`, `12 min`, `3 h`, `2 d`.
pub fn duration(secs: u64) -> String {
    let (key, n) = match secs {
        0..120 => ("words.seconds", secs),
        120..7_200 => ("words.minutes", secs / 60),
        7_200..172_800 => ("words.hours", secs / 3600),
        _ => ("words.days", secs / 86_400),
    };
    text(key, &[("n", &n.to_string())])
}

/// `created` / `updated` / `unchanged`.
pub fn outcome(o: Outcome) -> String {
    text(
        match o {
            Outcome::Created => "outcome.created",
            Outcome::Updated => "outcome.updated",
            Outcome::Unchanged => "outcome.unchanged",
        },
        &[],
    )
}

/// ` (dry run)` / ` (server dry run)` after a result line.
pub fn dry(d: DryRun) -> String {
    match d {
        DryRun::None => String::new(),
        DryRun::Client => text("dry_run.client", &[]),
        DryRun::Server => text("dry_run.server", &[]),
    }
}

/// `secret/NAME created in NS: registry (user), …`.
pub fn secret_line(
    name: &str,
    ns: &str,
    outcome: Outcome,
    logins: &[(String, String)],
    dry_run: DryRun,
) -> String {
    let logins: Vec<String> = logins.iter().map(|(r, u)| format!("{r} ({u})")).collect();
    text(
        "create.secret_line",
        &[
            ("name", name),
            ("namespace", ns),
            ("outcome", &self::outcome(outcome)),
            ("logins", &logins.join(", ")),
            ("dry", &dry(dry_run)),
        ],
    )
}

/// `serviceaccount/default in NS: linked mine for pull` (or, unlinking,
/// `… unlinked mine`), or `… unchanged`.
pub fn link_line(c: &LinkChange, unlinking: bool, dry_run: DryRun) -> String {
    let (sa, ns, dry) = (&c.service_account, &c.namespace, dry(dry_run));
    let args = [("sa", sa.as_str()), ("namespace", ns), ("dry", &dry)];
    if c.is_empty() {
        let key = if unlinking {
            "unlink.unchanged"
        } else {
            "link.unchanged"
        };
        return text(key, &args);
    }
    if unlinking {
        let mut all = c.pull.clone();
        all.extend(c.mount.iter().filter(|m| !c.pull.contains(m)).cloned());
        return text(
            "unlink.changed",
            &[args[0], args[1], args[2], ("secrets", &all.join(", "))],
        );
    }
    let mut parts = Vec::new();
    if !c.pull.is_empty() {
        parts.push(text("link.for_pull", &[("secrets", &c.pull.join(", "))]));
    }
    if !c.mount.is_empty() {
        parts.push(text("link.for_mount", &[("secrets", &c.mount.join(", "))]));
    }
    text(
        "link.changed",
        &[args[0], args[1], args[2], ("what", &parts.join("; "))],
    )
}

/// `openshift-config/pull-secret: REGISTRY added`, and the like.
pub fn global_line(
    secret: &str,
    registry: &str,
    change: Change,
    removing: bool,
    dry_run: DryRun,
) -> String {
    let key = match (removing, change) {
        (true, Change::Unchanged) => "global.not_there",
        (true, _) => "global.removed",
        (false, Change::Added) => "global.added",
        (false, Change::Updated) => "global.updated",
        (false, Change::Unchanged) => "global.unchanged",
    };
    text(
        key,
        &[
            ("secret", secret),
            ("registry", registry),
            ("dry", &dry(dry_run)),
        ],
    )
}

/// A message of several lines (containers/image's `errors:` list) kept
/// under the line it starts on: later lines indented by `indent`, the
/// trailing newline dropped.
pub fn hanging(message: &str, indent: usize) -> String {
    message
        .trim_end()
        .replace('\n', &format!("\n{}", " ".repeat(indent)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_of_several_lines_hangs_under_its_first() {
        let m = "reading manifest: errors:\ndenied: no\nunauthorized: yes\n";
        assert_eq!(
            super::hanging(m, 2),
            "reading manifest: errors:\n  denied: no\n  unauthorized: yes"
        );
        assert_eq!(super::hanging("one line", 4), "one line");
    }
}
