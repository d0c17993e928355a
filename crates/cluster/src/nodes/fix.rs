//! Following a fix to the kubelet's word: the pods a remedy was for — or,
//! where they were made again, their replacements (the same controller,
//! another uid) — are watched (no polling) until the kubelet reports the
//! image pulled (the container running) or fails again (a fresh
//! `ErrImagePull`), or until the wait runs out. Only the kubelet's states
//! count; never rhpull's prediction. The watch resumes by itself when it
//! breaks (kube's watcher re-lists); a pod deleted meanwhile with nothing
//! to replace it is reported gone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;

use crate::watch::Step;

use crate::Cluster;
use crate::nodes::failing::PodRef;

/// What the kubelet said of one awaited pod.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verdict {
    /// The image is pulled: the container runs (`pod` is the one that
    /// pulled: the pod itself, or its replacement).
    Pulled { pod: String },
    /// The kubelet tried again and failed, in its words.
    Failed { pod: String, message: String },
    /// Deleted, and nothing made it again.
    Gone,
    /// Nothing yet when the wait ran out (the back-off still runs, or no
    /// replacement came).
    Pending,
}

/// One pod to follow: itself, or (when `replaced`) the next pod of its
/// controller.
#[derive(Clone, Debug)]
pub struct Awaited {
    pub pod: PodRef,
    pub replaced: bool,
}

/// The container state of `image` in `pod`: pulled, a fresh failure, or nothing yet.
fn state_of(pod: &Pod, image: &str) -> Option<Result<(), String>> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let c = statuses
        .iter()
        .find(|c| c.image == image || statuses.len() == 1)?;
    let state = c.state.as_ref()?;
    if state.running.is_some() {
        return Some(Ok(()));
    }
    let waiting = state.waiting.as_ref()?;
    (waiting.reason.as_deref() == Some("ErrImagePull"))
        .then(|| Err(waiting.message.clone().unwrap_or_default()))
}

fn owner_uid(pod: &Pod) -> Option<String> {
    (pod.metadata.owner_references.iter().flatten())
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.clone())
}

/// Watches the namespaces of `awaited` until each has a verdict, or
/// `timeout` runs out; the verdicts in `awaited`'s order.
pub async fn follow(cluster: &Cluster, awaited: &[Awaited], timeout: Duration) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = vec![Verdict::Pending; awaited.len()];
    if awaited.is_empty() {
        return verdicts;
    }
    let originals: BTreeSet<String> = awaited.iter().map(|a| a.pod.uid.clone()).collect();
    // Replacements already taken by an awaited pod, so that two pods of
    // one controller are matched with two replacements.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let namespaces: BTreeSet<&str> = awaited.iter().map(|a| a.pod.namespace.as_str()).collect();
    let api: Api<Pod> = match namespaces.iter().collect::<Vec<_>>().as_slice() {
        [one] => Api::namespaced(cluster.client.clone(), one),
        _ => Api::all(cluster.client.clone()),
    };
    let mut seen: BTreeMap<String, Pod> = BTreeMap::new();
    // Pods that changed after the first list: only their failures are
    // fresh (a pod listed in ErrImagePull failed before the fix).
    let mut fresh: BTreeSet<String> = BTreeSet::new();
    let mut watches = crate::watch::Watches::default();
    watches.watch(api, "", watcher::Config::default(), |p: Pod| p);
    let mut steps = watches.follow();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let step = match tokio::time::timeout_at(deadline, steps.next()).await {
            Ok(Some(Ok((_, step)))) => step,
            // Forbidden before the first list, or the end: nothing more to see.
            Ok(Some(Err(_)) | None) | Err(_) => break,
        };
        let listed = steps.all_listed();
        match step {
            Step::Applied(p) => {
                if let Some(uid) = p.metadata.uid.clone() {
                    if listed {
                        fresh.insert(uid.clone());
                    }
                    seen.insert(uid, p);
                }
            }
            Step::Deleted(p) => {
                if let Some(uid) = &p.metadata.uid {
                    seen.remove(uid);
                }
            }
            _ => {}
        }
        // Judged only once the first list is whole: before it, a pod not
        // seen yet is not gone.
        if !listed {
            continue;
        }
        for (i, a) in awaited.iter().enumerate() {
            if verdicts[i] != Verdict::Pending {
                continue;
            }
            verdicts[i] = judge(a, &seen, &fresh, &originals, &mut taken);
        }
        if verdicts.iter().all(|v| *v != Verdict::Pending) {
            break;
        }
    }
    verdicts
}

/// One awaited pod's verdict from the pods seen so far.
fn judge(
    a: &Awaited,
    seen: &BTreeMap<String, Pod>,
    fresh: &BTreeSet<String>,
    originals: &BTreeSet<String>,
    taken: &mut BTreeSet<String>,
) -> Verdict {
    let name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
    if !a.replaced {
        return match seen.get(&a.pod.uid) {
            None => Verdict::Gone,
            Some(p) => match state_of(p, &a.pod.image) {
                Some(Ok(())) => Verdict::Pulled { pod: name(p) },
                Some(Err(message)) if fresh.contains(&a.pod.uid) => Verdict::Failed {
                    pod: name(p),
                    message,
                },
                _ => Verdict::Pending,
            },
        };
    }
    let Some(owner) = &a.pod.owner_uid else {
        return Verdict::Pending;
    };
    let replacement = seen.iter().find(|(uid, p)| {
        !originals.contains(*uid)
            && !taken.contains(*uid)
            && owner_uid(p).as_ref() == Some(owner)
            && state_of(p, &a.pod.image).is_some()
    });
    match replacement {
        Some((uid, p)) => {
            taken.insert(uid.clone());
            match state_of(p, &a.pod.image) {
                Some(Ok(())) => Verdict::Pulled { pod: name(p) },
                Some(Err(message)) => Verdict::Failed {
                    pod: name(p),
                    message,
                },
                None => Verdict::Pending,
            }
        }
        None => Verdict::Pending,
    }
}

/// A group's remedy as writes, planned by the planners the other commands
/// use (`create --link`, `check --failing --recreate`, `global set`).
#[derive(Clone, Debug)]
pub enum Writes {
    /// Nothing a tool should write (the remedy is a person's, an
    /// administrator's, or time's; or the check passes).
    Nothing,
    /// A login for `registry` is needed and none is stored: `login` first.
    NeedsLogin { registry: String },
    /// A pull secret in each namespace (none where the namespaces have
    /// one already), linked to the service account; then the pods made
    /// before it made again.
    Link {
        secrets: Vec<crate::pullsecret::SecretPlan>,
        links: Vec<crate::link::LinkPlan>,
        recreate: Recreate,
    },
    /// The pods made again: their service account has what works.
    Recreate(Recreate),
    /// A login in the nodes' credentials; the kubelet's next try pulls.
    Global(Box<crate::global::GlobalPlan>),
    /// An image-puller grant in the image's project (`grant`'s plan, and
    /// what it needs to plan again on a conflict); the kubelet's next try
    /// pulls.
    Grant {
        plan: crate::grants::GrantPlan,
        from: String,
        to: String,
        grantee: crate::grants::Grantee,
    },
}

/// Pods to delete for their controllers to make again, and bare ones,
/// never deleted, to make again by hand.
#[derive(Clone, Debug, Default)]
pub struct Recreate {
    pub delete: Vec<PodRef>,
    pub by_hand: Vec<PodRef>,
}

/// One delete request: the pods of one controller's template in a
/// namespace, by their labels, or one pod by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Delete {
    Alike { namespace: String, selector: String },
    One { namespace: String, name: String },
}

impl Delete {
    /// The delete request that makes `p` again.
    pub fn of(p: &PodRef) -> Self {
        match crate::nodes::pods::template_selector(&p.labels) {
            Some(selector) => Self::Alike {
                namespace: p.namespace.clone(),
                selector,
            },
            None => Self::One {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
            },
        }
    }

    /// The right it needs.
    pub fn need(&self) -> crate::access::Need {
        match self {
            Self::Alike { namespace, .. } => crate::nodes::pods::delete_alike_need(namespace),
            Self::One { namespace, .. } => crate::nodes::pods::delete_need(namespace),
        }
    }
}

impl Recreate {
    /// The pods of a controller to delete; bare ones by hand.
    pub fn of(pods: &[PodRef]) -> Self {
        let (delete, by_hand) = pods.iter().cloned().partition(|p| p.owner.is_some());
        Self { delete, by_hand }
    }

    /// The fewest delete requests that make the pods again: one per
    /// controller template and namespace, by name where the labels do not
    /// tell templates apart.
    pub fn requests(&self) -> Vec<Delete> {
        let mut out: Vec<Delete> = self.delete.iter().map(Delete::of).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Sends every request, each answered on its own (one refused never
    /// stops the others).
    pub async fn send(
        &self,
        cluster: &Cluster,
        dry_run: crate::DryRun,
    ) -> Vec<(Delete, Result<(), crate::error::ClusterError>)> {
        let mut out = Vec::new();
        for d in self.requests() {
            let sent = match &d {
                Delete::Alike {
                    namespace,
                    selector,
                } => crate::nodes::pods::delete_alike(cluster, namespace, selector, dry_run)
                    .await
                    .map(|_| ()),
                Delete::One { namespace, name } => {
                    crate::nodes::pods::delete(cluster, namespace, name, dry_run).await
                }
            };
            out.push((d, sent));
        }
        out
    }
}

impl Writes {
    /// Every right the writes need.
    pub fn needs(&self) -> Vec<crate::access::Need> {
        let deletes = |r: &Recreate| -> Vec<crate::access::Need> {
            r.requests().iter().map(Delete::need).collect()
        };
        let all: Vec<crate::access::Need> = match self {
            Self::Nothing | Self::NeedsLogin { .. } => Vec::new(),
            Self::Link {
                secrets,
                links,
                recreate,
            } => (secrets
                .iter()
                .filter_map(crate::pullsecret::SecretPlan::need))
            .chain(links.iter().filter_map(crate::link::LinkPlan::need))
            .chain(deletes(recreate))
            .collect(),
            Self::Recreate(r) => deletes(r),
            Self::Global(g) => g.need().into_iter().collect(),
            Self::Grant { plan, .. } => plan.needs(),
        };
        crate::access::merged(all)
    }

    /// True when something is (or, in a dry run, would be) written.
    pub fn changes(&self) -> bool {
        match self {
            Self::Nothing | Self::NeedsLogin { .. } => false,
            Self::Link {
                secrets,
                links,
                recreate,
            } => {
                secrets
                    .iter()
                    .any(|s| s.outcome != crate::Outcome::Unchanged)
                    || links.iter().any(|l| !l.change.is_empty())
                    || !recreate.delete.is_empty()
            }
            Self::Recreate(r) => !r.delete.is_empty(),
            Self::Global(g) => g.changes_anything(),
            Self::Grant { plan, .. } => !plan.is_empty(),
        }
    }

    /// The pods made again (to follow as their replacements).
    pub fn recreated(&self) -> Option<&Recreate> {
        match self {
            Self::Link { recreate, .. } | Self::Recreate(recreate) => Some(recreate),
            _ => None,
        }
    }
}

/// Plans `remedy` for `d` with `login` (the user's, for the registry the
/// remedy needs), as `create --link`, `--recreate` and `global set` plan.
pub async fn plan(
    cluster: &Cluster,
    d: &crate::nodes::failing::Diagnosis,
    remedy: &crate::nodes::remedy::Remedy,
    login: Option<&rhpull_core::Credential>,
    wait: crate::link::SaWait,
) -> Result<Writes, crate::error::ClusterError> {
    use crate::nodes::remedy::Remedy;
    let pods = &d.group.pods;
    match remedy {
        Remedy::Recreate => Ok(Writes::Recreate(Recreate::of(pods))),
        Remedy::LinkSecret {
            secrets,
            service_account,
            namespaces,
        } => {
            let mut links = Vec::new();
            for ns in namespaces {
                let for_ = crate::link::LinkFor::Pull;
                links.push(
                    crate::link::plan_link(cluster, ns, service_account, secrets, for_, wait)
                        .await?,
                );
            }
            Ok(Writes::Link {
                secrets: Vec::new(),
                links,
                recreate: Recreate::of(pods),
            })
        }
        Remedy::Link {
            registry,
            service_account,
            namespaces,
        } => {
            let Some(login) = login else {
                return Ok(Writes::NeedsLogin {
                    registry: registry.clone(),
                });
            };
            let credentials = std::slice::from_ref(login);
            let name = crate::pullsecret::default_name(credentials);
            let format = crate::pullsecret::Format::DockerConfigJson;
            let (mut secrets, mut links) = (Vec::new(), Vec::new());
            for ns in namespaces {
                let wanted = crate::pullsecret::build(&name, ns, format, credentials);
                secrets.push(crate::pullsecret::plan(cluster, wanted, false).await?);
                let names = std::slice::from_ref(&name);
                let for_ = crate::link::LinkFor::Pull;
                links.push(
                    crate::link::plan_link(cluster, ns, service_account, names, for_, wait).await?,
                );
            }
            Ok(Writes::Link {
                secrets,
                links,
                recreate: Recreate::of(pods),
            })
        }
        Remedy::GlobalSet { registry, .. } | Remedy::MirrorLogin { mirror: registry } => {
            let Some(login) = login else {
                return Ok(Writes::NeedsLogin {
                    registry: registry.clone(),
                });
            };
            let credential = rhpull_core::Credential {
                registry: registry.clone(),
                ..login.clone()
            };
            let edit = crate::global::GlobalEdit::Set(vec![credential]);
            Ok(Writes::Global(Box::new(
                crate::global::plan(cluster, edit).await?,
            )))
        }
        Remedy::Grant {
            from,
            to,
            service_account,
        } => {
            let grantee = crate::grants::Grantee::ServiceAccounts(vec![service_account.clone()]);
            let direction = crate::grants::Direction::Grant;
            Ok(Writes::Grant {
                plan: crate::grants::plan(cluster, direction, from, to, &grantee).await?,
                from: from.clone(),
                to: to.clone(),
                grantee,
            })
        }
        _ => Ok(Writes::Nothing),
    }
}

/// Carries the writes out; the pods deleted, for their controllers.
pub async fn write(
    cluster: &Cluster,
    writes: Writes,
    dry_run: crate::DryRun,
) -> Result<(), crate::error::ClusterError> {
    let delete = |r: Recreate| async move {
        for (_, sent) in r.send(cluster, dry_run).await {
            sent?;
        }
        Ok::<(), crate::error::ClusterError>(())
    };
    match writes {
        Writes::Nothing | Writes::NeedsLogin { .. } => Ok(()),
        Writes::Link {
            secrets,
            links,
            recreate,
        } => {
            for s in &secrets {
                crate::pullsecret::write(cluster, s, dry_run).await?;
            }
            for l in &links {
                crate::link::write(cluster, l, dry_run).await?;
            }
            delete(recreate).await
        }
        Writes::Recreate(r) => delete(r).await,
        Writes::Global(g) => crate::global::write(cluster, *g, dry_run).await.map(|_| ()),
        Writes::Grant {
            plan,
            from,
            to,
            grantee,
        } => {
            let direction = crate::grants::Direction::Grant;
            let again =
                async || crate::grants::plan(cluster, direction, &from, &to, &grantee).await;
            crate::grants::write(cluster, plan, dry_run, again)
                .await
                .map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodes::pods::Owner;

    fn pod(ns: &str, name: &str, labels: &[(&str, &str)], owned: bool) -> PodRef {
        PodRef {
            namespace: ns.into(),
            name: name.into(),
            image: "quay.io/a/b:1".into(),
            node: None,
            owner: owned.then(|| Owner {
                kind: "ReplicaSet".into(),
                name: "app-1".into(),
            }),
            failing_since: None,
            kubelet_message: None,
            next_try: None,
            uid: format!("uid-{name}"),
            owner_uid: None,
            labels: (labels.iter())
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn one_delete_per_template_and_namespace_by_name_where_labels_cannot_tell() {
        let rs = [("app", "web"), ("pod-template-hash", "5d8f")];
        let r = Recreate::of(&[
            pod("a", "web-1", &rs, true),
            pod("a", "web-2", &rs, true),
            pod("b", "web-3", &rs, true),
            // A ReplicationController's pods: nothing tells its template.
            pod("a", "rc-1", &[("app", "old")], true),
            // Bare: never deleted.
            pod("a", "solo", &rs, false),
        ]);
        let alike = |ns: &str| Delete::Alike {
            namespace: ns.into(),
            selector: "app=web,pod-template-hash=5d8f".into(),
        };
        assert_eq!(
            r.requests(),
            [
                alike("a"),
                alike("b"),
                Delete::One {
                    namespace: "a".into(),
                    name: "rc-1".into()
                },
            ]
        );
        assert_eq!(r.by_hand.len(), 1);
    }
}
