//! `rhpull status [-n NS | -A]`: every pull secret with the logins in it and
//! the service accounts that use it, then the image-puller grants — one look
//! instead of `oc get secrets`, `oc get sa -o yaml` and `oc get rolebindings`
//! — and, where rhpull exported a keeper (Kyverno, ESO), each namespace it
//! covers with its copy in sync with the source, or not (yet).

use rhpull_cluster::inventory::{self, ImageImports, Inventory};
use rhpull_cluster::keepers::found::{self, Copy, Coverage};
use rhpull_cluster::namespaces;
use rhpull_cluster::pullsecret::RegistryToken;

use crate::cli::{KubeArgs, StatusArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::CliError;
use crate::i18n::text;
use crate::render::{Block, Report, list_or_dash, table};

struct Status<'a> {
    args: &'a StatusArgs,
}

pub async fn run(kube: &KubeArgs, args: &StatusArgs) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    driver::query(&Status { args }, &conn, args.output.into()).await
}

impl ClusterQuery for Status<'_> {
    type Report = StatusReport;

    async fn read(&self, cx: &Cx<'_>) -> Result<StatusReport, CliError> {
        let cluster = cx.cluster()?;
        let scope = self.args.at.fleet.scope();
        let inventory = inventory::collect_in(cluster, scope.as_ref()).await?;
        // An empty namespace and one that is not there list alike.
        if scope.is_none() && inventory.secrets.is_empty() && inventory.grants.is_empty() {
            namespaces::require(cluster, &cx.namespace).await?;
        }
        let exported = found::exported(cluster).await?;
        let keepers = if exported.is_empty() {
            Vec::new()
        } else {
            let view = found::namespaces_in_view(cluster, &cx.namespace, scope.as_ref()).await?;
            found::coverage(cluster, &exported, &view).await?
        };
        Ok(StatusReport {
            inventory,
            keepers,
            image_imports: inventory::image_imports(cluster).await?,
            namespace: scope.is_none().then(|| cx.namespace.clone()),
        })
    }
}

#[derive(Debug, serde::Serialize)]
pub struct StatusReport {
    #[serde(flatten)]
    inventory: Inventory,
    /// The keepers rhpull exported, and the namespaces in view they cover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keepers: Vec<Coverage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_imports: Option<ImageImports>,
    /// The one namespace shown, or `None` for several.
    #[serde(skip)]
    namespace: Option<String>,
}

impl Report for StatusReport {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self)
    }

    fn names(&self) -> Vec<String> {
        (self.inventory.secrets.iter())
            .map(|s| format!("secret/{}", s.name))
            .collect()
    }

    fn found(&self) -> Option<String> {
        let secrets = crate::i18n::count("words.n.pull_secrets", self.inventory.secrets.len());
        let grants = crate::i18n::count("words.n.grants", self.inventory.grants.len());
        Some(text(
            "status.found",
            &[("secrets", &secrets), ("grants", &grants)],
        ))
    }

    fn human(&self) -> Vec<Block> {
        let mut blocks = self.secrets();
        if !self.inventory.grants.is_empty() {
            let rows = (self.inventory.grants.iter())
                .map(|g| {
                    vec![
                        g.namespace.clone(),
                        g.binding.clone(),
                        g.subjects.join(", "),
                    ]
                })
                .collect();
            blocks.push(Block::Blank);
            blocks.push(table(
                &[
                    "status.col.namespace",
                    "status.col.grant",
                    "status.col.subjects",
                ],
                rows,
            ));
        }
        if !self.keepers.is_empty() {
            blocks.push(Block::Blank);
            blocks.push(self.keepers());
        }
        if let Some(i) = &self.image_imports {
            blocks.push(Block::Blank);
            blocks.push(Block::Line(text(
                "status.image_imports",
                &[
                    ("source", &i.source),
                    ("registries", &list_or_dash(&i.registries)),
                ],
            )));
        }
        blocks
    }
}

impl StatusReport {
    /// Each kept namespace in view: the keeper, its source, the copy.
    fn keepers(&self) -> Block {
        let mut rows = Vec::new();
        for k in &self.keepers {
            if k.namespaces.is_empty() {
                let none = text("status.keeper.none_in_view", &[]);
                rows.push(vec![
                    "-".into(),
                    k.keeper.keeper.clone(),
                    k.keeper.source.clone(),
                    none,
                ]);
            }
            for n in &k.namespaces {
                let copy = match n.copy {
                    Copy::InSync => "status.keeper.in_sync",
                    Copy::Differs => "status.keeper.differs",
                    Copy::Missing => "status.keeper.missing",
                };
                rows.push(vec![
                    n.namespace.clone(),
                    k.keeper.keeper.clone(),
                    k.keeper.source.clone(),
                    text(copy, &[]),
                ]);
            }
        }
        table(
            &[
                "status.col.namespace",
                "status.col.keeper",
                "status.col.source",
                "status.col.copy",
            ],
            rows,
        )
    }

    fn secrets(&self) -> Vec<Block> {
        if self.inventory.secrets.is_empty() {
            let at = self.namespace.as_deref().unwrap_or("*");
            return vec![Block::Line(text("status.no_secrets", &[("where", at)]))];
        }
        let dashed = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(",")
            }
        };
        let rows = (self.inventory.secrets.iter())
            .map(|s| {
                let logins: Vec<String> = (s.logins.iter())
                    .map(|l| format!("{} ({})", l.registry, l.username))
                    .collect();
                let logins = match (&s.internal_registry, s.problem) {
                    (Some(r), _) => {
                        let key = match r.token {
                            RegistryToken::Bound => "status.internal_registry.bound",
                            RegistryToken::Legacy => "status.internal_registry.legacy",
                        };
                        text(key, &[("sa", &r.service_account)])
                    }
                    (None, Some(_)) => text("status.unreadable", &[]),
                    (None, None) => list_or_dash(&logins),
                };
                let managed = match (s.managed, &s.internal_registry) {
                    (true, _) => text("status.yes", &[]),
                    (false, Some(_)) => text("status.by_openshift", &[]),
                    (false, None) => "-".into(),
                };
                vec![
                    s.namespace.clone(),
                    s.name.clone(),
                    s.type_.trim_start_matches("kubernetes.io/").to_string(),
                    logins,
                    dashed(&s.pull),
                    dashed(&s.mount),
                    managed,
                ]
            })
            .collect();
        vec![table(
            &[
                "status.col.namespace",
                "status.col.secret",
                "status.col.type",
                "status.col.logins",
                "status.col.pull",
                "status.col.mount",
                "status.col.managed",
            ],
            rows,
        )]
    }
}
