//! The remedy for a group of failing pods (`check --failing`'s groups,
//! `check --pod`'s group of one, `fix`'s plan), typed: each variant names
//! what a planner that already exists would write (a pull secret linked to
//! a service account, the pods made again, a login in the global or
//! hosted additional pull secret, an image-puller grant across projects),
//! or why no tool should (a refused token
//! to rotate, the image policy, a rollout on its way, a cause of the
//! network's). The words live in the binary; scripts read `action`.

use rhpull_core::mirrors::{EndpointBlock, Refusal};
use rhpull_core::sso::Cause;

use crate::nodes::failing::{Diagnosis, GroupCause, is_login_problem};
use crate::nodes::pods::Source;
use crate::nodes::pullplan::Provider;

/// The remedy for a group.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Remedy {
    /// A good token into every secret holding the refused login (`rotate`
    /// with the new token: only its owner has it).
    Rotate {
        user: String,
        registry: String,
        namespaces: Vec<String>,
    },
    /// A good login for the registry in the nodes' credentials (`global
    /// set`, or on a hosted control plane the additional pull secret).
    GlobalSet { registry: String, user: String },
    /// A login for the pods, as a pull secret linked to their service
    /// account in their namespaces, and the pods made again.
    Link {
        registry: String,
        service_account: String,
        namespaces: Vec<String>,
    },
    /// The namespaces' pull secrets that work, linked to the pods'
    /// service account, and the pods made again.
    LinkSecret {
        secrets: Vec<String>,
        service_account: String,
        namespaces: Vec<String>,
    },
    /// The pods' service account granted `system:image-puller` in the
    /// project holding the image on the integrated registry (`grant FROM
    /// TO --sa SA`); the kubelet's next try pulls.
    Grant {
        from: String,
        to: String,
        service_account: String,
    },
    /// Whether the service account may pull from the project is for
    /// someone who may ask the API server (`kubectl auth can-i … --as`).
    /// (The same fields as [`Remedy::Grant`], the grant it may need.)
    AskAccess {
        from: String,
        to: String,
        service_account: String,
    },
    /// The pods made again: their service account has what works.
    Recreate,
    /// The node has the previous global pull secret: the rollout is on its way.
    WaitForRollout,
    /// The cluster's image policy refuses the image: an administrator's call.
    ImagePolicy { field: String },
    /// The mirror needs a node-wide login (`global set MIRROR`).
    MirrorLogin { mirror: String },
    /// The credential provider needs to list the namespace's secrets.
    ProviderRbac {
        namespace: String,
        service_account: String,
    },
    /// The source may not be contacted, and no mirror served the image.
    MirrorsOnly { source: String },
    /// The cause's own fix (DNS, TLS, proxy, a missing image, …).
    OfCause { cause: Cause },
}

impl Remedy {
    /// The registry whose login the writes need: the pods' (`link`) or
    /// the nodes' (`global set`, a mirror's).
    pub fn login_for(&self) -> Option<&str> {
        match self {
            Self::Link { registry, .. } | Self::GlobalSet { registry, .. } => Some(registry),
            Self::MirrorLogin { mirror } => Some(mirror),
            _ => None,
        }
    }

    /// True when a tool may carry it out: everything else is a person's
    /// (a new token), an administrator's (the policy), or time's.
    pub fn by_tool(&self) -> bool {
        matches!(
            self,
            Self::Link { .. }
                | Self::LinkSecret { .. }
                | Self::Grant { .. }
                | Self::Recreate
                | Self::GlobalSet { .. }
                | Self::MirrorLogin { .. }
        )
    }
}

/// The namespaces of a group's pods.
fn namespaces_of(d: &Diagnosis) -> Vec<String> {
    let mut namespaces: Vec<String> = d.group.pods.iter().map(|p| p.namespace.clone()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    namespaces
}

/// `mirror.example:5000` of `mirror.example:5000/team/app@sha256:…`.
fn mirror_host(reference: &str) -> String {
    reference.split('/').next().unwrap_or(reference).to_string()
}

/// The remedy a group needs; `None` when its check passes.
pub fn remedy_of(d: &Diagnosis) -> Option<Remedy> {
    let g = &d.group;
    let registry = g.plan.image.registry.clone();
    let cause = d.cause.as_ref()?;
    Some(match cause {
        GroupCause::Refused { refusal } => Remedy::ImagePolicy {
            field: match refusal {
                Refusal::NotAllowed => "allowedRegistries",
                Refusal::Blocked { .. } => "blockedRegistries",
            }
            .into(),
        },
        GroupCause::MirrorLogin {
            mirror, provider, ..
        } => match provider {
            Provider::Runs { .. } => Remedy::ProviderRbac {
                namespace: g.pods[0].namespace.clone(),
                service_account: g.service_account.clone(),
            },
            _ => Remedy::MirrorLogin {
                mirror: mirror_host(mirror),
            },
        },
        GroupCause::SourceBlocked { block } => match block {
            EndpointBlock::NeverContactSource { source } => Remedy::MirrorsOnly {
                source: source.clone(),
            },
            EndpointBlock::Blocked { .. } => Remedy::ImagePolicy {
                field: "blockedRegistries".into(),
            },
        },
        GroupCause::Check { cause } if is_login_problem(cause) => {
            let user = d.check.tried.last().map_or("USER", |t| t.username.as_str());
            let last = d.check.attempts.last().and_then(|a| a.source.as_ref());
            match last {
                _ if !g.node_behind.is_empty() => Remedy::WaitForRollout,
                Some(Source::Node { .. } | Source::NodeFile { .. }) => Remedy::GlobalSet {
                    registry,
                    user: user.to_string(),
                },
                _ => Remedy::Rotate {
                    user: user.to_string(),
                    registry,
                    namespaces: namespaces_of(d),
                },
            }
        }
        GroupCause::Check { cause } => Remedy::OfCause {
            cause: cause.clone(),
        },
        // The node has not yet got the global pull secret's entry.
        GroupCause::NoCredentialMatches { .. } if !g.node_behind.is_empty() => {
            Remedy::WaitForRollout
        }
        GroupCause::NoCredentialMatches { .. } => Remedy::Link {
            registry,
            service_account: g.service_account.clone(),
            namespaces: namespaces_of(d),
        },
        GroupCause::PredatesLink { .. } => Remedy::Recreate,
        // A group on the integrated registry is one namespace's.
        GroupCause::AccessUnknown { project, .. } => Remedy::AskAccess {
            from: g.pods[0].namespace.clone(),
            to: project.clone(),
            service_account: g.service_account.clone(),
        },
        GroupCause::NotGranted { project, .. } => Remedy::Grant {
            from: g.pods[0].namespace.clone(),
            to: project.clone(),
            service_account: g.service_account.clone(),
        },
        GroupCause::Unlinked { secrets } => Remedy::LinkSecret {
            secrets: secrets.clone(),
            service_account: g.service_account.clone(),
            namespaces: namespaces_of(d),
        },
    })
}
