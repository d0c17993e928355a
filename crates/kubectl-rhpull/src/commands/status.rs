//! `rhpull status [-n NS | -A]`: every pull secret with the logins in it and
//! the service accounts that use it, then the image-puller grants — one look
//! instead of `oc get secrets`, `oc get sa -o yaml` and `oc get rolebindings`.

use rhpull_cluster::inventory::Inventory;

use crate::cli::{KubeArgs, ObjectOutput, StatusArgs};
use crate::error::CliError;
use crate::i18n::text;
use crate::output;
use crate::session::Session;

pub fn run(kube: &KubeArgs, args: &StatusArgs) -> Result<(), CliError> {
    let session = Session::open(kube)?;
    let (ns, inv) = super::fleet::inventory(&session, &args.fleet)?;
    let imports = image_imports(&session)?;
    let report = Report {
        inventory: &inv,
        image_imports: imports.as_ref(),
    };
    match args.output {
        ObjectOutput::Json => output::print_json(&report),
        ObjectOutput::Yaml => output::print_yaml(&report),
        ObjectOutput::Name => inv
            .secrets
            .iter()
            .for_each(|s| output::print_line(&format!("secret/{}", s.name))),
        ObjectOutput::Table => {
            print_tables(&inv, ns.as_deref());
            if let Some(i) = &imports {
                let registries = if i.registries.is_empty() {
                    "-".to_string()
                } else {
                    i.registries.join(", ")
                };
                output::print_line("");
                output::print_line(&text(
                    "status.image_imports",
                    &[("source", &i.source), ("registries", &registries)],
                ));
            }
        }
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    inventory: &'a Inventory,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_imports: Option<&'a ImageImports>,
}

/// Which credentials OpenShift's image imports use.
#[derive(serde::Serialize)]
struct ImageImports {
    source: String,
    registries: Vec<String>,
}

fn image_imports(session: &Session) -> Result<Option<ImageImports>, CliError> {
    use rhpull_cluster::discovery::{self, ClusterKind};
    let registries_of = |s: Option<k8s_openapi::api::core::v1::Secret>| -> Vec<String> {
        s.and_then(|s| rhpull_cluster::pullsecret::credentials_of(&s).ok())
            .map(|c| c.into_iter().map(|c| c.registry).collect())
            .unwrap_or_default()
    };
    Ok(
        match session.block_on(discovery::detect(&session.cluster))? {
            ClusterKind::Kubernetes => None,
            ClusterKind::OpenShift4 => {
                let s = session.block_on(rhpull_cluster::pullsecret::get(
                    &session.cluster,
                    "openshift-config",
                    "pull-secret",
                ))?;
                Some(ImageImports {
                    source: "openshift-config/pull-secret".into(),
                    registries: registries_of(s),
                })
            }
            ClusterKind::OpenShift3 => {
                let s = session.block_on(rhpull_cluster::pullsecret::get(
                    &session.cluster,
                    "openshift",
                    "imagestreamsecret",
                ))?;
                Some(ImageImports {
                    source: "openshift/imagestreamsecret".into(),
                    registries: registries_of(s),
                })
            }
        },
    )
}

fn or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

fn print_tables(inv: &Inventory, ns: Option<&str>) {
    if inv.secrets.is_empty() {
        output::print_line(&text("status.no_secrets", &[("where", ns.unwrap_or("*"))]));
    } else {
        let headers = [
            "status.col.namespace",
            "status.col.secret",
            "status.col.type",
            "status.col.logins",
            "status.col.pull",
            "status.col.mount",
            "status.col.managed",
        ]
        .map(|k| text(k, &[]));
        let rows = inv
            .secrets
            .iter()
            .map(|s| {
                let logins: Vec<String> =
                    s.logins.iter().map(|(r, u)| format!("{r} ({u})")).collect();
                let logins = match (&s.problem, logins.is_empty()) {
                    (Some(_), _) => text("status.unreadable", &[]),
                    (None, true) => "-".into(),
                    (None, false) => logins.join(", "),
                };
                let ty = s.type_.trim_start_matches("kubernetes.io/").to_string();
                let managed = if s.managed {
                    text("status.yes", &[])
                } else {
                    "-".into()
                };
                vec![
                    s.namespace.clone(),
                    s.name.clone(),
                    ty,
                    logins,
                    or_dash(&s.pull),
                    or_dash(&s.mount),
                    managed,
                ]
            })
            .collect();
        output::print_table(&headers, rows);
    }
    if !inv.grants.is_empty() {
        output::print_line("");
        let headers = [
            "status.col.namespace",
            "status.col.grant",
            "status.col.subjects",
        ]
        .map(|k| text(k, &[]));
        let rows = inv
            .grants
            .iter()
            .map(|g| {
                vec![
                    g.namespace.clone(),
                    g.binding.clone(),
                    g.subjects.join(", "),
                ]
            })
            .collect();
        output::print_table(&headers, rows);
    }
}
