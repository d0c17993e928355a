//! The same job across many namespaces, with the fewest requests the job
//! allows: the namespaces are listed once (paged), the existing secrets once
//! (by name, across namespaces), the service accounts once; that is the
//! plan. Applying it costs each namespace at most one create and one
//! conditional update, run concurrently with a bound on one shared client.
//! An unchanged namespace costs no write; a failure in one never stops the
//! others. Linking and unlinking are the same job with another [`LinkEdit`].

use std::collections::HashMap;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::api::{Api, ListParams};

use crate::access::{self, Need};
use crate::error::ClusterError;
use crate::link::{LinkChange, LinkEdit, LinkPlan};
use crate::list::list_all;
use crate::pullsecret::{self, SecretPlan};
use crate::{Cluster, DryRun, Outcome};

/// Which namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaces(Vec<String>),
    /// A label selector on namespaces (`-l team=a`).
    Selector(String),
    All,
}

impl Scope {
    /// True when the scope is chosen by the server (`-A`, `-l`): its
    /// permissions are asked for every namespace at once.
    pub fn is_open(&self) -> bool {
        !matches!(self, Self::Namespaces(_))
    }
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

/// The pull secret to put in every namespace.
#[derive(Clone, Debug)]
pub struct SecretSpec {
    pub name: String,
    pub format: pullsecret::Format,
    pub credentials: Vec<rhpull_core::Credential>,
}

/// What to do in every namespace: a pull secret, a change to service
/// accounts' lists, or both.
#[derive(Clone, Debug)]
pub struct Job {
    pub secret: Option<SecretSpec>,
    /// The service accounts and the edit made to each.
    pub links: Option<(Vec<String>, LinkEdit)>,
    pub overwrite: bool,
}

impl Job {
    /// Secrets that must already be there: the ones a link-only job adds.
    fn required_secrets(&self) -> Vec<String> {
        match (&self.secret, &self.links) {
            (None, Some((_, LinkEdit::Add { secrets, .. }))) => secrets.clone(),
            _ => Vec::new(),
        }
    }
}

/// What will happen in one namespace, or why it cannot.
#[derive(Debug)]
pub struct NamespacePlan {
    pub namespace: String,
    pub secret: Option<SecretPlan>,
    pub links: Vec<LinkPlan>,
    pub error: Option<ClusterError>,
}

impl NamespacePlan {
    fn needs(&self) -> impl Iterator<Item = Need> + '_ {
        self.secret
            .iter()
            .filter_map(SecretPlan::need)
            .chain(self.links.iter().filter_map(LinkPlan::need))
    }
}

/// The plan of a job across namespaces.
#[derive(Debug)]
pub struct FleetPlan {
    pub namespaces: Vec<NamespacePlan>,
    open: bool,
}

impl FleetPlan {
    /// What the writes need: per namespace for a named list, for every
    /// namespace at once for `-A` and selectors.
    pub fn needs(&self) -> Vec<Need> {
        let all = self.namespaces.iter().flat_map(NamespacePlan::needs);
        if self.open {
            access::merged(all.map(Need::everywhere))
        } else {
            access::merged(all)
        }
    }
}

/// Objects of `names` in every namespace, one list per name. A user who
/// may not list across namespaces, working on a named list of them, is
/// read namespace by namespace instead (one more read per namespace and
/// name: the price of rights granted project by project).
async fn by_name<K>(
    cluster: &Cluster,
    names: &[String],
    scope: &Scope,
) -> Result<HashMap<(String, String), K>, ClusterError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let mut out = HashMap::new();
    for name in names {
        // Objects of one name, one per namespace at most: large pages keep a
        // 10,000-namespace run within its request budget.
        let params = ListParams::default()
            .fields(&format!("metadata.name={name}"))
            .limit(5000);
        let everywhere: Api<K> = Api::all(cluster.client.clone());
        let items = match (list_all(&everywhere, params.clone()).await, scope) {
            (Ok(items), _) => items,
            (Err(e), Scope::Namespaces(list)) if is_forbidden(&e) => {
                let mut items = Vec::new();
                for ns in list {
                    let api: Api<K> = Api::namespaced(cluster.client.clone(), ns);
                    let found = list_all(&api, params.clone())
                        .await
                        .map_err(|e| ClusterError::from_kube(e, "list", ns, name))?;
                    items.extend(found);
                }
                items
            }
            (Err(e), _) => return Err(ClusterError::from_kube(e, "list", "", name)),
        };
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

fn is_forbidden(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 403)
}

/// Reads what the job needs, with one list per kind, and plans every namespace.
pub async fn plan(cluster: &Cluster, scope: &Scope, job: &Job) -> Result<FleetPlan, ClusterError> {
    let namespaces = namespaces(cluster, scope).await?;
    let mut secret_names = job.required_secrets();
    secret_names.extend(job.secret.as_ref().map(|s| s.name.clone()));
    let secrets: HashMap<(String, String), Secret> = by_name(cluster, &secret_names, scope).await?;
    let service_accounts = job.links.as_ref().map(|(sas, _)| sas.as_slice());
    let sas: HashMap<(String, String), ServiceAccount> =
        by_name(cluster, service_accounts.unwrap_or_default(), scope).await?;
    let plans = namespaces
        .into_iter()
        .map(|ns| {
            let planned = plan_one(&ns, job, &secrets, &sas);
            let (secret, links, error) = match planned {
                Ok((secret, links)) => (secret, links, None),
                Err(e) => (None, Vec::new(), Some(e)),
            };
            NamespacePlan {
                namespace: ns,
                secret,
                links,
                error,
            }
        })
        .collect();
    Ok(FleetPlan {
        namespaces: plans,
        open: scope.is_open(),
    })
}

type Listed<K> = HashMap<(String, String), K>;

fn plan_one(
    ns: &str,
    job: &Job,
    secrets: &Listed<Secret>,
    sas: &Listed<ServiceAccount>,
) -> Result<(Option<SecretPlan>, Vec<LinkPlan>), ClusterError> {
    let key = |name: &str| (ns.to_string(), name.to_string());
    let missing: Vec<String> = job
        .required_secrets()
        .into_iter()
        .filter(|s| !secrets.contains_key(&key(s)))
        .collect();
    if !missing.is_empty() {
        return Err(ClusterError::SecretsMissing {
            namespace: ns.to_string(),
            names: missing,
        });
    }
    let secret = match &job.secret {
        Some(spec) => {
            let wanted = pullsecret::build(&spec.name, ns, spec.format, &spec.credentials);
            let existing = secrets.get(&key(&spec.name)).cloned();
            Some(SecretPlan::decide(existing, wanted, job.overwrite)?)
        }
        None => None,
    };
    let mut links = Vec::new();
    for (sa, edit) in job
        .links
        .iter()
        .flat_map(|(sas, e)| sas.iter().map(move |s| (s, e)))
    {
        let current = sas.get(&key(sa)).ok_or_else(|| ClusterError::NotFound {
            kind: "serviceaccount",
            namespace: ns.to_string(),
            name: sa.clone(),
        })?;
        links.push(LinkPlan::from_read(current, edit.clone()));
    }
    Ok((secret, links))
}

/// Carries out the plan, `concurrency` namespaces at a time; `progress` is
/// called as each finishes (the binary draws a bar with it). Results come
/// in namespace order.
pub async fn apply(
    cluster: &Cluster,
    plan: FleetPlan,
    dry_run: DryRun,
    concurrency: usize,
    progress: &(dyn Fn(&NamespaceResult) + Sync),
) -> Vec<NamespaceResult> {
    let mut results = futures::stream::iter(plan.namespaces)
        .map(|p| async move {
            let r = apply_one(cluster, p, dry_run).await;
            progress(&r);
            r
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    results.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    results
}

async fn apply_one(cluster: &Cluster, plan: NamespacePlan, dry_run: DryRun) -> NamespaceResult {
    let mut result = NamespaceResult {
        namespace: plan.namespace,
        secret: None,
        links: Vec::new(),
        error: plan.error,
    };
    if result.error.is_some() {
        return result;
    }
    if let Some(secret) = &plan.secret {
        match pullsecret::write(cluster, secret, dry_run).await {
            Ok(outcome) => result.secret = Some(outcome),
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        }
    }
    for link in &plan.links {
        match crate::link::write(cluster, link, dry_run).await {
            Ok(change) => result.links.push(change),
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        }
    }
    result
}
