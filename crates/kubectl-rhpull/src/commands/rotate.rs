//! `rhpull rotate --username U [--registry R] [-A]`: after a registry service
//! account token is regenerated, find every pull secret (and the global pull
//! secret on OpenShift 4) holding that username, show the plan, confirm, and
//! put the new token in — keeping every other entry of each secret.

use rhpull_cluster::{ClusterError, global, rotate};
use rhpull_core::Credential;
use rhpull_core::authfile::keys;

use super::create::{dry_run, dry_suffix, outcome_word};
use crate::cli::{KubeArgs, ObjectOutput, RotateArgs};
use crate::creds;
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::output;
use crate::session::Session;

#[derive(serde::Serialize)]
struct Done<'a> {
    target: &'a rotate::Target,
    outcome: rhpull_cluster::Outcome,
}

pub fn run(kube: &KubeArgs, args: &RotateArgs) -> Result<(), CliError> {
    let registry_hint = args
        .registry
        .clone()
        .unwrap_or_else(|| "registry.redhat.io".into());
    let username = creds::read_username(&args.secret, &registry_hint)?;
    let session = Session::open(kube)?;
    let (ns, inv) = super::fleet::inventory(&session, &args.fleet)?;
    let registry = args.registry.as_deref();
    let targets = rotate::plan(&inv, &username, registry);
    // The global pull secret, when the cluster has one and it holds the username.
    let global_registries: Vec<String> = match session.block_on(global::show(&session.cluster)) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| {
                e.username == username && registry.is_none_or(|r| keys::normalize(r) == e.registry)
            })
            .map(|e| e.registry)
            .collect(),
        Err(ClusterError::NotOpenShift4(_) | ClusterError::Forbidden { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if targets.is_empty() && global_registries.is_empty() {
        return Err(CliError::from_catalogue(
            Exit::Failed,
            "rotate.nothing",
            &[
                ("username", &username),
                ("where", ns.as_deref().unwrap_or("*")),
            ],
        ));
    }
    output::print_line(&text("rotate.plan_heading", &[("username", &username)]));
    for t in &targets {
        output::print_line(&format!(
            "  secret/{} -n {}  ({})",
            t.name,
            t.namespace,
            t.registries.join(", ")
        ));
    }
    if !global_registries.is_empty() {
        output::print_line(&format!(
            "  secret/{} -n {}  ({})",
            global::NAME,
            global::NAMESPACE,
            global_registries.join(", ")
        ));
    }
    let dry = dry_run(args.write.dry_run);
    let secret = creds::read_secret(&args.secret, &registry_hint)?;
    if dry == rhpull_cluster::DryRun::None {
        creds::confirm(
            &text(
                "rotate.confirm",
                &[(
                    "count",
                    &(targets.len() + usize::from(!global_registries.is_empty())).to_string(),
                )],
            ),
            args.yes,
        )?;
    }
    let mut done = Vec::new();
    for t in &targets {
        let outcome =
            session.block_on(rotate::apply(&session.cluster, t, &username, &secret, dry))?;
        done.push(Done { target: t, outcome });
    }
    for r in &global_registries {
        let cred = Credential {
            registry: r.clone(),
            username: username.clone(),
            secret: secret.clone(),
        };
        session.block_on(global::set(&session.cluster, &cred, dry))?;
    }
    let suffix = dry_suffix(args.write.dry_run);
    match args.write.output {
        ObjectOutput::Json => output::print_json(&done),
        ObjectOutput::Yaml => output::print_yaml(&done),
        ObjectOutput::Name => done
            .iter()
            .for_each(|d| output::print_line(&format!("secret/{}", d.target.name))),
        ObjectOutput::Table => {
            for d in &done {
                output::print_line(&text(
                    "rotate.done_line",
                    &[
                        ("name", &d.target.name),
                        ("namespace", &d.target.namespace),
                        ("outcome", &outcome_word(d.outcome)),
                        ("dry", &suffix),
                    ],
                ));
            }
            if !global_registries.is_empty() {
                output::print_line(&text(
                    "rotate.global_line",
                    &[
                        ("registries", &global_registries.join(", ")),
                        ("dry", &suffix),
                    ],
                ));
            }
        }
    }
    Ok(())
}
