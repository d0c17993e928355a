//! `rhpull global show | set REGISTRY | remove REGISTRY`: OpenShift 4's
//! `openshift-config/pull-secret`, changed one registry at a time, never
//! dropping another's entry, after a confirmation (`--yes` skips it).

use rhpull_cluster::access::Need;
use rhpull_cluster::global;
use rhpull_core::authfile::{Change, Selection, keys};

use super::create::{dry_run, dry_suffix};
use crate::cli::{
    GlobalAction, GlobalArgs, GlobalCheckArgs, GlobalRemoveArgs, GlobalSetArgs, GlobalShowArgs,
    KubeArgs, ObjectOutput, OutputFormat,
};
use crate::creds;
use crate::error::CliError;
use crate::i18n::text;
use crate::output;
use crate::session::Session;

pub fn run(kube: &KubeArgs, args: &GlobalArgs) -> Result<(), CliError> {
    match &args.action {
        GlobalAction::Show(a) => show(kube, a),
        GlobalAction::Check(a) => check(kube, a),
        GlobalAction::Set(a) => set(kube, a),
        GlobalAction::Remove(a) => remove(kube, a),
    }
}

fn show(kube: &KubeArgs, args: &GlobalShowArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let entries = session.block_on(global::show(&session.cluster))?;
    match args.output {
        ObjectOutput::Json => output::print_json(&entries),
        ObjectOutput::Yaml => output::print_yaml(&entries),
        ObjectOutput::Name => entries.iter().for_each(|e| output::print_line(&e.registry)),
        ObjectOutput::Table => {
            let headers = ["global.col.registry", "global.col.username"].map(|k| text(k, &[]));
            let rows = entries
                .iter()
                .map(|e| vec![e.registry.clone(), e.username.clone()])
                .collect();
            output::print_table(&headers, rows);
        }
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct EntryCheck {
    registry: String,
    username: String,
    report: rhpull_core::sso::CheckReport,
}

/// Is the global pull secret still good? The registry flow for each entry,
/// one line each, without printing a secret; exit 1 if any fails.
fn check(kube: &KubeArgs, args: &GlobalCheckArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let credentials = session.block_on(global::credentials(&session.cluster))?;
    let mut results = Vec::new();
    for c in credentials {
        let mut options = super::check::options(&c.registry, &args.net, kube);
        options.credential = Some(c.clone());
        let report = super::check::run_check(&options)?;
        results.push(EntryCheck {
            registry: c.registry.clone(),
            username: c.username.clone(),
            report,
        });
    }
    let all_passed = results.iter().all(|r| r.report.passed);
    match args.output {
        OutputFormat::Json => output::print_json(&results),
        OutputFormat::Table => {
            for r in &results {
                let failed = r
                    .report
                    .steps
                    .iter()
                    .find(|s| s.status == rhpull_core::sso::Status::Failed);
                let line = match failed.and_then(|s| s.cause.as_ref()) {
                    None => text(
                        "global.check_ok",
                        &[("registry", &r.registry), ("username", &r.username)],
                    ),
                    Some(cause) => {
                        let (what, _, next) = super::check::render::cause_texts(cause, &r.registry);
                        let next = next.map(|n| format!(" — {n}")).unwrap_or_default();
                        text(
                            "global.check_failed",
                            &[
                                ("registry", &r.registry),
                                ("username", &r.username),
                                ("what", &what),
                                ("next", &next),
                            ],
                        )
                    }
                };
                output::print_line(&line);
            }
        }
    }
    if all_passed {
        Ok(())
    } else {
        Err(CliError::silent(crate::error::Exit::Failed))
    }
}

fn change_line(change: Change, registry: &str, dry: &str) -> String {
    let key = match change {
        Change::Added => "global.added",
        Change::Updated => "global.updated",
        Change::Unchanged => "global.unchanged",
    };
    text(key, &[("registry", registry), ("dry", dry)])
}

fn set(kube: &KubeArgs, args: &GlobalSetArgs) -> Result<(), CliError> {
    let registry = keys::normalize(&args.registry);
    let found = creds::gather(
        &args.secret,
        &args.source,
        &Selection::Named(vec![registry.clone()]),
        &registry,
    )?;
    let session = Session::open(kube)?;
    // Read first: a missing pull secret (not OpenShift 4) fails before asking.
    session.block_on(global::show(&session.cluster))?;
    let dry = dry_run(args.write.dry_run);
    session.require(
        &[Need::new("update", "", "secrets", Some(global::NAMESPACE))],
        args.write.dry_run,
    )?;
    if dry == rhpull_cluster::DryRun::None {
        creds::confirm(
            &text("global.confirm_set", &[("registry", &registry)]),
            args.yes,
        )?;
    }
    let change = session.block_on(global::set(&session.cluster, &found[0].credential, dry))?;
    output::print_line(&change_line(
        change,
        &registry,
        &dry_suffix(args.write.dry_run),
    ));
    Ok(())
}

fn remove(kube: &KubeArgs, args: &GlobalRemoveArgs) -> Result<(), CliError> {
    let registry = keys::normalize(&args.registry);
    let session = Session::open(kube)?;
    let present = session
        .block_on(global::show(&session.cluster))?
        .iter()
        .any(|e| e.registry == registry);
    let dry = dry_run(args.write.dry_run);
    session.require(
        &[Need::new("update", "", "secrets", Some(global::NAMESPACE))],
        args.write.dry_run,
    )?;
    if present && dry == rhpull_cluster::DryRun::None {
        creds::confirm(
            &text("global.confirm_remove", &[("registry", &registry)]),
            args.yes,
        )?;
    }
    let change = session.block_on(global::remove(&session.cluster, &registry, dry))?;
    let key = if change == Change::Unchanged {
        "global.not_there"
    } else {
        "global.removed"
    };
    output::print_line(&text(
        key,
        &[
            ("registry", &registry),
            ("dry", &dry_suffix(args.write.dry_run)),
        ],
    ));
    Ok(())
}
