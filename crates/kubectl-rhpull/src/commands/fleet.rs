//! The binary's side of fleet work: the namespaces of `-A`/`-l`/
//! `--namespaces`, a progress bar on a TTY (indicatif), and the summary —
//! changed, unchanged, failed with each failure's reason — exit 1 if any
//! failed.

use std::io::IsTerminal as _;

use rhpull_cluster::fleet::{self, Job, NamespaceResult};

use crate::cli::{FleetArgs, ObjectOutput};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;
use crate::session::Session;

/// The namespaces of the fleet flags, or `None` when none was given.
pub fn namespaces(session: &Session, args: &FleetArgs) -> Result<Option<Vec<String>>, CliError> {
    match args.scope() {
        None => Ok(None),
        Some(scope) => Ok(Some(
            session.block_on(fleet::namespaces(&session.cluster, &scope))?,
        )),
    }
}

/// The inventory of the fleet flags' namespaces, or of `-n`'s when none is
/// given; the namespace is `None` for more than one.
pub fn inventory(
    session: &Session,
    args: &FleetArgs,
) -> Result<(Option<String>, rhpull_cluster::inventory::Inventory), CliError> {
    let scope = namespaces(session, args)?;
    let ns = scope.is_none().then(|| session.namespace().to_string());
    let mut inv = session.block_on(rhpull_cluster::inventory::collect(
        &session.cluster,
        ns.as_deref(),
    ))?;
    if let (Some(only), false) = (&scope, args.all_namespaces) {
        inv.secrets.retain(|s| only.contains(&s.namespace));
        inv.grants.retain(|g| only.contains(&g.namespace));
    }
    Ok((ns, inv))
}

fn bar(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(text("fleet.progress", &[]));
    Some(bar)
}

/// Runs `job` across `namespaces` and reports.
pub fn run(
    session: &Session,
    namespaces: &[String],
    job: &Job,
    format: ObjectOutput,
    dry: &str,
) -> Result<(), CliError> {
    let bar = bar(namespaces.len());
    let tick = |_: &NamespaceResult| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let results = session.block_on(fleet::run(&session.cluster, namespaces, job, &tick))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report(&results, format, dry)
}

/// The summary, and exit 1 when any namespace failed.
pub fn report(
    results: &[NamespaceResult],
    format: ObjectOutput,
    dry: &str,
) -> Result<(), CliError> {
    let failed: Vec<&NamespaceResult> = results.iter().filter(|r| r.error.is_some()).collect();
    match format {
        ObjectOutput::Json => output::print_json(&results),
        ObjectOutput::Yaml => output::print_yaml(&results),
        ObjectOutput::Name => results
            .iter()
            .for_each(|r| output::print_line(&format!("namespace/{}", r.namespace))),
        ObjectOutput::Table => {
            let changed = results
                .iter()
                .filter(|r| r.error.is_none() && r.changed())
                .count();
            let unchanged = results
                .iter()
                .filter(|r| r.error.is_none() && !r.changed())
                .count();
            output::print_line(&text(
                "fleet.summary",
                &[
                    ("total", &results.len().to_string()),
                    ("changed", &changed.to_string()),
                    ("unchanged", &unchanged.to_string()),
                    ("failed", &failed.len().to_string()),
                    ("dry", dry),
                ],
            ));
            for (r, e) in failed
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| (r, e)))
            {
                let err = CliError::from(e);
                output::print_line(&text(
                    "fleet.failed_line",
                    &[("namespace", &r.namespace), ("what", &err.what)],
                ));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::from_catalogue(
            Exit::Failed,
            "fleet.some_failed",
            &[
                ("failed", &failed.len().to_string()),
                ("total", &results.len().to_string()),
            ],
        ))
    }
}
