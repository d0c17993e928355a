//! `rhpull create [NAME]`: a pull secret from a stored login (podman's,
//! docker's, a file) or a typed one, optionally verified against the
//! registry first and linked to service accounts — what `oc create secret
//! docker-registry` + `oc secrets link` do by hand, idempotently.

use rhpull_cluster::access::Need;
use rhpull_cluster::discovery;
use rhpull_cluster::link::{self, LinkFor};
use rhpull_cluster::pullsecret::{self, Format};
use rhpull_core::Credential;
use rhpull_core::authfile::Selection;

use super::check;
use crate::cli::{CreateArgs, ForArg, KubeArgs, SecretTypeArg};
use crate::creds;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::session::Session;
use crate::{objects, output};

pub fn link_for(f: ForArg) -> LinkFor {
    match f {
        ForArg::Pull => LinkFor::Pull,
        ForArg::Mount => LinkFor::Mount,
        ForArg::Both => LinkFor::Both,
    }
}

pub fn dry_run(d: crate::cli::DryRunArg) -> rhpull_cluster::DryRun {
    match d {
        crate::cli::DryRunArg::None => rhpull_cluster::DryRun::None,
        crate::cli::DryRunArg::Client => rhpull_cluster::DryRun::Client,
        crate::cli::DryRunArg::Server => rhpull_cluster::DryRun::Server,
    }
}

/// " (dry run)" / " (server dry run)" after a result line.
pub fn dry_suffix(d: crate::cli::DryRunArg) -> String {
    match d {
        crate::cli::DryRunArg::None => String::new(),
        crate::cli::DryRunArg::Client => text("dry_run.client", &[]),
        crate::cli::DryRunArg::Server => text("dry_run.server", &[]),
    }
}

/// `secret/NAME created in NS: registry (user), …` for a written secret.
fn secret_line(
    name: &str,
    ns: &str,
    outcome: rhpull_cluster::Outcome,
    credentials: &[Credential],
    dry: &str,
) -> String {
    let logins: Vec<String> = credentials
        .iter()
        .map(|c| format!("{} ({})", c.registry, c.username))
        .collect();
    text(
        "create.secret_line",
        &[
            ("name", name),
            ("namespace", ns),
            ("outcome", &outcome_word(outcome)),
            ("logins", &logins.join(", ")),
            ("dry", dry),
        ],
    )
}

pub fn outcome_word(o: rhpull_cluster::Outcome) -> String {
    match o {
        rhpull_cluster::Outcome::Created => text("outcome.created", &[]),
        rhpull_cluster::Outcome::Updated => text("outcome.updated", &[]),
        rhpull_cluster::Outcome::Unchanged => text("outcome.unchanged", &[]),
    }
}

fn selection(args: &CreateArgs) -> Selection {
    if args.all_registries {
        Selection::All
    } else if !args.registries.is_empty() {
        Selection::Named(args.registries.clone())
    } else {
        Selection::RedHat
    }
}

/// Runs `check` for every credential before anything is written.
fn verify(kube: &KubeArgs, credentials: &[Credential], args: &CreateArgs) -> Result<(), CliError> {
    for c in credentials {
        let mut options = check::options(&c.registry, &args.net, kube);
        options.credential = Some(c.clone());
        let report = check::run_check(&options)?;
        if !check::all_passed(&report) {
            check::render::print(
                &report,
                Some(&creds::Found {
                    credential: c.clone(),
                    source: None,
                }),
            );
            return Err(CliError::from_catalogue(
                Exit::Failed,
                "create.not_verified",
                &[("registry", &c.registry)],
            ));
        }
    }
    Ok(())
}

pub fn run(kube: &KubeArgs, args: &CreateArgs) -> Result<(), CliError> {
    let registry = args
        .registries
        .first()
        .cloned()
        .unwrap_or_else(|| "registry.redhat.io".into());
    let found = creds::gather(&args.secret, &args.source, &selection(args), &registry)?;
    let credentials: Vec<Credential> = found.iter().map(|f| f.credential.clone()).collect();
    let format = match args.secret_type {
        SecretTypeArg::Dockercfg => Format::DockerCfg,
        SecretTypeArg::Dockerconfigjson => Format::DockerConfigJson,
        SecretTypeArg::Podmanconfigjson => {
            output::warn(&text("create.podmanconfigjson", &[]));
            Format::DockerConfigJson
        }
    };
    if args.verify {
        verify(kube, &credentials, args)?;
    }
    let session = Session::open(kube)?;
    if args.for_imagestreams {
        return for_imagestreams(&session, args, format, &credentials);
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| pullsecret::default_name(&credentials));
    if let Some(namespaces) = super::fleet::namespaces(&session, &args.fleet)? {
        let first = namespaces.first().map(String::as_str);
        let mut needs = vec![
            Need::new("list", "", "secrets", None),
            Need::new("create", "", "secrets", first),
        ];
        if !args.link.is_empty() {
            needs.extend([
                Need::new("list", "", "serviceaccounts", None),
                Need::new("update", "", "serviceaccounts", first),
            ]);
        }
        session.require(&needs, args.write.dry_run)?;
        let job = rhpull_cluster::fleet::Job {
            secret: Some((name.clone(), format, credentials)),
            secret_name: name,
            service_accounts: args.link.clone(),
            link_for: link_for(args.link_for),
            dry_run: dry_run(args.write.dry_run),
            overwrite: args.overwrite,
            concurrency: args.fleet.concurrency,
        };
        return super::fleet::run(
            &session,
            &namespaces,
            &job,
            args.write.output,
            &dry_suffix(args.write.dry_run),
        );
    }
    let ns = session.namespace().to_string();
    let mut needs = vec![Need::new("create", "", "secrets", Some(&ns))];
    if !args.link.is_empty() {
        needs.push(Need::new("update", "", "serviceaccounts", Some(&ns)));
    }
    session.require(&needs, args.write.dry_run)?;
    let secret = pullsecret::build(&name, &ns, format, &credentials);
    let dry = dry_run(args.write.dry_run);
    let outcome = session.block_on(pullsecret::apply(
        &session.cluster,
        &secret,
        dry,
        args.overwrite,
    ))?;

    let mut links = Vec::new();
    if !args.link.is_empty() {
        let openshift = session
            .block_on(discovery::detect(&session.cluster))?
            .is_openshift();
        for sa in &args.link {
            if dry != rhpull_cluster::DryRun::Client {
                session.block_on(link::wait_for(
                    &session.cluster,
                    &ns,
                    sa,
                    args.wait,
                    openshift,
                ))?;
            }
            let change = if dry == rhpull_cluster::DryRun::Client
                && outcome == rhpull_cluster::Outcome::Created
            {
                // The secret does not exist; say what the link would add.
                link::LinkChange {
                    namespace: ns.clone(),
                    service_account: sa.clone(),
                    pull: vec![name.clone()],
                    mount: Vec::new(),
                }
            } else {
                session.block_on(link::link(
                    &session.cluster,
                    &ns,
                    sa,
                    std::slice::from_ref(&name),
                    link_for(args.link_for),
                    dry,
                ))?
            };
            links.push(change);
        }
    }

    let value = objects::redacted(objects::to_value(&secret), args.write.show_secrets);
    if objects::print(&[value], args.write.output) {
        return Ok(());
    }
    let suffix = dry_suffix(args.write.dry_run);
    output::print_line(&secret_line(&name, &ns, outcome, &credentials, &suffix));
    for change in links {
        output::print_line(&super::link::change_line(&change, &suffix));
    }
    Ok(())
}

/// Image imports read registry credentials from the global pull secret on
/// OpenShift 4 and from `openshift/imagestreamsecret` on 3.x: write the one
/// this cluster uses.
fn for_imagestreams(
    session: &Session,
    args: &CreateArgs,
    format: Format,
    credentials: &[Credential],
) -> Result<(), CliError> {
    use rhpull_cluster::discovery::ClusterKind;
    let dry = dry_run(args.write.dry_run);
    let suffix = dry_suffix(args.write.dry_run);
    match session.block_on(discovery::detect(&session.cluster))? {
        ClusterKind::OpenShift4 => {
            let ns = rhpull_cluster::global::NAMESPACE;
            session.require(
                &[Need::new("update", "", "secrets", Some(ns))],
                args.write.dry_run,
            )?;
            if dry == rhpull_cluster::DryRun::None {
                let registries: Vec<&str> =
                    credentials.iter().map(|c| c.registry.as_str()).collect();
                creds::confirm(
                    &text(
                        "global.confirm_set",
                        &[("registry", &registries.join(", "))],
                    ),
                    args.yes,
                )?;
            }
            for c in credentials {
                let change =
                    session.block_on(rhpull_cluster::global::set(&session.cluster, c, dry))?;
                let key = match change {
                    rhpull_core::authfile::Change::Added => "global.added",
                    rhpull_core::authfile::Change::Updated => "global.updated",
                    rhpull_core::authfile::Change::Unchanged => "global.unchanged",
                };
                output::print_line(&text(key, &[("registry", &c.registry), ("dry", &suffix)]));
            }
            Ok(())
        }
        ClusterKind::OpenShift3 => {
            let (ns, name) = ("openshift", "imagestreamsecret");
            session.require(
                &[Need::new("create", "", "secrets", Some(ns))],
                args.write.dry_run,
            )?;
            let secret = pullsecret::build(name, ns, format, credentials);
            let outcome = session.block_on(pullsecret::apply(
                &session.cluster,
                &secret,
                dry,
                args.overwrite,
            ))?;
            output::print_line(&secret_line(name, ns, outcome, credentials, &suffix));
            Ok(())
        }
        ClusterKind::Kubernetes => Err(CliError::from_catalogue(
            Exit::Failed,
            "create.no_imagestreams",
            &[],
        )),
    }
}
