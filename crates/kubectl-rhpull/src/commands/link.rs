//! `rhpull link SA [SECRET]...` and `rhpull unlink SA SECRET...`: as `oc
//! secrets link`/`unlink`, keeping every other entry, retrying on conflicts,
//! naming every secret that does not exist. With no SECRET, the one pull
//! secret rhpull manages in the namespace is linked.

use rhpull_cluster::access::Need;
use rhpull_cluster::link::{self, LinkChange, LinkFor};
use rhpull_cluster::{discovery, inventory};

use super::create::{dry_run, dry_suffix, link_for};
use crate::cli::{KubeArgs, LinkArgs, ObjectOutput, UnlinkArgs};
use crate::creds;
use crate::error::CliError;
use crate::i18n::text;
use crate::output;
use crate::session::Session;

/// `serviceaccount/default: linked mine (pull)` or `… unchanged`.
pub fn change_line(c: &LinkChange, dry: &str) -> String {
    let sa = &c.service_account;
    if c.is_empty() {
        return text(
            "link.unchanged",
            &[("sa", sa), ("namespace", &c.namespace), ("dry", dry)],
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
        &[
            ("sa", sa),
            ("namespace", &c.namespace),
            ("what", &parts.join("; ")),
            ("dry", dry),
        ],
    )
}

fn unlink_line(c: &LinkChange, dry: &str) -> String {
    if c.is_empty() {
        return text(
            "unlink.unchanged",
            &[
                ("sa", &c.service_account),
                ("namespace", &c.namespace),
                ("dry", dry),
            ],
        );
    }
    let mut all = c.pull.clone();
    for m in &c.mount {
        if !all.contains(m) {
            all.push(m.clone());
        }
    }
    text(
        "unlink.changed",
        &[
            ("sa", &c.service_account),
            ("namespace", &c.namespace),
            ("secrets", &all.join(", ")),
            ("dry", dry),
        ],
    )
}

/// The pull secret to link when none is named: rhpull's only one here.
fn default_secret(session: &Session, ns: &str) -> Result<String, CliError> {
    let inv = session.block_on(inventory::collect(&session.cluster, Some(ns)))?;
    let managed: Vec<String> = inv
        .secrets
        .into_iter()
        .filter(|s| s.managed)
        .map(|s| s.name)
        .collect();
    match managed.as_slice() {
        [] => Err(CliError::from_catalogue(
            crate::error::Exit::Failed,
            "link.no_managed_secret",
            &[("namespace", ns)],
        )),
        [one] => Ok(one.clone()),
        many => creds::choose(
            &text("link.choose", &[("namespace", ns)]),
            many,
            "link.several_managed",
            &[("namespace", ns), ("secrets", &many.join(", "))],
        ),
    }
}

pub fn run(kube: &KubeArgs, args: &LinkArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let for_ = args
        .link_for
        .map(link_for)
        .unwrap_or(if args.service_account == "builder" {
            LinkFor::Mount
        } else {
            LinkFor::Pull
        });
    if let Some(namespaces) = super::fleet::namespaces(&session, &args.fleet)? {
        if args.secrets.is_empty() {
            return Err(CliError::from_catalogue(
                crate::error::Exit::Usage,
                "link.fleet_needs_secret",
                &[],
            ));
        }
        for secret in &args.secrets {
            let job = rhpull_cluster::fleet::Job {
                secret: None,
                secret_name: secret.clone(),
                service_accounts: vec![args.service_account.clone()],
                link_for: for_,
                dry_run: dry_run(args.write.dry_run),
                overwrite: false,
                concurrency: args.fleet.concurrency,
            };
            super::fleet::run(
                &session,
                &namespaces,
                &job,
                args.write.output,
                &dry_suffix(args.write.dry_run),
            )?;
        }
        return Ok(());
    }
    let ns = session.namespace().to_string();
    let secrets = if args.secrets.is_empty() {
        vec![default_secret(&session, &ns)?]
    } else {
        args.secrets.clone()
    };
    // `oc secrets link builder` mounts by default: builds read mounted secrets.
    let for_ = args
        .link_for
        .map(link_for)
        .unwrap_or(if args.service_account == "builder" {
            LinkFor::Mount
        } else {
            LinkFor::Pull
        });
    let dry = dry_run(args.write.dry_run);
    session.require(
        &[Need::new("update", "", "serviceaccounts", Some(&ns))],
        args.write.dry_run,
    )?;
    let openshift = session
        .block_on(discovery::detect(&session.cluster))?
        .is_openshift();
    session.block_on(link::wait_for(
        &session.cluster,
        &ns,
        &args.service_account,
        args.wait,
        openshift,
    ))?;
    session.block_on(link::require_secrets(&session.cluster, &ns, &secrets))?;
    let change = session.block_on(link::link(
        &session.cluster,
        &ns,
        &args.service_account,
        &secrets,
        for_,
        dry,
    ))?;
    print(
        &change,
        args.write.output,
        &change_line(&change, &dry_suffix(args.write.dry_run)),
    );
    Ok(())
}

pub fn unlink(kube: &KubeArgs, args: &UnlinkArgs) -> Result<(), CliError> {
    use futures::StreamExt as _;
    let session = Session::open(kube)?;
    let dry = dry_run(args.write.dry_run);
    let suffix = dry_suffix(args.write.dry_run);
    let Some(namespaces) = super::fleet::namespaces(&session, &args.fleet)? else {
        let ns = session.namespace().to_string();
        let change = session.block_on(link::unlink(
            &session.cluster,
            &ns,
            &args.service_account,
            &args.secrets,
            dry,
        ))?;
        print(&change, args.write.output, &unlink_line(&change, &suffix));
        return Ok(());
    };
    let cluster = &session.cluster;
    let mut results = session.block_on(
        futures::stream::iter(namespaces)
            .map(|ns| async move {
                let (links, error) =
                    match link::unlink(cluster, &ns, &args.service_account, &args.secrets, dry)
                        .await
                    {
                        Ok(c) => (vec![c], None),
                        Err(e) => (Vec::new(), Some(e)),
                    };
                rhpull_cluster::fleet::NamespaceResult {
                    namespace: ns,
                    secret: None,
                    links,
                    error,
                }
            })
            .buffer_unordered(args.fleet.concurrency.max(1))
            .collect::<Vec<_>>(),
    );
    results.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    super::fleet::report(&results, args.write.output, &suffix)
}

fn print(change: &LinkChange, format: ObjectOutput, line: &str) {
    match format {
        ObjectOutput::Json => output::print_json(change),
        ObjectOutput::Yaml => output::print_yaml(change),
        ObjectOutput::Name => {
            output::print_line(&format!("serviceaccount/{}", change.service_account))
        }
        ObjectOutput::Table => output::print_line(line),
    }
}

/// `rhpull build-secret BC [SECRET] [--push]`: the BuildConfig's pull (or
/// push) secret, default the one pull secret rhpull manages here.
pub fn build_secret(kube: &KubeArgs, args: &crate::cli::BuildSecretArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let ns = session.namespace().to_string();
    let secret = match &args.secret {
        Some(s) => s.clone(),
        None => default_secret(&session, &ns)?,
    };
    session.block_on(link::require_secrets(
        &session.cluster,
        &ns,
        std::slice::from_ref(&secret),
    ))?;
    session.require(
        &[Need::new(
            "patch",
            "build.openshift.io",
            "buildconfigs",
            Some(&ns),
        )],
        args.write.dry_run,
    )?;
    let dry = dry_run(args.write.dry_run);
    let outcome = session.block_on(rhpull_cluster::buildconfig::set_secret(
        &session.cluster,
        &ns,
        &args.build_config,
        &secret,
        args.push,
        dry,
    ))?;
    let key = match (outcome, args.push) {
        (rhpull_cluster::Outcome::Unchanged, _) => "build_secret.unchanged",
        (_, true) => "build_secret.push",
        (_, false) => "build_secret.pull",
    };
    output::print_line(&text(
        key,
        &[
            ("bc", &args.build_config),
            ("namespace", &ns),
            ("secret", &secret),
            ("dry", &dry_suffix(args.write.dry_run)),
        ],
    ));
    Ok(())
}
