//! `rhpull grant FROM TO...` and `rhpull revoke FROM TO...`: pods in project
//! FROM may (or may no longer) pull images from each project TO — the
//! `system:image-puller` RoleBinding `oc policy add-role-to-user` makes.

use rhpull_cluster::access::Need;
use rhpull_cluster::grants::{self, GrantChange, Grantee};

use super::create::{dry_run, dry_suffix};
use crate::cli::{GrantArgs, KubeArgs, ObjectOutput};
use crate::error::CliError;
use crate::i18n::text;
use crate::output;
use crate::session::Session;

fn grantee(args: &GrantArgs) -> Grantee {
    if args.all_service_accounts {
        Grantee::AllServiceAccounts
    } else if args.service_accounts.is_empty() {
        Grantee::ServiceAccounts(vec!["default".into()])
    } else {
        Grantee::ServiceAccounts(args.service_accounts.clone())
    }
}

fn print(changes: &[GrantChange], format: ObjectOutput, lines: &[String]) {
    match format {
        ObjectOutput::Json => output::print_json(&changes),
        ObjectOutput::Yaml => output::print_yaml(&changes),
        ObjectOutput::Name => {
            for c in changes {
                output::print_line(&format!("rolebinding/{}", c.binding));
            }
        }
        ObjectOutput::Table => {
            for l in lines {
                output::print_line(l);
            }
        }
    }
}

/// TO projects: the positional ones and those of the fleet flags.
fn targets(session: &Session, args: &GrantArgs) -> Result<Vec<String>, CliError> {
    let mut to = args.to.clone();
    for ns in super::fleet::namespaces(session, &args.fleet)?.unwrap_or_default() {
        if ns != args.from && !to.contains(&ns) {
            to.push(ns);
        }
    }
    Ok(to)
}

pub fn grant(kube: &KubeArgs, args: &GrantArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let targets = targets(&session, args)?;
    let needs: Vec<Need> = targets
        .iter()
        .map(|t| {
            Need::new(
                "create",
                "rbac.authorization.k8s.io",
                "rolebindings",
                Some(t),
            )
        })
        .collect();
    session.require(&needs, args.write.dry_run)?;
    let who = grantee(args);
    let dry = dry_run(args.write.dry_run);
    let suffix = dry_suffix(args.write.dry_run);
    let (mut changes, mut lines) = (Vec::new(), Vec::new());
    for to in &targets {
        let c = session.block_on(grants::grant(&session.cluster, &args.from, to, &who, dry))?;
        lines.push(if c.subjects.is_empty() {
            text(
                "grant.unchanged",
                &[("from", &args.from), ("to", to), ("dry", &suffix)],
            )
        } else {
            text(
                "grant.changed",
                &[
                    ("from", &args.from),
                    ("to", to),
                    ("binding", &c.binding),
                    ("subjects", &c.subjects.join(", ")),
                    ("dry", &suffix),
                ],
            )
        });
        changes.push(c);
    }
    print(&changes, args.write.output, &lines);
    Ok(())
}

pub fn revoke(kube: &KubeArgs, args: &GrantArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let targets = targets(&session, args)?;
    let who = grantee(args);
    let dry = dry_run(args.write.dry_run);
    let suffix = dry_suffix(args.write.dry_run);
    let (mut changes, mut lines) = (Vec::new(), Vec::new());
    for to in &targets {
        let cs = session.block_on(grants::revoke(&session.cluster, &args.from, to, &who, dry))?;
        if cs.is_empty() {
            lines.push(text(
                "revoke.unchanged",
                &[("from", &args.from), ("to", to), ("dry", &suffix)],
            ));
        }
        for c in &cs {
            let key = if c.deleted_binding {
                "revoke.deleted"
            } else {
                "revoke.changed"
            };
            lines.push(text(
                key,
                &[
                    ("to", to),
                    ("binding", &c.binding),
                    ("subjects", &c.subjects.join(", ")),
                    ("dry", &suffix),
                ],
            ));
        }
        changes.extend(cs);
    }
    print(&changes, args.write.output, &lines);
    Ok(())
}
