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

use crate::access::{self, Need, Verb};
use crate::error::{ClusterError, is_forbidden};
use crate::link::{LinkChange, LinkEdit, LinkPlan};
use crate::list;
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
    list::filter_map(&api, params, |n: Namespace| n.metadata.name)
        .await
        .map_err(|e| ClusterError::from_kube::<Namespace>(e, "", ""))
}

/// What happened in one namespace.
#[derive(Debug, serde::Serialize)]
pub struct NamespaceResult {
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Outcome>,
    /// The pull secret's name, where one was written or found unchanged
    /// (for `-o name`).
    #[serde(skip)]
    pub secret_name: Option<String>,
    pub links: Vec<LinkChange>,
    /// Why the namespace failed; the binary puts its reason and fields
    /// into machine output.
    #[serde(skip)]
    pub error: Option<ClusterError>,
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

/// What becomes of the pull secret in one namespace. Only an update keeps
/// an object (the one read, to write back whole): a create is built when
/// it is sent, so a plan across 10,000 namespaces holds no 10,000 copies.
#[derive(Debug)]
pub enum SecretStep {
    Create,
    Update(Box<SecretPlan>),
    Unchanged,
}

impl SecretStep {
    fn of(plan: SecretPlan) -> Self {
        match plan.outcome {
            Outcome::Created => Self::Create,
            Outcome::Updated => Self::Update(Box::new(plan)),
            Outcome::Unchanged => Self::Unchanged,
        }
    }
}

/// What will happen in one namespace, or why it cannot.
#[derive(Debug)]
pub struct NamespacePlan {
    pub namespace: String,
    pub secret: Option<SecretStep>,
    pub links: Vec<LinkPlan>,
    pub error: Option<ClusterError>,
}

impl NamespacePlan {
    fn needs(&self) -> impl Iterator<Item = Need> + '_ {
        let ns = Some(self.namespace.as_str());
        let secret = self.secret.as_ref().and_then(|s| match s {
            SecretStep::Create => Some(Need::on::<Secret>(Verb::Create, ns)),
            SecretStep::Update(_) => Some(Need::on::<Secret>(Verb::Update, ns)),
            SecretStep::Unchanged => None,
        });
        secret
            .into_iter()
            .chain(self.links.iter().filter_map(LinkPlan::need))
    }
}

/// The plan of a job across namespaces.
#[derive(Debug)]
pub struct FleetPlan {
    pub namespaces: Vec<NamespacePlan>,
    /// The secret the creates build, once for all of them.
    secret: Option<SecretSpec>,
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

/// `(namespace, name)` of an object.
type Key = (String, String);

fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Objects of `names` in every namespace, one list per name, page by
/// page: `keep` makes what the plan needs of each as it arrives, and the
/// object itself is dropped. A user who may not list across namespaces,
/// working on a named list of them, is read namespace by namespace
/// instead (one more read per namespace and name: the price of rights
/// granted project by project).
async fn by_name<K, T>(
    cluster: &Cluster,
    names: &[String],
    scope: &Scope,
    mut keep: impl FnMut(K) -> T,
) -> Result<HashMap<Key, T>, ClusterError>
where
    K: list::Namespaced,
{
    let mut out = HashMap::new();
    for name in names {
        // Objects of one name, one per namespace at most: large pages keep a
        // 10,000-namespace run within its request budget.
        let params = ListParams::default()
            .fields(&format!("metadata.name={name}"))
            .limit(5000);
        let everywhere: Api<K> = Api::all(cluster.client.clone());
        let mut put = |o: K| {
            let key = key_of(o.meta());
            out.insert(key, keep(o));
        };
        match (
            list::for_each(&everywhere, params.clone(), &mut put).await,
            scope,
        ) {
            (Ok(()), _) => {}
            // Refused before the first page: nothing was kept yet.
            (Err(e), Scope::Namespaces(list)) if is_forbidden(&e) => {
                for ns in list {
                    let api: Api<K> = Api::namespaced(cluster.client.clone(), ns);
                    list::for_each(&api, params.clone(), &mut put)
                        .await
                        .map_err(|e| ClusterError::from_kube::<K>(e, ns, ""))?;
                }
            }
            (Err(e), _) => return Err(ClusterError::from_kube::<K>(e, "", "")),
        }
    }
    Ok(out)
}

/// Reads what the job needs, with one list per kind, and plans every
/// namespace. Each secret and service account is planned as its page
/// arrives; the plan keeps what it will write, not what it read.
pub async fn plan(cluster: &Cluster, scope: &Scope, job: &Job) -> Result<FleetPlan, ClusterError> {
    let namespaces = namespaces(cluster, scope).await?;
    let required = job.required_secrets();
    let present = by_name(cluster, &required, scope, |_: Secret| ()).await?;
    let secrets: HashMap<Key, Result<SecretStep, ClusterError>> = match &job.secret {
        Some(spec) => {
            let decide = |existing: Secret| {
                let ns = existing.metadata.namespace.clone().unwrap_or_default();
                let wanted = pullsecret::build(&spec.name, &ns, spec.format, &spec.credentials);
                SecretPlan::decide(Some(existing), wanted, job.overwrite).map(SecretStep::of)
            };
            by_name(cluster, std::slice::from_ref(&spec.name), scope, decide).await?
        }
        None => HashMap::new(),
    };
    let links: HashMap<Key, Result<LinkPlan, ClusterError>> = match &job.links {
        Some((names, edit)) => {
            let plan = |sa: ServiceAccount| LinkPlan::checked(&sa, edit.clone());
            by_name(cluster, names, scope, plan).await?
        }
        None => HashMap::new(),
    };
    let mut listed = Listed {
        present,
        secrets,
        links,
    };
    let mut plans: Vec<NamespacePlan> = namespaces
        .into_iter()
        .map(|ns| match listed.plan_one(&ns, job) {
            Ok((secret, links)) => NamespacePlan {
                namespace: ns,
                secret,
                links,
                error: None,
            },
            Err(e) => NamespacePlan {
                namespace: ns,
                secret: None,
                links: Vec::new(),
                error: Some(e),
            },
        })
        .collect();
    name_missing_namespaces(cluster, &mut plans).await;
    Ok(FleetPlan {
        namespaces: plans,
        secret: job.secret.clone(),
        open: scope.is_open(),
    })
}

/// A named namespace that lacks what the job needs may not exist at all:
/// those are asked about (only those: a run where everything is found
/// costs no request more) and named as missing namespaces.
async fn name_missing_namespaces(cluster: &Cluster, plans: &mut [NamespacePlan]) {
    let suspect: Vec<String> = (plans.iter())
        .filter(|p| {
            matches!(
                p.error,
                Some(ClusterError::NotFound { .. } | ClusterError::SecretsMissing { .. })
            )
        })
        .map(|p| p.namespace.clone())
        .collect();
    if suspect.is_empty() {
        return;
    }
    let missing = crate::namespaces::missing_of(cluster, &suspect).await;
    for p in plans.iter_mut().filter(|p| missing.contains(&p.namespace)) {
        p.error = Some(ClusterError::NamespaceNotFound(p.namespace.clone()));
    }
}

/// What the lists found, planned already.
struct Listed {
    /// The secrets a link-only job needs, where they are.
    present: HashMap<Key, ()>,
    /// The job's secret where it exists, decided against what is there.
    secrets: HashMap<Key, Result<SecretStep, ClusterError>>,
    /// Every service account named, planned.
    links: HashMap<Key, Result<LinkPlan, ClusterError>>,
}

impl Listed {
    /// One namespace's plan, taken out of what was listed (each entry is
    /// one namespace's).
    fn plan_one(
        &mut self,
        ns: &str,
        job: &Job,
    ) -> Result<(Option<SecretStep>, Vec<LinkPlan>), ClusterError> {
        let key = |name: &str| (ns.to_string(), name.to_string());
        let missing: Vec<String> = job
            .required_secrets()
            .into_iter()
            .filter(|s| !self.present.contains_key(&key(s)))
            .collect();
        if !missing.is_empty() {
            return Err(ClusterError::SecretsMissing {
                namespace: ns.to_string(),
                names: missing,
            });
        }
        let secret = match &job.secret {
            Some(spec) => Some(
                self.secrets
                    .remove(&key(&spec.name))
                    .transpose()?
                    .unwrap_or(SecretStep::Create),
            ),
            None => None,
        };
        let mut links = Vec::new();
        for sa in job.links.iter().flat_map(|(sas, _)| sas) {
            let plan = self
                .links
                .remove(&key(sa))
                .ok_or_else(|| ClusterError::NotFound {
                    group: String::new(),
                    resource: "serviceaccounts".into(),
                    namespace: Some(ns.to_string()),
                    name: sa.clone(),
                })??;
            links.push(plan);
        }
        Ok((secret, links))
    }
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
    let spec = plan.secret.as_ref();
    let mut results = futures::stream::iter(plan.namespaces)
        .map(|p| async move {
            let r = apply_one(cluster, p, spec, dry_run).await;
            progress(&r);
            r
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    results.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    results
}

async fn apply_one(
    cluster: &Cluster,
    plan: NamespacePlan,
    spec: Option<&SecretSpec>,
    dry_run: DryRun,
) -> NamespaceResult {
    let mut result = NamespaceResult {
        namespace: plan.namespace,
        secret: None,
        secret_name: spec.map(|s| s.name.clone()),
        links: Vec::new(),
        error: plan.error,
    };
    if result.error.is_some() {
        return result;
    }
    let written = match &plan.secret {
        None => None,
        Some(SecretStep::Unchanged) => Some(Ok(Outcome::Unchanged)),
        Some(SecretStep::Update(p)) => Some(pullsecret::write(cluster, p, dry_run).await),
        Some(SecretStep::Create) => match spec {
            Some(spec) => {
                let wanted = pullsecret::build(
                    &spec.name,
                    &result.namespace,
                    spec.format,
                    &spec.credentials,
                );
                let p = SecretPlan::unread(wanted);
                Some(pullsecret::write(cluster, &p, dry_run).await)
            }
            None => None,
        },
    };
    match written {
        Some(Ok(outcome)) => result.secret = Some(outcome),
        None => result.secret_name = None,
        Some(Err(e)) => {
            result.error = Some(e);
            return result;
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
