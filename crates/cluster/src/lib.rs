//! `rhpull-cluster`: everything rhpull asks of the Kubernetes API server —
//! pull secrets, service-account links, image-puller grants, the global pull
//! secret — built from `rhpull-core`'s credentials. It never prints; the
//! binary turns its results and typed errors into words.
//!
//! The API client arrives with the emulator (issue: Kubernetes API emulator
//! and `rhpull-cluster`); until then this crate only names the secret types
//! the kubelet reads, which `core`'s credentials are turned into.

/// Secret types the kubelet reads pull credentials from.
pub mod secret_types {
    /// `.dockerconfigjson`: `{"auths": {...}}`.
    pub const DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";
    /// `.dockercfg`: the legacy flat map.
    pub const DOCKERCFG: &str = "kubernetes.io/dockercfg";
}
