//! Words for how a node pulls, shared by `check --pod` and `check
//! --failing`: the image policy, mirrors and their logins, blocked
//! endpoints, the registry the node really uses, a cached copy, the
//! kubelet's back-off, and how to make a pod again.

use rhpull_cluster::image_registry::StreamAccess;
use rhpull_cluster::pods::{ImageCheck, Owner};
use rhpull_cluster::pullplan::{Cache, MirrorStep, Provider, PullPlan};
use rhpull_cluster::pulls::{Unknowable, Verification, VerifyPolicy};
use rhpull_core::mirrors::{EndpointBlock, Refusal};

use crate::i18n::text;

/// The integrated registry's answer, as the API server gave it in its
/// stead, marked; a refusal with the grant it needs.
pub fn stream_access(a: &StreamAccess) -> String {
    let subject = a.subject();
    let args = [
        ("subject", subject.as_str()),
        ("project", a.project.as_str()),
        ("stream", a.stream.as_str()),
    ];
    match a.allowed {
        Some(true) => format!("✓ {}", text("pod.stream_allowed", &args)),
        Some(false) => {
            let fix = grant(&a.namespace, &a.project, &a.service_account);
            format!("✗ {}\n    → {fix}", text("failing.not_granted", &args))
        }
        None => format!("? {}", text("pod.stream_unknown", &args)),
    }
}

/// The grant that lets `from`'s service account `sa` pull from project `to`.
pub fn grant(from: &str, to: &str, sa: &str) -> String {
    text(
        "failing.fix.grant",
        &[("from", from), ("to", to), ("sa", sa)],
    )
}

/// The cluster's image policy refusing an image.
pub fn refusal(r: &Refusal, image: &str) -> String {
    match r {
        Refusal::NotAllowed => text("pull.refused.not_allowed", &[("image", image)]),
        Refusal::Blocked { scope } => text(
            "pull.refused.blocked",
            &[("image", image), ("scope", scope)],
        ),
    }
}

/// An endpoint CRI-O does not contact.
pub fn block(reference: &str, b: &EndpointBlock) -> String {
    match b {
        EndpointBlock::NeverContactSource { source } => text(
            "pull.blocked.never_contact",
            &[("reference", reference), ("source", source)],
        ),
        EndpointBlock::Blocked { scope } => text(
            "pull.blocked.registry",
            &[("reference", reference), ("scope", scope)],
        ),
    }
}

/// The mirrors before the source, in order.
pub fn route(plan: &PullPlan) -> Option<String> {
    if plan.mirrors.is_empty() {
        return None;
    }
    let mirrors: Vec<String> = plan
        .mirrors
        .iter()
        .map(|m| m.reference.to_string())
        .collect();
    let key = if plan.source.blocked.is_some() {
        "pull.route_never_source"
    } else {
        "pull.route"
    };
    Some(text(
        key,
        &[
            ("mirrors", &mirrors.join(", ")),
            ("image", &plan.image.to_string()),
        ],
    ))
}

/// Which registry the node really pulls from, when one serves it.
pub fn served_by(check: &ImageCheck) -> Option<String> {
    let by = check.served_by.as_deref()?;
    let key = if by == check.image {
        "pull.served_by_source"
    } else {
        "pull.served_by_mirror"
    };
    Some(text(key, &[("reference", by)]))
}

/// A mirror whose login is in the pod's namespace only.
pub fn mirror_login(step: &MirrorStep) -> Option<String> {
    if step.namespace.is_empty() || step.uses_namespace_login() {
        return None;
    }
    let secrets: Vec<String> = step
        .namespace
        .iter()
        .map(|k| super::render::source_name(&k.source))
        .collect();
    let args = [
        ("mirror", step.reference.registry.as_str()),
        ("secrets", &secrets.join(", ")),
    ];
    Some(match step.provider {
        Provider::Runs {
            may_list_secrets: Some(false),
        } => text("pull.mirror_login.provider_denied", &args),
        _ => text("pull.mirror_login.ignored", &args),
    })
}

/// What a cached copy on the pod's node means.
pub fn cache(c: &Cache) -> Option<String> {
    let Cache::Cached { node, verification } = c else {
        return None;
    };
    let node = node.as_str();
    Some(match verification {
        Verification::Off { gate_off: true } => text("pull.cache.gate_off", &[("node", node)]),
        Verification::Off { gate_off: false } => text("pull.cache.never_verify", &[("node", node)]),
        Verification::On { policy, .. } => {
            let policy = match policy {
                VerifyPolicy::NeverVerify => "NeverVerify",
                VerifyPolicy::NeverVerifyPreloadedImages => "NeverVerifyPreloadedImages",
                VerifyPolicy::NeverVerifyAllowlistedImages => "NeverVerifyAllowlistedImages",
                VerifyPolicy::AlwaysVerify => "AlwaysVerify",
            };
            text("pull.cache.verified", &[("node", node), ("policy", policy)])
        }
        Verification::Unknown { why } => {
            let why = match why {
                Unknowable::Forbidden => text("pull.unknown.forbidden", &[("node", node)]),
                Unknowable::Unreachable => text("pull.unknown.unreachable", &[("node", node)]),
                Unknowable::Unreadable => text("pull.unknown.unreadable", &[("node", node)]),
            };
            text("pull.cache.unknown", &[("node", node), ("why", &why)])
        }
    })
}

/// How to make one pod again: its controller does it after a delete; a
/// bare pod is made again from its manifest. `add_secret`: the pod needs
/// a secret its manifest lacks (admission fills in the service account's
/// only when the manifest names none), so the steps say to add it.
pub fn recreate(namespace: &str, pod: &str, owner: Option<&Owner>, add_secret: bool) -> String {
    match owner {
        Some(o) => text(
            "pull.recreate.owned",
            &[
                ("namespace", namespace),
                ("pod", pod),
                ("kind", &o.kind),
                ("owner", &o.name),
            ],
        ),
        None => text(
            "pull.recreate.bare",
            &[("steps", &manifest_steps(namespace, pod, add_secret))],
        ),
    }
}

/// `kubectl get pod P -o yaml > P.yaml`, …, `kubectl replace --force`.
pub fn manifest_steps(namespace: &str, pod: &str, add_secret: bool) -> String {
    let key = if add_secret {
        "pull.recreate.manifest_with_secret"
    } else {
        "pull.recreate.manifest"
    };
    text(key, &[("namespace", namespace), ("pod", pod)])
}

/// How long a pod has been backing off, and when the kubelet tries again
/// (`pkg/kubelet`: `flowcontrol.NewBackOff(imageBackOffPeriod,
/// MaxImageBackOff)`, 10 s doubling to 300 s, per pod and image).
/// How long the pods have been backing off, and — where the kubelet's
/// events tell — how long until its next try (`left`, in seconds).
pub fn backoff(
    since: Option<&str>,
    left: Option<u64>,
    now: std::time::SystemTime,
) -> Option<String> {
    let since = rhpull_core::time::parse_rfc3339(since?)?;
    let secs = now.duration_since(since).ok()?.as_secs();
    let took = crate::words::duration(secs);
    Some(match left {
        Some(left) => text(
            "pull.backoff_next",
            &[("since", &took), ("left", &crate::words::duration(left))],
        ),
        None => text("pull.backoff", &[("since", &took)]),
    })
}
