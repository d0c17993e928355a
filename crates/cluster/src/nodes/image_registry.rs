//! Pulls from OpenShift's integrated registry. Its Service names
//! (`image-registry.openshift-image-registry.svc:5000`, and
//! `.svc.cluster.local`) resolve only inside the cluster, so rhpull never
//! contacts it; it asks the API server what the registry asks it instead
//! (openshift/image-registry `pkg/dockerregistry/server/auth.go`,
//! release-4.22): the pod's token is its service account's (the managed
//! `<sa>-dockercfg-*` secret every pod gets), and a pull of `PROJECT/NAME`
//! is allowed when that service account may `get` `imagestreams/layers`
//! named `NAME` in `PROJECT` (group `image.openshift.io`,
//! `verifyImageStreamAccess`). A project's own service accounts may
//! (the `system:image-pullers` binding every project gets); another
//! project's only once granted `system:image-puller` there (`grant`).

use k8s_openapi::api::authorization::v1::ResourceAttributes;

use crate::Cluster;
use crate::nodes::pods::ImageCheck;
use crate::nodes::pullplan::PullPlan;

/// The integrated registry's names, as pods name images on it.
pub const HOSTS: [&str; 2] = [
    "image-registry.openshift-image-registry.svc:5000",
    "image-registry.openshift-image-registry.svc.cluster.local:5000",
];

/// Whether a service account may pull an image stream, as the API server
/// answered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StreamAccess {
    /// The project holding the image stream (`images`).
    pub project: String,
    /// The image stream (`app`).
    pub stream: String,
    /// Who pulls: the service account `service_account` of `namespace`.
    pub namespace: String,
    pub service_account: String,
    /// `None`: the API server could not be asked (no right to create
    /// SubjectAccessReviews).
    pub allowed: Option<bool>,
}

impl StreamAccess {
    /// Who pulls, as RBAC names it: `system:serviceaccount:shop:default`.
    pub fn subject(&self) -> String {
        subject_of(&self.namespace, &self.service_account)
    }
}

/// `system:serviceaccount:NS:NAME`.
pub fn subject_of(namespace: &str, service_account: &str) -> String {
    format!("system:serviceaccount:{namespace}:{service_account}")
}

/// `(project, stream)` of an image on the integrated registry
/// (`…svc:5000/images/app:1` → `images`, `app`); `None` elsewhere.
pub fn stream_of(image: &str) -> Option<(String, String)> {
    let r = rhpull_core::imageref::ImageRef::parse(image).ok()?;
    if !HOSTS.contains(&r.registry.as_str()) {
        return None;
    }
    let (project, stream) = r.repository.split_once('/')?;
    Some((project.to_string(), stream.to_string()))
}

/// What the registry would decide for `namespace`'s `service_account`
/// pulling `image`; `None` when the image is not on the integrated
/// registry. One SubjectAccessReview.
pub async fn access(
    cluster: &Cluster,
    namespace: &str,
    service_account: &str,
    image: &str,
) -> Option<StreamAccess> {
    let (project, stream) = stream_of(image)?;
    let subject = subject_of(namespace, service_account);
    let attributes = ResourceAttributes {
        verb: Some("get".into()),
        group: Some("image.openshift.io".into()),
        resource: Some("imagestreams".into()),
        subresource: Some("layers".into()),
        namespace: Some(project.clone()),
        name: Some(stream.clone()),
        ..ResourceAttributes::default()
    };
    let allowed = crate::access::subject_may(cluster, &subject, attributes).await;
    Some(StreamAccess {
        project,
        stream,
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
        allowed,
    })
}

/// The check of a pull from the integrated registry: the cluster's image
/// policy first, as for any image; then the API server's answer, with no
/// registry contacted (`tried` lists the pod's credentials for the names).
pub fn check_of(plan: &PullPlan, access: &StreamAccess) -> ImageCheck {
    ImageCheck {
        image: plan.image.to_string(),
        tried: crate::nodes::pullplan::tried(&plan.source.candidates),
        attempts: Vec::new(),
        refused: plan.refused.clone(),
        blocked: Vec::new(),
        served_by: None,
        passed: plan.refused.is_none() && access.allowed == Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_service_names_are_the_integrated_registry() {
        let s = |p: &str, n: &str| Some((p.to_string(), n.to_string()));
        assert_eq!(
            stream_of(&format!("{}/images/app:1", HOSTS[0])),
            s("images", "app")
        );
        assert_eq!(
            stream_of(&format!(
                "{}/images/app@sha256:{}",
                HOSTS[1],
                "a".repeat(64)
            )),
            s("images", "app")
        );
        assert_eq!(stream_of("quay.io/images/app:1"), None);
        assert_eq!(
            stream_of("image-registry.openshift-image-registry.svc/images/app:1"),
            None
        );
    }
}
