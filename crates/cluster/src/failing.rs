//! Why are these pods not pulling? Every pod with a container (init and
//! ephemeral ones included) waiting in `ErrImagePull` or `ImagePullBackOff`,
//! in a namespace, a fleet's namespaces or the whole cluster, found with a
//! few lists (never a get per pod); grouped by what the kubelet would try
//! — the image's repository, the credentials it would use in its order,
//! the service account — and checked against the registry once per group,
//! so a thousand pods behind one revoked token cost one token request.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams};
use rhpull_core::imageref::{ImageRef, kubelet_matches};
use rhpull_core::sso::{Cause, CheckOptions, CheckSetupError, Step};

use crate::error::ClusterError;
use crate::fleet::Scope;
use crate::list;
use crate::pods::{self, ImageCheck, Keyed, PodView, SecretsByName, Source};
use crate::{Cluster, secret_types};

/// The waiting reasons of a failed pull.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];

/// One pod that cannot pull, as the kubelet sees it.
#[derive(Clone, Debug)]
pub struct FailingPod {
    pub view: PodView,
    /// The images of its containers waiting on a failed pull.
    pub images: Vec<String>,
    /// The kubelet's latest pull failure (its `Failed` event's message).
    pub kubelet_message: Option<String>,
    /// Credentials of the secrets its service account has and it lacks
    /// (linked after it was made): what a new pod would get.
    pub linked_since: Vec<Keyed>,
}

/// Where to look: `-n`'s namespace (`None`), some, or all.
#[derive(Clone, Debug)]
struct Where {
    /// The namespaces to list in one by one, or `None`: in all at once,
    /// keeping those of `only` (a selector's).
    each: Option<Vec<String>>,
    only: Option<BTreeSet<String>>,
}

impl Where {
    async fn of(cluster: &Cluster, scope: Option<&Scope>) -> Result<Self, ClusterError> {
        Ok(match scope {
            None => Self {
                each: Some(vec![cluster.namespace.clone()]),
                only: None,
            },
            Some(Scope::Namespaces(list)) => Self {
                each: Some(list.clone()),
                only: None,
            },
            Some(Scope::All) => Self {
                each: None,
                only: None,
            },
            Some(selector) => Self {
                each: None,
                only: Some(
                    crate::fleet::namespaces(cluster, selector)
                        .await?
                        .into_iter()
                        .collect(),
                ),
            },
        })
    }

    /// Keeps only the objects of namespaces in `set` (those with failing
    /// pods), whatever the scope.
    fn narrowed_to(&self, set: BTreeSet<String>) -> Self {
        Self {
            each: self.each.clone(),
            only: Some(set),
        }
    }

    /// What `keep` makes of each object listed, page by page.
    async fn list<K, T>(
        &self,
        cluster: &Cluster,
        params: &ListParams,
        mut keep: impl FnMut(K) -> Option<T>,
    ) -> Result<Vec<T>, ClusterError>
    where
        K: list::Namespaced,
    {
        let only = self.only.as_ref();
        let wanted = |o: &K| {
            only.is_none_or(|set| o.meta().namespace.as_ref().is_some_and(|n| set.contains(n)))
        };
        let mut keep = |o: K| if wanted(&o) { keep(o) } else { None };
        let err = |e, ns: &str| ClusterError::from_kube::<K>(e, ns, "");
        let Some(each) = &self.each else {
            let all = Api::<K>::all(cluster.client.clone());
            return list::filter_map(&all, params.clone(), keep)
                .await
                .map_err(|e| err(e, ""));
        };
        let mut out = Vec::new();
        for ns in each
            .iter()
            .filter(|n| only.is_none_or(|set| set.contains(*n)))
        {
            let api = Api::<K>::namespaced(cluster.client.clone(), ns);
            out.extend(
                list::filter_map(&api, params.clone(), &mut keep)
                    .await
                    .map_err(|e| err(e, ns))?,
            );
        }
        Ok(out)
    }
}

/// The images of a pod's containers waiting on a failed pull.
fn failing_images(pod: &Pod) -> Vec<String> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let all = [
        &status.init_container_statuses,
        &status.container_statuses,
        &status.ephemeral_container_statuses,
    ];
    let waiting = |c: &&ContainerStatus| {
        let reason = c
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref()?.reason.as_deref());
        reason.is_some_and(|r| PULL_FAILURES.contains(&r))
    };
    let mut images: Vec<String> = Vec::new();
    for c in all.into_iter().flatten().flatten().filter(waiting) {
        if !images.contains(&c.image) {
            images.push(c.image.clone());
        }
    }
    images
}

/// Every failing pod in `scope`: pods that are not done (a field selector
/// on `status.phase`), then, when any fails, their namespaces' service
/// accounts, pull secrets and kubelet `Failed` events, one list each.
pub async fn find(
    cluster: &Cluster,
    scope: Option<&Scope>,
) -> Result<Vec<FailingPod>, ClusterError> {
    let at = Where::of(cluster, scope).await?;
    // Named namespaces must be there: a list in one that is not answers
    // as an empty one.
    if let Some(named) = &at.each
        && let Some(first) = crate::namespaces::missing_of(cluster, named)
            .await
            .into_iter()
            .next()
    {
        return Err(ClusterError::NamespaceNotFound(first));
    }
    let live = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    // Page by page, only the pods that fail are kept.
    let failing: Vec<(Pod, Vec<String>)> = at
        .list(cluster, &live, |p: Pod| {
            let images = failing_images(&p);
            (!images.is_empty()).then_some((p, images))
        })
        .await?;
    if failing.is_empty() {
        return Ok(Vec::new());
    }
    // Only the namespaces with failing pods matter from here on.
    let with_failures: BTreeSet<String> = (failing.iter())
        .filter_map(|(p, _)| p.metadata.namespace.clone())
        .collect();
    let at = at.narrowed_to(with_failures);
    let sas: HashMap<(String, String), ServiceAccount> = at
        .list(cluster, &ListParams::default(), |sa: ServiceAccount| {
            Some((key_of(&sa.metadata), sa))
        })
        .await?
        .into_iter()
        .collect();
    let mut secrets = SecretsByName::new();
    for ty in [secret_types::DOCKER_CONFIG_JSON, secret_types::DOCKERCFG] {
        let params = ListParams::default().fields(&format!("type={ty}"));
        let listed = at.list(cluster, &params, |s: Secret| Some((key_of(&s.metadata), s)));
        secrets.extend(listed.await?);
    }
    let uids: BTreeSet<String> = (failing.iter())
        .filter_map(|(p, _)| p.metadata.uid.clone())
        .collect();
    let pulls = ListParams::default().fields("involvedObject.kind=Pod,reason=Failed");
    let events = at
        .list(cluster, &pulls, |e: Event| {
            let uid = e.involved_object.uid.as_ref()?;
            uids.contains(uid).then_some(e)
        })
        .await?;
    let events = latest_pull_failures(events);
    let node = pods::node_credentials(cluster).await?;
    Ok(failing
        .into_iter()
        .map(|(pod, images)| {
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let sa = sas.get(&(ns.clone(), pods::service_account_of(&pod)));
            let mut view = PodView::from_parts(&pod, sa, &secrets);
            view.node_credentials = node.clone();
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            FailingPod {
                kubelet_message: events.get(&uid).cloned(),
                linked_since: linked_since(&view, &secrets),
                view,
                images,
            }
        })
        .collect())
}

fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// By pod uid, the message of its latest `Failed to pull image` event.
fn latest_pull_failures(events: Vec<Event>) -> HashMap<String, String> {
    let mut latest: HashMap<String, (String, String)> = HashMap::new();
    for e in events {
        let Some(message) = e.message.filter(|m| m.starts_with("Failed to pull image")) else {
            continue;
        };
        let when = e
            .last_timestamp
            .map(|t| t.0.to_string())
            .or(e.event_time.map(|t| t.0.to_string()))
            .unwrap_or_default();
        let uid = e.involved_object.uid.unwrap_or_default();
        if latest.get(&uid).is_none_or(|(w, _)| *w <= when) {
            latest.insert(uid, (when, message));
        }
    }
    latest.into_iter().map(|(uid, (_, m))| (uid, m)).collect()
}

/// A credential as the grouping sees it: what is filed where, and a digest
/// of the secret (never the secret).
fn fingerprint(k: &Keyed) -> String {
    use secrecy::ExposeSecret as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(k.credential.secret.expose_secret().as_bytes());
    let node = matches!(k.source, Source::Node { .. });
    format!("{node}|{}|{}|{digest:x}", k.key, k.credential.username)
}

/// One pod in a group.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_message: Option<String>,
}

/// Pods that fail for the same reason: the same repository, the same
/// credentials tried in the same order, the same service account.
#[derive(Clone, Debug)]
pub struct Group {
    /// `registry/repository`.
    pub repository: String,
    /// The reference checked (the first pod's).
    pub image: ImageRef,
    /// What the kubelet tries, in its order (the first pod's).
    pub candidates: Vec<Keyed>,
    pub service_account: String,
    /// The service account has, since the pods were made, secrets that
    /// match the image: what a new pod would try.
    pub linked_since: Vec<Keyed>,
    pub pods: Vec<PodRef>,
}

/// The failing pods grouped by what the kubelet would try, most pods first.
pub fn group(failing: &[FailingPod]) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for pod in failing {
        let later = &pod.linked_since;
        for image in &pod.images {
            let Ok(parsed) = ImageRef::parse(image) else {
                continue;
            };
            let candidates: Vec<Keyed> = pod.view.candidates(image).into_iter().cloned().collect();
            let keys: Vec<&str> = later.iter().map(|k| k.key.as_str()).collect();
            let matched = kubelet_matches(keys, image);
            let linked_since: Vec<Keyed> = (later.iter())
                .filter(|k| matched.contains(&k.key.as_str()))
                .cloned()
                .collect();
            let key = format!(
                "{}#{}#{}#{}",
                parsed.name(),
                candidates
                    .iter()
                    .map(fingerprint)
                    .collect::<Vec<_>>()
                    .join(","),
                pod.view.service_account,
                linked_since
                    .iter()
                    .map(fingerprint)
                    .collect::<Vec<_>>()
                    .join(","),
            );
            let group = groups.entry(key).or_insert_with(|| Group {
                repository: parsed.name(),
                image: parsed.clone(),
                candidates,
                service_account: pod.view.service_account.clone(),
                linked_since,
                pods: Vec::new(),
            });
            group.pods.push(PodRef {
                namespace: pod.view.namespace.clone(),
                name: pod.view.name.clone(),
                image: image.clone(),
                kubelet_message: pod.kubelet_message.clone(),
            });
        }
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.pods
            .len()
            .cmp(&a.pods.len())
            .then(a.repository.cmp(&b.repository))
    });
    out
}

/// The credentials of the secrets a pod's service account has and the pod
/// lacks (`view.recreate_needed`), as `secrets` hold them.
fn linked_since(view: &PodView, secrets: &SecretsByName) -> Vec<Keyed> {
    let mut out = Vec::new();
    for name in &view.recreate_needed {
        if let Some(s) = secrets.get(&(view.namespace.clone(), name.clone())) {
            let source = Source::PodSecret { name: name.clone() };
            out.extend(pods::keyed(s, &source));
        }
    }
    out
}

/// Why a group's pods cannot pull.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupCause {
    /// The registry flow fails with what the kubelet tries.
    Check { cause: Cause },
    /// Nothing the kubelet has matches the image, and an anonymous pull fails.
    NoCredentialMatches { cause: Cause },
    /// The service account has a working secret now; the pods were made
    /// before it was linked and must be made again.
    PredatesLink { secrets: Vec<String> },
}

/// A group, checked.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub group: Group,
    pub check: ImageCheck,
    /// `None`: the check from here passes.
    pub cause: Option<GroupCause>,
    /// The kubelet reports a network, DNS or TLS failure this machine's
    /// check got past: the node reaches the registry differently.
    pub network_differs: bool,
}

/// Checks every group once (groups that would try the same credentials for
/// the same repository share a check).
pub async fn diagnose(
    template: &CheckOptions,
    groups: Vec<Group>,
) -> Result<Vec<Diagnosis>, CheckSetupError> {
    let mut done: HashMap<String, ImageCheck> = HashMap::new();
    let mut out = Vec::new();
    for group in groups {
        let predates = !group.linked_since.is_empty();
        let tried = if predates {
            &group.linked_since
        } else {
            &group.candidates
        };
        let key = format!(
            "{}#{}",
            group.repository,
            tried.iter().map(fingerprint).collect::<Vec<_>>().join(",")
        );
        let check = match done.get(&key) {
            Some(c) => c.clone(),
            None => {
                let refs: Vec<&Keyed> = tried.iter().collect();
                let c = pods::check_image(template, &group.image, &refs).await?;
                done.insert(key, c.clone());
                c
            }
        };
        let failed = check
            .attempts
            .last()
            .and_then(|a| a.report.cause().cloned());
        let cause = match (failed, predates, tried.is_empty()) {
            (None, true, _) => Some(GroupCause::PredatesLink {
                secrets: names_of(&group.linked_since),
            }),
            (None, false, _) => None,
            (Some(cause), _, true) => Some(GroupCause::NoCredentialMatches { cause }),
            (Some(cause), _, false) => Some(GroupCause::Check { cause }),
        };
        let network_differs = network_differs(&group, &check);
        out.push(Diagnosis {
            group,
            check,
            cause,
            network_differs,
        });
    }
    Ok(out)
}

fn names_of(keyed: &[Keyed]) -> Vec<String> {
    let mut names: Vec<String> = keyed
        .iter()
        .map(|k| match &k.source {
            Source::PodSecret { name } => name.clone(),
            Source::Node { secret } => secret.clone(),
            Source::NodeFile { node, .. } => format!("node/{node}"),
        })
        .collect();
    names.dedup();
    names
}

/// The kubelet's words name a network, DNS or TLS failure while this
/// machine's check got past those steps.
fn network_differs(group: &Group, check: &ImageCheck) -> bool {
    let kubelet_network = group
        .pods
        .iter()
        .filter_map(|p| p.kubelet_message.as_deref())
        .any(|m| {
            let m = m.to_ascii_lowercase();
            [
                "x509",
                "tls:",
                "certificate",
                "no such host",
                "i/o timeout",
                "connection refused",
                "dial tcp",
                "network is unreachable",
            ]
            .iter()
            .any(|w| m.contains(w))
        });
    let ours_failed_there = check.attempts.iter().any(|a| {
        a.report
            .failure()
            .is_some_and(|s| matches!(s.step, Step::Dns | Step::Connect | Step::Proxy | Step::Tls))
    });
    kubelet_network && !ours_failed_there
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhpull_core::Credential;

    fn pod(ns: &str, name: &str, secret: Option<&str>, token: &str) -> FailingPod {
        let pod_credentials = secret
            .map(|s| Keyed {
                source: Source::PodSecret { name: s.into() },
                key: "quay.io".into(),
                credential: Credential::new("quay.io", "bot", token),
            })
            .into_iter()
            .collect();
        FailingPod {
            view: PodView {
                name: name.into(),
                namespace: ns.into(),
                service_account: "default".into(),
                node: None,
                pod_secrets: secret.map(String::from).into_iter().collect(),
                missing_secrets: Vec::new(),
                recreate_needed: Vec::new(),
                images: vec!["quay.io/acme/app:1".into()],
                pod_credentials,
                node_credentials: pods::NodeCredentials::Unknown,
            },
            images: vec!["quay.io/acme/app:1".into()],
            kubelet_message: None,
            linked_since: Vec::new(),
        }
    }

    fn checked(failed_at: Option<Step>) -> ImageCheck {
        use rhpull_core::sso::{CheckReport, Status, StepReport};
        let steps = failed_at.map_or_else(Vec::new, |step| {
            vec![StepReport {
                step,
                status: Status::Failed,
                elapsed_ms: 0,
                detail: None,
                cause: Some(Cause::NoCredentials {
                    registry: "quay.io".into(),
                }),
            }]
        });
        let report = CheckReport {
            registry: "quay.io".into(),
            image: None,
            passed: failed_at.is_none(),
            steps,
        };
        ImageCheck {
            image: "quay.io/acme/app:1".into(),
            tried: Vec::new(),
            attempts: vec![pods::Attempt {
                source: None,
                key: None,
                report,
            }],
            passed: failed_at.is_none(),
        }
    }

    #[test]
    fn a_kubelet_network_failure_this_machine_gets_past_says_the_networks_differ() {
        let mut p = pod("a", "p", None, "");
        p.kubelet_message = Some(
            "Failed to pull image \"quay.io/acme/app:1\": tls: failed to verify certificate: x509: certificate signed by unknown authority".into(),
        );
        let g = group(&[p]).remove(0);
        assert!(network_differs(&g, &checked(Some(Step::Token))));
        assert!(network_differs(&g, &checked(None)));
        assert!(
            !network_differs(&g, &checked(Some(Step::Tls))),
            "both fail at TLS"
        );
        let mut quiet = g.clone();
        quiet.pods[0].kubelet_message = Some("Failed to pull image: unauthorized".into());
        assert!(!network_differs(&quiet, &checked(Some(Step::Token))));
    }

    #[test]
    fn pods_group_by_what_the_kubelet_tries_not_by_namespace() {
        let failing = vec![
            pod("a", "p1", Some("s"), "revoked"),
            pod("b", "p2", Some("other-name"), "revoked"),
            pod("a", "p3", Some("s"), "revoked"),
            pod("c", "p4", None, ""),
            pod("a", "p5", Some("s"), "good"),
        ];
        let groups = group(&failing);
        let sizes: Vec<usize> = groups.iter().map(|g| g.pods.len()).collect();
        assert_eq!(
            sizes,
            [3, 1, 1],
            "the same token under any name is one group"
        );
        assert_eq!(groups[0].repository, "quay.io/acme/app");
    }
}
