//! `rhpull delegated --registry R [--auth-server HOST]`: the pair of pull
//! secrets delegated authentication needs — one for the auth server (found
//! in the registry's own challenge unless given) and one for the registry —
//! created with one login and linked to the same service accounts.

use rhpull_cluster::discovery;
use rhpull_cluster::link::{self, LinkFor};
use rhpull_cluster::{delegated, pullsecret};
use rhpull_core::authfile::{Selection, keys};

use super::check;
use super::create::{dry_run, dry_suffix, outcome_word};
use crate::cli::{DelegatedArgs, KubeArgs};
use crate::creds;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::session::Session;
use crate::{objects, output};

pub fn run(kube: &KubeArgs, args: &DelegatedArgs) -> Result<(), CliError> {
    let registry = keys::normalize(&args.registry);
    let found = creds::gather(
        &args.secret,
        &args.source,
        &Selection::Named(vec![registry.clone()]),
        &registry,
    )?;
    let credential = found[0].credential.clone();
    let auth_server = match &args.auth_server {
        Some(h) => h.clone(),
        None => {
            let options = check::options(&registry, &args.net, kube);
            let rt = crate::session::runtime()?;
            match rt.block_on(rhpull_core::sso::flow::discover_auth_server(&options)) {
                Ok(Some(host)) => host,
                Ok(None) => {
                    return Err(CliError::from_catalogue(
                        Exit::Failed,
                        "delegated.no_auth_needed",
                        &[("registry", &registry)],
                    ));
                }
                Err(cause) => {
                    let (what, why, next) = check::render::cause_texts(&cause, &registry);
                    return Err(CliError {
                        exit: Exit::Failed,
                        what,
                        why,
                        next,
                    });
                }
            }
        }
    };
    let session = Session::open(kube)?;
    let ns = session.namespace().to_string();
    let base = args.name.clone().unwrap_or_else(|| {
        pullsecret::default_name(std::slice::from_ref(&credential))
            .trim_end_matches("-pull-secret")
            .to_string()
    });
    let pair = delegated::pair(&base, &ns, &registry, &auth_server, &credential);
    let dry = dry_run(args.write.dry_run);
    let suffix = dry_suffix(args.write.dry_run);
    let mut lines = Vec::new();
    for secret in &pair {
        let outcome = session.block_on(pullsecret::apply(&session.cluster, secret, dry, false))?;
        let name = secret.metadata.name.clone().unwrap_or_default();
        lines.push(text(
            "delegated.secret_line",
            &[
                ("name", &name),
                ("namespace", &ns),
                ("outcome", &outcome_word(outcome)),
                ("dry", &suffix),
            ],
        ));
    }
    let names: Vec<String> = pair
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    let service_accounts = if args.link.is_empty() {
        vec!["default".to_string()]
    } else {
        args.link.clone()
    };
    if dry != rhpull_cluster::DryRun::Client {
        let openshift = session
            .block_on(discovery::detect(&session.cluster))?
            .is_openshift();
        for sa in &service_accounts {
            session.block_on(link::wait_for(
                &session.cluster,
                &ns,
                sa,
                std::time::Duration::from_secs(30),
                openshift,
            ))?;
            let change = session.block_on(link::link(
                &session.cluster,
                &ns,
                sa,
                &names,
                LinkFor::Pull,
                dry,
            ))?;
            lines.push(super::link::change_line(&change, &suffix));
        }
    }
    let values: Vec<_> = pair
        .iter()
        .map(|s| objects::redacted(objects::to_value(s), args.write.show_secrets))
        .collect();
    if objects::print(&values, args.write.output) {
        return Ok(());
    }
    output::print_line(&text(
        "delegated.heading",
        &[("registry", &registry), ("auth_server", &auth_server)],
    ));
    for l in lines {
        output::print_line(&l);
    }
    Ok(())
}
