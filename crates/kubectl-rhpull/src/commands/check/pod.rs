//! `rhpull check --pod POD`: why is this pod in ImagePullBackOff? For each
//! of its images, what its node will try (`pullplan`, shared with `check
//! --failing`): the cluster's image policy; the mirrors of its mirror sets
//! with the node's logins; then the source with what the kubelet tries in
//! its order — the pod's own `imagePullSecrets`, then the node's
//! credentials (on OpenShift 4 the file the node's current rendered config
//! wrote, else the global pull secret; elsewhere not visible through the
//! API, and said so) — and the registry flow at each until one works; and
//! what a copy cached on the node means. The fix fits a pod: link a secret
//! and make the pod again (deleted, for a controller's pod; from its
//! manifest, for a bare one), fix the global pull secret, or wait for the
//! rollout to reach a node that still has the previous credentials.

use rhpull_cluster::failing::{self, is_login_problem};
use rhpull_cluster::image_registry::{self, StreamAccess};
use rhpull_cluster::pods::{self, ImageCheck, NodeCredentials, PodView, Source, Tried};
use rhpull_cluster::pullplan::{self, MirrorStep, Provider, PullPlan};
use rhpull_cluster::remedy::{Remedy, remedy_of};
use rhpull_core::sso::{Cause, CheckOptions};

use super::pull;
use super::render::{Next, report_lines};
use crate::cli::{CheckArgs, KubeArgs};
use crate::connection::Connection;
use crate::driver::{self, ClusterQuery, Cx};
use crate::error::{CliError, Exit};
use crate::i18n::text;
use crate::registry_check;
use crate::render::{Block, Report, list_or_dash};

struct PodCheck<'a> {
    name: &'a str,
    template: CheckOptions,
}

pub async fn run(kube: &KubeArgs, args: &CheckArgs, name: &str) -> Result<(), CliError> {
    let conn = Connection::resolve(kube, Some(&args.at.contexts))?;
    // The registry and credential are set per image and candidate.
    let template = registry_check::template(&args.net, kube.insecure_skip_tls_verify);
    let cmd = PodCheck { name, template };
    driver::query(&cmd, &conn, args.output.into()).await
}

impl ClusterQuery for PodCheck<'_> {
    type Report = PodReport;

    async fn read(&self, cx: &Cx<'_>) -> Result<PodReport, CliError> {
        let cluster = cx.cluster()?;
        let (view, world) = pullplan::pod_view(cluster, &cx.namespace, self.name).await?;
        let (linked_since, unlinked) = failing::new_pod_logins(cluster, &view).await?;
        let mut images = Vec::new();
        let mut plans = Vec::new();
        let mut fixes = Vec::new();
        let mut accesses = Vec::new();
        for image in &view.images {
            let plan = world
                .plan(&view, image)
                .map_err(|e| crate::error::bad_image(Exit::Failed, image, &e))?;
            let sa = &view.service_account;
            let access = image_registry::access(cluster, &view.namespace, sa, image).await;
            let check = failing::check_pull(&self.template, &plan, access.as_ref())
                .await
                .map_err(registry_check::setup_error)?;
            // A group of one, diagnosed as `check --failing` diagnoses.
            let (p, c, a) = (plan.clone(), check.clone(), access.clone());
            let d = failing::diagnose_pod(&self.template, &view, &linked_since, &unlinked, p, c, a)
                .await
                .map_err(registry_check::setup_error)?;
            fixes.push(remedy_of(&d));
            accesses.push(access);
            images.push(check);
            plans.push(plan);
        }
        Ok(PodReport {
            view,
            images,
            plans,
            fixes,
            accesses,
        })
    }
}

/// The pod, and each image's pull as its node would make it.
#[derive(Debug)]
pub struct PodReport {
    view: PodView,
    images: Vec<ImageCheck>,
    /// What the node tries for each image, in `images`' order.
    plans: Vec<PullPlan>,
    /// Each image's remedy, as `check --failing` gives its group's.
    fixes: Vec<Option<Remedy>>,
    /// For each image on the integrated registry, the API server's answer
    /// in its stead (rhpull never contacts that registry).
    accesses: Vec<Option<StreamAccess>>,
}

impl PodReport {
    fn passed(&self) -> bool {
        self.images.iter().all(|i| i.passed)
    }

    fn node_word(&self) -> &'static str {
        match self.view.node_credentials {
            NodeCredentials::GlobalPullSecret(_) => "global-pull-secret",
            NodeCredentials::NodeFile(_) => "node-file",
            NodeCredentials::Unknown => "unknown",
        }
    }

    /// `secret (key)` or `node: openshift-config/pull-secret (key)`.
    fn tried_words(t: &Tried) -> String {
        match &t.source {
            Source::PodSecret { name } => format!("{name} ({})", t.key),
            Source::Node { secret } => {
                text("pod.node_source", &[("secret", secret), ("key", &t.key)])
            }
            Source::NodeFile { node, config } => text(
                "pod.node_file_source",
                &[("node", node), ("config", config), ("key", &t.key)],
            ),
        }
    }

    /// The node's file, when it is what the kubelet reads.
    fn node_file(&self) -> Option<&pods::NodeFile> {
        match &self.view.node_credentials {
            NodeCredentials::NodeFile(f) => Some(f),
            _ => None,
        }
    }

    /// Registries `image` uses that the pod's node has not yet got as the
    /// global pull secret has them.
    fn node_behind(&self, image: &str) -> Vec<String> {
        self.node_file()
            .map(|f| {
                f.behind_for(image)
                    .into_iter()
                    .map(|a| a.registry.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How to make this pod again: deleted, for its controller; from its
    /// manifest, for a bare pod.
    fn how_to_recreate(&self) -> String {
        let v = &self.view;
        pull::recreate(&v.namespace, &v.name, v.owner.as_ref(), true)
    }

    /// What to do when a mirror refuses the login CRI-O uses for it: a
    /// node-wide login for the mirror, or the credential provider's right
    /// to list the namespace's secrets.
    fn mirror_next(&self, step: &MirrorStep) -> Next {
        let v = &self.view;
        if matches!(
            step.provider,
            Provider::Runs {
                may_list_secrets: Some(false)
            }
        ) && !step.namespace.is_empty()
        {
            return Next::Instead(text(
                "failing.fix.provider_rbac",
                &[("namespace", &v.namespace), ("sa", &v.service_account)],
            ));
        }
        let mirror = step.reference.registry.as_str();
        Next::Instead(text("failing.fix.mirror_login", &[("mirror", mirror)]))
    }

    /// What to do when the pull fails with `cause`, from `source` (`None`:
    /// nothing matched, an anonymous pull): for a credential problem, a
    /// fix that fits a pod; otherwise the cause's own.
    fn next(
        &self,
        cause: Option<&Cause>,
        source: Option<&Source>,
        registry: &str,
        image: &str,
    ) -> Next {
        if !cause.is_some_and(is_login_problem) {
            return Next::OfCause;
        }
        let v = &self.view;
        let how = self.how_to_recreate();
        let args = [
            ("registry", registry),
            ("namespace", v.namespace.as_str()),
            ("sa", v.service_account.as_str()),
            ("how", how.as_str()),
        ];
        // The node has not yet got the global pull secret's entry that the
        // kubelet would match for the image (changed, or added; a
        // path-scoped key too): the rollout is the fix, whether the node's
        // old entry was tried or it had none — as `check --failing` says.
        let node_behind = !self.node_behind(image).is_empty();
        let key = match source {
            Some(Source::PodSecret { name }) => {
                return Next::Instead(text(
                    "pod.next.fix_secret",
                    &[args[0], args[1], ("secret", name)],
                ));
            }
            Some(Source::NodeFile { .. }) | None if node_behind => "pod.next.node_behind",
            Some(Source::Node { .. } | Source::NodeFile { .. }) => "pod.next.fix_global",
            None if !v.recreate_needed.is_empty() => "pod.next.recreate",
            None if matches!(
                v.node_credentials,
                NodeCredentials::GlobalPullSecret(_) | NodeCredentials::NodeFile(_)
            ) =>
            {
                "pod.next.link_or_global"
            }
            None => "pod.next.link",
        };
        Next::Instead(text(key, &args))
    }

    fn image_blocks(&self, img: &ImageCheck, plan: &PullPlan) -> Vec<Block> {
        let registry = plan.image.registry.clone();
        let tried = if img.tried.is_empty() {
            match self.view.node_credentials {
                NodeCredentials::Unknown => text("pod.no_secret_matches_node_unknown", &[]),
                NodeCredentials::GlobalPullSecret(_) | NodeCredentials::NodeFile(_) => {
                    text("pod.no_secret_matches", &[])
                }
            }
        } else {
            let words: Vec<String> = img.tried.iter().map(Self::tried_words).collect();
            words.join(", ")
        };
        let mut blocks = vec![
            Block::Blank,
            Block::Line(text(
                "pod.image",
                &[("image", &img.image), ("tried", &tried)],
            )),
        ];
        let behind = self.node_behind(&img.image);
        if let (Some(file), false) = (self.node_file(), behind.is_empty()) {
            blocks.push(Block::Line(text(
                "pod.node_behind",
                &[
                    ("node", &file.node),
                    ("registries", &behind.join(", ")),
                    ("config", &file.config),
                ],
            )));
        }
        if let Some(refusal) = &img.refused {
            let line = pull::refusal(refusal, &img.image);
            blocks.push(Block::Line(format!("  ✗ {line}")));
            return blocks;
        }
        let notes = (pull::route(plan).into_iter())
            .chain(plan.mirrors.iter().filter_map(pull::mirror_login))
            .chain(img.blocked.iter().map(|(r, b)| pull::block(r, b)))
            .chain(pull::served_by(img))
            .chain(pull::cache(&plan.cache));
        blocks.extend(notes.map(|n| Block::Line(format!("  {n}"))));
        for a in &img.attempts {
            let source = a.source.as_ref().map(|s| match s {
                Source::PodSecret { name } => {
                    format!("secret {}/{name}", self.view.namespace)
                }
                Source::Node { secret } => text("pod.node", &[("secret", secret)]),
                Source::NodeFile { node, config } => {
                    text("pod.node_file", &[("node", node), ("config", config)])
                }
            });
            let step =
                (plan.mirrors.iter()).find(|m| a.mirror && m.reference.to_string() == a.endpoint);
            let next = match step {
                Some(step) if a.report.cause().is_some_and(is_login_problem) => {
                    self.mirror_next(step)
                }
                Some(_) => Next::OfCause,
                None => self.next(a.report.cause(), a.source.as_ref(), &registry, &img.image),
            };
            let lines = report_lines(&a.report, source.as_deref(), &next);
            blocks.extend(lines.into_iter().map(Block::Line));
        }
        blocks
    }
}

impl Report for PodReport {
    fn document(&self) -> serde_json::Value {
        let v = &self.view;
        serde_json::json!({
            "pod": v.name,
            "namespace": v.namespace,
            "node": v.node,
            "service_account": v.service_account,
            "pod_secrets": v.pod_secrets,
            "missing_secrets": v.missing_secrets,
            "recreate_needed": v.recreate_needed,
            "node_credentials": self.node_word(),
            "node_config": self.node_file().map(|f| &f.config),
            "node_behind": self.node_file().map(|f| &f.behind),
            "owner": v.owner,
            "images": self.images,
            "caches": self.plans.iter().map(|p| &p.cache).collect::<Vec<_>>(),
            "fixes": self.fixes,
            "image_registry": self.accesses,
            "passed": self.passed(),
        })
    }

    fn names(&self) -> Vec<String> {
        vec![format!("pod/{}", self.view.name)]
    }

    fn human(&self) -> Vec<Block> {
        let v = &self.view;
        let mut blocks = vec![Block::Line(text(
            "pod.heading",
            &[
                ("pod", &v.name),
                ("namespace", &v.namespace),
                ("sa", &v.service_account),
                ("secrets", &list_or_dash(&v.pod_secrets)),
            ],
        ))];
        for m in &v.missing_secrets {
            blocks.push(Block::Line(text(
                "pod.secret_missing",
                &[("secret", m), ("namespace", &v.namespace)],
            )));
        }
        let each = self.images.iter().zip(&self.plans).zip(&self.accesses);
        for ((img, plan), access) in each {
            blocks.extend(self.image_blocks(img, plan));
            if let Some(a) = access {
                blocks.push(Block::Line(format!("  {}", pull::stream_access(a))));
            }
        }
        if !v.recreate_needed.is_empty() {
            blocks.push(Block::Blank);
            blocks.push(Block::Line(text(
                "pod.recreate",
                &[
                    ("secrets", &v.recreate_needed.join(", ")),
                    ("sa", &v.service_account),
                    ("how", &self.how_to_recreate()),
                ],
            )));
        }
        blocks
    }

    fn verdict(&self) -> Result<(), CliError> {
        if self.passed() {
            Ok(())
        } else {
            Err(CliError::Reported(Exit::Failed))
        }
    }
}
