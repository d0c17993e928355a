//! How a node pulls, and how a failing pull is put right: the pod as the
//! kubelet sees it and the node's credentials ([`pods`]), what the
//! cluster tells CRI-O and the kubelets ([`pulls`], [`machineconfig`]),
//! the one model of what a node tries ([`pullplan`]), the kubelet's
//! back-off ([`backoff`]), the integrated registry's own decision
//! ([`image_registry`]), the pods failing
//! and their diagnosis ([`failing`]), the remedy ([`remedy`]) and `fix`'s
//! writes and watch ([`fix`]). Each looks down the list, never back.

pub mod backoff;
pub mod failing;
pub mod fix;
pub mod image_registry;
pub mod machineconfig;
pub mod pods;
pub mod pullplan;
pub mod pulls;
pub mod remedy;
