//! rhpull's prediction for a pod, held against what the world's kubelet
//! does: a probe pod with the very spec of the pod (node, service account,
//! its own `imagePullSecrets`, containers and pull policy) is handed to the
//! kubelet, which pulls it through the real `skopeo` at once (a probe has
//! no back-off), and its first pull is compared with `check --pod`'s
//! verdict — pulled or not, from which endpoint, with which credential.
//! The probe is put as stored, past admission, so the service account's
//! list of today is not copied into it: the kubelet reads the pod's own.

use std::fmt::Write as _;

use rhpull_testkit::kube::kubelet::keyring::Origin;
use rhpull_testkit::kube::kubelet::types::PullLog;
use serde_json::{Value, json};

use crate::env::Env;

/// What the kubelet does with a pod just like `ns/pod`, now.
pub fn probe(env: &Env, ns: &str, pod: &str) -> PullLog {
    let original = env
        .emulator
        .get("Pod", ns, pod)
        .unwrap_or_else(|| panic!("pod {ns}/{pod}"));
    let name = format!("{pod}-probe-{}", env.emulator.pulls().len());
    let mut spec = original["spec"].clone();
    if spec["nodeName"].as_str().is_none_or(str::is_empty) {
        spec["nodeName"] = json!(env.emulator.list("Node", "").iter().find_map(|n| {
            let tainted = n["spec"]["taints"]
                .as_array()
                .is_some_and(|t| !t.is_empty());
            (!tainted).then(|| n["metadata"]["name"].clone())
        }));
    }
    env.emulator.put(
        "Pod",
        ns,
        json!({"metadata": {"name": name, "namespace": ns}, "spec": spec}),
    );
    let pull = env.wait_until(&format!("the kubelet to pull {ns}/{name}"), || {
        env.emulator
            .pulls()
            .into_iter()
            .find(|p| p.namespace == ns && p.pod == name)
    });
    env.emulator.delete("Pod", ns, &name);
    pull
}

/// `None` when rhpull's `check --pod` verdict for one image (`image`, with
/// its node's `cache`) is what the kubelet did (`pull`); else what differs.
/// `always`: the container's pull policy is `Always`.
pub fn disagreement(pull: &PullLog, image: &Value, cache: &Value, always: bool) -> Option<String> {
    let mut out = String::new();
    // The cache: NeverVerify (or the gate off) uses any copy, AlwaysVerify
    // none, NeverVerifyPreloadedImages (and allow-lists) a preloaded one —
    // rhpull cannot see how a copy came to the node, so it says "may", and
    // either answer fits.
    let cached = cache["state"] == "cached" && !always;
    let off = cached && cache["verification"]["state"] == "off";
    let maybe = cached
        && cache["verification"]["state"] == "on"
        && cache["verification"]["policy"] != "AlwaysVerify";
    if pull.cached {
        if !(off || maybe) {
            let _ = write!(
                out,
                "the kubelet used the copy on the node; rhpull did not expect it ({cache}); "
            );
        }
        return (!out.is_empty()).then_some(out);
    }
    if off {
        let _ = write!(
            out,
            "rhpull expected the copy on the node to be used; the kubelet pulled; "
        );
    }
    let pulled = pull.error.is_none();
    if image["passed"].as_bool() != Some(pulled) {
        let _ = write!(
            out,
            "pulled: kubelet {pulled} ({}), rhpull {}; ",
            pull.error.as_deref().unwrap_or("-"),
            image["passed"]
        );
    }
    if pulled {
        let served = image["served_by"].as_str().unwrap_or_default();
        if pull.endpoint.as_deref() != Some(served) {
            let _ = write!(
                out,
                "endpoint: kubelet {:?}, rhpull {served:?}; ",
                pull.endpoint
            );
        }
        let attempt = (image["attempts"].as_array().into_iter().flatten())
            .find(|a| a["endpoint"] == served && a["report"]["passed"] == true);
        let said = attempt.map_or(Value::Null, |a| a["source"].clone());
        let agree = match (&pull.credential, said["kind"].as_str()) {
            (None, None) => true,
            (Some(Origin::Node), Some(kind)) => kind == "node" || kind == "node_file",
            (Some(Origin::PodSecret { name }), Some("pod_secret")) => said["name"] == name.as_str(),
            (Some(Origin::Namespace), Some(kind)) => kind == "namespace" || kind == "pod_secret",
            _ => false,
        };
        if !agree {
            let _ = write!(
                out,
                "credential: kubelet {:?}, rhpull {said}; ",
                pull.credential
            );
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Asserts that `check --pod -o json`'s document agrees, image by image,
/// with a probe of the pod.
pub fn assert_agrees(env: &Env, ns: &str, pod: &str, doc: &Value) {
    let original = env.emulator.get("Pod", ns, pod).expect("pod");
    let pull = probe(env, ns, pod);
    let images = doc["images"].as_array().expect("images");
    let i = images
        .iter()
        .position(|i| i["image"] == pull.image.as_str())
        .unwrap_or(0);
    let policy = &original["spec"]["containers"][i]["imagePullPolicy"];
    if let Some(why) = disagreement(&pull, &images[i], &doc["caches"][i], policy == "Always") {
        panic!(
            "{ns}/{pod}: rhpull and the kubelet disagree: {why}\n  kubelet: {pull:?}\n  rhpull: {doc}"
        );
    }
}
