//! `rhpull check --pod POD`: why is this pod in ImagePullBackOff? For each
//! of its images, what the kubelet tries in its order — the pod's own
//! `imagePullSecrets`, then the node's credentials (on OpenShift 4 the file
//! the node's current rendered config wrote, else the global pull secret;
//! elsewhere not visible through the API, and said so) — and the registry
//! flow with each until one works. The fix fits a pod: link a secret and
//! recreate the pod, fix the global pull secret, or wait for the rollout
//! to reach a node that still has the previous credentials; a pod created
//! before its service account was linked must be recreated.

use rhpull_cluster::pods::{self, ImageCheck, NodeCredentials, PodView, Source, Tried};
use rhpull_core::imageref::ImageRef;
use rhpull_core::sso::{Cause, CheckOptions};

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
        let view = pods::view(cx.cluster()?, &cx.namespace, self.name).await?;
        let mut images = Vec::new();
        for image in &view.images {
            let parsed = ImageRef::parse(image)
                .map_err(|e| crate::error::bad_image(Exit::Failed, image, &e))?;
            let candidates = view.candidates(image);
            let check = pods::check_image(&self.template, &parsed, &candidates)
                .await
                .map_err(registry_check::setup_error)?;
            images.push(check);
        }
        Ok(PodReport { view, images })
    }
}

/// The pod, and each image's pull as the kubelet would make it.
#[derive(Debug)]
pub struct PodReport {
    view: PodView,
    images: Vec<ImageCheck>,
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

    /// What to do when the pull fails with `cause`, from `source` (`None`:
    /// nothing matched, an anonymous pull): for a credential problem, a
    /// fix that fits a pod; otherwise the cause's own.
    fn next(&self, cause: Option<&Cause>, source: Option<&Source>, registry: &str) -> Next {
        let credential_problem = matches!(
            cause,
            Some(
                Cause::NoCredentials { .. }
                    | Cause::InvalidCredentials { .. }
                    | Cause::NotEntitled { .. }
                    | Cause::TokenRejected { .. }
                    | Cause::PasteMistake { .. }
                    | Cause::IdentityTokenOnly { .. }
            )
        );
        if !credential_problem {
            return Next::OfCause;
        }
        let v = &self.view;
        let args = [
            ("registry", registry),
            ("namespace", v.namespace.as_str()),
            ("sa", v.service_account.as_str()),
            ("pod", v.name.as_str()),
        ];
        let key = match source {
            Some(Source::PodSecret { name }) => {
                return Next::Instead(text(
                    "pod.next.fix_secret",
                    &[args[0], args[1], ("secret", name)],
                ));
            }
            Some(Source::NodeFile { .. })
                if self
                    .node_file()
                    .is_some_and(|f| f.behind.iter().any(|b| b.registry == registry)) =>
            {
                "pod.next.node_behind"
            }
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

    fn image_blocks(&self, img: &ImageCheck) -> Vec<Block> {
        let registry =
            ImageRef::parse(&img.image).map_or_else(|_| img.image.clone(), |i| i.registry);
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
            let next = self.next(a.report.cause(), a.source.as_ref(), &registry);
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
            "images": self.images,
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
        for img in &self.images {
            blocks.extend(self.image_blocks(img));
        }
        if !v.recreate_needed.is_empty() {
            blocks.push(Block::Blank);
            blocks.push(Block::Line(text(
                "pod.recreate",
                &[
                    ("secrets", &v.recreate_needed.join(", ")),
                    ("sa", &v.service_account),
                    ("pod", &v.name),
                    ("namespace", &v.namespace),
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
