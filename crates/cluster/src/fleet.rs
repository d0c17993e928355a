//! The same job across many namespaces, with the fewest requests the job
//! allows: the namespaces are listed once (paged), the existing secrets once
//! (by name, across namespaces), the service accounts once; then each
//! namespace costs at most one create and one conditional update, run
//! concurrently with a bound on one shared client. An unchanged namespace
//! costs no write; a failure in one never stops the others.

use std::collections::HashMap;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::api::{Api, ListParams};

use crate::error::ClusterError;
use crate::inventory::list_all;
use crate::link::{self, LinkChange, LinkFor};
use crate::pullsecret;
use crate::{Cluster, DryRun, Outcome};

/// Which namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaces(Vec<String>),
    /// A label selector on namespaces (`-l team=a`).
    Selector(String),
    All,
}

/// The namespaces of a scope, in name order.
pub async fn namespaces(cluster: &Cluster, scope: &Scope) -> Result<Vec<String>, ClusterError> {
    let params = match scope {
        Scope::Namespaces(list) => return Ok(list.clone()),
        Scope::Selector(s) => ListParams::default().labels(s),
        Scope::All => ListParams::default(),
    };
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    let all = list_all(&api, params)
        .await
        .map_err(|e| ClusterError::from_kube(e, "namespace", "", ""))?;
    Ok(all.into_iter().filter_map(|n| n.metadata.name).collect())
}

/// What happened in one namespace.
#[derive(Debug, serde::Serialize)]
pub struct NamespaceResult {
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Outcome>,
    pub links: Vec<LinkChange>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_text")]
    pub error: Option<ClusterError>,
}

fn as_text<S: serde::Serializer>(e: &Option<ClusterError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_str(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl NamespaceResult {
    /// True when something was (or, in a dry run, would be) written.
    pub fn changed(&self) -> bool {
        self.secret.is_some_and(|o| o != Outcome::Unchanged)
            || self.links.iter().any(|l| !l.is_empty())
    }
}

/// A pull secret to put in every namespace, and who links it.
#[derive(Clone, Debug)]
pub struct Job {
    /// `None`: link an existing secret only.
    pub secret: Option<(String, pullsecret::Format, Vec<rhpull_core::Credential>)>,
    pub secret_name: String,
    pub service_accounts: Vec<String>,
    pub link_for: LinkFor,
    pub dry_run: DryRun,
    pub overwrite: bool,
    pub concurrency: usize,
}

async fn by_name<K>(
    cluster: &Cluster,
    names: &[String],
) -> Result<HashMap<(String, String), K>, ClusterError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::all(cluster.client.clone());
    let mut out = HashMap::new();
    for name in names {
        // Objects of one name, one per namespace at most: large pages keep a
        // 10,000-namespace run within its request budget.
        let params = ListParams::default()
            .fields(&format!("metadata.name={name}"))
            .limit(5000);
        let items = list_all(&api, params)
            .await
            .map_err(|e| ClusterError::from_kube(e, "list", "", name))?;
        for o in items {
            let meta = o.meta();
            out.insert(
                (
                    meta.namespace.clone().unwrap_or_default(),
                    meta.name.clone().unwrap_or_default(),
                ),
                o,
            );
        }
    }
    Ok(out)
}

async fn one(
    cluster: &Cluster,
    ns: &str,
    job: &Job,
    existing: Option<Secret>,
    sas: &HashMap<(String, String), ServiceAccount>,
) -> Result<(Option<Outcome>, Vec<LinkChange>), ClusterError> {
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    let outcome = match &job.secret {
        Some((name, format, creds)) => {
            let wanted = pullsecret::build(name, ns, *format, creds);
            Some(
                pullsecret::apply_against(&secrets, existing, &wanted, job.dry_run, job.overwrite)
                    .await?,
            )
        }
        None if existing.is_none() => {
            return Err(ClusterError::SecretsMissing {
                namespace: ns.to_string(),
                names: vec![job.secret_name.clone()],
            });
        }
        None => None,
    };
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), ns);
    let mut links = Vec::new();
    for sa in &job.service_accounts {
        let current =
            sas.get(&(ns.to_string(), sa.clone()))
                .ok_or_else(|| ClusterError::NotFound {
                    kind: "serviceaccount",
                    namespace: ns.to_string(),
                    name: sa.clone(),
                })?;
        let names = std::slice::from_ref(&job.secret_name);
        let change = match link::link_from(&api, current, names, job.link_for, job.dry_run).await {
            // Someone changed it since the list: start over from a fresh read.
            Err(e) if e.is_conflict() => {
                link::link(cluster, ns, sa, names, job.link_for, job.dry_run).await?
            }
            other => other?,
        };
        links.push(change);
    }
    Ok((outcome, links))
}

/// Runs `job` in every namespace of `namespaces`; `progress` is called as
/// each finishes (the binary draws a bar with it).
pub async fn run(
    cluster: &Cluster,
    namespaces: &[String],
    job: &Job,
    progress: &(dyn Fn(&NamespaceResult) + Sync),
) -> Result<Vec<NamespaceResult>, ClusterError> {
    let secrets: HashMap<(String, String), Secret> =
        by_name(cluster, std::slice::from_ref(&job.secret_name)).await?;
    let sas: HashMap<(String, String), ServiceAccount> = if job.service_accounts.is_empty() {
        HashMap::new()
    } else {
        by_name(cluster, &job.service_accounts).await?
    };
    let results = futures::stream::iter(namespaces.iter().cloned())
        .map(|ns| {
            let existing = secrets.get(&(ns.clone(), job.secret_name.clone())).cloned();
            let sas = &sas;
            async move {
                let (secret, links, error) = match one(cluster, &ns, job, existing, sas).await {
                    Ok((s, l)) => (s, l, None),
                    Err(e) => (None, Vec::new(), Some(e)),
                };
                let r = NamespaceResult {
                    namespace: ns,
                    secret,
                    links,
                    error,
                };
                progress(&r);
                r
            }
        })
        .buffer_unordered(job.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut results = results;
    results.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok(results)
}
