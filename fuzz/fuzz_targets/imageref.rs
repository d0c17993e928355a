//! Image references from pods and flags, and the kubelet's key matching.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rhpull_core::imageref::ImageRef::parse(text);
        let keys = ["registry.redhat.io", "*.redhat.io", "quay.io/org", "https://index.docker.io/v1/", text];
        let _ = rhpull_core::imageref::kubelet_matches(keys, text);
        let _ = rhpull_core::imageref::kubelet_key(text);
    }
});
