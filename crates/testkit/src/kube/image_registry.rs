//! OpenShift's integrated registry, played by the real `docker-registry`
//! with token auth, its tokens issued by a token server that asks the
//! world's API state what openshift/image-registry asks the API server
//! (`pkg/dockerregistry/server/auth.go`, release-4.22):
//!
//! - Who: Basic auth's password is the OpenShift token, the username is
//!   ignored (`getOpenShiftAPIToken`), and the token is whoever the API
//!   server says (`verifyOpenShiftUser`: `users/~`). Here a token is a
//!   service account's when its managed `<sa>-dockercfg-*` secret carries
//!   it (the tokens the world mints, `controllers::managed_secret`).
//! - What: a pull of `NS/NAME` is `verifyImageStreamAccess(NS, NAME,
//!   "get")`, a push `"update"`: a SubjectAccessReview of group
//!   `image.openshift.io`, resource `imagestreams/layers`, name `NAME`, in
//!   `NS`, decided by the world's RBAC ([`super::rbac`]) with the service
//!   account's groups.
//!
//! Its Service names (`image-registry.openshift-image-registry.svc:5000`,
//! and `.svc.cluster.local`) reach it through the world's egress as a
//! tunnel; its certificate is signed by the cluster's CA and names them,
//! and the nodes trust that CA as the node-ca DaemonSet makes them
//! (`/etc/docker/certs.d/<name>/ca.crt`). A denied pull is then the real
//! registry's and containers/image's own words.
//!
//! Each new project gets the `system:image-pullers` RoleBinding that
//! openshift-controller-manager's default-rolebindings controller makes
//! (`pkg/authorization/defaultrolebindings`: group
//! `system:serviceaccounts:NS` to ClusterRole `system:image-puller`), so a
//! project pulls its own images and no other's until granted.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use super::rbac::{self, Attributes, Subject};
use super::resources;
use super::state::Shared;
use crate::registry::Registry;
use crate::skopeo;
use crate::sso::{Account, Authority, Sso};
use crate::tls::TestCa;

/// The Service's names, as pods name images on it.
pub const HOSTS: [&str; 2] = [
    "image-registry.openshift-image-registry.svc:5000",
    "image-registry.openshift-image-registry.svc.cluster.local:5000",
];
/// OpenShift 4.16+ (openshift/openshift-controller-manager
/// `pkg/internalregistry/controllers`): the service account names its
/// managed pull secret in this annotation.
pub const PULL_SECRET_REF: &str = "openshift.io/internal-registry-pull-secret-ref";
/// ... and the secret names its service account in this one.
pub const AUTH_TOKEN_SA: &str = "openshift.io/internal-registry-auth-token.service-account";
pub const AUTH_TOKEN_BINDING: &str = "openshift.io/internal-registry-auth-token.binding";
/// The default-rolebindings controller's binding in every project.
const IMAGE_PULLERS: &str = "system:image-pullers";
const PUSHER: &str = "registry-pusher";
const PUSHER_PASSWORD: &str = "registry-pusher-password";

/// The integrated registry and its token server; stopped on drop.
#[derive(Debug)]
pub struct ImageRegistry {
    pub registry: Registry,
    /// Its token server, kept running as long as the registry.
    _tokens: Sso,
    dir: tempfile::TempDir,
}

impl ImageRegistry {
    /// Starts it with a certificate from `ca` (the cluster's), deciding
    /// with `shared`'s state.
    pub fn start(ca: &TestCa, shared: &Shared) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let sso = Sso::start(ca, &dir.path().join("token"));
        sso.add_account(PUSHER, Account::pusher(PUSHER_PASSWORD));
        sso.set_authority(Arc::new(ApiAuthority(shared.clone())));
        let names: Vec<&str> = HOSTS
            .iter()
            .map(|h| h.split(':').next().unwrap_or(h))
            .collect();
        let registry = Registry::start_token_named(ca, &sso, &names);
        Self {
            registry,
            _tokens: sso,
            dir,
        }
    }

    /// Pushes a small image as `REPOSITORY:TAG` (`images/app:1`), as a
    /// build would; pods name it on [`HOSTS`].
    pub fn push(&self, repository_tag: &str) {
        let dest = format!("{}/{repository_tag}", self.registry.host());
        let pusher = (PUSHER, PUSHER_PASSWORD);
        skopeo::push_test_image(self.dir.path(), &self.registry, &dest, pusher);
    }
}

/// The world's API state, answering as the API server answers the registry.
struct ApiAuthority(Shared);

impl Authority for ApiAuthority {
    fn subject(&self, _user: &str, password: &str) -> Option<String> {
        let s = self.0.lock();
        let secrets = resources::by_kind("Secret")?;
        s.store.list(secrets, None).find_map(|(_, secret)| {
            let namespace = secret.pointer("/metadata/namespace")?.as_str()?;
            let sa = service_account_of(secret)?;
            carries(secret, password).then(|| format!("system:serviceaccount:{namespace}:{sa}"))
        })
    }

    fn may(&self, subject: &str, repository: &str, action: &str) -> bool {
        let Some((namespace, name)) = repository.split_once('/') else {
            return false;
        };
        let verb = match action {
            "pull" => "get",
            "push" => "update",
            _ => return false,
        };
        let a = Attributes {
            verb: verb.into(),
            group: "image.openshift.io".into(),
            resource: "imagestreams".into(),
            subresource: "layers".into(),
            namespace: namespace.into(),
            name: name.into(),
        };
        rbac::allows(&self.0.lock().store, &Subject::of(subject, Vec::new()), &a)
    }
}

/// The service account a managed registry secret belongs to (4.16+'s
/// annotation, or the older `kubernetes.io/service-account.name`).
fn service_account_of(secret: &Value) -> Option<&str> {
    let annotations = secret.pointer("/metadata/annotations")?;
    [AUTH_TOKEN_SA, "kubernetes.io/service-account.name"]
        .iter()
        .find_map(|k| annotations.get(*k)?.as_str())
}

/// True when the secret's `.dockercfg` holds `token` as a password.
fn carries(secret: &Value, token: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some(cfg) = (secret.pointer("/data/.dockercfg").and_then(Value::as_str))
        .and_then(|d| b64.decode(d).ok())
        .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
    else {
        return false;
    };
    let mut entries = cfg.as_object().into_iter().flat_map(|o| o.values());
    entries.any(|e| {
        let from_auth = (e.get("auth").and_then(Value::as_str))
            .and_then(|a| b64.decode(a).ok())
            .and_then(|d| String::from_utf8(d).ok())
            .is_some_and(|d| d.split_once(':').is_some_and(|(_, p)| p == token));
        from_auth || e.get("password").and_then(Value::as_str) == Some(token)
    })
}

/// True when `image` is named on the integrated registry's Service.
pub fn serves(image: &str) -> bool {
    HOSTS.iter().any(|h| {
        image
            .strip_prefix(h)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// A fingerprint of the cluster's RBAC objects: the integrated registry's
/// answer for the same token changes with them, so a kubelet's pull
/// outcome is reused only while it is unchanged.
pub fn rbac_fingerprint(store: &super::store::Store) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for kind in ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"] {
        let Some(r) = resources::by_kind(kind) else {
            continue;
        };
        for (_, o) in store.list(r, None) {
            let meta = &o["metadata"];
            (kind, meta["namespace"].as_str(), meta["name"].as_str()).hash(&mut h);
            meta["resourceVersion"].as_str().hash(&mut h);
        }
    }
    h.finish()
}

/// The `system:image-pullers` RoleBinding of project `ns`.
fn image_pullers(ns: &str) -> Value {
    json!({
        "metadata": {"name": IMAGE_PULLERS, "namespace": ns, "annotations": {
            "openshift.io/description": "Allows all pods in this namespace to pull images from this namespace.  It is auto-managed by a controller; remove subjects to disable."}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": format!("system:serviceaccounts:{ns}")}],
    })
}

/// Writes the nodes' trust: every CA of `from` and the cluster's `ca`
/// (the node-ca DaemonSet's copy) into `to`.
pub fn node_trust(from: &Path, ca: &TestCa, to: &Path) {
    std::fs::create_dir_all(to).expect("node cert dir");
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let _ = std::fs::copy(entry.path(), to.join(entry.file_name()));
    }
    std::fs::write(to.join("image-registry-ca.crt"), &ca.cert_pem).expect("write service CA");
}

/// Makes `ns`'s `system:image-pullers` binding once, where the cluster
/// runs the integrated registry.
pub(crate) fn ensure_image_pullers(shared: &Shared, ns: &str) {
    let r = resources::by_kind("RoleBinding").expect("rolebindings");
    let ns_res = resources::by_kind("Namespace").expect("namespaces");
    let mut s = shared.lock();
    if !s.config.image_registry
        || s.store.get(ns_res, "", ns).is_none()
        || s.store.get(r, ns, IMAGE_PULLERS).is_some()
    {
        return;
    }
    let (_, e) = s.store.insert_new(r, ns, image_pullers(ns), false);
    drop(s);
    if let Some(e) = e {
        shared.publish(e);
    }
}
